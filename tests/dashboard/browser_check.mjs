// Drives Debian's chromium (headless, via playwright-core) through the operator's console, in
// one browser session against one real gateway with a real rollout (paused by the operator):
//   overview   the fleet table lists the nodes; the log shows label names and probabilities, in
//              the viewer's time zone (the context runs in Asia/Tokyo); filtering by one node
//              shows only it; new results arrive by the live stream without a reload
//   node       its facts, named label chart, score chart, recent results, telemetry (reboots,
//              failed inferences, reconnects, drawn over time), OTA history (a canary node's
//              download of v2); a viewer gets no groups form and a 403 for setting groups
//   rollout    state, the pause's reason, waves, per-node states, the quality gate drawn (label
//              mix and scores canary vs control, gauges with bound and noise floor); as a viewer no
//              action buttons, and the API refuses a viewer's pause/resume
//   models     the registry with labels and key id; one model with the nodes running it; the
//              rolled-out version with its gate figures (agreement with the previous version)
//   unknown    ids the gateway does not know give a page that says so
//   operator   sees the actions and resumes the rollout from the page
//   live       the gateway restarts under the page: it says the connection was lost, then live again
// Saves a screenshot per page into <shots>. Exit 0 on success; on failure prints what went wrong.
//   node browser_check.mjs <url> <viewer-token> <operator-token> <shots-dir> <node-to-filter>
//        <rollout-id> <model-ref> <rolled-out-model-ref> <ota-node> <control-dir> <node>...
import { chromium } from "playwright-core";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, viewer, operator, shots, filterNode, rolloutId, modelRef, newModelRef, otaNode, control, ...expectedNodes] =
  process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "tinyedge-chromium-"));
