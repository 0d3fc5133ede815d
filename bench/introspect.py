"""Benchmark: ``workbench introspect`` on big synthetic catalogs, against the floor and against reflect().

For each size (default 500, 2,000 and 5,000 tables, ~2 foreign keys and one index per table) and
each backend (SQLite in a temporary file; PostgreSQL in a fresh database created and dropped
here), it times:

- ``introspect``: :func:`workbench.introspect.introspect` on the catalog (best of a few runs,
  interleaved with the floor's so both meet the same load on a shared machine);
- ``floor``: the fewest raw catalog queries that fetch the same facts, run on the bare DBAPI
  connection (SQLite: the pragma table-valued functions plus row counts and ``dbstat``;
  PostgreSQL: four ``pg_catalog`` queries);
- ``reflect``: SQLAlchemy's plain ``MetaData.reflect()``, in a child process killed after a
  per-size time budget (reported as null with a note when skipped or killed).

It prints one JSON line per size and backend. The aim: introspect within 3x of the floor, and
``tables_per_s`` roughly constant across sizes (linear in tables).

Usage: ``python bench/introspect.py [--sizes 500,2000] [--backends sqlite,postgresql] [--reflect-budget 60]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.introspect import introspect  # noqa: E402

PG_ADMIN_URL = os.environ.get("WORKBENCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SEED = 20260101


def catalog_ddl(n: int, seed: int = SEED) -> list[str]:
    """``n`` tables, each with a primary key, four data columns, ~2 foreign keys to earlier tables, one index."""
    rng = random.Random(seed)
    statements = []
    for i in range(n):
        refs = sorted(set(rng.randrange(i) for _ in range(2))) if i else []
        fk_cols = "".join(f", ref{j}_id INTEGER REFERENCES t{r:05d} (id)" for j, r in enumerate(refs))
        statements.append(
            f"CREATE TABLE t{i:05d} (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, "
            f"amount NUMERIC(12, 2) DEFAULT 0, created DATE, note TEXT{fk_cols})"
        )
        statements.append(f"CREATE INDEX ix_t{i:05d}_name ON t{i:05d} (name)")
    return statements


def best_of(fn: Callable[[], object], runs: int) -> float:
    """Fastest of ``runs`` timings: the least disturbed by other work on the machine."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


# ---------------------------------------------------------------------------------------- SQLite


def sqlite_build(path: Path, n: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.executescript("BEGIN;\n" + ";\n".join(catalog_ddl(n)) + ";\nCOMMIT;")


def sqlite_floor(path: Path) -> None:
    """The same facts as introspect, in the fewest raw queries (pragma table-valued functions)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        user = "m.name NOT LIKE 'sqlite~_%' ESCAPE '~'"
        names = [
            r[1]
            for r in conn.execute(
                f"SELECT m.type, m.name, m.sql FROM sqlite_master m WHERE m.type IN ('table','view') AND {user}"
            ).fetchall()
        ]
        conn.execute(
            f"SELECT m.name, p.* FROM sqlite_master m JOIN pragma_table_xinfo(m.name, 'main') p "
            f"WHERE m.type IN ('table','view') AND {user}"
        ).fetchall()
        conn.execute(
            f"SELECT m.name, f.* FROM sqlite_master m JOIN pragma_foreign_key_list(m.name, 'main') f "
            f"WHERE m.type = 'table' AND {user}"
        ).fetchall()
        conn.execute(
            f"SELECT m.name, il.*, ii.* FROM sqlite_master m JOIN pragma_index_list(m.name, 'main') il "
            f"JOIN pragma_index_info(il.name, 'main') ii WHERE m.type = 'table' AND {user}"
        ).fetchall()
        for start in range(0, len(names), 400):
            chunk = names[start : start + 400]
            conn.execute(
                " UNION ALL ".join(f"SELECT {i}, COUNT(*) FROM \"{name}\"" for i, name in enumerate(chunk))
            ).fetchall()
        conn.execute("SELECT name, pgsize FROM dbstat('main', 1)").fetchall()
        conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')").fetchall()
    finally:
        conn.close()


# ------------------------------------------------------------------------------------ PostgreSQL

_PG_FILTER = "n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"
PG_FLOOR = [
    f"""SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples, pg_total_relation_size(c.oid),
        obj_description(c.oid, 'pg_class'), CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm') AND {_PG_FILTER}""",
    f"""SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
        pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum)
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm') AND {_PG_FILTER}""",
    f"""SELECT con.conrelid, con.conname, con.contype, con.conkey, con.confrelid, con.confkey,
        con.confupdtype, con.confdeltype
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE con.contype IN ('p', 'f', 'u') AND {_PG_FILTER}""",
    f"""SELECT i.indrelid, ic.relname, i.indisunique, i.indkey::int2[], pg_get_expr(i.indexprs, i.indrelid)
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisprimary AND {_PG_FILTER}""",
]


