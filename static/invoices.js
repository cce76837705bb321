// Generate Invoice (the Summary section of the Main tab, templates/summary/_section.html): the button is
// enabled once at least one period is checked under Action. The listener sits on the document, so it
// keeps working after htmx swaps the section.
(function () {
  "use strict";

  var PERIOD = "#summary-grid input[name=period]";

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches(PERIOD)) return;
    var holder = box.closest(".summary");
    var any = !!holder.querySelector(PERIOD + ":checked");
    holder.querySelectorAll("[data-needs-checked]").forEach(function (button) {
      button.disabled = !any;
      button.title = any ? "" : "Check one or more periods under Action first";
    });
  });
})();
