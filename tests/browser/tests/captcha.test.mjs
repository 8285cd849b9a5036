// The CAPTCHA page in a real browser: a person identifying photos reaches the limit, is sent to
// the check, starts it, the proof-of-work script (served by the app itself) solves the ALTCHA
// challenge and submits, and they land back on the identification page, now trusted, and go on.
// The arithmetic variant is answered by hand, wrongly first. No page may log a console error or
// violate the CSP.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, startProvider, startServer, watchedPage } from "../lib/harness.mjs";

let provider;
let powServer;
let arithmeticServer;
let browser;

before(async () => {
  provider = await startProvider();
  // One identification, then the check.
  powServer = await startServer({
    env: { WILDID_CAPTCHA_KIND: "proof_of_work", WILDID_RATE_LIMIT_THRESHOLD: "1", ...provider.env() },
  });
  arithmeticServer = await startServer({ env: { WILDID_CAPTCHA_KIND: "arithmetic" } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  assert.equal(await powServer?.stop(), 0, "the server exits cleanly");
  assert.equal(await arithmeticServer?.stop(), 0, "the server exits cleanly");
  await provider?.close();
});

/** The session's status, asked by the page itself (same browser, same fingerprint). */
async function status(page) {
  return page.evaluate(async () => (await fetch("/api/security/status")).json());
}

/** A photo, drawn by the browser itself: a PNG of a few coloured stripes. */
async function photo(page) {
  const dataUrl = await page.evaluate(() => {
    const canvas = document.createElement("canvas");
    canvas.width = 96;
    canvas.height = 64;
    const g = canvas.getContext("2d");
    ["#2f6b3a", "#c9b37e", "#3a6ea5"].forEach((colour, i) => {
      g.fillStyle = colour;
      g.fillRect(0, i * 22, 96, 22);
    });
    return canvas.toDataURL("image/png");
  });
  return { name: "turtle.png", mimeType: "image/png", buffer: Buffer.from(dataUrl.split(",")[1], "base64") };
}

/** Uploads a photo with the page's form, as a person does. */
async function upload(page) {
  await page.getByLabel("Photo").setInputFiles(await photo(page));
  await page.getByRole("button", { name: "Identify" }).click();
  await page.waitForLoadState();
}

test("a rate-limited person solves the proof of work in the browser and carries on", async () => {
  const { page, problems } = await watchedPage(browser);
  await page.goto(powServer.url + "/");
  await page.getByRole("link", { name: "Identify an animal" }).click();
  assert.equal(await page.locator("h1").textContent(), "Identify an animal");
  await upload(page);
  assert.equal(await page.locator("#result-title").textContent(), "Green sea turtle");
  assert.equal(provider.calls(), 1);

  // The limit is reached: the next photo leads to the check, which leads back here.
  await upload(page);
  await page.waitForURL(powServer.url + "/security/check?next=%2Fidentify");
  assert.equal(await page.locator("h1").textContent(), "A quick check");
  assert.equal((await status(page)).rate_limited, true);
  assert.equal(provider.calls(), 1, "a held session never reaches the provider");
  const started = Date.now();
  await page.getByRole("button", { name: "Start the check" }).click();
  await page.waitForURL(powServer.url + "/identify", { timeout: 60_000 });
  const seconds = (Date.now() - started) / 1000;
  assert.match(await page.locator(".flash").textContent(), /You can carry on/);
  const after = await status(page);
  assert.equal(after.is_trusted, true);
  assert.equal(after.rate_limited, false);

  // Trusted, the person goes on where they stopped.
  await upload(page);
  assert.equal(await page.locator("#result-title").textContent(), "Green sea turtle");
  assert.equal(provider.calls(), 2);
  assert.deepEqual(await problems(), []);
  console.log(`# proof of work solved and verified in ${seconds.toFixed(1)} s`);
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
