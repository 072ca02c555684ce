// Live preview on the statistics form (统计调查数据): the sums of each split and the derived flags (规模以上, 小微型)
// as the clerk types, and the 沿用上年 buttons. The rules are not written here: the page carries them in data
// attributes rendered from filings/checks.py (SPLITS) and FilingStatistics.DERIVED_FLAGS, and the server checks
// again on save. Nothing here marks a field red: errors are shown only after a save.
(function () {
  "use strict";
  var form = document.querySelector("[data-statistics-form]");
  if (!form) { return; }
  var COMPARISONS = {
    ">=": function (value, threshold) { return value >= threshold; },
    "<": function (value, threshold) { return value < threshold; }
  };

  // A figure in hundredths (amounts have two decimals), so that sums of amounts are exact; null when blank or not a
  // number.
  function hundredths(name) {
    var input = document.getElementById("id_" + name);
    if (!input || input.value.trim() === "") { return null; }
    var number = Number(input.value);
    return isFinite(number) ? Math.round(number * 100) : null;
  }

  function show(value) {
    return value === null ? "—" : (value / 100).toFixed(value % 100 ? 2 : 0);
  }

  function updateSums() {
    form.querySelectorAll("[data-sum-parts]").forEach(function (line) {
      var parts = line.dataset.sumParts.split(" ").map(hundredths);
      var filled = parts.filter(function (value) { return value !== null; });
      var sum = filled.length ? filled.reduce(function (a, b) { return a + b; }, 0) : null;
      var whole = hundredths(line.dataset.sumWhole);
      line.querySelector("[data-role=sum]").textContent = show(sum);
      line.querySelector("[data-role=whole]").textContent = show(whole);
      var state = "";
      if (sum !== null && whole !== null) {
        state = sum === whole ? "（一致）" : "（相差 " + show(Math.abs(whole - sum)) + "）";
      }
      line.querySelector("[data-role=state]").textContent = state;
    });
  }

  function updateDerived() {
    form.querySelectorAll("[data-derived-source]").forEach(function (output) {
      var value = hundredths(output.dataset.derivedSource);
      var threshold = Number(output.dataset.derivedThreshold) * 100;
      var compare = COMPARISONS[output.dataset.derivedComparison];
      output.textContent = value !== null && compare && compare(value, threshold) ? "是" : "否";
    });
  }

  function update() { updateSums(); updateDerived(); }

  form.querySelectorAll("[data-copy-to]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.dataset.copyTo);
      input.value = button.dataset.copyValue;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.focus();
    });
  });
  form.addEventListener("input", update);
  update();
})();
