"""The readers on what real servers write: logs captured from the PostgreSQL and MariaDB test servers.

MariaDB's general log is switched on at runtime (``SET GLOBAL``) and restored afterwards.
PostgreSQL needs its configuration for a csvlog (``logging_collector``) or
``pg_stat_statements`` (``shared_preload_libraries``), which only a restart applies: CI configures
the server (see ``.ci/run``); elsewhere these tests skip with the commands to run. Each test
creates its own uniquely named tables and keeps to them, so other activity on the servers while
the log is on does not disturb it.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest
import sqlalchemy as sa
from pymysql.constants import CLIENT
from servers import MY_ADMIN_URL, PG_ADMIN_URL, missing

from workbench.schema import Schema, Table
from workbench.workload import Workload, ingest

PG_ENABLE = (
    "ALTER SYSTEM SET logging_collector = on; ALTER SYSTEM SET log_destination = 'stderr,csvlog'; "
    "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'; then restart the server"
)


def _require(ok: bool, message: str) -> None:
    """Skip locally, fail under CI=true, as the server fixtures do."""
    if not ok:
        missing(f"{message}; configure the server, see .ci/run")


def names(token: str) -> dict[str, str]:
    return {k: f"wb_{k}_{token}" for k in ("orders", "stock", "audit")}


def schema_for(tables: dict[str, str], dialect: str) -> Schema:
    return Schema(dialect=dialect, database="x", tables=[Table(n) for n in tables.values()])


def shapes(w: Workload) -> dict[tuple[tuple[str, ...], tuple[str, ...]], int]:
    return {(tuple(t.tables_read), tuple(t.tables_written)): t.count for t in w.transactions}


def _with(shapes: dict[tuple[tuple[str, ...], tuple[str, ...]], int], shape: tuple[tuple[str, ...], tuple[str, ...]]
          ) -> dict[tuple[tuple[str, ...], tuple[str, ...]], int]:
    return {**shapes, shape: shapes.get(shape, 0) + 1}


def expected(
    t: dict[str, str], multi_statement_one_transaction: bool
) -> dict[tuple[tuple[str, ...], tuple[str, ...]], int]:
    """What the scripted application below did, transaction by transaction."""
    o, s, a = t["orders"], t["stock"], t["audit"]
    out = {
        ((), tuple(sorted([o, s, a]))): 1,  # checkout: stock, order, audit, committed
        (tuple(sorted([o, s])), ()): 1,  # a read-only join, rolled back
        ((), (a,)): 1,  # an explicit transaction on an autocommit connection
        ((s,), ()): 1,  # an autocommit read
    }
    if multi_statement_one_transaction:  # PostgreSQL runs a multi-statement query as one transaction
        out[((), tuple(sorted([o, s])))] = 1
    else:
        out[((), (o,))] = out.get(((), (o,)), 0) + 1
        out[((), (s,))] = out.get(((), (s,)), 0) + 1
    return out


# --- MariaDB: the general query log -----------------------------------------------------------------------------


def _mysql_app(url: sa.URL, tables: dict[str, str]) -> None:
    """A small application: PyMySQL (SET AUTOCOMMIT = 0, then COMMIT/ROLLBACK), an autocommit client."""
    o, s, a = tables["orders"], tables["stock"], tables["audit"]
    common = {"host": url.host, "port": url.port or 3306, "user": url.username, "password": url.password or "",
              "database": url.database}  # fmt: skip
    app = pymysql.connect(**common)  # autocommit off: PyMySQL sends SET AUTOCOMMIT = 0
    with app.cursor() as cur:
        cur.execute(f"UPDATE {s} SET qty = qty - %s WHERE id = %s", (1, 1))
        cur.execute(f"INSERT INTO {o} (id, note) VALUES (%s, %s)", (1, "it's\nnew"))
        cur.execute(f"INSERT INTO {a} (what) VALUES (%s)", ("order 1",))
        app.commit()
        cur.execute(f"SELECT o.id, s.qty\nFROM {o} o\nJOIN {s} s ON s.id = o.id\nWHERE o.id = %s", (1,))
        app.rollback()
    app.close()
    auto = pymysql.connect(**common, autocommit=True, client_flag=CLIENT.MULTI_STATEMENTS)
    with auto.cursor() as cur:
        cur.execute("START TRANSACTION")
        cur.execute(f"INSERT INTO {a} (what) VALUES ('manual')")
        cur.execute("COMMIT")
        cur.execute(f"SELECT * FROM {s} WHERE id IN (1, 2, 3)")
        cur.execute(f"UPDATE {o} SET note = 'x' WHERE id = 1; UPDATE {s} SET qty = 5 WHERE id = 1")
        while cur.nextset():
            pass
    auto.close()


def _other_database_app(url: sa.URL, other: str, tables: dict[str, str]) -> None:
    """A session on another database with the same table names (chosen by ``USE``), which then moves
    to the URL's database (``Init DB``): only what it does there belongs to the URL's workload."""
    s, a = tables["stock"], tables["audit"]
    conn = pymysql.connect(host=url.host, port=url.port or 3306, user=url.username, password=url.password or "",
                           autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"USE `{other}`")
        cur.execute(f"UPDATE {s} SET qty = 0 WHERE id = 99")
        cur.execute(f"SELECT * FROM {a}")
    conn.select_db(url.database)
    with conn.cursor() as cur:
        cur.execute(f"SELECT qty FROM {s} WHERE id = 2")
    conn.close()


OTHER_DATABASE_SHAPES = (((), ("stock",)), (("audit",), ()))
"""What :func:`_other_database_app` did on the other database (by table role)."""


@pytest.fixture(scope="module")
def mariadb_capture() -> Iterator[dict[str, Any]]:
    """Run the application with the general log on (file and table), restoring the server's settings."""
    admin = sa.create_engine(MY_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        _require(False, f"MariaDB is not reachable: {str(exc).splitlines()[0]}")
    token = uuid.uuid4().hex[:8]
    db = f"wb_test_{token}"
    tables = names(token)
    # the server writes the file as its own user: a directory it can reach (not pytest's private tmp)
    folder = Path(tempfile.mkdtemp(prefix="wb_general_log_"))
    folder.chmod(0o777)
    path = folder / "general.log"
    url = sa.make_url(MY_ADMIN_URL).set(database=db)
    other = f"{db}_other"
    with admin.connect() as conn:
        for name in (db, other):
            conn.execute(sa.text(f"CREATE DATABASE `{name}`"))
            conn.execute(sa.text(f"CREATE TABLE `{name}`.{tables['orders']} (id INT PRIMARY KEY, note VARCHAR(40))"))
            conn.execute(sa.text(f"CREATE TABLE `{name}`.{tables['stock']} (id INT PRIMARY KEY, qty INT)"))
            conn.execute(sa.text(f"CREATE TABLE `{name}`.{tables['audit']} (id INT AUTO_INCREMENT PRIMARY KEY, "
                                 "what TEXT)"))
        conn.execute(sa.text(f"INSERT INTO `{db}`.{tables['stock']} VALUES (1, 10)"))
        before = conn.execute(
            sa.text("SELECT @@global.general_log, @@global.log_output, @@global.general_log_file")
        ).one()
        try:
            conn.execute(sa.text("SET GLOBAL general_log_file = :p"), {"p": str(path)})
            conn.execute(sa.text("SET GLOBAL log_output = 'FILE,TABLE'"))
            conn.execute(sa.text("SET GLOBAL general_log = ON"))
            _mysql_app(url, tables)
            _other_database_app(url, other, tables)
        finally:
            conn.execute(sa.text("SET GLOBAL general_log = :v"), {"v": before[0]})
            conn.execute(sa.text("SET GLOBAL log_output = :v"), {"v": before[1]})
            conn.execute(sa.text("SET GLOBAL general_log_file = :v"), {"v": before[2]})
        after = conn.execute(
            sa.text("SELECT @@global.general_log, @@global.log_output, @@global.general_log_file")
        ).one()
    try:
        yield {"path": path, "url": url.render_as_string(hide_password=False), "tables": tables, "before": before,
               "after": after}  # fmt: skip
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{db}`"))
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{other}`"))
        admin.dispose()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.mariadb
def test_server_settings_restored(mariadb_capture: dict[str, Any]) -> None:
    assert tuple(mariadb_capture["before"]) == tuple(mariadb_capture["after"])


@pytest.mark.mariadb
def test_real_mariadb_general_log_file(mariadb_capture: dict[str, Any]) -> None:
    path: Path = mariadb_capture["path"]
    if not (path.exists() and os.access(path, os.R_OK)):
        pytest.skip("the MariaDB server does not share this machine's file system: the table test covers it")
    tables = mariadb_capture["tables"]
    w = ingest([str(path)], "mysql_general_log", schema=schema_for(tables, "mysql"))
    want = _with(expected(tables, multi_statement_one_transaction=False), ((tables["stock"],), ()))
    for reads, writes in OTHER_DATABASE_SHAPES:  # a file has every database's sessions
        want = _with(want, (tuple(tables[t] for t in reads), tuple(tables[t] for t in writes)))
    assert shapes(w) == want
    assert {i.kind for i in w.issues} == {"multi_statement"}
    assert not any("order 1" in t.text for t in w.templates)  # values never reach the workload


@pytest.mark.mariadb
def test_real_mariadb_general_log_table(mariadb_capture: dict[str, Any]) -> None:
    tables = mariadb_capture["tables"]
    w = ingest([mariadb_capture["url"]], "mysql_general_log", schema=schema_for(tables, "mysql"))
    # the URL's database only: the other database's statements on tables of the same names are not counted,
    # the session's statement after it moved to the URL's database is
    assert shapes(w) == _with(expected(tables, multi_statement_one_transaction=False), ((tables["stock"],), ()))
    assert not any("mysql.general_log" in t.text.lower() for t in w.templates)  # not the reader's own query
    kinds = {i.kind for i in w.issues}
    assert "other_database" in kinds
    join = next(t for t in w.templates if t.joins)
    assert join.joins == [tuple(sorted([tables["orders"], tables["stock"]]))]


@pytest.mark.mariadb
def test_mariadb_digest_live() -> None:
    """Where performance_schema is on (it needs a restart: .ci/run switches it on for the run)."""
    admin = sa.create_engine(MY_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            enabled = conn.execute(sa.text("SELECT @@performance_schema")).scalar()
    except Exception as exc:  # noqa: BLE001
        _require(False, f"MariaDB is not reachable: {str(exc).splitlines()[0]}")
    if not enabled:
        admin.dispose()
        from workbench.errors import WorkbenchError

        with pytest.raises(WorkbenchError, match="performance_schema is off"):
            ingest([MY_ADMIN_URL], "mysql_digest")
        missing(
            "performance_schema is off on this MariaDB (performance_schema=ON and a restart enable it; .ci/run does)"
        )
    token = uuid.uuid4().hex[:8]
    db, tables = f"wb_test_{token}", names(token)
    url = sa.make_url(MY_ADMIN_URL).set(database=db)
    try:
        with admin.connect() as conn:
            # a full digest table (performance_schema_digests_size entries) records new statements under
            # one NULL digest only: empty the statistics (not a setting) so this test's statements show
            held = conn.execute(sa.text("SELECT COUNT(*) FROM performance_schema.events_statements_summary_by_digest"
                                        )).scalar()
            if held is not None and held >= (conn.execute(sa.text("SELECT @@performance_schema_digests_size"))
                                             .scalar() or 0) - 100:
                conn.execute(sa.text("TRUNCATE TABLE performance_schema.events_statements_summary_by_digest"))
            conn.execute(sa.text(f"CREATE DATABASE `{db}`"))
            conn.execute(sa.text(f"CREATE TABLE `{db}`.{tables['orders']} (id INT PRIMARY KEY, note VARCHAR(40))"))
            conn.execute(sa.text(f"CREATE TABLE `{db}`.{tables['stock']} (id INT PRIMARY KEY, qty INT)"))
            conn.execute(
                sa.text(f"CREATE TABLE `{db}`.{tables['audit']} (id INT AUTO_INCREMENT PRIMARY KEY, what TEXT)")
            )
            conn.execute(sa.text(f"INSERT INTO `{db}`.{tables['stock']} VALUES (1, 10)"))
            _mysql_app(url, tables)
        w = ingest([url.render_as_string(hide_password=False)], "mysql_digest", schema=schema_for(tables, "mysql"))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{db}`"))
        admin.dispose()
    o, s, a = tables["orders"], tables["stock"], tables["audit"]
    # (MariaDB digests a multi-statement query under its first statement's text, twice: not counted here)
    by_kind = Counter(
        (t.kind, tuple(t.tables_read), tuple(t.tables_written)) for t in w.templates for _ in range(t.calls)
    )
    assert by_kind[("insert", (), (a,))] == 2
    assert by_kind[("insert", (), (o,))] == 1
    assert by_kind[("update", (), (s,))] >= 1
    assert by_kind[("select", (s,), ())] == 1
    join = next(t for t in w.templates if t.joins)
    assert join.joins == [tuple(sorted([o, s]))] and join.calls == 1
    assert w.transactions == []


# --- PostgreSQL: csvlog and pg_stat_statements -------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_settings() -> dict[str, str]:
    admin = sa.create_engine(PG_ADMIN_URL, poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            return {k: str(conn.exec_driver_sql(f"SHOW {k}").scalar()) for k in
                    ("logging_collector", "log_destination", "shared_preload_libraries")}  # fmt: skip
    except Exception as exc:  # noqa: BLE001
        _require(False, f"PostgreSQL is not reachable: {str(exc).splitlines()[0]}")
        raise
    finally:
        admin.dispose()


def _csvlog_on(settings: dict[str, str]) -> bool:
    return settings["logging_collector"] == "on" and "csvlog" in settings["log_destination"]


def _pgss_on(settings: dict[str, str]) -> bool:
    return "pg_stat_statements" in settings["shared_preload_libraries"]


@pytest.mark.postgres
def test_postgres_is_configured_for_a_capture(pg_settings: dict[str, str]) -> None:
    _require(_csvlog_on(pg_settings) or _pgss_on(pg_settings),
             f"PostgreSQL has neither a csvlog nor pg_stat_statements; to enable both: {PG_ENABLE}")  # fmt: skip


def _pg_tables(url: str, tables: dict[str, str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {tables['orders']} (id int PRIMARY KEY, note text)")
        conn.execute(f"CREATE TABLE {tables['stock']} (id int PRIMARY KEY, qty int)")
        conn.execute(f"CREATE TABLE {tables['audit']} (id serial PRIMARY KEY, what text)")
        conn.execute(f"INSERT INTO {tables['stock']} VALUES (1, 10)")


def _pg_app(url: str, tables: dict[str, str], log_statements: bool, order: int = 1) -> None:
    """psycopg 3: BEGIN/COMMIT around statements, parameters by the extended protocol."""
    o, s, a = tables["orders"], tables["stock"], tables["audit"]
    with psycopg.connect(url) as app:
        if log_statements:
            app.execute("SET log_statement = 'all'")
            app.commit()
        app.execute(f"UPDATE {s} SET qty = qty - %s WHERE id = %s", (1, 1))
        app.execute(f"INSERT INTO {o} (id, note) VALUES (%s, %s)", (order, "it's\nnew"))
        app.execute(f"INSERT INTO {a} (what) VALUES (%s)", (f"order {order}",))
        app.commit()
        app.execute(f"SELECT o.id, s.qty\nFROM {o} o\nJOIN {s} s ON s.id = o.id\nWHERE o.id = 1")
        app.rollback()
        app.autocommit = True
        app.execute("BEGIN")
        app.execute(f"INSERT INTO {a} (what) VALUES ('manual')")
        app.execute("COMMIT")
        app.execute(f"SELECT * FROM {s} WHERE id = ANY(%s)", ([1, 2, 3],))
        app.execute(f"UPDATE {o} SET note = 'x' WHERE id = 1; UPDATE {s} SET qty = 5 WHERE id = 1")


def _read_csvlog(admin: sa.Connection, path: str, offset: int, marker: str) -> str:
    """The csvlog written since ``offset``, once the marker statement has reached it."""
    text = ""
    for _ in range(100):
        size = admin.exec_driver_sql(f"SELECT size FROM pg_stat_file('{path}')").scalar()
        text = admin.exec_driver_sql(f"SELECT pg_read_file('{path}', {offset}, {size - offset})").scalar() or ""
        if marker in text:
            return text
        time.sleep(0.1)
    raise AssertionError(f"the marker statement never reached {path}")


@pytest.mark.postgres
def test_real_postgres_csvlog(pg_url: str, pg_settings: dict[str, str], tmp_path: Path) -> None:
    if not _csvlog_on(pg_settings):
        pytest.skip(f"PostgreSQL writes no csvlog here; to enable: {PG_ENABLE}")
    token = uuid.uuid4().hex[:8]
    tables = names(token)
    url = sa.make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    _pg_tables(url, tables)
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        path = conn.exec_driver_sql("SELECT pg_current_logfile('csvlog')").scalar()
        offset = conn.exec_driver_sql(f"SELECT size FROM pg_stat_file('{path}')").scalar()
        _pg_app(url, tables, log_statements=True)
        marker = f"wb-marker-{token}"
        with psycopg.connect(url, autocommit=True) as app:
            app.execute("SET log_statement = 'all'")
            app.execute(f"SELECT '{marker}'")
        text = _read_csvlog(conn, path, offset, marker)
    admin.dispose()
    database = sa.make_url(pg_url).database
    rows = [r for r in csv.reader(io.StringIO(text)) if len(r) > 13 and r[2] == database]
    assert rows and all(len(r) >= 23 for r in rows)  # PostgreSQL 13+ layout
    log = tmp_path / "postgresql.csv"
    with log.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    w = ingest([str(log)], "pg_csvlog", schema=schema_for(tables, "postgresql"))
    assert shapes(w) == expected(tables, multi_statement_one_transaction=True)
    assert {i.kind for i in w.issues} == {"multi_statement"}
    texts = {t.text for t in w.templates}
    assert f"UPDATE {tables['stock']} SET qty = qty - ? WHERE id = ?" in texts  # from "execute <unnamed>: ... $1"


@pytest.mark.postgres
def test_real_pg_stat_statements(pg_url: str, pg_settings: dict[str, str], tmp_path: Path) -> None:
    if not _pgss_on(pg_settings):
        pytest.skip(f"pg_stat_statements is not loaded here; to enable: {PG_ENABLE}")
    token = uuid.uuid4().hex[:8]
    tables = names(token)
    url = sa.make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    _pg_tables(url, tables)
    for order in range(1, 4):
        _pg_app(url, tables, log_statements=False, order=order)
    schema = schema_for(tables, "postgresql")
    live = ingest([pg_url], "pg_stat_statements", schema=schema)
    update = next(t for t in live.templates if t.text == f"UPDATE {tables['stock']} SET qty = qty - ? WHERE id = ?")
    assert update.calls == 3 and update.tables_written == [tables["stock"]]
    join = next(t for t in live.templates if t.joins)
    assert join.calls == 3 and join.tables_read == sorted([tables["orders"], tables["stock"]])
    assert live.transactions == []
    # the CSV export of the same view, as psql's \copy writes it
    export = tmp_path / "pgss.csv"
    with psycopg.connect(url) as conn, conn.cursor() as cur, export.open("wb") as out:
        query = ("COPY (SELECT * FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database "
                 "WHERE datname = current_database())) TO STDOUT WITH (FORMAT csv, HEADER)")  # fmt: skip
        with cur.copy(query) as copy:
            for chunk in copy:
                out.write(chunk)
    exported = ingest([str(export)], "pg_stat_statements", schema=schema)
    assert {(t.text, t.calls) for t in exported.templates if t.tables_written} == {
        (t.text, t.calls) for t in live.templates if t.tables_written
    }
