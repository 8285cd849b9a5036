// Identification on the server's defaults, in a real browser, on a phone and on a desktop: the
// offline model names the animal in a real photo, the result card shows the photo it is about
// and the ranked alternatives, and nothing violates the policy.
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { launchBrowser, startServer, watchedPage } from "../lib/harness.mjs";

const photos = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../crates/adapters-ai/tests/photos");
let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  const code = await server?.stop();
  assert.equal(code, 0, "the server exits cleanly");
});

for (const [width, height, photo, name, scientific] of [
  [390, 844, "dog.jpg", "German shepherd", "Canis familiaris"],
  [1280, 900, "lizard-komodo.jpg", "Komodo dragon", "Varanus komodoensis"],
]) {
  test(`at ${width} px the offline model names the animal in ${photo} next to the photo`, async () => {
    const { page, problems } = await watchedPage(browser, { viewport: { width, height } });
    await page.goto(server.url + "/identify");
    await page.getByLabel("Photo").setInputFiles(path.join(photos, photo));
    await Promise.all([page.waitForURL(server.url + "/identify"), page.getByRole("button", { name: "Identify" }).click()]);
    assert.equal(await page.locator("#result-title").textContent(), name);
    assert.ok((await page.locator("dl.facts").textContent()).includes(scientific));
    const shown = page.locator("img.result-photo");
    assert.ok(await shown.isVisible());
    assert.ok((await shown.evaluate((img) => img.complete && img.naturalWidth)) > 0, "the photo loaded");
    assert.ok((await shown.getAttribute("alt")).length > 0, "the photo has a text alternative");
    assert.equal(await page.locator("ol.alternatives li").count(), 5);
    assert.match(await page.locator(".result").textContent(), /offline/);
    // Nothing wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${overflow} px wider than the screen`);
    assert.deepEqual(await problems(), []);
  });
}

test("the server received no CSP violation report", async () => {
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(server.logs.filter((l) => l.includes("csp violation")), []);
});
