"""The lint judges the same schema the same way on SQLite, PostgreSQL and MariaDB.

The catalogs differ (PostgreSQL and MariaDB list a unique constraint's index twice, MariaDB
indexes every FK itself, types are spelled per dialect); the findings must not.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from workbench.assess.lint import lint
from workbench.db import target_engine
from workbench.introspect import introspect

md = sa.MetaData()
sa.Table("countries", md, sa.Column("code", sa.CHAR(2), primary_key=True), sa.Column("name", sa.String(40)))
sa.Table(
    "customers", md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80)),
    sa.Column("email", sa.String(120), nullable=True),
    sa.Column("country_code", sa.CHAR(2), sa.ForeignKey("countries.code")),
    sa.Column("phone1", sa.String(20)),
    sa.Column("phone2", sa.String(20)),
    sa.UniqueConstraint("email", name="uq_customers_email"),
)  # fmt: skip
sa.Table(
    "orders", md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id")),
    sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoices.id", use_alter=True, name="fk_orders_invoice")),
    sa.Column("note", sa.Text),
    sa.Index("ix_orders_customer", "customer_id"),
    sa.Index("ix_orders_customer_note", "customer_id", "invoice_id"),
)  # fmt: skip
sa.Table(
    "invoices", md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id")),
    sa.Index("ix_invoices_order", "order_id"),
)  # fmt: skip
sa.Table(
    "order_notes",
    md,
    sa.Column("entity_type", sa.String(20)),
    sa.Column("entity_id", sa.Integer),
    sa.Column("body", sa.Text),
)
sa.Table("shipments", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("order_id", sa.Integer))
sa.Table(
    "categories",
    md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("categories.id")),
)
sa.Table("tags", md, sa.Column("tag", sa.String(20), primary_key=True))
sa.Table(
    "documents", md, sa.Column("id", sa.Integer, primary_key=True), *(sa.Column(c, sa.Text) for c in ("a", "b", "c"))
)


def _findings(url: str) -> set[tuple[str, str, tuple[str, ...]]]:
    engine = target_engine(url)
    try:
        md.create_all(engine)
    finally:
        engine.dispose()
    return {(f.rule, f.table, tuple(f.columns)) for f in lint(introspect(url))}


@pytest.fixture(scope="module")
def on_sqlite(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str, tuple[str, ...]]]:
    return _findings(f"sqlite:///{tmp_path_factory.mktemp('lint') / 'db.sqlite'}")


def test_sqlite_findings_show_every_trait(on_sqlite: set[tuple[str, str, tuple[str, ...]]]) -> None:
    expected = {
        ("no_primary_key", "order_notes", ()),
        ("fk_cycles", "invoices", ("order_id",)),
        ("self_reference", "categories", ("parent_id",)),
        ("polymorphic_associations", "order_notes", ("entity_type", "entity_id")),
        ("implied_foreign_keys", "shipments", ("order_id",)),
        ("fk_without_index", "customers", ("country_code",)),
        ("redundant_indexes", "orders", ("customer_id",)),
        ("nullable_unique", "customers", ("email",)),
        ("incrementing_columns", "customers", ("phone1", "phone2")),
        ("single_column_tables", "tags", ("tag",)),
        ("too_many_lobs", "documents", ("a", "b", "c")),
    }
    assert expected <= on_sqlite


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_same_findings_on_servers(
    backend: str, request: pytest.FixtureRequest, on_sqlite: set[tuple[str, str, tuple[str, ...]]]
) -> None:
    url = request.getfixturevalue("pg_url" if backend == "postgresql" else "mysql_url")
    found = _findings(url)
    expected = on_sqlite
    if backend == "mariadb":  # InnoDB creates the missing FK indexes itself
        expected = {f for f in on_sqlite if f[0] != "fk_without_index"}
        assert not {f for f in found if f[0] == "fk_without_index"}
    assert found == expected

