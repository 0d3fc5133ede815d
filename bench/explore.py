"""Benchmark: how fast the explorer answers a move, against rescoring the whole decomposition.

For each schema it decomposes once, then makes the same seeded random moves three ways, side by side:
``Explorer.move`` + ``metrics()`` (the incremental metrics), the baseline ``scoring.score`` on the
moved decomposition (what a what-if costs without them, graph already built), and a click on the
explorer widget's Move button (state, cards, metric table and the service map redrawn; no browser).

Schemas: moodle (489 tables) and erpnext (472) from ``shared/decomp-bench`` when that folder is
found beside the project, and a planted 800-table schema with a workload (where rescoring the
workload metrics is what costs). Prints one JSON line per schema and measurement, with the ratio
of the baseline's median to the measurement's. The aim: a move answered in well under a second.

Usage: ``python bench/explore.py [--moves 30] [--seed 0] [--corpus DIR]``
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.decompose import decompose  # noqa: E402
from workbench.decompose.explore import Explorer  # noqa: E402
from workbench.decompose.metrics import load_truth  # noqa: E402
from workbench.decompose.scoring import score  # noqa: E402
from workbench.decompose.synthetic import planted  # noqa: E402
from workbench.schema import Schema  # noqa: E402
from workbench.workload.model import Workload  # noqa: E402


def corpus(given: str | None) -> Path | None:
    if given:
        return Path(given)
    for parent in ROOT.parents:
        if (parent / "shared" / "decomp-bench").is_dir():
            return parent / "shared" / "decomp-bench"
    return None


def real_schema(folder: Path, tmp: Path) -> tuple[Schema, None, dict[str, str]]:
    from workbench.introspect import introspect

    db = tmp / f"{folder.name}.sqlite"
    con = sqlite3.connect(db)
    con.executescript((folder / "schema.sql").read_text())
    con.close()
    return introspect(f"sqlite:///{db}", progress=False), None, load_truth(folder / "ground_truth.csv")


def measure(name: str, schema: Schema, workload: Workload | None, truth: dict[str, str] | None, moves: int,
            seed: int) -> None:
    from workbench.decompose.widget import ExplorerWidget

    d = decompose(schema, workload, seed=seed, progress=False)
    started = time.perf_counter()
    x = Explorer(d, schema, workload, truth)
    setup = time.perf_counter() - started
    rng = random.Random(seed)
    plan: list[tuple[str, str]] = []
    while len(plan) < moves:
        table, service = rng.choice(x.tables()), rng.choice(x.services())
        if d.assignment().get(table) != service:
            plan.append((table, service))

    incremental, baseline = [], []
    for table, service in plan:
        started = time.perf_counter()
        x.move(table, service)
        x.metrics()
        incremental.append(time.perf_counter() - started)
        started = time.perf_counter()
        score(x.to_decomposition(), schema, workload, truth, x.weights, graph=x.graph)
        baseline.append(time.perf_counter() - started)

    ui = ExplorerWidget(Explorer(d, schema, workload, truth, graph=x.graph), Path(tempfile.mkdtemp()) / "d.yaml")
    clicks = []
    for table, service in plan:
        ui.table.value = table
        ui.target.value = service if service in ui.target.options else ui.target.options[0]
        started = time.perf_counter()
        ui.move_button.click()
        clicks.append(time.perf_counter() - started)

    base = statistics.median(baseline)
    common = {"bench": "explore", "schema": name, "tables": len(x.tables()), "services": len(d.services),
              "workload": workload is not None, "answer_key": truth is not None, "moves": moves,
              "explorer_setup_s": round(setup, 3), "baseline": "scoring.score() per move (graph reused)",
              "baseline_median_ms": round(1000 * base, 2), "baseline_max_ms": round(1000 * max(baseline), 2)}
    for what, times in (("move + metrics (incremental)", incremental),
                        ("widget Move click: state, cards, metrics, service map", clicks)):
        median = statistics.median(times)
        print(json.dumps({**common, "measure": what, "median_ms": round(1000 * median, 2),
                          "max_ms": round(1000 * max(times), 2), "ratio_baseline_to_this": round(base / median, 1)}),
              flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", help="the decomp-bench folder (default: shared/decomp-bench beside the project)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        found = corpus(args.corpus)
        for name in ("moodle", "erpnext"):
            if found and (found / name / "schema.sql").exists():
                schema, workload, truth = real_schema(found / name, Path(tmp))
                measure(name, schema, workload, truth, args.moves, args.seed)
            else:
                print(json.dumps({"bench": "explore", "schema": name, "skipped": "decomp-bench folder not found"}))
        p = planted(n_tables=800, n_domains=30, seed=args.seed)
        measure("planted-800 with workload", p.schema, p.workload, p.truth, args.moves, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
