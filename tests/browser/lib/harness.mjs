// The browser test harness that every page test reuses: the real `wildid` binary on port 0 with
// a fresh data directory, and Debian's Chromium driven by Playwright with a fresh profile.
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { after, before } from "node:test";
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
  const child = spawn(serverBinary, ["serve", "--bind", "127.0.0.1:0", "--data-dir", join(dataDir, "data")], {
    env: { ...cleanEnv(), ...options.env },
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

/** The environment of a child `wildid`: ours, without any WildID setting of the caller. */
function cleanEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("WILDID_") && k !== "DATABASE_URL"),
  );
}

/**
 * Runs a `wildid` command on a running server's data directory (`users set-role ...`) and
 * returns its exit status and output.
 * @param {{ dataDir: string }} server
 * @param {string[]} args
 */
export function runCli(server, args) {
  const run = spawnSync(serverBinary, [...args, "--data-dir", server.dataDir], {
    env: cleanEnv(),
    encoding: "utf8",
  });
  return { status: run.status, output: run.stdout + run.stderr };
}

/**
 * A real OpenAI-compatible provider on loopback: `POST /v1/chat/completions` answers that the
 * photo shows a green sea turtle.
 */
export async function startProvider() {
  const answer = {
    is_animal: true,
    species: "Chelonia mydas",
    common_name: "Green sea turtle",
    animal_type: "reptile",
    conservation_status: "Endangered",
    confidence: "high",
    description: "A green sea turtle resting on sand.",
    notes: null,
  };
  let calls = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      if (request.method !== "POST" || request.url !== "/v1/chat/completions") {
        response.writeHead(404).end();
        return;
      }
      calls += 1;
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          id: "chatcmpl-browser",
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: JSON.stringify(answer) }, finish_reason: "stop" }],
        }),
      );
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    /** How many identifications it was asked for. */
    calls: () => calls,
    /** The environment that points a server at this provider. */
    env: () => ({
      WILDID_AI_PROVIDER: "browser-test",
      WILDID_AI_BASE_URL: `http://127.0.0.1:${server.address().port}/v1`,
      WILDID_AI_MODEL: "test-vision",
    }),
    close: () => new Promise((r) => server.close(r)),
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

/**
 * A server (started with `options`, as `startServer` takes them) and a browser for the tests of
 * one file: started before the first test, stopped after the last (the server must exit 0).
 * Read `session.server` and `session.browser` inside the tests.
 */
export function serverAndBrowser(options = {}) {
  const session = {};
  before(async () => {
    session.server = await startServer(options);
    session.browser = await launchBrowser();
  });
  after(async () => {
    await session.browser?.close();
    const code = await session.server?.stop();
    assert.equal(code, 0, "the server exits cleanly");
  });
  return session;
}
