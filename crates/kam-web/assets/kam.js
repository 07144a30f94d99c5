// kam's only script: small progressive enhancements; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // The language switch returns to the page it was used on.
  for (const input of document.querySelectorAll("input.js-back")) {
    input.value = window.location.pathname + window.location.search;
  }
  // A form that ends, disables or resets something asks first (the server does not depend on it).
  for (const form of document.querySelectorAll("form.confirm[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }
  // The pre-visit brief's print button (the browser's own print works as well).
  for (const button of document.querySelectorAll("button.js-print")) {
    button.addEventListener("click", () => window.print());
  }
  // "Select all" for the rows of a bulk form.
  for (const all of document.querySelectorAll("input.js-select-all")) {
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll(`input[form="${all.dataset.form}"][type="checkbox"]`)) {
        box.checked = all.checked;
      }
    });
  }
});
