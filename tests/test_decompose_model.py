"""decomposition.yaml: round trip, hand edits, and the ``workbench decompose`` / ``score`` commands."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from workbench import serde
from workbench.cli import main
from workbench.decompose import Decomposition, Service, decompose, load_decomposition, save_decomposition
from workbench.decompose.synthetic import planted
from workbench.errors import ArtifactError, NotFoundError


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    p = planted(n_tables=80, n_domains=4, seed=11)
    root = tmp_path_factory.mktemp("decompose")
    paths = {"schema": root / "schema.json", "workload": root / "workload.json", "truth": root / "domains.csv"}
    serde.save(p.schema, paths["schema"])
    serde.save(p.workload, paths["workload"])
    pd.DataFrame(sorted(p.truth.items()), columns=["table", "domain"]).to_csv(paths["truth"], index=False)
    return paths


def test_yaml_round_trip(artifacts: dict[str, Path], tmp_path: Path) -> None:
    schema = serde.load(__import__("workbench.schema", fromlist=["Schema"]).Schema, artifacts["schema"])
    d = decompose(schema, stability=2)
    path = save_decomposition(d, tmp_path / "d.yaml")
    back = load_decomposition(path)
    assert back.assignment() == d.assignment()
    assert back.tables.keys() == d.tables.keys()
    assert path.read_text().startswith("services:")


def test_hand_written_minimal_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("services:\n  ordering:\n    tables: [orders, order_lines]\n  crm: [customers]\n")
    d = load_decomposition(path)
    assert d.assignment() == {"orders": "ordering", "order_lines": "ordering", "customers": "crm"}


@pytest.mark.parametrize("text, message", [
    ("services:\n  a: {tables: [t1]}\n  b: {tables: [t1]}\n", "two services"),
    ("tables: {}\n", "top-level 'services:'"),
    ("services:\n  a: {owner: me}\n", "needs a 'tables:' list"),
    ("services: [unclosed\n", "not valid YAML"),
])
def test_bad_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ArtifactError, match=message):
        load_decomposition(path)


def test_move_and_rename() -> None:
    d = Decomposition(services={"a": Service(["t1", "t2"]), "b": Service(["t3"])})
    moved = d.move("t1", "b")
    assert moved.assignment() == {"t2": "a", "t1": "b", "t3": "b"} and d.service_of("t1") == "a"
    assert set(d.move("t3", "a").services) == {"a"}  # an emptied service disappears
    renamed = d.rename("a", "ordering")
    assert renamed.service_of("t1") == "ordering"
    with pytest.raises(NotFoundError):
        d.move("ghost", "a")
    with pytest.raises(ArtifactError, match="exists"):
        d.rename("a", "b")


def test_cli_decompose_and_score(artifacts: dict[str, Path], tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "decomposition.yaml"
    assert main(["decompose", "--schema", str(artifacts["schema"]), "--workload", str(artifacts["workload"]),
                 "--stability", "2", "--pin", "audit_trail=ops", "--out", str(out)]) == 0
    assert "services" in capsys.readouterr().out
    d = load_decomposition(out)
    assert "audit_trail" in d.services["ops"].tables
    assert main(["score", str(out), "--schema", str(artifacts["schema"]), "--workload", str(artifacts["workload"]),
                 "--truth", str(artifacts["truth"])]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["truth"]["ari"] > 0.5 and "distributed_write_share" in result["workload"]

    # a hand edit: everything in one service scores worse against the answer key
    lump = tmp_path / "lump.yaml"
    lump.write_text("services:\n  all:\n    tables: [" + ", ".join(sorted(d.assignment())) + "]\n")
    assert main(["score", str(lump), "--schema", str(artifacts["schema"]), "--truth", str(artifacts["truth"])]) == 0
    lumped = json.loads(capsys.readouterr().out)
    assert lumped["services"] == 1 and lumped["truth"]["ari"] < result["truth"]["ari"]


def test_cli_decompose_from_a_sqlite_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "legacy.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript("""
            CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
            CREATE TABLE customer_notes (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id));
            CREATE TABLE products (id INTEGER PRIMARY KEY, title TEXT);
            CREATE TABLE product_images (id INTEGER PRIMARY KEY, product_id INTEGER REFERENCES products(id));
        """)
    before = db.read_bytes()
    out = tmp_path / "d.yaml"
    assert main(["decompose", f"sqlite:///{db}", "--stability", "0", "--out", str(out)]) == 0
    d = load_decomposition(out)
    assert d.service_of("customer_notes") == d.service_of("customers") != d.service_of("products")
    assert db.read_bytes() == before  # read-only


def test_cli_errors_are_one_line(artifacts: dict[str, Path], tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decompose", "--schema", str(tmp_path / "missing.json"), "--out", str(tmp_path / "x.yaml")]) == 2
    assert "missing.json" in capsys.readouterr().err
    assert main(["decompose", "--schema", str(artifacts["schema"]), "--pin", "nope", "--out", "x.yaml"]) == 2
    assert "name=value" in capsys.readouterr().err
    assert main(["decompose", "postgresql://app:s3cr3t@127.0.0.1:1/legacy", "--out", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert "s3cr3t" not in err and err.count("\n") == 1
    assert main(["score", str(tmp_path / "none.yaml"), "--schema", str(artifacts["schema"])]) == 2
    assert "none.yaml" in capsys.readouterr().err
