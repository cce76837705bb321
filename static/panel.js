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
    var message = parsed.querySelector(".error-fragment, .form-error");
    if (message) text = message.textContent.trim();
    toast(text);
  });

  document.addEventListener("htmx:sendError", function () {
    toast("The panel could not be reached. Check the connection and try again.");
  });

  // A click on a row's menu or links must not also open the row's inline editor: stop it at the
  // cell, after the buttons inside have handled it and before it reaches the row.
  function guardCells(root) {
    root.querySelectorAll("[data-no-row-click]").forEach(function (cell) {
      if (cell._guarded) return;
      cell._guarded = true;
      cell.addEventListener("click", function (event) { event.stopPropagation(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    guardCells(document);
    document.body.addEventListener("htmx:load", function (event) {
      guardCells(event.detail.elt.parentNode || event.detail.elt);
    });
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
      return;
    }
    var button = event.target.closest("[data-clear-closest]");
    if (button) {
      var holder = button.closest(button.getAttribute("data-clear-closest"));
      if (holder) holder.innerHTML = "";
    }
  });
})();
