"""Introspection on real SQLite, PostgreSQL and MariaDB databases holding a hand-written rich schema."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_introspect_ddl import FK_WEIRD, ROWS, SAY, UQ_WEIRD, WEIRD, WEIRD_COLUMNS, build, many_tables

from workbench import serde
from workbench.cli import main
from workbench.db import source_engine
from workbench.errors import EmptyDatabaseError, NotFoundError
from workbench.introspect import counts, introspect, read_schema
from workbench.schema import Schema, Table

SHARED = {"customer", "product", "order", "order_line", "shipment", "employee", WEIRD, "v_customer_orders"}
PG_ONLY = {"refund", "sales.invoice", "sales.invoice_line", "sales.odd", "sales.mv_odd"}
ONLY = {"postgresql": PG_ONLY, "mysql": {"charsets"}, "sqlite": {"odd types"}}
"""Tables the rich schema has on one backend only."""


@pytest.fixture
def rich(any_db_url: str) -> tuple[str, str]:
    """(backend, url) of a database holding the rich schema with its rows."""
    return build(any_db_url), any_db_url


def fkset(table: Table) -> set[tuple]:
    return {
        (tuple(f.columns), f.referred_schema, f.referred_table, tuple(f.referred_columns)) for f in table.foreign_keys
    }


def unique_sets(table: Table) -> set[tuple[str | None, tuple[str, ...]]]:
    """Unique constraints and unique indexes together (MySQL reports a unique index as a constraint)."""
    return {(u.name, tuple(u.columns)) for u in table.unique_constraints} | {
        (i.name, tuple(i.columns)) for i in table.indexes if i.unique
    }


def test_rich_schema_facts(rich: tuple[str, str]) -> None:
    backend, url = rich
    s = introspect(url)
    assert s.dialect == backend
    assert s.default_schema == {"sqlite": "main", "postgresql": "public"}.get(backend, sa.make_url(url).database)
    assert {t.key for t in s.tables} == SHARED | ONLY[backend]
    assert [t.key for t in s.tables] == sorted(t.key for t in s.tables)

    view = s.table("v_customer_orders")
    assert view.kind == "view" and [c.name for c in view.columns] == ["customer_id", "name", "total"]
    assert "customer" in (view.definition or "").lower() and view.row_count is None
    assert {t.key for t in s.views} == {"v_customer_orders"} | ({"sales.mv_odd"} if backend == "postgresql" else set())

    customer, order, line = s.table("customer"), s.table("order"), s.table("order_line")
    assert customer.primary_key == ["id"] and line.primary_key == ["order_id", "line_no"]
    email, name = customer.column("email"), customer.column("name")
    assert email is not None and name is not None
    assert not email.nullable and name.nullable and "VARCHAR(100)" in email.type
    assert "anon" in (name.default or "") and email.default is None
    total = order.column("total")
    assert total is not None and "12, 2" in total.type and (total.default or "").strip("'").startswith("0")
    assert [c.name for c in order.columns] == ["id", "customer_id", "select", "group", "total"]

    assert fkset(order) == {(("customer_id",), None, "customer", ("id",))}
    assert (order.foreign_keys[0].name, order.foreign_keys[0].on_delete) == ("fk_order_customer", "CASCADE")
    assert fkset(line) == {(("order_id",), None, "order", ("id",)), (("product_code",), None, "product", ("code",))}
    assert "fk_line_order" in {f.name for f in line.foreign_keys}
    shipment = s.table("shipment")
    assert fkset(shipment) == {(("order_id", "line_no"), None, "order_line", ("order_id", "line_no"))}
    assert shipment.foreign_keys[0].name == "fk_shipment_line"
    employee = s.table("employee")
    assert fkset(employee) == {(("manager_id",), None, "employee", ("id",))}
    assert employee.foreign_keys[0].name == "fk_employee_manager" and employee.foreign_keys[0].on_delete is None

    assert ("uq_customer_email", ("email",)) in unique_sets(customer)
    assert ("ix_order_customer", ["customer_id"], False) in [(i.name, i.columns, i.unique) for i in order.indexes]
    assert ("ix_line_product", ["product_code", "qty"], False) in [(i.name, i.columns, i.unique) for i in line.indexes]
    if backend != "mysql":  # MariaDB has no expression indexes
        (expr,) = [i for i in customer.indexes if i.name == "ix_customer_lower_email"]
        assert len(expr.columns) == 1 and "lower(email" in expr.columns[0].lower()

    weird = s.table(WEIRD)
    assert [c.name for c in weird.columns] == WEIRD_COLUMNS
    assert weird.primary_key == ["Id"]
    assert fkset(weird) == {(("customer id",), None, "customer", ("id",))} and weird.foreign_keys[0].name == FK_WEIRD
    assert {(UQ_WEIRD, (SAY,)), ("ux Weird first", ("First Name",))} <= unique_sets(weird)

    if backend == "sqlite":
        assert customer.comment is None
    else:
        assert customer.comment == "people who buy" and email.comment == "login e-mail"


def test_row_counts_and_sizes_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rich.sqlite'}"
    build(url)
    s = introspect(url)
    assert {t.name: t.row_count for t in s.base_tables} == ROWS | {"odd types": 0}
    assert all(t.row_count_exact for t in s.base_tables)
    with sqlite3.connect(":memory:") as probe:
        has_dbstat = "ENABLE_DBSTAT_VTAB" in {r[0] for r in probe.execute("PRAGMA compile_options")}
    if has_dbstat:
        assert all((t.size_bytes or 0) >= 4096 for t in s.base_tables)
    assert s.table("v_customer_orders").size_bytes is None


def test_row_estimates_and_exact_counts_postgresql(pg_url: str) -> None:
    build(pg_url)
    before = introspect(pg_url)
    assert all(t.row_count is None and not t.row_count_exact for t in before.base_tables)  # never analysed
    assert all((t.size_bytes or 0) > 0 for t in before.base_tables)
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    admin.dispose()
    estimated = introspect(pg_url)
    assert {t.name: t.row_count for t in estimated.base_tables if t.name in ROWS} == ROWS
    assert not any(t.row_count_exact for t in estimated.base_tables)
    exact = introspect(pg_url, exact_counts=True)
    assert {t.name: t.row_count for t in exact.base_tables if t.name in ROWS} == ROWS
    assert all(t.row_count_exact for t in exact.base_tables)
    assert exact.table("sales.invoice").row_count == 0


def test_row_estimates_and_exact_counts_mariadb(mysql_url: str) -> None:
    build(mysql_url)
    estimated = introspect(mysql_url)
    assert all(t.row_count is not None and not t.row_count_exact for t in estimated.base_tables)
    assert all((t.size_bytes or 0) > 0 for t in estimated.base_tables)
    exact = introspect(mysql_url, exact_counts=True)
    assert {t.name: t.row_count for t in exact.base_tables} == ROWS | {"charsets": 0}
    assert all(t.row_count_exact for t in exact.base_tables)


def _comparable(s: Schema, backend: str) -> Schema:
    """Drop what the Inspector path cannot see or reports through known SQLAlchemy quirks."""
    for t in s.tables:
        if backend == "sqlite":
            # SQLAlchemy skips expression indexes and its name regexes trip on quoted names; its regex for
            # a generated column's expression runs on to the end of the table's text.
            t.indexes = [i for i in t.indexes if all(t.column(c) is not None for c in i.columns)]
            for c in t.columns:
                if c.computed is not None:
                    c.computed.expression = ""
            if t.name == WEIRD:
                t.unique_constraints = []
                for f in t.foreign_keys:
                    f.name = None
        if backend == "mysql" and t.kind == "view":
            # SQLAlchemy reads MySQL views through DESCRIBE (no nullability, quoted defaults).
            t.definition = None
            for c in t.columns:
                c.nullable, c.default = True, None
    return s


def test_fast_path_matches_inspector_path(rich: tuple[str, str]) -> None:
    """The bulk readers give the model SQLAlchemy's own Inspector gives, column types included."""
    backend, url = rich
    fast = introspect(url)
    engine = source_engine(url)
    try:
        with engine.connect() as conn:
            reference = read_schema(conn, database=fast.database, bulk=False)
    finally:
        engine.dispose()
    assert len(reference.tables) == len(fast.tables)
    fast, reference = _comparable(fast, backend), _comparable(reference, backend)
    for got, want in zip(fast.tables, reference.tables, strict=True):
        assert got == want, got.key
    assert fast == reference


