// Moves the progress bar of an unfinished report-number upload (progress.js) and shows its counts when it is done.
document.querySelectorAll("[data-batch-status-url]").forEach(function (card) {
  "use strict";
  window.qtsPollJob(card, card.dataset.batchStatusUrl, {
    running: window.qtsJobRunning,
    done: function (data) {
      card.querySelectorAll("[data-count]").forEach(function (cell) { cell.textContent = data[cell.dataset.count]; });
      card.querySelector("[data-role=counts]").classList.remove("d-none");
      if (data.rejects_url) {
        var link = card.querySelector("[data-role=rejects]");
        link.href = data.rejects_url;
        link.classList.remove("d-none");
      }
    },
  });
});
