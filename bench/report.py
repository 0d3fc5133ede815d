"""Benchmark: ``make demo``'s render, every stage on the sample database, timed per stage against 2 minutes.

Renders the stages with :func:`workbench.report.render_engagement` (the engagement of
``engagement.example.yaml``, i.e. the sample SQLite database) into a temporary folder, or into
``--out``, and prints one JSON line: seconds per stage (kernel start, execution, clean-up and the
page export), the title page included in ``total``, and whether the total meets the aim.

Usage: ``python bench/report.py [--db URL] [--out DIR] [--aim 120]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.engagement import load_engagement  # noqa: E402
from workbench.report import StageRun, render_engagement  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "engagement.example.yaml"), help="engagement file")
    parser.add_argument("--db", help="database URL instead of the engagement's (default: the sample)")
    parser.add_argument("--out", help="report folder (default: a temporary one, removed afterwards)")
    parser.add_argument("--aim", type=float, default=120.0, help="seconds the whole render should stay under")
    args = parser.parse_args(argv)

    engagement = load_engagement(args.config)
    if args.db:
        engagement.database.url = args.db
    stages: dict[str, float] = {}
    failed: list[str] = []

    def record(run: StageRun) -> None:
        stages[run.stage] = run.seconds
        if run.status != "ok":
            failed.append(run.stage)

    with tempfile.TemporaryDirectory(prefix="wb-bench-report-") as tmp:
        out = Path(args.out) if args.out else Path(tmp)
        began = time.perf_counter()
        render_engagement(engagement, out, progress=False, on_stage=record)
        total = round(time.perf_counter() - began, 1)
    print(json.dumps({"bench": "report", "stages_s": stages, "total_s": total, "aim_s": args.aim,
                      "within_aim": total <= args.aim, "failed": failed}))  # fmt: skip
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
