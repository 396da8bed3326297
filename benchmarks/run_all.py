"""Run every ``benchmarks/bench_*.py`` and write ``benchmarks/RESULTS.md``.

    .venv/bin/python benchmarks/run_all.py [-k NAME] [--timeout SECONDS]

Each bench runs in a fresh interpreter (one run each); its markdown table(s) are copied into
RESULTS.md under one section per bench, with the command, the date and the machine. A bench
that fails or prints no table gets its exit status and the tail of its output instead, so a
broken bench is visible rather than silently missing.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def tables(text: str) -> list[str]:
    """The markdown tables in ``text`` (runs of lines starting with ``|``)."""
    out: list[str] = []
    cur: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            cur.append(line.strip())
        elif cur:
            out.append("\n".join(cur))
            cur = []
    if cur:
        out.append("\n".join(cur))
    return [t for t in out if t.count("\n") >= 2]  # header, rule and at least one row


_DASHES = re.compile(r"^[-=+| ]{3,}$")
_GAP = re.compile(r"\s{2,}")


def text_tables(text: str) -> tuple[list[str], list[str]]:
    """Fixed-width text tables (columns two or more spaces apart) as markdown, and the other
    lines (captions, notes). A table is a header and at least one row with the same number
    (>= 2) of cells; rules of dashes are skipped."""
    found: list[str] = []
    notes: list[str] = []
    run: list[list[str]] = []

    def flush() -> None:
        if len(run) >= 2:
            head, *rows = run
            md = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            md += ["| " + " | ".join(r) + " |" for r in rows]
            found.append("\n".join(md))
        else:
            notes.extend("  ".join(r) for r in run)
        run.clear()

    for line in text.splitlines():
        if _DASHES.match(line.strip() or "x"):
            continue
        cells = _GAP.split(line.strip()) if line.strip() else []
        if len(cells) >= 2 and (not run or len(cells) == len(run[0])):
            run.append(cells)
            continue
        flush()
        if len(cells) >= 2:
            run.append(cells)
        elif line.strip():
            notes.append(line.strip())
    flush()
    return found, notes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="only benches whose file name contains this")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    benches = sorted(p for p in HERE.glob("bench_*.py") if args.k in p.name)
    if not benches:
        print("no benches", file=sys.stderr)
        return 1
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    sections = []
    failed = 0
    for path in benches:
        cmd = [sys.executable, str(path.relative_to(ROOT))]
        print(f"== {path.name}", flush=True)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=args.timeout)
            code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as e:
            code, stdout, stderr = "timeout", (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), ""
        took = time.perf_counter() - t0
        print(stdout, end="", flush=True)
        found = tables(stdout)
        notes = [ln.strip().lstrip("#").strip() for ln in stdout.splitlines()
                 if ln.strip() and not ln.lstrip().startswith("|") and not ln.startswith("JSON ")]
        if not found:  # a bench printing a fixed-width text table
            found, notes = text_tables(stdout)
        head = f"## {path.stem}\n\n`.venv/bin/python {path.relative_to(ROOT)}` ({took:.0f} s)\n"
        if code == 0 and found:
            text = "".join(f"> {n}  \n" for n in notes)
            sections.append(head + "\n" + (text + "\n" if text else "") + "\n\n".join(found) + "\n")
        else:
            failed += 1
            tail = "\n".join((stdout + "\n" + stderr).strip().splitlines()[-15:])
            sections.append(head + f"\n**failed** (exit {code}{', no table' if code == 0 else ''}):\n\n```\n{tail}\n```\n")
            print(f"!! {path.name} failed (exit {code})\n{tail}", file=sys.stderr)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        "# Benchmark results\n\n"
        f"Written by `benchmarks/run_all.py` on {now}; {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}. One run per bench, "
        "medians of repeats inside each; a shared, noisy machine: read ratios, not digits.\n\n"
    )
    args.out.write_text(header + "\n".join(sections))
    print(f"wrote {args.out} ({len(benches) - failed}/{len(benches)} benches ok)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
