// The apply form in the browser: shows a field only while its simple condition holds
// (data-visible-if-field / data-visible-if-value, written by portal.apply for `field == 'value'`
// and `field == true`), and adds rows to repeatable groups by cloning the first row, emptied (an
// upload control of the row included: uploads.js binds it when the row is added; a repeated group
// inside the row keeps one row, and its own button works in the copy). The server
// decides in the end: without this file every field shows and the form still works.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector(".apply-form");
  if (!form) return;

  const currentValue = (name) => {
    const inputs = [...form.querySelectorAll("[name]")].filter((input) => input.name === name);
    if (!inputs.length) return null;
    const first = inputs[0];
    if (first.type === "checkbox" && inputs.length === 1) return first.checked ? "true" : "false";
    if (first.type === "radio" || first.type === "checkbox") {
      const checked = inputs.find((input) => input.checked);
      return checked ? checked.value : "";
    }
    return first.value;
  };

  const sync = () => {
    for (const box of form.querySelectorAll("[data-visible-if-field]")) {
      const value = currentValue(box.dataset.visibleIfField);
      // A condition on a field this page does not have stays visible: the server decides.
      const hide = value !== null && value !== box.dataset.visibleIfValue;
      box.hidden = hide;
      // The stylesheet gives .field a display of its own, which would beat [hidden].
      box.style.display = hide ? "none" : "";
    }
  };

  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const rowsOf = (group) => [...group.querySelectorAll(":scope > .apply-row")];
  const addButtonOf = (group) => group.querySelector(":scope > [data-add-row]");

  // A group's button is hidden once the group has its most rows; .button's display would beat
  // [hidden], hence the style.
  const refresh = (group) => {
    const button = addButtonOf(group);
    if (!button) return;
    const max = parseInt(group.dataset.repeatMax || "0", 10);
    button.hidden = Boolean(max) && rowsOf(group).length >= max;
    button.style.display = button.hidden ? "none" : "";
  };

  // A copy of the group's first row, emptied, as row `index`: field names `owners[0].…` become
  // `owners[3].…`, ids and the labels' references likewise. A repeated group inside the row
  // (`owners[0].phones`) keeps only its first row and is renamed with it.
  const newRow = (group, index, label) => {
    const name = group.dataset.repeat;
    const row = rowsOf(group)[0].cloneNode(true);
    const fromName = new RegExp("^" + escape(name + "[0]"));
    const toName = name + "[" + index + "]";
    const idPrefix = "f-" + name.replace(/[^a-z0-9_]+/g, "-").replace(/^-|-$/g, "");
    const fromId = new RegExp(escape(idPrefix + "-0-"), "g");
    const toId = idPrefix + "-" + index + "-";
    row.dataset.row = String(index);
    for (const inner of row.querySelectorAll("[data-repeat]")) {
      for (const extra of rowsOf(inner).slice(1)) extra.remove();
      const button = addButtonOf(inner);
      const renamed = inner.dataset.repeat.replace(fromName, toName);
      if (button) {
        button.value = button.value.slice(0, button.value.length - inner.dataset.repeat.length) + renamed;
        button.dataset.addRow = renamed;
      }
      inner.dataset.repeat = renamed;
    }
    // The calendar's button and popup belong to the first row's date box: the new row's date
    // boxes are given their own (datepicker.js listens for apply:row-added).
    for (const wrap of row.querySelectorAll(".date-input")) {
      const input = wrap.querySelector("input");
      if (input) {
        delete input.dataset.calendar;
        wrap.before(input);
      }
      wrap.remove();
    }
    for (const box of row.querySelectorAll("[data-upload]")) {
      // The first row's file stays the first row's: the new row's control starts empty.
      box.dataset.upload = box.dataset.upload.replace(fromName, toName);
      box.removeAttribute("aria-busy");
      for (const part of box.querySelectorAll(".upload-kept, .upload-progress, .error")) part.hidden = true;
      for (const part of box.querySelectorAll(".upload-name, .upload-size, .upload-status, .error")) part.textContent = "";
      for (const button of box.querySelectorAll(".upload-remove")) button.value = box.dataset.upload;
    }
    for (const element of row.querySelectorAll("*")) {
      if (element.name) element.name = element.name.replace(fromName, toName);
      for (const attribute of ["id", "for", "aria-describedby", "data-visible-if-field"]) {
        const value = element.getAttribute(attribute);
        if (value) element.setAttribute(attribute, value.replace(fromId, toId));
      }
      if (element.dataset.visibleIfField) {
        element.dataset.visibleIfField = element.dataset.visibleIfField.replace(fromName, toName);
      }
      if (element.matches("input[type=checkbox], input[type=radio]")) element.checked = false;
      else if (element.matches("input, textarea")) element.value = "";
      else if (element.matches("select")) element.selectedIndex = 0;
      // An upload control keeps its (emptied) error line: uploads.js writes into it.
      if (element.matches(".error") && !element.closest("[data-upload]")) element.remove();
      element.removeAttribute("aria-invalid");
      element.classList.remove("field-invalid");
    }
    const legend = row.querySelector(":scope > legend");
    if (legend) legend.textContent = label;
    return row;
  };

  // One listener for every group's button, those of rows added here included.
  form.addEventListener("click", (event) => {
    const button = event.target.closest("[data-add-row]");
    if (!button || !form.contains(button)) return;
    // Without this script the button sends the form and the server draws one more row.
    event.preventDefault();
    const group = button.closest("[data-repeat]");
    const all = rowsOf(group);
    const index = Math.max(...all.map((row) => parseInt(row.dataset.row, 10))) + 1;
    const label = (button.dataset.rowLabel || "") + " " + (all.length + 1).toLocaleString(document.documentElement.lang);
    const row = newRow(group, index, label);
    all[all.length - 1].after(row);
    row.dispatchEvent(new CustomEvent("apply:row-added", { bubbles: true }));
    refresh(group);
    for (const inner of row.querySelectorAll("[data-repeat]")) refresh(inner);
    sync();
    const first = row.querySelector("input, textarea, select");
    if (first) first.focus();
  });
  for (const group of form.querySelectorAll("[data-repeat]")) refresh(group);

  form.addEventListener("input", sync);
  form.addEventListener("change", sync);
  sync();
});
