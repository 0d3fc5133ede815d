"""Generated DDL: compiles for every dialect and executes on real SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from workbench.decompose.model import Decomposition, Service
from workbench.design import apply, design, script, statements
from workbench.design.model import Design
from workbench.design.schemas import DIALECTS
from workbench.errors import TargetError, WorkbenchError
from workbench.schema import Column, ForeignKey, Index, Schema, Table, UniqueConstraint


def _schema() -> Schema:
    """Traps for DDL: reserved words, an FK cycle, text in keys, JSON, defaults, composite keys."""
    return Schema(dialect="sqlite", database="sqlite:///legacy.db", tables=[
        Table("addresses", columns=[Column("id", "INTEGER", False), Column("customer_id", "INTEGER"),
                                    Column("line", "TEXT"), Column("is_default", "BOOLEAN", False, default="0")],
              primary_key=["id"], foreign_keys=[ForeignKey(["customer_id"], "customers", ["id"], name="fk_addr_cust")],
              indexes=[Index("ix_addresses_customer_id", ["customer_id"])]),
        Table("customers", columns=[Column("id", "INTEGER", False), Column("email", "VARCHAR(120)", False),
                                    Column("name", "TEXT"), Column("default_address_id", "INTEGER")],
              primary_key=["id"], unique_constraints=[UniqueConstraint("uq_customers_email", ["email"])],
              foreign_keys=[ForeignKey(["default_address_id"], "addresses", ["id"], name="fk_cust_addr")]),
        Table("group", columns=[Column("id", "INTEGER", False), Column("parent_id", "INTEGER"),
                                Column("label", "TEXT", False)],
              primary_key=["id"], unique_constraints=[UniqueConstraint("uq_group_label", ["label"])],
              foreign_keys=[ForeignKey(["parent_id"], "group", ["id"], name="fk_group_parent")]),
        Table("orders", columns=[Column("id", "INTEGER", False), Column("customer_id", "INTEGER", False),
                                 Column("group_id", "INTEGER"), Column("payload", "JSON"),
                                 Column("placed_at", "DATETIME", False, default="CURRENT_TIMESTAMP"),
                                 Column("status", "VARCHAR(10)", False, default="'new'"),
                                 Column("total", "NUMERIC(12, 2)", default="0")],
              primary_key=["id"], foreign_keys=[ForeignKey(["customer_id"], "customers", ["id"], name="fk_ord_cust"),
                                                ForeignKey(["group_id"], "group", ["id"], name="fk_ord_group")],
              indexes=[Index("ix_orders_status", ["status"]), Index(None, ["lower(status)"])]),
        Table("order_lines", columns=[Column("order_id", "INTEGER", False), Column("line_no", "INTEGER", False),
                                      Column("qty", "NUMERIC(12, 2)", False)],
              primary_key=["order_id", "line_no"],
              foreign_keys=[ForeignKey(["order_id"], "orders", ["id"], name="fk_line_order", on_delete="CASCADE")]),
    ])


def _design(prefix: str = "") -> Design:
    d = Decomposition(services={"crm": Service(["addresses", "customers"]),
                                "order": Service(["group", "order_lines", "orders"])})
    return design(_schema(), d, prefix=prefix, findings=[])


def _inspect_fks(engine: sa.Engine, schema: str | None, table: str) -> list[tuple[list[str], str]]:
    return sorted((fk["constrained_columns"], fk["referred_table"])
                  for fk in sa.inspect(engine).get_foreign_keys(table, schema=schema))


def _check(engine: sa.Engine, d: Design, schema_of: dict[str, str | None]) -> None:
    """What the database holds after the DDL: every table, only internal FKs, Debezium's outbox."""
    insp = sa.inspect(engine)
    for name, svc in d.services.items():
        schema = schema_of[name]
        assert sorted(insp.get_table_names(schema=schema)) == sorted(t.table.name for t in svc.tables)
        outbox = [c["name"] for c in insp.get_columns("outbox", schema=schema)]
        assert outbox[:5] == ["id", "aggregatetype", "aggregateid", "type", "payload"]  # Debezium's, then the relay's
        assert outbox[5:] == ["seq", "created_at", "published_at"]
        assert insp.get_pk_constraint("processed_message", schema=schema)["constrained_columns"] == \
            ["consumer_id", "message_id"]
    crm, order = schema_of["crm"], schema_of["order"]
    assert _inspect_fks(engine, crm, "addresses") == [(["customer_id"], "customers")]
    assert _inspect_fks(engine, crm, "customers") == [(["default_address_id"], "addresses")]  # the cycle survives
    assert _inspect_fks(engine, order, "orders") == [(["group_id"], "group")]  # customer_id: reference by id
    assert _inspect_fks(engine, order, "order_lines") == [(["order_id"], "orders")]
    assert "customer_id" in [c["name"] for c in insp.get_columns("orders", schema=order)]


