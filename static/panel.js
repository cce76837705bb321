// Small behaviours shared by every page: error toasts for htmx requests and "Hide" buttons.
(function () {
  "use strict";

  function toast(text) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.hidden = true; }, 6000);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = "The request failed (" + xhr.status + ").";
    var parsed = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var message = parsed.querySelector(".error-fragment");
    if (message) text = message.textContent.trim();
    toast(text);
  });

  document.addEventListener("htmx:sendError", function () {
    toast("The panel could not be reached. Check the connection and try again.");
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-clear-closest]");
    if (button) {
      var holder = button.closest(button.getAttribute("data-clear-closest"));
      if (holder) holder.innerHTML = "";
    }
  });
})();
