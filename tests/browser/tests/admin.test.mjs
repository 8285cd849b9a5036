// The admin console in a real browser: an admin finds an account by address, reads the audit
// log filtered by action (newest first, people named by their address), is told plainly when a
// filter cannot be read, and checks the whole chain. Every page passes the harness's
// accessibility check, and nothing violates the policy or logs an error.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { accountsOn } from "../lib/accounts.mjs";
import { serverAndBrowser, watchedPage } from "../lib/harness.mjs";

const session = serverAndBrowser();
const { register, staff } = accountsOn(session);

// The admin console's reading side: an account found by address, the audit log filtered by action, and the chain checked; at a
// phone's width (the tables become cards) and a desktop's. With WILDID_SCREENSHOTS set to a
// directory, each state is saved there, light and dark, to be looked at.
test("an admin finds an account and reads and checks the audit log", async () => {
  const shots = process.env.WILDID_SCREENSHOTS;
  const admin = await watchedPage(session.browser, { viewport: { width: 390, height: 844 } });
  await staff(admin.page, "auditor.ana@example.org", "admin");
  const visitor = await watchedPage(session.browser);
  await register(visitor.page, "walker.mei@example.org");
  assert.deepEqual(await visitor.problems(), []);
  const shoot = async (name) => {
    if (!shots) return;
    for (const colorScheme of ["light", "dark"]) {
      await admin.page.emulateMedia({ colorScheme });
      for (const width of [390, 1280]) {
        await admin.page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
        await admin.page.screenshot({ path: join(shots, `${name}-${colorScheme}-${width}.png`), fullPage: true });
      }
    }
    await admin.page.emulateMedia({ colorScheme: "light" });
    await admin.page.setViewportSize({ width: 390, height: 844 });
  };

  await admin.page.goto(session.server.url + "/admin");
  await admin.page.getByLabel("Find by address").fill("Walker.Mei@example.org");
  await admin.page.getByRole("button", { name: "Find" }).click();
  const found = admin.page.locator("table.admin-users tbody tr");
  assert.equal(await found.count(), 1);
  assert.match(await found.textContent(), /walker\.mei@example\.org/);
  await shoot("admin-find");

  await admin.page.getByRole("link", { name: /Audit log/ }).click();
  await admin.page.getByLabel("What").selectOption("auth.email.verified");
  await admin.page.getByRole("button", { name: "Show" }).click();
  const entries = admin.page.locator("table.admin-audit tbody tr");
  assert.equal(await entries.count(), 2, "both confirmations are in the log");
  const texts = await entries.allTextContents();
  assert.ok(texts.every((t) => t.includes("auth.email.verified")), texts.join("|"));
  assert.match(texts[0], /walker\.mei@example\.org/, "newest first, under the person's address");
  await shoot("admin-audit");

  await admin.page.getByLabel("From (UTC)").fill("2026-05-02");
  await admin.page.getByLabel("Until (UTC)").fill("2026-05-01");
  await admin.page.getByRole("button", { name: "Show" }).click();
  assert.match(await admin.page.locator("#filter-problem").textContent(), /Until must be the same day as From or later/);
  await admin.page.goto(session.server.url + "/admin/audit");
  await admin.page.getByRole("button", { name: "Check the whole chain now" }).click();
  assert.match(await admin.page.locator(".flash").textContent(), /The chain is intact/);
  await shoot("admin-audit-checked");
  // The refused filter answered 400 on purpose; anything else is a problem.
  const refusedOnPurpose = /^console: Failed to load resource: the server responded with a status of 400/;
  assert.deepEqual((await admin.problems()).filter((p) => !refusedOnPurpose.test(p)), []);
});