def test_cross_service_fk_becomes_a_documented_reference() -> None:
    d = _design()
    (ref,) = d.service("order").references
    assert (ref.table, ref.columns, ref.referred_service, ref.referred_table) == ("orders", ["customer_id"], "crm",
                                                                                  "customers")
    orders = d.service("order").table("orders")
    assert any("customer_id" in n and "reference by id" in n for n in orders.notes)
    assert any(n.startswith("expression index (lower(status))") for n in orders.notes)
    assert [ix.name for ix in orders.table.indexes] == ["ix_orders_status"]
    for dialect in DIALECTS:
        text = script(d, "order", dialect)
        assert "orders(customer_id) -> crm.customers(id)" in text
        assert "fk_ord_cust" not in text and "fk_ord_group" in text


@pytest.mark.parametrize("dialect", DIALECTS)
def test_compiles_for_every_dialect(dialect: str) -> None:
    d = _design()
    for name, svc in d.services.items():
        stmts = statements(d, name, dialect)
        creates = [s for s in stmts if s.startswith("CREATE TABLE")]
        assert len(creates) == len(svc.tables)
        assert any(s.startswith("CREATE SCHEMA") for s in stmts) == (dialect in ("postgresql", "mysql", "mssql"))
        if dialect in ("postgresql", "mysql", "mssql", "oracle"):
            assert all(f"{svc.namespace}." in s or f'"{svc.namespace}".' in s or f"`{svc.namespace}`." in s
                       or f"[{svc.namespace}]." in s for s in creates)


def test_unknown_dialect_is_named() -> None:
    with pytest.raises(WorkbenchError, match="db2"):
        statements(_design(), "crm", "db2")


def test_executes_on_sqlite_one_file_per_service(tmp_path: Path) -> None:
    d = _design()
    where = apply(d, str(tmp_path / "services"))
    assert sorted(where) == ["crm", "order"]
    for name in d.services:
        engine = sa.create_engine(f"sqlite:///{where[name]}")
        try:
            _check_one_sqlite(engine, d, name)
        finally:
            engine.dispose()
    with pytest.raises(TargetError, match="already exists"):
        apply(d, str(tmp_path / "services"))


def _check_one_sqlite(engine: sa.Engine, d: Design, name: str) -> None:
    names = sorted(sa.inspect(engine).get_table_names())
    assert names == sorted(t.table.name for t in d.service(name).tables)
    with engine.begin() as conn:  # defaults carried over work: status 'new', a timestamp, total 0
        if name == "order":
            conn.execute(sa.text('INSERT INTO "group" (label) VALUES (\'g\')'))
            conn.execute(sa.text("INSERT INTO orders (customer_id, group_id) VALUES (42, 1)"))
            row = conn.execute(sa.text("SELECT id, status, placed_at, total FROM orders")).one()
            assert row.id == 1 and row.status == "new" and row.placed_at is not None and float(row.total) == 0
        if name == "crm":
            conn.execute(sa.text("INSERT INTO addresses (customer_id, line) VALUES (NULL, 'x')"))
            assert conn.execute(sa.text("SELECT is_default FROM addresses")).scalar() in (0, False)


@pytest.mark.postgres
def test_executes_on_postgresql_one_schema_per_service(pg_url: str) -> None:
    d = _design()
    apply(d, pg_url)
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    try:
        _check(engine, d, {n: s.namespace for n, s in d.services.items()})
        with engine.begin() as conn:
            conn.execute(sa.text('INSERT INTO "order".orders (customer_id) VALUES (7)'))
            assert conn.execute(sa.text('SELECT status FROM "order".orders')).scalar() == "new"
            conn.execute(sa.text("INSERT INTO \"order\".outbox (id, aggregatetype, aggregateid, type, payload) VALUES "
                                 "(gen_random_uuid(), 'orders', '1', 'OrderCreated', CAST(:p AS jsonb))"),
                         {"p": json.dumps({"id": 1})})
            kind = conn.execute(sa.text("SELECT data_type FROM information_schema.columns WHERE table_schema = 'order' "
                                        "AND table_name = 'outbox' AND column_name = 'payload'")).scalar()
            assert kind == "jsonb"
            comment = conn.execute(sa.text("SELECT col_description('\"order\".orders'::regclass, 2)")).scalar()
            assert comment and "reference by id to crm.customers(id)" in comment
    finally:
        engine.dispose()
    with pytest.raises(TargetError, match="already exists"):
        apply(d, pg_url)


