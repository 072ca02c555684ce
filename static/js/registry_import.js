// Moves the progress bar of a register import while it is checked or written, and reloads the page when it ends.
(function () {
  "use strict";
  function poll(box) {
    fetch(box.dataset.importStatusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var bar = box.querySelector(".progress-bar");
        if (bar) {
          bar.style.width = data.progress + "%";
          bar.textContent = data.progress + "%";
          bar.parentNode.setAttribute("aria-valuenow", data.progress);
        }
        box.querySelector("[data-role=status]").textContent = data.status_label;
        var stage = box.querySelector("[data-role=stage]");
        if (stage) { stage.textContent = data.error || data.stage; }
        if (data.busy) {
          window.setTimeout(function () { poll(box); }, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(function () { poll(box); }, 3000); });
  }
  document.querySelectorAll("[data-import-status-url]").forEach(poll);
})();
