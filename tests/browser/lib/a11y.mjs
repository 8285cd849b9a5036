// The accessibility check of the browser test harness: every page a test's browser loads is
// kept as it stood once loaded (its DOM, after its own script ran), and each kept page is then
// checked with axe-core against the WCAG 2.2 A and AA rules in four modes (light and dark colour
// schemes, at a phone's 390 px and a desktop's 1280 px), and once more with text at 200 % (the
// browser's default font size doubled, WCAG 1.4.4). In every mode, content must not be lost:
// no sideways scrolling (WCAG 1.4.10 asks for none from 320 px) and no text cut off by a box
// that hides its overflow.
//
// In two of the modes the page is also walked with the Tab key: every link, button and field
// must be reached (WCAG 2.1.1), show a visible focus outline (2.4.7) and not be hidden by
// anything else on the page when focused (2.4.11).
//
// The check never disturbs the test that visited the page: it runs in contexts of its own, on a
// copy of the page served in place of the real one (the server is not asked again, so a page
// that was the answer to a form, or a one-time link, is checked as the person saw it). Only the
// page's stylesheets and images are fetched from the server. The copy's scripts are left out:
// what they did is already in the DOM.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** axe-core's tags for the success criteria of WCAG 2.0, 2.1 and 2.2 at levels A and AA. */
export const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/** The modes every page is checked in. */
export const MODES = [
  { name: "light, 390 px", viewport: { width: 390, height: 844 }, colorScheme: "light" },
  { name: "dark, 390 px", viewport: { width: 390, height: 844 }, colorScheme: "dark", keyboard: true },
  { name: "light, 1280 px", viewport: { width: 1280, height: 900 }, colorScheme: "light", keyboard: true },
  { name: "dark, 1280 px", viewport: { width: 1280, height: 900 }, colorScheme: "dark" },
  { name: "text at 200 %, 1280 px", viewport: { width: 1280, height: 900 }, colorScheme: "light", textAt200: true },
  // WCAG 1.4.10: content reflows at 320 px with no sideways scrolling (lost content only).
  { name: "light, 320 px", viewport: { width: 320, height: 700 }, colorScheme: "light", lostOnly: true },
];

/** How many page states were checked, in every mode, by this test process. */
export const stats = { pages: 0, runs: 0 };

/**
 * Keeps every page `page` (the only page of `context`) loads, for `Auditor.check`. The page
 * hands its own DOM over at its `load` event, so a test that moves on at once cannot take the
 * page away before it is kept. With scripts off, the DOM is read from outside instead.
 * @param {import("playwright-core").BrowserContext} context
 * @param {import("playwright-core").Page} page
 * @param {boolean} scripts whether the context runs scripts
 * @returns {Promise<Promise<{ url: string, html?: string, error?: string }>[]>} the pages kept
 *   so far (a live list)
 */
export async function keepLoadedPages(context, page, scripts) {
  const kept = [];
  if (!scripts) {
    page.on("load", () => {
      const url = page.url();
      if (!/^https?:/.test(url)) return;
      kept.push(
        page.content().then(
          (html) => ({ url, html }),
          (error) => ({ url, error: String(error?.message ?? error).split("\n")[0] }),
        ),
      );
    });
    return kept;
  }
  await context.exposeBinding("__wildidKeepPage", ({ frame }, url, html) => {
    if (frame === page.mainFrame() && /^https?:/.test(url)) kept.push(Promise.resolve({ url, html }));
  });
  await context.addInitScript(() => {
    if (window !== window.top) return;
    window.addEventListener("load", () => {
      const doctype = document.doctype ? "<!doctype html>" : "";
      window.__wildidKeepPage(location.href, doctype + document.documentElement.outerHTML);
    });
  });
  return kept;
}

const auditors = new WeakMap();

/** The auditor of `browser`: one set of checking contexts per browser. */
export function auditorOf(browser) {
  let auditor = auditors.get(browser);
  if (!auditor) {
    auditor = new Auditor(browser);
    auditors.set(browser, auditor);
  }
  return auditor;
}

