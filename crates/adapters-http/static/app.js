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

// Forms with a local date and time (visit bookings) send the browser's offset from UTC on that
// date, so that the time is read as the person meant it; without a script it is read as UTC.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const offset = form instanceof HTMLFormElement ? form.querySelector("input[data-utc-offset]") : null;
  const local = form?.querySelector("input[type=\"datetime-local\"]");
  if (offset instanceof HTMLInputElement && local instanceof HTMLInputElement && local.value) {
    offset.value = String(-new Date(local.value).getTimezoneOffset());
  }
});

// Times marked `data-local` are shown in the reader's own time zone (UTC without a script).
document.addEventListener("DOMContentLoaded", () => {
  for (const time of document.querySelectorAll("time[data-local]")) {
    const at = new Date(time.getAttribute("datetime") ?? "");
    if (!Number.isNaN(at.getTime())) {
      time.textContent = at.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    }
  }
});
