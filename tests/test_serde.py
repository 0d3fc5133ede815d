"""One way to write every artifact: format by extension, a checked version, atomic replacement."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
import yaml

from workbench import serde
from workbench.decompose.model import Decomposition, load_decomposition, save_decomposition
from workbench.design.model import Design
from workbench.errors import ArtifactError, NotFoundError
from workbench.migrate.run import MigrationResult
from workbench.migrate.verify import VerifyReport
from workbench.operate.drift import DriftReport
from workbench.plan.model import Plan
from workbench.reporting.manifest import Manifest
from workbench.schema import Column, Schema, Table
from workbench.workload.model import Workload
from workbench.workload.simlog import write_logs
from workbench.workload.simulate import SimStatement, simulate

SCHEMA = Schema(dialect="sqlite", database="sqlite:///shop.db", tables=[
    Table("customers", columns=[Column("id", "INTEGER"), Column("name", "TEXT")], primary_key=["id"]),
])
ARTIFACTS = [Schema, Workload, Decomposition, Design, Plan, MigrationResult, VerifyReport, DriftReport, Manifest]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_every_artifact_class_has_its_own_format_name() -> None:
    formats = [serde.format_of(cls) for cls in ARTIFACTS]
    assert all(f is not None and f.version >= f.oldest >= 1 for f in formats)
    assert len({f.name for f in formats if f is not None}) == len(ARTIFACTS)


def test_the_extension_decides_the_format_and_the_version_is_written_last(tmp_path: Path) -> None:
    as_json = serde.save(SCHEMA, tmp_path / "schema.json")
    as_yaml = serde.save(SCHEMA, tmp_path / "schema.yaml")
    other = serde.save(SCHEMA, tmp_path / "schema.out")  # anything not YAML or CSV is JSON
    data = json.loads(as_json.read_text(encoding="utf-8"))
    assert list(data)[0] == "dialect" and list(data)[-1] == "format" and data["format"] == "schema/1"
    assert yaml.safe_load(as_yaml.read_text(encoding="utf-8")) == data
    assert other.read_text(encoding="utf-8") == as_json.read_text(encoding="utf-8") == serde.dumps(SCHEMA)
    assert serde.load(Schema, as_json) == serde.load(Schema, as_yaml) == serde.load(Schema, other) == SCHEMA


def test_csv_has_one_line_ending_and_no_index(tmp_path: Path) -> None:
    frame = pd.DataFrame({"table": ["a", "b"], "note": ["x\ny", "z"]})
    raw = serde.save(frame, tmp_path / "t.csv").read_bytes()
    assert raw.startswith(b"table,note\n") and b"\r" not in raw
    assert pd.read_csv(tmp_path / "t.csv").equals(frame)
    with pytest.raises(TypeError, match="only a table"):
        serde.save(SCHEMA, tmp_path / "schema.csv")


def test_lists_and_plain_data_carry_no_version(tmp_path: Path) -> None:
    assert json.loads(serde.save([SCHEMA.tables[0]], tmp_path / "list.json").read_text())[0]["name"] == "customers"
    assert json.loads(serde.save({"a": 1}, tmp_path / "plain.json").read_text()) == {"a": 1}


def _written(tmp_path: Path, change: dict[str, object]) -> Path:
    data = json.loads(serde.dumps(SCHEMA))
    data.update(change)
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(("found", "message"), [
    ("schema/2", r"schema\.json: format schema/2 is newer than this workbench reads \(schema/1\): update the "),
    ("design/1", r"schema\.json: a design file \(format design/1\), not a schema file"),
    ("1.0", r"schema\.json: unknown format '1\.0': not a workbench schema file \(this workbench reads schema/1\)"),
    (7, r"schema\.json: unknown format 7"),
])
def test_a_newer_or_foreign_file_is_a_one_line_error_naming_its_version(tmp_path: Path, found: object,
                                                                        message: str) -> None:
    with pytest.raises(ArtifactError, match=message) as caught:
        serde.load(Schema, _written(tmp_path, {"format": found}))
    assert "\n" not in str(caught.value)


def test_a_file_without_a_version_is_read_as_version_1(tmp_path: Path) -> None:
    data = json.loads(serde.dumps(SCHEMA))
    del data["format"]
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert serde.load(Schema, path) == SCHEMA
    assert serde.from_dict(Schema, data) == SCHEMA


@dataclass
class _Thing:
    FORMAT: ClassVar[serde.Format] = serde.Format("thing", version=3, oldest=2)
    name: str = "x"


def test_a_file_older_than_the_oldest_readable_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "thing.json"
    path.write_text('{"name": "y", "format": "thing/1"}', encoding="utf-8")
    with pytest.raises(ArtifactError, match=r"format thing/1 is older than this workbench reads \(thing/2 to "
                                            r"thing/3\): run the stage that writes it again"):
        serde.load(_Thing, path)
    path.write_text('{"name": "y"}', encoding="utf-8")
    with pytest.raises(ArtifactError, match=r"format none, read as thing/1 is older than this workbench reads"):
        serde.load(_Thing, path)
    path.write_text('{"name": "y", "format": "thing/2"}', encoding="utf-8")
    assert serde.load(_Thing, path) == _Thing("y")


def test_a_hand_written_decomposition_with_only_services_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "decomposition.yaml"
    path.write_text("services:\n  sales:\n    tables: [orders]\n  crm: [customers]\n", encoding="utf-8")
    d = load_decomposition(path)
    assert d.assignment() == {"orders": "sales", "customers": "crm"}
    saved = save_decomposition(d, tmp_path / "again.yaml").read_text(encoding="utf-8")
    assert saved.startswith("services:\n") and saved.endswith("format: decomposition/1\n")
    assert "pull" not in saved and "replicated" not in saved  # empty details left out
    assert load_decomposition(tmp_path / "again.yaml") == d


def test_a_foreign_file_given_as_the_decomposition_is_named(tmp_path: Path) -> None:
    design = serde.save(Design("sqlite:///x", "sqlite"), tmp_path / "design.yaml")
    with pytest.raises(ArtifactError, match="a design file \\(format design/1\\), not a decomposition file"):
        load_decomposition(design)


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="file not found"):
        serde.load(Schema, tmp_path / "missing.json")
    (tmp_path / "bad.yaml").write_text("services: [unclosed\n  - x: {", encoding="utf-8")
    with pytest.raises(ArtifactError, match=r"bad\.yaml: not valid YAML: ") as caught:
        serde.load(Schema, tmp_path / "bad.yaml")
    assert "\n" not in str(caught.value)
    (tmp_path / "bad.json").write_text('{"database": "sqlite:///x"}', encoding="utf-8")
    with pytest.raises(ArtifactError, match=r"bad\.json: not a valid Schema: required field missing @ \$\.dialect"):
        serde.load(Schema, tmp_path / "bad.json")


@dataclass
class _Unwritable:
    """Fails to serialise half-way: the JSON/YAML encoders meet ``later`` after ``first``."""

    first: list[str] = field(default_factory=lambda: ["x" * 1000] * 100)
    later: object = field(default_factory=object)


@pytest.mark.parametrize("name", ["schema.json", "schema.yaml"])
def test_a_failed_write_leaves_the_previous_artifact_byte_identical(tmp_path: Path, name: str) -> None:
    path = serde.save(SCHEMA, tmp_path / name)
    before = path.read_bytes()
    with pytest.raises((TypeError, yaml.YAMLError)):
        serde.save(_Unwritable(), path)
    assert path.read_bytes() == before
    with pytest.raises(RuntimeError, match="disk full"), serde.atomic_writer(path) as handle:
        handle.write("half of a new artifact")
        handle.flush()
        raise RuntimeError("disk full")
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_an_atomic_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    atomic = serde.write_text(tmp_path / "sub" / "atomic.txt", "x")
    assert os.stat(atomic).st_mode == os.stat(plain).st_mode


def test_a_failed_simulation_leaves_the_previous_logs_byte_identical(tmp_path: Path) -> None:
    first = write_logs(tmp_path, statements=400, seed=3)
    before = {name: path.read_bytes() for name, path in first.items()}

    def dies_half_way() -> Iterator[SimStatement]:
        for i, statement in enumerate(simulate(400, seed=4)):
            if i == 250:
                raise RuntimeError("the simulated source went away")
            yield statement

    with pytest.raises(RuntimeError, match="went away"):
        write_logs(tmp_path, statements=400, seed=4, stream=dies_half_way())
    assert {name: path.read_bytes() for name, path in first.items()} == before
    assert _leftovers(tmp_path) == []
    again = write_logs(tmp_path, statements=400, seed=4)  # a run that gets through does replace them
    assert again["jsonl"].read_bytes() != before["jsonl"]
