"""A lint finding: one table, one rule, one line a person can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
"""Most severe first. ``error``: blocks a safe split as it stands; ``warning``: will cost work in the
split; ``info``: worth knowing while drawing the boundaries."""


@dataclass
class Finding:
    """What a rule found.

    Attributes
    ----------
    rule : the rule's name (its module's name).
    severity : ``error``, ``warning`` or ``info``.
    table : the table key the finding is about.
    columns : the columns involved, in the table's order where that matters.
    message : one line saying what is wrong and why it matters for decomposition.
    """

    rule: str
    severity: Severity
    table: str
    columns: list[str] = field(default_factory=list)
    message: str = ""

    def sort_key(self) -> tuple[int, str, str, list[str], str]:
        """Most severe first, then by rule, table, columns and message: stable across runs."""
        return (SEVERITIES.index(self.severity), self.rule, self.table, self.columns, self.message)
