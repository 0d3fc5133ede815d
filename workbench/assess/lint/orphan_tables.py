"""Tables related to nothing: no FK in or out, declared or implied by naming."""

from __future__ import annotations

from workbench.assess.graph import fk_graph
from workbench.assess.lint.finding import Finding
from workbench.assess.lint.settings import LintSettings
from workbench.schema import Schema


def orphan_tables(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """Info: such a table can go to any service (or is unused); the decision rests on the workload."""
    graph = fk_graph(schema, implied=True)
    return [
        Finding(
            "orphan_tables",
            "info",
            t.key,
            [],
            "no FK in or out, declared or implied: unrelated to other tables; place it by workload, or retire it",
        )
        for t in schema.base_tables
        if not any(n != t.key for n in graph.predecessors(t.key))
        and not any(n != t.key for n in graph.successors(t.key))
    ]
