"""Operate: drift against the design, index advice from the workload, monitoring SQL per service."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.decompose.model import Decomposition, Service
from workbench.design import design as make_design
from workbench.design import write_design
from workbench.design.model import Design
from workbench.errors import WorkbenchError
from workbench.introspect import introspect
from workbench.migrate import migrate
from workbench.operate import advise, drift, queries
from workbench.operate.monitor import script
from workbench.workload.model import StatementTemplate, Workload


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Design, Path]:
    """A legacy shop: customers (crm) and orders with lines (sales), a few indexes right and wrong."""
    folder = tmp_path_factory.mktemp("operate")
    path = folder / "legacy.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(80) NOT NULL, country VARCHAR(2),
                                created_at DATETIME);
        CREATE INDEX ix_customers_created_at ON customers (created_at);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
                             status VARCHAR(10) NOT NULL, placed_at DATETIME NOT NULL);
        CREATE INDEX ix_orders_status ON orders (status);
        CREATE INDEX ix_orders_status_placed_at ON orders (status, placed_at);
        CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id),
                                  sku VARCHAR(20) NOT NULL, qty INTEGER NOT NULL);
    """)
    db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)",
                   [(i, f"c{i}@x.example", "DE", "2020-01-01 00:00:00") for i in range(1, 51)])
    db.commit()
    db.close()
    url = f"sqlite:///{path}"
    schema = introspect(url, progress=False)
    d = make_design(schema, Decomposition(services={"crm": Service(["customers"]),
                                                    "sales": Service(["order_lines", "orders"])}), findings=[])
    write_design(d, folder / "design", ["sqlite"])
    return url, d, folder / "design"


def _workload() -> Workload:
    def t(n: int, text: str, calls: int, read: list[str], kind: str = "select") -> StatementTemplate:
        return StatementTemplate(f"f{n}", text, kind, calls, tables_read=read)

    return Workload(dialect="sqlite", statements=1_000, templates=[
        t(1, "SELECT id FROM customers WHERE email = ?", 400, ["customers"]),
        t(2, "SELECT o.id, l.sku FROM orders o JOIN order_lines l ON l.order_id = o.id "
             "WHERE o.status = ? AND o.placed_at > ? ORDER BY o.placed_at", 300, ["order_lines", "orders"]),
        t(3, "SELECT id FROM orders WHERE customer_id = ?", 200, ["orders"]),
        t(4, "UPDATE order_lines SET qty = ? WHERE sku = ?", 50, ["order_lines"], kind="update"),
        t(5, "SELECT id FROM customers WHERE country = ?", 3, ["customers"]),
    ])


def test_advice_adds_what_the_workload_needs_and_drops_what_nothing_uses(shop: tuple[str, Design, Path]) -> None:
    _, d, _ = shop
    found = advise(d, _workload(), dialect="postgresql", min_rows=0)
    got = {(a.service, a.kind, a.table, tuple(a.columns)) for a in found}
    assert got == {
        ("crm", "predicate_without_index", "customers", ("email",)),          # 400 calls, nothing leads with email
        ("crm", "unused_index", "customers", ("created_at",)),                 # no statement touches created_at
        ("sales", "fk_without_index", "order_lines", ("order_id",)),           # FK inside sales, unindexed
        ("sales", "fk_without_index", "orders", ("customer_id",)),             # reference to crm, looked up 200x
        ("sales", "predicate_without_index", "order_lines", ("sku",)),         # the UPDATE's WHERE
        ("sales", "redundant_index", "orders", ("status",)),                   # prefix of (status, placed_at)
    }
    by_key = {(a.kind, a.table): a for a in found}
    assert by_key[("predicate_without_index", "customers")].calls == 400
    assert (
        by_key[("predicate_without_index", "customers")].sql
        == "CREATE INDEX ix_customers_email ON crm.customers (email)"
    )
    assert by_key[("redundant_index", "orders")].sql == "DROP INDEX sales.ix_orders_status"
    assert by_key[("fk_without_index", "orders")].calls == 200
    assert [a.service for a in found] == sorted(a.service for a in found)
    mysql = {a.table: a.sql for a in advise(d, _workload(), dialect="mariadb", min_rows=0) if a.kind == "unused_index"}
    assert mysql == {"customers": "DROP INDEX ix_customers_created_at ON crm.customers"}


def test_advice_without_a_workload_is_the_schemas_own(shop: tuple[str, Design, Path]) -> None:
    _, d, _ = shop
    kinds = {(a.kind, a.table) for a in advise(d, None)}
    assert ("fk_without_index", "orders") in kinds and ("redundant_index", "orders") in kinds
    assert not {k for k, _ in kinds} & {"predicate_without_index", "unused_index"}
    assert not [a for a in advise(d, _workload(), min_rows=10_000) if a.kind == "predicate_without_index"
                and a.table == "customers"]  # 50 rows: a scan is as cheap as an index


def test_monitoring_sql_names_every_service_and_watches_the_outbox(shop: tuple[str, Design, Path]) -> None:
    _, d, _ = shop
    for dialect in ("postgresql", "mysql"):
        found = queries(d, dialect)
        assert {q.service for q in found} == {"crm", "sales"}
        backlog = {q.service: q.sql for q in found if q.name == "outbox_backlog"}
        assert backlog["crm"].startswith("SELECT COUNT(*)") and "crm" in backlog["crm"]
        text = script(found, dialect)
        assert text.count(";\n") == len(found) and "-- sales: table_growth" in text
    with pytest.raises(WorkbenchError, match="sqlite"):
        queries(d, "sqlite")


def test_drift_names_tables_columns_and_indexes_changed_by_hand(shop: tuple[str, Design, Path], tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    url, d, folder = shop
    target = tmp_path / "target"
    migrate(url, target, d, alembic=False, progress=False)
    assert drift(target, d).ok
    db = sqlite3.connect(target / "sales.sqlite")
    db.executescript("DROP INDEX ix_orders_status; ALTER TABLE order_lines ADD COLUMN note TEXT; "
                     "CREATE TABLE scratch (x INTEGER);")
    db.close()
    (target / "crm.sqlite").unlink()
    report = drift(target, d)
    assert report.missing == ["crm"]
    assert {(x.kind, x.table, x.name) for x in report.drifts} == {
        ("missing_index", "orders", "ix_orders_status"), ("extra_column", "order_lines", "note"),
        ("extra_table", "scratch", None)}
    assert main(["drift", "--target", str(target), "--design", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "crm" in out and "not on the target" in out and "3 differences" in out


def test_advise_and_monitor_commands_print_sql(shop: tuple[str, Design, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    _, _, folder = shop
    assert main(["advise", "--design", str(folder), "--dialect", "mysql"]) == 0
    out = capsys.readouterr().out
    assert "CREATE INDEX ix_order_lines_order_id ON sales.order_lines (order_id);" in out
    assert main(["monitor", "--design", str(folder), "--dialect", "mariadb", "--out", str(tmp_path / "m.sql")]) == 0
    text = (tmp_path / "m.sql").read_text()
    assert "information_schema.tables WHERE table_schema = 'sales'" in text and text.count(";\n") >= 10
