"""The same column name with different types in different tables."""

from __future__ import annotations

from collections import Counter, defaultdict

from workbench.assess.coltypes import ColumnType, parse_type
from workbench.assess.lint.finding import Finding, Severity
from workbench.assess.lint.settings import DEFAULT, LintSettings
from workbench.assess.naming import snake
from workbench.schema import Schema


def inconsistent_column_types(schema: Schema, settings: LintSettings | None = None) -> list[Finding]:
    """Report each table whose type for a shared column name departs from the most common one.

    A different family (``customer_id`` as text here, integer elsewhere) is a warning: values
    will not join or convert cleanly across future service boundaries. Same family, different
    size (``INT`` vs ``BIGINT``, ``VARCHAR(40)`` vs ``VARCHAR(80)``) is info. Generic names
    (``name``, ``status``...) are skipped: they mean different things in different tables.
    """
    settings = settings or DEFAULT
    uses: dict[str, list[tuple[str, str, ColumnType]]] = defaultdict(list)
    for t in schema.base_tables:
        for c in t.columns:
            name = snake(c.name)
            if name not in settings.generic_column_names:
                uses[name].append((t.key, c.name, parse_type(c.type, schema.dialect)))
    found = []
    for _name, occurrences in sorted(uses.items()):
        counts = Counter(ct.canonical for _, _, ct in occurrences)
        if len(counts) < 2:
            continue
        usual, _ = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        usual_type = next(ct for _, _, ct in occurrences if ct.canonical == usual)
        others = sorted(key for key, _, ct in occurrences if ct.canonical == usual)
        for key, column, ct in occurrences:
            if ct.canonical == usual:
                continue
            severity: Severity = "warning" if ct.family != usual_type.family else "info"
            example = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            found.append(
                Finding(
                    "inconsistent_column_types",
                    severity,
                    key,
                    [column],
                    f"{column} is {ct.canonical} here but {usual} in {len(others)} other table(s) ({example})",
                )
            )
    return found
