// The signed-in person's pages in a real browser, refused forms included: every refusal is
// shown at its field, tied to it, and given the focus; the pages a signed-in person meets
// (account, forms refused and accepted, another device's session, pages they may not see,
// two-factor set-up) all pass the harness's accessibility check.
import assert from "node:assert/strict";
import { test } from "node:test";
import { linkInMail, serverAndBrowser, watchedPage } from "../lib/harness.mjs";

const EMAIL = "warden.bea@example.org";
const PASSWORD = "heron thistle compass";

const session = serverAndBrowser();

/** Registers, confirms and signs in through the pages; returns the watched page. */
async function signedIn(contextOptions = {}) {
  const watched = await watchedPage(session.browser, contextOptions);
  await signIn(watched.page);
  return watched;
}

async function signIn(page) {
  await page.goto(session.server.url + "/auth/sign-in");
  await page.getByLabel("Email address").first().fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL((url) => url.pathname !== "/auth/sign-in");
}

/** Asserts that the field `id` shows an error matching `pattern`, is tied to it and has the focus. */
async function refusedAt(page, id, pattern) {
  assert.match(await page.locator(`#${id}-error`).textContent(), pattern);
  assert.equal(await page.getAttribute(`#${id}`, "aria-invalid"), "true");
  assert.match(await page.getAttribute(`#${id}`, "aria-describedby"), new RegExp(`\\b${id}-error\\b`));
  assert.equal(await page.evaluate(() => document.activeElement?.id), id, `#${id} has the focus`);
}

// Pages answered 4xx on purpose report it on the console; anything else is a problem.
const refusedOnPurpose = /^console: Failed to load resource: the server responded with a status of 4\d\d/;

test("registration and sign-in refusals are shown where they belong, with the focus", async () => {
  const { page, problems } = await watchedPage(session.browser);
  await page.goto(session.server.url + "/auth/register");
  await page.getByLabel("Email address").fill("not an address");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("I have read and accept the privacy notice.").check();
  await page.getByRole("button", { name: "Create account" }).click();
  await refusedAt(page, "email", /\S/);

  await page.getByLabel("Email address").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  assert.equal((await page.locator("h1").textContent()).trim(), "Check your inbox");
  await page.goto(await linkInMail(session.server, 1, "/auth/verify?token=", EMAIL));
  await page.getByRole("button", { name: "Confirm my address" }).click();
  await page.waitForLoadState();

  // A wrong password is about no single field: the message above the form takes the focus.
  await page.goto(session.server.url + "/auth/sign-in");
  await page.getByLabel("Email address").first().fill(EMAIL);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  const focused = await page.evaluate(() => ({
    role: document.activeElement?.getAttribute("role"),
    text: document.activeElement?.textContent,
  }));
  assert.equal(focused.role, "alert", "the form's message has the focus");
  assert.match(focused.text, /\S/);
  assert.deepEqual((await problems()).filter((p) => !refusedOnPurpose.test(p)), []);
});

test("the account page's forms: refused at the field, then accepted", async () => {
  const { page, problems } = await signedIn();
  await page.goto(session.server.url + "/account");
  assert.equal((await page.locator("h1").textContent()).trim(), "Your account");

  await page.locator("#display_name").fill("A".repeat(61));
  await page.getByRole("button", { name: "Save name" }).click();
  await refusedAt(page, "display_name", /\S/);
  assert.equal(await page.locator("#display_name").inputValue(), "A".repeat(61), "what was typed is kept");
  await page.locator("#display_name").fill("Bea of the Marsh");
  await page.getByRole("button", { name: "Save name" }).click();
  await page.waitForLoadState();
  assert.ok((await page.locator("dl.facts").textContent()).includes("Bea of the Marsh"));

  await page.locator("#new_password").fill("short");
  await page.getByRole("button", { name: "Save password" }).click();
  await refusedAt(page, "new_password", /characters/);

  await page.locator("#new_email").fill("nowhere");
  await page.getByRole("button", { name: "Send confirmation link" }).click();
  await refusedAt(page, "new_email", /\S/);
  await page.locator("#new_email").fill("bea.new@example.org");
  await page.getByRole("button", { name: "Send confirmation link" }).click();
  await page.waitForLoadState();
  assert.ok(await page.locator(".flash").first().isVisible(), "the request is confirmed");

  // Two-factor set-up: a wrong code is refused at the code field.
  await page.getByRole("link", { name: "Set up two-factor authentication" }).click();
  await page.getByLabel("Code from the app").fill("000000");
  await page.getByRole("button", { name: "Turn on" }).click();
  await refusedAt(page, "code", /\S/);
  assert.deepEqual((await problems()).filter((p) => !refusedOnPurpose.test(p)), []);
});

test("another device's session is listed and can be signed out", async () => {
  const phone = await signedIn({ viewport: { width: 390, height: 844 }, colorScheme: "dark" });
  const desk = await signedIn();
  await desk.page.goto(session.server.url + "/account");
  const others = desk.page.locator("table.sessions tbody tr").filter({ hasNot: desk.page.getByText("(this one)") });
  const before = await others.count();
  assert.ok(before >= 1, "the phone's session is listed");
  await others.first().getByRole("button", { name: "Sign out" }).click();
  await desk.page.waitForLoadState();
  assert.equal(await others.count(), before - 1);
  assert.deepEqual(await desk.problems(), []);
  assert.deepEqual(await phone.problems(), []);
});

test("pages a member may not see, and missing pages, keep the signed-in layout", async () => {
  const { page, problems } = await signedIn();
  const forbidden = await page.goto(session.server.url + "/admin");
  assert.equal(forbidden.status(), 403);
  assert.ok(await page.getByRole("button", { name: "Sign out", exact: true }).isVisible());
  assert.equal(await page.getByRole("link", { name: "Sign in" }).count(), 0);
  const missing = await page.goto(session.server.url + "/no/such/page");
  assert.equal(missing.status(), 404);
  assert.ok(await page.getByRole("button", { name: "Sign out", exact: true }).isVisible());
  assert.deepEqual((await problems()).filter((p) => !refusedOnPurpose.test(p)), []);
});

test("the server received no CSP violation report", async () => {
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(session.server.logs.filter((l) => l.includes("csp violation")), []);
});
