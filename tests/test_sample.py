"""The sample legacy database: determinism, the answer key, the legacy traits, plausibility, loading."""

from __future__ import annotations

import csv
import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
import sqlalchemy as sa

from workbench.cli import main
from workbench.db import source_engine, target_engine
from workbench.errors import ConnectError, TargetError
from workbench.sample import (
    DOMAIN_DESCRIPTIONS,
    DOMAINS,
    METADATA,
    VIEWS,
    answer_key_text,
    build,
    generate,
    load,
    write_answer_key,
)

ROOT = Path(__file__).resolve().parent.parent


def _ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _checksums(path: Path) -> dict[str, str]:
    """Per-table SHA-256 of the rows in a canonical order (every column, ascending)."""
    out: dict[str, str] = {}
    with _ro(path) as con:
        for table in METADATA.sorted_tables:
            order = ", ".join(str(i + 1) for i in range(len(table.columns)))
            digest = hashlib.sha256()
            for row in con.execute(f"SELECT * FROM {_q(table.name)} ORDER BY {order}"):
                digest.update(repr(row).encode())
            out[table.name] = digest.hexdigest()
    return out


def _counts(path: Path) -> dict[str, int]:
    with _ro(path) as con:
        return {t: con.execute(f"SELECT COUNT(*) FROM {_q(t)}").fetchone()[0] for t in sorted(METADATA.tables)}


@pytest.fixture(scope="module")
def inspected(small_sample_path: Path) -> Iterator[sa.Inspector]:
    engine = source_engine(f"sqlite:///{small_sample_path}")
    try:
        yield sa.inspect(engine)
    finally:
        engine.dispose()


# --- the answer key ----------------------------------------------------------------------------------------------


def test_domains_cover_every_table_and_view() -> None:
    assert set(DOMAINS) == set(METADATA.tables) | set(VIEWS)
    assert 45 <= len(DOMAINS) <= 70
    assert 45 <= len(METADATA.tables) <= 70
    assert len(set(DOMAINS.values())) >= 8
    assert set(DOMAINS.values()) <= set(DOMAIN_DESCRIPTIONS)
    # no domain is a token one-table bucket except the explicitly cross-cutting ones
    sizes = {d: sum(1 for v in DOMAINS.values() if v == d) for d in set(DOMAINS.values())}
    assert min(sizes.values()) >= 4, sizes


def test_committed_answer_key_matches_code() -> None:
    committed = (ROOT / "sample_db" / "domains.csv").read_text(encoding="utf-8")
    assert committed == answer_key_text(), "regenerate with workbench.sample.write_answer_key('sample_db/domains.csv')"
    rows = list(csv.DictReader(committed.splitlines()))
    assert [r["table"] for r in rows] == sorted(r["table"] for r in rows)
    assert {r["table"]: r["domain"] for r in rows} == DOMAINS


def test_write_answer_key(tmp_path: Path) -> None:
    path = write_answer_key(tmp_path / "sub" / "domains.csv")
    assert path.read_text(encoding="utf-8").startswith("table,domain\n")
    assert len(path.read_text(encoding="utf-8").splitlines()) == len(DOMAINS) + 1


# --- determinism ---------------------------------------------------------------------------------------------------


def test_same_seed_same_contents_other_seed_differs(tmp_path: Path) -> None:
    a = _checksums(build(tmp_path / "a.sqlite", scale=0.01))
    b = _checksums(build(tmp_path / "b.sqlite", scale=0.01))
    c = _checksums(build(tmp_path / "c.sqlite", scale=0.01, seed=7))
    assert a == b
    differing = {t for t in a if a[t] != c[t]}
    assert {"orders", "order_lines", "customers", "audit_log", "stock_movements"} <= differing
    assert len(differing) >= len(a) // 2


