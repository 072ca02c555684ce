// Moves the progress bar of a register import while it is checked or written (progress.js); reloads when it ends.
document.querySelectorAll("[data-import-status-url]").forEach(function (box) {
  "use strict";
  window.qtsPollJob(box, box.dataset.importStatusUrl, { running: function (data) { return data.busy; } });
});
