// Accounts made through the pages, for the tests of one file: registered and confirmed through
// the mail in the outbox, signed in with the password, and staff given their role from the shell
// and their second factor on /account/totp (as staff pages require).
import assert from "node:assert/strict";
import { linkInMail, runCli } from "./harness.mjs";
import { currentStep, totp } from "./totp.mjs";

export const PASSWORD = "heron estuary compass";

/**
 * `register`, `signIn` and `staff` against `session.server` (from `serverAndBrowser`). The
 * outbox is counted from an empty one: only these registrations may send mail before them.
 */
export function accountsOn(session) {
  let mails = 0;

  /** Registers `email`, confirms it with the link from the outbox and signs in with the password. */
  async function register(page, email) {
    await page.goto(session.server.url + "/auth/register");
    await page.getByLabel("Email address").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByLabel("I have read and accept the privacy notice.").check();
    await page.getByRole("button", { name: "Create account" }).click();
    mails += 1;
    await page.goto(await linkInMail(session.server, mails, "/auth/verify?token=", email));
    await page.getByRole("button", { name: "Confirm my address" }).click();
    await page.waitForLoadState();
    await signIn(page, email);
  }

  async function signIn(page, email) {
    await page.goto(session.server.url + "/auth/sign-in");
    await page.getByLabel("Email address").first().fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL((url) => url.pathname !== "/auth/sign-in");
  }

  /** `email` registered, given `role` from the shell, signed in again, with two-factor sign-in. */
  async function staff(page, email, role) {
    await register(page, email);
    const appointed = runCli(session.server, ["users", "set-role", email, role]);
    assert.equal(appointed.status, 0, appointed.output);
    await signIn(page, email);
    await page.goto(session.server.url + "/account/totp");
    const secret = (await page.locator("#totp-secret").textContent()).trim();
    await page.getByLabel("Code from the app").fill(totp(secret, currentStep()));
    await page.getByRole("button", { name: "Turn on" }).click();
    await page.getByRole("heading", { name: "Your recovery codes" }).waitFor();
  }

  return { register, signIn, staff };
}