def test_generate_yields_every_table_once_with_full_rows() -> None:
    seen = []
    for name, rows in generate(scale=0.005):
        width = len(METADATA.tables[name].columns)
        assert rows, f"{name} is empty"
        assert all(len(r) == width for r in rows)
        seen.append(name)
    assert sorted(seen) == sorted(METADATA.tables)


def test_bad_scale_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        build(tmp_path / "x.sqlite", scale=0)


# --- the legacy traits, found the way later stages will find them ---------------------------------------------------


def test_schema_matches_metadata(inspected: sa.Inspector) -> None:
    assert sorted(inspected.get_table_names()) == sorted(METADATA.tables)
    assert sorted(inspected.get_view_names()) == sorted(VIEWS)


def test_tables_without_primary_key(inspected: sa.Inspector) -> None:
    no_pk = {t for t in inspected.get_table_names() if not inspected.get_pk_constraint(t)["constrained_columns"]}
    assert 2 <= len(no_pk) <= 4
    assert {"price_history_import", "order_line_discounts", "search_log"} <= no_pk


def test_composite_primary_keys(inspected: sa.Inspector) -> None:
    composite = {t: inspected.get_pk_constraint(t)["constrained_columns"] for t in inspected.get_table_names()}
    composite = {t: cols for t, cols in composite.items() if len(cols) > 1}
    assert composite["warehouse_stock"] == ["warehouse_id", "product_id"]
    assert composite["product_categories"] == ["product_id", "category_id"]
    assert len(composite) >= 4


def _fk_graph(inspected: sa.Inspector) -> nx.DiGraph:
    graph = nx.DiGraph()
    for t in inspected.get_table_names():
        graph.add_node(t)
        for fk in inspected.get_foreign_keys(t):
            graph.add_edge(t, fk["referred_table"])
    return graph


def test_fk_cycles_and_self_references(inspected: sa.Inspector) -> None:
    graph = _fk_graph(inspected)
    cycles = [set(c) for c in nx.simple_cycles(graph)]
    assert {"customers", "addresses"} in cycles
    assert {"staff", "departments"} in cycles
    self_refs = {t for t in graph if graph.has_edge(t, t)}
    assert {"categories", "staff"} <= self_refs
    # the shared lookups are referenced from many domains
    for lookup in ("status_codes", "countries", "currencies"):
        domains = {DOMAINS[t] for t in graph.predecessors(lookup)}
        assert len(domains) >= 4, (lookup, domains)


def test_polymorphic_tables(inspected: sa.Inspector) -> None:
    for table in ("notes", "attachments"):
        cols = {c["name"] for c in inspected.get_columns(table)}
        assert {"entity_type", "entity_id"} <= cols
        fk_cols = {c for fk in inspected.get_foreign_keys(table) for c in fk["constrained_columns"]}
        assert "entity_id" not in fk_cols


def test_foreign_keys_without_supporting_index(inspected: sa.Inspector) -> None:
    unindexed = set()
    for t in inspected.get_table_names():
        leading = {ix["column_names"][0] for ix in inspected.get_indexes(t)}
        leading |= {u["column_names"][0] for u in inspected.get_unique_constraints(t)}
        pk = inspected.get_pk_constraint(t)["constrained_columns"]
        if pk:
            leading.add(pk[0])
        for fk in inspected.get_foreign_keys(t):
            if fk["constrained_columns"][0] not in leading:
                unindexed.add((t, fk["constrained_columns"][0]))
    assert ("order_lines", "product_id") in unindexed
    assert ("audit_log", "changed_by") in unindexed
    assert len(unindexed) >= 10


