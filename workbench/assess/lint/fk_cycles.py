"""Foreign-key cycles through two or more tables."""

from __future__ import annotations

from workbench.assess.graph import find_cycles, fk_graph
from workbench.assess.lint.finding import Finding
from workbench.assess.lint.settings import DEFAULT, LintSettings
from workbench.schema import Schema


def fk_cycles(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """A warning per cycle, on its first table: such tables cannot be loaded, or split into
    services that create each other's rows, without deferring or dropping one FK."""
    settings = settings or DEFAULT
    graph = fk_graph(schema)
    cycles, truncated = find_cycles(graph, settings.max_cycle_length, settings.max_cycles)
    found = []
    for cycle in cycles:
        first_fk = graph.edges[cycle[0], cycle[1]]["foreign_keys"][0]
        path = " -> ".join([*cycle, cycle[0]])
        found.append(
            Finding(
                "fk_cycles",
                "warning",
                cycle[0],
                list(first_fk["columns"]),
                f"FK cycle {path}: loading or splitting these tables needs a deferred or dropped FK",
            )
        )
    if truncated:
        found.append(
            Finding(
                "fk_cycles",
                "info",
                cycles[0][0],
                [],
                f"more than {settings.max_cycles} FK cycles of up to {settings.max_cycle_length} tables: "
                "only the first are listed",
            )
        )
    return found
