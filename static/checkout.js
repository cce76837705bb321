// The Store's checkout (templates/portal/checkout.html): "Apply to All" copies one deployment choice to
// every deployment picker, the organisation box filters its drop-down, the PO field shows when "Yes" is
// chosen, and the wire / cheque instructions show for the method chosen. Without script everything is shown.
(function () {
  "use strict";

  function form() { return document.querySelector("[data-checkout]"); }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-apply-all]") : null;
    if (!button) return;
    event.preventDefault();
    var cell = button.closest("td") || button.parentNode;
    var picker = cell.querySelector("[data-picker]");
    var value = picker.querySelector("[data-picker-value]").value;
    var text = picker.querySelector("[data-picker-query]").value;
    if (!value) return;
    document.querySelectorAll("[data-checkout] [data-picker]").forEach(function (other) {
      other.querySelector("[data-picker-value]").value = value;
      var box = other.querySelector("[data-picker-query]");
      box.value = text;
      box.setAttribute("data-chosen", text);
    });
  });

  document.addEventListener("input", function (event) {
    if (!event.target.hasAttribute || !event.target.hasAttribute("data-org-filter")) return;
    var words = event.target.value.toLowerCase();
    var select = event.target.closest("[data-org-choice]").querySelector("select");
    Array.prototype.forEach.call(select.options, function (option) {
      option.hidden = words !== "" && option.text.toLowerCase().indexOf(words) === -1 && !option.selected;
    });
    var first = Array.prototype.find.call(select.options, function (option) { return !option.hidden; });
    if (first && words !== "" && select.selectedOptions[0] && select.selectedOptions[0].text.toLowerCase().indexOf(words) === -1) {
      first.selected = true;
    }
  });

  function refresh() {
    var root = form();
    if (!root) return;
    var yes = root.querySelector("[data-has-po][value=yes]");
    var po = root.querySelector("[data-po-field]");
    if (po && yes) po.hidden = !yes.checked;
    var chosen = root.querySelector("[data-payment-method]:checked");
    root.querySelectorAll("[data-instructions-for]").forEach(function (box) {
      box.hidden = !chosen || chosen.value !== box.getAttribute("data-instructions-for");
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest("[data-checkout]")) refresh();
  });
  document.addEventListener("DOMContentLoaded", refresh);
})();