def test_relationships_by_naming_only(inspected: sa.Inspector, small_sample_path: Path) -> None:
    for table, column in (("web_sessions", "customer_id"), ("newsletter_subscriptions", "customer_id"),
                          ("search_log", "session_id"), ("products", "supplier_id")):
        assert column in {c["name"] for c in inspected.get_columns(table)}
        assert column not in {c for fk in inspected.get_foreign_keys(table) for c in fk["constrained_columns"]}
    # ... yet the data honours them: every value points at an existing row
    with _ro(small_sample_path) as con:
        checks = {
            "web_sessions": "SELECT COUNT(*) FROM web_sessions w LEFT JOIN customers c ON c.id = w.customer_id "
                            "WHERE w.customer_id IS NOT NULL AND c.id IS NULL",
            "search_log": "SELECT COUNT(*) FROM search_log s LEFT JOIN web_sessions w ON w.id = s.session_id "
                          "WHERE w.id IS NULL",
            "products": 'SELECT COUNT(*) FROM products p LEFT JOIN "tblSupplier" s ON s."SupplierID" = p.supplier_id '
                        "WHERE s.\"SupplierID\" IS NULL",
        }
        for name, sql in checks.items():
            assert con.execute(sql).fetchone()[0] == 0, name
        linked = con.execute("SELECT COUNT(*) FROM web_sessions WHERE customer_id IS NOT NULL").fetchone()[0]
        assert linked > 0


def test_mixed_naming_styles_and_name_lengths(inspected: sa.Inspector) -> None:
    tables = inspected.get_table_names()
    camel = [t for t in tables if t != t.lower()]
    assert {"tblSupplier", "SupplierContact"} <= set(camel)
    assert len(camel) < len(tables) // 4  # most of the schema is snake_case
    assert any(c["name"] == "SupplierID" for c in inspected.get_columns("SupplierContact"))
    names = [t for t in tables]
    for t in tables:
        names += [c["name"] for c in inspected.get_columns(t)]
        names += [ix["name"] for ix in inspected.get_indexes(t)]
        names += [fk["name"] for fk in inspected.get_foreign_keys(t) if fk["name"]]
    assert max(len(n) for n in names) <= 63


def test_foreign_keys_hold(small_sample_path: Path) -> None:
    with _ro(small_sample_path) as con:
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []


# --- plausibility ------------------------------------------------------------------------------------------------

