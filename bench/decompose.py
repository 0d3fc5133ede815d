"""Benchmark: ``decompose`` end to end on a 5,000-table synthetic schema with planted domains.

The schema and its workload come from :func:`workbench.decompose.synthetic.planted` (50 domains of
~40 to ~190 tables; cross-domain keys, undeclared keys, uninformative names, shared lookups,
polymorphic cross-cutting tables, and business operations writing into neighbouring domains).
It times :func:`workbench.decompose.decompose` with its defaults, stability runs included, and
scores the result against the planted domains; then the same without the workload.

Prints one JSON line. The aim: under 60 s on the 2-core development machine. The ARI is reported, not
aimed at: the planted names are half random words shared across domains, unlike real schemas' names,
and the quality of the cut is judged on real schemas by ``bench/decompose_real.py``.

Usage: ``python bench/decompose.py [--tables 5000] [--domains 50] [--seed 0] [--stability 8]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.decompose import decompose  # noqa: E402
from workbench.decompose.metrics import ari, mojofm, nmi  # noqa: E402
from workbench.decompose.synthetic import planted  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=5000)
    parser.add_argument("--domains", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stability", type=int, default=8, help="stability runs (the decompose default)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    p = planted(args.tables, args.domains, seed=args.seed)
    generated = time.perf_counter() - started

    started = time.perf_counter()
    d = decompose(p.schema, p.workload, seed=args.seed, stability=args.stability, progress=False)
    seconds = time.perf_counter() - started
    found = d.assignment()

    started = time.perf_counter()
    schema_only = decompose(p.schema, seed=args.seed, stability=args.stability, progress=False)
    seconds_schema_only = time.perf_counter() - started

    print(json.dumps({
        "bench": "decompose",
        "tables": len(p.schema.tables),
        "domains": len(set(p.truth.values())),
        "statement_templates": len(p.workload.templates),
        "transaction_shapes": len(p.workload.transactions),
        "stability_runs": args.stability,
        "seconds": round(seconds, 2),
        "services": len(d.services),
        "ambiguous": len(d.ambiguous),
        "ari": round(ari(found, p.truth), 4),
        "nmi": round(nmi(found, p.truth), 4),
        "mojofm": round(mojofm(found, p.truth), 2),
        "seconds_schema_only": round(seconds_schema_only, 2),
        "ari_schema_only": round(ari(schema_only.assignment(), p.truth), 4),
        "generate_seconds": round(generated, 2),
        "aim": {"seconds": 60},
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
