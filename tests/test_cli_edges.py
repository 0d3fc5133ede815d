"""Small edges a new user meets first: ``postgres://`` URLs, ``--prefix`` everywhere, output piped into
``head``, and artifact paths that stay right wherever the artifact is read from."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from workbench import cli
from workbench.decompose.model import Decomposition, Service
from workbench.design import design, write_design
from workbench.introspect import introspect
from workbench.migrate import stage as migrate_stage


def _shop(path: Path) -> str:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL)")
        con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), "
                    "status VARCHAR(10))")
        con.execute("CREATE INDEX ix_orders_status ON orders (status)")
        con.executemany("INSERT INTO customers VALUES (?, ?)", [(i, f"c{i}") for i in range(1, 11)])
        con.executemany("INSERT INTO orders VALUES (?, ?, ?)", [(i, 1 + i % 10, "new") for i in range(1, 31)])
    return f"sqlite:///{path}"


@pytest.fixture
def shop_design(tmp_path: Path) -> tuple[str, Path]:
    url = _shop(tmp_path / "shop.sqlite")
    schema = introspect(url, progress=False)
    d = design(schema, Decomposition(services={"crm": Service(["customers"]), "sales": Service(["orders"])}),
               findings=[])
    write_design(d, tmp_path / "design", ["postgresql", "sqlite"])
    return url, tmp_path / "design"


def test_postgres_scheme_is_accepted_as_sqlalchemy_users_type_it(pg_url: str, capsys: pytest.CaptureFixture[str]
                                                                 ) -> None:
    with sa.create_engine(pg_url).begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id integer PRIMARY KEY)"))
    typed = "postgres://" + pg_url.split("://", 1)[1]  # as libpq, Heroku and many tutorials write it
    assert cli.main(["introspect", typed]) == 0
    assert [t["name"] for t in json.loads(capsys.readouterr().out)["tables"]] == ["t"]


def test_advise_takes_the_migration_prefix(shop_design: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, folder = shop_design
    assert cli.main(["advise", "--design", str(folder), "--prefix", "rehearsal_", "--json"]) == 0
    advice = json.loads(capsys.readouterr().out)
    assert advice and all("rehearsal_" in a["sql"] for a in advice)
    for command in (["drift", "--target", str(folder / "none")], ["monitor"]):
        assert cli.main([*command, "--design", str(folder), "--prefix", "rehearsal_"]) in (0, 1)
    capsys.readouterr()


def test_output_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    path = tmp_path / "wide.sqlite"
    with sqlite3.connect(path) as con:  # a line per finding, 140 kB in all: more than a pipe holds
        for i in range(200):
            con.execute(f"CREATE TABLE t{i} ({', '.join(f'column_{j} VARCHAR(40)' for j in range(12))})")
    result = subprocess.run(f"'{sys.executable}' -m workbench.cli lint 'sqlite:///{path}' | head -c 200",
                            shell=True, capture_output=True, text=True, timeout=300)
    assert len(result.stdout) == 200
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr


def test_artifact_paths_do_not_depend_on_the_notebooks_folder(shop_design: tuple[str, Path], tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    url, folder = shop_design
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")  # the notebooks' working folder; out_dir given relative to it
    result = migrate_stage.run(url, "../report", design_dir=folder, progress=False)
    assert result.migration.ok
    migration = json.loads((tmp_path / "report" / "migration.json").read_text())
    verification = json.loads((tmp_path / "report" / "verify.json").read_text())
    assert migration["target"] == verification["target"] == "migration/target"  # before: ../report/migration/target
    assert {s["where"] for s in migration["services"]} == {"migration/target/crm.sqlite",
                                                            "migration/target/sales.sqlite"}
    monkeypatch.chdir(tmp_path / "report")  # read from the artifact's folder, the path is right
    assert all(Path(s["where"]).exists() for s in migration["services"])
