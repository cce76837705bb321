// The deployment picker (templates/deployments/_picker.html): choosing a match fills the hidden
// input; Down/Up move between the box and the matches, Enter picks, Escape closes the list.
(function () {
  "use strict";

  function pickerOf(element) {
    return element && element.closest ? element.closest("[data-picker]") : null;
  }

  function matches(picker) {
    return Array.prototype.slice.call(picker.querySelectorAll("[data-pick]"));
  }

  function box(picker) {
    return picker.querySelector("[data-picker-query]");
  }

  function close(picker) {
    var list = picker.querySelector("[data-picker-matches]");
    if (list) list.innerHTML = "";
  }

  function choose(button) {
    var picker = pickerOf(button);
    var query = box(picker);
    picker.querySelector("[data-picker-value]").value = button.getAttribute("data-pick");
    query.value = button.getAttribute("data-label");
    query.setAttribute("data-chosen", query.value);
    close(picker);
    query.focus();
    picker.dispatchEvent(new CustomEvent("deployment-picked", {bubbles: true, detail: {id: button.getAttribute("data-pick")}}));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-pick]") : null;
    if (button && pickerOf(button)) {
      event.preventDefault();
      choose(button);
    }
  });

  // Typing over a chosen deployment un-chooses it: the hidden id never disagrees with the box.
  document.addEventListener("input", function (event) {
    var picker = pickerOf(event.target);
    if (!picker || !event.target.hasAttribute("data-picker-query")) return;
    if (event.target.value !== event.target.getAttribute("data-chosen")) {
      picker.querySelector("[data-picker-value]").value = "";
      event.target.removeAttribute("data-chosen");
    }
  });

  document.addEventListener("keydown", function (event) {
    var picker = pickerOf(event.target);
    if (!picker) return;
    var list = matches(picker);
    var at = list.indexOf(event.target);
    var inBox = event.target === box(picker);
    if (event.key === "ArrowDown" && list.length) {
      event.preventDefault();
      list[Math.min(at + 1, list.length - 1)].focus();
    } else if (event.key === "ArrowUp" && at >= 0) {
      event.preventDefault();
      (at === 0 ? box(picker) : list[at - 1]).focus();
    } else if (event.key === "Escape" && list.length) {
      event.preventDefault();
      close(picker);
      box(picker).focus();
    } else if (event.key === "Enter" && inBox && list.length) {
      // Enter in the box picks the only match (or goes to the first), instead of submitting the form.
      event.preventDefault();
      if (list.length === 1) choose(list[0]);
      else list[0].focus();
    }
  });
})();