const fail = (msg) => { console.error("browser check failed: " + msg); process.exitCode = 1; };
const check = (ok, msg) => { if (!ok) fail(msg); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 1100 },
  locale: "en-US",
  timezoneId: "Asia/Tokyo",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = context.pages()[0] || (await context.newPage());
  const consoleErrors = [];
  // HTTP errors the page handles itself (404 for an unknown id, 403 for a viewer's action, the
  // stream cut by the restart) are logged by the browser as "Failed to load resource"; script
  // errors are what must not happen.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("dialog", (d) => d.accept());
  const shot = (name) => page.screenshot({ path: join(shots, `dashboard_${name}.png`), fullPage: true });
  const text = (sel) => page.$eval(sel, (e) => e.textContent);
  const go = async (hash, ready) => {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.waitForSelector(ready, { timeout: 10000 });
  };

  // --- overview ------------------------------------------------------------------------------
  const res = await page.goto(url, { waitUntil: "load" });
  if (!res || res.status() !== 200) throw new Error(`page answered ${res && res.status()}`);
  if ((await page.title()) !== "TinyEdge fleet dashboard") throw new Error("unexpected title " + (await page.title()));
  await page.fill("#token", viewer);
  await page.click("#token-form button[type=submit]");
  await page.waitForFunction((n) => document.querySelectorAll("#fleet-table tbody tr").length >= n,
                             expectedNodes.length, { timeout: 15000 });
  const listed = await page.$$eval("#fleet-table tbody tr", (rows) => rows.map((r) => r.dataset.node));
  for (const n of expectedNodes) check(listed.includes(n), `fleet table lacks ${n} (has ${listed.join(",")})`);
  const statuses = await page.$$eval("#fleet-table tbody tr td:nth-child(2)", (c) => c.map((x) => x.textContent));
  check(statuses.includes("online"), "no node shows as online: " + statuses.join(","));
  check((await text("#tz")).includes("Asia/Tokyo"), "the page does not say it shows times in the viewer's zone");
  await page.waitForSelector("#live-status[data-state=live]", { timeout: 10000 });

  await page.waitForFunction(() => document.querySelectorAll("#log-table tbody tr").length > 0, null, { timeout: 15000 });
  const labels = await page.$$eval("#log-table tbody tr td:nth-child(5)", (c) => c.map((x) => x.textContent));
  check(labels.some((l) => ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"].includes(l)),
        "the log shows no label names: " + labels.slice(0, 5).join(","));
  check(!labels.some((l) => /^label \d+$/.test(l)), "the log shows a label by number: " + labels.slice(0, 5).join(","));
  const probs = await page.$$eval("#log-table tbody tr td:nth-child(6)", (c) => c.map((x) => x.textContent));
  check(probs.every((p) => /^[01]\.\d\d$/.test(p)), "scores are not probabilities: " + probs.slice(0, 5).join(","));
  const times = await page.$$eval("#log-table tbody tr td:nth-child(2)", (c) => c.map((x) => x.textContent));
  check(times.every((t) => t.includes("GMT+9")), "times are not in the viewer's zone (Asia/Tokyo): " + times[0]);
  const legend = await text("#label-legend");
  check(legend.includes("Trouser"), "the chart legend does not name labels: " + legend);

  // New results arrive by the live stream, without a reload or a Search.
  const newest = await page.$eval("#log-table tbody tr", (r) => Number(r.dataset.id));
  await page.waitForFunction((id) => Number(document.querySelector("#log-table tbody tr").dataset.id) > id, newest,
                             { timeout: 10000 }).catch(() => fail("no new result reached the log live"));
  const before = new Set(await page.$$eval("#log-table tbody tr", (rows) => rows.map((r) => r.dataset.node)));
  check(before.size >= 2, "unfiltered log shows fewer than 2 nodes: " + [...before].join(","));
  await page.fill("#log-filter input[name=node]", filterNode);
  await page.click("#log-filter button[type=submit]");
  await page.waitForFunction((n) => {
    const rows = [...document.querySelectorAll("#log-table tbody tr")];
    return rows.length > 0 && rows.every((r) => r.dataset.node === n);
  }, filterNode, { timeout: 15000 });
  const shown = await page.$$eval("#log-table tbody tr td:nth-child(3)", (c) => c.map((x) => x.textContent));
  check(shown.every((n) => n === filterNode), `filtered log shows other nodes: ${shown.slice(0, 5).join(",")}`);
  await page.waitForSelector("#label-chart svg polyline", { timeout: 15000 });
  const rolloutRow = await text(`#rollout-list .rollout[data-rollout="${rolloutId}"]`).catch(() => "");
  check(rolloutRow.includes("paused"), "the overview's rollout panel does not show the paused rollout: " + rolloutRow);
  await shot("browser");
  console.log(`overview: ${listed.length} nodes, log named (${labels[0]}), live, filtered ${shown.length} rows`);

  // --- node page -----------------------------------------------------------------------------
  await go(`#/nodes/${filterNode}`, "#node-head");
  check((await text("#node-head h2")) === `Node ${filterNode}`, "node page heading: " + (await text("#node-head h2")));
  check((await text('#node-head [data-fact="status"]')) === "online", "node page status");
  check((await text('#node-head [data-fact="model"]')).includes("v1"), "node page model: " + (await text('#node-head [data-fact="model"]')));
  await page.waitForSelector("#node-label-chart svg polyline", { timeout: 10000 });
  check((await text("#node-labels .legend")).includes("Trouser"), "node label chart is not named");
  check((await page.$$("#node-scores svg rect")).length >= 8, "node score chart missing");
  const nodeRows = await page.$$eval("#node-log-table tbody tr", (r) => r.map((x) => x.dataset.node));
  check(nodeRows.length > 0 && nodeRows.every((n) => n === filterNode), "node page results are not the node's own");
  check((await page.$$("#groups-form")).length === 0, "a viewer is offered the groups form");
  // Telemetry: two boots (one reboot), the second's counters drawn over time.
  await page.waitForSelector("#node-telemetry-chart svg polyline", { state: "attached", timeout: 10000 });
  const failedLine = await page.$eval("#node-telemetry-chart svg polyline", (p) => p.getAttribute("points").split(" ").map((xy) => Number(xy.split(",")[1])));
  check(failedLine.length === 3 && failedLine[0] > failedLine[2] && failedLine[1] > failedLine[0],
        "failed inferences are not drawn per report (1, 0, 3): y = " + failedLine.join(","));
  const tele = async (k) => text(`#node-telemetry [data-fact="${k}"]`);
  check((await tele("reboots")) === "1", "telemetry reboots: " + (await tele("reboots")));
  check((await tele("failed inferences")) === "3", "telemetry failed inferences: " + (await tele("failed inferences")));
  check((await tele("reconnects")) === "2", "telemetry reconnects: " + (await tele("reconnects")));
  check((await page.$$("#node-telemetry-chart svg polyline")).length === 3, "telemetry chart lacks its three series");
  check((await text("#node-telemetry .legend")).includes("failed inferences"), "telemetry legend: " + (await text("#node-telemetry .legend")));
  check((await page.$$("#node-boots-table tbody tr")).length === 2, "boots table does not list the two boots");
  check((await text("#node-ota")).includes("no update"), "a node with no update report: " + (await text("#node-ota")));
  const groupsTry = await page.evaluate(async ([id, token]) => (await fetch(`/api/v1/nodes/${id}/groups`, {
    method: "PUT", headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
    body: JSON.stringify({ groups: ["x"] }) })).status, [filterNode, viewer]);
  check(groupsTry === 403, "a viewer's groups change was not refused: " + groupsTry);
  // #16: the class the node enrolled, its figures; no enroll/remove for a viewer.
  await page.waitForSelector('#node-enroll-table tr[data-label="mug"]', { timeout: 10000 })
    .catch(() => fail("the node page does not list the node's enrolled class 'mug'"));
  const enrolled = await text('#node-enroll-table tr[data-label="mug"]');
  check(enrolled.includes("0.55 (Bag)"), "enrolled class row lacks its distance to the nearest class: " + enrolled);
  check((await page.$$("#enroll-form")).length === 0, "a viewer is offered the enroll form");
  await shot("node");
  await go(`#/nodes/${otaNode}`, "#node-ota");
  const ota = await page.$$eval("#node-ota-table tbody tr", (r) => r.map((x) => x.textContent));
  check(ota.length === 2 && ota.every((t) => t.includes("v2") && t.includes("downloading")),
        "OTA history of the canary node: " + ota.join(" | "));
  check(ota[0].includes("50%"), "OTA history newest first with progress: " + ota[0]);
  // The node page names the unfinished rollout that still has this node to update; a viewer gets
  // no button to cancel it (and the API refuses a viewer's cancel: below, on the rollout page).
  const update = await text("#node-rollout").catch(() => "");
  check(update.includes(`rollout #${rolloutId}`), "the node page does not name the rollout updating it: " + update);
  check((await page.$$("#node-rollout [data-action=cancel-node]")).length === 0, "a viewer is offered 'cancel update' on the node page");

  // --- rollout page (viewer) -----------------------------------------------------------------
  await go(`#/rollouts/${rolloutId}`, "#rollout-gate");
  check((await text('#rollout-head [data-fact="state"]')) === "paused", "rollout page state: " + (await text('#rollout-head [data-fact="state"]')));
  const reason = await text("#rollout-reason").catch(() => "");
  check(reason.startsWith("Paused: ") && reason.length > 10, "the pause's reason is not shown: " + reason);
  const waves = await page.$$eval("#rollout-waves .wave", (w) => w.map((x) => x.dataset.phase));
  check(waves[0] === "canary" && waves.length >= 2, "waves: " + waves.join(","));
  const nodeStates = await page.$$eval("#rollout-node-table tbody tr", (r) => r.map((x) => x.dataset.state));
  check(nodeStates.length === expectedNodes.length, `rollout node table has ${nodeStates.length} rows`);
  check(nodeStates.includes("pending"), "no node pending: " + nodeStates.join(","));
  const mix = await page.$$eval("#gate-labels svg rect[data-series]", (r) => r.map((x) => x.dataset.group));
  check(mix.includes("Dress") && mix.includes("Trouser"), "gate label mix is not drawn by name: " + [...new Set(mix)].join(","));
  check((await page.$$("#gauge-jsd svg .bound")).length === 1, "JSD bound not marked");
  check((await page.$$("#gauge-jsd svg .noise-floor")).length === 1, "JSD noise floor not marked");
  const jsd = await text("#gauge-jsd .gauge-value");
  check(Number(jsd) > 0, "JSD figure: " + jsd);
  check((await page.$$("#gate-scores svg rect[data-series]")).length === 16, "score distribution not drawn");
  check((await page.$$("#gate-latency svg rect[data-series]")).length === 4, "latency not drawn");
  const verdict = await text("#gate-verdict");
  check(verdict.includes("quality gate"), "gate verdict: " + verdict);
  check((await page.$$("#rollout-actions button")).length === 0, "a viewer is shown rollout actions");
  check((await page.$$("#rollout-node-table [data-action=cancel-node]")).length === 0, "a viewer is offered 'cancel update'");
  // Nor can a viewer act by calling the API from the page.
  const tries = await page.evaluate(async ([id, token, node]) => {
    const out = [];
    for (const a of ["resume", "abort", `nodes/${node}/cancel`]) {
      const r = await fetch(`/api/v1/rollouts/${id}/${a}`, { method: "POST", headers: { Authorization: "Bearer " + token } });
      out.push(r.status);
    }
    return out;
  }, [rolloutId, viewer, otaNode]);
  check(tries.every((s) => s === 403), "a viewer's rollout action was not refused: " + tries.join(","));
  await shot("rollout");
  console.log(`rollout: paused (${reason}); gate JSD ${jsd}; ${verdict}`);

  // --- models --------------------------------------------------------------------------------
  await go("#/models", "#models-table");
  const models = await page.$$eval("#models-table tbody tr", (r) => r.map((x) => x.textContent));
  check(models.length === 2, `registry lists ${models.length} packages`);
  check(models.every((m) => m.includes("Trouser")), "registry does not list labels");
  await shot("models");
  await go(`#/models/${modelRef}`, "#model-head");
  check((await text('#model-head [data-fact="labels"]')).startsWith("T-shirt/top, Trouser"), "model labels");
  check(/^[0-9a-f]{16,}$/.test(await text('#model-head [data-fact="signature key id"]')), "model key id");
  check((await text('#model-head [data-fact="arena"]')) === "6944 bytes", "model arena: " + (await text('#model-head [data-fact="arena"]')));
  const runners = await page.$$eval("#model-node-table tbody tr", (r) => r.map((x) => x.dataset.node));
  check(runners.length === expectedNodes.length, `model v1 runs on ${runners.length} nodes`);
  await go(`#/models/${newModelRef}`, "#model-gate");
  await page.waitForSelector(`#model-gate-table tr[data-rollout="${rolloutId}"]`, { timeout: 10000 })
    .catch(() => fail("the rolled-out model's page lists no gate figures for rollout " + rolloutId));
  const agreement = await text(`#model-gate-table tr[data-rollout="${rolloutId}"] [data-figure=jsd]`).catch(() => "");
  check(Number(agreement.split(" ")[0]) > 0, "model page's label divergence: " + agreement);
  check((await text('#model-head [data-fact="accuracy"]')).includes("not known"), "the model page claims an accuracy the log cannot tell");
  await shot("model");

  // --- unknown ids ---------------------------------------------------------------------------
  for (const [hash, what] of [["#/nodes/no-such-node", "Node 'no-such-node' does not exist"],
                              ["#/rollouts/424242", "Rollout '424242' does not exist"],
                              ["#/models/424242", "Model '424242' does not exist"],
                              ["#/rollouts/abc", "not a rollout id"],
                              ["#/nowhere", "no page at #/nowhere"]]) {
    await go(hash, "#not-found");
    const t = await text("#not-found");
    check(t.includes(what), `${hash}: the page does not say "${what}": ${t}`);
  }
  await shot("not_found");

  // --- operator ------------------------------------------------------------------------------
  await page.fill("#token", operator);
  await page.click("#token-form button[type=submit]");
  await page.waitForFunction(() => document.body.dataset.role === "operator", null, { timeout: 10000 });
  await go(`#/rollouts/${rolloutId}`, "#rollout-actions");
  check(await page.$eval("#rollout-actions [data-action=resume]", (b) => !b.disabled), "Resume is not offered on a paused rollout");
  check(await page.$eval("#rollout-actions [data-action=pause]", (b) => b.disabled), "Pause is offered on a paused rollout");
  await page.click("#rollout-actions [data-action=resume]");
  await page.waitForFunction(() => (document.querySelector('#rollout-head [data-fact="state"]') || {}).textContent === "running",
                             null, { timeout: 10000 }).catch(() => fail("resuming from the page did not run the rollout"));
  await page.click("#rollout-actions [data-action=pause]");
  await page.waitForFunction(() => (document.querySelector('#rollout-head [data-fact="state"]') || {}).textContent === "paused",
                             null, { timeout: 10000 }).catch(() => fail("pausing from the page did not pause the rollout"));
  // The operator takes the downloading canary node out of the rollout from its row: it ends
  // cancelled (the API told the node to stop), the rollout stays paused, the others keep their row.
  const cancelRow = `#rollout-node-table tr[data-node="${otaNode}"]`;
  check(await page.$eval(`${cancelRow} [data-action=cancel-node]`, (b) => !b.disabled).catch(() => false),
        `no 'cancel update' for the downloading node ${otaNode}`);
  await page.click(`${cancelRow} [data-action=cancel-node]`);
  await page.waitForSelector(`${cancelRow}[data-state=cancelled]`, { timeout: 10000 })
    .catch(() => fail(`cancelling ${otaNode} from the page did not end its update`));
  check((await page.$$(`${cancelRow} [data-action=cancel-node]`)).length === 0, "a cancelled node still offers 'cancel update'");
  check((await text('#rollout-head [data-fact="state"]')) === "paused", "cancelling one node changed the rollout's state");
  console.log(`cancel: ${otaNode} ${await text(`${cancelRow} td:nth-child(5)`)}`);
  await shot("rollout_operator");
  // An operator cancels a pending node's update from its node page: the line and its button go,
  // and the rollout's table shows the node cancelled.
  const pendingNode = await page.$eval("#rollout-node-table tr[data-state=pending]", (r) => r.dataset.node)
    .catch(() => fail("no pending node left in the rollout to cancel from its node page"));
  await go(`#/nodes/${pendingNode}`, "#node-rollout [data-action=cancel-node]");
  await page.click("#node-rollout [data-action=cancel-node]");
  await page.waitForFunction(() => document.querySelector("#node-head") && !document.querySelector("#node-rollout"), null,
                             { timeout: 10000 }).catch(() => fail(`'cancel update' on ${pendingNode}'s page did not end its update`));
  await go(`#/rollouts/${rolloutId}`, "#rollout-node-table");
  await page.waitForSelector(`#rollout-node-table tr[data-node="${pendingNode}"][data-state=cancelled]`, { timeout: 10000 })
    .catch(() => fail(`${pendingNode}, cancelled from its node page, is not cancelled in the rollout`));
  console.log(`cancel from the node page: ${pendingNode}`);

  // #16: an operator asks the node to learn a class from its page; the command goes out.
  await go(`#/nodes/${filterNode}`, "#enroll-form");
  check((await page.$$('#enroll-form [data-action=remove][data-label="mug"]')).length === 1, "no remove action for 'mug'");
  await page.fill("#enroll-form input[name=label]", "pen");
  await page.click("#enroll-form [data-action=enroll]");
  await page.waitForFunction(() => (document.querySelector("#enroll-result") || {}).textContent.includes("sent"), null,
                             { timeout: 10000 }).catch(async () => fail("enroll from the page: " + (await text("#enroll-result"))));

  // --- a lost live connection ----------------------------------------------------------------
  await page.waitForSelector("#live-status[data-state=live], #live-status[data-state=reconnected]", { timeout: 5000 });
  writeFileSync(join(control, "restart-gateway"), "");
  await page.waitForSelector("#live-status[data-state=lost]", { timeout: 15000 })
    .catch(() => fail("the page did not say the live connection was lost"));
  const lost = await text("#live-status");
  check(lost.includes("reconnecting"), "lost connection message: " + lost);
  for (let i = 0; i < 200 && !existsSync(join(control, "gateway-restarted")); i++) await sleep(50);
  await page.waitForSelector("#live-status[data-state=reconnected]", { timeout: 20000 })
    .catch(() => fail("the page did not reconnect after the gateway restarted"));
  console.log(`live: "${lost}" then "${await text("#live-status")}"`);

  if (consoleErrors.length) fail("console errors: " + consoleErrors.join(" | "));
} catch (e) {
  fail(e.message);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
