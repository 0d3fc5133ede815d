"""The lint on the real sample database finds the traits planted in it (workbench/sample/tables.py,
sample_db/README.md).

The expected tables come from the sample's own list of traits, not from a lint run: a rule that
stops seeing one of them fails here.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from workbench.assess.lint import Finding, lint
from workbench.schema import Schema


@pytest.fixture(scope="module")
def findings(sample_path: Path) -> dict[str, list[Finding]]:
    from workbench.introspect import introspect

    schema: Schema = introspect(f"sqlite:///{sample_path}")
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for f in lint(schema):
        by_rule[f.rule].append(f)
    return by_rule


def _tables(findings: dict[str, list[Finding]], rule: str) -> set[str]:
    return {f.table for f in findings[rule]}


def _columns(findings: dict[str, list[Finding]], rule: str) -> set[tuple[str, str]]:
    return {(f.table, c) for f in findings[rule] for c in f.columns}


def test_tables_without_primary_key(findings: dict[str, list[Finding]]) -> None:
    assert _tables(findings, "no_primary_key") == {
        "price_history_import",
        "order_line_discounts",
        "search_log",
        "rpt_daily_sales",
    }


def test_fk_cycles_and_self_references(findings: dict[str, list[Finding]]) -> None:
    cycles = [f.message for f in findings["fk_cycles"]]
    assert any("customers" in m and "addresses" in m for m in cycles)
    assert any("departments" in m and "staff" in m for m in cycles)
    assert {"categories", "staff"} <= _tables(findings, "self_reference")


def test_polymorphic_associations(findings: dict[str, list[Finding]]) -> None:
    found = _columns(findings, "polymorphic_associations")
    assert {("notes", "entity_type"), ("attachments", "entity_id"), ("stock_movements", "reference_type")} <= found


def test_relationships_by_naming_only(findings: dict[str, list[Finding]]) -> None:
    expected = {
        ("web_sessions", "customer_id"),
        ("newsletter_subscriptions", "customer_id"),
        ("search_log", "session_id"),
        ("products", "supplier_id"),
        ("stock_reservations", "order_id"),
        ("loyalty_transactions", "order_id"),
        ("carts", "converted_order_id"),
    }
    assert expected <= _columns(findings, "implied_foreign_keys")
    supplier = next(f for f in findings["implied_foreign_keys"] if f.table == "products")
    assert "tblSupplier.SupplierID" in supplier.message


def test_foreign_keys_without_index(findings: dict[str, list[Finding]]) -> None:
    expected = {
        ("order_lines", "product_id"),
        ("audit_log", "changed_by"),
        ("invoice_lines", "order_line_id"),
        ("product_prices", "product_id"),  # indexed only as a second column
        ("warehouse_stock", "product_id"),  # second column of the composite key
    }
    assert expected <= _columns(findings, "fk_without_index")


def test_shared_lookups_are_hubs_and_numbered_columns_are_seen(findings: dict[str, list[Finding]]) -> None:
    assert {"countries", "currencies", "status_codes"} <= _tables(findings, "hub_tables")
    assert ("customers", "phone2") in _columns(findings, "incrementing_columns")
    assert {"settings", "sequences"} <= _tables(findings, "orphan_tables")
