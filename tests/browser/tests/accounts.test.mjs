// Accounts in a real browser, through the pages only: register, confirm the address with the
// link from the outbox, sign in with the password, turn on two-factor authentication (codes
// computed here from the secret the page shows, as an authenticator app would), sign out, sign
// in with password and code, sign out, and sign in with a link from the outbox (the account
// has a second factor, so the link page asks for it: a recovery code is used). No page may log
// a console error or violate the CSP on the way.
import assert from "node:assert/strict";
import { test } from "node:test";
import { linkInMail as sharedLinkInMail, runCli, serverAndBrowser, watchedPage } from "../lib/harness.mjs";
import { currentStep, totp } from "../lib/totp.mjs";

const EMAIL = "ranger.ada@example.org";
const PASSWORD = "otter gravel lantern";

const session = serverAndBrowser();

/** Waits for message number `count` (1-based) and returns the link in it that contains `path`. */
const linkInMail = (count, path) => sharedLinkInMail(session.server, count, path, EMAIL);


test("RFC 6238 test vector: the code helper is right", () => {
  // Secret "12345678901234567890" in base32; T = 59 s (step 1) gives 94287082 (8 digits).
  assert.equal(totp("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1), "287082");
});

test("register, confirm, password, two factors, and a sign-in link", async () => {
  const { page, problems } = await watchedPage(session.browser);
  const expectPage = async (heading) => {
    assert.equal((await page.locator("h1").textContent()).trim(), heading);
  };
  const signOut = async () => {
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForLoadState();
    assert.equal(await page.getByRole("button", { name: "Sign out", exact: true }).count(), 0, "signed out");
  };

  // Register: the form refuses a weak password with a message at the field, then accepts.
  await page.goto(session.server.url + "/auth/register");
  await page.getByLabel("Email address").fill(EMAIL);
  await page.getByLabel("Password").fill("short");
  await page.getByLabel("I have read and accept the privacy notice.").check();
  await page.getByRole("button", { name: "Create account" }).click();
  assert.match(await page.locator("#password-error").textContent(), /characters/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), "password", "the refused field has the focus");
  assert.match(await page.getAttribute("#password", "aria-describedby"), /\bpassword-error\b/);
  // What was chosen stays: the address, and the ticked privacy box.
  assert.equal(await page.getByLabel("Email address").inputValue(), EMAIL);
  assert.ok(await page.getByLabel("I have read and accept the privacy notice.").isChecked(), "the privacy box stays ticked");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expectPage("Check your inbox");

  // Confirm with the link from the outbox: opening it only shows a button.
  const verify = await linkInMail(1, "/auth/verify?token=");
  await page.goto(verify);
  await page.getByRole("button", { name: "Confirm my address" }).click();
  await page.waitForLoadState();

  // Password sign-in.
  await page.goto(session.server.url + "/auth/sign-in");
  await page.getByLabel("Email address").first().fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForLoadState();
  await page.goto(session.server.url + "/account");
  await expectPage("Your account");
  assert.ok((await page.locator("dl.facts").textContent()).includes(EMAIL));

  // Two-factor authentication: a wrong code is refused, the right one turns it on.
  await page.getByRole("link", { name: "Set up two-factor authentication" }).click();
  await expectPage("Set up two-factor authentication");
  const qr = await page.locator("img.qr").evaluate((img) => img.complete && img.naturalWidth > 0);
  assert.ok(qr, "the QR code renders");
  const secret = (await page.locator("#totp-secret").textContent()).trim();
  await page.getByLabel("Code from the app").fill("000000");
  await page.getByRole("button", { name: "Turn on" }).click();
  assert.match(await page.locator("#code-error").textContent(), /\S/, "a wrong code is explained at its field");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "code", "the code field has the focus");
  const enrolStep = currentStep();
  await page.getByLabel("Code from the app").fill(totp(secret, enrolStep));
  await page.getByRole("button", { name: "Turn on" }).click();
  await expectPage("Your recovery codes");
  const recoveryCodes = await page.locator("ul.codes code").allTextContents();
  assert.equal(recoveryCodes.length, 10);
  await signOut();

  // Password plus code: the form asks for the code, then signs in. The code is of the next
  // step (accepted within the ±1 window), since a step once used is never accepted again.
  await page.goto(session.server.url + "/auth/sign-in");
  await page.getByLabel("Email address").first().fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  const codeField = page.getByLabel("Code from your authenticator app");
  await codeField.waitFor();
  await page.getByLabel("Password").fill(PASSWORD);
  await codeField.fill(totp(secret, Math.max(enrolStep, currentStep()) + 1));
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForLoadState();
  await page.goto(session.server.url + "/account");
  await expectPage("Your account");
  assert.match(await page.locator("#tfa-title + p").textContent(), /^On\./);
  await signOut();

  // A sign-in link: asked for on the sign-in page, opened from the outbox; the account has a
  // second factor, so the page asks for it; a recovery code stands in for the app.
  await page.goto(session.server.url + "/auth/sign-in");
  await page.locator("#link_email").fill(EMAIL);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.waitForLoadState();
  const magic = await linkInMail(2, "/auth/magic?token=");
  await page.goto(magic);
  await expectPage("Sign in");
  await page.getByLabel("Code from your authenticator app").fill(recoveryCodes[0]);
  await page.getByRole("button", { name: "Sign in" }).last().click();
  await page.waitForLoadState();
  await page.goto(session.server.url + "/account");
  await expectPage("Your account");
  assert.ok(await page.getByRole("button", { name: "Sign out", exact: true }).isVisible());

  // The other pages of a signed-in person render under the policy too.
  await page.goto(session.server.url + "/auth/reauth?next=%2Faccount");
  await expectPage("Confirm it is you");
  await page.goto(session.server.url + "/account/email/confirm?token=from-a-mail");
  await expectPage("Confirm your new address");

  // The used link is dead.
  await signOut();
  await page.goto(magic);
  const field = page.getByLabel("Code from your authenticator app");
  if ((await field.count()) > 0) {
    await field.fill(recoveryCodes[1]);
    await page.getByRole("button", { name: "Sign in" }).last().click();
    await page.waitForLoadState();
  }
  assert.match(await page.locator("main").textContent(), /invalid|expired|already used/i);

  // Appointed admin from the command line (which ends the person's sessions), they sign in
  // again with the password and a recovery code, and reach the administration page.
  const appointed = runCli(session.server, ["users", "set-role", EMAIL, "admin"]);
  assert.equal(appointed.status, 0, appointed.output);
  await page.goto(session.server.url + "/auth/sign-in");
  await page.getByLabel("Email address").first().fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByLabel("Code from your authenticator app").waitFor();
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Code from your authenticator app").fill(recoveryCodes[2]);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForLoadState();
  await page.getByRole("link", { name: "Admin" }).click();
  await expectPage("Accounts");
  assert.ok((await page.locator("main").textContent()).includes(EMAIL), "the admin sees the account");

  // Forms refused on purpose above answer 4xx pages, which Chromium reports on the console;
  // anything else is a problem.
  const refusedForm = /^console: Failed to load resource: the server responded with a status of 4\d\d/;
  assert.deepEqual((await problems()).filter((p) => !refusedForm.test(p)), []);
});

test("the server received no CSP violation report", () => {
  assert.deepEqual(
    session.server.logs.filter((l) => l.includes("csp violation")),
    [],
  );
});
