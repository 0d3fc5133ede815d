"""Statement normalisation, table extraction through sqlglot scopes, and name resolution."""

from __future__ import annotations

import random
import time

import pytest

from workbench.schema import Schema, Table
from workbench.workload.extract import TableRef, analyze, analyze_truncated, control_of
from workbench.workload.normalize import Normalizer, fingerprint, is_binary, sample_text, split_statements
from workbench.workload.resolve import Resolver

# --- normalisation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "a", "b"),
    [
        ("postgres", "SELECT * FROM t WHERE id = 1 AND s = 'x'", "SELECT * FROM t WHERE id = 99999 AND s = 'it''s'"),
        ("postgres", "SELECT * FROM t WHERE id IN (1, 2)", "SELECT  *\nFROM t\tWHERE id IN (3,4,5,6,7)"),
        ("postgres", "SELECT * FROM t WHERE id = $1", "SELECT * FROM t WHERE id = 12 -- trailing comment"),
        ("postgres", "INSERT INTO t VALUES (1, 'a')", "INSERT INTO t VALUES (2, 'b'), (3, 'c'), (4, NULL)"),
        ("postgres", "SELECT $$a;b$$, 1.5e3 FROM t", "SELECT $tag$x$tag$, 7 FROM t"),
        ("postgres", "SELECT * FROM t WHERE d > DATE '2024-01-01'", "SELECT * FROM t WHERE d > DATE '1999-12-31'"),
        ("postgres", "SELECT * FROM t WHERE s = E'a\\'b'", "SELECT * FROM t WHERE s = 'plain'"),
        ("mysql", "SELECT * FROM t WHERE s = 'O\\'Neil'", "SELECT * FROM t WHERE s = \"double\""),
        ("mysql", "SELECT * FROM `t` WHERE x = 0x1F # note", "SELECT * FROM `t` WHERE x = 42"),
        ("mysql", "SELECT * FROM t WHERE id IN (...)", "SELECT * FROM t WHERE id IN (1, 2, 3)"),
        ("mysql", "SELECT * FROM t WHERE s = _utf8mb4'x'", "SELECT * FROM t WHERE s = 'y'"),
    ],
)
def test_same_template_whatever_the_literals(dialect: str, a: str, b: str) -> None:
    n = Normalizer(dialect)
    assert n(a)[0] == n(b)[0]
    assert "?" in n(a)[0]


@pytest.mark.parametrize(
    ("dialect", "a", "b"),
    [
        ("postgres", 'SELECT "col1" FROM t', 'SELECT "col2" FROM t'),  # digits inside quoted identifiers stay
        ("postgres", "SELECT a FROM t1", "SELECT a FROM t2"),  # ... and inside plain identifiers
        ("mysql", "SELECT `a1` FROM t", "SELECT `a2` FROM t"),
        ("postgres", "SELECT * FROM t WHERE a = 1", "SELECT * FROM t WHERE b = 1"),
        ("postgres", "SELECT * FROM t WHERE a IN (1)", "SELECT * FROM t WHERE a NOT IN (SELECT b FROM u)"),
    ],
)
def test_different_statements_stay_apart(dialect: str, a: str, b: str) -> None:
    n = Normalizer(dialect)
    assert n(a)[0] != n(b)[0]


def test_literals_never_survive_normalisation() -> None:
    secret = "hunter2-Sekret"
    n = Normalizer("postgres")
    for sql in [
        f"ALTER USER app PASSWORD '{secret}'",
        f"SELECT * FROM t WHERE note = '{secret}' -- {secret}",
        f"INSERT INTO t VALUES ($body${secret}$body$)",
        f"SELECT E'{secret}\\n'",
    ]:
        assert secret not in n(sql)[0], sql
    assert secret not in Normalizer("mysql")(f'SET PASSWORD = "{secret}"')[0]


def test_fast_path_agrees_with_the_full_tokenizer() -> None:
    """Statements without quotes/comments take a shortcut; it must give what the tokenizer gives."""
    rng = random.Random(3)
    pieces = ["SELECT a1, b_2 FROM t3 WHERE x = ", "UPDATE t SET v = v + ", "DELETE FROM s9 WHERE k IN (",
              "INSERT INTO t (a, b) VALUES ("]  # fmt: skip
    values = ["1", "2.5", "1e3", "'txt'", "'it''s'", "?", "0", "'2024-01-01'", "-7"]
    for dialect in ("postgres", "mysql", None):
        n = Normalizer(dialect)
        for _ in range(300):
            head = rng.choice(pieces)
            items = ", ".join(rng.choice(values) for _ in range(rng.randint(1, 4)))
            sql = head + items + (")" if head.endswith("(") else "")
            fast = n(sql)[0]
            full = n(sql + ' /* force the tokenizer: "x" */')[0]
            assert fast == full, (dialect, sql)


