"""The lint rules, each on minimal hand-built schemas: it fires on the trait and stays silent without it."""

from __future__ import annotations

import importlib
import pkgutil
import random

import pytest

import workbench.assess.lint as lint_pkg
from workbench import serde
from workbench.assess.lint import RULES, Finding, LintSettings, lint
from workbench.cli import main
from workbench.errors import NotFoundError
from workbench.schema import Column, ForeignKey, Index, Schema, Table, UniqueConstraint


def table(
    name: str,
    *columns: str,
    pk: tuple[str, ...] = ("id",),
    fks: tuple[str, ...] = (),
    indexes: tuple[tuple[str, tuple[str, ...], bool], ...] = (),
    uniques: tuple[tuple[str | None, tuple[str, ...]], ...] = (),
    rows: int | None = None,
    kind: str = "table",
) -> Table:
    """``table("orders", "customer_id INT", fks=("customer_id -> customers.id",))``; ``id INT NOT NULL`` added when in
    pk."""
    cols = []
    for spec in ([] if "id" not in pk or any(c.split()[0] == "id" for c in columns) else ["id INT NOT NULL"]) + list(
        columns
    ):
        parts = spec.split()
        nullable = not spec.endswith("NOT NULL")
        type_ = " ".join(parts[1:-2] if not nullable else parts[1:])
        cols.append(Column(parts[0], type_, nullable))
    foreign_keys = []
    for spec in fks:
        left, right = (s.strip() for s in spec.split("->"))
        target, _, ref_cols = right.rpartition(".")
        foreign_keys.append(ForeignKey(left.split(","), target, ref_cols.split(",")))
    return Table(
        name,
        kind=kind,  # type: ignore[arg-type]
        columns=cols,
        primary_key=list(pk),
        foreign_keys=foreign_keys,
        indexes=[Index(n, list(c), u) for n, c, u in indexes],
        unique_constraints=[UniqueConstraint(n, list(c)) for n, c in uniques],
        row_count=rows,
    )


def schema(*tables: Table, dialect: str = "sqlite") -> Schema:
    return Schema(dialect, f"{dialect}://", tables=sorted(tables, key=lambda t: t.key))


def run(rule: str, s: Schema, settings: LintSettings | None = None) -> list[Finding]:
    return RULES[rule](s, settings)


CLEAN = schema(
    table(
        "customers", "name VARCHAR(80)", "email VARCHAR(120) NOT NULL", uniques=(("uq_customers_email", ("email",)),)
    ),
    table("products", "name VARCHAR(80)", "price NUMERIC(10, 2)"),
    table(
        "orders",
        "customer_id INT NOT NULL",
        fks=("customer_id -> customers.id",),
        indexes=(("ix_orders_customer", ("customer_id",), False),),
    ),
    table(
        "order_lines",
        "order_id INT NOT NULL",
        "product_id INT NOT NULL",
        "quantity INT",
        pk=("order_id", "product_id"),
        fks=("order_id -> orders.id", "product_id -> products.id"),
        indexes=(("ix_lines_product", ("product_id",), False),),
    ),
    table("order_summary", "order_id INT", pk=(), kind="view"),
)


def test_clean_schema_has_no_findings() -> None:
    assert lint(CLEAN) == []


def test_every_rule_module_is_registered_under_its_own_name() -> None:
    modules = {m.name for m in pkgutil.iter_modules(lint_pkg.__path__)} - {"finding", "settings"}
    assert modules == set(RULES)
    for name in modules:
        module = importlib.import_module(f"workbench.assess.lint.{name}")
        assert getattr(module, name) is RULES[name]


def test_no_primary_key() -> None:
    s = schema(table("audit", "at TIMESTAMP", "what TEXT", pk=()), table("v_audit", "at TIMESTAMP", pk=(), kind="view"))
    found = run("no_primary_key", s)
    assert [(f.table, f.severity) for f in found] == [("audit", "error")]
    assert run("no_primary_key", CLEAN) == []


def test_no_index() -> None:
    bare = table("events", "at TIMESTAMP", pk=(), rows=1234)
    indexed = table("logs", "at TIMESTAMP", pk=(), indexes=(("ix_at", ("at",), False),))
    found = run("no_index", schema(bare, indexed))
    assert [f.table for f in found] == ["events"]
    assert "1,234 rows" in found[0].message


