"""The pros and cons of a schema per service for *this* database, written from its figures.

Every sentence is computed from the profile, the graph statistics and the lint findings: a
sentence whose figure is zero is replaced by its opposite or left out, so two databases never
get the same prose. The closing verdict uses three plain thresholds, stated in :func:`verdict`.
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.assess.graph import GraphStats, graph_stats
from workbench.assess.lint import Finding, lint
from workbench.assess.profile import Summary, summary
from workbench.names import md_text
from workbench.schema import Schema


def plural(count: int, word: str, many: str | None = None) -> str:
    """
    >>> plural(1, "table"), plural(3, "table"), plural(2, "community", "communities")
    ('1 table', '3 tables', '2 communities')
    """
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def examples(items: Sequence[str], limit: int = 3) -> str:
    """
    >>> examples(["a"]), examples(["a", "b"]), examples(["a", "b", "c", "d", "e"])
    ('a', 'a and b', 'a, b, c and 2 more')
    """
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    if len(items) <= limit:
        return f"{', '.join(items[:-1])} and {items[-1]}"
    return f"{', '.join(items[:limit])} and {len(items) - limit} more"


def _verb(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _pct(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _cut(stats: GraphStats) -> tuple[int, int, int, int]:
    """Communities of two or more tables, referring pairs outside reference data, those crossing
    communities, and their share."""
    groups = sum(1 for g in stats.communities if len(g) > 1)
    owned = stats.edges - stats.reference_edges
    return groups, owned, stats.cross_community_edges, _pct(stats.cross_community_edges, owned)


def pros_and_cons(
    schema: Schema, stats: GraphStats, figures: Summary, findings: list[Finding]
) -> tuple[list[str], list[str]]:
    """The sentences for and against, in a fixed order."""
    pros: list[str] = []
    cons: list[str] = []
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    n = figures.tables

    groups, owned, cross, share = _cut(stats)
    if groups >= 2 and share <= 30:
        pros.append(
            f"The FK graph falls into {plural(groups, 'community', 'communities')} of related tables and only "
            f"{cross} of the {owned} referring table pairs outside reference data ({share}%) cross between them: "
            "candidate services are already visible in the structure."
        )
    elif groups >= 2:
        cons.append(
            f"The FK graph's {plural(groups, 'community', 'communities')} are tightly interlinked: {cross} of the "
            f"{owned} referring table pairs outside reference data ({share}%) cross between them, and each would "
            "become a remote reference (API call, event or replica)."
        )
    elif n > 1:
        cons.append(
            f"The related tables form {plural(groups, 'community', 'communities')}: the FK structure "
            "suggests no natural boundary, so the split must come from the workload and the domain."
        )
    if len(stats.components) > 1:
        pros.append(
            f"The schema holds {len(stats.components)} separate groups of related tables (the largest has "
            f"{figures.largest_component}); no FK links one group to another, so they part at no cost."
        )
    if stats.isolated:
        pros.append(
            f"{plural(len(stats.isolated), 'table')} ({examples(stats.isolated)}) "
            f"{_verb(len(stats.isolated), 'has', 'have')} no FK at all and can go to any service without "
            "breaking a constraint."
        )
    if stats.reference_tables:
        pros.append(
            f"{plural(len(stats.reference_tables), 'table')} ({examples(stats.reference_tables)}) "
            f"{_verb(len(stats.reference_tables), 'looks', 'look')} like reference data, which each "
            "service can keep as a replicated copy instead of sharing."
        )
    if figures.tables_without_pk == 0 and n:
        pros.append(
            f"All {plural(n, 'table')} have a primary key, so CDC and per-key checksums can move and verify them row "
            "by row."
        )
    elif figures.tables_without_pk:
        missing = [f.table for f in by_rule.get("no_primary_key", [])]
        cons.append(
            f"{figures.tables_without_pk} of {plural(n, 'table')} {_verb(figures.tables_without_pk, 'has', 'have')} "
            f"no primary key ({examples(missing)}): "
            f"give {_verb(figures.tables_without_pk, 'it', 'them')} one before any move, since CDC and per-key "
            "verification depend on it."
        )
    if stats.cycles:
        first = " -> ".join([*stats.cycles[0], stats.cycles[0][0]])
        more = "+" if stats.cycles_truncated else ""
        cons.append(
            f"{plural(len(stats.cycles), 'FK cycle')}{more} (e.g. {first}) {_verb(len(stats.cycles), 'binds', 'bind')} "
            "tables that must be loaded together; split across services, one of the FKs has to go."
        )
    elif stats.edges:
        pros.append(
            "No FK cycle runs through several tables, so every table can be created and loaded after the ones it "
            "references."
        )
    hubs = [f for f in by_rule.get("hub_tables", []) if f.severity == "warning"]
    if hubs:
        cons.append(
            f"{plural(len(hubs), 'hub table')} ({examples([h.table for h in hubs])}; the first "
            f"{hubs[0].message.split(':')[0]}) "
            "would be read remotely by most services: expect APIs, events or replicas around "
            f"{_verb(len(hubs), 'it', 'them')}."
        )
    elif stats.edges:
        pros.append(
            "No table is referenced from many neighbourhoods at once, so no single owner forces remote reads on most "
            "services."
        )
    implied = by_rule.get("implied_foreign_keys", [])
    if implied:
        first = implied[0].message.split(" (")[0]
        cons.append(
            f"{plural(len(implied), 'reference')} {_verb(len(implied), 'is', 'are')} not declared (e.g. "
            f"{implied[0].table}: {first}): dependencies kept in application code that the split must find before "
            "cutting."
        )
    poly = by_rule.get("polymorphic_associations", [])
    if poly:
        cons.append(
            f"{plural(len(poly), 'polymorphic association')} ({examples([f'{p.table}.{p.columns[0]}' for p in poly])}) "
            f"{_verb(len(poly), 'points', 'point')} into several tables at once, so no single service can own "
            f"{_verb(len(poly), 'it', 'them')}."
        )
    unindexed = by_rule.get("fk_without_index", [])
    if unindexed:
        cons.append(
            f"{plural(len(unindexed), 'FK')} {_verb(len(unindexed), 'has', 'have')} no supporting index "
            f"({examples(sorted({u.table for u in unindexed}))}): the lookups by reference id that replace them "
            "across services will scan unless indexed first."
        )
    if stats.self_references:
        cons.append(
            f"{plural(len(stats.self_references), 'table')} ({examples(stats.self_references)}) "
            f"{_verb(len(stats.self_references), 'holds a hierarchy that', 'hold hierarchies that')} must move whole "
            f"and {_verb(len(stats.self_references), 'is', 'are')} read with recursive queries."
        )
    from workbench.assess.logic import logic_sentences

    cons += logic_sentences(schema)
    if figures.largest_tables and figures.rows:
        top = [(k, r) for k, r in figures.largest_tables[:3] if r > 0]
        share_rows = _pct(sum(r for _, r in top), figures.rows)
        pros.append(
            f"Load spreads out: the {plural(len(top), 'largest table')} ({examples([k for k, _ in top])}) hold "
            f"{share_rows}% of the {figures.rows:,} rows and can get their own storage and tuning with their service."
        )
        big, rows = figures.largest_tables[0]
        cons.append(
            f"Moving {big} ({rows:,} rows) is the bulk of the data migration: it needs a bulk copy followed by a "
            "catch-up (CDC or dual writes), not a copy during downtime."
        )
    return pros, cons


def verdict(stats: GraphStats, figures: Summary, findings: list[Finding]) -> str:
    """One closing sentence.

    Within reach: at most 15% of the referring pairs outside reference data cross communities, no
    hub (warning) and no cycle.
    Costly: more than 35% cross, or three or more hubs. Otherwise: feasible with preparation.
    Error findings are always named first, as work to do before anything else.
    """
    if figures.tables == 0:
        return "There are no tables to assess."
    _, _, _, share = _cut(stats)
    hubs = sum(1 for f in findings if f.rule == "hub_tables" and f.severity == "warning")
    errors = sum(1 for f in findings if f.severity == "error")
    if share <= 15 and hubs == 0 and not stats.cycles:
        text = "a schema per service looks within reach: the structure already separates"
    elif share > 35 or hubs >= 3:
        text = "a schema per service is costly here: too much of the structure is shared"
    else:
        text = "a schema per service is feasible with preparation: a few shared tables and links need a decision first"
    fix_first = f", {plural(errors, 'error finding')} to fix first" if errors else ""
    detail = (f"({share}% of referring pairs outside reference data cross communities, {plural(hubs, 'hub')}, "
              f"{plural(len(stats.cycles), 'cycle')}{fix_first})")
    return f"On these figures {text} {detail}."


def narrative(
    schema: Schema,
    stats: GraphStats | None = None,
    findings: list[Finding] | None = None,
    figures: Summary | None = None,
) -> str:
    """Markdown: a *For* list, an *Against* list and a verdict, for the Assess report."""
    stats = stats or graph_stats(schema)
    findings = lint(schema) if findings is None else findings
    figures = figures or summary(schema, stats)
    pros, cons = pros_and_cons(schema, stats, figures, findings)
    lines = [f"### A schema per service for {plural(figures.tables, 'table')}: for and against", "", "**For**", ""]
    # the sentences quote table names: escaped, they render as written and never as Markdown or HTML
    lines += [f"- {md_text(p)}" for p in pros] or ["- Nothing in the structure argues for a split on its own."]
    lines += ["", "**Against**", ""]
    lines += [f"- {md_text(c)}" for c in cons] or ["- Nothing in the structure stands in the way of a split."]
    lines += ["", md_text(verdict(stats, figures, findings)), ""]
    return "\n".join(lines)
