// Drives Debian's chromium (headless, via playwright-core) through the dashboard:
// the page loads, the fleet table lists the expected nodes, and filtering the inference log by
// one node shows only that node's events. Saves a screenshot. Exit 0 on success; on failure
// prints what went wrong and exits 1.
//   node browser_check.mjs <url> <token> <screenshot.png> <node-to-filter> <node>...
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, token, screenshot, filterNode, ...expectedNodes] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "tinyedge-chromium-"));
const fail = (msg) => { console.error("browser check failed: " + msg); process.exitCode = 1; };

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 1100 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = context.pages()[0] || (await context.newPage());
  const consoleErrors = [];
  // HTTP errors the page handles itself (503 from /rollouts without an engine) are logged by the
  // browser as "Failed to load resource"; script errors are what must not happen.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));

  const res = await page.goto(url, { waitUntil: "load" });
  if (!res || res.status() !== 200) throw new Error(`page answered ${res && res.status()}`);
  if ((await page.title()) !== "TinyEdge fleet dashboard") throw new Error("unexpected title " + (await page.title()));

  await page.fill("#token", token);
  await page.click("#token-form button[type=submit]");

  // Fleet table lists every node.
  await page.waitForFunction((n) => document.querySelectorAll("#fleet-table tbody tr").length >= n,
                             expectedNodes.length, { timeout: 15000 });
  const listed = await page.$$eval("#fleet-table tbody tr", (rows) => rows.map((r) => r.dataset.node));
  for (const n of expectedNodes) if (!listed.includes(n)) fail(`fleet table lacks ${n} (has ${listed.join(",")})`);
  const statuses = await page.$$eval("#fleet-table tbody tr td:nth-child(2)", (c) => c.map((x) => x.textContent));
  if (!statuses.includes("online")) fail("no node shows as online: " + statuses.join(","));

  // The unfiltered log shows several nodes; filtered by one, only that one.
  await page.waitForFunction(() => document.querySelectorAll("#log-table tbody tr").length > 0, null, { timeout: 15000 });
  const before = new Set(await page.$$eval("#log-table tbody tr", (rows) => rows.map((r) => r.dataset.node)));
  if (before.size < 2) fail("unfiltered log shows fewer than 2 nodes: " + [...before].join(","));
  await page.fill("#log-filter input[name=node]", filterNode);
  await page.click("#log-filter button[type=submit]");
  await page.waitForFunction((n) => {
    const rows = [...document.querySelectorAll("#log-table tbody tr")];
    return rows.length > 0 && rows.every((r) => r.dataset.node === n);
  }, filterNode, { timeout: 15000 });
  const shown = await page.$$eval("#log-table tbody tr td:nth-child(3)", (c) => c.map((x) => x.textContent));
  const others = shown.filter((n) => n !== filterNode);
  if (others.length) fail(`filtered log shows other nodes: ${others.slice(0, 5).join(",")}`);
  console.log(`filtered log: ${shown.length} rows, all ${filterNode}`);

  // The live chart drew one series per label seen.
  await page.waitForSelector("#label-chart svg polyline", { timeout: 15000 });
  const series = await page.$$eval("#label-chart svg polyline", (p) => p.length);
  if (series < 1) fail("label chart has no series");

  await page.screenshot({ path: screenshot, fullPage: true });
  if (consoleErrors.length) fail("console errors: " + consoleErrors.join(" | "));
  console.log(`fleet table: ${listed.length} nodes; chart: ${series} label series; screenshot ${screenshot}`);
} catch (e) {
  fail(e.message);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