@pytest.mark.mariadb
def test_executes_on_mariadb_one_database_per_service(mysql_url: str) -> None:
    base = sa.make_url(mysql_url)
    d = _design(prefix=f"{base.database}_")
    admin = sa.create_engine(mysql_url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        apply(d, mysql_url)
        _check(admin, d, {n: s.namespace for n, s in d.services.items()})
        ns = d.service("order").namespace
        with admin.connect() as conn:
            conn.execute(
                sa.text(f"INSERT INTO `{ns}`.`group` (label) VALUES ('{'x' * 200}')")
            )  # text key: VARCHAR(255)
            conn.execute(sa.text(f"INSERT INTO `{ns}`.orders (customer_id) VALUES (7)"))
            assert conn.execute(sa.text(f"SELECT status FROM `{ns}`.orders")).scalar() == "new"
    finally:
        with admin.connect() as conn:
            for svc in d.services.values():
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{svc.namespace}`"))
        admin.dispose()


def test_polling_outbox_has_a_published_flag_that_defaults_to_unpublished(tmp_path: Path) -> None:
    d = design(_schema(), Decomposition(services={"crm": Service(["addresses", "customers"]),
                                                  "order": Service(["group", "order_lines", "orders"])}),
               findings=[], polling=True)
    outbox = d.service("crm").table("outbox").table
    assert [c.name for c in outbox.columns][-1] == "published" and outbox.indexes[0].columns == ["published"]
    where = apply(d, str(tmp_path))
    engine = sa.create_engine(f"sqlite:///{where['crm']}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO outbox (id, aggregatetype, aggregateid, type) "
                                 "VALUES ('0123456789abcdef0123456789abcdef', 'customers', '1', 'CustomerCreated')"))
            assert conn.execute(sa.text("SELECT published FROM outbox")).scalar() == 0
    finally:
        engine.dispose()


def test_namespaces_avoid_the_legacy_schemas_and_take_the_prefix() -> None:
    schema = _schema()
    schema.schemas = ["crm", "main"]
    d = design(schema, Decomposition(services={"crm": Service(["addresses", "customers"]),
                                               "order": Service(["group", "order_lines", "orders"])}),
               findings=[], prefix="New ")
    assert {s.name: s.namespace for s in d.services.values()} == {"crm": "new_crm", "order": "new_order"}
    d = design(schema, Decomposition(services={"crm": Service(["addresses", "customers", "group", "order_lines",
                                                               "orders"])}), findings=[])
    assert d.service("crm").namespace == "crm_svc"  # never a schema the legacy database already has


def test_same_name_in_two_legacy_schemas_gets_a_unique_name_and_its_fks_follow(tmp_path: Path) -> None:
    schema = Schema(dialect="postgresql", database="postgresql://db/erp", default_schema="public",
                    schemas=["public", "sales", "archive"], tables=[
                        Table("orders", schema="sales", columns=[Column("id", "INTEGER", False)], primary_key=["id"]),
                        Table("orders", schema="archive", columns=[Column("id", "INTEGER", False),
                                                                   Column("sales_id", "INTEGER")],
                              primary_key=["id"], foreign_keys=[ForeignKey(["sales_id"], "orders", ["id"],
                                                                           referred_schema="sales")])])
    d = design(schema, Decomposition(services={"sales": Service(["archive.orders", "sales.orders"])}), findings=[])
    owned = {t.source: t.table for t in d.service("sales").tables if t.role == "owned"}
    # the first in key order keeps its name, the other is qualified by its legacy schema
    assert owned["archive.orders"].name == "orders" and owned["sales.orders"].name == "sales_orders"
    assert owned["archive.orders"].foreign_keys[0].referred_table == "sales_orders"
    where = apply(d, str(tmp_path))
    engine = sa.create_engine(f"sqlite:///{where['sales']}")
    try:
        assert _inspect_fks(engine, None, "orders") == [(["sales_id"], "sales_orders")]
    finally:
        engine.dispose()


def test_write_design_never_clears_a_folder_it_did_not_write(tmp_path: Path) -> None:
    from workbench.design import write_design

    foreign = tmp_path / "elsewhere"
    (foreign / "ddl").mkdir(parents=True)
    (foreign / "ddl" / "keep.sql").write_text("-- someone else's", encoding="utf-8")
    with pytest.raises(TargetError, match="no design.json"):
        write_design(_design(), foreign, ["sqlite"])
    assert (foreign / "ddl" / "keep.sql").exists()
    mine = tmp_path / "design"
    write_design(_design(), mine, ["sqlite", "oracle"])
    write_design(_design(), mine, ["sqlite"])  # rewriting its own folder drops what is no longer asked for
    assert sorted(p.name for p in (mine / "ddl").iterdir()) == ["sqlite"]
