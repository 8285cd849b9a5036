// WildID's only script on every page. Progressive enhancement: everything works without it.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest(".flash-dismiss");
  if (button) {
    button.closest(".flash")?.remove();
  }
});

// After a refused form, move keyboard focus to the first invalid field, or else to the message
// about the whole form, so the error is announced and can be fixed at once.
document.addEventListener("DOMContentLoaded", () => {
  const refused =
    document.querySelector("[aria-invalid=\"true\"]") ?? document.querySelector(".alert[tabindex=\"-1\"]");
  if (refused instanceof HTMLElement) {
    refused.focus();
  }
});
