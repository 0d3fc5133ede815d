"""``workbench sync setup | status | teardown``: prepare the capture, report where every service stands, remove it.

Setup and teardown are the only commands that write to the source, and only to its catalog
(PostgreSQL: a publication, a replication slot, ``REPLICA IDENTITY FULL`` on tables without a key;
MariaDB and SQLite: nothing), each printing the SQL it ran. Status reads: the services' positions
on the target, the source's head, the capture's health (a slot left behind retains WAL without
limit) and, when no follower is running, the row changes still waiting in the log.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa

from workbench import serde
from workbench.db import backend as url_backend
from workbench.db import friendly_errors, mask_url, resolve_url, source_engine
from workbench.design.model import Design, load_design
from workbench.errors import BadURLError, NotFoundError
from workbench.migrate.target import Target
from workbench.sync import state
from workbench.sync.capture import CaptureError
from workbench.sync.model import (
    CAPTURE_FILE,
    CaptureHealth,
    CaptureSpec,
    ServiceStatus,
    SetupAction,
    SyncStatus,
    utc_now,
)
from workbench.sync.routes import Routes, routes

FRESH = 5.0
"""A ``status.json`` younger than this many seconds means a follower is running."""

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_name(name: str) -> str:
    """A capture name usable as a PostgreSQL slot and publication name.

    >>> check_name("wb_sync_retail")
    'wb_sync_retail'
    """
    if not _NAME.match(name):
        raise BadURLError(f"capture name {name!r}: use 1-63 lower-case letters, digits and underscores")
    return name


def default_name(source: str) -> str:
    """``wb_sync_<database>``, the database name reduced to what a slot name may hold.

    >>> default_name("postgresql://app@db/Retail-EU")
    'wb_sync_retail_eu'
    """
    database = resolve_url(source).database or "source"
    stem = Path(database).stem if url_backend(source) == "sqlite" else database
    return check_name(("wb_sync_" + re.sub(r"[^a-z0-9_]+", "_", stem.lower()).strip("_"))[:63])


def _design(design: Design | str | Path) -> tuple[Design, Path | None]:
    if isinstance(design, Design):
        return design, None
    return load_design(design), Path(design)


def _folder(design_path: Path | None, state_dir: str | Path | None) -> Path:
    if state_dir is not None:
        return Path(state_dir)
    if design_path is None:
        raise NotFoundError("give the state folder when the design is not a folder")
    return state.default_folder(design_path)


def wanted_tables(r: Routes) -> dict[str, set[str]]:
    """Service -> the legacy tables whose changes it applies."""
    out: dict[str, set[str]] = {name: set() for name in r.services}
    labels = {name: {u.label for u in units} for name, units in r.services.items()}
    for table, route in r.tables.items():
        for name in out:
            if any(u.label in labels[name] for u in route.rows) or \
                    any(p.unit.label in labels[name] for p in route.projections):
                out[name].add(table)
    return out


def setup(source: str, design: Design | str | Path, *, name: str | None = None, state_dir: str | Path | None = None,
          services: Iterable[str] | None = None) -> CaptureSpec:
    """Prepare change capture on ``source`` for the design's tables; write ``capture.json``; what was done."""
    d, path = _design(design)
    folder = _folder(path, state_dir)
    name = check_name(name) if name else default_name(source)
    r = routes(d, sorted(services) if services is not None else None)
    family = url_backend(source)
    with friendly_errors(source):
        if family == "postgresql":
            from workbench.sync import postgres

            spec = postgres.setup(source, name, r)
        elif family == "mysql":
            from workbench.sync import mariadb

            spec = mariadb.setup(source, name, r)
        elif family == "sqlite":
            engine = source_engine(source)  # proves the file is there and readable
            engine.dispose()
            spec = CaptureSpec(name, "sqlite", mask_url(source), "poll:0", r.captured,
                               created_at=utc_now().isoformat(),
                               privileges=["read access to the SQLite file (opened read-only)"],
                               notes=["SQLite has no change log: the follower polls, comparing checksums; changes "
                                      "undone between two polls are not seen"])
            spec.actions.append(SetupAction("nothing created on the source: it is polled read-only", "", False))
        else:
            raise CaptureError(f"no change capture for {family} sources (PostgreSQL, MariaDB/MySQL, SQLite)")
    folder.mkdir(parents=True, exist_ok=True)
    state.save_atomically(spec, folder / CAPTURE_FILE)
    return spec


def teardown(source: str, design: Design | str | Path | None = None, *, state_dir: str | Path | None = None,
             wait: float = 10.0) -> list[str]:
    """Remove what setup made on the source (waiting up to ``wait`` s for a stopping follower to let go)."""
    path = None if design is None or isinstance(design, Design) else Path(design)
    folder = _folder(path, state_dir)
    spec = state.load_capture(folder)
    done: list[str] = []
    with friendly_errors(source):
        if spec.backend == "postgresql":
            from workbench.sync import postgres

            deadline = time.monotonic() + wait
            while True:
                try:
                    done = postgres.teardown(source, spec)
                    break
                except CaptureError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
    torn = folder / (CAPTURE_FILE + ".torn-down")
    (folder / CAPTURE_FILE).replace(torn)
    return done