def pg_build(url: str, n: int) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    statements = catalog_ddl(n)
    try:
        for start in range(0, len(statements), 500):  # one transaction per batch: lock table limits
            with engine.begin() as conn:
                conn.exec_driver_sql(";\n".join(statements[start : start + 500]))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")  # outside a transaction block: one lock set per table
    finally:
        engine.dispose()


def pg_floor(url: str) -> None:
    import psycopg

    dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, options="-c default_transaction_read_only=on") as conn:
        for query in PG_FLOOR:
            conn.execute(query).fetchall()


# ------------------------------------------------------------------------------------- reflect()

_REFLECT = """
import sys, time, sqlalchemy as sa
engine = sa.create_engine(sys.argv[1], poolclass=sa.pool.NullPool)
start = time.perf_counter()
sa.MetaData().reflect(engine, views=True)
print(time.perf_counter() - start)
"""


def reflect_seconds(url: str, budget: float) -> tuple[float | None, str | None]:
    """Time ``MetaData.reflect()`` in a child process; (None, why) when over ``budget`` seconds."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _REFLECT, url], capture_output=True, text=True, timeout=budget, check=True
        )
    except subprocess.TimeoutExpired:
        return None, f"killed after the {budget:.0f}s budget"
    except subprocess.CalledProcessError as exc:
        return None, f"failed: {exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else exc.returncode}"
    return float(done.stdout.strip().splitlines()[-1]), None


# ------------------------------------------------------------------------------------------ main


def count_statements(url: str) -> int:
    """Statements introspect sends (the round trips the bulk paths keep constant)."""
    seen = []

    def _count(*_args: object) -> None:
        seen.append(1)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", _count)
    try:
        introspect(url, progress=False)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", _count)
    return len(seen)


def measure(backend: str, url: str, n: int, budget: float, last_reflect: tuple[int, float] | None) -> dict:
    runs = 5 if n <= 2000 else 3
    schema = introspect(url, progress=False)
    assert len(schema.base_tables) == n, f"expected {n} tables, introspect saw {len(schema.base_tables)}"
    fks = sum(len(t.foreign_keys) for t in schema.tables)
    floor_fn = (lambda: sqlite_floor(Path(sa.make_url(url).database or ""))) if backend == "sqlite" else (
        lambda: pg_floor(url)
    )
    # Interleaved, best of each: on a shared machine both sides then see the same disturbances.
    seconds, floor = float("inf"), float("inf")
    for _ in range(runs):
        seconds = min(seconds, best_of(lambda: introspect(url, progress=False), 1))
        floor = min(floor, best_of(floor_fn, 1))
    exact_s = best_of(lambda: introspect(url, exact_counts=True, progress=False), 1)
    note = None
    reflect: float | None
    if last_reflect is not None and last_reflect[1] * n / last_reflect[0] > budget:
        reflect, note = None, f"skipped: projected {last_reflect[1] * n / last_reflect[0]:.0f}s > {budget:.0f}s budget"
    else:
        reflect, note = reflect_seconds(url, budget)
    return {
        "backend": backend,
        "tables": n,
        "foreign_keys": fks,
        "statements": count_statements(url),
        "introspect_s": round(seconds, 3),
        "tables_per_s": round(n / seconds, 1),
        "floor_s": round(floor, 3),
        "exact_counts_s": round(exact_s, 3),
        "ratio_to_floor": round(seconds / floor, 2),
        "reflect_s": None if reflect is None else round(reflect, 3),
        "ratio_to_reflect": None if reflect is None else round(seconds / reflect, 3),
        "reflect_note": note,
    }


def run_sqlite(sizes: list[int], budget: float) -> None:
    last: tuple[int, float] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"catalog_{n}.sqlite"
            sqlite_build(path, n)
            result = measure("sqlite", f"sqlite:///{path}", n, budget, last)
            if result["reflect_s"] is not None:
                last = (n, result["reflect_s"])
            print(json.dumps(result), flush=True)


def run_postgresql(sizes: list[int], budget: float) -> None:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    last: tuple[int, float] | None = None
    try:
        for n in sizes:
            name = f"wb_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
            try:
                pg_build(url, n)
                result = measure("postgresql", url, n, budget, last)
                if result["reflect_s"] is not None:
                    last = (n, result["reflect_s"])
                print(json.dumps(result), flush=True)
            finally:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,2000,5000", help="comma-separated table counts")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--reflect-budget", type=float, default=60.0, help="seconds allowed to reflect() per size")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    for backend in args.backends.split(","):
        if backend == "sqlite":
            run_sqlite(sizes, args.reflect_budget)
        elif backend == "postgresql":
            run_postgresql(sizes, args.reflect_budget)
        else:
            parser.error(f"unknown backend: {backend}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
