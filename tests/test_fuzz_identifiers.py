"""Property tests: arbitrary table and column names through introspection, design DDL and migration.

Names are drawn from all of Unicode, with quotes, ``%``, dots, line breaks, reserved words and
lengths around each server's limit. From a SQLite legacy database holding them: introspection
gives them back exactly; the design's DDL compiles for every dialect and runs on SQLite creating
exactly those names; a migration into SQLite (many examples) and into PostgreSQL and MariaDB (a
few) either verifies equal or stops, before creating anything, with a one-line error naming
the table -- never a traceback. ``make fuzz`` runs many more examples.
"""

from __future__ import annotations

import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fuzzing import examples
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from servers import admin_engine, fresh_database

from workbench.decompose.model import Decomposition, Service
from workbench.design import DIALECTS, write_design
from workbench.design import design as make_design
from workbench.design.ddl import statements
from workbench.errors import TargetError
from workbench.introspect import introspect
from workbench.migrate import migrate
from workbench.migrate.target import with_prefix
from workbench.migrate.verify import verify

pytestmark = pytest.mark.fuzz

RESERVED = ["select", "from", "order", "group", "table", "user", "where", "desc", "key", "index", "primary", "check",
            "default", "end", "limit", "offset", "range", "rows", "window", "all", "Order", "SELECT"]
names = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1,
            max_size=24),
    st.sampled_from(RESERVED),
    st.text(st.sampled_from("%.\"'`[]\\;- _aZ9\n\t"), min_size=1, max_size=12),
    st.tuples(st.sampled_from(["", "x" * 50, "y" * 60]), st.text(st.sampled_from("ab%.é😀 "), min_size=1, max_size=12))
    .map("".join),
).filter(lambda n: not n.lower().startswith("sqlite_"))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@st.composite
def legacy_tables(draw: st.DrawFn) -> dict[str, list[str]]:
    """1-3 tables (names distinct without case, as SQLite compares them) of 1-3 columns besides ``id``."""
    tables = draw(st.lists(names, min_size=1, max_size=3, unique_by=str.lower))
    out = {}
    for t in tables:
        cols = draw(st.lists(names.filter(lambda n: n.lower() != "id"), min_size=1, max_size=3, unique_by=str.lower))
        out[t] = cols
    return out


def _build(path: Path, tables: dict[str, list[str]]) -> str:
    with sqlite3.connect(path) as conn:
        for t, cols in tables.items():
            conn.execute(f"CREATE TABLE {_q(t)} (id INTEGER PRIMARY KEY, {', '.join(_q(c) + ' TEXT' for c in cols)})")
            conn.executemany(f"INSERT INTO {_q(t)} VALUES (?{', ?' * len(cols)})",
                             [(i, *(f"{c}:{i}" for c in cols)) for i in range(1, 4)])
    return f"sqlite:///{path}"


def _design(url: str, tables: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    schema = introspect(url, progress=False)
    assert {t.key: [c.name for c in t.columns] for t in schema.tables} == {t: ["id", *c] for t, c in tables.items()}
    assert all(t.schema is None for t in schema.tables)
    return make_design(schema, Decomposition(services={"svc": Service(sorted(tables))}), findings=[])


@given(tables=legacy_tables())
@settings(max_examples=examples(12, 300))
def test_any_names_through_introspect_ddl_and_a_sqlite_migration(tables: dict[str, list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = _build(folder / "legacy.sqlite", tables)
        d = _design(source, tables)
        for dialect in DIALECTS:  # compiles for every dialect
            assert statements(d, "svc", dialect)
        write_design(d, folder / "design", DIALECTS)
        doubled = any("%%" in n for t, cols in tables.items() for n in (t, *cols))
        for script in (folder / "design" / "ddl").glob("*/*.sql"):
            assert doubled or "%%" not in script.read_text(encoding="utf-8"), script  # '%' written once
        conn = sqlite3.connect(folder / "check.sqlite")
        with (folder / "design" / "ddl" / "sqlite" / "svc.sql").open(encoding="utf-8", newline="") as ddl:
            conn.executescript(ddl.read())  # newline="": a name holding "\r" is read as written
        created = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        conn.close()
        assert set(tables) <= created
        result = migrate(source, folder / "target", d, design_dir=folder / "design", progress=False)
        assert result.ok
        assert verify(source, folder / "target", d, progress=False).ok


@pytest.fixture(scope="module")
def server_urls() -> Iterator[dict[str, str]]:
    with fresh_database("postgresql") as pg, fresh_database("mariadb") as my:
        yield {"postgresql": pg, "mariadb": my}


def _drop_namespace(backend: str, url: str, namespace: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        if backend == "postgresql":
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE')
        else:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{namespace}`")
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.mariadb
@given(tables=legacy_tables(), backend=st.sampled_from(["postgresql", "mariadb"]))
@example(tables={"pct%table": ["v%al", "select"], "dot.table": ["it's", 'q"uote'], "ünï :0": ["%(x)s", "naïve"]},
         backend="mariadb")
@example(tables={"pct%table": ["v%al", "select"], "dot.table": ["it's", 'q"uote'], "ünï :0": ["%(x)s", "😀"]},
         backend="postgresql")
@settings(max_examples=examples(6, 120), suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_names_migrate_into_the_servers_or_stop_in_one_line(tables: dict[str, list[str]], backend: str,
                                                                server_urls: dict[str, str]) -> None:
    admin_engine(backend).dispose()  # skips (fails under CI) without the server
    url = server_urls[backend]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = _build(folder / "legacy.sqlite", tables)
        d = _design(source, tables)
        run = f"{sa.make_url(url).database}_{uuid.uuid4().hex[:6]}_" if backend == "mariadb" else \
            f"r{uuid.uuid4().hex[:6]}_"
        d = with_prefix(d, run)
        namespace = d.service("svc").namespace
        try:
            try:
                result = migrate(source, url, d, alembic=False, progress=False)
            except TargetError as exc:
                assert "\n" not in str(exc) and str(exc).startswith("svc."), str(exc)
                engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
                with engine.connect() as conn:
                    assert namespace not in sa.inspect(conn).get_schema_names()
                engine.dispose()
                event(f"{backend}: stopped in one line (a name it cannot hold)")
                return  # stopped cleanly before creating anything
            assert result.ok
            assert verify(source, url, d, progress=False).ok
            event(f"{backend}: migrated and verified equal")
            # and read back by introspection, as a legacy database of that server would be
            found = {t.name: [c.name for c in t.columns] for t in introspect(url, schemas=[namespace],
                                                                                 progress=False).tables}
            for table, cols in tables.items():
                assert found[table] == ["id", *cols], table
        finally:
            _drop_namespace(backend, url, namespace)
