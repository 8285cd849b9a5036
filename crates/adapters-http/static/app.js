// WildID's only script on every page. Progressive enhancement: everything works without it.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest(".flash-dismiss");
  if (button) {
    button.closest(".flash")?.remove();
  }
});

// Move keyboard focus to the first invalid field so the error is announced and fixable.
document.addEventListener("DOMContentLoaded", () => {
  const invalid = document.querySelector("[aria-invalid=\"true\"]");
  if (invalid instanceof HTMLElement) {
    invalid.focus();
  }
});
