"""CQRS read models: columns from the observed joins, their grain, and an initial fill that runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from workbench.db import source_engine
from workbench.decompose.model import Decomposition, Service
from workbench.design import apply, design
from workbench.design.ddl import statements
from workbench.design.model import Design
from workbench.design.projections import insert_sql
from workbench.design.schemas import service_metadata
from workbench.introspect import introspect
from workbench.workload.model import StatementTemplate, Workload

LEGACY_DDL = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, city VARCHAR(40))",
    "CREATE TABLE products (id INTEGER PRIMARY KEY, title VARCHAR(80) NOT NULL)",
    "CREATE TABLE reviews (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL REFERENCES products(id), "
    "customer_id INTEGER REFERENCES customers(id), rating INTEGER NOT NULL, created_at DATETIME NOT NULL)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), "
    "status VARCHAR(10) NOT NULL)",
    "CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id), "
    "qty INTEGER NOT NULL)",
    "CREATE VIEW v_orders AS SELECT o.id AS order_id, c.name, COUNT(l.id) AS lines FROM orders o "
    "JOIN customers c ON c.id = o.customer_id LEFT JOIN order_lines l ON l.order_id = o.id GROUP BY o.id, c.name",
]
ROWS = [
    "INSERT INTO customers VALUES (1, 'Ann', 'Oslo'), (2, 'Bob', 'Rome')",
    "INSERT INTO products VALUES (10, 'Lamp')",
    "INSERT INTO reviews VALUES (100, 10, 1, 5, '2024-01-01'), (101, 10, 2, 3, '2024-01-02'), "
    "(102, 10, NULL, 4, '2024-01-03')",
    "INSERT INTO orders VALUES (1000, 1, 'new'), (1001, 2, 'paid')",
    "INSERT INTO order_lines VALUES (1, 1000, 2), (2, 1000, 1), (3, 1001, 5)",
]
REVIEWS = ("SELECT r.rating, c.name FROM reviews r LEFT JOIN customers c ON c.id = r.customer_id "
           "WHERE r.product_id = ? ORDER BY r.created_at DESC LIMIT ?")
LINES = ("SELECT o.status, l.qty, c.city FROM orders o JOIN order_lines l ON l.order_id = o.id "
         "JOIN customers c ON c.id = o.customer_id WHERE c.city = ?")


def _legacy(url: str, statements_: list[str]) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            for stmt in statements_:
                conn.exec_driver_sql(stmt)
    finally:
        engine.dispose()


def _workload() -> Workload:
    return Workload(dialect="sqlite", statements=10_000, templates=[
        StatementTemplate("t1", REVIEWS, "select", 5_000, tables_read=["customers", "reviews"],
                          joins=[("customers", "reviews")]),
        StatementTemplate("t2", LINES, "select", 10, tables_read=["customers", "order_lines", "orders"],
                          joins=[("customers", "order_lines"), ("customers", "orders"), ("order_lines", "orders")]),
        StatementTemplate("t3", "SELECT * FROM v_orders WHERE order_id = ?", 4_000, tables_read=["v_orders"]),
    ])


def _decomposition() -> Decomposition:
    return Decomposition(services={"catalog": Service(["products", "reviews"]), "crm": Service(["customers"]),
                                   "sales": Service(["order_lines", "orders"])})


@pytest.fixture
def legacy(tmp_path: Path) -> tuple[str, Design]:
    url = f"sqlite:///{tmp_path / 'legacy.sqlite'}"
    _legacy(url, LEGACY_DDL + ROWS)
    return url, design(introspect(url), _decomposition(), _workload(), findings=[])


def _fill(url: str, d: Design, name: str) -> list[tuple[object, ...]]:
    p = next(x for x in d.projections if x.name == name)
    engine = source_engine(url)  # read-only: the fill never writes the legacy database
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(p.fill_sql)]
    finally:
        engine.dispose()


def test_hot_join_gets_a_read_model_in_the_consumer(legacy: tuple[str, Design]) -> None:
    url, d = legacy
    p = next(x for x in d.projections if x.dependency == "read:reviews+customers")
    assert p.service == "catalog" and p.driving == "reviews"
    used = {(c.table, c.column) for c in p.columns}
    assert {("reviews", "rating"), ("reviews", "product_id"), ("reviews", "created_at"), ("customers", "name"),
            ("reviews", "customer_id"), ("customers", "id"), ("reviews", "id")} <= used
    assert ("customers", "city") not in used  # never read by the query
    assert p.key == ["reviews_id"]  # many-to-one join: one row per review
    rows = sorted(_fill(url, d, p.name), key=lambda r: r[0])
    names = [r[[c.name for c in p.columns].index("name")] for r in rows]
    assert names == ["Ann", "Bob", None]  # the review without a customer stays (LEFT JOIN)
    events = {e.type: e for e in d.events if e.service == "crm"}
    assert set(events) >= {"CustomerCreated", "CustomerUpdated", "CustomerDeleted"}
    assert events["CustomerUpdated"].payload[0] == "id" and "name" in events["CustomerUpdated"].payload
    assert events["CustomerUpdated"].consumers == ["catalog", "sales"]  # sales' read models join customers too


def test_one_to_many_join_keys_on_both_sides(legacy: tuple[str, Design]) -> None:
    url, d = legacy
    p = next(x for x in d.projections if x.dependency.startswith("read:orders"))
    assert p.service == "sales" and p.key == ["orders_id", "order_lines_id"]
    assert len(_fill(url, d, p.name)) == 3  # one row per order line


def test_view_over_services_is_materialised(legacy: tuple[str, Design], tmp_path: Path) -> None:
    url, d = legacy
    p = next(x for x in d.projections if x.dependency == "view:v_orders")
    assert [c.name for c in p.columns] == ["order_id", "name", "lines"] and p.key == ["order_id"]
    table = d.service("sales").table(p.name)
    assert dict((c.name, c.type) for c in table.table.columns)["lines"] == "BIGINT"  # typed by sqlglot
    rows = sorted(_fill(url, d, p.name))
    assert rows == [(1000, "Ann", 2), (1001, "Bob", 1)]
    where = apply(d, str(tmp_path / "services"))  # the read model's DDL runs and takes the fill
    engine = sa.create_engine(f"sqlite:///{where['sales']}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.table(p.name, *(sa.column(c.name) for c in p.columns)).insert(),
                         [dict(zip([c.name for c in p.columns], r, strict=True)) for r in rows])
            assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {p.name}")).scalar() == 2
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_insert_select_fills_the_read_model_inside_one_postgresql_database(pg_url: str, tmp_path: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'legacy.sqlite'}"
    _legacy(sqlite_url, LEGACY_DDL[:-1])
    d = design(introspect(sqlite_url), _decomposition(), _workload(), findings=[])
    _legacy(pg_url, [s.replace("DATETIME", "TIMESTAMP") for s in LEGACY_DDL] + ROWS)  # the legacy, in public
    apply(d, pg_url)
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            for p in d.projections:
                svc = d.service(p.service)
                target = service_metadata(d, svc.name, "postgresql").tables[f"{svc.namespace}.{p.name}"]
                conn.exec_driver_sql(insert_sql(p, target, "postgresql"))
            counts = {p.name: conn.execute(sa.text(f'SELECT COUNT(*) FROM {d.service(p.service).namespace}.{p.name}'))
                      .scalar() for p in d.projections}
    finally:
        engine.dispose()
    assert counts == {"rm_reviews": 3, "rm_orders": 3}
    assert all(s for s in statements(d, "sales", "postgresql"))


FANOUT_DDL = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), "
    "currency CHAR(3) NOT NULL)",
    "CREATE TABLE reviews (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), "
    "rating INTEGER NOT NULL)",
    "CREATE TABLE rates (currency CHAR(3) NOT NULL, day DATE NOT NULL, rate NUMERIC(10, 4) NOT NULL, "
    "PRIMARY KEY (currency, day))",
    "INSERT INTO customers VALUES (1, 'Ann'), (2, 'Bob'), (3, 'Cy')",
    "INSERT INTO orders VALUES (10, 1, 'EUR'), (11, 1, 'EUR'), (12, 1, 'USD'), (13, 2, 'USD')",
    "INSERT INTO reviews VALUES (20, 1, 5), (21, 1, 4), (22, 2, 3)",
    "INSERT INTO rates VALUES ('EUR', '2024-01-01', 1), ('EUR', '2024-01-02', 1), ('USD', '2024-01-01', 0.9), "
    "('USD', '2024-01-02', 0.91), ('USD', '2024-01-03', 0.92)",
]
# customer 360: two one-to-many branches from the customer (a chasm trap)
SUMMARY = ("SELECT c.name, COUNT(DISTINCT o.id) AS orders, AVG(r.rating) AS rating FROM customers c "
           "LEFT JOIN orders o ON o.customer_id = c.id LEFT JOIN reviews r ON r.customer_id = c.id "
           "WHERE c.id = ? GROUP BY c.name")
# the day's rate: joined on part of its key, the request gives the rest
VALUED = ("SELECT o.id, c.name, o.currency, r.rate FROM orders o JOIN customers c ON c.id = o.customer_id "
          "LEFT JOIN rates r ON r.currency = o.currency AND r.day = ? WHERE o.customer_id = ? ORDER BY c.name")


@pytest.fixture
def fanout(tmp_path: Path) -> tuple[str, Design]:
    url = f"sqlite:///{tmp_path / 'legacy.sqlite'}"
    _legacy(url, FANOUT_DDL)
    workload = Workload(dialect="sqlite", statements=1_000, templates=[
        StatementTemplate("s", SUMMARY, "select", 300, tables_read=["customers", "orders", "reviews"],
                          joins=[("customers", "orders"), ("customers", "reviews")]),
        StatementTemplate("v", VALUED, "select", 300, tables_read=["customers", "orders", "rates"],
                          joins=[("customers", "orders"), ("orders", "rates")]),
    ])
    decomposition = Decomposition(services={"crm": Service(["customers", "reviews"]), "sales": Service(["orders"]),
                                            "fx": Service(["rates"])})
    return url, design(introspect(url), decomposition, workload, findings=[])


def test_branches_that_would_multiply_rows_are_split_or_left_to_the_request(fanout: tuple[str, Design]) -> None:
    url, d = fanout
    summary = [p for p in d.projections if p.dependency.startswith("read:customers")]
    assert [p.name for p in summary] == ["rm_customers"]  # the reviews branch is crm's own: not copied
    p = summary[0]
    assert [s.table for s in p.joins] == ["customers", "orders"]
    assert any("own reviews joined at request time" in n for n in p.notes)
    assert len(_fill(url, d, p.name)) == 5  # one row per order, plus Cy without any (3 x 2 with the reviews)


def test_request_time_lookup_is_a_read_model_of_its_own(fanout: tuple[str, Design]) -> None:
    url, d = fanout
    valued = {p.name: p for p in d.projections if p.dependency.startswith("read:orders")}
    assert sorted(valued) == ["rm_orders", "rm_orders_rates"]
    assert [s.table for s in valued["rm_orders"].joins] == ["orders", "customers"]
    assert valued["rm_orders"].key == ["orders_id"] and len(_fill(url, d, "rm_orders")) == 4
    rates = valued["rm_orders_rates"]
    assert [s.table for s in rates.joins] == ["rates"] and not rates.joins[0].on
    assert rates.key == ["currency", "day"] and len(_fill(url, d, "rm_orders_rates")) == 5  # not 4 x 2.5
    assert any("part of its key" in n for n in rates.notes)
    assert {c.name for c in valued["rm_orders"].columns} >= {"currency"}  # the consumer joins the two on it
    assert {e.split(":")[0] for e in rates.events} == {"fx"}


SIBLING_DDL = [
    "CREATE TABLE currencies (code CHAR(3) PRIMARY KEY)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, currency CHAR(3) NOT NULL REFERENCES currencies(code))",
    "CREATE TABLE invoices (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id), "
    "currency CHAR(3) NOT NULL REFERENCES currencies(code), total NUMERIC(10, 2) NOT NULL)",
    "CREATE TABLE payments (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id), "
    "currency CHAR(3) NOT NULL REFERENCES currencies(code), amount NUMERIC(10, 2) NOT NULL, captured_at DATE)",
    "INSERT INTO currencies VALUES ('EUR'), ('USD')",
    "INSERT INTO orders VALUES (1, 'EUR'), (2, 'EUR'), (3, 'USD'), (4, 'EUR')",
    "INSERT INTO invoices VALUES (10, 1, 'EUR', 5), (11, 2, 'EUR', 7), (12, 3, 'USD', 9), (13, 4, 'EUR', 1)",
    "INSERT INTO payments VALUES (20, 1, 'EUR', 5, '2024-01-01'), (21, 2, 'EUR', 3, NULL), (22, 2, 'EUR', 4, NULL), "
    "(23, 3, 'USD', 9, '2024-01-02')",
]
# not a plain join: the payments come in through a CTE keyed by the order both tables refer to
OPEN = ("WITH paid AS (SELECT order_id, SUM(amount) AS paid FROM payments WHERE captured_at IS NOT NULL "
        "GROUP BY order_id) SELECT i.id, i.total, COALESCE(paid.paid, ?) AS paid FROM invoices i "
        "LEFT JOIN paid ON paid.order_id = i.order_id WHERE i.total > ? ORDER BY paid.paid DESC")


def test_tables_joined_through_a_shared_parent_reach_the_read_model(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'legacy.sqlite'}"
    _legacy(url, SIBLING_DDL)
    workload = Workload(dialect="sqlite", statements=1_000, templates=[
        StatementTemplate("o", OPEN, "select", 500, tables_read=["invoices", "payments"],
                          joins=[("invoices", "payments")])])
    decomposition = Decomposition(services={"billing": Service(["invoices"]), "pay": Service(["payments"]),
                                            "sales": Service(["orders"]), "ref": Service(["currencies"])})
    d = design(introspect(url), decomposition, workload, findings=[])
    p = next(x for x in d.projections if x.dependency.startswith("read:invoices"))
    assert [s.table for s in p.joins] == ["invoices", "payments"]
    assert p.joins[1].on == [["t1.order_id", "t0.order_id"]]  # the order they share, not the currency
    assert any("through the orders they both refer to" in n for n in p.notes)
    assert len(_fill(url, d, p.name)) == 5  # one row per payment of each invoice's order, and invoice 13 alone
