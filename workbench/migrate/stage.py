"""The Migrate stage as the notebook runs it: find (or build) the design, migrate, verify, check.

The design comes from ``out_dir/design/`` (the Design stage's output); when it is missing, the
Design stage runs now through its own library call. The target defaults to SQLite files under
``out_dir/migration/target/`` so the stage runs anywhere (rebuilt when the design changed since it
was filled: the stage owns that folder); a server URL migrates there instead, resuming whatever
a previous run left. The results are written as ``out_dir/migration.json`` and ``out_dir/verify.json``.
"""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench import serde
from workbench.design.model import Design, load_design
from workbench.errors import MigrationError
from workbench.migrate import versions
from workbench.migrate.run import MigrationResult, migrate
from workbench.migrate.target import Target
from workbench.migrate.verify import VerifyReport, verify


@dataclass
class StageResult:
    """What the notebook shows."""

    design: Design
    design_dir: Path
    origin: str
    target: str
    migration: MigrationResult
    verification: VerifyReport
    checks: dict[str, bool]


def find_design(db_url: str, out_dir: str | Path, design_dir: str | Path | None = None,
                **design_options: Any) -> tuple[Design, Path, str]:
    """The design in ``design_dir`` (default ``out_dir/design``), designed now if missing; (design, folder, origin)."""
    folder = Path(design_dir) if design_dir else Path(out_dir) / "design"
    if (folder / "design.json").exists():
        return load_design(folder), folder, "design/design.json"
    from workbench.design.stage import run as design_stage

    result = design_stage(db_url, out_dir, **design_options)
    return result.design, result.folder, "designed now (Design stage defaults), written to design/"


def default_target(out_dir: str | Path) -> Path:
    """Where the stage migrates when no target is given: one SQLite file per service."""
    return Path(out_dir) / "migration" / "target"


def fresh_default_target(out_dir: str | Path, d: Design) -> Path:
    """The default target, emptied first when it holds another design's migration (the stage owns it)."""
    folder = default_target(out_dir)
    marker = folder.parent / "design.sha256"
    digest = hashlib.sha256(serde.dumps(d).encode()).hexdigest()
    if folder.exists() and (not marker.exists() or marker.read_text().strip() != digest):
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    serde.write_text(marker, digest + "\n")
    return folder


def seen_from(text: str, folder: str | Path) -> str:
    """A path inside the report ``folder`` written relative to it (the folder can be moved or mailed);
    anything else (a server URL, a path elsewhere) as it is.

    >>> seen_from("/r/acme/migration/target/crm.sqlite", "/r/acme"), seen_from("postgresql://h/db crm", "/r/acme")
    ('migration/target/crm.sqlite', 'postgresql://h/db crm')
    """
    base = os.path.abspath(folder)
    if os.path.isabs(text) and os.path.commonpath([base, os.path.abspath(text)]) == base:
        return os.path.relpath(text, base)
    return text


def _migrate(db_url: str, where: str, d: Design, names: list[str] | None, chunk_size: int, folder: Path | None,
             progress: bool | None) -> MigrationResult:
    """The migration's result, also when a table stopped (the notebook shows why instead of failing)."""
    try:
        return migrate(db_url, where, d, services=names, chunk_size=chunk_size, design_dir=folder,
                       alembic=folder is not None, progress=progress)
    except MigrationError as exc:
        if exc.result is None:
            raise
        return exc.result


def run(db_url: str, out_dir: str | Path, *, target: str | None = None, design_dir: str | Path | None = None,
        services: Iterable[str] | None = None, chunk_size: int = 20_000, progress: bool | None = None,
        **design_options: Any) -> StageResult:
    """Migrate the design found in ``out_dir`` into ``target``, verify it, and check the invariants."""
    d, folder, origin = find_design(db_url, out_dir, design_dir, **design_options)
    where = str(target) if target else str(fresh_default_target(out_dir, d))
    names = sorted(services) if services else None
    migration = _migrate(db_url, where, d, names, chunk_size, folder, progress)
    report = verify(db_url, where, d, services=names, progress=progress)
    out = Path(out_dir)
    saved_migration, saved_report = copy.deepcopy(migration), copy.deepcopy(report)
    saved_migration.target = saved_report.target = seen_from(migration.target, out)
    for s in saved_migration.services:
        s.where = seen_from(s.where, out)
    serde.save(saved_migration, out / "migration.json")
    serde.save(saved_report, out / "verify.json")
    complete = [s.service for s in migration.services if s.status == "complete"]
    again = _migrate(db_url, where, d, complete, chunk_size, None, False) if complete else None
    parsed = Target.parse(where)
    drift_free = True
    for s in migration.services:
        if s.status != "complete":
            continue
        try:
            versions.check(versions.environment_dir(folder, d, s.service), parsed.url(d, s.service))
        except Exception:  # noqa: BLE001 - any failure of the check (or no environment yet) fails it here
            drift_free = False
    checks = {
        "every service complete (schema, rows, foreign keys, identities, Alembic baseline)": migration.ok,
        "every table equal to the legacy rows (counts and checksums)": all(t.status == "equal" for t in report.tables),
        "no foreign key broken inside a service": all(f.violations == 0 for f in report.foreign_keys),
        "no reference to another service dangles that did not dangle in the legacy database":
            not any(r.new for r in report.references),
        "a rerun of the complete services copies nothing (idempotent)": again is not None and again.copied == 0,
        "alembic check finds no drift in any complete service": drift_free,
    }
    return StageResult(d, folder, origin, parsed.display, migration, report, checks)
