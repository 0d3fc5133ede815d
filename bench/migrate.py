"""Benchmark: ``workbench migrate`` of the sample into PostgreSQL, against the floor of one COPY per table.

The design is the sample's, derived from its schema alone (introspect, decompose, design: no
workload, so no read models whose size depends on a simulated workload). In a fresh PostgreSQL
database created and dropped here, it times side by side:

- ``migrate``: :func:`workbench.migrate.migrate` end to end (namespaces and tables, rows in
  checkpointed chunks, foreign keys checked and declared, identities restarted; no Alembic);
- ``floor``: the same tables created beforehand (not timed), then the same legacy rows (the same
  SELECTs on the SQLite sample) loaded with one ``COPY ... FROM STDIN`` per table in one
  transaction: no chunks, no checkpoints, no checks.

Each is the best of ``--runs`` runs (interleaved, each into fresh namespaces). It prints one JSON
line; the aim is ``ratio`` (migrate rows/s over floor rows/s) of at least 0.5.

Usage: ``python bench/migrate.py [--sample sample_db/retail.sqlite] [--runs 2] [--chunk-size 20000]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.decompose import decompose  # noqa: E402
from workbench.design import design as make_design  # noqa: E402
from workbench.design.model import Design  # noqa: E402
from workbench.introspect import introspect  # noqa: E402
from workbench.migrate import migrate  # noqa: E402
from workbench.migrate.copy import write  # noqa: E402
from workbench.migrate.create import prepare  # noqa: E402
from workbench.migrate.target import Target, with_prefix  # noqa: E402
from workbench.migrate.units import units  # noqa: E402

PG_ADMIN_URL = os.environ.get("WORKBENCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def sample_design(sample: Path) -> Design:
    """The sample's design from its schema alone (deterministic: fixed decomposition seed)."""
    schema = introspect(f"sqlite:///{sample}", progress=False)
    return make_design(schema, decompose(schema, None, stability=0, progress=False), None)


def floor(source: str, target: str, d: Design) -> tuple[int, float]:
    """(rows, seconds): the design's rows loaded with one COPY per table, tables created beforehand."""
    where = Target.parse(target)
    for service in d.services:
        prepare(where, d, service)
    engine = sa.create_engine(source)
    rows = 0
    start = time.perf_counter()
    with engine.connect() as sconn:
        for service in sorted(d.services):
            tengine = where.engine(d, service)
            with tengine.begin() as tconn:
                for unit in units(d, service):
                    data = [tuple(r) for r in sconn.execute(unit.source_select("sqlite"))]
                    write(tconn, "postgresql", unit.table, where.schema(d, service), unit.columns, data)
                    rows += len(data)
    seconds = time.perf_counter() - start
    engine.dispose()
    where.dispose()
    return rows, seconds


def timed_migrate(source: str, target: str, d: Design, chunk_size: int) -> tuple[int, float]:
    start = time.perf_counter()
    result = migrate(source, target, d, chunk_size=chunk_size, alembic=False, progress=False)
    return result.copied, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", default=str(ROOT / "sample_db" / "retail.sqlite"))
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=20_000)
    args = parser.parse_args()
    sample = Path(args.sample)
    if not sample.exists():
        from workbench.sample import build

        build(sample)
    source = f"sqlite:///{sample}"
    d = sample_design(sample)
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    name = f"wb_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    target = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    best: dict[str, tuple[int, float]] = {}
    try:
        for run in range(args.runs):
            for label in ("floor", "migrate"):
                prefixed = with_prefix(d, f"{label}{run}_")
                rows, seconds = floor(source, target, prefixed) if label == "floor" else \
                    timed_migrate(source, target, prefixed, args.chunk_size)
                if label not in best or seconds < best[label][1]:
                    best[label] = (rows, seconds)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    rows, seconds = best["migrate"]
    floor_rows, floor_seconds = best["floor"]
    rate, floor_rate = rows / seconds, floor_rows / floor_seconds
    print(json.dumps({
        "bench": "migrate", "target": "postgresql", "services": len(d.services), "rows": rows,
        "floor_rows": floor_rows, "chunk_size": args.chunk_size, "migrate_s": round(seconds, 2),
        "migrate_rows_per_s": round(rate), "floor_s": round(floor_seconds, 2), "floor_rows_per_s": round(floor_rate),
        "ratio": round(rate / floor_rate, 3), "aim": 0.5, "ok": rate / floor_rate >= 0.5 and rows == floor_rows,
    }))


if __name__ == "__main__":
    main()
