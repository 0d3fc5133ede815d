"""The sample database against its answer key, with and without its simulated workload."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.decompose import decompose, score
from workbench.decompose.metrics import ari
from workbench.decompose.stage import fk_louvain
from workbench.introspect import introspect
from workbench.schema import Schema
from workbench.workload.model import Workload
from workbench.workload.stage import assess_workload, sample_domains

Sample = tuple[Schema, Workload, dict[str, str]]


@pytest.fixture(scope="module")
def sample(small_sample_path: Path) -> Sample:
    schema = introspect(f"sqlite:///{small_sample_path}")
    truth = sample_domains(schema)
    assert truth is not None
    return schema, assess_workload(schema, statements=8000), truth


@pytest.mark.parametrize("with_workload", [False, True])
def test_sample_beats_plain_louvain_on_the_fk_graph(sample: Sample, with_workload: bool) -> None:
    schema, workload, truth = sample
    d = decompose(schema, workload if with_workload else None, stability=0)
    ours = ari(d.assignment(), truth)
    baseline = ari(fk_louvain(schema), truth)
    assert ours > baseline + 0.15, (ours, baseline)


def test_sample_shared_tables_are_treated(sample: Sample) -> None:
    schema, workload, truth = sample
    d = decompose(schema, workload, stability=0)
    reference = {t for t, dom in truth.items() if dom == "reference"}
    platform = {t for t, dom in truth.items() if dom == "platform"}
    # the lookups every domain references, and their satellites
    assert len(reference & set(d.services["reference"].tables)) >= 4
    assert set(d.services["reference"].tables) <= reference
    # the polymorphic audit trail, notes and attachments, and sequences written by every domain
    assert {"audit_log", "notes", "attachments", "sequences"} <= set(d.services["platform"].tables) <= platform
    # a keyed table with a second polymorphic pair stays in its domain
    assert "stock_movements" not in d.services["platform"].tables
    s = score(d, schema, workload, truth)
    assert s["truth"]["tables_compared"] == len(schema.base_tables)
    assert 0 < s["workload"]["distributed_write_share"] < 0.5


def test_stage_writes_its_artifacts(small_sample_path: Path, tmp_path: Path) -> None:
    from workbench.decompose import stage
    from workbench.decompose.model import load_decomposition

    result = stage.run(f"sqlite:///{small_sample_path}", tmp_path, sweep_resolutions=[0.5, 1.0, 2.0])
    assert all(result.checks.values()), result.checks
    for name in stage.ARTIFACTS:
        assert (tmp_path / name).exists()
    assert load_decomposition(tmp_path / "decomposition.yaml").assignment() == result.decomposition.assignment()
    assert list(result.comparison["decomposition"])[-1] == "plain Louvain on the FK graph"
    assert result.sweep["recommended"].sum() == 1
    assert result.sweep.loc[result.sweep["recommended"], "resolution"].item() == result.decomposition.parameters[
        "resolution"]
    assert set(stage.roles_frame(result.decomposition)["role"]) >= {"reference", "cross_cutting"}
    move = stage.what_if_candidate(result)
    assert move is not None and move[1] != result.decomposition.service_of(move[0])
