"""Hostile identifiers on the real servers (issue 13 item 6).

``%`` in names (PostgreSQL targets; DDL files do not double it), a SQLite table named ``dot.table``
(not schema ``dot``), quotes and reserved words migrate and verify on every backend; names a
target cannot hold (PostgreSQL over 63 bytes, MariaDB trailing spaces, over 64 characters,
characters beyond U+FFFF) stop the migration in one line naming the table, before anything is
created; PostgreSQL ``INTERVAL`` reaches MariaDB as text that holds every value.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from workbench.decompose.model import Decomposition, Service
from workbench.design import design as make_design
from workbench.design import write_design
from workbench.design.model import Design
from workbench.errors import TargetError
from workbench.introspect import introspect
from workbench.migrate import migrate
from workbench.migrate.target import with_prefix
from workbench.migrate.verify import verify

HOSTILE = {  # table -> (column, value)
    "pct%table": ("v%al", "100%"),
    "dot.table": ("v.x", "dotted"),
    'quote"tbl': ("it's", "quoted"),
    "select": ("from", "reserved"),
    "Mixed Case": ("Spaced Column", "spaced"),
    "ünï": ("naïve", "unicode"),
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _source(path: Path, tables: dict[str, tuple[str, str]]) -> str:
    with sqlite3.connect(path) as conn:
        for table, (column, value) in tables.items():
            conn.execute(f"CREATE TABLE {_quote(table)} (id INTEGER PRIMARY KEY, {_quote(column)} TEXT)")
            conn.executemany(f"INSERT INTO {_quote(table)} VALUES (?, ?)", [(i, f"{value} {i}") for i in range(1, 6)])
    return f"sqlite:///{path}"


def _design(url: str) -> Design:
    schema = introspect(url, progress=False)
    return make_design(schema, Decomposition(services={"svc": Service(sorted(t.key for t in schema.tables))}),
                       findings=[])


def _target(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        return str(tmp_path / "target")
    return request.getfixturevalue("pg_url" if backend == "postgresql" else "mysql_url")


def _for(d: Design, backend: str, target: str) -> Design:
    return with_prefix(d, f"{sa.make_url(target).database}_") if backend == "mariadb" else d


def test_sqlite_dotted_table_is_one_name(tmp_path: Path) -> None:
    schema = introspect(_source(tmp_path / "s.sqlite", {"dot.table": ("v", "x")}), progress=False)
    (table,) = schema.tables
    assert (table.schema, table.name, table.key) == (None, "dot.table", "dot.table")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_hostile_names_migrate_and_verify(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    source = _source(tmp_path / "legacy.sqlite", HOSTILE)
    d = _design(source)
    folder = tmp_path / "design"
    write_design(d, folder, ["postgresql", "mysql", "sqlite"])
    for script in folder.glob("ddl/*/*.sql"):
        text = script.read_text(encoding="utf-8")
        assert "pct%table" in text and "%%" not in text, script
    target = _target(backend, request, tmp_path)
    d = _for(d, backend, target)
    result = migrate(source, target, d, design_dir=folder, progress=False)
    assert result.ok
    report = verify(source, target, d, progress=False)
    assert report.ok, report.problems()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'target' / 'svc.sqlite'}" if backend == "sqlite" else target)
    schema = None if backend == "sqlite" else d.service("svc").namespace
    try:
        with engine.connect() as conn:
            present = set(sa.inspect(conn).get_table_names(schema=schema))
            assert set(HOSTILE) <= present
            for table, (column, value) in HOSTILE.items():
                t = sa.table(table, sa.column("id"), sa.column(column), schema=schema)
                rows = conn.execute(sa.select(t.c[column]).order_by(t.c.id)).scalars().all()
                assert rows == [f"{value} {i}" for i in range(1, 6)], table
    finally:
        engine.dispose()


def _namespaces(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_schema_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize(("backend", "tables", "named"), [
    ("postgresql", {"a" * 60 + "_first_long_table": ("v", "x"), "a" * 60 + "_second_long_table": ("v", "y")},
     "_first_long_table"),
    ("postgresql", {"short": ("c" * 64, "x")}, "svc.short: column"),
    ("mariadb", {"trailing ": ("v", "x")}, "svc.trailing : the table name ends with white space"),
    ("mariadb", {"t" * 65: ("v", "x")}, "65 characters"),
    ("mariadb", {"emoji": ("😀", "x")}, "svc.emoji: column"),
    ("mariadb", {"case": ("v", "x"), "case2": ("V2", "y")}, None),  # control: these migrate
])
def test_names_the_target_cannot_hold_stop_before_anything(backend: str, tables: dict[str, tuple[str, str]],
                                                           named: str | None, request: pytest.FixtureRequest,
                                                           tmp_path: Path) -> None:
    source = _source(tmp_path / "legacy.sqlite", tables)
    target = _target(backend, request, tmp_path)
    d = _for(_design(source), backend, target)
    if named is None:
        assert migrate(source, target, d, alembic=False, progress=False).ok
        return
    with pytest.raises(TargetError) as info:
        migrate(source, target, d, alembic=False, progress=False)
    message = str(info.value)
    assert named in message and "\n" not in message, message
    assert d.service("svc").namespace not in _namespaces(target)  # nothing created, nothing copied


def test_two_columns_equal_but_for_case_stop_on_mariadb(tmp_path: Path, mysql_url: str) -> None:
    path = tmp_path / "legacy.sqlite"
    with sqlite3.connect(path):
        pass
    d = _design(_source(path, {"t": ("v", "x")}))
    d.service("svc").tables[0].table.columns[1].name = "ID"  # a PostgreSQL source can have "id" and "ID"
    with pytest.raises(TargetError, match="'id' and 'ID' are one name"):
        migrate(f"sqlite:///{path}", mysql_url, _for(d, "mariadb", mysql_url), alembic=False, progress=False)


@pytest.mark.postgres
@pytest.mark.mariadb
def test_postgresql_interval_reaches_mariadb_whole(pg_url: str, mysql_url: str, tmp_path: Path) -> None:
    values = ["1 year 2 mons 3 days 04:05:06.789", "-3 days", "900 hours", "00:00:01.5", None, "-1000 hours -1 us"]
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE spans (id int PRIMARY KEY, d interval)")
        for i, v in enumerate(values):
            conn.execute(sa.text("INSERT INTO spans VALUES (:i, CAST(:v AS interval))"), {"i": i, "v": v})
    engine.dispose()
    schema = introspect(pg_url, progress=False)
    d = _for(make_design(schema, Decomposition(services={"svc": Service(["spans"])}), findings=[]), "mariadb",
             mysql_url)
    folder = tmp_path / "design"
    write_design(d, folder, ["mysql"])
    assert migrate(pg_url, mysql_url, d, design_dir=folder, progress=False).ok  # TIME would stop at 838 hours
    assert verify(pg_url, mysql_url, d, progress=False).ok
    engine = sa.create_engine(mysql_url)
    with engine.connect() as conn:
        got = conn.exec_driver_sql(f"SELECT d FROM `{d.service('svc').namespace}`.spans ORDER BY id").scalars().all()
    engine.dispose()
    # psycopg reads a month as 30 days and a year as 365 (PostgreSQL's own conversion of an interval)
    assert got == ["10276:05:06.789000", "-72:00:00", "900:00:00", "00:00:01.500000", None, "-1000:00:00.000001"]
