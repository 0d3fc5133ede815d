"""``workbench drift``: the live per-service schemas against the design.

The comparison is Alembic's autogenerate (``compare_metadata``), configured exactly like each
service's Alembic environment (:func:`workbench.migrate.versions.autogenerate_options`): only the
service's namespace, none of the workbench's own tables, UUID-as-CHAR(32) tolerated. Its "diff
directives" become one readable :class:`Drift` each. Directions read from the design's side:
``missing_*`` is in the design and not in the database, ``extra_*`` the opposite.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from workbench import serde
from workbench.db import friendly_errors
from workbench.design.model import Design, load_design
from workbench.migrate.target import Target
from workbench.migrate.versions import autogenerate_options

KINDS = {
    "add_table": "missing_table", "remove_table": "extra_table",
    "add_column": "missing_column", "remove_column": "extra_column",
    "add_index": "missing_index", "remove_index": "extra_index",
    "add_constraint": "missing_constraint", "remove_constraint": "extra_constraint",
    "add_fk": "missing_foreign_key", "remove_fk": "extra_foreign_key",
    "modify_type": "column_type", "modify_nullable": "column_nullable",
    "modify_default": "column_default", "modify_comment": "column_comment",
    "add_table_comment": "table_comment", "remove_table_comment": "table_comment",
}  # fmt: skip
"""Alembic's directive -> the drift kind reported."""


@dataclass
class Drift:
    """One difference between a service's live schema and its design.

    Attributes
    ----------
    kind : one of :data:`KINDS`' values (``missing_table``, ``extra_column``, ``column_type``, ...).
    table : the table concerned.
    name : the column, index or constraint concerned (None for a whole table).
    detail : what the design says and what the database has.
    """

    service: str
    kind: str
    table: str
    name: str | None = None
    detail: str = ""


@dataclass
class DriftReport:
    """Every service's drift; ``missing`` lists services whose namespace is not on the target at all."""

    FORMAT: ClassVar[serde.Format] = serde.Format("drift")

    target: str
    drifts: list[Drift] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.drifts and not self.missing


def _columns(item: Any) -> str:
    cols = getattr(item, "columns", None)
    names = [c.name for c in cols] if cols is not None else []
    return ", ".join(names)


def _drift(service: str, diff: Any) -> Drift:
    """One Alembic directive as a :class:`Drift`."""
    op = diff[0]
    kind = KINDS.get(op, op)
    if op in ("add_table", "remove_table"):
        table = diff[1]
        return Drift(service, kind, table.name, None, f"{len(table.columns)} columns")
    if op in ("add_column", "remove_column"):
        column = diff[3]
        return Drift(service, kind, diff[2], column.name, str(column.type))
    if op in ("add_index", "remove_index"):
        ix = diff[1]
        return Drift(service, kind, ix.table.name, ix.name, f"{'unique ' if ix.unique else ''}({_columns(ix)})")
    if op in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        c = diff[1]
        detail = f"({_columns(c)})"
        if isinstance(c, sa.ForeignKeyConstraint):
            detail += f" -> {c.referred_table.name}({', '.join(e.column.name for e in c.elements)})"
        return Drift(service, kind, c.table.name, c.name, detail)
    if op.startswith("modify_") and op != "modify_table_comment":
        _, _schema, table, column, _existing, old, new = diff
        return Drift(service, kind, table, column, f"design: {new}; database: {old}")
    table = getattr(diff[1], "name", str(diff[1])) if len(diff) > 1 else ""
    return Drift(service, kind, table, None, op)


def _flatten(diffs: list[Any]) -> list[Any]:
    out = []
    for d in diffs:
        out += d if isinstance(d, list) else [d]
    return out


def service_drift(conn: sa.Connection, design: Design, service: str) -> list[Drift]:
    """The drift of one service, compared on ``conn`` (the service's database)."""
    options = autogenerate_options(design, service, None, conn.dialect.name)
    metadata = options.pop("target_metadata")
    options.pop("version_table_schema")
    context = MigrationContext.configure(conn, opts=options)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Cannot correctly sort tables")  # FK cycles: expected
        found = [_drift(service, d) for d in _flatten(compare_metadata(context, metadata))]
    return sorted(found, key=lambda d: (d.table, d.kind, d.name or ""))


def drift(target: str | Path, design: Design | str | Path, *, services: Iterable[str] | None = None) -> DriftReport:
    """Compare each service's live schema on ``target`` with the design.

    Raises
    ------
    ConnectError
        When the target cannot be reached (URL shown masked).
    """
    if not isinstance(design, Design):
        design = load_design(design)
    names = sorted(services) if services is not None else sorted(design.services)
    where = Target.parse(target)
    report = DriftReport(where.display)
    try:
        with friendly_errors(where.spec if where.folder is None else "sqlite://"):
            for name in names:
                design.service(name)
                if where.folder is not None:
                    if not where.path(design, name).exists():
                        report.missing.append(name)
                        continue
                elif not where.exists(design, name):
                    report.missing.append(name)
                    continue
                with where.engine(design, name).connect() as conn:
                    report.drifts += service_drift(conn, design, name)
    finally:
        where.dispose()
    return report
