// The check in a real browser: a person identifying photos reaches the limit; their next photo
// is held, the identification page passes the proof of work in place (the app's own script
// solves the ALTCHA challenge) and sends the photo they chose, so they get its answer without
// choosing it again; with scripts off, the server keeps the checked photo while the person
// passes the arithmetic check and answers it right after. The check page itself solves the proof of work and brings a person back;
// its arithmetic variant is answered by hand, wrongly first. No page may log a console error or
// violate the CSP.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, startProvider, startServer, watchedPage } from "../lib/harness.mjs";

let provider;
let powServer;
let arithmeticServer;
let heldServer;
let browser;

before(async () => {
  provider = await startProvider();
  // One identification, then the check.
  powServer = await startServer({
    env: { WILDID_CAPTCHA_KIND: "proof_of_work", WILDID_RATE_LIMIT_THRESHOLD: "1", ...provider.env() },
  });
  arithmeticServer = await startServer({ env: { WILDID_CAPTCHA_KIND: "arithmetic" } });
  // Scripts off: the arithmetic check, and a photo kept while the person passes it.
  heldServer = await startServer({
    env: { WILDID_CAPTCHA_KIND: "arithmetic", WILDID_RATE_LIMIT_THRESHOLD: "1", ...provider.env() },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  assert.equal(await powServer?.stop(), 0, "the server exits cleanly");
  assert.equal(await arithmeticServer?.stop(), 0, "the server exits cleanly");
  assert.equal(await heldServer?.stop(), 0, "the server exits cleanly");
  await provider?.close();
});

/** The session's status, asked by the page itself (same browser, same fingerprint). */
async function status(page) {
  return page.evaluate(async () => (await fetch("/api/security/status")).json());
}

/** A photo, drawn by the browser itself: a PNG of a few coloured stripes, `width` wide. */
async function photo(page, width = 96) {
  const dataUrl = await page.evaluate((width) => {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = 64;
    const g = canvas.getContext("2d");
    ["#2f6b3a", "#c9b37e", "#3a6ea5"].forEach((colour, i) => {
      g.fillStyle = colour;
      g.fillRect(0, i * 22, width, 22);
    });
    return canvas.toDataURL("image/png");
  }, width);
  return { name: "turtle.png", mimeType: "image/png", buffer: Buffer.from(dataUrl.split(",")[1], "base64") };
}

/** Uploads a photo with the page's form, as a person does, and waits for the answer page. */
async function upload(page, width = 96) {
  await page.getByLabel("Photo").setInputFiles(await photo(page, width));
  await submit(page, page.getByRole("button", { name: "Identify" }));
}

/**
 * Clicks `button` and waits for the page it leads to. The identify page answers at its own
 * address, so waiting for a URL would return at once (before a proof of work in place has even
 * started): wait for the next document of the main frame instead.
 */
async function submit(page, button) {
  const navigated = page.waitForEvent("framenavigated", {
    predicate: (frame) => frame === page.mainFrame(),
    timeout: 60_000,
  });
  await button.click();
  await navigated;
  await page.waitForLoadState("load");
}

/** The width of the JPEG in a `data:` URL, read from its frame header (no script needed). */
function jpegWidth(dataUrl) {
  const bytes = Buffer.from(dataUrl.split(",")[1], "base64");
  let at = 2;
  while (at + 9 < bytes.length) {
    const marker = bytes[at + 1];
    const length = bytes.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xc2) return bytes.readUInt16BE(at + 7);
    at += 2 + length;
  }
  throw new Error("no JPEG frame header");
}

test("a held person's photo goes through the check in place and gets its answer", async () => {
  const { page, problems } = await watchedPage(browser);
  await page.goto(powServer.url + "/");
  await page.getByRole("link", { name: "Identify an animal" }).click();
  assert.equal(await page.locator("h1").textContent(), "Identify an animal");
  await upload(page);
  assert.equal(await page.locator("#result-title").textContent(), "Green sea turtle");
  assert.equal(provider.calls(), 1);
  assert.equal((await status(page)).rate_limited, true, "the limit is reached");

  // The next photo (a wider one, to tell them apart): the page passes the check itself, then
  // sends that photo; the person never leaves the page and never chooses the photo again.
  const started = Date.now();
  await upload(page, 160);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(new URL(page.url()).pathname, "/identify");
  assert.equal(await page.locator("#result-title").textContent(), "Green sea turtle");
  const shown = await page.locator("img.result-photo").evaluate((img) => img.naturalWidth);
  assert.equal(shown, 160, "the answer is about the photo chosen before the check");
  assert.equal(provider.calls(), 2);
  const after = await status(page);
  assert.equal(after.is_trusted, true);
  assert.equal(after.rate_limited, false);
  assert.deepEqual(await problems(), []);
  console.log(`# held upload: proof of work solved in place and photo identified in ${seconds.toFixed(1)} s`);
});

test("without scripts, a held person's photo is kept through the check and answered after it", async () => {
  // Photos drawn by a page with scripts; the person's own page has none.
  const drawing = await watchedPage(browser);
  const first = await photo(drawing.page, 96);
  const chosen = await photo(drawing.page, 160);
  const { page, problems } = await watchedPage(browser, { javaScriptEnabled: false });
  const calls = provider.calls();
  await page.goto(heldServer.url + "/identify");
  await page.getByLabel("Photo").setInputFiles(first);
  await submit(page, page.getByRole("button", { name: "Identify" }));
  assert.equal(await page.locator("#result-title").textContent(), "Green sea turtle");
  assert.match(await page.locator("form.upload .hint").first().textContent(), /You have 0 identifications left/);

  await page.getByLabel("Photo").setInputFiles(chosen);
  await submit(page, page.getByRole("button", { name: "Identify" }));
  assert.equal(new URL(page.url()).pathname, "/security/check");
  assert.match(await page.locator(".flash").textContent(), /Your photo is kept for 10 minutes/);
  assert.equal(provider.calls(), calls + 1, "the held photo reached no provider");

  await submit(page, page.getByRole("button", { name: "Start the check" }));
  const label = await page.locator("label[for=answer]").textContent();
  const [, a, op, b] = /What is (\d) (.) (\d)\?/.exec(label);
  const right = { "+": +a + +b, "-": a - b, "×": a * b }[op];
  await page.getByLabel(label).fill(String(right));
  await submit(page, page.getByRole("button", { name: "Answer" }));
  assert.match(await page.locator(".flash").textContent(), /Here is the answer for the photo you chose/);
  assert.equal(await page.locator("#result-title").textContent(), "Green sea turtle");
  const shown = await page.locator("img.result-photo").getAttribute("src");
  assert.equal(jpegWidth(shown), 160, "the answer is about the photo chosen before the check");
  assert.equal(provider.calls(), calls + 2);
  assert.deepEqual(await problems(), []);
  await drawing.context.close();
});

test("the check page solves the proof of work and brings the person back", async () => {
  const { page, problems } = await watchedPage(browser);
  await page.goto(powServer.url + "/security/check?next=%2Fidentify");
  assert.equal(await page.locator("h1").textContent(), "A quick check");
  await page.getByRole("button", { name: "Start the check" }).click();
  await page.waitForURL(powServer.url + "/identify", { timeout: 60_000 });
  assert.match(await page.locator(".flash").textContent(), /You can carry on/);
  assert.equal((await status(page)).is_trusted, true);
  assert.deepEqual(await problems(), []);
});

test("a wrong arithmetic answer is shown again with its error, the right one passes", async () => {
  const { page, problems } = await watchedPage(browser);
  await page.goto(arithmeticServer.url + "/security/check?next=%2F");
  await page.getByRole("button", { name: "Start the check" }).click();
  const label = await page.locator("label[for=answer]").textContent();
  const [, a, op, b] = /What is (\d) (.) (\d)\?/.exec(label);
  const right = { "+": +a + +b, "-": a - b, "×": a * b }[op];
  await page.getByLabel(label).fill(String(right + 1));
  await page.getByRole("button", { name: "Answer" }).click();
  assert.match(await page.locator("#answer-error").textContent(), /not the right answer/);
  assert.equal(await page.locator("label[for=answer]").textContent(), label, "the same question");
  assert.equal(await page.getAttribute("#answer", "aria-invalid"), "true");
  await page.getByLabel(label).fill(String(right));
  await page.getByRole("button", { name: "Answer" }).click();
  await page.waitForURL(arithmeticServer.url + "/");
  assert.equal((await status(page)).is_trusted, true);
  // The wrong answer's page is answered 422 on purpose; anything else on the console is not.
  assert.deepEqual((await problems()).filter((p) => !p.includes("status of 422")), []);
});

test("the servers received no CSP violation report", async () => {
  await new Promise((r) => setTimeout(r, 500));
  for (const server of [powServer, arithmeticServer]) {
    assert.deepEqual(server.logs.filter((l) => l.includes("csp violation")), []);
  }
});
