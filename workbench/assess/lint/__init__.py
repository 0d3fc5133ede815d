"""Schema lint for decomposition risks, one rule per module (like sqlglot's optimizer).

Each rule module exposes one function named like the module, taking a
:class:`~workbench.schema.Schema` and optional :class:`LintSettings` and returning a list of
:class:`Finding`. :data:`RULES` lists them in the order they are documented; :func:`lint` runs
them and sorts the findings (most severe first), so two runs on one schema print the same lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tqdm import tqdm

from workbench.assess.lint.finding import SEVERITIES, Finding, Severity
from workbench.assess.lint.fk_cycles import fk_cycles
from workbench.assess.lint.fk_without_index import fk_without_index
from workbench.assess.lint.hub_tables import hub_tables
from workbench.assess.lint.implied_foreign_keys import implied_foreign_keys
from workbench.assess.lint.inconsistent_column_types import inconsistent_column_types
from workbench.assess.lint.incrementing_columns import incrementing_columns
from workbench.assess.lint.no_index import no_index
from workbench.assess.lint.no_primary_key import no_primary_key
from workbench.assess.lint.nullable_unique import nullable_unique
from workbench.assess.lint.orphan_tables import orphan_tables
from workbench.assess.lint.polymorphic_associations import polymorphic_associations
from workbench.assess.lint.redundant_indexes import redundant_indexes
from workbench.assess.lint.self_reference import self_reference
from workbench.assess.lint.settings import LintSettings
from workbench.assess.lint.single_column_tables import single_column_tables
from workbench.assess.lint.too_many_lobs import too_many_lobs
from workbench.errors import NotFoundError
from workbench.schema import Schema

Rule = Callable[[Schema, LintSettings | None], list[Finding]]

RULES: dict[str, Rule] = {
    rule.__name__: rule
    for rule in (
        no_primary_key,
        no_index,
        fk_without_index,
        fk_cycles,
        self_reference,
        orphan_tables,
        implied_foreign_keys,
        polymorphic_associations,
        inconsistent_column_types,
        redundant_indexes,
        nullable_unique,
        incrementing_columns,
        single_column_tables,
        too_many_lobs,
        hub_tables,
    )
}

__all__ = ["RULES", "SEVERITIES", "Finding", "LintSettings", "Severity", "lint"]


def lint(schema: Schema, rules: Iterable[str] | None = None, settings: LintSettings | None = None) -> list[Finding]:
    """Run the named rules (default: all) and return their findings, most severe first.

    Raises
    ------
    NotFoundError
        For a rule name that is not in :data:`RULES`.
    """
    names = list(RULES) if rules is None else list(rules)
    unknown = sorted(set(names) - set(RULES))
    if unknown:
        raise NotFoundError(f"unknown lint rule: {', '.join(unknown)} (known: {', '.join(RULES)})")
    findings = [
        f
        for name in tqdm(names, desc="lint", unit="rule", disable=None, leave=False)
        for f in RULES[name](schema, settings)
    ]
    return sorted(findings, key=Finding.sort_key)
