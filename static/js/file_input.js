// Writes the chosen file's name beside a file chooser (config.widgets.FileInput, templates/widgets/file_input.html),
// or 未选择文件 again when the choice is cleared; in Chinese whatever the browser's language.
document.addEventListener("change", function (event) {
  "use strict";
  var input = event.target;
  var box = input.closest && input.type === "file" ? input.closest("[data-qts-file]") : null;
  if (!box) { return; }
  var label = box.querySelector("[data-role=file-name]");
  var names = Array.prototype.map.call(input.files, function (file) { return file.name; });
  label.textContent = names.length ? names.join("、") : label.dataset.empty;
});
