"""The real-schema benchmark runs end to end on the smallest dataset, so it cannot rot.

Not a timed test and not a quality bar: it checks that the bench loads a real schema, runs the
Decompose stage through the CLI as a user would, scores it against the answer key and its baselines,
and prints well-formed JSON lines. The corpus lives outside the project (``../shared/decomp-bench``);
where it is absent the test skips.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from decompose_real import corpus, name_prefix, purity  # noqa: E402


def test_baselines_and_purity_by_hand() -> None:
    tables = ["tabSales Invoice", "tabSales Order", "tabItem", "tabItem Price"]
    assert name_prefix(tables) == {"tabSales Invoice": "sales", "tabSales Order": "sales", "tabItem": "item",
                                   "tabItem Price": "item"}
    assert name_prefix(["m_loan", "m_loan_charge", "m_client", "acc_rule"], dominant=0.5)["m_loan_charge"] == "loan"
    assert purity({"a": "x", "b": "x", "c": "y"}, {"a": 1, "b": 2, "c": 2}) == pytest.approx(2 / 3)


def test_bench_runs_on_the_smallest_dataset() -> None:
    where = corpus()
    if where is None:
        pytest.skip("the real-schema corpus (../shared/decomp-bench) is not on this machine")
    smallest = min((p for p in where.iterdir() if (p / "schema.sql").exists()),
                   key=lambda p: (p / "schema.sql").stat().st_size)
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "decompose_real.py"), "--corpus", str(where),
                           "--datasets", smallest.name, "--modes", "default,k"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    rows = [r for r in lines if r.get("dataset") == smallest.name]
    assert {r["mode"] for r in rows} == {"default", "k"}
    for r in rows:
        assert -1.0 <= r["ari"] <= 1.0 and 0.0 <= r["nmi"] <= 1.0 and 0.0 <= r["purity"] <= 1.0
        assert set(r["baselines"]) == {"name_prefix", "name_prefix_dominant", "fk_louvain_median"}
        assert r["services"] >= 1 and r["seconds"] >= 0
    k_row = next(r for r in rows if r["mode"] == "k")
    assert k_row["clustered_services"] == k_row["domains"]  # --services K gives K services
    means = [r for r in lines if "mean_ari" in r]
    assert {m["mode"] for m in means} == {"default", "k"}
