"""The explorer's state: moves, merges, splits, renames, undo and redo, and metrics that stay equal to
score()'s after any sequence of them (they are kept incrementally, so this is what could go wrong)."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from workbench.decompose import decompose
from workbench.decompose.explain import pull
from workbench.decompose.explore import METRICS, Explorer
from workbench.decompose.model import Decomposition, Service, load_decomposition
from workbench.decompose.synthetic import planted
from workbench.errors import NotFoundError, WorkbenchError


@pytest.fixture(scope="module")
def world() -> tuple[Decomposition, object]:
    """A planted schema with a workload and an answer key; one table excluded, one left unassigned."""
    p = planted(n_tables=70, n_domains=4, seed=5)
    excluded = sorted(p.truth)[3]
    d = decompose(p.schema, p.workload, stability=0, exclude=[excluded])
    victim = sorted(d.services[next(iter(d.services))].tables)[0]
    d.services = {n: dataclasses.replace(s, tables=[t for t in s.tables if t != victim]) for n, s in d.services.items()}
    d.unassigned[victim] = "left out for the test"
    return d, p


def _flat(scores: dict) -> dict:
    out = {}
    for key in METRICS:
        head, _, tail = key.partition(".")
        value = scores.get(head)
        out[key] = value.get(tail) if tail and isinstance(value, dict) else (None if tail else value)
    return out


def _same_as_score(x: Explorer) -> None:
    now, full = x.metrics(), _flat(x.scores())
    for key, value in now.items():
        expected = full[key]
        assert expected is not None, key
        assert value == pytest.approx(expected, abs=2e-4), key


def test_metrics_equal_score_after_random_edits(world: tuple) -> None:
    d, p = world
    x = Explorer(d, p.schema, p.workload, p.truth)
    assert set(x.metrics()) == set(METRICS)  # workload and answer key given: every metric kept
    _same_as_score(x)
    rng = random.Random(7)
    unassigned = next(iter(d.unassigned))
    x.move(unassigned, x.services()[0])  # a table no service held joins one
    for i in range(40):
        services = x.services()
        kind = rng.choice(["move", "move", "group", "merge", "split", "rename", "undo", "redo", "new"])
        try:
            if kind == "move":
                x.move(rng.choice(x.tables()), rng.choice(services))
            elif kind == "group":
                x.move(rng.sample(x.tables(), 4), rng.choice(services))
            elif kind == "new":
                x.move(rng.choice(x.tables()), f"new {i}")
            elif kind == "merge" and len(services) > 2:
                a, b = rng.sample(services, 2)
                x.merge(a, b)
            elif kind == "split":
                x.split(rng.choice(services))
            elif kind == "rename":
                x.rename(rng.choice(services), f"renamed {i}")
            elif kind == "undo":
                x.undo()
            elif kind == "redo":
                x.redo()
        except WorkbenchError:
            continue  # a refused edit (nothing to split, nothing to redo) changes nothing
        if i % 5 == 0:
            _same_as_score(x)
    _same_as_score(x)


def test_undo_restores_the_start_exactly_and_redo_replays(world: tuple) -> None:
    d, p = world
    x = Explorer(d, p.schema, p.workload, p.truth)
    start_assignment, start_metrics = x.assignment(), x.metrics()
    first = x.services()[0]
    x.move(x.tables_of(x.services()[1])[:2], first)
    x.split(first)
    x.rename(first, "core")
    x.merge(x.services()[-1], "core")
    after = (x.assignment(), x.metrics())
    for _ in range(4):
        x.undo()
    assert x.assignment() == start_assignment and x.metrics() == start_metrics
    assert x.services() == list(d.services)
    with pytest.raises(WorkbenchError, match="nothing to undo"):
        x.undo()
    for _ in range(4):
        x.redo()
    assert (x.assignment(), x.metrics()) == after
    x.undo()
    x.move(x.tables()[0], "elsewhere")  # a new step forgets what could be redone
    with pytest.raises(WorkbenchError, match="nothing to redo"):
        x.redo()


def test_changes_report_the_last_step(world: tuple) -> None:
    d, p = world
    x = Explorer(d, p.schema, p.workload, p.truth)
    table = x.tables_of(x.services()[0])[0]
    x.move(table, x.services()[1])
    rows = {r["metric"]: r for r in x.changes()}
    assert rows["services"]["now"] == rows["services"]["before"] == rows["services"]["start"]
    changed = [r for r in rows.values() if r["change"]]
    assert changed, "moving a table changed no metric"
    for r in changed:
        assert r["change"] == pytest.approx(r["now"] - r["before"], abs=1e-4)
    x.move(table, "a_service_of_its_own")
    rows = {r["metric"]: r for r in x.changes()}
    assert rows["services"]["change"] == 1


def test_refused_edits_say_why_and_change_nothing(world: tuple) -> None:
    d, p = world
    x = Explorer(d, p.schema, p.workload, p.truth)
    before = x.assignment()
    table = next(t for t in x.tables() if x.service_of(t))
    with pytest.raises(NotFoundError, match="no_such_table"):
        x.move("no_such_table", x.services()[0])
    with pytest.raises(WorkbenchError, match="excluded"):
        x.move(d.excluded[0], x.services()[0])
    with pytest.raises(WorkbenchError, match="needs a name"):
        x.move(table, "  ")
    with pytest.raises(WorkbenchError, match="cannot start with"):
        x.move(table, "(alone) x")
    with pytest.raises(WorkbenchError, match="nothing to move"):
        x.move(table, x.service_of(table) or "")
    with pytest.raises(NotFoundError, match="service not found"):
        x.merge("no such service", x.services()[0])
    with pytest.raises(WorkbenchError, match="into itself"):
        x.merge(x.services()[0], x.services()[0])
    with pytest.raises(WorkbenchError, match="exists"):
        x.rename(x.services()[0], x.services()[1])
    other = next(t for t in x.tables() if x.service_of(t) not in (None, x.services()[0]))
    with pytest.raises(WorkbenchError, match="is not in service"):
        x.split(x.services()[0], [other])
    assert x.assignment() == before and not x.steps


def test_split_is_deterministic_and_keeps_both_halves(world: tuple) -> None:
    d, p = world
    biggest = max(d.services, key=lambda n: len(d.services[n].tables))
    halves = []
    for _ in range(2):
        x = Explorer(d, p.schema, p.workload, p.truth)
        step = x.split(biggest)
        halves.append([m.table for m in step.moves])
        assert x.tables_of(biggest) and x.tables_of(f"{biggest}_2")
        assert len(x.tables_of(f"{biggest}_2")) <= len(x.tables_of(biggest))
    assert halves[0] == halves[1]


def test_saved_decomposition_keeps_what_it_knew_and_notes_the_edits(world: tuple, tmp_path: Path) -> None:
    d, p = world

    d = dataclasses.replace(d, services={n: dataclasses.replace(s, context=f"ctx {i % 2}")
                                         for i, (n, s) in enumerate(d.services.items())})
    first_name = next(iter(d.services))
    d.services[first_name].context = first_name  # a context named after its largest service
    x = Explorer(d, p.schema, p.workload, p.truth)
    first, second = x.services()[:2]
    moved = x.tables_of(second)[0]
    unassigned = next(iter(d.unassigned))
    x.move([moved, unassigned], first)
    x.rename(first, "renamed")
    out = x.to_decomposition()
    assert out.services["renamed"].kind == d.services[first].kind
    assert out.services["renamed"].context == "renamed"  # named after the renamed service: follows it
    assert out.services[second].context == d.services[second].context
    assert out.tables[moved].role == "pinned" and f"was {second}" in (out.tables[moved].reason or "")
    assert out.tables[unassigned].role == "pinned" and unassigned not in out.unassigned
    assert out.parameters["edits"] == [s.label for s in x.steps]
    untouched = next(t for t in x.tables_of("renamed") if t not in (moved, unassigned))
    assert out.tables[untouched] == dataclasses.replace(d.tables[untouched], pull={
        ("renamed" if k == first else k): v for k, v in d.tables[untouched].pull.items()})
    replicated = {t for s in d.services.values() for t in s.replicated}
    assert {t for s in out.services.values() for t in s.replicated} == replicated
    assert all(set(s.replicated) <= set(s.tables) for s in out.services.values())

    path = x.save(tmp_path / "decomposition.yaml")
    assert load_decomposition(path).assignment() == x.assignment()
    assert [f.name for f in tmp_path.iterdir()] == ["decomposition.yaml"]  # no temporary file left


def test_a_failed_save_leaves_the_previous_file(world: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d, p = world
    x = Explorer(d, p.schema, p.workload, p.truth)
    path = x.save(tmp_path / "decomposition.yaml")
    before = path.read_bytes()
    x.move(x.tables()[0], "moved")

    def broken(decomposition: Decomposition, target: str | Path) -> Path:
        Path(target).write_text("services:\n  half: [written")
        raise OSError("disk full")

    monkeypatch.setattr("workbench.decompose.explore.save_decomposition", broken)
    with pytest.raises(OSError, match="disk full"):
        x.save(path)
    assert path.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["decomposition.yaml"]


def test_table_insight_shows_pull_confidence_and_evidence(world: tuple) -> None:
    d, p = world
    x = Explorer(d, p.schema, p.workload, p.truth)
    child = next(t for t in p.schema.base_tables if t.foreign_keys and t.key in x.assignment()
                 and t.foreign_keys[0].referred_key in x.assignment())
    insight = x.table(child.key)
    assert insight.service == d.service_of(child.key) and insight.confidence == d.tables[child.key].confidence
    assert insight.role == d.tables[child.key].role and insight.reason == d.tables[child.key].reason
    expected = pull(x.graph, d, [child.key], top=20).iloc[0]
    shown = [f"{s} ({v:.2f})" for s, v in insight.pull.items() if v > 0]
    assert shown == [v for k, v in expected.items() if k.startswith("pull_") and isinstance(v, str)]
    parent = child.foreign_keys[0].referred_key
    tie = next(t for t in insight.ties if t.table == parent)
    assert tie.signals["fk"] > 0 and "foreign key" in tie.evidence
    assert any(k.startswith(f"{child.key}.") and k.endswith(f"-> {parent}") for k in tie.keys)
    assert [t.weight for t in insight.ties] == sorted((t.weight for t in insight.ties), reverse=True)

    x.move(child.key, "by_hand")
    moved = x.table(child.key)
    assert moved.role == "pinned" and moved.confidence is None and "by_hand" in (moved.reason or "")
    assert "by_hand" in moved.pull


def test_service_insight_lists_ties_and_the_least_settled_tables(world: tuple) -> None:
    d, p = world
    x = Explorer(d, p.schema, p.workload, p.truth)
    name = x.services()[0]
    s = x.service(name)
    assert s.tables == sorted(d.services[name].tables) and s.kind == d.services[name].kind
    assert list(s.ties.values()) == sorted(s.ties.values(), reverse=True) and name not in s.ties
    margins = [f.inside - f.outside for f in s.members]
    assert margins == sorted(margins) and {f.table for f in s.members} == set(s.tables)


def test_from_folder_reads_the_stage_artifacts(world: tuple, tmp_path: Path) -> None:
    from workbench import serde
    from workbench.decompose.model import save_decomposition

    d, p = world
    serde.save(p.schema, tmp_path / "schema.json")
    serde.save(p.workload, tmp_path / "workload.json")
    save_decomposition(d, tmp_path / "decomposition.yaml")
    (tmp_path / "truth.csv").write_text("table,domain\n" + "".join(f"{t},{v}\n" for t, v in p.truth.items()))
    x = Explorer.from_folder(tmp_path, truth=tmp_path / "truth.csv")
    assert x.assignment() == d.assignment() and "truth.ari" in x.metrics()
    assert x.metrics() == Explorer(d, p.schema, p.workload, p.truth).metrics()


def test_a_decomposition_naming_unknown_tables_is_refused(world: tuple) -> None:
    d, p = world
    bad = dataclasses.replace(d, services={**d.services, "ghost": Service(["no_such_table"])})
    with pytest.raises(NotFoundError, match="no_such_table"):
        Explorer(bad, p.schema)
