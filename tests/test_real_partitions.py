"""Partitioned and inheriting tables: one table each, its key's default kept, verification against exactly
the legacy rows each target table came from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from realdb import legacy
from servers import fresh_database

from workbench.decompose.model import Decomposition, Service
from workbench.design import design
from workbench.introspect import introspect
from workbench.migrate import migrate
from workbench.migrate.verify import verify


@pytest.fixture(scope="module")
def pg_legacy() -> Iterator[str]:
    with legacy("postgresql") as url:
        yield url


def _count(url: str, sql: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar_one())
    finally:
        engine.dispose()


def test_a_partitioned_table_moves_once_with_its_sequence(pg_legacy: str) -> None:
    schema = introspect(pg_legacy, progress=False)
    d = design(schema, Decomposition(services={"sales": Service(["customer", "payment", "rental", "inventory"]),
                                               "rest": Service([t.key for t in schema.base_tables if t.key not in
                                                                ("customer", "payment", "rental", "inventory")])}),
               findings=[])
    sales = d.service("sales")
    assert [t.table.name for t in sales.tables if t.role == "owned"] == ["customer", "inventory", "payment", "rental"]
    assert any(n.startswith("partitioned by RANGE (payment_date)") for n in sales.table("payment").notes)
    with fresh_database("postgresql") as target:
        result = migrate(pg_legacy, target, d, alembic=False, progress=False)
        assert sum(t.rows for t in result.tables if t.service == "sales" and t.role == "owned" and
                   t.table == "payment") == 120  # before: the parent and its three partitions, every row twice
        assert verify(pg_legacy, target, d).ok
        engine = sa.create_engine(target, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:  # before: null value in column "payment_id"
            new = conn.execute(sa.text("INSERT INTO sales.payment (customer_id, rental_id, amount, payment_date) "
                                       "VALUES (1, 1, 9.99, now()) RETURNING payment_id")).scalar_one()
        engine.dispose()
        assert new == 121  # the sequence continues above the copied ids, as on the legacy database


INHERITING = [
    "CREATE TABLE event (id integer PRIMARY KEY, kind text NOT NULL)",
    "CREATE TABLE event_archive (archived_on date NOT NULL DEFAULT DATE '2020-01-01') INHERITS (event)",
    "ALTER TABLE event_archive ADD PRIMARY KEY (id)",
    "INSERT INTO event SELECT g, 'live' FROM generate_series(1, 30) g",
    "INSERT INTO event_archive (id, kind) SELECT g, 'old' FROM generate_series(100, 119) g",
]


def test_a_table_others_inherit_from_is_compared_with_its_own_rows_only(pg_url: str) -> None:
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        for statement in INHERITING:
            conn.exec_driver_sql(statement)
    engine.dispose()
    schema = introspect(pg_url, progress=False)
    assert schema.table("event").inherited_by == ["event_archive"]
    d = design(schema, Decomposition(services={"events": Service(["event", "event_archive"])}), findings=[])
    with fresh_database("postgresql") as target:
        result = migrate(pg_url, target, d, alembic=False, progress=False)
        assert {t.table: t.rows for t in result.tables if t.role == "owned"} == {"event": 30, "event_archive": 20}
        assert verify(pg_url, target, d).ok  # before: event got the archive's 20 rows too, and verify agreed
        assert _count(target, "SELECT count(*) FROM events.event") == 30
        engine = sa.create_engine(target, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:  # the archive's rows copied into event as well: a difference
            conn.exec_driver_sql("INSERT INTO events.event SELECT id, kind FROM events.event_archive")
        engine.dispose()
        report = verify(pg_url, target, d)
        assert not report.ok and [t.table for t in report.tables if t.status != "equal"] == ["event"]
