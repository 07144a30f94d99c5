// kam's only script: small progressive enhancements; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // The language switch returns to the page it was used on.
  for (const input of document.querySelectorAll("input.js-back")) {
    input.value = window.location.pathname + window.location.search;
  }
});
