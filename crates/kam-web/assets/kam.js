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
  // A night's progress: asked for again every two seconds while the night is at work (without
  // the script, the page's refresh link does the same).
  const poll = document.querySelector("[data-poll]");
  if (poll) {
    const url = poll.dataset.poll;
    const again = async () => {
      const panel = document.getElementById(poll.id);
      if (!panel || panel.dataset.running !== "true") {
        return;
      }
      try {
        const answer = await fetch(url, { credentials: "same-origin" });
        if (answer.ok) {
          panel.outerHTML = await answer.text();
          const now = document.getElementById(poll.id);
          if (now && now.dataset.running !== "true") {
            // The night ended: the whole page shows its record and the inbox as they are now.
            window.location.reload();
            return;
          }
        }
      } catch (_) {
        // A network hiccup: try again on the next tick.
      }
      window.setTimeout(again, 2000);
    };
    window.setTimeout(again, 2000);
  }
});
