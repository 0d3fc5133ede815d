"""Introspection never writes: the source session refuses writes, and a full run changes nothing."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from test_introspect_ddl import build

import workbench.introspect as introspect_module
from workbench.cli import main
from workbench.db import source_engine
from workbench.introspect import introspect

WRITES = [
    "INSERT INTO product (code, title) VALUES ('P9', 'Glue')",
    "UPDATE customer SET name = 'changed'",
    "DELETE FROM employee",
    "CREATE TABLE evil (x INTEGER)",
    "DROP TABLE shipment",
]


def snapshot(url: str) -> dict[str, Any]:
    """Every table's rows (order-independent digest) and the table list, read through a plain engine."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        insp = sa.inspect(engine)
        state: dict[str, Any] = {}
        with engine.connect() as conn:
            schemas = [insp.default_schema_name] if engine.dialect.name in ("mysql", "mariadb") else [
                s for s in insp.get_schema_names() if s != "information_schema"
            ]  # on MySQL a schema is a database: the server holds other tests' databases too
            for schema in schemas:
                arg = None if schema == insp.default_schema_name else schema
                for name in sorted(insp.get_table_names(arg)):
                    rows = conn.execute(sa.select(sa.text("*")).select_from(sa.table(name, schema=arg))).all()
                    digest = hashlib.sha256("\n".join(sorted(repr(tuple(r)) for r in rows)).encode()).hexdigest()
                    state[f"{schema}.{name}"] = (len(rows), digest)
                state[f"{schema} views"] = sorted(insp.get_view_names(arg))
        database = sa.make_url(url).database
        if url.startswith("sqlite") and database:
            state["file bytes"] = hashlib.sha256(Path(database).read_bytes()).hexdigest()
        return state
    finally:
        engine.dispose()


def _assert_refused(conn: sa.Connection, statement: str) -> None:
    """The database refuses the write *because* the session is read-only (not, say, a typo)."""
    with pytest.raises(sa.exc.DBAPIError, match=r"(?i)read.?only"):
        conn.exec_driver_sql(statement)
        conn.commit()
    conn.rollback()


def test_source_engine_refuses_writes(any_db_url: str) -> None:
    build(any_db_url)
    before = snapshot(any_db_url)
    engine = source_engine(any_db_url)
    try:
        for statement in WRITES:
            with engine.connect() as conn:
                _assert_refused(conn, statement)
    finally:
        engine.dispose()
    assert snapshot(any_db_url) == before


def test_the_introspection_session_itself_refuses_writes(
    any_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the very connection introspect reads with, after it has read: every write fails."""
    build(any_db_url)
    before = snapshot(any_db_url)
    engines: list[sa.Engine] = []
    real_engine, real_read = introspect_module.source_engine, introspect_module.read_schema

    def spy_engine(url: str, **kw: Any) -> sa.Engine:
        engines.append(real_engine(url, **kw))
        return engines[-1]

    refused: list[str] = []

    def read_then_try_writes(conn: sa.Connection, **kw: Any):  # type: ignore[no-untyped-def]
        schema = real_read(conn, **kw)
        for statement in WRITES:
            savepoint = conn.begin_nested() if conn.dialect.name == "postgresql" else None
            try:
                conn.exec_driver_sql(statement)
            except sa.exc.DBAPIError as exc:
                if re.search(r"(?i)read.?only", str(exc.orig)):
                    refused.append(statement)
                if savepoint is not None:
                    savepoint.rollback()
        return schema

    monkeypatch.setattr(introspect_module, "source_engine", spy_engine)
    monkeypatch.setattr(introspect_module, "read_schema", read_then_try_writes)
    introspect(any_db_url)
    assert len(engines) == 1
    assert refused == WRITES
    assert snapshot(any_db_url) == before


def test_full_run_leaves_database_unchanged(
    any_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(any_db_url)
    before = snapshot(any_db_url)
    introspect(any_db_url, exact_counts=True)
    assert main(["introspect", any_db_url, "--out", str(tmp_path / "schema.json")]) == 0
    assert main(["introspect", any_db_url, "--exact-counts"]) == 0
    capsys.readouterr()
    assert snapshot(any_db_url) == before
    database = sa.make_url(any_db_url).database or ""
    if any_db_url.startswith("sqlite"):
        assert not [p for p in Path(database).parent.iterdir() if p.name.startswith(Path(database).name + "-")]


def test_snapshot_sees_a_change(tmp_path: Path) -> None:
    """The checksum used above does notice a one-row update (so 'unchanged' means something)."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    build(url)
    before = snapshot(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE product SET title = 'Ink' WHERE code = 'P2'")
    engine.dispose()
    assert snapshot(url) != before