def test_in_lists_and_rows_are_collapsed_and_measured() -> None:
    n = Normalizer("postgres")
    text, longest = n("SELECT * FROM t WHERE id IN (" + ", ".join(map(str, range(50_000))) + ")")
    assert text == "SELECT * FROM t WHERE id IN (?)" and longest == 50_000
    text, longest = n("INSERT INTO t (a, b) VALUES " + ", ".join(f"({i}, 'x{i}')" for i in range(30)))
    assert text == "INSERT INTO t (a, b) VALUES (?, ?)" and longest == 30


def test_huge_statement_is_normalised_quickly() -> None:
    n = Normalizer("mysql")
    sql = "SELECT * FROM t WHERE id IN (" + ",".join(str(i) for i in range(200_000)) + ")"
    start = time.perf_counter()
    assert n(sql)[0] == "SELECT * FROM t WHERE id IN (?)"
    assert time.perf_counter() - start < 2.0


def test_autocommit_keeps_its_value() -> None:
    n = Normalizer("mysql")
    assert n("SET AUTOCOMMIT = 0")[0] != n("SET autocommit=1")[0]
    assert n("set @@session.autocommit = OFF")[0] == n("SET autocommit = 0")[0]
    assert control_of(n("SET AUTOCOMMIT = 0")[0]) == "autocommit_off"
    assert control_of(n("SET autocommit = ON")[0]) == "autocommit_on"


def test_helpers() -> None:
    assert split_statements("BEGIN; SELECT ?;;COMMIT;") == ["BEGIN", "SELECT ?", "COMMIT"]
    assert fingerprint("SELECT ?") != fingerprint("SELECT ? ")
    assert is_binary("SELECT \x00\x01") and is_binary("SELECT \ufffd") and not is_binary("SELECT 'é' -- ✓\n")
    assert len(sample_text("x" * 1000)) <= 201
    assert "\x00" not in sample_text("a\x00b")


# --- extraction ---------------------------------------------------------------------------------------------------


def names(refs: list[TableRef]) -> list[str]:
    return [str(r) for r in refs]


@pytest.mark.parametrize(
    ("sql", "dialect", "kind", "reads", "writes", "joins"),
    [
        ("WITH recent AS (SELECT * FROM orders) SELECT * FROM recent r JOIN customers c ON c.id = r.customer_id",
         "postgres", "select", ["customers", "orders"], [], [("customers", "orders")]),
        ("SELECT * FROM generate_series(1, 3) g JOIN items i ON i.n = g", "postgres", "select", ["items"], [], []),
        ("SELECT * FROM (SELECT id FROM a) sub JOIN b ON b.id = sub.id", None, "select", ["a", "b"], [], [("a", "b")]),
        ("SELECT (SELECT max(x) FROM b) FROM a WHERE EXISTS (SELECT 1 FROM c WHERE c.id = a.id)", None, "select",
         ["a", "b", "c"], [], []),
        ("SELECT x FROM a UNION ALL SELECT x FROM b", None, "select", ["a", "b"], [], []),
        ("SELECT * FROM a, b WHERE a.id = b.id", None, "select", ["a", "b"], [], [("a", "b")]),
        ("SELECT * FROM shop.orders o JOIN shop.lines l ON l.o = o.id", "mysql", "select",
         ["shop.lines", "shop.orders"], [], [("shop.lines", "shop.orders")]),
        ("UPDATE stock SET qty = qty - 1 FROM orders o WHERE o.p = stock.p", "postgres", "update", ["orders"],
         ["stock"], [("orders", "stock")]),
        ("UPDATE stock s JOIN orders o ON o.p = s.p SET s.qty = 0", "mysql", "update", ["orders"], ["stock"],
         [("orders", "stock")]),
        ("DELETE FROM a USING b WHERE a.id = b.id", "postgres", "delete", ["b"], ["a"], [("a", "b")]),
        ("DELETE a FROM a JOIN b ON a.id = b.id", "mysql", "delete", ["b"], ["a"], [("a", "b")]),
        ("DELETE FROM a WHERE id IN (SELECT a_id FROM b)", None, "delete", ["b"], ["a"], []),
        ("INSERT INTO a (x) SELECT y FROM b JOIN c ON c.id = b.c", None, "insert", ["b", "c"], ["a"], [("b", "c")]),
        ("WITH x AS (SELECT id FROM c) INSERT INTO a SELECT * FROM x", "postgres", "insert", ["c"], ["a"], []),
        ("INSERT INTO a VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = ?", "postgres", "insert", [], ["a"], []),
        ("REPLACE INTO a (x) VALUES (?)", "mysql", "insert", [], ["a"], []),
        ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET x = s.x", "postgres", "merge", ["s"], ["t"],
         [("s", "t")]),
        ("CREATE TABLE n AS SELECT * FROM a", None, "ddl", ["a"], ["n"], []),
        ("TRUNCATE a, b", "postgres", "ddl", [], ["a", "b"], []),
        ("DROP TABLE a, b", "postgres", "ddl", [], ["a", "b"], []),
        ("DROP INDEX ix_a", "postgres", "ddl", [], [], []),
        ("SELECT * FROM \"Order\" WHERE id = ?", "postgres", "select", ["Order"], [], []),
    ],
)  # fmt: skip
def test_analyze(
    sql: str, dialect: str | None, kind: str, reads: list[str], writes: list[str], joins: list[tuple[str, str]]
) -> None:
    info = analyze(sql, dialect)
    assert info.issue is None, info.detail
    assert info.kind == kind
    assert names(info.reads) == reads
    assert names(info.writes) == writes
    assert [(str(a), str(b)) for a, b in info.joins] == joins


