"""The workload step of the Assess stage: what the notebook calls, so its cells stay one line each.

A client engagement ingests its own logs; the sample database, which has none, gets its simulated
workload. Either way the result is saved as ``workload.json`` beside ``schema.json`` for the next
stages.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from workbench import serde
from workbench.schema import Schema
from workbench.workload.ingest import ingest
from workbench.workload.model import Workload

SAMPLE_STATEMENTS = 20_000
"""Statements simulated for the sample (a few seconds; enough for every operation to occur)."""


def sample_domains(schema: Schema) -> dict[str, str] | None:
    """The sample's table -> domain answer key when ``schema`` is the sample database, else None."""
    from workbench.sample.tables import DOMAINS

    keys = {t.key for t in schema.tables}
    return dict(DOMAINS) if set(DOMAINS) <= keys else None


def assess_workload(
    schema: Schema,
    out_dir: str | Path | None = None,
    logs: Sequence[str] = (),
    log_format: str | None = None,
    statements: int = SAMPLE_STATEMENTS,
    seed: int = 7,
) -> Workload:
    """The workload of the database ``schema`` describes, saved to ``out_dir/workload.json``.

    From ``logs`` in ``log_format`` when given; for the sample database without logs, from its
    simulated workload (PostgreSQL csvlog); otherwise an empty workload (no logs, no evidence).
    """
    if logs:
        if not log_format:
            from workbench.errors import WorkbenchError

            raise WorkbenchError("workload logs given without their format (workload_format)")
        workload = ingest(list(logs), log_format, schema=schema, progress=False)
    elif sample_domains(schema) is not None:
        from workbench.workload.simlog import write_logs

        with tempfile.TemporaryDirectory() as tmp:
            path = write_logs(tmp, statements=statements, seed=seed, formats=["pg_csvlog"])["pg_csvlog"]
            workload = ingest([str(path)], "pg_csvlog", schema=schema, progress=False)
        workload.sources = [f"simulated sample workload ({statements:,} statements, seed {seed})"]
    else:
        workload = Workload(dialect=schema.dialect)
    if out_dir is not None:
        serde.save(workload, Path(out_dir) / "workload.json")
    return workload


def schema_and_workload(db_url: str, out_dir: str | Path, origin: dict[str, str], *,
                        schema_path: str | Path | None = None, workload_path: str | Path | None = None,
                        schemas: Sequence[str] | None = None, logs: Sequence[str] = (),
                        log_format: str | None = None, without: str = "from the schema alone"
                        ) -> tuple[Schema, Workload | None]:
    """The later stages' first inputs: ``schema.json`` and ``workload.json`` from ``out_dir`` (or the
    given paths), introspected (read-only) or assessed and saved when missing. Records in ``origin``
    where each came from (``without``: what a missing workload means for the stage); the workload is
    None when it holds no statement and no transaction."""
    out = Path(out_dir)
    path = Path(schema_path) if schema_path else out / "schema.json"
    if path.exists():
        schema, origin["schema"] = serde.load(Schema, path), path.name
    else:
        from workbench.introspect import introspect

        schema = introspect(db_url, schemas=list(schemas) if schemas else None)
        serde.save(schema, out / "schema.json")
        origin["schema"] = "introspected now (read-only), saved as schema.json"
    path = Path(workload_path) if workload_path else out / "workload.json"
    if path.exists():
        workload, origin["workload"] = serde.load(Workload, path), path.name
    else:
        workload = assess_workload(schema, out, logs=list(logs), log_format=log_format)
        origin["workload"] = (", ".join(workload.sources) + ", saved as workload.json") if workload.statements \
            else f"none: {without}"
    return schema, workload if workload.statements or workload.transactions else None


def headline(workload: Workload, domains: Mapping[str, str] | None = None) -> str:
    """Two lines of figures for the notebook (deterministic: checked by nbval).

    >>> headline(Workload(statements=0))
    'no workload: give workload_logs and workload_format to assess one'
    """
    if not workload.statements:
        return "no workload: give workload_logs and workload_format to assess one"
    tables = {t for s in workload.templates for t in s.tables_read + s.tables_written}
    transactions = sum(t.count for t in workload.transactions)
    line = (f"{workload.statements:,} statements, {len(workload.templates):,} templates, {len(tables)} tables touched, "
            f"{transactions:,} transactions")  # fmt: skip
    if domains and workload.transactions:
        multi = sum(t.count for t in workload.transactions if len({domains.get(x, "?") for x in t.tables_written}) > 1)
        line += f"\n{multi:,} transactions ({multi / max(1, transactions):.0%}) write tables of more than one domain"
    return line