_ZERO_QUERIES = {
    "shipment before its order": (
        "SELECT COUNT(*) FROM shipments s JOIN orders o ON o.id = s.order_id WHERE s.shipped_at < o.order_date"
    ),
    "delivery before shipment": "SELECT COUNT(*) FROM shipments WHERE delivered_at <= shipped_at",
    "captured payments != order total": (
        "SELECT COUNT(*) FROM orders o JOIN (SELECT order_id, SUM(p.amount) AS paid FROM payments p "
        "JOIN status_codes s ON s.id = p.status_id WHERE s.code = 'CAPTURED' GROUP BY order_id) x ON x.order_id = o.id "
        "WHERE ROUND(x.paid, 2) <> ROUND(o.total_amount, 2)"
    ),
    "return of an undelivered order": (
        "SELECT COUNT(*) FROM returns r JOIN orders o ON o.id = r.order_id JOIN status_codes s ON s.id = o.status_id "
        "WHERE s.code <> 'DELIVERED'"
    ),
    "return before delivery": (
        "SELECT COUNT(*) FROM returns r JOIN shipments sh ON sh.order_id = r.order_id "
        "WHERE sh.delivered_at IS NULL OR r.requested_at < sh.delivered_at"
    ),
    "order before the customer signed up": (
        "SELECT COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.order_date < c.created_at"
    ),
    "subtotal != sum of lines": (
        "SELECT COUNT(*) FROM orders o "
        "JOIN (SELECT order_id, SUM(line_total) AS t FROM order_lines GROUP BY order_id) l ON l.order_id = o.id "
        "WHERE ROUND(l.t, 2) <> ROUND(o.subtotal_amount, 2)"
    ),
    "discount != sum of line discounts": (
        "SELECT COUNT(*) FROM orders o LEFT JOIN (SELECT ol.order_id, SUM(d.amount) AS t FROM order_line_discounts d "
        "JOIN order_lines ol ON ol.id = d.order_line_id GROUP BY ol.order_id) x ON x.order_id = o.id "
        "WHERE ROUND(COALESCE(x.t, 0), 2) <> ROUND(o.discount_amount, 2)"
    ),
    "total != subtotal - discount + shipping + tax": (
        "SELECT COUNT(*) FROM orders WHERE ROUND(subtotal_amount - discount_amount + shipping_amount + tax_amount, 2) "
        "<> ROUND(total_amount, 2)"
    ),
    "delivered order with a parcel still in transit": (
        "SELECT COUNT(*) FROM orders o JOIN status_codes s ON s.id = o.status_id WHERE s.code = 'DELIVERED' "
        "AND EXISTS (SELECT 1 FROM shipments sh WHERE sh.order_id = o.id AND sh.delivered_at IS NULL)"
    ),
    "unshipped order with a shipment": (
        "SELECT COUNT(*) FROM orders o JOIN status_codes s ON s.id = o.status_id WHERE s.code IN ('PENDING', 'PAID') "
        "AND EXISTS (SELECT 1 FROM shipments sh WHERE sh.order_id = o.id)"
    ),
    "stock level != sum of movements": (
        "SELECT COUNT(*) FROM warehouse_stock ws LEFT JOIN (SELECT warehouse_id, product_id, SUM(quantity) AS q "
        "FROM stock_movements GROUP BY warehouse_id, product_id) m ON m.warehouse_id = ws.warehouse_id "
        "AND m.product_id = ws.product_id WHERE COALESCE(m.q, 0) <> ws.quantity_on_hand"
    ),
    "negative stock": "SELECT COUNT(*) FROM warehouse_stock WHERE quantity_on_hand < 0",
    "refund larger than or before its payment": (
        "SELECT COUNT(*) FROM refunds r JOIN payments p ON p.id = r.payment_id "
        "WHERE r.amount > p.amount OR r.refunded_at < p.captured_at"
    ),
    "invoice disagrees with its order": (
        "SELECT COUNT(*) FROM invoices i JOIN orders o ON o.id = i.order_id "
        "WHERE ROUND(i.total_amount, 2) <> ROUND(o.total_amount, 2) OR i.customer_id <> o.customer_id"
    ),
    "audit entry by someone not employed then": (
        "SELECT COUNT(*) FROM audit_log a JOIN staff s ON s.id = a.changed_by "
        "WHERE a.changed_at < s.hired_on OR (s.left_on IS NOT NULL AND a.changed_at >= s.left_on)"
    ),
    "product sold before launch or after discontinuation": (
        "SELECT COUNT(*) FROM order_lines ol JOIN orders o ON o.id = ol.order_id "
        "JOIN products p ON p.id = ol.product_id "
        "WHERE o.order_date < p.created_at OR (p.discontinued_on IS NOT NULL AND o.order_date >= p.discontinued_on)"
    ),
    "shipment from a warehouse that was not open": (
        "SELECT COUNT(*) FROM shipments s JOIN warehouses w ON w.id = s.warehouse_id "
        "WHERE s.shipped_at < w.opened_on OR (w.closed_on IS NOT NULL AND s.shipped_at >= w.closed_on)"
    ),
    "anything after the snapshot": (
        "SELECT (SELECT COUNT(*) FROM audit_log WHERE changed_at >= '2026-01-01') "
        "+ (SELECT COUNT(*) FROM orders WHERE order_date < '2011-01-01' OR order_date >= '2026-01-01')"
    ),
    "report out of step with orders": (
        "SELECT (SELECT SUM(order_count) FROM rpt_daily_sales) - (SELECT COUNT(*) FROM orders o "
        "JOIN status_codes s ON s.id = o.status_id WHERE s.code <> 'CANCELLED' AND o.order_date < '2025-12-31')"
    ),
}


@pytest.mark.parametrize("check", sorted(_ZERO_QUERIES))
def test_plausibility(small_sample_path: Path, check: str) -> None:
    with _ro(small_sample_path) as con:
        assert con.execute(_ZERO_QUERIES[check]).fetchone()[0] == 0


