#!/usr/bin/env python3
"""Turns the raw outputs scripts/bench saved (build/bench/raw/<id>.txt) into the markdown
summary that heads build/bench/results.md and, with --readme, replaces the block between
<!-- bench:begin --> and <!-- bench:end --> in README.md.

Every figure comes from this run's outputs; the comparison figures (TFLite Micro) are the ones
published in ../shared/models/README.md. A benchmark that did not run leaves its lines out and
says so."""
import pathlib
import re
import sys

# ../shared/models/README.md: TFLite Micro on the Cortex-M4 (instructions per inference).
# (TFLM reference kernels, TFLM + CMSIS-NN) instructions per inference from ../shared/models/README.md;
# None where it gives no figure.
TFLM_M4_INSTRUCTIONS = {"kws": (133_965_370, 9_014_277), "vww": (None, 27_915_294),
                        "resnet": (None, 40_983_528), "ad01": (4_069_048, 775_682)}
KWS_KERNELS = "conv_2d depthwise_conv_2d average_pool_2d reshape fully_connected softmax"
MODEL_ORDER = ["kws", "vww", "resnet", "ad01"]


def number(text):
    """Google Benchmark's counters: 11.84k, 2.782k, 768."""
    scale = {"k": 1e3, "M": 1e6, "G": 1e9}
    if text and text[-1] in scale:
        return float(text[:-1]) * scale[text[-1]]
    return float(text)


