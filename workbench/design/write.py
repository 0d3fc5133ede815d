"""Write the ``design/`` folder: the artifact, DDL per dialect, the catalog and the mechanisms' files.

Layout (all text, deterministic, nothing time-dependent)::

    design/
      README.md                     overview with links to everything below
      design.json                   the artifact (workbench.design.model.Design)
      catalog.csv, catalog.md       the cross-boundary dependency catalog
      events.csv                    the events each service publishes
      sagas.md                      per saga: steps, compensations, Mermaid sequence
      ddl/<dialect>/<namespace>.sql per service: schema, tables, indexes, comments
      ddl/<dialect>/fill_<namespace>.sql   INSERT ... SELECT for its read models (legacy tables visible)
      projections/<namespace>.<read model>.sql   the initial fill as a SELECT on the legacy database
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from tqdm import tqdm

from workbench import serde
from workbench.design.ddl import script
from workbench.design.frames import (
    dependencies_frame,
    events_frame,
    logic_frame,
    markdown,
    mechanism_summary,
    projections_frame,
    saga_frame,
    services_frame,
)
from workbench.design.mechanisms import MECHANISMS
from workbench.design.model import Design
from workbench.design.projections import insert_sql
from workbench.design.schemas import check_dialect, service_metadata
from workbench.errors import TargetError
from workbench.names import md_code, md_fence, md_text, sql_comment


def ddl_path(dialect: str, namespace: str) -> str:
    """Where a service's DDL goes inside the design folder (relative, for links)."""
    return f"ddl/{check_dialect(dialect)}/{namespace}.sql"


def _fill_script(design: Design, dialect: str, service: str) -> str | None:
    projections = [p for p in design.projections if p.service == service]
    if not projections:
        return None
    metadata = service_metadata(design, service, dialect)
    svc = design.service(service)
    parts = [f"-- Initial fill of {service}'s read models ({dialect}), when the legacy tables are visible from "
             f"{svc.namespace}; otherwise run projections/*.sql on the legacy database and load the result."]
    for p in projections:
        key = f"{svc.namespace}.{p.name}" if f"{svc.namespace}.{p.name}" in metadata.tables else p.name
        parts.append(sql_comment(f"-- {p.name} ({p.dependency})") + "\n" + insert_sql(p, metadata.tables[key], dialect)
                     + ";")
    return "\n\n".join(parts) + "\n"


def _readme(design: Design, dialects: list[str]) -> str:
    lines = ["# Target design: a schema per service", "",
             f"Source: {md_code(design.source)} ({md_text(design.source_dialect)}); {len(design.services)} services, "
             f"{len(design.dependencies)} cross-boundary dependencies"
             + (f", from a workload of {design.statements:,} statements." if design.statements else
                " (schema only: no workload)."), "",
             "## Services", "", markdown(services_frame(design)), "", "DDL per service:", ""]
    for s in design.services.values():
        links = ", ".join(f"[{d}]({ddl_path(d, s.namespace)})" for d in dialects)
        lines.append(f"- **{md_text(s.name)}** ({md_code(s.namespace)}): {links}")
    lines += ["", "## Mechanisms", "", markdown(mechanism_summary(design)), ""]
    lines += [f"- `{m}`: {text}" for m, text in MECHANISMS.items()]
    lines += ["", "The full catalog, with evidence and reasons: [catalog.md](catalog.md) ([csv](catalog.csv)); "
              "events: [events.csv](events.csv); sagas: [sagas.md](sagas.md).", ""]
    if design.projections:
        lines += ["## Read models", "", markdown(projections_frame(design).drop(columns=["notes"])), ""]
    if design.logic:
        lines += ["## Work to do: logic inside the legacy database", "",
                  f"Triggers, stored routines and materialized views, assigned to the services whose tables they "
                  f"touch. On a {design.source_dialect} target, `workbench migrate` recreates those in the "
                  "'recreated in' column; the rest is work for the teams.", "",
                  markdown(logic_frame(design)), ""]
    if design.unplaced:
        lines += ["## Tables no service owns", "", ", ".join(md_text(t) for t in design.unplaced), ""]
    if design.notes:
        lines += ["## Notes", "", *[f"- {md_text(n)}" for n in design.notes], ""]
    lines += ["## Thresholds", "", *[f"- {md_code(k)} = {md_text(v)}" for k, v in design.rules.items()], ""]
    return "\n".join(lines)


def _sagas(design: Design) -> str:
    lines = ["# Sagas", ""]
    if not design.sagas:
        lines.append("No transaction writes several services in a way that needs a saga.")
    for s in design.sagas:
        lines += [f"## {md_text(s.name)} ({md_text(s.style)})", "", f"{md_code(s.dependency)}: {s.count:,} "
                  f"transactions; initiator **{md_text(s.initiator)}**"
                  + (f"; {md_code(s.pending_state)} rows start PENDING" if s.pending_state else "") + ".",
                  "", markdown(saga_frame(s)), "", md_fence(s.mermaid, "mermaid"), ""]
    return "\n".join(lines)


def write_design(design: Design, out: str | Path, dialects: Iterable[str] = ("postgresql",),
                 overwrite: bool = True) -> dict[str, Path]:
    """Write the design folder; returns the main files by name (``design``, ``readme``, ``catalog``, ...).

    Parameters
    ----------
    dialects : target dialects to write DDL for (see :data:`workbench.design.schemas.DIALECTS`).
    overwrite : replace the generated files of an existing folder (other files are left alone).
    """
    out = Path(out)
    names = [check_dialect(d) for d in dialects]
    if out.exists() and not out.is_dir():
        raise TargetError(f"not a folder: {out}")
    ours = (out / "design.json").exists()
    if ours and not overwrite:
        raise TargetError(f"a design already exists in {out} (overwrite=False)")
    for sub in ("ddl", "projections"):
        if (out / sub).is_dir():
            if not ours:
                raise TargetError(f"{out / sub} exists but {out} holds no design.json: choose an empty folder")
            shutil.rmtree(out / sub)  # stale files of services that no longer exist must not linger
    out.mkdir(parents=True, exist_ok=True)
    paths = {"design": serde.save(design, out / "design.json")}
    catalog = dependencies_frame(design)
    paths["catalog"] = serde.save(catalog, out / "catalog.csv")
    serde.write_text(out / "catalog.md", "# Cross-boundary dependencies\n\n" + markdown(catalog) + "\n")
    paths["events"] = serde.save(events_frame(design), out / "events.csv")
    paths["sagas"] = serde.write_text(out / "sagas.md", _sagas(design))
    jobs = [(dialect, svc) for dialect in names for svc in design.services.values()]
    for dialect, svc in tqdm(jobs, desc="DDL", unit=" script", disable=None, leave=False):
        folder = out / "ddl" / dialect
        folder.mkdir(parents=True, exist_ok=True)
        serde.write_text(out / ddl_path(dialect, svc.namespace), script(design, svc.name, dialect))
        fill = _fill_script(design, dialect, svc.name)
        if fill:
            serde.write_text(folder / f"fill_{svc.namespace}.sql", fill)
    if design.projections:
        (out / "projections").mkdir(exist_ok=True)
        for p in design.projections:
            ns = design.service(p.service).namespace
            header = sql_comment(f"-- {p.name} in {p.service} ({p.dependency}): initial fill, run on the legacy "
                                 "database") + "\n"
            serde.write_text(out / "projections" / f"{ns}.{p.name}.sql", header + p.fill_sql + ";\n")
    paths["readme"] = serde.write_text(out / "README.md", _readme(design, names))
    return paths
