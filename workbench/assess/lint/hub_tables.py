"""Hub tables: referenced by many tables that belong to several neighbourhoods of the schema."""

from __future__ import annotations

from workbench.assess.graph import communities, community_of, fk_graph, reference_tables, referrers
from workbench.assess.lint.finding import Finding, Severity
from workbench.assess.lint.settings import DEFAULT, LintSettings
from workbench.schema import Schema


def hub_tables(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """A warning per hub: whichever service owns it, every other one must reference it remotely.

    A table is a hub when at least ``hub_min_referrers`` tables refer to it (declared or implied
    FKs) and they fall into at least ``hub_min_communities`` greedy-modularity communities of the
    FK graph: being referenced a lot within one neighbourhood is just a parent, not a hub. Hubs that
    look like reference data are info: replicating them is the usual, cheap answer.
    """
    settings = settings or DEFAULT
    graph = fk_graph(schema, implied=True)
    member = community_of(communities(graph))
    reference = reference_tables(graph)
    found = []
    for node in sorted(graph.nodes):
        refs = referrers(graph, node)
        spread = len({member[r] for r in refs})
        if (
            graph.nodes[node].get("external")
            or len(refs) < settings.hub_min_referrers
            or spread < settings.hub_min_communities
        ):
            continue
        severity: Severity
        if node in reference:
            severity, advice = "info", "looks like reference data: replicate it to the services that read it"
        else:
            severity, advice = "warning", "no single service can own it without many cross-service references"
        found.append(
            Finding(
                "hub_tables",
                severity,
                node,
                [],
                f"referenced by {len(refs)} tables from {spread} FK-graph communities: {advice}",
            )
        )
    return found