def test_fk_without_index_needs_the_fk_columns_leading_an_index_or_the_pk() -> None:
    parent = table("customers")
    cases = {
        "no_index": ((), ("id",), True),
        "second_column": ((("ix", ("region", "customer_id"), False),), ("id",), True),
        "leading_column": ((("ix", ("customer_id", "region"), False),), ("id",), False),
        "pk_prefix": ((), ("customer_id", "region"), False),
    }
    for name, (indexes, pk, fires) in cases.items():
        child = table(
            name, "customer_id INT", "region INT", pk=pk, fks=("customer_id -> customers.id",), indexes=indexes
        )
        found = run("fk_without_index", schema(parent, child))
        assert bool(found) is fires, name
        if fires:
            assert found[0].columns == ["customer_id"] and "customers" in found[0].message


def test_fk_without_index_composite_in_any_order() -> None:
    parent = table("periods", "year INT", "month INT", pk=("year", "month"))
    child = table(
        "sales",
        "month INT",
        "year INT",
        fks=("year,month -> periods.year,month",),
        indexes=(("ix", ("month", "year"), False),),
    )
    assert run("fk_without_index", schema(parent, child)) == []


def test_fk_cycles_reports_each_cycle_once_from_its_smallest_table() -> None:
    s = schema(
        table("c", "a_id INT", fks=("a_id -> a.id",)),
        table("a", "b_id INT", fks=("b_id -> b.id",)),
        table("b", "c_id INT", fks=("c_id -> c.id",)),
        table("tree", "parent_id INT", fks=("parent_id -> tree.id",)),
    )
    found = run("fk_cycles", s)
    assert len(found) == 1
    assert found[0].table == "a" and found[0].columns == ["b_id"]
    assert "a -> b -> c -> a" in found[0].message
    assert run("fk_cycles", s, LintSettings(max_cycle_length=2)) == []


def test_fk_cycles_says_when_the_search_was_cut() -> None:
    s = schema(
        table("a", "b_id INT", "c_id INT", fks=("b_id -> b.id", "c_id -> c.id")),
        table("b", "a_id INT", fks=("a_id -> a.id",)),
        table("c", "a_id INT", fks=("a_id -> a.id",)),
    )
    assert len(run("fk_cycles", s)) == 2
    capped = run("fk_cycles", s, LintSettings(max_cycles=1))
    assert [f.severity for f in capped] == ["warning", "info"]


def test_self_reference() -> None:
    s = schema(table("employees", "manager_id INT", fks=("manager_id -> employees.id",)), table("teams"))
    found = run("self_reference", s)
    assert [(f.table, f.columns) for f in found] == [("employees", ["manager_id"])]


def test_orphan_tables_counts_declared_and_implied_references() -> None:
    s = schema(
        table("settings", "key VARCHAR(40)", "value TEXT", pk=("key",)),
        table("customers"),
        table("orders", "customer_id INT"),  # implied FK only
    )
    assert [f.table for f in run("orphan_tables", s)] == ["settings"]
    assert run("orphan_tables", CLEAN) == []


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        ((table("customers"), table("orders", "customer_id INT")), ("orders", "customer_id", "customers.id")),
        ((table("categories"), table("products", "category_id BIGINT")), ("products", "category_id", "categories.id")),
        ((table("Customers"), table("Orders", "customerId INT")), ("Orders", "customerId", "Customers.id")),
        (
            (table("addresses"), table("orders", "billing_address_id INT")),
            ("orders", "billing_address_id", "addresses.id"),
        ),
        (
            (table("customers", "customer_id INT NOT NULL", pk=("customer_id",)), table("orders", "customer_id INT")),
            ("orders", "customer_id", "customers.customer_id"),
        ),
        ((table("warehouses"), table("stock", "warehouse_id INT")), ("stock", "warehouse_id", "warehouses.id")),
        ((table("statuses"), table("orders", "status_id INT")), ("orders", "status_id", "statuses.id")),
        (
            (table("tblSupplier", "SupplierID INT NOT NULL", pk=("SupplierID",)), table("products", "supplier_id INT")),
            ("products", "supplier_id", "tblSupplier.SupplierID"),
        ),
        (  # a report table keyed by customer_id does not capture references meant for customers.id
            (
                table("customers"),
                table("rpt_ltv", "customer_id INT NOT NULL", pk=("customer_id",)),
                table("visits", "customer_id INT"),
            ),
            ("visits", "customer_id", "customers.id"),
        ),
        (
            (table("scores", "customer_id INT NOT NULL", pk=("customer_id",)), table("visits", "customer_id INT")),
            ("visits", "customer_id", "scores.customer_id"),
        ),
        (
            (table("web_sessions"), table("search_log", "session_id INT")),
            ("search_log", "session_id", "web_sessions.id"),
        ),
        ((table("items"), table("order_items"), table("picks", "item_id INT")), ("picks", "item_id", "items.id")),
    ],
)
def test_implied_foreign_keys_fire(tables: tuple[Table, ...], expected: tuple[str, str, str]) -> None:
    t, col, target = expected
    found = [f for f in run("implied_foreign_keys", schema(*tables)) if f.table == t]
    assert len(found) == 1
    assert found[0].columns == [col]
    assert f"{target} " in found[0].message