class Auditor {
  /** @param {import("playwright-core").Browser} browser */
  constructor(browser) {
    this.browser = browser;
    /** Findings by page copy, so a page seen twice the same way is checked once. */
    this.findings = new Map();
    this.checkers = null;
    this.queue = Promise.resolve();
  }

  /**
   * Checks the kept pages (their promises, as `keepLoadedPages` lists them) and returns one line
   * per finding, naming the page, the mode, the rule and the element.
   */
  check(keptPages) {
    // One check at a time: the checking pages are shared.
    const run = this.queue.then(() => this.#check(keptPages));
    this.queue = run.catch(() => {});
    return run;
  }

  async #check(keptPages) {
    const lines = [];
    for (const kept of await Promise.all(keptPages)) {
      const path = new URL(kept.url).pathname;
      if (kept.error !== undefined) {
        lines.push(`a11y: ${path}: the page could not be read to be checked (${kept.error})`);
        continue;
      }
      const key = path + "\n" + sameness(kept.html);
      if (!this.findings.has(key)) {
        this.findings.set(key, await this.#checkPage(kept.url, kept.html));
        stats.pages += 1;
      }
      lines.push(...this.findings.get(key).map((finding) => `a11y: ${path} ${finding}`));
    }
    return lines;
  }

  async #checkPage(url, html) {
    const copy = html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, "");
    const findings = [];
    for (const checker of await this.#checkers()) {
      checker.copy = copy;
      await checker.page.goto(url, { waitUntil: "load" });
      stats.runs += 1;
      const mode = `[${checker.mode.name}]`;
      if (checker.mode.textAt200) {
        await checker.page.addStyleTag({ content: "html { font-size: 200%; }" });
      }
      const lost = await checker.page.evaluate(lostContent);
      findings.push(...lost.map((line) => `${mode} ${line}`));
      if (checker.mode.textAt200 || checker.mode.lostOnly) continue;
      if (checker.mode.keyboard) {
        const walked = await walkWithTab(checker.page);
        findings.push(...walked.map((line) => `${mode} ${line}`));
        await checker.page.goto(url, { waitUntil: "load" });
      }
      await checker.page.evaluate(axeSource);
      const violations = await checker.page.evaluate(runAxe, WCAG_TAGS);
      for (const v of violations) {
        for (const node of v.nodes) {
          findings.push(`${mode} ${v.id}: ${v.help}: ${node.target} :: ${node.summary}`);
        }
      }
    }
    return findings;
  }

  async #checkers() {
    if (!this.checkers) {
      this.checkers = Promise.all(
        MODES.map(async (mode) => {
          const context = await this.browser.newContext({ viewport: mode.viewport, colorScheme: mode.colorScheme });
          const page = await context.newPage();
          const checker = { mode, page, copy: "" };
          await page.route("**/*", (route) => {
            const request = route.request();
            if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
              return route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: checker.copy });
            }
            return route.continue();
          });
          return checker;
        }),
      );
    }
    return this.checkers;
  }
}

/** The page without what changes on every load (nonces, CSRF tokens, challenges). */
function sameness(html) {
  return html.replace(/nonce="[^"]*"/g, "").replace(/value="[A-Za-z0-9_\-.:=+/]{20,}"/g, "");
}

/**
 * Presses Tab through the page and returns what is wrong: elements never reached, focus not
 * visible, or a focused element covered by something else.
 * @param {import("playwright-core").Page} page
 */
