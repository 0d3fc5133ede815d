"""Verification finds exactly the rows that differ, and nothing when nothing does.

A small legacy database (SQLite) with the cases that trip checksums: a composite key, text keys
whose case order differs between collations, a keyless table with duplicate rows, decimals stored
as REAL, dates stored as text. Each test migrates it, damages the target in known ways, and
checks the report names those rows -- and only those.
"""

from __future__ import annotations

import copy
import json
import random
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from workbench.cli import main
from workbench.decompose.model import Decomposition, Service
from workbench.design import design as make_design
from workbench.design import write_design
from workbench.design.model import Design
from workbench.errors import TargetError
from workbench.introspect import introspect
from workbench.migrate import migrate
from workbench.migrate.target import Target, with_prefix
from workbench.migrate.verify import LEAF_ROWS, verify


def _legacy(path: Path) -> Path:
    rng = random.Random(5)
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, balance NUMERIC(12, 2),
                                joined DATE);
        CREATE TABLE codes (code VARCHAR(10) PRIMARY KEY, label TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
                             placed_at DATETIME NOT NULL, total NUMERIC(12, 2));
        CREATE TABLE order_lines (order_id INTEGER NOT NULL REFERENCES orders(id), line_no INTEGER NOT NULL,
                                  qty INTEGER NOT NULL, PRIMARY KEY (order_id, line_no));
        CREATE TABLE log (msg VARCHAR(40), at DATETIME);
    """)
    db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)",
                   [(i, f"customer {i}", round(rng.uniform(-50, 500), 2), f"2015-0{1 + i % 9}-1{i % 10}")
                    for i in range(1, 301)])
    codes = sorted({rng.choice("aAbBzZ") + str(rng.randint(0, 999)) for _ in range(400)})
    db.executemany("INSERT INTO codes VALUES (?, ?)", [(c, f"label of {c}") for c in codes])
    db.executemany(
        "INSERT INTO orders VALUES (?, ?, ?, ?)",
        [(i, 1 + i % 300, f"2020-01-0{1 + i % 9} 1{i % 10}:00:00", round(i * 1.1, 2)) for i in range(1, 801)],
    )
    db.executemany("INSERT INTO order_lines VALUES (?, ?, ?)",
                   [(o, n, rng.randint(1, 9)) for o in range(1, 801) for n in range(1, 1 + o % 3)])
    db.executemany("INSERT INTO log VALUES (?, ?)", [("login", "2020-01-01 00:00:00")] * 3 +
                   [(f"event {i % 50}", f"2020-02-01 00:00:{i % 60:02d}") for i in range(200)])
    db.commit()
    db.close()
    return path


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Design, Path]:
    folder = tmp_path_factory.mktemp("verify")
    path = _legacy(folder / "legacy.sqlite")
    url = f"sqlite:///{path}"
    schema = introspect(url, progress=False)
    d = make_design(schema, Decomposition(services={"crm": Service(["codes", "customers"]),
                                                    "sales": Service(["log", "order_lines", "orders"])}), findings=[])
    write_design(d, folder / "design", ["sqlite"])
    return url, d, folder / "design"


def _execute(target: Target, d: Design, service: str, *statements: str) -> None:
    engine = target.engine(d, service)
    schema = target.schema(d, service)
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement.replace("{ns}", f'"{schema}".' if schema and target.dialect == "postgresql"
                                                   else (f"`{schema}`." if schema else "")))
    target.dispose()


def test_an_untouched_migration_verifies_equal_in_one_range_per_table(legacy: tuple[str, Design, Path],
                                                                     tmp_path: Path) -> None:
    url, d, _ = legacy
    migrate(url, tmp_path, d, alembic=False, progress=False)
    report = verify(url, tmp_path, d, progress=False)
    assert report.ok, report.problems()
    assert {(t.table, t.source_rows) for t in report.tables} >= {("customers", 300), ("log", 203), ("orders", 800)}
    assert all(t.ranges == 1 and not t.differences for t in report.tables)
    assert {(r.table, r.referred_table) for r in report.references} == {("orders", "customers")}
    assert all(f.violations == 0 for f in report.foreign_keys) and report.foreign_keys


def test_damaged_rows_are_listed_by_key_and_nothing_else(legacy: tuple[str, Design, Path], tmp_path: Path) -> None:
    url, d, _ = legacy
    target = Target.parse(str(tmp_path))
    migrate(url, tmp_path, d, alembic=False, progress=False)
    _execute(target, d, "sales",
             "DELETE FROM orders WHERE id IN (17, 640)",
             "UPDATE orders SET total = total + 0.01 WHERE id = 333",
             "INSERT INTO orders VALUES (5000, 1, '2020-01-01 00:00:00', 1)",
             "UPDATE order_lines SET qty = qty + 1 WHERE order_id = 91 AND line_no = 1",
             "DELETE FROM log WHERE rowid = (SELECT min(rowid) FROM log WHERE msg = 'login')")
    _execute(target, d, "crm", "DELETE FROM customers WHERE id = 3",
             "UPDATE customers SET joined = '2015-01-02' WHERE id = 250")
    report = verify(url, tmp_path, d, progress=False)
    assert not report.ok
    by_table = {t.table: t for t in report.tables}
    orders = by_table["orders"]
    assert [(x.kind, x.key, x.columns) for x in orders.differences] == [
        ("missing", {"id": "17"}, []), ("changed", {"id": "333"}, ["total"]), ("missing", {"id": "640"}, []),
        ("extra", {"id": "5000"}, [])]
    assert orders.ranges > 2 and orders.source_rows == 800 and orders.target_rows == 799
    assert [(x.kind, x.key, x.columns) for x in by_table["order_lines"].differences] == [
        ("changed", {"order_id": "91", "line_no": "1"}, ["qty"])]
    assert [(x.kind, x.key.get("msg")) for x in by_table["log"].differences] == [("missing", "login")]
    assert [(x.kind, x.key, x.columns) for x in by_table["customers"].differences] == [
        ("missing", {"id": "3"}, []), ("changed", {"id": "250"}, ["joined"])]
    assert by_table["codes"].status == "equal"
    lines = {f.table: f for f in report.foreign_keys}["order_lines"]
    assert lines.violations == 17 % 3 + 640 % 3  # the lines of the two deleted orders
    assert sorted(v["order_id"] for v in lines.sample) == sorted([17] * (17 % 3) + [640] * (640 % 3))
    ref = report.references[0]
    assert ref.new and ref.legacy_dangling == 0 and ref.dangling == 3  # the orders of customer 3
    assert [s["id"] for s in ref.sample] == [i for i in range(1, 801) if 1 + i % 300 == 3]


def test_text_keys_bisect_alike_across_collations(legacy: tuple[str, Design, Path], pg_url: str) -> None:
    url, d, _ = legacy
    migrate(url, pg_url, d, services=["crm"], alembic=False, progress=False)
    target = Target.parse(pg_url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        codes = conn.execute(sa.text("SELECT code FROM codes ORDER BY code")).scalars().all()
    engine.dispose()
    assert len(codes) > 4 * LEAF_ROWS
    gone, changed = codes[len(codes) // 3], codes[2 * len(codes) // 3]
    _execute(target, d, "crm", f"DELETE FROM {{ns}}codes WHERE code = '{gone}'",
             f"UPDATE {{ns}}codes SET label = 'x' WHERE code = '{changed}'")
    report = verify(url, pg_url, d, services=["crm"], progress=False)
    codes_check = next(t for t in report.tables if t.table == "codes")
    assert codes_check.method == "database/database"
    assert sorted((x.kind, x.key["code"]) for x in codes_check.differences) == sorted(
        [("missing", gone), ("changed", changed)])
    assert codes_check.ranges > 2


def test_verify_cli_writes_json_and_exits_1_on_a_difference(legacy: tuple[str, Design, Path], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    url, d, folder = legacy
    target = tmp_path / "target"
    assert main(["migrate", "--source", url, "--target", str(target), "--design", str(folder), "--no-alembic",
                 "--service", "crm", "--out", str(tmp_path / "migration.json")]) == 0
    assert json.loads((tmp_path / "migration.json").read_text())["services"][0]["status"] == "complete"
    out = tmp_path / "verify.json"
    assert main(["verify", "--source", url, "--target", str(target), "--design", str(folder), "--service", "crm",
                 "--out", str(out)]) == 0
    assert json.loads(out.read_text())["ok"] is True
    _execute(Target.parse(str(target)), d, "crm", "DELETE FROM customers WHERE id = 7")
    assert main(["verify", "--source", url, "--target", str(target), "--design", str(folder), "--service", "crm",
                 "--out", str(out)]) == 1
    data = json.loads(out.read_text())
    assert data["ok"] is False
    assert [x["key"] for t in data["tables"] for x in t["differences"]] == [{"id": "7"}]
    assert "customers" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_services_never_migrated_or_tables_gone_are_named_not_crashed(
        legacy: tuple[str, Design, Path], backend: str, tmp_path: Path, request: pytest.FixtureRequest,
        capsys: pytest.CaptureFixture[str]) -> None:
    url, d, folder = legacy
    target = str(tmp_path / "target") if backend == "sqlite" else \
        request.getfixturevalue("pg_url" if backend == "postgresql" else "mysql_url")
    d = with_prefix(d, f"{sa.make_url(target).database}_") if backend == "mariadb" else d
    capsys.readouterr()
    # nothing migrated yet: one line per service, exit 1, no traceback
    assert main(["verify", "--source", url, "--target", target, "--design", str(folder), "--out",
                 str(tmp_path / "v.json")] + (["--prefix", f"{sa.make_url(target).database}_"]
                                              if backend == "mariadb" else [])) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "crm: not on the target" in err and "sales: not on the target" in err
    if backend == "postgresql":  # an unreachable target is named, not the legacy database
        gone = sa.make_url(target).set(port=1, password="pw").render_as_string(hide_password=False)
        assert main(["verify", "--source", url, "--target", gone, "--design", str(folder)]) == 2
        err = capsys.readouterr().err
        assert "cannot use postgresql+psycopg://postgres:***@127.0.0.1:1/" in err and "legacy" not in err
    # one table gone after a migration: that table, by name
    migrate(url, target, d, services=["sales"], alembic=False, progress=False)
    _execute(Target.parse(target), d, "sales", "DROP TABLE {ns}order_lines")
    report = verify(url, target, d, services=["sales"], progress=False)
    assert not report.ok
    assert report.problems() == ["sales.order_lines: the table is missing on the target"]


def test_a_prefix_moves_every_namespace(legacy: tuple[str, Design, Path], tmp_path: Path) -> None:
    url, d, _ = legacy
    rehearsal = with_prefix(d, "rehearsal_")
    result = migrate(url, tmp_path, rehearsal, alembic=False, progress=False)
    assert sorted(p.name for p in tmp_path.glob("*.sqlite")) == ["rehearsal_crm.sqlite", "rehearsal_sales.sqlite"]
    assert result.ok and d.service("crm").namespace == "crm"


def test_a_rerun_refuses_a_namespace_filled_from_another_design(legacy: tuple[str, Design, Path],
                                                                tmp_path: Path) -> None:
    url, d, _ = legacy
    migrate(url, tmp_path, d, services=["crm"], alembic=False, progress=False)
    changed = copy.deepcopy(d)
    changed.service("crm").table("codes").table.columns.pop()  # the design lost a column since
    with pytest.raises(TargetError, match=r"crm\.sqlite was migrated from another design \(table codes"):
        migrate(url, tmp_path, changed, services=["crm"], alembic=False, progress=False)


def test_no_password_reaches_output_files_or_messages(legacy: tuple[str, Design, Path], pg_url: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    url, d, folder = legacy
    secret = "s3cret-pw-7"  # the test server trusts local logins: any password connects
    target = sa.make_url(pg_url).set(password=secret).render_as_string(hide_password=False)
    design_dir = tmp_path / "design"
    design_dir.mkdir()
    (design_dir / "design.json").write_text((folder / "design.json").read_text())
    assert main(["migrate", "--source", url, "--target", target, "--design", str(design_dir), "--service", "crm",
                 "--out", str(tmp_path / "migration.json")]) == 0
    assert main(["verify", "--source", url, "--target", target, "--design", str(design_dir), "--service", "crm",
                 "--out", str(tmp_path / "verify.json")]) == 0
    assert main(["drift", "--target", target, "--design", str(design_dir), "--service", "crm"]) == 0
    captured = capsys.readouterr()
    written = "".join(
        p.read_text() for p in tmp_path.rglob("*") if p.is_file() and p.suffix in (".json", ".ini", ".py")
    )
    assert secret not in captured.out + captured.err + written
    assert "***" in (tmp_path / "migration.json").read_text()
