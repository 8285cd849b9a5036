// The CAPTCHA page in a real browser: a person who is asked for the check starts it, the
// proof-of-work script (served by the app itself) solves the ALTCHA challenge and submits, and
// they land back where they were, now trusted. The arithmetic variant is answered by hand,
// wrongly first. No page may log a console error or violate the CSP.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, startServer, watchedPage } from "../lib/harness.mjs";

let powServer;
let arithmeticServer;
let browser;

before(async () => {
  powServer = await startServer({ env: { WILDID_CAPTCHA_KIND: "proof_of_work" } });
  arithmeticServer = await startServer({ env: { WILDID_CAPTCHA_KIND: "arithmetic" } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  assert.equal(await powServer?.stop(), 0, "the server exits cleanly");
  assert.equal(await arithmeticServer?.stop(), 0, "the server exits cleanly");
});

/** The session's status, asked by the page itself (same browser, same fingerprint). */
async function status(page) {
  return page.evaluate(async () => (await fetch("/api/security/status")).json());
}

test("the proof of work is solved by the browser and the person carries on", async () => {
  const { page, problems } = await watchedPage(browser);
  await page.goto(powServer.url + "/security/check?next=%2F%3Ffrom%3Dcheck");
  assert.equal(await page.locator("h1").textContent(), "A quick check");
  const started = Date.now();
  await page.getByRole("button", { name: "Start the check" }).click();
  await page.waitForURL(powServer.url + "/?from=check", { timeout: 60_000 });
  const seconds = (Date.now() - started) / 1000;
  assert.match(await page.locator(".flash").textContent(), /You can carry on/);
  const after = await status(page);
  assert.equal(after.is_trusted, true);
  assert.equal(after.rate_limited, false);
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
