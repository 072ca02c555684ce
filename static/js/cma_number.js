// Shows what a CMA certificate number decodes to (issuer, level, field, department) under the number field.
// The server decodes again when the form is saved: this is only a preview.
(function () {
  "use strict";
  function show(input) {
    var hint = input.parentNode.querySelector("[data-role=cma-decoded]");
    if (!hint) {
      hint = document.createElement("div");
      hint.className = "small mt-1";
      hint.setAttribute("data-role", "cma-decoded");
      hint.setAttribute("aria-live", "polite");
      input.parentNode.appendChild(hint);
    }
    var number = input.value.replace(/\s+/g, "");
    if (!number) { hint.textContent = ""; return; }
    fetch(input.dataset.decodeUrl + "?number=" + encodeURIComponent(number), {
      headers: { "Accept": "application/json" }, credentials: "same-origin"
    })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.ok) {
          hint.className = "small mt-1 text-success";
          hint.textContent = data.year + "年 · " + data.issuer + "（" + data.level_label + "）· " + data.field +
            " · " + data.department + " · 流水号 " + data.serial;
        } else {
          hint.className = "small mt-1 text-danger";
          hint.textContent = data.error;
        }
      })
      .catch(function () { hint.textContent = ""; });
  }
  document.querySelectorAll("input[data-decode-url]").forEach(function (input) {
    input.addEventListener("change", function () { show(input); });
    input.addEventListener("blur", function () { show(input); });
    if (input.value) { show(input); }
  });
})();
