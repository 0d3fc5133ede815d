"""Tables with many large-object columns (unbounded text, blobs, XML)."""

from __future__ import annotations

from workbench.assess.coltypes import parse_type
from workbench.assess.lint.finding import Finding
from workbench.assess.lint.settings import DEFAULT, LintSettings
from workbench.schema import Schema


def too_many_lobs(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """Info: wide rows make the bulk copy, CDC stream and checksums of a migration slow."""
    settings = settings or DEFAULT
    found = []
    for t in schema.base_tables:
        lobs = [c.name for c in t.columns if parse_type(c.type, schema.dialect).lob]
        if len(lobs) > settings.max_lobs:
            found.append(
                Finding(
                    "too_many_lobs",
                    "info",
                    t.key,
                    lobs,
                    f"{len(lobs)} large-object columns ({', '.join(lobs)}): heavy rows slow the copy, CDC and checks "
                    "of a move",
                )
            )
    return found