def test_data_has_history_and_variety(small_sample_path: Path) -> None:
    with _ro(small_sample_path) as con:
        years = [r[0] for r in con.execute("SELECT DISTINCT substr(order_date, 1, 4) FROM orders ORDER BY 1")]
        assert years[0] == "2011" and years[-1] == "2025" and len(years) == 15
        by_year = dict(con.execute("SELECT substr(order_date, 1, 4), COUNT(*) FROM orders GROUP BY 1").fetchall())
        assert by_year["2025"] > 2 * by_year["2011"]  # the business grew
        statuses = {r[0] for r in con.execute(
            "SELECT DISTINCT s.code FROM orders o JOIN status_codes s ON s.id = o.status_id")}
        assert {"DELIVERED", "CANCELLED"} <= statuses
        assert con.execute("SELECT COUNT(*) FROM v_order_summary").fetchone()[0] == \
            con.execute("SELECT COUNT(*) FROM orders").fetchone()[0]


# --- volumes -------------------------------------------------------------------------------------------------------


def test_full_sample_volumes(sample_path: Path, small_sample_path: Path) -> None:
    full, small = _counts(sample_path), _counts(small_sample_path)
    assert max(full.values()) >= 100_000
    big = sorted(t for t, n in full.items() if n >= 100_000)
    assert {"order_lines", "audit_log", "stock_movements"} <= set(big)
    assert all(small[t] <= full[t] for t in full)
    assert all(n >= 3 for n in small.values()), {t: n for t, n in small.items() if n < 3}
    assert 0.01 < small["orders"] / full["orders"] < 0.04


# --- build mechanics and the CLI ----------------------------------------------------------------------------------


def test_build_replaces_atomically_and_keeps_old_file_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "s.sqlite"
    build(target, scale=0.005)
    before = _checksums(target)

    def broken(scale: float, seed: int) -> Iterator[tuple[str, list[tuple[object, ...]]]]:
        yield from list(generate(scale, seed))[:3]
        raise RuntimeError("generator died")

    monkeypatch.setattr("workbench.sample.builder.generate", broken)
    with pytest.raises(RuntimeError, match="generator died"):
        build(target, scale=0.005, seed=99)
    assert _checksums(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.sqlite"]


def test_cli_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.sqlite"
    assert main(["sample", "build", "--out", str(out), "--scale", "0.01"]) == 0
    assert str(out) in capsys.readouterr().out
    assert _counts(out)["orders"] > 0


def test_cli_rejects_bad_scale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["sample", "build", "--out", str(tmp_path / "x.sqlite"), "--scale", "0"])
    assert info.value.code == 2
    assert "scale must be in (0, 100]" in capsys.readouterr().err
    assert not (tmp_path / "x.sqlite").exists()


def test_cli_build_unwritable_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["sample", "build", "--out", str(blocker / "x.sqlite"), "--scale", "0.01"]) == 2
    err = capsys.readouterr().err
    assert "workbench: error:" in err and "x.sqlite" in err and len(err.strip().splitlines()) == 1


# --- loading into servers -------------------------------------------------------------------------------------------

_COMPARED = ("orders", "order_lines", "customers", "addresses", "tblSupplier", "SupplierContact", "audit_log",
             "exchange_rates", "status_codes", "warehouse_stock", "payments", "search_log", "products")


def _rows(url: str, table_name: str, limit: int = 300) -> list[tuple[object, ...]]:
    table = METADATA.tables[table_name]
    order = list(table.primary_key.columns) or list(table.columns)
    engine = source_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.select(table).order_by(*order).limit(limit))]
    finally:
        engine.dispose()


