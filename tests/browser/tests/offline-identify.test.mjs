// Identification on the server's defaults, in a real browser, on a phone and on a desktop: the
// offline model names the animal in a real photo, the result card shows the photo it is about
// and the ranked alternatives, and nothing violates the policy.
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { serverAndBrowser, watchedPage } from "../lib/harness.mjs";

const photos = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../crates/adapters-ai/tests/photos");
const session = serverAndBrowser();

for (const [width, height, photo, name, scientific] of [
  // 320 px: the narrowest width WCAG's reflow asks for, with the longest name of the photos.
  [320, 700, "lizard-komodo.jpg", "Komodo dragon", "Varanus komodoensis"],
  [390, 844, "dog.jpg", "German shepherd", "Canis familiaris"],
  [1280, 900, "lizard-komodo.jpg", "Komodo dragon", "Varanus komodoensis"],
]) {
  test(`at ${width} px the offline model names the animal in ${photo} next to the photo`, async () => {
    const { page, problems } = await watchedPage(session.browser, { viewport: { width, height } });
    await page.goto(session.server.url + "/identify");
    await page.getByLabel("Photo").setInputFiles(path.join(photos, photo));
    await Promise.all([page.waitForURL(session.server.url + "/identify"), page.getByRole("button", { name: "Identify" }).click()]);
    assert.equal(await page.locator("#result-title").textContent(), name);
    assert.ok((await page.locator("dl.facts").textContent()).includes(scientific));
    const shown = page.locator("img.result-photo");
    assert.ok(await shown.isVisible());
    assert.ok((await shown.evaluate((img) => img.complete && img.naturalWidth)) > 0, "the photo loaded");
    assert.ok((await shown.getAttribute("alt")).length > 0, "the photo has a text alternative");
    assert.equal(await page.locator("ol.alternatives li").count(), 5);
    assert.match(await page.locator(".result").textContent(), /offline/);
    // The scientific name may wrap between its words, never inside one ("komodoensi/s").
    const broken = await page.locator("dl.facts dd i").first().evaluate((el) => {
      const text = el.firstChild;
      const split = [];
      let at = 0;
      for (const word of text.textContent.split(" ")) {
        const range = document.createRange();
        range.setStart(text, at);
        range.setEnd(text, at + word.length);
        if (range.getClientRects().length > 1) split.push(word);
        at += word.length + 1;
      }
      return split;
    });
    assert.deepEqual(broken, [], "words of the scientific name broken across lines");
    // Nothing wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${overflow} px wider than the screen`);
    assert.deepEqual(await problems(), []);
  });
}

test("the server received no CSP violation report", async () => {
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(session.server.logs.filter((l) => l.includes("csp violation")), []);
});
