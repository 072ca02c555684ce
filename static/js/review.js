// Late-filer list: one checkbox selects or clears every institution on the page.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.querySelector("[data-select-all]");
  if (!all) return;
  const boxes = () => document.querySelectorAll('input[name="institution"]');
  all.addEventListener("change", () => boxes().forEach((box) => { box.checked = all.checked; }));
});
