// The identification page, with scripts on: when the adaptive limit holds this session, pass
// the proof-of-work check here, in place, and then send the form with the photo the person
// chose, so nobody has to pick it again. Without scripts (or with the arithmetic check) the
// form goes as it is and the server sends a held session to /security/check.
"use strict";

async function postJson(path, token, body) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": token },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(`${path} answered ${response.status}`);
  }
  return response.json();
}

/** Passes the proof-of-work check for this session; returns the anti-forgery token to use. */
async function passCheck(token, say) {
  const issued = await postJson("/api/security/captcha", token, {});
  const c = issued.challenge;
  const number = await window.wildidSolvePow(c.salt, c.challenge, c.maxnumber, (share) => {
    say(`A quick check first, done by your browser: ${Math.round(share * 100)} %`);
  });
  if (number === null) {
    throw new Error("the puzzle could not be solved");
  }
  const answer = btoa(
    JSON.stringify({ algorithm: c.algorithm, challenge: c.challenge, number, salt: c.salt, signature: c.signature }),
  );
  const verified = await postJson("/api/security/verify", token, { captcha_id: issued.captcha_id, answer });
  return verified.status?.csrf_token ?? token;
}

/** The sighting fields: the browser's offset from UTC for the local date and time, and a
 * button that fills in the place from the device's location (asked only when pressed). */
function prepareSighting(form) {
  const offset = form.elements.namedItem("utc_offset_minutes");
  if (offset instanceof HTMLInputElement) {
    offset.value = String(-new Date().getTimezoneOffset());
  }
  const button = form.querySelector("[data-locate]");
  const status = document.getElementById("locate-status");
  if (!(button instanceof HTMLButtonElement) || !("geolocation" in navigator)) {
    button?.remove();
    return;
  }
  button.addEventListener("click", () => {
    if (status) {
      status.textContent = "Finding where you are…";
    }
    navigator.geolocation.getCurrentPosition(
      (position) => {
        form.elements.namedItem("latitude").value = position.coords.latitude.toFixed(5);
        form.elements.namedItem("longitude").value = position.coords.longitude.toFixed(5);
        if (status) {
          status.textContent = "Location filled in. You can still change it.";
        }
      },
      () => {
        if (status) {
          status.textContent = "Your location is not available. You can type it instead.";
        }
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const upload = document.querySelector("form.upload");
  if (upload instanceof HTMLFormElement) {
    prepareSighting(upload);
  }
});

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.upload");
  if (!(form instanceof HTMLFormElement) || typeof window.wildidSolvePow !== "function") {
    return;
  }
  const status = document.getElementById("identify-status");
  const say = (text) => {
    if (status) {
      status.textContent = text;
    }
  };
  let ready = false;
  form.addEventListener("submit", async (event) => {
    if (ready) {
      return;
    }
    event.preventDefault();
    const field = form.elements.namedItem("csrf_token");
    try {
      const state = await (await fetch("/api/security/status", { credentials: "same-origin" })).json();
      if (state.rate_limited && !state.is_trusted && state.captcha_kind === "proof_of_work") {
        field.value = await passCheck(field.value, say);
        say("Check passed. Identifying your photo…");
      }
    } catch {
      // The server decides: the form goes as it is, and a held session is sent to the check.
      say("");
    }
    ready = true;
    form.submit();
  });
});
