// The export form (the list's progress bars are job_list.js's).
(function () {
  "use strict";
  // The year and "include submitted" only apply to the kinds that need a year (年度汇总): hide them otherwise.
  var form = document.querySelector("[data-year-kinds]");
  if (form) {
    var yearKinds = form.dataset.yearKinds.split(",");
    var kind = form.querySelector("[name=kind]");
    var toggle = function () {
      var needsYear = yearKinds.indexOf(kind.value) !== -1;
      ["year", "include_submitted"].forEach(function (name) {
        var wrapper = document.getElementById("div_id_" + name);
        if (wrapper) { wrapper.classList.toggle("d-none", !needsYear); }
      });
    };
    kind.addEventListener("change", toggle);
    toggle();
  }
})();
