"""The Assess stage end to end, for the notebook and the CLI: introspect, measure, judge, save.

The notebook stays a thin sequence of calls into this module; everything it shows is a value
computed here, and everything later stages need is written to the output folder as files
(``schema.json``, ``profile.csv``, ``lint.json``): notebooks pass results on by files only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench import serde
from workbench.assess.graph import GraphStats, graph_stats
from workbench.assess.lint import RULES, SEVERITIES, Finding, LintSettings, lint
from workbench.assess.profile import Summary, profile_tables, summary
from workbench.schema import Schema

ARTIFACTS = ("schema.json", "profile.csv", "lint.json")


@dataclass
class Assessment:
    """Everything the Assess stage found about one schema."""

    schema: Schema
    profile: pd.DataFrame
    stats: GraphStats
    summary: Summary
    findings: list[Finding]


def assess_schema(schema: Schema, settings: LintSettings | None = None) -> Assessment:
    """Profile, graph statistics and lint of an already introspected schema (no I/O)."""
    stats = graph_stats(schema)
    return Assessment(schema, profile_tables(schema), stats, summary(schema, stats), lint(schema, settings=settings))


def assess(db_url: str, out_dir: str | Path, schemas: list[str] | None = None) -> Assessment:
    """Introspect ``db_url`` (read-only), assess it and write the stage artifacts into ``out_dir``."""
    from workbench.introspect import introspect

    schema = introspect(db_url, schemas=schemas)
    result = assess_schema(schema)
    save(result, out_dir)
    return result


def save(result: Assessment, out_dir: str | Path) -> list[Path]:
    """Write ``schema.json``, ``profile.csv`` and ``lint.json``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [
        serde.save(result.schema, out / "schema.json"),
        serde.save(result.profile, out / "profile.csv"),
        serde.save(result.findings, out / "lint.json"),
    ]


def headline(figures: Summary) -> pd.DataFrame:
    """The summary as a two-column table (figure, value) for display."""
    rows = [(name.replace("_", " "), value) for name, value in vars(figures).items() if name != "largest_tables"]
    return pd.DataFrame(rows, columns=["figure", "value"])


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """One row per finding, in lint order, columns joined for reading."""
    return pd.DataFrame(
        [(f.severity, f.rule, f.table, ", ".join(f.columns), f.message) for f in findings],
        columns=["severity", "rule", "table", "columns", "message"],
    )


def findings_by_rule(findings: list[Finding]) -> pd.DataFrame:
    """Finding counts per rule and severity, every rule listed (zeros included), in registry order.

    Listing silent rules too shows what was checked, not only what was found.
    """
    counts = Counter((f.rule, f.severity) for f in findings)
    rows = [[rule, *(counts[(rule, s)] for s in SEVERITIES)] for rule in RULES]
    frame = pd.DataFrame(rows, columns=["rule", *SEVERITIES])
    frame["total"] = frame[list(SEVERITIES)].sum(axis=1)
    return frame


def communities_frame(stats: GraphStats, limit: int = 12) -> pd.DataFrame:
    """The FK-graph communities of two or more tables: size and members (first ``limit`` names)."""
    rows = []
    for i, group in enumerate(g for g in stats.communities if len(g) > 1):
        shown = ", ".join(group[:limit]) + (f", ... (+{len(group) - limit})" if len(group) > limit else "")
        rows.append((i, len(group), shown))
    return pd.DataFrame(rows, columns=["community", "tables", "members"])
