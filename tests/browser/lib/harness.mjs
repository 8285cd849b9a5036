// The browser test harness that every page test reuses: the real `wildid` binary on port 0 with
// a fresh data directory, and Debian's Chromium driven by Playwright with a fresh profile.
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { chromium } from "playwright-core";
import { auditorOf, keepLoadedPages, MODES, stats } from "./a11y.mjs";

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

/** The messages in `server`'s outbox (its `.eml` files), oldest first. */
export function outbox(server) {
  let names;
  try {
    names = readdirSync(join(server.dataDir, "outbox")).filter((n) => n.endsWith(".eml")).sort();
  } catch {
    return [];
  }
  return names.map((n) => readFileSync(join(server.dataDir, "outbox", n), "utf8"));
}

/**
 * Waits for message number `count` (1-based) in `server`'s outbox, checks that it is addressed
 * to `to`, and returns the first link in it, which must contain `path`.
 */
export async function linkInMail(server, count, path, to) {
  for (let i = 0; i < 200; i++) {
    const mails = outbox(server);
    if (mails.length >= count) {
      const mail = mails[count - 1];
      const link = /https?:\/\/\S+/.exec(mail)?.[0] ?? "";
      assert.ok(link.includes(path), `mail ${count} links to ${link}, not ${path}`);
      assert.ok(mail.includes(`To: ${to}`), `mail ${count} is addressed to ${to}`);
      return link;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no mail number ${count} in the outbox`);
}

/**
 * Headless Chromium with a fresh profile and no background traffic to the (closed) network.
 * With `camera` (the path of a `.y4m` video), its camera films that video, and a page's request
 * for the camera is granted as if the person had allowed it.
 * @param {{ camera?: string }} [options]
 */
export async function launchBrowser(options = {}) {
  const camera = options.camera
    ? ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", `--use-file-for-fake-video-capture=${options.camera}`]
    : [];
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
      ...camera,
    ],
  });
}

/**
 * Writes what a camera would film of `image` (an `<img>` on `page`, drawn black on white at the
 * middle of a 640 x 480 frame) as a one-frame `.y4m` video to `path`.
 * @param {import("playwright-core").Locator} image
 * @param {string} path
 */
export async function filmOf(image, path) {
  const [width, height] = [640, 480];
  const luma = await image.evaluate((img, [w, h]) => {
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff";
    context.fillRect(0, 0, w, h);
    const side = 360;
    context.drawImage(img, (w - side) / 2, (h - side) / 2, side, side);
    const rgba = context.getImageData(0, 0, w, h).data;
    const y = new Array(w * h);
    for (let i = 0; i < w * h; i++) {
      y[i] = Math.round(0.299 * rgba[i * 4] + 0.587 * rgba[i * 4 + 1] + 0.114 * rgba[i * 4 + 2]);
    }
    return y;
  }, [width, height]);
  const chroma = Buffer.alloc((width * height) / 2, 128);
  writeFileSync(path, Buffer.concat([
    Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\nFRAME\n`),
    Buffer.from(luma),
    chroma,
  ]));
}

/** The pages of every watched page not yet checked for accessibility (see `after` below). */
const unchecked = new Set();

/**
 * A new page that records console errors, uncaught exceptions and CSP violations, and keeps
 * every page it loads for the accessibility check (`lib/a11y.mjs`). `problems()` lists all of
 * them, the accessibility findings of the pages loaded so far included: every test ends with
 * `assert.deepEqual(await problems(), [])`, so every page a test visits is checked.
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
  const loaded = await keepLoadedPages(context, page, contextOptions.javaScriptEnabled !== false);
  const watched = { browser, loaded };
  unchecked.add(watched);
  return {
    page,
    context,
    /** Everything that went wrong on the page so far: CSP violations and accessibility included. */
    async problems() {
      const csp = await page.evaluate(() => window.__cspViolations ?? []).catch(() => []);
      const a11y = await auditorOf(browser).check(loaded.splice(0));
      return [...problems, ...csp.map((v) => `csp: ${v}`), ...a11y];
    },
  };
}

// A test that never asks `problems()` still has its pages checked, once its file's tests are
// done (while its browser is still open: this hook is registered before any file's own).
after(async () => {
  const findings = [];
  for (const watched of unchecked) {
    if (watched.loaded.length === 0 || !watched.browser.isConnected()) {
      if (watched.loaded.length > 0) findings.push(`a11y: ${watched.loaded.length} page(s) left unchecked: the browser closed first`);
      continue;
    }
    findings.push(...(await auditorOf(watched.browser).check(watched.loaded.splice(0))));
  }
  console.log(`# accessibility: ${stats.pages} page states checked in ${MODES.length} modes (${stats.runs} runs)`);
  assert.deepEqual(findings, [], "accessibility findings on pages no test asked about");
});

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
