"""Thresholds and word lists the rules share, in one place so a team can tune them per database."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LintSettings:
    """Knobs of the lint rules; the defaults suit a typical OLTP schema.

    Attributes
    ----------
    generic_column_names : names too common to compare across tables (``inconsistent_column_types``).
    discriminator_suffixes : name endings of a polymorphic association's type column (``entity_type``).
    max_lobs : a table with more large-object columns than this is reported (``too_many_lobs``).
    hub_min_referrers : tables referring to a table before it can be a hub.
    hub_min_communities : FK-graph communities those referrers must span (``hub_tables``).
    max_cycle_length, max_cycles : bounds of the cycle search (``fk_cycles``).
    """

    generic_column_names: frozenset[str] = frozenset(
        {"id", "name", "title", "description", "code", "type", "status", "value", "notes", "comment", "label"}
    )
    discriminator_suffixes: tuple[str, ...] = ("type", "table", "kind", "class", "model")
    max_lobs: int = 2
    hub_min_referrers: int = 5
    hub_min_communities: int = 3
    max_cycle_length: int = 8
    max_cycles: int = 100


DEFAULT = LintSettings()
