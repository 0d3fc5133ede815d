"""What the architect knows and the graph does not: pins, keep-together, keep-apart, size bounds.

Constraints act around any clustering method rather than inside one:

1. tables to keep together, and tables pinned to the same service, are contracted into one node
   before clustering, so no method can separate them;
2. after clustering, a cluster holding tables pinned to different services, or both tables of a
   keep-apart pair, is split: every member joins the conflicting seed it is most strongly tied to
   (a multi-source label propagation inside that cluster);
3. clusters above ``max_size`` are bisected, clusters below ``min_size`` join the neighbour they
   are most tied to, in both cases without breaking a pin or a keep-apart pair.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from workbench.errors import NotFoundError, WorkbenchError


@dataclass
class Constraints:
    """The architect's constraints.

    Attributes
    ----------
    pins : table -> service name it must belong to.
    together : groups of tables that must share a service.
    apart : pairs of tables that must not share a service.
    min_size, max_size : bounds on the number of tables per service (None: no bound).
    excluded : tables left out of the decomposition altogether.
    """

    pins: dict[str, str] = field(default_factory=dict)
    together: list[list[str]] = field(default_factory=list)
    apart: list[list[str]] = field(default_factory=list)
    min_size: int | None = None
    max_size: int | None = None
    excluded: list[str] = field(default_factory=list)

    def check(self, tables: Iterable[str]) -> None:
        """Every named table exists and the constraints do not contradict each other."""
        known = set(tables)
        named = [*self.pins, *(t for g in self.together for t in g), *(t for p in self.apart for t in p),
                 *self.excluded]
        for t in named:
            if t not in known:
                raise NotFoundError(f"constraint names table {t!r}, which is not in the schema")
        for p in self.apart:
            if len(p) != 2 or p[0] == p[1]:
                raise WorkbenchError(f"keep-apart needs two different tables, got {p!r}")
        if self.min_size is not None and self.max_size is not None and self.min_size > self.max_size:
            raise WorkbenchError(f"minimum service size {self.min_size} exceeds the maximum {self.max_size}")
        groups = self.groups(known)
        where = {t: i for i, g in enumerate(groups) for t in g}
        for a, b in self.apart:
            if where.get(a) is not None and where.get(a) == where.get(b):
                raise WorkbenchError(f"tables {a!r} and {b!r} are to be kept both together and apart")
        for g in groups:
            services = {self.pins[t] for t in g if t in self.pins}
            if len(services) > 1:
                raise WorkbenchError("tables kept together are pinned to different services: "
                                     + ", ".join(sorted(services)))
        for t in self.excluded:
            if t in self.pins:
                raise WorkbenchError(f"table {t!r} is both pinned and excluded")

    def groups(self, tables: Iterable[str]) -> list[set[str]]:
        """Tables that must share a service: keep-together groups and same-service pins, merged transitively."""
        g: nx.Graph[str] = nx.Graph()
        g.add_nodes_from(tables)
        for group in self.together:
            for a, b in zip(group, group[1:], strict=False):
                g.add_edge(a, b)
        by_service: dict[str, list[str]] = defaultdict(list)
        for t, s in sorted(self.pins.items()):
            by_service[s].append(t)
        for members in by_service.values():
            for a, b in zip(members, members[1:], strict=False):
                g.add_edge(a, b)
        return [set(c) for c in nx.connected_components(g) if len(c) > 1]


def contract(g: nx.Graph, groups: list[set[str]]) -> tuple[nx.Graph, dict[Any, set[str]]]:
    """``g`` with each group merged into one node (edge weights summed); node -> tables it stands for."""
    rep: dict[str, Any] = {}
    members: dict[Any, set[str]] = {}
    for group in groups:
        head = ("group", min(group))
        members[head] = set(group)
        for t in group:
            rep[t] = head
    h: nx.Graph[str] = nx.Graph()
    for n in g.nodes:
        node = rep.get(n, n)
        members.setdefault(node, {n})
        h.add_node(node)
    for a, b, w in g.edges(data="weight", default=1.0):
        x, y = rep.get(a, a), rep.get(b, b)
        if x == y:
            continue
        if h.has_edge(x, y):
            h.edges[x, y]["weight"] += w
        else:
            h.add_edge(x, y, weight=w)
    return h, members


def _split(h: nx.Graph, part: set[Any], seeds: list[set[Any]]) -> list[set[Any]]:
    """Split ``part`` around disjoint seed sets: each other node joins the seed it is most tied to."""
    label: dict[Any, int] = {n: i for i, s in enumerate(seeds) for n in s}
    pending = sorted((n for n in part if n not in label), key=str)
    while pending:
        best: tuple[float, str, Any, int] | None = None
        for n in pending:
            pull: dict[int, float] = defaultdict(float)
            for x, data in h[n].items():
                if x in label and x in part:
                    pull[label[x]] += data.get("weight", 1.0)
            if pull:
                lab, w = max(pull.items(), key=lambda kv: (kv[1], -kv[0]))
                cand = (w, str(n), n, lab)
                if best is None or (cand[0], cand[1]) > (best[0], best[1]):
                    best = cand
        if best is None:  # no ties to any seed: the largest seed group takes the rest
            biggest = max(range(len(seeds)), key=lambda i: (sum(1 for v in label.values() if v == i), -i))
            for n in pending:
                label[n] = biggest
            break
        label[best[2]] = best[3]
        pending.remove(best[2])
    out: list[set[Any]] = [set() for _ in seeds]
    for n, lab in label.items():
        if n in part:
            out[lab].add(n)
    return [p for p in out if p]


def enforce(h: nx.Graph, parts: list[set[Any]], members: dict[Any, set[str]], constraints: Constraints,
            bisect: Callable[[nx.Graph, set[Any]], list[set[Any]] | None]) -> list[set[Any]]:
    """Parts of the contracted graph ``h`` made to respect pins, keep-apart pairs and size bounds."""
    node_of = {t: n for n, ts in members.items() for t in ts}
    pin_of = {node_of[t]: s for t, s in constraints.pins.items() if t in node_of}
    apart = [(node_of[a], node_of[b]) for a, b in constraints.apart if a in node_of and b in node_of]

    def conflicts(part: set[Any]) -> list[set[Any]]:
        services = sorted({pin_of[n] for n in part if n in pin_of})
        seeds = [{n for n in part if pin_of.get(n) == s} for s in services]
        for a, b in apart:
            if a in part and b in part:
                placed = {n for s in seeds for n in s}
                for x in (a, b):
                    if x not in placed:
                        seeds.append({x})
        return seeds if len(seeds) > 1 else []

    out: list[set[Any]] = []
    queue = [set(p) for p in parts]
    while queue:
        part = queue.pop()
        seeds = conflicts(part)
        if not seeds:
            out.append(part)
            continue
        pieces = _split(h, part, seeds)
        if len(pieces) <= 1:
            out.append(part)
            continue
        queue.extend(pieces)

    def size(part: set[Any]) -> int:
        return sum(len(members[n]) for n in part)

    if constraints.max_size:
        done: list[set[Any]] = []
        queue = list(out)
        while queue:
            part = queue.pop()
            if size(part) <= constraints.max_size or len(part) < 2:
                done.append(part)
                continue
            halves = bisect(h, part)
            if not halves or len(halves) < 2:
                done.append(part)
                continue
            queue.extend(halves)
        out = done

    if constraints.min_size:
        def compatible(x: set[Any], y: set[Any]) -> bool:
            return not conflicts(x | y) and (not constraints.max_size or size(x | y) <= constraints.max_size)

        changed = True
        while changed:
            changed = False
            out.sort(key=lambda p: (size(p), min(map(str, p))))
            where = {n: i for i, p in enumerate(out) for n in p}
            for i, part in enumerate(out):
                if size(part) >= constraints.min_size:
                    continue
                pull: dict[int, float] = defaultdict(float)
                for n in part:
                    for x, data in h[n].items():
                        j = where[x]
                        if j != i:
                            pull[j] += data.get("weight", 1.0)
                for j, _ in sorted(pull.items(), key=lambda kv: (-kv[1], kv[0])):
                    if compatible(part, out[j]):
                        out[j] = out[j] | part
                        del out[i]
                        changed = True
                        break
                if changed:
                    break
    return out


def expand(parts: list[set[Any]], members: dict[Any, set[str]]) -> list[set[str]]:
    """Contracted parts back to tables."""
    return [{t for n in p for t in members[n]} for p in parts]
