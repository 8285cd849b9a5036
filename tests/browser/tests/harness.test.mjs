// The harness's accessibility check can fail: a page with known faults, served by a plain HTTP
// server on loopback, is visited the way every test visits WildID's pages, and `problems()`
// must name each fault with its page, mode, rule and element. A page without them passes.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { launchBrowser, watchedPage } from "../lib/harness.mjs";

const faulty = `<!doctype html><html lang="en"><head><title>Faulty</title>
<style>
  .faint { color: #aaa; background: #fff; }
  .spacer { height: 150vh; }
  .tight { width: 200px; height: 30px; overflow: hidden; white-space: nowrap; }
  @media (prefers-color-scheme: dark) { body { background: #111; } .dim { color: #333; } }
  @media (max-width: 40rem) { .wide { width: 36rem; } }
  .no-ring:focus { outline: none; }
  .banner { position: fixed; bottom: 0; left: 0; right: 0; height: 6rem; background: #fff; }
</style></head>
<body><main>
  <h1>Faults on purpose</h1>
  <p class="faint">Grey on white: about 2.3:1.</p>
  <p class="dim">Dark grey, unreadable on black only in dark mode.</p>
  <img src="/pixel.gif">
  <input type="text" name="unlabelled">
  <div class="tight">A box in pixels</div>
  <div class="wide">Wider than a phone</div>
  <button class="no-ring">No focus ring</button>
  <div inert><button id="inert">Out of reach</button></div>
  <p class="spacer">Spacer</p>
  <a id="hidden-link" href="#end">Under the banner</a>
  <div class="banner">A fixed banner</div>
</main></body></html>`;

const clean = `<!doctype html><html lang="en"><head><title>Clean</title></head>
<body><main><h1>Nothing wrong</h1><p>Readable text.</p>
<label for="name">Name</label> <input id="name" type="text">
<details><summary>More (closed: what is inside is not reached until it is opened)</summary>
<label for="more">More</label> <input id="more" type="text"></details></main></body></html>`;

const pixel = Buffer.from("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==", "base64");

let server;
let url;
let browser;

before(async () => {
  server = createServer((request, response) => {
    if (request.url === "/pixel.gif") return response.writeHead(200, { "content-type": "image/gif" }).end(pixel);
    const body = request.url === "/clean" ? clean : faulty;
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(body);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${server.address().port}`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await new Promise((r) => server.close(r));
});

test("a page with faults gets each of them named, with page, mode, rule and element", async () => {
  const { page, problems } = await watchedPage(browser);
  await page.goto(url + "/faulty");
  const found = await problems();
  const has = (pattern) => assert.ok(found.some((line) => pattern.test(line)), `nothing matches ${pattern} in:\n${found.join("\n")}`);
  has(/^a11y: \/faulty \[light, 390 px\] color-contrast: .*\.faint .*2\.32/);
  has(/^a11y: \/faulty \[light, 1280 px\] color-contrast: .*\.faint/);
  has(/^a11y: \/faulty \[dark, 1280 px\] color-contrast: .*\.dim/);
  has(/^a11y: \/faulty \[dark, 390 px\] image-alt: .*img/);
  has(/^a11y: \/faulty \[light, 1280 px\] label: .*input/);
  has(/^a11y: \/faulty \[light, 390 px\] the page is [0-9]+ px wider than the window/);
  has(/^a11y: \/faulty \[text at 200 %, 1280 px\] text cut off in div\.tight/);
  has(/^a11y: \/faulty \[light, 1280 px\] focus not visible on button "No focus ring"/);
  has(/^a11y: \/faulty \[dark, 390 px\] not reachable with the Tab key: button#inert "Out of reach"/);
  has(/^a11y: \/faulty \[light, 1280 px\] focused a#hidden-link "Under the banner" is covered by another element/);
  // A fault of one mode only is not reported in the others.
  const only = (pattern, mode) => found.filter((line) => pattern.test(line) && !line.includes(mode));
  assert.deepEqual(only(/color-contrast: .*\.dim/, "[dark"), [], "a dark-only fault reported in light mode");
  assert.deepEqual(only(/text cut off/, "[text at 200 %"), [], "a fault of doubled text reported at normal size");
  has(/^a11y: \/faulty \[light, 320 px\] the page is [0-9]+ px wider than the window/);
  assert.deepEqual(
    found.filter((line) => /wider than the window/.test(line) && !/(320|390) px\]/.test(line)),
    [],
    "a phone-only fault reported on a desktop",
  );
});

test("a page without faults passes", async () => {
  const { page, problems } = await watchedPage(browser);
  await page.goto(url + "/clean");
  assert.deepEqual(await problems(), []);
});
