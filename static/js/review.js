// Lists with a selection (the review queue, the late-filer list, 报告编号上传情况): a form with data-selection="<the rows'
// input name>". Its [data-select-all] box selects or clears every row on the page; its [data-select-everything] box
// stands for every row under the filter (data-count of them) and sets the row boxes aside; the submit button's
// data-confirm-template ("… {n} …") becomes the data-confirm that the confirm dialog (static/js/confirm.js) states,
// so the dialog says how many will be acted on. The button waits until something is selected. Without JavaScript the
// form posts what is ticked and the server counts.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-selection]").forEach((form) => {
    const boxes = () => [...form.querySelectorAll(`input[name="${form.dataset.selection}"]`)];
    const all = form.querySelector("[data-select-all]");
    const everything = form.querySelector("[data-select-everything]");
    const button = form.querySelector("[data-confirm-template]");
    const update = () => {
      const whole = everything && everything.checked;
      boxes().forEach((box) => { box.disabled = whole; });
      if (all) all.disabled = whole;
      const count = whole ? Number(everything.dataset.count) : boxes().filter((box) => box.checked).length;
      if (button) {
        button.dataset.confirm = button.dataset.confirmTemplate.replace("{n}", count);
        button.disabled = count === 0;
      }
    };
    if (all) all.addEventListener("change", () => boxes().forEach((box) => { box.checked = all.checked; }));
    form.addEventListener("change", update);
    update();
  });
});
