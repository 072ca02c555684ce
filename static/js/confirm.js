// Confirmation before a consequential submit (templates/_confirm_dialog.html): a submit button with
// data-confirm="…" opens the dialog saying what will happen; 确认 sends the form with that button, 取消 or Esc returns
// to the button. Without JavaScript (or Bootstrap) the button simply posts the form.
document.addEventListener("DOMContentLoaded", () => {
  const dialog = document.getElementById("confirm-dialog");
  if (!dialog || !window.bootstrap) return;
  const modal = bootstrap.Modal.getOrCreateInstance(dialog);
  const message = dialog.querySelector("[data-confirm-message]");
  const accept = dialog.querySelector("[data-confirm-accept]");
  const confirmed = new WeakSet();  // buttons whose next submit was confirmed
  let pending = null;  // {form, button} while the dialog is open

  document.addEventListener("submit", (event) => {
    const button = event.submitter;
    if (!button || !button.dataset.confirm) return;
    if (confirmed.has(button)) {
      confirmed.delete(button);
      return;
    }
    event.preventDefault();
    pending = { form: event.target, button };
    message.textContent = button.dataset.confirm;
    accept.textContent = button.dataset.confirmAccept || "确认";
    accept.className = `btn ${button.classList.contains("btn-danger") ? "btn-danger" : "btn-primary"}`;
    modal.show(button);
  });

  accept.addEventListener("click", () => {
    if (!pending) return;
    const { form, button } = pending;
    pending = null;
    confirmed.add(button);
    modal.hide();
    form.requestSubmit(button);
  });

  dialog.addEventListener("shown.bs.modal", () => accept.focus());
  dialog.addEventListener("hidden.bs.modal", () => {
    if (pending) pending.button.focus();  // cancelled: back to the button that asked
    pending = null;
  });
});
