#!/usr/bin/env python3
"""Estimated Cortex-M4 cycles per inference from qemu's execution trace.

m4_instructions.sh --cycles runs each probe under -singlestep -d exec,nochain and keeps, for every
pair of consecutive program counters, how often the second followed the first (edges<N>.txt:
"prev pc count", hex). This script disassembles the probe (arm-none-eabi-objdump), classifies every
executed instruction and weights it with the Cortex-M4 TRM's instruction timings (Table 3-1,
"Processor instruction set summary", zero wait states):

  data processing, MUL/MLA/MLS, long multiplies, every DSP instruction (SMLAD, SXTB16, SSAT...): 1
  SDIV/UDIV: 2..12 (operand dependent; the estimate takes 7)
  LDR/STR (single): 2, or 1 when it directly follows another single load/store (the TRM's note:
    neighbouring loads and stores pipeline their address and data phases)
  LDRD/STRD: 1 + 2; LDM/STM/PUSH/POP: 1 + N registers (+P when PC is loaded)
  branches: 1 not taken, 1 + P taken (TBB/TBH 2 + P), P the pipeline refill, 1..3 cycles
  IT: 1; an instruction writing PC: +P

The edge tells whether a branch was taken (the next PC is not the next instruction) and whether a
load followed a load. The estimate uses P = 2 and gives the range P = 1, DIV = 2 .. P = 3, DIV = 12.
It ignores flash wait states and the prefetch buffer, bus contention, the load-to-address
dependency stall and IT folding: a real board's count differs by those.

  m4_cycles.py zero.elf zero_edges.txt one.elf one_edges.txt [inferences]
prints instructions and cycles per class and the functions that take the most cycles, per
inference (the run with none subtracted, per class and per function name)."""
import collections
import re
import subprocess
import sys

CONDS = {"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al"}
LOAD = {"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrt", "ldrbt", "ldrht", "ldrsbt", "ldrsht", "ldrex"}
STORE = {"str", "strb", "strh", "strt", "strbt", "strht", "strex"}
DOUBLE = {"ldrd", "strd"}
MULTIPLE = {"ldm", "ldmia", "ldmfd", "ldmdb", "stm", "stmia", "stmea", "stmdb", "stmfd", "push", "pop"}
BRANCH = {"b", "bl", "bx", "blx", "cbz", "cbnz", "tbb", "tbh"}
MULTIPLY = {"mul", "muls", "mla", "mls", "umull", "smull", "umlal", "smlal", "umaal"}
DIVIDE = {"sdiv", "udiv"}
MAC = {"smlad", "smladx", "smlsd", "smlsdx", "smuad", "smuadx", "smusd", "smusdx", "smlald", "smlaldx",
       "smlsld", "smlsldx", "smlabb", "smlabt", "smlatb", "smlatt", "smlawb", "smlawt", "smulbb", "smulbt",
       "smultb", "smultt", "smulwb", "smulwt", "smlalbb", "smlalbt", "smlaltb", "smlaltt", "smmul", "smmulr",
       "smmla", "smmlar", "smmls", "smmlsr"}
SIMD = {"sxtb16", "sxtab16", "uxtb16", "uxtab16", "pkhbt", "pkhtb", "ssat", "usat", "ssat16", "usat16", "qadd",
        "qsub", "qdadd", "qdsub", "qadd8", "qadd16", "qsub8", "qsub16", "sadd8", "sadd16", "ssub8", "ssub16",
        "uadd8", "uadd16", "usub8", "usub16", "sel", "sxtab", "sxtah", "uxtab", "uxtah", "shadd8", "shadd16",
        "uqadd8", "uqsub8", "usad8", "usada8", "sasx", "ssax", "qasx", "qsax"}
KNOWN = LOAD | STORE | DOUBLE | MULTIPLE | BRANCH | MULTIPLY | DIVIDE | MAC | SIMD
CLASSES = ["load/store", "ldrd/strd", "ldm/stm/push/pop", "branch", "smlad & mac", "mul/mla", "div",
           "simd/extend/sat", "it", "alu"]


def base(mnemonic):
    """'ldrsb.w' -> 'ldrsb', 'movlt' -> 'movlt' (an ALU op either way), 'bls.n' -> 'b', 'popne' -> 'pop'."""
    m = mnemonic.split(".")[0]
    if m in KNOWN:
        return m
    if len(m) > 2 and m[-2:] in CONDS and m[:-2] in KNOWN:
        return m[:-2]
    return m


class Insn:
    __slots__ = ("size", "cls", "op", "regs", "writes_pc", "function")