def _projection(s: Schema) -> dict[str, tuple]:
    """What must agree across backends: everything but types, defaults, sizes and generated names."""
    out = {}
    for t in s.tables:
        if t.key in ONLY[s.dialect]:
            continue
        out[t.key] = (
            t.kind,
            [c.name for c in t.columns],
            [c.nullable for c in t.columns] if t.kind == "table" else None,
            t.primary_key,
            sorted((f.columns, f.referred_table, f.referred_columns, f.on_delete) for f in t.foreign_keys),
            sorted(cols for _, cols in unique_sets(t)),
            sorted(i.name for i in t.indexes if not i.unique and all(t.column(c) for c in i.columns))
            if t.name in ("order", "order_line")
            else None,
            t.row_count if t.kind == "table" else None,
        )
    return out


def test_same_model_on_all_three_backends(tmp_path: Path, pg_url: str, mysql_url: str) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'rich.sqlite'}"
    models = {}
    for url in (sqlite_url, pg_url, mysql_url):
        build(url)
        models[url] = _projection(introspect(url, exact_counts=True))
    assert set(models[sqlite_url]) == SHARED
    assert models[pg_url] == models[sqlite_url]
    assert models[mysql_url] == models[sqlite_url]


def test_json_round_trip(rich: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, url = rich
    s = introspect(url)
    assert serde.from_dict(Schema, serde.to_dict(s)) == s
    assert serde.from_dict(Schema, json.loads(serde.dumps(s))) == s
    assert serde.load(Schema, serde.save(s, tmp_path / "schema.json")) == s
    assert serde.load(Schema, serde.save(s, tmp_path / "schema.yaml")) == s
    assert main(["introspect", url, "--out", str(tmp_path / "cli.json")]) == 0
    assert serde.load(Schema, tmp_path / "cli.json") == s
    assert (tmp_path / "cli.json").read_text(encoding="utf-8") == serde.dumps(s)  # deterministic bytes
    capsys.readouterr()
    assert main(["introspect", url]) == 0
    assert serde.from_dict(Schema, json.loads(capsys.readouterr().out)) == s


def test_postgresql_schemas(pg_url: str) -> None:
    build(pg_url)
    s = introspect(pg_url)
    assert s.schemas == ["public", "sales"]
    assert not any(t.schema in ("information_schema", "pg_catalog") for t in s.tables)
    invoice, line, refund = s.table("sales.invoice"), s.table("sales.invoice_line"), s.table("refund")
    assert invoice.schema == "sales" and refund.schema is None
    assert fkset(invoice) == {(("order_id",), None, "order", ("id",))}  # into the default schema
    assert fkset(line) == {(("invoice_id",), "sales", "invoice", ("id",))}
    assert fkset(refund) == {(("invoice_id",), "sales", "invoice", ("id",))}  # out of the default schema
    assert refund.foreign_keys[0].referred_key == "sales.invoice"

    only_sales = introspect(pg_url, schemas=["sales"])
    assert only_sales.schemas == ["sales"]
    assert {t.key for t in only_sales.tables} == {"sales.invoice", "sales.invoice_line", "sales.odd", "sales.mv_odd"}
    assert {t.key for t in introspect(pg_url, schemas=["public"]).tables} == SHARED | {"refund"}
    with pytest.raises(NotFoundError, match="nope"):
        introspect(pg_url, schemas=["nope"])
    admin = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA hollow")
    admin.dispose()
    with pytest.raises(EmptyDatabaseError, match="hollow"):
        introspect(pg_url, schemas=["hollow"])


def test_mariadb_databases_as_schemas(mysql_url: str) -> None:
    """MySQL's schemas are databases: the URL's is the default, others only when asked for."""
    build(mysql_url)
    default = sa.make_url(mysql_url).database or ""
    other = f"{default}_b"
    admin = sa.create_engine(mysql_url, poolclass=sa.pool.NullPool)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{other}`")
            conn.exec_driver_sql(
                f"CREATE TABLE `{other}`.ledger (id INT PRIMARY KEY, customer_id INT, "
                f"CONSTRAINT fk_ledger_customer FOREIGN KEY (customer_id) REFERENCES `{default}`.customer (id))"
            )
        assert {t.key for t in introspect(mysql_url).tables} == SHARED | ONLY["mysql"]
        both = introspect(mysql_url, schemas=[default, other])
        assert both.schemas == sorted([default, other]) and both.default_schema == default
        ledger = both.table(f"{other}.ledger")
        assert fkset(ledger) == {(("customer_id",), None, "customer", ("id",))}
        assert {t.key for t in introspect(mysql_url, schemas=[other]).tables} == {f"{other}.ledger"}
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{other}`")
        admin.dispose()


def test_postgresql_types(pg_url: str) -> None:
    """Enums and domains by name, arrays, and the catalog's text for a type SQLAlchemy does not know."""
    build(pg_url)
    odd = introspect(pg_url, schemas=["sales"]).table("sales.odd")
    types = {c.name: c.type for c in odd.columns}
    assert types["m"].endswith("mood") and types["p"].endswith("posint")
    assert types["b"] == "box"  # NullType in SQLAlchemy: pg_catalog.format_type() text instead
    assert types["tags"] == "TEXT[]" and types["ts"] == "TIMESTAMP WITH TIME ZONE"
    assert "now()" in (odd.column("ts").default or "")  # type: ignore[union-attr]
    assert "nextval" in (odd.column("serial_id").default or "")  # type: ignore[union-attr]
    assert odd.column("twice").default is None and odd.column("ident").default is None  # type: ignore[union-attr]
    code = odd.column("cd")
    assert code is not None and not code.nullable and "'x'" in (code.default or "")  # from the domain
    assert ("ix_odd_covering", ["ts"]) in [(i.name, i.columns) for i in odd.indexes]
    mv = introspect(pg_url, schemas=["sales"]).table("sales.mv_odd")
    assert mv.kind == "view" and "odd" in (mv.definition or "") and mv.indexes[0].name == "ux_mv_odd"


def test_unknown_schema(any_db_url: str) -> None:
    build(any_db_url)
    with pytest.raises(NotFoundError, match="no_such_schema"):
        introspect(any_db_url, schemas=["no_such_schema"])


def test_empty_database_raises(any_db_url: str) -> None:
    if any_db_url.startswith("sqlite"):
        sqlite3.connect(sa.make_url(any_db_url).database or "").close()
    with pytest.raises(EmptyDatabaseError, match="no tables"):
        introspect(any_db_url)


def test_sqlite_foreign_key_details(tmp_path: Path) -> None:
    """REFERENCES without columns means the primary key; names as typed are matched to real tables."""
    path = tmp_path / "fk.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            '''
            CREATE TABLE "Parent" (id INTEGER PRIMARY KEY, k2 INTEGER, UNIQUE (id, k2));
            CREATE TABLE child (
                pid INTEGER REFERENCES PARENT,
                k2 INTEGER,
                b TEXT CONSTRAINT uq_b UNIQUE,
                CONSTRAINT "fk ""quoted""" FOREIGN KEY (pid, k2) REFERENCES parent (id, k2) ON UPDATE SET NULL
            );
            '''
        )
    child = introspect(f"sqlite:///{path}").table("child")
    by_cols = {tuple(f.columns): f for f in child.foreign_keys}
    assert by_cols[("pid",)].referred_table == "Parent" and by_cols[("pid",)].referred_columns == ["id"]
    assert by_cols[("pid",)].name is None
    assert by_cols[("pid", "k2")].name == 'fk "quoted"' and by_cols[("pid", "k2")].on_update == "SET NULL"
    assert [(u.name, u.columns) for u in child.unique_constraints] == [("uq_b", ["b"])]


def test_sqlite_broken_view_does_not_stop_the_run(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE gone (x INTEGER);"
            "CREATE VIEW v_ok AS SELECT id FROM a; CREATE VIEW v_broken AS SELECT x FROM gone; DROP TABLE gone;"
        )
    s = introspect(f"sqlite:///{path}")
    assert [t.key for t in s.tables] == ["a", "v_broken", "v_ok"]
    assert s.table("v_broken").columns == [] and [c.name for c in s.table("v_ok").columns] == ["id"]


def test_round_trips_do_not_grow_with_tables(any_db_url: str) -> None:
    """Bulk paths: the same number of statements for 5 and for 50 tables (the Inspector path grows)."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    def count(**kw: object) -> int:
        statements.clear()
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
        try:
            if kw:
                engine = source_engine(any_db_url)
                with engine.connect() as conn:
                    read_schema(conn, **kw)  # type: ignore[arg-type]
                engine.dispose()
            else:
                introspect(any_db_url, exact_counts=True)
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
        return len(statements)

    many_tables(any_db_url, 5)
    small, small_reference = count(), count(bulk=False)
    assert small > 0
    admin = sa.create_engine(any_db_url, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        for i in range(5, 50):
            conn.exec_driver_sql(f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, label VARCHAR(20))")
    admin.dispose()
    assert count() == small
    if not any_db_url.startswith("postgresql"):  # the counter does see per-table work
        assert count(bulk=False) > small_reference


def test_exact_counts_span_batches(tmp_path: Path) -> None:
    path = tmp_path / "many.sqlite"
    n = counts.BATCH + 7
    with sqlite3.connect(path) as conn:
        for i in range(n):
            conn.execute(f'CREATE TABLE "t {i}" (x INTEGER)')
            conn.executemany(f'INSERT INTO "t {i}" VALUES (?)', [(j,) for j in range(i % 4)])
    s = introspect(f"sqlite:///{path}")
    assert len(s.tables) == n
    assert all(t.row_count == int(t.name.split()[1]) % 4 for t in s.tables)


# ------------------------------------------------------------------------------- bad input (CLI)


def _fails_cleanly(capsys: pytest.CaptureFixture[str], argv: list[str], *needles: str) -> str:
    """Exit code != 0, exactly one line on stderr, no traceback, no password; returns the line."""
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "secretpw" not in out + err and "envsecret" not in out + err
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def test_cli_unreachable_servers(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _fails_cleanly(capsys, ["introspect", "postgresql://u:secretpw@127.0.0.1:1/x"], "127.0.0.1:1", "***")
    _fails_cleanly(capsys, ["introspect", "mysql://u:secretpw@127.0.0.1:1/x"], "127.0.0.1:1")
    monkeypatch.setenv("WORKBENCH_DB_PASSWORD", "envsecret")
    _fails_cleanly(capsys, ["introspect", "postgresql://u@127.0.0.1:1/x"], "127.0.0.1:1")


def test_cli_bad_urls_and_drivers(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _fails_cleanly(capsys, ["introspect", "not a url at all"], "not a url at all")  # names itself
    _fails_cleanly(capsys, ["introspect", "postgresql//u:secretpw@h/x"], "postgresql//u:***@h/x")  # no '://'
    monkeypatch.setenv("WB_TEST_PW", "envsecret")
    _fails_cleanly(capsys, ["introspect", "postgresql//u:${WB_TEST_PW}@h/x"], "postgresql//u:***@h/x")
    _fails_cleanly(capsys, ["introspect", "nosuchdb://u:secretpw@h/x"], "nosuchdb")
    _fails_cleanly(capsys, ["introspect", "postgresql+nosuchdriver://u:secretpw@h/x"], "nosuchdriver")
    _fails_cleanly(capsys, ["introspect", "mssql+pyodbc://u:secretpw@h/x"], "pyodbc")


def test_cli_sqlite_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _fails_cleanly(capsys, ["introspect", f"sqlite:///{tmp_path / 'missing.sqlite'}"], "missing.sqlite")
    (tmp_path / "junk.sqlite").write_bytes(b"this is not a database" * 100)
    _fails_cleanly(capsys, ["introspect", f"sqlite:///{tmp_path / 'junk.sqlite'}"], "junk.sqlite")


def test_cli_empty_database(any_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = any_db_url
    if url.startswith("sqlite"):
        sqlite3.connect(sa.make_url(url).database or "").close()
    elif url.startswith("postgresql"):  # trust auth: the password is accepted and must stay hidden
        url = sa.make_url(url).set(password="secretpw").render_as_string(hide_password=False)
    _fails_cleanly(capsys, ["introspect", url], "no tables")


def test_cli_unknown_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'rich.sqlite'}"
    build(url)
    _fails_cleanly(capsys, ["introspect", url, "--schema", "nope"], "nope")
