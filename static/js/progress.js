// A bar's width comes from its data-progress: the Content-Security-Policy refuses style="…" attributes (ADR 0031),
// not widths set from a script.
document.querySelectorAll(".progress-bar[data-progress]").forEach(function (bar) {
  "use strict";
  bar.style.width = bar.getAttribute("data-progress") + "%";
});

// Polls a background job's status URL and moves its progress bar: shared by exports, register imports and
// report-number uploads. `running(data)` says whether to poll again; when the job ends, `done(data)` (if given and
// the job succeeded) updates the page in place, otherwise the page reloads to show the outcome.
window.qtsPollJob = function (box, url, options) {
  "use strict";
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var bar = box.querySelector(".progress-bar");
        if (bar) {
          bar.style.width = data.progress + "%";
          bar.textContent = data.progress + "%";
          var meter = bar.closest("[role=progressbar]");  // where assistive technology reads it
          if (meter) { meter.setAttribute("aria-valuenow", data.progress); }
        }
        box.querySelector("[data-role=status]").textContent = data.status_label;
        var stage = box.querySelector("[data-role=stage]");
        if (stage) { stage.textContent = data.error || data.stage; }
        if (options.running(data)) {
          window.setTimeout(poll, 1000);
        } else if (data.status === "done" && options.done) {
          if (bar) {
            bar.classList.remove("progress-bar-animated", "progress-bar-striped");
            bar.classList.add("bg-success");
          }
          options.done(data);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
};

// Pending or running: anything that is neither done nor failed. A stale job (可能已中断) stops the polling: the page
// reloads and offers 重试.
window.qtsJobRunning = function (data) {
  return data.status !== "done" && data.status !== "failed" && !data.stale;
};
