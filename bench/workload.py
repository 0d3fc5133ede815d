"""Benchmark: ingesting a 1,000,000-statement PostgreSQL csvlog, against the floor and against sqlglot.

It writes the sample workload's csvlog (:func:`workbench.workload.simlog.write_logs`, 16 sessions,
simple and extended protocol, ``log_min_duration_statement = 0``) and times:

- ``floor``: reading and splitting the same file with the csv module, no SQL touched (best of 3);
- ``ingest``: :func:`workbench.workload.ingest` of the file into a workload (templates, tables,
  joins, transactions), in a child process that also reports its peak memory;
- ``sqlglot``: parsing every statement with sqlglot, measured on an evenly spaced sample of lines
  and extrapolated to the file.

Memory: the child's peak RSS growth over its baseline (after imports) for the whole file and for its
first fifth; bounded by templates rather than lines means the two are about the same.

It prints one JSON line. The aim: ``ingest`` at least a third of the floor's rate, memory bounded.
Rates are given on wall time and on CPU time (``process_time``): on a machine shared with other
work the CPU ratio is the steadier of the two.

Usage: ``python bench/workload.py [--lines 1000000] [--seed 7] [--sample 2000] [--keep DIR]`` (with
``--keep``, a log generated there before with the same lines and seed is reused).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlglot  # noqa: E402
from sqlglot.errors import SqlglotError  # noqa: E402

from workbench.workload.simlog import write_logs  # noqa: E402
from workbench.workload.sources import pg_csvlog  # noqa: E402

AIM = 1 / 3


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def child(path: str) -> None:
    """Run in a fresh process: ingest ``path``, print seconds, statements, templates and memory growth."""
    from workbench.workload import ingest

    baseline = _rss_kb()
    start, cpu = time.perf_counter(), time.process_time()
    workload = ingest([path], "pg_csvlog", progress=False)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "statements": workload.statements,
                      "templates": len(workload.templates),
                      "transactions": sum(t.count for t in workload.transactions),
                      "rss_growth_mb": round(max(0, peak - baseline) / 1024, 1)}))  # fmt: skip


def run_child(path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", str(path)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def floor(path: Path) -> tuple[float, float, int]:
    """Best wall and CPU seconds of reading and splitting the file (the same open() as the readers)."""
    best, best_cpu, rows = float("inf"), float("inf"), 0
    for _ in range(3):
        start, cpu = time.perf_counter(), time.process_time()
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            rows = sum(1 for _ in csv.reader(handle))
        best, best_cpu = min(best, time.perf_counter() - start), min(best_cpu, time.process_time() - cpu)
    return best, best_cpu, rows


def sqlglot_every_line(path: Path, sample: int, total: int) -> tuple[float, int]:
    """Seconds per statement when each raw statement is parsed (sampled evenly), and failures."""
    step = max(1, total // sample)
    statements = [sql for sql, *_ in itertools.islice(pg_csvlog.read(str(path), _NoIssues()), 0, None, step) if sql]
    statements = statements[:sample]
    failures = 0
    start = time.perf_counter()
    for sql in statements:
        try:
            sqlglot.parse(sql, read="postgres")
        except SqlglotError:
            failures += 1
    return (time.perf_counter() - start) / max(1, len(statements)), failures


class _NoIssues:
    def add(self, kind: str, text: str, count: int = 1, safe: bool = False) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="statements in the generated csvlog")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sample", type=int, default=2000, help="statements parsed by sqlglot to extrapolate")
    parser.add_argument("--keep", help="folder to keep the generated log in (default: a temporary one)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        path, summary = folder / "postgresql.csv", folder / "simulation.json"
        generate_s: float | None = None
        kept = json.loads(summary.read_text()) if summary.exists() and path.exists() else {}
        reuse = kept.get("seed") == args.seed and args.lines <= kept.get("statements", 0) <= args.lines * 1.01
        if not reuse:
            start = time.perf_counter()
            path = write_logs(folder, statements=args.lines, seed=args.seed, formats=["pg_csvlog"])["pg_csvlog"]
            generate_s = time.perf_counter() - start
        floor_s, floor_cpu, rows = floor(path)
        fifth = folder / "fifth.csv"
        with path.open(encoding="utf-8", newline="") as src, fifth.open("w", encoding="utf-8", newline="") as dst:
            csv.writer(dst, lineterminator="\n").writerows(itertools.islice(csv.reader(src), rows // 5))
        full = run_child(path)
        part = run_child(fifth)
        per_stmt, failures = sqlglot_every_line(path, args.sample, rows)
    ingest_rate = rows / full["seconds"]
    floor_rate = rows / floor_s
    ratio = floor_s / full["seconds"]
    cpu_ratio = floor_cpu / full["cpu_seconds"]  # steadier than wall time on a shared machine
    bounded = full["rss_growth_mb"] <= 1.5 * part["rss_growth_mb"] + 16
    result = {
        "bench": "workload",
        "lines": rows,
        "statements": full["statements"],
        "templates": full["templates"],
        "transactions": full["transactions"],
        "generate_s": round(generate_s, 1) if generate_s is not None else None,  # None: reused from --keep
        "floor_s": round(floor_s, 2),
        "floor_lines_per_s": round(floor_rate),
        "ingest_s": round(full["seconds"], 2),
        "ingest_lines_per_s": round(ingest_rate),
        "ingest_vs_floor": round(ratio, 3),
        "ingest_vs_floor_cpu": round(cpu_ratio, 3),
        "aim_vs_floor": round(AIM, 3),
        "sqlglot_every_line_s": round(per_stmt * rows, 1),
        "sqlglot_every_line_per_s": round(1 / per_stmt) if per_stmt else None,
        "sqlglot_sample": args.sample,
        "sqlglot_sample_failures": failures,
        "ingest_vs_sqlglot_every_line": round(per_stmt * rows / full["seconds"], 1),
        "rss_growth_mb": full["rss_growth_mb"],
        "rss_growth_mb_first_fifth": part["rss_growth_mb"],
        "memory_bounded_by_templates": bounded,
        "ok": max(ratio, cpu_ratio) >= AIM and bounded,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