def disassemble(elf):
    """address -> Insn for every instruction in the ELF's code."""
    text = subprocess.run(["arm-none-eabi-objdump", "-dC", elf],
                          check=True, capture_output=True, text=True).stdout
    insns = {}
    function = "?"
    head = re.compile(r"^([0-9a-f]+) <(.*)>:$")
    line_re = re.compile(r"^\s*([0-9a-f]+):\t([0-9a-f]{4})(?: ([0-9a-f]{4}))?\s*\t(\S+)\s*(.*)$")
    for line in text.splitlines():
        h = head.match(line)
        if h:
            function = h.group(2)
            continue
        m = line_re.match(line)
        if not m or m.group(4).startswith("."):
            continue
        i = Insn()
        i.size = 4 if m.group(3) else 2
        i.op = base(m.group(4))
        operands = m.group(5).split(";")[0]
        i.function = function
        i.regs = 0
        if "{" in operands:  # register list: count ranges like r4-r7 as four
            inside = operands[operands.index("{") + 1:operands.index("}")]
            for part in inside.split(","):
                part = part.strip()
                r = re.match(r"r(\d+)-r(\d+)", part)
                i.regs += int(r.group(2)) - int(r.group(1)) + 1 if r else 1
        first = operands.split(",")[0].strip()
        i.writes_pc = first == "pc" or ("pc" in operands and i.op in ("pop", "ldm", "ldmia", "ldmfd"))
        i.cls = classify(i.op)
        insns[int(m.group(1), 16)] = i
    return insns


def classify(op):
    if op in LOAD or op in STORE:
        return "load/store"
    if op in DOUBLE:
        return "ldrd/strd"
    if op in MULTIPLE:
        return "ldm/stm/push/pop"
    if op in BRANCH:
        return "branch"
    if op in MAC:
        return "smlad & mac"
    if op in MULTIPLY:
        return "mul/mla"
    if op in DIVIDE:
        return "div"
    if op in SIMD or op in ("sxtb", "sxth", "uxtb", "uxth"):
        return "simd/extend/sat"
    if re.fullmatch(r"it[te]{0,3}", op):
        return "it"
    return "alu"


def cycles(i, prev, refill, divide):
    """Cycles of instruction i entered from prev (None at the trace's start); a taken branch's refill
    is charged by profile(), which sees where the branch went."""
    if i.cls == "load/store":
        pipelined = prev is not None and prev.cls == "load/store"
        return (1 if pipelined else 2) + (refill if i.writes_pc else 0)
    if i.cls == "ldrd/strd":
        return 3
    if i.cls == "ldm/stm/push/pop":
        return 1 + i.regs + (refill if i.writes_pc else 0)
    if i.cls == "div":
        return divide
    if i.cls == "alu" and i.writes_pc:
        return 1 + refill
    return 1


def profile(elf, edges_path, refill, divide):
    """(instructions, cycles) per class and cycles per function over one trace."""
    insns = disassemble(elf)
    per_class = collections.defaultdict(lambda: [0, 0])
    per_function = collections.defaultdict(int)
    with open(edges_path) as f:
        for line in f:
            prev_text, pc_text, count_text = line.split()
            pc, count = int(pc_text, 16), int(count_text)
            prev_pc = int(prev_text, 16) if prev_text != "-" else None
            i = insns.get(pc)
            if i is None:  # the exception vectors' literal words or an address outside .text
                continue
            prev = insns.get(prev_pc) if prev_pc is not None else None
            c = cycles(i, prev, refill, divide)
            per_class[i.cls][0] += count
            per_class[i.cls][1] += c * count
            per_function[i.function] += c * count
            # A branch's refill shows on the edge it took: the next PC is not the next instruction.
            if prev is not None and prev.cls == "branch" and pc != prev_pc + prev.size:
                extra = refill + (1 if prev.op in ("tbb", "tbh") else 0)
                per_class["branch"][1] += extra * count
                per_function[prev.function] += extra * count
    return per_class, per_function


def per_inference(elfs, refill, divide, inferences):
    (zc, zf), (oc, of) = (profile(e, p, refill, divide) for e, p in elfs)
    classes = {k: [(oc[k][j] - zc[k][j]) / inferences for j in (0, 1)] for k in set(oc) | set(zc)}
    functions = {k: (of[k] - zf.get(k, 0)) / inferences for k in of}
    return classes, functions


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit("usage: m4_cycles.py zero.elf zero_edges.txt one.elf one_edges.txt [inferences]")
    elfs = [(sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])]
    n = int(sys.argv[5]) if len(sys.argv) == 6 else 1
    mid, mid_f = per_inference(elfs, 2, 7, n)
    low, _ = per_inference(elfs, 1, 2, n)
    high, _ = per_inference(elfs, 3, 12, n)
    total_insns = sum(v[0] for v in mid.values())
    total = {name: sum(v[1] for v in t.values()) for name, t in (("mid", mid), ("low", low), ("high", high))}
    print(f"{'class':<18} {'instructions':>13} {'cycles (P=2)':>13} {'share':>6}")
    for k in sorted(mid, key=lambda k: -mid[k][1]):
        if mid[k][0]:
            print(f"{k:<18} {mid[k][0]:>13,.0f} {mid[k][1]:>13,.0f} {mid[k][1] / total['mid']:>6.1%}")
    print(f"{'total':<18} {total_insns:>13,.0f} {total['mid']:>13,.0f}")
    print(f"{total['mid']:.0f} estimated cycles per inference (P=1, DIV=2 .. P=3, DIV=12: "
          f"{total['low']:.0f} .. {total['high']:.0f}), {total['mid'] / total_insns:.3f} cycles per instruction")
    print("functions by cycles (P=2):")
    for name, c in sorted(mid_f.items(), key=lambda kv: -kv[1])[:12]:
        if c > 0:
            print(f"  {c:>12,.0f} {c / total['mid']:>6.1%}  {name[:110]}")


if __name__ == "__main__":
    main()
