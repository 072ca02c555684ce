// Moves the progress bars of unfinished exports (progress.js) and shows each download link when its file is ready.
(function () {
  "use strict";
  document.querySelectorAll("[data-status-url]").forEach(function (row) {
    window.qtsPollJob(row, row.dataset.statusUrl, {
      running: window.qtsJobRunning,
      done: function (data) {
        var link = row.querySelector("[data-role=download]");
        link.href = data.download_url;
        link.classList.remove("d-none");
      },
    });
  });

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
