// Field visits in a real browser, through the pages only: an admin adds a site and a kind of
// visit, a visitor in Sydney books a place for the next quarter hour in their own time zone and
// is shown a visit token (text and QR code), a worker claims the booking, checks the visitor in
// with the token read from the visitor's QR code by the worker page's camera scanner (a typed
// wrong one is refused) and completes the visit, then reports an exposure at the
// site; the visitor finds the visit done and the notification (with its badge), and reads it. Staff set up two-factor sign-in first, as staff pages require. Every page
// passes the harness's accessibility check, and nothing violates the policy or logs an error.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { accountsOn } from "../lib/accounts.mjs";
import { filmOf, launchBrowser, serverAndBrowser, watchedPage } from "../lib/harness.mjs";

const session = serverAndBrowser();
const { register, staff } = accountsOn(session);

test("an admin opens a site, a visitor books, a worker runs the visit", async () => {
  const admin = await watchedPage(session.browser, { viewport: { width: 1280, height: 900 } });
  await staff(admin.page, "chief.warden@example.org", "admin");
  await admin.page.goto(session.server.url + "/admin/visits");
  const addSite = admin.page.locator("form[action='/admin/visits/sites']");
  await addSite.getByLabel("Name").fill("Mangrove Marsh");
  await addSite.getByLabel("What visitors should know").fill("Boardwalk from the car park. Bring binoculars.");
  await addSite.getByLabel("South").fill("-33.9");
  await addSite.getByLabel("West").fill("151.1");
  await addSite.getByLabel("North").fill("-33.8");
  await addSite.getByLabel("East").fill("151.3");
  await addSite.getByRole("button", { name: "Add the site" }).click();
  assert.match(await admin.page.locator(".flash").textContent(), /Saved the site Mangrove Marsh/);
  const addService = admin.page.locator("form[action='/admin/visits/services']");
  await addService.getByLabel("Name").fill("Dawn chorus walk");
  const length = addService.getByLabel("Length in minutes (quarter hours)");
  await length.fill("20");
  assert.ok(await length.evaluate((field) => field.validity.stepMismatch), "the browser asks for quarter hours");
  await length.fill("90");
  await addService.getByLabel("Places per visit").fill("8");
  await addService.getByRole("button", { name: "Add the kind of visit" }).click();
  assert.match(await admin.page.locator(".flash").textContent(), /Saved the visit Dawn chorus walk/);
  assert.deepEqual(await admin.problems(), []);

  // A visitor in Sydney books the next quarter hour, in Sydney time.
  const visitor = await watchedPage(session.browser, {
    viewport: { width: 390, height: 844 },
    timezoneId: "Australia/Sydney",
  });
  await register(visitor.page, "walker.mei@example.org");
  await visitor.page.getByRole("link", { name: "Visits" }).click();
  assert.match(await visitor.page.locator(".cards").first().textContent(), /Mangrove Marsh/);
  const start = await visitor.page.evaluate(() => {
    const d = new Date(Math.ceil((Date.now() + 60_000) / 900_000) * 900_000);
    const pad = (n) => String(n).padStart(2, "0");
    const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    return { local, utc: d.toISOString() };
  });
  await visitor.page.getByLabel("Date and start time").fill(start.local);
  await visitor.page.getByLabel("Anything your guide should know (optional)").fill("I walk with a stick.");
  await visitor.page.getByRole("button", { name: "Book my place" }).click();
  await visitor.page.waitForURL(session.server.url + "/visits/mine");
  assert.match(await visitor.page.locator(".flash").textContent(), /Booked for/);
  const booked = visitor.page.locator(".booking");
  assert.equal(await booked.count(), 1);
  const when = await booked.locator("time").getAttribute("datetime");
  assert.equal(new Date(when).toISOString(), start.utc, "the local time was read in the visitor's zone");
  assert.match(await booked.textContent(), /Waiting for a guide/);
  const token = (await booked.locator("code.token").textContent()).trim();
  assert.match(token, /^([0-9a-f]{4} ){7}[0-9a-f]{4}$/, "the token is shown in groups of four");
  const qr = await booked.locator("img.qr").evaluate((img) => img.complete && img.naturalWidth > 0);
  assert.ok(qr, "the token's QR code renders");
  // What the worker's camera will film: the visitor's phone showing this code.
  const film = join(mkdtempSync(join(tmpdir(), "wildid-camera-")), "code.y4m");
  await filmOf(booked.locator("img.qr"), film);

  // The same place again is refused at the form, with the reason.
  await visitor.page.goto(session.server.url + "/visits");
  await visitor.page.getByLabel("Date and start time").fill(start.local);
  await visitor.page.getByRole("button", { name: "Book my place" }).click();
  assert.match(await visitor.page.locator("#book-error").textContent(), /already booked/);

  // A worker claims it, checks the visitor in by scanning the visitor's code with the camera
  // (a browser whose camera films that code), and completes the visit.
  const cameraBrowser = await launchBrowser({ camera: film });
  after(() => cameraBrowser.close());
  const worker = await watchedPage(cameraBrowser, { viewport: { width: 390, height: 844 } });
  await staff(worker.page, "ranger.tomas@example.org", "worker");
  await worker.page.goto(session.server.url + "/worker");
  assert.equal(await worker.page.title(), "Your visits · Worker · WildID");
  assert.match(await worker.page.locator(".booking").textContent(), /I walk with a stick/);
  await worker.page.getByRole("button", { name: /^Claim/ }).click();
  assert.match(await worker.page.locator(".flash").textContent(), /You run this visit/);
  await worker.page.getByLabel("The visitor's token").fill("0000 0000 0000 0000 0000 0000 0000 0000");
  await worker.page.getByRole("button", { name: /^Check the visitor in/ }).click();
  assert.match(await worker.page.locator(".flash").textContent(), /not the token of this visit/);
  await worker.page.getByLabel("The visitor's token").fill("");
  await worker.page.getByRole("button", { name: "Scan the visitor's code" }).click();
  await worker.page.getByText("Code read.").waitFor();
  assert.equal(await worker.page.getByLabel("The visitor's token").inputValue(), token.replaceAll(" ", ""));
  assert.ok(await worker.page.getByRole("button", { name: /^Check the visitor in/ }).evaluate((b) => b === document.activeElement),
    "the check-in button waits, focused, for the worker to confirm");
  assert.equal(await worker.page.locator(".scan-panel video").isVisible(), false, "the camera stops once the code is read");
  await worker.page.getByRole("button", { name: /^Check the visitor in/ }).click();
  assert.match(await worker.page.locator(".flash").textContent(), /checked in/);
  await worker.page.getByRole("button", { name: /^Complete the visit/ }).click();
  assert.match(await worker.page.locator(".flash").textContent(), /completed/);

  // The worker reports an exposure at the site for the last hour: the visitor is told.
  const window = await worker.page.evaluate(() => {
    const pad = (n) => String(n).padStart(2, "0");
    const local = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    // "Until now", to the next whole minute (the server allows a few minutes for that).
    return { from: local(new Date(Date.now() - 3_600_000)), to: local(new Date(Date.now() + 60_000)) };
  });
  await worker.page.getByLabel("Site", { exact: true }).last().selectOption({ label: "Mangrove Marsh" });
  await worker.page.getByLabel("From").fill(window.from);
  await worker.page.getByLabel("Until (not later than now)").fill(window.to);
  await worker.page.getByLabel("What was found, and what people should do").fill("Avian influenza confirmed in a dead gull by the boardwalk.");
  await worker.page.getByRole("button", { name: "Report and tell the visitors" }).click();
  assert.match(await worker.page.locator(".flash").textContent(), /1 person was told/);
  assert.deepEqual(await worker.problems(), []);

  await visitor.page.goto(session.server.url + "/notifications");
  assert.match(await visitor.page.locator(".nav-badge").textContent(), /1/);
  assert.match(await visitor.page.locator(".notification").textContent(), /Mangrove Marsh.*Avian influenza/s);
  await visitor.page.getByRole("button", { name: /^Mark as read/ }).click();
  assert.equal(await visitor.page.locator(".nav-badge").count(), 0, "no badge once read");

  await visitor.page.goto(session.server.url + "/visits/mine");
  assert.match(await visitor.page.locator(".sighting-list").textContent(), /Dawn chorus walk at Mangrove Marsh.*Done/s);
  // The second booking's form was answered 409 on purpose; anything else is a problem.
  const refusedOnPurpose = /^console: Failed to load resource: the server responded with a status of 409/;
  assert.deepEqual((await visitor.problems()).filter((p) => !refusedOnPurpose.test(p)), []);
});

