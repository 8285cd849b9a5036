// The browser test harness that every page test reuses: the real `wildid` binary on port 0 with
// a fresh data directory, and Debian's Chromium driven by Playwright with a fresh profile.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const workspace = resolve(here, "..", "..", "..");

/** The server binary: $WILDID_BIN, else the debug build of this workspace. */
export const serverBinary = process.env.WILDID_BIN ?? join(workspace, "target", "debug", "wildid");

/**
 * Starts `wildid serve` and resolves once its first log line announces the address.
 * @param {{ env?: Record<string, string> }} [options]
 */
export async function startServer(options = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "wildid-browser-"));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("WILDID_") && k !== "DATABASE_URL"),
  );
  const child = spawn(serverBinary, ["serve", "--bind", "127.0.0.1:0", "--data-dir", join(dataDir, "data")], {
    env: { ...env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs = [];
  const url = await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${logs.join("\n")}`)), 60_000);
    const onData = (chunk) => {
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        logs.push(line);
        const match = /listening on (http:\/\/[0-9.:]+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolvePromise(match[1]);
        }
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${logs.join("\n")}`)));
  });
  return {
    url,
    logs,
    dataDir: join(dataDir, "data"),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
      return child.exitCode;
    },
  };
}

/** Headless Chromium with a fresh profile and no background traffic to the (closed) network. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/**
 * A new page that records console errors, uncaught exceptions and CSP violations.
 * @param {import("playwright-core").Browser} browser
 * @param {import("playwright-core").BrowserContextOptions} [contextOptions]
 */
export async function watchedPage(browser, contextOptions = {}) {
  const context = await browser.newContext(contextOptions);
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`exception: ${error.message}`));
  return {
    page,
    context,
    /** Everything that went wrong on the page so far, including CSP violations. */
    async problems() {
      const csp = await page.evaluate(() => window.__cspViolations ?? []).catch(() => []);
      return [...problems, ...csp.map((v) => `csp: ${v}`)];
    },
  };
}
