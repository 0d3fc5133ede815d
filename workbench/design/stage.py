"""The Design stage as the notebook runs it: find (or build) the inputs, design, write, check.

The earlier stages leave ``schema.json``, ``workload.json`` and ``decomposition.yaml`` in the
report folder. When one is missing (the notebook run on its own), it is built here through the
same library calls the earlier stages use: the schema by introspecting the database (read-only)
and the workload by :func:`workbench.workload.stage.assess_workload` (logs when given, the
simulated application for the sample database, else none), both saved as those stages would;
the decomposition by :func:`workbench.decompose.decompose` with its defaults, kept in memory
(``decomposition.yaml`` is the architect's to review and edit in the Decompose stage).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench import serde
from workbench.decompose.model import Decomposition, load_decomposition
from workbench.design.ddl import apply
from workbench.design.model import Design
from workbench.design.pipeline import design
from workbench.design.write import write_design
from workbench.schema import Schema
from workbench.workload.model import Workload


@dataclass
class Inputs:
    """The three inputs and, for each, where it came from (a file, or how it was built)."""

    schema: Schema
    workload: Workload | None
    decomposition: Decomposition
    origin: dict[str, str] = field(default_factory=dict)


@dataclass
class StageResult:
    """What the notebook shows: the design, its inputs, the files written and the checks."""

    design: Design
    inputs: Inputs
    folder: Path
    paths: dict[str, Path]
    checks: dict[str, bool]


def inputs(db_url: str, out_dir: str | Path, *, schema_path: str | Path | None = None,
           workload_path: str | Path | None = None, decomposition_path: str | Path | None = None,
           schemas: Sequence[str] | None = None, workload_logs: Sequence[str] = (),
           workload_format: str | None = None) -> Inputs:
    """The stage's inputs from ``out_dir`` (or the given paths), built when missing.

    Parameters
    ----------
    schemas : the schemas to introspect when there is no ``schema.json`` (None: all).
    workload_logs, workload_format : query logs to assess when there is no ``workload.json``.
    """
    from workbench.workload.stage import schema_and_workload

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    origin: dict[str, str] = {}
    schema, workload = schema_and_workload(db_url, out, origin, schema_path=schema_path, workload_path=workload_path,
                                           schemas=schemas, logs=workload_logs, log_format=workload_format,
                                           without="designed from the schema alone")
    path = Path(decomposition_path) if decomposition_path else out / "decomposition.yaml"
    if path.exists():
        decomposition, origin["decomposition"] = load_decomposition(path), path.name
    else:
        from workbench.decompose import decompose

        decomposition = decompose(schema, workload, stability=0, progress=False)
        origin["decomposition"] = "decomposed now with the defaults (not saved: review it in the Decompose stage)"
    return Inputs(schema, workload, decomposition, origin)


def checks(result: Design, schema: Schema, folder: Path) -> dict[str, bool]:
    """Invariants every design must meet, each checked independently of how it was built."""
    owned = [k for s in result.services.values() for k in s.owned]
    names = {s: {t.table.name for t in svc.tables} for s, svc in result.services.items()}
    with tempfile.TemporaryDirectory() as tmp:
        created = apply(result, tmp)
        runs = sorted(created) == sorted(result.services)
    return {
        "every table in exactly one service (or listed as unplaced)":
            sorted(owned + result.unplaced) == sorted(t.key for t in schema.base_tables),
        "no foreign key crosses a service in the DDL":
            all(fk.referred_table in names[s] for s, svc in result.services.items() for t in svc.tables
                for fk in t.table.foreign_keys),
        "every cross-boundary dependency has a mechanism and a reason":
            all(d.mechanism and d.reason for d in result.dependencies),
        "every service has an outbox and an idempotency table":
            all({"outbox", "inbox"} <= {t.role for t in svc.tables} for svc in result.services.values()),
        "the DDL executes (SQLite, one file per service)": runs,
        "design.json reads back identical": (folder / "design.json").exists() and
            serde.load(Design, folder / "design.json") == result,
    }


def run(db_url: str, out_dir: str | Path, *, dialects: Iterable[str] = ("postgresql", "mysql", "sqlite"),
        rules: Mapping[str, Any] | None = None, prefix: str = "", schema_path: str | Path | None = None,
        workload_path: str | Path | None = None, decomposition_path: str | Path | None = None,
        schemas: Sequence[str] | None = None, workload_logs: Sequence[str] = (),
        workload_format: str | None = None) -> StageResult:
    """Design the decomposition found in ``out_dir`` and write ``out_dir/design/``."""
    found = inputs(db_url, out_dir, schema_path=schema_path, workload_path=workload_path,
                   decomposition_path=decomposition_path, schemas=schemas, workload_logs=workload_logs,
                   workload_format=workload_format)
    result = design(found.schema, found.decomposition, found.workload, rules=rules, prefix=prefix)
    folder = Path(out_dir) / "design"
    paths = write_design(result, folder, dialects)
    return StageResult(result, found, folder, paths, checks(result, found.schema, folder))
