// Polls the status of unfinished exports and moves their progress bars until they finish.
(function () {
  "use strict";
  function poll(row) {
    var url = row.dataset.statusUrl;
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var bar = row.querySelector(".progress-bar");
        bar.style.width = data.progress + "%";
        bar.setAttribute("aria-valuenow", data.progress);
        bar.textContent = data.progress + "%";
        row.querySelector("[data-role=status]").textContent = data.status_label;
        row.querySelector("[data-role=stage]").textContent = data.error || data.stage;
        if (data.status === "done") {
          bar.classList.remove("progress-bar-animated");
          bar.classList.add("bg-success");
          var link = row.querySelector("[data-role=download]");
          link.href = data.download_url;
          link.classList.remove("d-none");
        } else if (data.status === "failed") {
          bar.classList.add("bg-danger");
          window.location.reload();
        } else {
          window.setTimeout(function () { poll(row); }, 1000);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(row); }, 3000); });
  }
  document.querySelectorAll("[data-status-url]").forEach(poll);

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