def test_quoting_is_recorded() -> None:
    info = analyze('SELECT * FROM "Sales"."Order" o JOIN lines l ON l.o = o.id', "postgres")
    quoted = {r.name: (r.quoted, r.schema, r.schema_quoted) for r in info.reads}
    assert quoted == {"Order": (True, "Sales", True), "lines": (False, None, False)}


@pytest.mark.parametrize(
    ("sql", "control"),
    [("BEGIN", "begin"), ("START TRANSACTION", "begin"), ("COMMIT", "commit"), ("END", "commit"),
     ("ROLLBACK", "rollback"), ("ROLLBACK TO SAVEPOINT s1", None), ("SELECT ?", None), ("COMMIT PREPARED ?", None)],
)  # fmt: skip
def test_transaction_control(sql: str, control: str | None) -> None:
    assert analyze(sql, "postgres").control == control


def test_bad_sql_is_reported_not_raised() -> None:
    assert analyze("SELECT FROM WHERE", "postgres").issue == "unparseable"
    assert analyze("SELEC * FRO t", "postgres").issue in ("unparseable", "unsupported")
    vacuum = analyze("VACUUM ANALYZE t", "postgres")
    assert vacuum.issue == "unsupported" and not vacuum.reads
    assert analyze("SELECT 1; SELECT 2", None).issue == "unparseable"
    assert analyze("x" * 300_000, None).issue == "unparseable"


def test_truncated_statement_keeps_the_tables_before_the_cut() -> None:
    full = "SELECT * FROM a JOIN b ON b.id = a.b_id JOIN c ON c.id = a.c_id WHERE a.x = ? AND a.y IN (?)"
    cut = full[: full.index("a.c_id")] + "..."
    assert analyze(cut.removesuffix("..."), None).issue == "unparseable"
    info = analyze_truncated(cut)
    assert info.issue is None
    assert set(names(info.reads)) <= {"a", "b", "c"} and {"a", "b"} <= set(names(info.reads))


# --- resolution ---------------------------------------------------------------------------------------------------


@pytest.fixture
def schema() -> Schema:
    return Schema(
        dialect="postgresql", database="x", default_schema="public",
        tables=[Table("orders"), Table("ORDERS"), Table("Order"), Table("tblSupplier"), Table("ledger", schema="acct"),
                Table("v_stock", kind="view")],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("ref", "key"),
    [
        (TableRef("orders"), "orders"),
        (TableRef("ORDERS"), "orders"),
        (TableRef("orders", schema="public"), "orders"),
        (TableRef("orders", schema="PUBLIC"), "orders"),
        (TableRef("Order", quoted=True), "Order"),
        (TableRef("order", quoted=True), None),  # quoted: exact only, and "order" is not "Order"
        (TableRef("order"), "Order"),  # unquoted: case may differ when exactly one table matches
        (TableRef("Orders"), "orders"),  # PostgreSQL folds unquoted names to lower case
        (TableRef("ORDERS", quoted=True), "ORDERS"),
        (TableRef("tblsupplier"), "tblSupplier"),
        (TableRef("ledger", schema="acct"), "acct.ledger"),
        (TableRef("ledger"), None),  # not on the default schema: reported, not guessed
        (TableRef("orders", schema="other"), None),
        (TableRef("v_stock"), "v_stock"),
        (TableRef("order_lines"), None),
    ],
)
def test_resolve(schema: Schema, ref: TableRef, key: str | None) -> None:
    assert Resolver(schema, "postgres").resolve(ref) == key


def test_ambiguous_case_is_not_guessed(schema: Schema) -> None:
    assert Resolver(schema, "mysql").resolve(TableRef("Orders")) is None  # orders or ORDERS?
    assert Resolver(schema, "mysql").resolve(TableRef("ORDERS")) == "ORDERS"


def test_mysql_backticks_do_not_make_names_case_sensitive() -> None:
    schema = Schema(dialect="mysql", database="x", default_schema="shop", tables=[Table("tblSupplier")])
    resolver = Resolver(schema, "mysql")
    assert resolver.resolve(TableRef("TBLSUPPLIER", quoted=True)) == "tblSupplier"
    assert resolver.resolve(TableRef("tblSupplier", schema="shop", quoted=True, schema_quoted=True)) == "tblSupplier"


def test_without_schema_names_are_kept() -> None:
    assert Resolver(None).resolve(TableRef("Orders", schema="s")) == "s.Orders"
