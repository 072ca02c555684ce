// Moves the progress bars of the queued and running rows of a job list (templates/includes/job_list.html) through
// progress.js; shows a row's download link when its file is ready, otherwise reloads the page when a job ends.
document.querySelectorAll("[data-job-row][data-status-url]").forEach(function (row) {
  "use strict";
  window.qtsPollJob(row, row.dataset.statusUrl, {
    running: function (data) { return data.busy; },
    done: function (data) {
      var link = row.querySelector("[data-role=download]");
      if (link && data.download_url) {
        link.href = data.download_url;
        link.classList.remove("d-none");
      } else {
        window.location.reload();
      }
    },
  });
});