@pytest.mark.parametrize(
    "tables",
    [
        (table("customers"), table("orders", "customer_id VARCHAR(20)")),  # type mismatch
        (table("customers"), table("orders", "customer_id INT", fks=("customer_id -> customers.id",))),  # declared
        (table("customers", "customer_id INT NOT NULL", pk=("customer_id",)),),  # its own key
        (table("currencies", "code CHAR(3) NOT NULL", pk=("code",)), table("labels", "code CHAR(3)")),  # generic name
        (table("parents"), table("kids", "parent_name VARCHAR(10)")),  # no key named like that
    ],
)
def test_implied_foreign_keys_silent(tables: tuple[Table, ...]) -> None:
    assert run("implied_foreign_keys", schema(*tables)) == []


def test_implied_key_owner_wins_over_a_one_to_one_table() -> None:
    s = schema(
        table("customers", "customer_id INT NOT NULL", pk=("customer_id",)),
        table("customer_profiles", "customer_id INT NOT NULL", pk=("customer_id",)),
    )
    found = run("implied_foreign_keys", s)
    assert [(f.table, f.message.split(" (")[0]) for f in found] == [
        ("customer_profiles", "customer_id looks like a reference to customers.customer_id")
    ]


def test_polymorphic_associations() -> None:
    s = schema(
        table("notes", "entity_type VARCHAR(20)", "entity_id INT", "body TEXT"),
        table("likes", "likeableType VARCHAR(20)", "likeableId INT"),
        table("addresses"),
        table("contacts", "address_type VARCHAR(10)", "address_id INT", fks=("address_id -> addresses.id",)),
        table("things", "thing_type VARCHAR(10)"),
    )
    found = run("polymorphic_associations", s)
    assert [(f.table, f.columns) for f in found] == [
        ("likes", ["likeableType", "likeableId"]),
        ("notes", ["entity_type", "entity_id"]),
    ]


def test_inconsistent_column_types() -> None:
    s = schema(
        table("a", "customer_id INT", "name VARCHAR(40)", "ref INTEGER"),
        table("b", "customer_id INTEGER", "name VARCHAR(80)", "ref INT"),
        table("c", "customer_id VARCHAR(20)", "ref BIGINT"),
    )
    found = {(f.table, f.columns[0]): f for f in run("inconsistent_column_types", s)}
    assert set(found) == {("c", "customer_id"), ("c", "ref")}
    assert (
        found["c", "customer_id"].severity == "warning"
        and "INT in 2 other table(s)" in found["c", "customer_id"].message
    )
    assert found["c", "ref"].severity == "info"


def test_redundant_indexes() -> None:
    t = table(
        "orders",
        "a INT",
        "b INT",
        "c INT",
        indexes=(
            ("ix_a", ("a",), False),
            ("ix_ab", ("a", "b"), False),
            ("ux_b", ("b",), True),
            ("ix_bc", ("b", "c"), False),
            ("ix_c1", ("c",), False),
            ("ix_c2", ("c",), False),
            ("ix_id", ("id",), False),
        ),
    )
    found = {f.message.split(" ")[1]: f for f in run("redundant_indexes", schema(t))}
    assert set(found) == {"ix_a", "ix_c2", "ix_id"}
    assert "prefix of index ix_ab" in found["ix_a"].message
    assert "duplicates index ix_c1" in found["ix_c2"].message


def test_a_unique_constraint_reported_again_as_its_index_is_not_redundant() -> None:
    t = table(
        "users", "email VARCHAR(80)", uniques=(("uq_email", ("email",)),), indexes=(("uq_email", ("email",), True),)
    )
    assert run("redundant_indexes", schema(t)) == []
    assert len(run("nullable_unique", schema(t))) == 1


def test_nullable_unique() -> None:
    s = schema(
        table(
            "users",
            "email VARCHAR(80)",
            "login VARCHAR(20) NOT NULL",
            uniques=((None, ("email",)),),
            indexes=(("ux", ("login",), True),),
        )
    )
    found = run("nullable_unique", s)
    assert [(f.table, f.columns) for f in found] == [("users", ["email"])]


