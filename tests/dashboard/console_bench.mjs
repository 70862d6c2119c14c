// Loads each console page cold (a fresh browser context: empty cache, the token already in the
// session) in Debian's chromium, headless, and prints per page: bytes transferred (every response's
// encoded length as the network saw it, the live stream's bytes until the data was shown
// included), requests, first contentful paint and the time until the page's data is on screen
// (from navigation start). Medians of <runs> loads. Run by bench_console, which starts the gateway.
//   node console_bench.mjs <url> <viewer-token> <node> <rollout-id> <model-ref> <runs>
import { chromium } from "playwright-core";

const [url, token, nodeId, rolloutId, modelRef, runsArg] = process.argv.slice(2);
const runs = Math.max(1, Number(runsArg) || 3);
// What "the data is shown" means on each page: its last section drawn from the API's answers.
const pages = [
  ["fleet (overview)", "#/", () => document.querySelectorAll("#fleet-table tbody tr").length > 0 &&
    document.querySelectorAll("#log-table tbody tr").length > 0 && !!document.querySelector("#label-chart svg") &&
    !!document.querySelector("#rollout-list .rollout")],
  ["node", `#/nodes/${nodeId}`, () => !!document.querySelector("#node-ota") && !!document.querySelector("#node-label-chart svg")],
  ["rollout", `#/rollouts/${rolloutId}`, () => !!document.querySelector("#rollout-nodes")],
  ["registry", "#/models", () => !!document.querySelector("#models-table, #models-page p")],
  ["model", `#/models/${modelRef}`, () => !!document.querySelector("#model-nodes")],
];

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
let failed = false;
const rows = [];
try {
  for (const [name, hash, ready] of pages) {
    const samples = [];
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
      await context.addInitScript((t) => sessionStorage.setItem("tinyedge-token", t), token);
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      const urls = new Map();
      let bytes = 0, requests = 0, biggest = ["", 0];
      cdp.on("Network.requestWillBeSent", (e) => { urls.set(e.requestId, e.request.url); requests++; });
      cdp.on("Network.dataReceived", (e) => { if ((urls.get(e.requestId) || "").includes("/api/v1/stream")) bytes += e.encodedDataLength; });
      cdp.on("Network.loadingFinished", (e) => {
        const u = urls.get(e.requestId) || "";
        if (u.includes("/api/v1/stream")) return;
        bytes += e.encodedDataLength;
        if (e.encodedDataLength > biggest[1]) biggest = [u.replace(url, "/").replace(/^\/+/, "/"), e.encodedDataLength];
      });
      const errors = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(url + hash, { waitUntil: "commit" });
      const shown = await page.waitForFunction(ready, null, { timeout: 120000, polling: 10 })
        .then(() => page.evaluate(() => performance.now()));
      const fcp = await page.evaluate(() => {
        const p = performance.getEntriesByName("first-contentful-paint")[0];
        return p ? p.startTime : NaN;
      });
      const notFound = await page.$("#not-found");
      if (notFound || errors.length) {
        console.error(`${name}: ${notFound ? await notFound.textContent() : ""} ${errors.join(" | ")}`);
        failed = true;
      }
      samples.push({ bytes, requests, fcp, shown, biggest });
      if (name.startsWith("fleet") && i === 0) {
        // What the overview shipped before the fleet list paged: every node in one answer.
        const all = await page.evaluate(async (t) => {
          const r = await fetch("/api/v1/nodes", { headers: { Authorization: "Bearer " + t } });
          return { status: r.status, bytes: (await r.arrayBuffer()).byteLength };
        }, token);
        rows.unpaged = all.bytes;
      }
      await context.close();
    }
    const last = samples[samples.length - 1];
    rows.push(`| ${name} | ${(median(samples.map((s) => s.bytes)) / 1024).toFixed(1)} | ${median(samples.map((s) => s.requests))} | ` +
              `${median(samples.map((s) => s.fcp)).toFixed(0)} | ${median(samples.map((s) => s.shown)).toFixed(0)} | ` +
              `${last.biggest[0].slice(0, 60)} (${(last.biggest[1] / 1024).toFixed(1)} KB) |`);
    console.error(`${name}: done`);
  }
} catch (e) {
  console.error("console bench failed: " + e.message);
  failed = true;
} finally {
  await browser.close();
}
console.log(`\nConsole pages in headless Chromium, cold cache, medians of ${runs} loads (KB transferred incl. headers; ms from navigation start)\n`);
console.log("| page | KB transferred | requests | first contentful paint ms | data shown ms | largest response |");
console.log("|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
if (rows.unpaged) console.log(`\nThe whole fleet list in one answer (GET /api/v1/nodes, unpaged, as the overview loaded it before): ${(rows.unpaged / 1024).toFixed(0)} KB`);
process.exit(failed ? 1 : 0);
