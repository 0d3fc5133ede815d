"""Benchmark: the Decompose stage on real application schemas with known table ownership.

Reads every dataset of ``../shared/decomp-bench/`` in place (never copied into the project): loads its
``schema.sql`` into a temporary SQLite file, introspects it read-only and decomposes it exactly as
``workbench decompose sqlite:///FILE --out d.yaml`` does (default options), then again with
``--services`` set to the number of true domains. Each run is scored against ``ground_truth.csv``
(ARI, NMI, MoJoFM, purity), against the coarser partitions where the dataset has them, and, for a
dataset dominated by one huge domain (moodle's ``core``), on the other tables only.

The simple baselines of the corpus README are computed in the same run: name prefix, name prefix
after a dominant first word, and Louvain on the undirected FK graph (median ARI of seeds 0-9).

Prints one JSON line per dataset and mode, then one line of means. ``--datasets`` picks some;
``--ablation`` adds a mode per signal or treatment switched off (default options otherwise), the
ablation table of the closing notes.

The corpus is found at ``--corpus``, else ``$WORKBENCH_DECOMP_BENCH``, else ``../shared/decomp-bench``
beside the project (or beside the main checkout, for a worktree).

Usage: ``python bench/decompose_real.py [--corpus DIR] [--datasets a,b] [--modes default,k] [--ablation]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import networkx as nx  # noqa: E402

from workbench.cli import main as workbench  # noqa: E402
from workbench.decompose.metrics import ari, load_truth, mojofm, nmi  # noqa: E402
from workbench.decompose.model import load_decomposition  # noqa: E402

ABLATIONS = {
    "no_names": ["--weight", "name=0"],
    "no_key_specificity": ["--weight", "hub_damping=0"],
    "no_implied_keys": ["--weight", "implied_fk=0"],
    "no_roles": ["--no-roles"],
}
"""Mode -> the ``workbench decompose`` flags that switch one signal or treatment off."""


def corpus(given: Path | None = None) -> Path | None:
    """Where the real-schema corpus is, or None."""
    candidates = [given] if given else []
    if os.environ.get("WORKBENCH_DECOMP_BENCH"):
        candidates.append(Path(os.environ["WORKBENCH_DECOMP_BENCH"]))
    candidates.append(ROOT.parent / "shared" / "decomp-bench")
    common = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--path-format=absolute", "--git-common-dir"],
                            capture_output=True, text=True, check=False).stdout.strip()
    if common:  # a worktree: the corpus sits beside the main checkout
        candidates.append(Path(common).parent.parent / "shared" / "decomp-bench")
    return next((c for c in candidates if c and (c / "README.md").is_file()), None)
BIG_DOMAIN = 0.4
"""A domain holding more than this share of the tables dominates the full ARI; the bench also scores
the other tables alone (the corpus README's plugin-only ARI for moodle)."""


def words(name: str) -> list[str]:
    """A table name's words: split on ``_``, spaces and camelCase, lower-cased.

    >>> words("tabSales Invoice"), words("m_loan_charge"), words("BLC_ORDER_ITEM")
    (['tab', 'sales', 'invoice'], ['m', 'loan', 'charge'], ['blc', 'order', 'item'])
    """
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [w.lower() for w in re.split(r"[_\s]+", spaced) if w]


def name_prefix(tables: list[str], dominant: float | None = None) -> dict[str, str]:
    """The README's name-prefix baseline: the first word, after stripping a leading word every table
    shares (or, with ``dominant``, one at least that share of the tables starts with)."""
    split = {t: words(t) for t in tables}
    first = Counter(w[0] for w in split.values() if w)
    strip = {w for w, c in first.items() if c == len(tables) or (dominant is not None and c >= dominant * len(tables))}
    out = {}
    for t, w in split.items():
        rest = w[1:] if w and w[0] in strip and len(w) > 1 else w
        out[t] = rest[0] if rest else t
    return out


def fk_louvain(db: Path, tables: list[str], seed: int) -> dict[str, str]:
    """The README's fk-louvain baseline: Louvain on the undirected FK graph, weight 1 per linked pair."""
    g = nx.Graph()
    g.add_nodes_from(tables)
    with sqlite3.connect(db) as conn:
        for t in tables:
            for row in conn.execute(f'PRAGMA foreign_key_list("{t}")'):
                if row[2] != t and row[2] in g:
                    g.add_edge(t, row[2])
    parts = nx.community.louvain_communities(g, seed=seed)
    return {t: str(i) for i, part in enumerate(parts) for t in part}


def purity(found: Mapping[str, str], truth: Mapping[str, str]) -> float:
    """Share of tables whose service's most common true domain is their own."""
    by_service: dict[str, Counter[str]] = {}
    for t, s in found.items():
        if t in truth:
            by_service.setdefault(s, Counter())[truth[t]] += 1
    total = sum(sum(c.values()) for c in by_service.values())
    return sum(max(c.values()) for c in by_service.values()) / total if total else 0.0


def scores(found: Mapping[str, str], truth: Mapping[str, str], extra: Mapping[str, Mapping[str, str]]) -> dict:
    # tables the decomposition left unassigned count as services of their own
    full = {t: found.get(t, f"unassigned:{t}") for t in truth}
    out = {"ari": round(ari(full, truth), 4), "nmi": round(nmi(full, truth), 4),
           "mojofm": round(mojofm(full, truth), 2), "purity": round(purity(full, truth), 4)}
    for label, other in extra.items():
        common = {t: full[t] for t in other if t in full}
        out[f"ari_{label}"] = round(ari(common, other), 4)
    return out


def load(folder: Path, tmp: Path) -> tuple[Path, dict[str, str], dict[str, dict[str, str]]]:
    db = tmp / f"{folder.name}.sqlite"
    if not db.exists():
        with sqlite3.connect(db) as conn:
            conn.executescript((folder / "schema.sql").read_text(encoding="utf-8"))
    truth = load_truth(folder / "ground_truth.csv")
    extra: dict[str, dict[str, str]] = {}
    for path in sorted(folder.glob("ground_truth_*.csv")):
        extra[path.stem.removeprefix("ground_truth_")] = load_truth(path)
    sizes = Counter(truth.values())
    big, n = sizes.most_common(1)[0]
    if n > BIG_DOMAIN * len(truth):
        extra[f"without_{big}"] = {t: d for t, d in truth.items() if d != big}
    return db, truth, extra


def decompose_cli(db: Path, out: Path, flags: list[str]) -> tuple[dict[str, str], dict[str, str], dict, float]:
    """``workbench decompose sqlite:///DB --out OUT FLAGS`` in this process; services, contexts, parameters, s."""
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = workbench(["decompose", f"sqlite:///{db}", "--out", str(out), *flags])
    seconds = time.perf_counter() - started
    if code:
        raise SystemExit(f"workbench decompose failed with exit code {code} on {db.name}")
    d = load_decomposition(out)
    return d.assignment(), d.context_assignment(), {"services": d.services, "unassigned": d.unassigned}, seconds


def run(folder: Path, tmp: Path, modes: list[str]) -> list[dict]:
    db, truth, extra = load(folder, tmp)
    domains = len(set(truth.values()))
    tables = sorted(truth)
    base = {"name_prefix": name_prefix(tables), "name_prefix_dominant": name_prefix(tables, dominant=0.5)}
    louvain = [ari({t: a.get(t, t) for t in truth}, truth)
               for a in (fk_louvain(db, tables, s) for s in range(10))]
    baselines = {k: round(ari(v, truth), 4) for k, v in base.items()}
    baselines["fk_louvain_median"] = round(statistics.median(louvain), 4)
    best = max(baselines.values())
    rows = []
    for mode in modes:
        flags = ["--services", str(domains)] if mode == "k" else ABLATIONS.get(mode, [])
        found, contexts, d, seconds = decompose_cli(db, tmp / f"{folder.name}.{mode}.yaml", flags)
        sizes = [len(s.tables) for s in d["services"].values()]
        clustered = [len(s.tables) for s in d["services"].values() if s.kind == "domain"]
        placed = sizes + [1] * len(d["unassigned"])  # an unassigned table is a service of its own here
        scored = scores(found, truth, extra)
        rows.append({"bench": "decompose_real", "dataset": folder.name, "mode": mode, "tables": len(truth),
                     "domains": domains, "services": len(placed), "clustered_services": len(clustered),
                     "contexts": len(set(contexts.values())), "services_per_domain": round(len(placed) / domains, 2),
                     "small_service_share": round(sum(1 for s in placed if s <= 2) / len(placed), 3),
                     "unassigned": len(d["unassigned"]), **scored,
                     "contexts_ari": {label: round(ari({t: contexts.get(t, t) for t in other}, other), 4)
                                      for label, other in {"primary": truth, **extra}.items()},
                     "seconds": round(seconds, 2), "baselines": baselines, "best_baseline": best,
                     "ratio_to_best_baseline": round(scored["ari"] / best, 3) if best else None})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--datasets", help="comma-separated dataset names (default: all)")
    parser.add_argument("--modes", default="default,k", help="default (as a user runs it), k (--services = domains)")
    parser.add_argument("--ablation", action="store_true", help=f"also the modes {', '.join(ABLATIONS)}")
    args = parser.parse_args(argv)
    where = corpus(args.corpus)
    if where is None:
        print(json.dumps({"bench": "decompose_real", "error": "corpus not found (give --corpus or "
                                                                "$WORKBENCH_DECOMP_BENCH)"}))
        return 1
    names = args.datasets.split(",") if args.datasets else sorted(p.name for p in where.iterdir() if p.is_dir())
    modes = args.modes.split(",") + (list(ABLATIONS) if args.ablation else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            for row in run(where / name, Path(tmp), modes):
                print(json.dumps(row), flush=True)
                rows.append(row)
    for mode in modes:
        these = [r for r in rows if r["mode"] == mode]
        if these:
            print(json.dumps({"bench": "decompose_real", "mode": mode, "datasets": len(these),
                              "mean_ari": round(statistics.mean(r["ari"] for r in these), 4),
                              "mean_best_baseline": round(statistics.mean(r["best_baseline"] for r in these), 4),
                              "beats_best_baseline": sum(r["ari"] > r["best_baseline"] for r in these),
                              "within_2x_domains": sum(0.5 <= r["services_per_domain"] <= 2 for r in these),
                              "seconds": round(sum(r["seconds"] for r in these), 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