async function walkWithTab(page) {
  const total = await page.evaluate(() => {
    const selector = "a[href], button, input, select, textarea, summary, [tabindex]";
    let n = 0;
    for (const el of document.querySelectorAll(selector)) {
      if (el.matches(":disabled, [tabindex='-1'], input[type=hidden]")) continue;
      const radio = el.matches("input[type=radio]") ? `radio:${el.name}` : null;
      el.dataset.walk = radio ?? String(n++);
    }
    const radios = new Set([...document.querySelectorAll("[data-walk^='radio:']")].map((e) => e.dataset.walk)).size;
    // A date or time field takes one Tab stop per part (day, month, year, hour, minute, AM/PM).
    const parts = 6 * document.querySelectorAll("input[type=date], input[type=time], input[type=datetime-local]").length;
    return n + radios + parts;
  });
  const reached = new Set();
  const lines = [];
  let last = null;
  for (let press = 0; press < total + 3; press++) {
    await page.keyboard.press("Tab");
    const focus = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body || !el.dataset.walk) return null;
      const style = getComputedStyle(el);
      // "auto" is the browser's own focus ring.
      const outlined = style.outlineStyle === "auto" || (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2);
      const shadowed = style.boxShadow !== "none";
      const box = el.getBoundingClientRect();
      const x = Math.min(Math.max(box.left + box.width / 2, 0), window.innerWidth - 1);
      const y = Math.min(Math.max(box.top + box.height / 2, 0), window.innerHeight - 1);
      const top = document.elementFromPoint(x, y);
      const label = (el.getAttribute("aria-label") ?? el.textContent ?? el.name ?? "").trim().slice(0, 40);
      const name = `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${label}"`;
      return {
        walk: el.dataset.walk,
        name,
        visible: outlined || shadowed,
        covered: !(top && (top === el || el.contains(top) || top.contains(el) || top.closest("label")?.control === el)),
      };
    });
    if (!focus) continue;
    // The parts of a date or time field are one element, focused once per part.
    if (focus.walk === last) continue;
    if (reached.has(focus.walk)) break;
    last = focus.walk;
    reached.add(focus.walk);
    if (!focus.visible) lines.push(`focus not visible on ${focus.name}`);
    if (focus.covered) lines.push(`focused ${focus.name} is covered by another element`);
  }
  const missed = await page.evaluate(
    (seen) =>
      [...document.querySelectorAll("[data-walk]")]
        .filter((el) => !seen.includes(el.dataset.walk))
        // checkVisibility: not rendered, hidden, or inside a closed <details> (whose content
        // still has boxes, but is skipped by the Tab key until it is opened).
        .filter((el) => el.checkVisibility({ visibilityProperty: true }))
        .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${(el.textContent ?? "").trim().slice(0, 40)}"`),
    [...reached],
  );
  lines.push(...[...new Set(missed)].map((name) => `not reachable with the Tab key: ${name}`));
  return lines;
}

/** Runs in the page: axe-core's violations of `tags`, made plain. */
async function runAxe(tags) {
  // eslint-disable-next-line no-undef
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id,
    help: v.help,
    nodes: v.nodes.map((n) => ({
      target: n.target.join(" "),
      summary: (n.failureSummary ?? "").replace(/\s+/g, " ").trim(),
    })),
  }));
}

/** Runs in the page: content lost with the text enlarged (sideways scrolling, text cut off). */
function lostContent() {
  const lines = [];
  const wider = document.documentElement.scrollWidth - window.innerWidth;
  if (wider > 0) lines.push(`the page is ${wider} px wider than the window`);
  const describe = (el) =>
    el.tagName.toLowerCase() + (el.id ? `#${el.id}` : "") + [...el.classList].map((c) => `.${c}`).join("");
  for (const el of document.querySelectorAll("body *")) {
    // Hidden on purpose, a field, whose text scrolls inside it, or a map (Leaflet's), a
    // window onto a larger plane that is panned to see the rest.
    if (el.closest(".visually-hidden, .skip-link, .leaflet-container") || el.matches("input, textarea, select")) continue;
    const style = getComputedStyle(el);
    const hides = (v) => v === "hidden" || v === "clip";
    if (!hides(style.overflowX) && !hides(style.overflowY)) continue;
    if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) {
      lines.push(`text cut off in ${describe(el)}`);
    }
  }
  return lines;
}
