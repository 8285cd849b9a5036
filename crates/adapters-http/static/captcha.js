// Solves the proof-of-work check of /security/check and submits its form. The algorithm is
// ALTCHA's: find the number n in 0..=maxnumber with hex(SHA-256(salt + n)) == challenge, then
// answer with the base64 of {algorithm, challenge, number, salt, signature}. The solver is also
// what the identification page uses to pass the check in place (identify.js).
"use strict";

const toHex = (buffer) =>
  Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");

async function solve(salt, challenge, maxnumber, onProgress) {
  const encoder = new TextEncoder();
  for (let n = 0; n <= maxnumber; n++) {
    const digest = await crypto.subtle.digest("SHA-256", encoder.encode(salt + n));
    if (toHex(digest) === challenge) {
      return n;
    }
    if (n % 10000 === 0) {
      onProgress(n / maxnumber);
    }
  }
  return null;
}

window.wildidSolvePow = solve;

document.addEventListener("DOMContentLoaded", async () => {
  const form = document.getElementById("pow-form");
  if (!(form instanceof HTMLFormElement)) {
    return;
  }
  const status = document.getElementById("pow-status");
  const { algorithm, challenge, salt, signature } = form.dataset;
  const maxnumber = Number(form.dataset.maxnumber);
  const started = performance.now();
  const number = await solve(salt, challenge, maxnumber, (share) => {
    if (status) {
      status.textContent = `Solving the puzzle: ${Math.round(share * 100)} %`;
    }
  });
  if (number === null) {
    if (status) {
      status.textContent = "The puzzle could not be solved. Reload the page to try again.";
    }
    return;
  }
  const took = Math.round(performance.now() - started);
  const payload = { algorithm, challenge, number, salt, signature, took };
  form.elements.namedItem("answer").value = btoa(JSON.stringify(payload));
  if (status) {
    status.textContent = "Done. Taking you back…";
  }
  form.submit();
});
