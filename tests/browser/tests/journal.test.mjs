// The field journal in a real browser, on a phone: a signed-in person identifies a photo with
// where they saw the animal, finds it in their journal, marks the answer wrong with a
// correction, shares it blurred and finds it on both maps, hides the place, and deletes the
// entry; every page passes the harness's
// accessibility check, and nothing violates the policy or logs an error.
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { linkInMail, serverAndBrowser, watchedPage } from "../lib/harness.mjs";

const photos = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../crates/adapters-ai/tests/photos");
const EMAIL = "volunteer.ana@example.org";
const PASSWORD = "kestrel meadow lantern";
const session = serverAndBrowser();

async function register(page) {
  await page.goto(session.server.url + "/auth/register");
  await page.getByLabel("Email address").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("I have read and accept the privacy notice.").check();
  await page.getByRole("button", { name: "Create account" }).click();
  await page.goto(await linkInMail(session.server, 1, "/auth/verify?token=", EMAIL));
  await page.getByRole("button", { name: "Confirm my address" }).click();
  await page.waitForLoadState();
  await page.goto(session.server.url + "/auth/sign-in");
  await page.getByLabel("Email address").first().fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL((url) => url.pathname !== "/auth/sign-in");
}

test("identify with a place, find it in the journal, correct it, hide it, delete it", async () => {
  const { page, problems } = await watchedPage(session.browser, {
    viewport: { width: 390, height: 844 },
    // The "Use my current location" button asks the device; here the device is in Sydney.
    permissions: ["geolocation"],
    geolocation: { latitude: -33.85678, longitude: 151.2153 },
  });
  await register(page);
  await page.goto(session.server.url + "/identify");
  await page.getByLabel("Photo").setInputFiles(path.join(photos, "bird.jpg"));
  await page.getByText("Where and when did you see it? (optional)").click();
  await page.getByRole("button", { name: "Use my current location" }).click();
  await page.waitForFunction(() => document.querySelector("#latitude").value !== "");
  assert.equal(await page.locator("#latitude").inputValue(), "-33.85678");
  await page.getByLabel("Notes").fill("Calling from the fig tree");
  await Promise.all([page.waitForURL(session.server.url + "/identify"), page.getByRole("button", { name: "Identify" }).click()]);
  const name = (await page.locator("#result-title").textContent()).trim();
  await page.getByRole("link", { name: "Kept in your journal: open it" }).click();
  assert.equal((await page.locator("h1").textContent()).trim(), name);
  assert.match(await page.locator("dl.facts").textContent(), /-33\.85678, 151\.21530/);
  assert.match(await page.locator("dl.facts").textContent(), /Calling from the fig tree/);
  const photo = page.locator("img.result-photo");
  assert.ok((await photo.evaluate((img) => img.complete && img.naturalWidth)) > 0, "the photo loaded");

  await page.goto(session.server.url + "/history");
  const entry = page.locator(".journal-entry");
  assert.equal(await entry.count(), 1);
  assert.ok((await entry.locator("img").evaluate((img) => img.complete && img.naturalWidth)) > 0, "the thumbnail loaded");
  await entry.getByRole("link").click();

  await page.getByLabel("Wrong").check();
  await page.getByLabel("What it really is (if you know)").fill("Rainbow lorikeet");
  await page.getByRole("button", { name: "Save my feedback" }).click();
  assert.match(await page.locator(".flash").textContent(), /feedback is saved/);
  assert.match(await page.locator(".notice").textContent(), /You marked it wrong: it is Rainbow lorikeet/);

  await page.getByLabel("Shared at a blurred place, within about 20 km").check();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  assert.match(await page.locator(".flash").textContent(), /blurred place/);
  const entryUrl = page.url();

  // On the person's own map at the true place, and on the public map at the blurred one.
  await page.goto(session.server.url + "/history/map");
  await page.waitForSelector("path.map-marker");
  assert.match(await page.locator("#map-status").textContent(), /1 sighting on the map/);
  assert.match(await page.locator(".sighting-list").textContent(), /-33\.85678, 151\.21530/);
  await page.goto(session.server.url + "/map");
  await page.waitForSelector("path.map-marker-blurred");
  await page.locator("path.map-marker-blurred").click();
  assert.match(await page.locator(".leaflet-popup-content").textContent(), /blurred place/);
  assert.doesNotMatch(await page.content(), /-33\.85678|151\.2153/, "the true place is not on the public map");
  await page.goto(entryUrl);

  await page.getByLabel("Private: only I see it").check();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  assert.match(await page.locator(".flash").textContent(), /private/);

  await page.goto(session.server.url + "/history?wrong=1");
  assert.equal(await page.locator(".journal-entry").count(), 1);
  assert.match(await page.locator(".badge").textContent(), /Marked wrong/);
  await page.locator(".journal-entry a").click();
  await page.getByRole("button", { name: "Delete this identification" }).click();
  await page.waitForURL(session.server.url + "/history");
  assert.match(await page.locator(".flash").textContent(), /deleted/);
  assert.equal(await page.locator(".journal-entry").count(), 0);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${overflow} px wider than the screen`);
  assert.deepEqual(await problems(), []);
});

test("the server received no CSP violation report", async () => {
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(session.server.logs.filter((l) => l.includes("csp violation")), []);
});
