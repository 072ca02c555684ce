// Polls an unfinished report-number upload and moves its progress bar until it finishes.
(function () {
  "use strict";
  function poll(card) {
    fetch(card.dataset.batchStatusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var bar = card.querySelector(".progress-bar");
        bar.style.width = data.progress + "%";
        bar.textContent = data.progress + "%";
        bar.parentElement.setAttribute("aria-valuenow", data.progress);
        card.querySelector("[data-role=status]").textContent = data.status_label;
        card.querySelector("[data-role=stage]").textContent = data.stage;
        if (data.status === "done") {
          bar.classList.remove("progress-bar-animated", "progress-bar-striped");
          bar.classList.add("bg-success");
          card.querySelectorAll("[data-count]").forEach(function (cell) { cell.textContent = data[cell.dataset.count]; });
          card.querySelector("[data-role=counts]").classList.remove("d-none");
          if (data.rejects_url) {
            var link = card.querySelector("[data-role=rejects]");
            link.href = data.rejects_url;
            link.classList.remove("d-none");
          }
        } else if (data.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(function () { poll(card); }, 1000);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(card); }, 3000); });
  }
  document.querySelectorAll("[data-batch-status-url]").forEach(poll);
})();