def head(source: str, backend: str) -> str | None:
    """The source's current end of log (PostgreSQL: WAL LSN; MariaDB: GTID state; None for SQLite)."""
    engine = source_engine(source, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if backend == "postgresql":
                return conn.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar()
            if backend == "mysql":
                return conn.exec_driver_sql("SELECT @@gtid_binlog_pos").scalar()
    finally:
        engine.dispose()
    return None


def status(source: str, target: str | Path, design: Design | str | Path, *, state_dir: str | Path | None = None,
           services: Iterable[str] | None = None, count: bool = True) -> SyncStatus:
    """Per service: position, lag (row changes and seconds), events/s; the capture's health; never writes."""
    d, path = _design(design)
    folder = _folder(path, state_dir)
    where = Target.parse(target)
    if not (folder / CAPTURE_FILE).exists():
        torn = (folder / (CAPTURE_FILE + ".torn-down")).exists()
        return SyncStatus("", url_backend(source), mask_url(source), where.display,
                          "torn down" if torn else "not set up")
    spec = state.load_capture(folder)
    names = sorted(services) if services is not None else sorted(d.services)
    r = routes(d, names)
    last = state.load_status(folder)
    running = last is not None and last.state == "following" and last.updated_at and \
        (utc_now() - dt.datetime.fromisoformat(last.updated_at)).total_seconds() < FRESH
    out = SyncStatus(spec.name, spec.backend, mask_url(source), where.display,
                     "following" if running else "stopped", updated_at=utc_now().isoformat())
    with friendly_errors(source):
        out.head = head(source, spec.backend)
        if spec.backend == "postgresql":
            from workbench.sync import postgres

            out.health = postgres.health(source, spec.name)
        elif spec.backend == "mysql":
            from workbench.sync import mariadb

            out.health = mariadb.health(source, spec)
        else:
            out.health = CaptureHealth(True, None, message="polled: nothing on the source to leave behind")
    positions: dict[str, str] = {}
    try:
        for name in names:
            row = ServiceStatus(name)
            out.services.append(row)
            with friendly_errors(where.url(d, name)):
                if not where.exists(d, name):
                    out.notes.append(f"{name}: not on the target")
                    continue
                with where.engine(d, name).connect() as conn:
                    applied = state.read(conn, where.schema(d, name), spec.name) \
                        if state.exists(conn, where.schema(d, name)) else None
            if applied is None:
                out.notes.append(f"{name}: not followed yet")
                continue
            row.position, row.commit_time, row.applied_at = applied.position, applied.commit_time, applied.applied_at
            row.events, row.transactions = applied.events, applied.transactions
            positions[name] = applied.position
    finally:
        where.dispose()
    if running and last is not None:
        figures = {s.service: s for s in last.services}
        for row in out.services:
            if row.service in figures:
                f = figures[row.service]
                row.lag_events, row.lag_seconds = f.lag_events, f.lag_seconds
                row.events_per_second = f.events_per_second
    elif count and positions and spec.backend in ("postgresql", "mysql"):
        waiting = _pending(source, spec, r, positions, out.health)
        now = utc_now()
        for row in out.services:
            if row.service in waiting:
                events, oldest = waiting[row.service]
                row.lag_events = events
                row.lag_seconds = round((now - oldest).total_seconds(), 3) if events and oldest else 0.0
    if out.health.left_behind and not running:
        out.notes.append(out.health.message)
    return out


def _pending(source: str, spec: CaptureSpec, r: Routes, positions: dict[str, str],
             health: CaptureHealth) -> dict[str, tuple[int, dt.datetime | None]]:
    wanted = wanted_tables(r)
    with friendly_errors(source):
        if spec.backend == "postgresql":
            from workbench.sync import postgres

            if not health.exists or health.active:
                return {}
            return postgres.pending(source, spec, wanted, positions)
        from workbench.sync import mariadb

        return mariadb.pending(source, spec, r, wanted, positions)


def caught_up(source: str, target: str | Path, design: Design | str | Path, head: str, *,
              state_dir: str | Path | None = None, services: Iterable[str] | None = None) -> bool:
    """Whether every service's committed position covers ``head`` (a source position taken earlier)."""
    d, path = _design(design)
    folder = _folder(path, state_dir)
    spec = state.load_capture(folder)
    where = Target.parse(target)
    names = sorted(services) if services is not None else sorted(d.services)
    try:
        for name in names:
            with where.engine(d, name).connect() as conn:
                applied = state.read(conn, where.schema(d, name), spec.name)
            if applied is None or not covers(spec.backend, applied.position, head):
                return False
    finally:
        where.dispose()
    return True


def positioned(target: str | Path, design: Design, state_dir: str | Path, services: Iterable[str]) -> bool:
    """Whether every service has a committed position (the follower levelled it and follows the log)."""
    spec = state.load_capture(Path(state_dir))
    where = Target.parse(target)
    try:
        for name in services:
            schema = where.schema(design, name)
            with where.engine(design, name).connect() as conn:
                if not state.exists(conn, schema) or state.read(conn, schema, spec.name) is None:
                    return False
    finally:
        where.dispose()
    return True


def covers(backend: str, stored: str, position: str) -> bool:
    """Whether a service at ``stored`` has applied everything up to ``position``.

    >>> covers("postgresql", "0/20", "0/1F"), covers("mysql", "0-1-9", "0-1-10")
    (True, False)
    """
    if backend == "postgresql":
        from workbench.sync.postgres import lsn_int

        return lsn_int(position) <= lsn_int(stored)
    if backend == "mysql":
        from workbench.sync.mariadb import parse_gtids

        done = parse_gtids(stored)
        return all(d in done and done[d][1] >= n for d, (_s, n) in parse_gtids(position).items())
    return int(stored.partition(":")[2] or 0) >= int(position.partition(":")[2] or 0)


def save_status(out: SyncStatus, path: str | Path) -> Path:
    return serde.save(out, path)
