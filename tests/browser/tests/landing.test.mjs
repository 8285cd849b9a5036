// The landing page in a real browser: renders, runs only nonce-carrying inline script, violates
// no CSP directive, logs no console error, works by keyboard and on a phone-sized screen.
import assert from "node:assert/strict";
import { test } from "node:test";
import { serverAndBrowser, watchedPage } from "../lib/harness.mjs";

const session = serverAndBrowser();

test("the landing page renders with no console error and no CSP violation", async () => {
  const { page, problems } = await watchedPage(session.browser);
  const response = await page.goto(session.server.url + "/");
  assert.equal(response.status(), 200);
  assert.match(await page.title(), /WildID/);
  assert.equal(await page.locator("h1").textContent(), "Which animal is that?");
  assert.ok(await page.getByRole("link", { name: "Identify an animal" }).isVisible());
  assert.ok(await page.getByRole("link", { name: "Sign in" }).first().isVisible());
  assert.equal(await page.getAttribute("html", "class"), "js", "the nonce-carrying inline script ran");
  const stylesheet = await page.evaluate(() => getComputedStyle(document.body).display);
  assert.equal(stylesheet, "flex", "the app's own stylesheet loaded");
  assert.deepEqual(await problems(), []);
});

test("the page is usable by keyboard: the first Tab reaches the skip link", async () => {
  const { page, problems } = await watchedPage(session.browser);
  await page.goto(session.server.url + "/");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "main");
  assert.deepEqual(await problems(), []);
});

test("the page fits a phone screen without sideways scrolling", async () => {
  const { page, problems } = await watchedPage(session.browser, { viewport: { width: 360, height: 740 }, isMobile: true });
  await page.goto(session.server.url + "/");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  const button = await page.getByRole("link", { name: "Identify an animal" }).boundingBox();
  assert.ok(button.height >= 44, "touch targets are at least 44px high");
  assert.deepEqual(await problems(), []);
});

test("the tab shows WildID's icon, and nothing moves for a person who asked for less motion", async () => {
  const { page, problems } = await watchedPage(session.browser, { reducedMotion: "reduce" });
  await page.goto(session.server.url + "/");
  const icon = await page.getAttribute('link[rel="icon"]', "href");
  const response = await page.request.get(new URL(icon, session.server.url).href);
  assert.equal(response.status(), 200);
  assert.match(response.headers()["content-type"], /^image\/svg\+xml/);
  const motion = await page.evaluate(() => {
    const rules = [...document.styleSheets].flatMap((sheet) => [...sheet.cssRules]);
    const reduce = rules.some((rule) => rule instanceof CSSMediaRule && rule.conditionText.includes("prefers-reduced-motion: reduce"));
    const moving = [...document.querySelectorAll("*")].filter((el) => {
      const style = getComputedStyle(el);
      return style.animationName !== "none" || style.transitionDuration.split(",").some((d) => parseFloat(d) > 0);
    });
    return { reduce, moving: moving.map((el) => el.tagName) };
  });
  assert.ok(motion.reduce, "the stylesheet has a prefers-reduced-motion rule");
  assert.deepEqual(motion.moving, [], "elements that still move");
  assert.deepEqual(await problems(), []);
});

test("error pages share the layout and the policy", async () => {
  const { page, problems } = await watchedPage(session.browser);
  const response = await page.goto(session.server.url + "/no/such/page");
  assert.equal(response.status(), 404);
  assert.equal(await page.locator("h1").textContent(), "There is nothing at this address.");
  assert.ok(await page.getByRole("navigation", { name: "Main" }).isVisible());
  const reference = response.headers()["x-request-id"];
  assert.ok((await page.locator("code").textContent()) === reference);
  // 404 is expected here; anything else on the console is not.
  assert.deepEqual((await problems()).filter((p) => !p.includes("404")), []);
});

test("every public page renders under the policy with no console error", async () => {
  const { page, problems } = await watchedPage(session.browser);
  const pages = [
    ["/identify", "Identify an animal"],
    ["/auth/sign-in", "Sign in"],
    ["/auth/register", "Create an account"],
    ["/auth/resend", "Send the confirmation link again"],
    ["/privacy", "Privacy notice"],
    ["/security/check?next=%2F", "A quick check"],
  ];
  for (const [path, heading] of pages) {
    const response = await page.goto(session.server.url + path);
    assert.equal(response.status(), 200, path);
    if (heading) assert.equal(await page.locator("h1").textContent(), heading, path);
    assert.equal(await page.getAttribute("html", "class"), "js", `${path}: the inline script ran`);
  }
  // On its defaults the server identifies with the offline model: the page offers the form.
  await page.goto(session.server.url + "/identify");
  assert.ok(await page.getByLabel("Photo").isVisible());
  assert.equal(await page.getByText("not available on this server").count(), 0);
  assert.deepEqual(await problems(), []);
});

test("the server received no CSP violation report", async () => {
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(session.server.logs.filter((l) => l.includes("csp violation")), []);
});
