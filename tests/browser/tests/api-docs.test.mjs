// The interactive API reference at /api/docs: Swagger UI, served by WildID itself, renders the
// server's own OpenAPI document with no CSP violation, and "Try it out" works as the signed-in
// person, the anti-forgery token added by the page.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { test } from "node:test";
import { serverAndBrowser, watchedPage } from "../lib/harness.mjs";
import { accountsOn } from "../lib/accounts.mjs";

const session = serverAndBrowser();
const shots = process.env.WILDID_SCREENSHOTS;

test("the API reference renders every operation from the server's document, with nothing from elsewhere", async () => {
  const modes = [
    { viewport: { width: 390, height: 844 }, colorScheme: "light" },
    { viewport: { width: 1280, height: 900 }, colorScheme: "light" },
    { viewport: { width: 390, height: 844 }, colorScheme: "dark" },
  ];
  for (const { viewport, colorScheme } of modes) {
    const { page, problems } = await watchedPage(session.browser, { viewport, colorScheme });
    const elsewhere = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(session.server.url)) elsewhere.push(request.url());
    });
    const response = await page.goto(session.server.url + "/api/docs");
    assert.equal(response.status(), 200);
    await page.locator(".opblock").first().waitFor();
    const operations = await page.locator(".opblock").count();
    const documented = await (await page.request.get(session.server.url + "/api/openapi.json")).json();
    const expected = Object.values(documented.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    assert.equal(operations, expected, "one block per documented operation");
    assert.equal(await page.locator("h1").first().textContent(), "API reference");
    assert.deepEqual(elsewhere, [], "no request to another origin");
    // Swagger UI has no dark theme: its panel stays light, so its dark text keeps its contrast.
    const panel = await page.evaluate(() => getComputedStyle(document.getElementById("swagger-ui")).backgroundColor);
    assert.equal(panel, "rgb(255, 255, 255)", colorScheme);
    if (shots) {
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: `${shots}/api-docs-${colorScheme}-${viewport.width}.png`, fullPage: false });
    }
    assert.deepEqual(await problems(), []);
  }
});

test("Try it out acts as the signed-in person, with the anti-forgery token added", async () => {
  const { page, problems } = await watchedPage(session.browser);
  const people = accountsOn(session);
  await people.register(page, "reader@example.org");
  await page.goto(session.server.url + "/api/docs");
  const block = page.locator("#operations-account-set_display_name");
  await block.locator(".opblock-summary").click();
  await block.getByRole("button", { name: "Try it out" }).click();
  await block.locator("textarea.body-param__text").fill(JSON.stringify({ display_name: "Reed Warbler" }));
  const answered = page.waitForResponse((r) => r.url().endsWith("/api/account/display-name"));
  await block.getByRole("button", { name: "Execute" }).click();
  const answer = await answered;
  assert.equal(answer.status(), 200, await answer.text());
  // Asked by the page itself (the session is bound to this browser's own headers).
  const me = await page.evaluate(() => fetch("/api/auth/me").then((r) => r.json()));
  assert.equal(me.user.display_name, "Reed Warbler");
  assert.deepEqual(await problems(), []);
});