def test_incrementing_columns() -> None:
    s = schema(
        table(
            "people",
            "phone1 VARCHAR(20)",
            "phone2 VARCHAR(20)",
            "phone3 VARCHAR(20)",
            "sha256 CHAR(64)",
            "address_line1 TEXT",
            "address_line2 TEXT",
        )
    )
    found = run("incrementing_columns", s)
    assert [f.columns for f in found] == [["address_line1", "address_line2"], ["phone1", "phone2", "phone3"]]


def test_single_column_tables() -> None:
    s = schema(table("tags", "tag VARCHAR(20) NOT NULL", pk=("tag",)), table("pairs", "x INT"))
    assert [f.table for f in run("single_column_tables", s)] == ["tags"]


def test_too_many_lobs_by_dialect_types() -> None:
    wide = table("docs", "a LONGTEXT", "b MEDIUMBLOB", "c TEXT", "d VARCHAR(100)", "e VARBINARY(16)")
    found = run("too_many_lobs", schema(wide, dialect="mysql"))
    assert [f.columns for f in found] == [["a", "b", "c"]]
    two = table("docs", "a TEXT", "b BYTEA")
    assert run("too_many_lobs", schema(two, dialect="postgresql")) == []
    assert len(run("too_many_lobs", schema(two, dialect="postgresql"), LintSettings(max_lobs=1))) == 1


def _neighbourhoods(hub: Table, per: int = 3, groups: int = 3) -> list[Table]:
    """``groups`` tight clusters of ``per`` tables; every table also references ``hub``."""
    tables = [hub]
    for g in range(groups):
        names = [f"g{g}_t{i}" for i in range(per)]
        for i, name in enumerate(names):
            links = [f"{n}_id -> {n}.id" for n in names[:i]] + [f"{hub.name}_id -> {hub.name}.id"]
            tables.append(
                table(
                    name,
                    *(f"{link.split()[0]} INT" for link in links),
                    fks=tuple(links),
                    indexes=tuple((f"ix{j}", (link.split()[0],), False) for j, link in enumerate(links)),
                )
            )
    return tables


def test_hub_tables_fire_on_a_table_referenced_from_several_neighbourhoods() -> None:
    hub = table(
        "customers", "name VARCHAR(40)", "email VARCHAR(80)", "phone VARCHAR(20)", "born DATE", "score INT", rows=50_000
    )
    found = run("hub_tables", schema(*_neighbourhoods(hub)))
    assert [(f.table, f.severity) for f in found] == [("customers", "warning")]
    assert "9 tables" in found[0].message


def test_hub_tables_silent_when_referrers_share_one_neighbourhood() -> None:
    hub = table("orders", "note TEXT", "total INT", "placed DATE", "channel INT", "x INT")
    tables = _neighbourhoods(hub, per=6, groups=1)
    assert run("hub_tables", schema(*tables)) == []
    assert run("hub_tables", schema(*_neighbourhoods(hub)), LintSettings(hub_min_communities=4)) == []


def test_reference_data_hubs_are_info() -> None:
    hub = table("countries", "name VARCHAR(40)", rows=200)
    found = run("hub_tables", schema(*_neighbourhoods(hub)))
    assert [(f.table, f.severity) for f in found] == [("countries", "info")]
    assert "reference data" in found[0].message


def test_lint_sorts_and_is_deterministic() -> None:
    tables = [
        table("audit", "what TEXT", pk=()),
        table("customers"),
        table("orders", "customer_id INT", "last_invoice_id INT", fks=("last_invoice_id -> invoices.id",)),
        table("invoices", "order_id INT", fks=("order_id -> orders.id",)),
        table("notes", "entity_type VARCHAR(9)", "entity_id INT"),
    ]
    first = lint(schema(*tables))
    random.Random(7).shuffle(tables)
    again = lint(Schema("sqlite", "sqlite://", tables=tables))
    assert first == again
    ranks = [("error", "warning", "info").index(f.severity) for f in first]
    assert ranks == sorted(ranks) and first[0].rule == "no_primary_key"
    assert {f.rule for f in lint(schema(*tables), rules=["fk_cycles", "self_reference"])} == {"fk_cycles"}


def test_unknown_rule_is_named() -> None:
    with pytest.raises(NotFoundError, match="no_such_rule"):
        lint(CLEAN, rules=["no_such_rule"])


def test_cli_lint_prints_findings_and_fails_on_request(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = serde.save(schema(table("audit", "what TEXT", pk=())), tmp_path / "schema.json")
    assert main(["lint", str(path)]) == 0
    out = capsys.readouterr().out
    assert "no_primary_key" in out and "audit" in out
    assert main(["lint", str(path), "--fail-on", "error"]) == 1
    assert main(["lint", str(path), "--json"]) == 0
    assert '"rule": "no_primary_key"' in capsys.readouterr().out
