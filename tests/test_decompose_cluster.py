"""Clustering methods behind one interface, and the architect's constraints around them."""

from __future__ import annotations

import networkx as nx
import pytest

from workbench.decompose.cluster import METHODS, available_methods, cluster
from workbench.decompose.cluster.leiden import leiden_available
from workbench.decompose.constraints import Constraints
from workbench.decompose.pipeline import partition
from workbench.errors import NotFoundError, WorkbenchError


def _planted() -> tuple[nx.Graph, list[set[str]]]:
    """Three dense groups of 6 tables (all pairs weight 1) joined by single light bridges."""
    g = nx.Graph()
    groups = [{f"{d}{i}" for i in range(6)} for d in "abc"]
    for grp in groups:
        members = sorted(grp)
        for i, x in enumerate(members):
            for y in members[i + 1:]:
                g.add_edge(x, y, weight=1.0)
    g.add_edge("a0", "b0", weight=0.2)
    g.add_edge("b1", "c1", weight=0.2)
    return g, groups


def _canon(parts: list[set[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for p in parts}


@pytest.mark.parametrize("method", [m for m in METHODS if m != "leiden"])
def test_every_method_finds_the_planted_groups(method: str) -> None:
    g, groups = _planted()
    assert _canon(cluster(g, method, seed=3)) == _canon(groups)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "leiden"])
def test_every_method_hits_a_requested_count(method: str) -> None:
    g, groups = _planted()
    two = cluster(g, method, k=2, seed=1)
    assert len(two) == 2 and sorted(len(p) for p in two) == [6, 12]
    assert len(cluster(g, method, k=4, seed=1)) == 4


@pytest.mark.parametrize("method", [m for m in METHODS if m != "leiden"])
def test_methods_are_deterministic_for_a_seed(method: str) -> None:
    g = nx.connected_caveman_graph(6, 5)
    nx.set_edge_attributes(g, 1.0, "weight")
    assert cluster(g, method, seed=5) == cluster(g, method, seed=5)


def test_leiden_when_installed() -> None:
    g, groups = _planted()
    if not leiden_available():
        assert "leiden" not in available_methods()
        with pytest.raises(WorkbenchError, match="leidenalg"):
            cluster(g, "leiden")
        return
    assert _canon(cluster(g, "leiden", seed=1)) == _canon(groups)


def test_bad_method_and_arguments() -> None:
    g, _ = _planted()
    with pytest.raises(WorkbenchError, match="unknown clustering method 'kmeans'"):
        cluster(g, "kmeans")
    with pytest.raises(WorkbenchError, match="resolution"):
        cluster(g, resolution=0)
    with pytest.raises(WorkbenchError, match="at least 1"):
        cluster(g, k=0)


def test_resolution_changes_granularity() -> None:
    g = nx.ring_of_cliques(8, 4)
    nx.set_edge_attributes(g, 1.0, "weight")
    coarse = cluster(g, "louvain", resolution=0.05, seed=0)
    fine = cluster(g, "louvain", resolution=1.0, seed=0)
    assert len(coarse) < len(fine) == 8


# ---------------------------------------------------------------- constraints
def _part(g: nx.Graph, **kw: object) -> list[set[str]]:
    return partition(g, Constraints(**kw), method="louvain", resolution=1.0, k=None, seed=0)  # type: ignore[arg-type]


def test_pins_to_different_services_split_a_cluster() -> None:
    g, _ = _planted()
    parts = _part(g, pins={"a0": "x", "a5": "y"})
    where = {t: i for i, p in enumerate(parts) for t in p}
    assert where["a0"] != where["a5"]
    assert len(parts) == 4 and sum(len(p) for p in parts) == 18


def test_pins_to_one_service_and_keep_together_join_groups() -> None:
    g, _ = _planted()
    parts = _part(g, pins={"a0": "x", "c0": "x"})
    where = {t: i for i, p in enumerate(parts) for t in p}
    assert where["a0"] == where["c0"]
    parts = _part(g, together=[["b2", "c3"]])
    where = {t: i for i, p in enumerate(parts) for t in p}
    assert where["b2"] == where["c3"]


def test_keep_apart() -> None:
    g, _ = _planted()
    parts = _part(g, apart=[["b1", "b2"]])
    where = {t: i for i, p in enumerate(parts) for t in p}
    assert where["b1"] != where["b2"]


def test_size_bounds() -> None:
    g, _ = _planted()
    assert max(len(p) for p in _part(g, max_size=4)) <= 4
    g.add_node("lonely")
    g.add_edge("lonely", "a1", weight=0.01)
    g.add_edge("stray", "c2", weight=0.01)
    parts = _part(g, min_size=3)
    assert min(len(p) for p in parts) >= 3


def test_constraint_errors_name_the_problem() -> None:
    tables = ["a", "b", "c"]
    with pytest.raises(NotFoundError, match="'zz'"):
        Constraints(pins={"zz": "s"}).check(tables)
    with pytest.raises(WorkbenchError, match="together and apart"):
        Constraints(together=[["a", "b"]], apart=[["a", "b"]]).check(tables)
    with pytest.raises(WorkbenchError, match="different services"):
        Constraints(together=[["a", "b"]], pins={"a": "s1", "b": "s2"}).check(tables)
    with pytest.raises(WorkbenchError, match="exceeds"):
        Constraints(min_size=5, max_size=2).check(tables)
    with pytest.raises(WorkbenchError, match="pinned and excluded"):
        Constraints(pins={"a": "s"}, excluded=["a"]).check(tables)