def us(value, unit):
    return float(value) * {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[unit]


def grouped(n):
    return f"{n:,.0f}"


class Raw:
    def __init__(self, folder):
        self.folder = folder
        self.missing = []

    def text(self, name):
        path = self.folder / "raw" / f"{name}.txt"
        if not path.exists():
            self.missing.append(name)
            return None
        return path.read_text(errors="replace")


def runtime_section(raw):
    text = raw.text("runtime")
    if text is None:
        return []
    rows = {}
    pattern = re.compile(r"^(\w+)/(optimized|reference)/\S*_mean\s+[\d.]+ \w+\s+([\d.]+) (\w+)\s+\d+\s+(.*)$")
    for line in text.splitlines():
        m = pattern.match(line.strip())
        if not m:
            continue
        model, kernels, cpu, unit, counters = m.groups()
        entry = rows.setdefault(model, {})
        entry[kernels] = us(cpu, unit)
        for key, value in re.findall(r"(\w+)=([\d.]+[kMG]?)", counters):
            entry[key] = number(value)
    if not rows:
        return ["(bench_runtime printed no results)", ""]
    out = [
        "**Runtime on the host** (`bench_runtime`, CPU µs per inference, mean of 3; TFLite Micro's figures from "
        "`../shared/models/README.md`; our own reference kernels measured in the same run). Outputs are "
        "bit-identical to TFLite Micro's on every reference vector.",
        "",
        "| model | TinyEdge µs | our reference kernels µs | TFLM reference µs | speed-up | TFLM + CMSIS-NN µs | speed-up "
        "| arena bytes | TFLM M4 arena | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model in sorted(rows, key=lambda m: MODEL_ORDER.index(m) if m in MODEL_ORDER else 99):
        r = rows[model]
        ours = r.get("optimized")
        if ours is None:
            continue
        ref = r.get("tflm_ref_us", 0)
        cmsis = r.get("tflm_cmsis_us", 0)
        arena = r.get("arena_bytes", 0)
        ratio = r.get("arena_vs_tflm_m4", 0)
        own_ref = f"{r['reference']:,.0f}" if "reference" in r else "-"
        tflm_arena = grouped(arena / ratio) if ratio else "?"
        ours_text = f"{ours:,.0f}" if ours >= 100 else f"{ours:.1f}"
        out.append(f"| {model} | {ours_text} | {own_ref} | {ref:,.0f} | {ref / ours:.2f}× | {cmsis:,.0f} | "
                   f"{cmsis / ours:.2f}× | {grouped(arena)} | {tflm_arena} | {ratio:.2f} |")
    return out + [""]


# MLPerf Tiny's fastest published engine per model on a 120 MHz Cortex-M4 (NUCLEO-L4R5ZI), ms per
# inference, from ../shared/models/README.md.
PUBLISHED_MS = {"kws": 43.2, "vww": 88.9, "resnet": 165.0, "ad01": 4.05}
PUBLISHED_MHZ = 120
M4_BEGIN, M4_END = "<!-- bench:m4:begin -->", "<!-- bench:m4:end -->"


def hot_functions(text, count=3):
    """The first `count` lines of m4_cycles.py's function list as 'dsp::dot_rows 62 %'."""
    rows = re.findall(r"^\s+[\d,]+\s+([\d.]+)%\s+(.*)$", text, re.M)[:count]
    names = []
    for share, name in rows:
        if float(share) < 1:
            continue
        short = "::".join(name.split("(")[0].split("::")[-2:]).replace("(anonymous namespace)::", "")
        names.append(f"`{short}` {float(share):.0f} %")
    return ", ".join(names)


def m4_section(raw, header=""):
    out = [M4_BEGIN]
    if header:
        out += [header, ""]
    out += ["**Cortex-M4** (mps2-an386 under qemu-system-arm, -icount shift=0):", ""]
    size = raw.text("m4_size")
    if size is not None:
        m = re.search(r"(\d+) bytes of \.text", size)
        if m:
            out.append(f"- Runtime code, -Os Thumb-2 (loader, interpreter, every kernel): {grouped(int(m.group(1)))} "
                       "bytes of `.text` (`tests/bench/m4_size/m4_code_size.sh`).")
    kws_size = raw.text("m4_size_kws")
    m = re.search(r"(\d+) bytes of \.text", kws_size or "")
    if m:
        out.append(f"- The same with only kws's kernels (`KERNELS=\"{KWS_KERNELS}\"`): {grouped(int(m.group(1)))} bytes.")
    rows, cycle_rows, hot = [], [], []
    for model in MODEL_ORDER:
        tflm_ref, cmsis = TFLM_M4_INSTRUCTIONS[model]
        text = raw.text(f"m4_{model}") or ""
        m = re.search(r"(\d+) instructions per inference", text)
        if not m:
            continue
        ours = int(m.group(1))
        ref_text = f"{tflm_ref / 1e6:.2f} M | {tflm_ref / ours:.2f}×" if tflm_ref else "— | —"
        rows.append(f"| {model} | {ours / 1e6:.2f} M | {ref_text} | {cmsis / 1e6:.2f} M | {cmsis / ours:.2f}× |")
        c = re.search(r"(\d+) estimated cycles per inference \(P=1, DIV=2 \.\. P=3, DIV=12: (\d+) \.\. (\d+)\)", text)
        if c:
            est, low, high = (int(g) for g in c.groups())
            published = PUBLISHED_MS[model] * PUBLISHED_MHZ * 1e3
            cycle_rows.append(f"| {model} | {est / 1e6:.2f} M ({low / 1e6:.2f}–{high / 1e6:.2f}) | {est / ours:.2f} | "
                              f"{est / (PUBLISHED_MHZ * 1e3):.1f} ms | {PUBLISHED_MS[model]:g} ms ≈ {published / 1e6:.2f} M | "
                              f"{published / est:.2f}× |")
            hot.append(f"{model}: {hot_functions(text)}")
    if rows:
        out += ["", "Instructions per inference (`tests/bench/m4_size/m4_instructions.sh model.tem`):", "",
                "| model | TinyEdge | TFLM reference | TFLM ÷ TinyEdge | TFLM + CMSIS-NN | CMSIS-NN ÷ TinyEdge |",
                "|---|---|---|---|---|---|"] + rows
    if cycle_rows:
        out += ["", "Estimated Cortex-M4 cycles per inference (`m4_instructions.sh --cycles`: every executed "
                "instruction from qemu's trace, weighted by the Cortex-M4 TRM's timings, branch refill P = 2, "
                "range P = 1..3) against the fastest engine MLPerf Tiny published on a "
                f"{PUBLISHED_MHZ} MHz Cortex-M4 (NUCLEO-L4R5ZI). The estimate assumes zero wait states: it ignores "
                "flash wait states and the flash accelerator's misses, bus contention between instruction "
                "fetch and data, and the stall when a load's address depends on the instruction before it, "
                "so a board takes more cycles than this; the published figures are measured on the board.", "",
                f"| model | TinyEdge cycles (range) | cycles per instruction | at {PUBLISHED_MHZ} MHz | "
                "fastest published | published ÷ TinyEdge |",
                "|---|---|---|---|---|---|"] + cycle_rows
        out += ["", "Most cycles (`m4_instructions.sh --cycles` lists them): " + "; ".join(hot) + "."]
    return out + ["", M4_END, ""]


def fleet_section(raw):
    out = ["**Fleet** (real mosquitto on loopback, real SQLite file):", ""]
    ingest = raw.text("ingest")
    if ingest is not None:
        discard = re.search(r"discarding subscriber\s*:\s*(\d+)", ingest)
        stored = re.search(r"gateway into SQLite\s*:\s*(\d+)", ingest)
        ratio = re.search(r"ratio\s*:\s*([\d.]+) %", ingest)
        if discard and stored and ratio:
            out.append(f"- Gateway ingest, every commit fsynced (`bench_gateway_ingest 8 8 16 FULL 32768`): "
                       f"{grouped(int(stored.group(1)))} events/s into SQLite; the same generator delivers "
                       f"{grouped(int(discard.group(1)))} events/s to a subscriber that discards: "
                       f"{ratio.group(1)} % of the broker's rate.")
    scale = raw.text("ingest_scale")
    if scale is not None:
        discard = re.search(r"discarding subscriber\s*:\s*(\d+)", scale)
        sqlite = re.search(r"gateway into SQLite\s*:\s*(\d+)", scale)
        pg = re.findall(r"^(\d) gateways? into PostgreSQL:\s*(\d+)", scale, re.M)
        if discard and sqlite and pg:
            listed = ", ".join(f"{n} gateway{'s' if n != '1' else ''}: {grouped(int(rate))}" for n, rate in pg)
            out.append(f"- Ingest into one PostgreSQL (`bench_gateway_ingest 8 8 16 FULL 32768 scale`, server started by "
                       f"the benchmark, synchronous_commit=on), events/s: {listed}; in the same run "
                       f"{grouped(int(sqlite.group(1)))} into SQLite and {grouped(int(discard.group(1)))} to a "
                       "discarding subscriber.")
    nodes = raw.text("nodes")
    if nodes is not None:
        runs = re.findall(r"^\s*(\d+)\s+\d+\s+[\d.]+\s+([\d.]+)%", nodes, re.M)
        if runs:
            listed = ", ".join(f"{n} nodes: {float(p):.0f} %" for n, p in runs)
            out.append(f"- Host nodes in one `tinyedge-node` process at 1 result/s each (kws, `node_fleet_bench`), "
                       f"results received per result asked: {listed}.")
    rollout = raw.text("rollout")
    if rollout is not None:
        head = re.search(r"(\d+) nodes, payload (\d+) bytes", rollout)
        took = re.search(r"(\d+) activated, (\d+) failed, in ([\d.]+) s", rollout)
        wire = re.search(r"wire per node: (\d+) bytes.*= ([\d.]+) x payload", rollout)
        if head and took and wire:
            out.append(f"- Rollout of a package of {int(head.group(2)) / 1000:.0f} KB to {head.group(1)} host nodes "
                       f"(`bench_rollout`): {took.group(1)} activated, {took.group(2)} failed, in "
                       f"{float(took.group(3)):.1f} s; {grouped(int(wire.group(1)))} bytes on the wire per node = "
                       f"{wire.group(2)}× the payload.")
    dashboard = raw.text("dashboard")
    if dashboard is not None:
        # Its summary table: | backend | nodes | events | node p50 / p99 | stats p50 / p99 |
        # latency p50 / p99 | req/s |
        rows = re.findall(r"^\| (sqlite|postgres) \| (\d+) \| (\d+) \| ([\d.]+) / ([\d.]+) \| ([\d.]+) / ([\d.]+) \| "
                          r"([\d.]+) / ([\d.]+) \| ([\d.]+) \|$", dashboard, re.M)
        names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
        for (backend, nodes, events, node_p50, node_p99, stats_p50, stats_p99, lat_p50, lat_p99,
             rps) in dict(((r[0], r[1], r[2]), r) for r in rows).values():
            out.append(f"- Dashboard API over HTTP, {names[backend]}, {grouped(int(nodes))} nodes and "
                       f"{grouped(int(events))} events stored (`bench_dashboard`): "
                       f"GET /events for one node's last 100, p50 {node_p50} ms, p99 {node_p99} ms; "
                       f"GET /stats/labels over 24 h, p50 {stats_p50} ms, p99 {stats_p99} ms; "
                       f"GET /stats/latency over 24 h, p50 {lat_p50} ms, p99 {lat_p99} ms; "
                       f"{grouped(float(rps))} requests/s from 64 keep-alive clients.")
    console = raw.text("console")
    if console is not None:
        # Its table: | page | KB | requests | first paint ms | data shown ms | largest response |
        scale = re.search(r"^scale: (\d+) nodes, (\d+) events", console, re.M)
        rows = re.findall(r"^\| ([a-z][^|]*?) \| ([\d.]+) \| (\d+) \| (\d+) \| (\d+) \|", console, re.M)
        if rows:
            pages = "; ".join(f"{name} {kb} KB, first paint {fcp} ms, data shown {shown} ms"
                              for name, kb, _, fcp, shown in rows)
            out.append(f"- Operator's console in headless Chromium on a gateway holding "
                       f"{grouped(int(scale.group(1))) if scale else '?'} nodes and "
                       f"{grouped(int(scale.group(2))) if scale else '?'} events "
                       f"(`bench_console`, cold cache): {pages}.")
    return out + [""]


def only(folder):
    """'m4' when scripts/bench --only m4 made the folder, else 'all'."""
    path = folder / "only"
    return path.read_text().strip() if path.exists() else "all"


def summary(folder):
    raw = Raw(folder)
    header = (folder / "header.md").read_text().strip() if (folder / "header.md").exists() else ""
    if only(folder) == "m4":
        return "\n".join(m4_section(raw, header)).rstrip() + "\n"
    lines = [header, ""] if header else []
    lines += runtime_section(raw) + m4_section(raw) + fleet_section(raw)
    if raw.missing:
        lines.append(f"Not run this time: {', '.join(raw.missing)}.")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def splice_readme(readme, block, begin="<!-- bench:begin -->", end="<!-- bench:end -->"):
    """Replaces README's begin ... end block; the M4 part alone (scripts/bench --only m4) brings its own
    markers, so it replaces the block between them inside the whole run's block."""
    text = readme.read_text()
    if begin not in text or end not in text:
        sys.exit(f"bench_summary: {readme} has no {begin} ... {end} block to replace")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    if begin == M4_BEGIN:
        readme.write_text(f"{head}{block.rstrip()}{tail}")
    else:
        readme.write_text(f"{head}{begin}\n{block}{end}{tail}")


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: bench_summary.py BENCH_DIR [--readme README.md]")
    folder = pathlib.Path(sys.argv[1])
    block = summary(folder)
    if len(sys.argv) == 4 and sys.argv[2] == "--readme":
        if only(folder) == "m4":
            splice_readme(pathlib.Path(sys.argv[3]), block, M4_BEGIN, M4_END)
        else:
            splice_readme(pathlib.Path(sys.argv[3]), block)
    else:
        sys.stdout.write(block)


if __name__ == "__main__":
    main()
