"""End to end on the sample (2% volume): introspect -> workload -> decompose -> design -> DDL, fills, CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from workbench import serde
from workbench.cli import main
from workbench.db import source_engine
from workbench.decompose import decompose, save_decomposition
from workbench.decompose.model import Decomposition
from workbench.design import MECHANISMS, apply, design, load_design, write_design
from workbench.design.model import Design
from workbench.design.schemas import DIALECTS
from workbench.introspect import introspect
from workbench.schema import Schema
from workbench.workload import ingest
from workbench.workload.model import Workload
from workbench.workload.simlog import write_logs


@dataclass
class Sample:
    url: str
    schema: Schema
    workload: Workload
    decomposition: Decomposition
    design: Design
    folder: Path


@pytest.fixture(scope="module")
def sample(small_sample_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    tmp = tmp_path_factory.mktemp("design_sample")
    url = f"sqlite:///{small_sample_path}"
    schema = introspect(url)
    logs = write_logs(tmp / "logs", statements=20_000, formats=["jsonl"])  # enough for the rare reports
    workload = ingest([str(logs["jsonl"])], "jsonl", schema=schema)
    decomposition = decompose(schema, workload, stability=0)
    result = design(schema, decomposition, workload)
    write_design(result, tmp / "design", DIALECTS)
    serde.save(schema, tmp / "schema.json")
    serde.save(workload, tmp / "workload.json")
    save_decomposition(decomposition, tmp / "decomposition.yaml")
    yield Sample(url, schema, workload, decomposition, result, tmp)


def test_every_table_has_one_home(sample: Sample) -> None:
    owned = [k for s in sample.design.services.values() for k in s.owned]
    assert len(owned) == len(set(owned))
    assert sorted(owned + sample.design.unplaced) == sorted(t.key for t in sample.schema.base_tables)


def test_no_declared_fk_crosses_a_service_in_the_ddl_and_each_is_catalogued(sample: Sample) -> None:
    where = sample.decomposition.assignment()
    crossing = {f"fk:{t.key}({','.join(fk.columns)})->{fk.referred_key}" for t in sample.schema.base_tables
                for fk in t.foreign_keys if where.get(t.key) != where.get(fk.referred_key)}
    assert crossing, "the sample's decomposition should cut some foreign keys"
    catalogued = {d.id for d in sample.design.dependencies if d.kind == "foreign_key"}
    assert crossing <= catalogued
    for svc in sample.design.services.values():
        names = {t.table.name for t in svc.tables}
        for t in svc.tables:
            assert all(fk.referred_table in names for fk in t.table.foreign_keys), (svc.name, t.table.name)
        refs = {(r.table, tuple(r.columns)) for r in svc.references}
        for d in sample.design.dependencies:
            if d.kind == "foreign_key" and d.consumer == svc.name:
                table = d.tables[svc.name][0]
                assert (table, tuple(d.facts["columns"])) in refs


def test_every_dependency_has_a_known_mechanism_and_a_reason(sample: Sample) -> None:
    kinds = {d.kind for d in sample.design.dependencies}
    assert {"foreign_key", "read_join", "write_transaction"} <= kinds
    for d in sample.design.dependencies:
        assert d.mechanism in MECHANISMS and d.reason, d.id
        assert d.consumer not in d.providers


def test_artifact_round_trips_and_is_deterministic(sample: Sample) -> None:
    assert load_design(sample.folder / "design") == sample.design
    again = design(sample.schema, sample.decomposition, sample.workload)
    assert serde.dumps(again) == serde.dumps(sample.design)
    readme = (sample.folder / "design" / "README.md").read_text(encoding="utf-8")
    for svc in sample.design.services.values():
        for dialect in DIALECTS:
            link = f"ddl/{dialect}/{svc.namespace}.sql"
            assert f"]({link})" in readme and (sample.folder / "design" / link).exists()


def test_ddl_runs_on_sqlite_files(sample: Sample, tmp_path: Path) -> None:
    where = apply(sample.design, str(tmp_path))
    for name, path in where.items():
        engine = sa.create_engine(f"sqlite:///{path}")
        try:
            assert len(sa.inspect(engine).get_table_names()) == len(sample.design.service(name).tables)
        finally:
            engine.dispose()


@pytest.mark.postgres
def test_ddl_runs_on_postgresql(sample: Sample, pg_url: str) -> None:
    apply(sample.design, pg_url)
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    try:
        insp = sa.inspect(engine)
        for svc in sample.design.services.values():
            assert len(insp.get_table_names(schema=svc.namespace)) == len(svc.tables)
    finally:
        engine.dispose()


def test_read_model_fills_run_read_only_on_the_legacy(sample: Sample) -> None:
    assert sample.design.projections
    engine = source_engine(sample.url)
    try:
        with engine.connect() as conn:
            for p in sample.design.projections:
                result = conn.exec_driver_sql(p.fill_sql)
                assert list(result.keys()) == [c.name for c in p.columns], p.name
                result.fetchmany(5)
    finally:
        engine.dispose()


def test_read_models_hold_one_grain(sample: Sample) -> None:
    """A read model whose join has several one-to-many branches would multiply rows (a chasm trap):
    each fill yields no more than twice the rows of its largest table, and about what the design says."""
    engine = source_engine(sample.url)
    try:
        with engine.connect() as conn:
            for p in sample.design.projections:
                if p.dependency.startswith("view:"):
                    continue
                rows = conn.execute(sa.select(sa.func.count()).select_from(sa.text(f"({p.fill_sql}) AS fill"))).scalar()
                largest = max(conn.execute(sa.select(sa.func.count()).select_from(sa.table(s.name, schema=s.schema)))
                              .scalar() for s in p.joins)
                assert rows <= 2 * largest, (p.name, rows, largest)
                assert p.rows_estimate is not None and rows <= 2 * p.rows_estimate, (p.name, rows, p.rows_estimate)
    finally:
        engine.dispose()


def test_cli_design_and_plan(sample: Sample, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = sample.folder
    code = main(["design", str(f / "decomposition.yaml"), "--schema", str(f / "schema.json"), "--workload",
                 str(f / "workload.json"), "--dialect", "sqlite", "--dialect", "mysql", "--out", str(tmp_path / "d"),
                 "--rule", "hot_read_share=0.5"])
    assert code == 0
    out = capsys.readouterr().out
    assert "cross-boundary dependencies" in out
    d = load_design(tmp_path / "d")
    assert d.rules["hot_read_share"] == 0.5
    assert sorted(p.name for p in (tmp_path / "d" / "ddl").iterdir()) == ["mysql", "sqlite"]
    assert main(["plan", "--design", str(tmp_path / "d"), "--out", str(tmp_path / "plan.json")]) == 0
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert sorted(s for w in plan["waves"] for s in w["services"]) == sorted(d.services)
    assert (tmp_path / "plan.md").exists()
    assert main(["design", str(f / "decomposition.yaml"), "--schema", str(f / "schema.json"), "--out",
                 str(tmp_path / "x"), "--dialect", "db2"]) == 2
    assert "db2" in capsys.readouterr().err
