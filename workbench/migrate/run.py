"""``workbench migrate``: build every service's schema on the target and copy the legacy rows into it.

Per service, in order, each step checkpointed on the target (see :mod:`~workbench.migrate.checkpoint`):

1. ``ddl`` -- the namespace and its tables (:mod:`~workbench.migrate.create`);
2. ``copy:<table>`` -- each table the design fills: owned tables, replicas, read models
   (:mod:`~workbench.migrate.copy`);
3. ``fk`` -- every foreign key inside the service is checked on the copied rows (legacy rows that
   break one stop the service, naming the first); PostgreSQL then declares them;
4. ``identity`` -- PostgreSQL identity sequences, and the sequences of kept ``nextval`` defaults,
   restarted above the largest copied value (MariaDB and SQLite do this on their own);
5. ``logic`` -- on a target of the source's dialect, the legacy triggers and routines that move with
   the service recreated in its schema, after the copy so that none fires on it
   (:mod:`~workbench.migrate.logic`);
6. ``alembic`` -- the service's Alembic environment written under the design folder and stamped
   with its baseline (:mod:`~workbench.migrate.versions`).

A legacy object that cannot be read (a materialized view never populated, a table the login may
not read) fails its table with the object and the legacy database named, and the run goes on.

Rerunning after a crash, a kill or a fix continues where the checkpoints say; a finished migration
reruns as a no-op. The legacy database is only ever read, through a read-only session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa

from workbench import serde
from workbench.db import friendly_errors, mask_url, scrub, source_engine
from workbench.design import ddl
from workbench.design.model import Design, load_design
from workbench.design.schemas import sequence_columns
from workbench.errors import MigrationError, WorkbenchError
from workbench.migrate import checkpoint, create, logic, versions
from workbench.migrate.copy import UnitStopped, copy_unit, step_name
from workbench.migrate.integrity import describe, orphans
from workbench.migrate.target import Target
from workbench.migrate.units import units

POST_STEPS = ("fk", "identity", "logic", "alembic")


class SourceReadError(MigrationError):
    """The legacy database refused a read (raised in place of the driver's error, which would name no side)."""


@dataclass
class TableResult:
    """One table of a service after a run.

    ``status``: ``copied`` (completed by this run), ``done`` (complete before it) or ``failed``
    (``message`` names the refused row); a failed table does not stop the service's other tables.
    """

    service: str
    table: str
    role: str
    origin: str
    rows: int = 0
    copied: int = 0
    chunks: int = 0
    resumed: bool = False
    status: str = "pending"
    message: str | None = None


@dataclass
class ServiceResult:
    """One service after a run: where it lives, whether its schema was created now, its final steps."""

    service: str
    namespace: str
    where: str
    created: bool = False
    steps: list[str] = field(default_factory=list)
    status: str = "pending"
    message: str | None = None


@dataclass
class MigrationResult:
    """What ``workbench migrate`` did (no timings: the artifact stays reproducible)."""

    FORMAT: ClassVar[serde.Format] = serde.Format("migration")

    source: str
    target: str
    dialect: str
    services: list[ServiceResult] = field(default_factory=list)
    tables: list[TableResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.status == "complete" for s in self.services)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def copied(self) -> int:
        return sum(t.copied for t in self.tables)

    def failures(self) -> list[str]:
        """One line per failed table or service."""
        out = [f"{t.service}.{t.table}: {t.message}" for t in self.tables if t.status == "failed"]
        out += [f"{s.service}: {s.message}" for s in self.services if s.status == "failed" and s.message]
        return out


def _fk_step(target: Target, design: Design, service: str, engine: sa.Engine) -> None:
    schema = target.schema(design, service)
    svc = design.service(service)
    with engine.connect() as conn:
        for tt in svc.tables:
            for fk in tt.table.foreign_keys:
                found = orphans(conn, (tt.table.name, schema), fk.columns, (fk.referred_table, schema),
                                fk.referred_columns, tt.table.primary_key)
                if found.count:
                    raise MigrationError(
                        f"{service}.{tt.table.name}: {found.count} row(s) break the foreign key "
                        f"({', '.join(fk.columns)}) -> {fk.referred_table}({', '.join(fk.referred_columns)}), "
                        f"e.g. the row with key {describe(found.sample)}: fix the legacy rows or drop the key from "
                        "the design, then rerun")
    with engine.begin() as conn:
        if target.dialect == "postgresql":
            inspector = sa.inspect(conn)
            existing = {(tt.table.name, tuple(fk["constrained_columns"])) for tt in svc.tables
                        for fk in inspector.get_foreign_keys(tt.table.name, schema=schema)}
            for statement in create.add_foreign_key_statements(design, service, target.dialect, existing):
                ddl.execute(conn, statement)
        checkpoint.finish(conn, schema, "fk")


def _identity_step(target: Target, design: Design, service: str, engine: sa.Engine) -> None:
    schema = target.schema(design, service)
    with engine.begin() as conn:
        if target.dialect == "postgresql":
            prep = ddl.dialect_of("postgresql").identifier_preparer  # names as written: a '%' stays one in the value
            numbered = [(tt.table.name, tt.identity) for tt in design.service(service).tables if tt.identity]
            numbered += [(t, c) for _, t, c in sequence_columns(design, service, target.dialect)]
            for name, column_name in numbered:
                # names only ever as quoted identifiers (Core) or bound values: never pasted into SQL text
                t = sa.table(name, sa.column(column_name), schema=schema)
                qualified = f"{prep.quote_schema(schema or '')}.{prep.quote(name)}"
                highest = sa.select(sa.func.coalesce(sa.func.max(t.c[column_name]), 0) + 1).scalar_subquery()
                sequence = sa.func.pg_get_serial_sequence(sa.literal(qualified), sa.literal(column_name))
                conn.execute(sa.select(sa.func.setval(sequence, highest, sa.false())))
        checkpoint.finish(conn, schema, "identity")


def _logic_step(target: Target, design: Design, service: str, engine: sa.Engine) -> list[str]:
    with engine.begin() as conn:
        created = logic.recreate(conn, design, service, target.dialect)
        checkpoint.finish(conn, target.schema(design, service), "logic")
    return created


def _alembic_step(target: Target, design: Design, service: str, engine: sa.Engine, design_dir: Path) -> None:
    folder = versions.write_environment(design, service, design_dir, target.dialect, target.url(design, service))
    versions.stamp(folder, target.url(design, service))
    with engine.begin() as conn:
        checkpoint.finish(conn, target.schema(design, service), "alembic")


def _migrate_service(source: sa.Engine, target: Target, design: Design, service: str, result: MigrationResult,
                     chunk_size: int, design_dir: Path | None, progress: bool | None) -> None:
    svc = design.service(service)
    record = ServiceResult(service, svc.namespace, target.where(design, service))
    result.services.append(record)
    schema = target.schema(design, service)
    record.created = create.prepare(target, design, service)
    engine = target.engine(design, service, migrating=True)
    with engine.connect() as conn:
        state = checkpoint.read(conn, schema)
    failed = False
    for unit in units(design, service, target.dialect):
        row = TableResult(service, unit.table, unit.role, unit.origin)
        result.tables.append(row)
        try:
            outcome = copy_unit(unit, source, engine, target.dialect, schema, chunk_size, progress,
                                state.get(step_name(unit), checkpoint.StepState()))
        except UnitStopped as exc:
            row.status, row.message, failed = "failed", exc.detail, True
            continue
        except SourceReadError as exc:
            what = f"the legacy table {unit.origin}" if unit.projection is None else \
                f"the legacy rows of the read model ({unit.origin})"
            row.status, row.message, failed = "failed", f"cannot read {what} in {result.source}: {exc}", True
            continue
        row.rows, row.copied, row.chunks, row.resumed = outcome.rows, outcome.copied, outcome.chunks, outcome.resumed
        row.status = "done" if outcome.already_done else "copied"
    if failed:
        record.status = "failed"
        record.message = "stopped: a table could not be completed (see its message); fix it and rerun"
        return
    with engine.connect() as conn:
        state = checkpoint.read(conn, schema)
    for step in POST_STEPS:
        if step in state and state[step].done:
            continue
        if step == "fk":
            try:
                _fk_step(target, design, service, engine)
            except MigrationError as exc:
                record.status, record.message = "failed", str(exc)
                return
        elif step == "identity":
            _identity_step(target, design, service, engine)
        elif step == "logic":
            try:
                _logic_step(target, design, service, engine)
            except MigrationError as exc:
                record.status, record.message = "failed", str(exc)
                return
        elif step == "alembic":
            if design_dir is None:
                continue
            _alembic_step(target, design, service, engine, design_dir)
        record.steps.append(step)
    record.status = "complete"


def _arrays_as_text(dbapi_connection: Any, _record: Any) -> None:
    """PostgreSQL to PostgreSQL: arrays read as PostgreSQL prints them (``{a,"b c"}``), which COPY takes
    back as they are; as Python lists they would be written as JSON, which an array column refuses."""
    from psycopg.postgres import types
    from psycopg.types.string import TextLoader

    for info in types:
        if info.array_oid:
            dbapi_connection.adapters.register_loader(info.array_oid, TextLoader)


def _source_error(context: sa.engine.ExceptionContext) -> None:
    """A statement the legacy database refused becomes :class:`SourceReadError` (lost connections and failed
    logins stay as they are: :func:`~workbench.db.friendly_errors` names them)."""
    if context.is_disconnect or context.statement is None or context.connection is None:
        return
    original = context.original_exception
    lines = [line.strip() for line in str(original).strip().splitlines() if line.strip()]
    raise SourceReadError(scrub(lines[0] if lines else type(original).__name__))


def migrate(source: str, target: str | Path, design: Design | str | Path, *, services: Iterable[str] | None = None,
            chunk_size: int = 20_000, design_dir: str | Path | None = None, alembic: bool = True,
            progress: bool | None = None) -> MigrationResult:
    """Create the services' schemas on ``target`` and copy the legacy rows into them; resumable.

    Parameters
    ----------
    source : URL of the legacy database (opened read-only).
    target : server URL (PostgreSQL, MariaDB/MySQL) or SQLite folder (one file per service).
    design : the design, or its folder / ``design.json`` (the folder also receives the Alembic environments).
    services : services to migrate (default: all, in name order).
    chunk_size : rows per chunk: per target transaction and checkpoint.
    design_dir : where the Alembic environments go (default: the design folder when ``design`` is a path).
    alembic : write and stamp one Alembic environment per service.
    progress : progress bars (None: only on a terminal).

    Raises
    ------
    MigrationError
        After every service was attempted, when a table was refused or legacy rows break a foreign
        key; ``exc.result`` holds the :class:`MigrationResult`. Fix and rerun: done work is kept.
    TargetError
        When a service's namespace exists but was not created by a migration.
    """
    if not isinstance(design, Design):
        folder = Path(design)
        design_dir = design_dir or (folder if folder.is_dir() else folder.parent)
        design = load_design(folder)
    if chunk_size < 1:
        raise WorkbenchError(f"chunk size must be positive, got {chunk_size}")
    names = sorted(services) if services is not None else sorted(design.services)
    for name in names:
        design.service(name)
    where = Target.parse(target)
    ddl.check_names(design, names, where.dialect)  # before anything is created or copied
    result = MigrationResult(mask_url(source), where.display, where.dialect)
    engine = source_engine(source, poolclass=sa.pool.NullPool)
    sa.event.listen(engine, "handle_error", _source_error)
    if engine.dialect.name == "postgresql" and where.dialect == "postgresql":
        sa.event.listen(engine, "connect", _arrays_as_text)
    env_dir = Path(design_dir) if (alembic and design_dir is not None) else None
    try:
        with friendly_errors(source), engine.connect():
            pass  # fail early, with the source named, if it cannot be read
        with friendly_errors(where.spec if where.folder is None else "sqlite://"):
            for name in names:
                _migrate_service(engine, where, design, name, result, chunk_size, env_dir, progress)
    finally:
        engine.dispose()
        where.dispose()
    failures = result.failures()
    if failures:
        raise MigrationError(f"{len(failures)} problem(s), first: {failures[0]}", result)
    return result
