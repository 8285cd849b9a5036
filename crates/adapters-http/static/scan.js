// The worker page, with scripts on and a camera: each check-in form gets a button that reads
// the visitor's QR code with the camera (jsQR, served by WildID itself) and fills in the token.
// The worker still presses "Check the visitor in": nothing is sent by the scan alone. Without
// scripts or a camera the form stays as it is: the token is typed.
"use strict";

/** A visit token as the booking shows it: 32 hex digits, spaces and dashes allowed. */
function tokenIn(text) {
  const compact = text.replace(/[\s-]/g, "").toLowerCase();
  return /^[0-9a-f]{32}$/.test(compact) ? compact : null;
}

function stop(state) {
  if (state.timer) {
    clearTimeout(state.timer);
    state.timer = null;
  }
  if (state.stream) {
    for (const track of state.stream.getTracks()) {
      track.stop();
    }
    state.stream = null;
  }
  state.panel.hidden = true;
  state.button.setAttribute("aria-expanded", "false");
}

function look(state) {
  const { video, canvas } = state;
  if (video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth > 0) {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
    const code = window.jsQR(pixels.data, pixels.width, pixels.height, { inversionAttempts: "dontInvert" });
    const token = code && tokenIn(code.data);
    if (token) {
      state.input.value = token;
      stop(state);
      state.status.textContent = "Code read. Check it matches the visitor, then check them in.";
      state.submit.focus();
      return;
    }
    if (code) {
      state.status.textContent = "That code is not a visit token. Show the code from the visitor's booking.";
    }
  }
  state.timer = setTimeout(() => look(state), 150);
}

async function start(state) {
  state.status.textContent = "Starting the camera…";
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "environment" },
      audio: false,
    });
  } catch (error) {
    state.status.textContent = "The camera could not be used (" + error.name + "). Type the token instead.";
    return;
  }
  state.video.srcObject = state.stream;
  state.panel.hidden = false;
  state.button.setAttribute("aria-expanded", "true");
  state.status.textContent = "Hold the visitor's code in front of the camera.";
  await state.video.play().catch(() => {});
  look(state);
}

function equip(form) {
  const input = form.querySelector('input[name="token"]');
  const submit = form.querySelector('button[type="submit"]');
  if (!input || !submit) {
    return;
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button button-secondary scan-button";
  button.textContent = "Scan the visitor's code";
  button.setAttribute("aria-controls", input.id + "-camera");
  button.setAttribute("aria-expanded", "false");
  const panel = document.createElement("div");
  panel.className = "scan-panel";
  panel.id = input.id + "-camera";
  panel.hidden = true;
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.setAttribute("aria-label", "What the camera sees");
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "button button-secondary";
  cancel.textContent = "Stop the camera";
  panel.append(video, cancel);
  const status = document.createElement("p");
  status.className = "hint";
  status.setAttribute("role", "status");
  const state = { input, submit, button, panel, video, status, canvas: document.createElement("canvas"), stream: null, timer: null };
  button.addEventListener("click", () => (state.stream ? stop(state) : start(state)));
  cancel.addEventListener("click", () => {
    stop(state);
    state.status.textContent = "Camera stopped.";
    button.focus();
  });
  input.closest(".field").append(button, panel, status);
}

if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.jsQR) {
  for (const form of document.querySelectorAll('form[action$="/check-in"]')) {
    equip(form);
  }
}