def _check_loaded(url: str, small_sample_path: Path) -> None:
    counts = load(url, scale=0.02)
    assert counts == _counts(small_sample_path)
    sqlite_url = f"sqlite:///{small_sample_path}"
    engine = source_engine(url, poolclass=sa.pool.NullPool)
    try:
        inspector = sa.inspect(engine)
        assert sorted(inspector.get_table_names()) == sorted(METADATA.tables)
        assert sorted(inspector.get_view_names()) == sorted(VIEWS)
        columns = {key[1]: [c["name"] for c in cols] for key, cols in inspector.get_multi_columns().items()}
        for table in METADATA.sorted_tables:  # identical names, CamelCase included
            assert columns[table.name] == [c.name for c in table.columns], table.name
        referred = {fk["referred_table"] for fk in inspector.get_foreign_keys("customers")}
        assert {"addresses", "customer_groups", "status_codes"} <= referred
        with engine.connect() as conn:
            for table in sorted(METADATA.tables):
                n = conn.execute(sa.select(sa.func.count()).select_from(METADATA.tables[table])).scalar_one()
                assert n == counts[table], table
            summary = conn.execute(sa.text("SELECT COUNT(*), SUM(line_count) FROM v_order_summary")).one()
            assert summary[0] == counts["orders"] and summary[1] == counts["order_lines"]
    finally:
        engine.dispose()
    for table in _COMPARED:
        assert _rows(url, table) == _rows(sqlite_url, table), table


@pytest.mark.postgres
def test_load_postgres(pg_url: str, small_sample_path: Path, tmp_path: Path) -> None:
    _check_loaded(pg_url, small_sample_path)
    engine = target_engine(pg_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:  # the SERIAL sequences were moved past the loaded ids
            before = conn.execute(sa.text("SELECT MAX(id) FROM carriers")).scalar_one()
            new_id = conn.execute(sa.text(
                "INSERT INTO carriers (name, is_active) VALUES ('Test carrier', true) RETURNING id")).scalar_one()
            assert new_id == before + 1
    finally:
        engine.dispose()
    # loading added the foreign keys with ALTER TABLE; that must not strip them from CREATE TABLE
    # in a later build of the same process (the tables' MetaData is shared)
    engine = source_engine(f"sqlite:///{build(tmp_path / 'after.sqlite', scale=0.001)}")
    try:
        fks = {fk["referred_table"] for fk in sa.inspect(engine).get_foreign_keys("customers")}
        assert {"addresses", "customer_groups", "status_codes"} <= fks
    finally:
        engine.dispose()


@pytest.mark.mariadb
def test_load_mariadb(mysql_url: str, small_sample_path: Path) -> None:
    _check_loaded(mysql_url, small_sample_path)


def test_load_sqlite_target_matches_build(tmp_path: Path) -> None:
    built = build(tmp_path / "built.sqlite", scale=0.005)
    counts = load(f"sqlite:///{tmp_path / 'loaded.sqlite'}", scale=0.005)
    assert counts == _counts(built)
    assert _checksums(tmp_path / "loaded.sqlite") == _checksums(built)


def test_load_refuses_non_empty_target(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    with pytest.raises(TargetError, match="orders"):
        load(f"sqlite:///{path}", scale=0.005)
    with _ro(path) as con:  # nothing was created next to it
        assert con.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 1


@pytest.mark.postgres
def test_load_refuses_non_empty_postgres(pg_url: str) -> None:
    engine = target_engine(pg_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text('CREATE TABLE "tblSupplier" (x integer)'))
    finally:
        engine.dispose()
    with pytest.raises(TargetError, match="tblSupplier"):
        load(pg_url, scale=0.005)


@pytest.mark.postgres
def test_load_error_never_shows_password(pg_url: str) -> None:
    url = sa.make_url(pg_url).set(password="s3cret-pw", database="wb_no_such_database_x")
    with pytest.raises(ConnectError) as info:
        load(url.render_as_string(hide_password=False), scale=0.005)
    assert "s3cret-pw" not in str(info.value)
    assert "***" in str(info.value)
