"""``workbench sync run``: keep every service's schema current from the legacy database while it still writes.

Order of work, and why nothing is lost between the copy and the follow
    1. ``workbench sync setup`` starts the capture (PostgreSQL: publication, then slot; MariaDB:
       the GTID position). From then on the log holds every committed change.
    2. ``workbench migrate`` copies the tables -- before or after step 1, while the monolith writes.
    3. The follower's first start brings each service level with *one consistent source snapshot*
       (:meth:`~workbench.sync.capture.LogReader.snapshot`): every table is compared with the
       legacy rows by checksum and only differing rows are written (:mod:`workbench.sync.reconcile`);
       the service's position row stores the capture's start and that snapshot, in the same commit.
    4. It then reads the log from the capture's start and applies every transaction the snapshot
       did not see; those it saw are skipped (they are in the rows already).
    A copy taken before the capture has its gap filled by step 3; one taken after, its overlap
    removed by the skip in step 4; tables without a key come out exact either way. The copy only
    saves step 3 work (``tests/test_sync_backends.py`` proves both orders on both servers).

Per batch of whole source transactions, each service's changes and its new position
(:mod:`workbench.sync.state`) commit in one target transaction -- on a server, one transaction for
all the services it holds (group commit); with SQLite files, one per service -- so a restart -- after a crash, a
SIGKILL, a dropped target connection -- resumes exactly where the service stopped, and a
transaction is applied at most once. The log is read from the earliest position any service has
committed, and the PostgreSQL slot is confirmed only up to it. A dropped target connection is
retried (the uncommitted batch is applied again: the position check makes that safe); a lost log
connection is reopened from the committed positions.

SQLite sources have no log: the follower polls (:func:`follow` with a SQLite source), comparing
every table by checksum each time and copying only what changed, deletes included. Changes that
happen and are undone between two polls are never seen, and a row changed twice between polls is
seen in its last state only; the polls read without holding a transaction open, so they never
block the application's writers for longer than one query.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from tqdm import tqdm

from workbench.db import backend as url_backend
from workbench.db import friendly_errors, mask_url, source_engine, target_engine
from workbench.design.model import Design, load_design
from workbench.errors import ConnectError, NotFoundError, TargetError
from workbench.migrate.canon import with_sqlite_functions
from workbench.migrate.target import Target
from workbench.migrate.verify import Side
from workbench.sync import state
from workbench.sync.apply import ServiceApplier
from workbench.sync.capture import LogReader, reader
from workbench.sync.model import (
    LagSample,
    ServiceStatus,
    SourceTransaction,
    SyncStatus,
    iso,
    utc_now,
)
from workbench.sync.reconcile import diff
from workbench.sync.routes import Routes, routes

Listener = Callable[[list[SourceTransaction]], None]
"""Called with each batch of source transactions once every service has committed it (see the package doc)."""

APPLICATION_NAME = "workbench-sync"
"""The PostgreSQL ``application_name`` of the follower's target sessions (monitoring, tests)."""


@dataclass
class FollowOptions:
    """How the follower batches, reports and stops.

    Attributes
    ----------
    batch_changes : flush a batch once it holds this many row changes...
    batch_wait : ... or this many seconds after its first transaction arrived (group commit).
    coarse_every : seconds between whole comparisons of coarse read models that changes touched.
    quiet_every : seconds between position writes of services no change touched, while busy (keeps their lag
        figure right and lets the PostgreSQL slot advance)...
    idle_every : ... and while the log is idle.
    poll_every : SQLite sources: seconds between two polls.
    status_every : seconds between ``status.json`` / ``lag.jsonl`` updates.
    until_caught_up : stop once every service covers the source's head as it was when the follower went idle.
    duration : stop after this many seconds.
    retry_for : give up after this many seconds of failing to reach the target or the log.
    progress : a progress bar (None: only on a terminal).
    listeners : called after each committed batch.
    """

    batch_changes: int = 10_000
    batch_wait: float = 0.1
    coarse_every: float = 10.0
    quiet_every: float = 10.0
    idle_every: float = 1.0
    poll_every: float = 1.0
    status_every: float = 1.0
    until_caught_up: bool = False
    duration: float | None = None
    retry_for: float = 300.0
    progress: bool | None = None
    listeners: list[Listener] = field(default_factory=list)


@dataclass
class FollowResult:
    """What a follower run did."""

    capture: str
    transactions: int = 0
    events: int = 0
    reconciled: dict[str, int] = field(default_factory=dict)
    skipped_visible: int = 0
    coarse_refreshes: int = 0
    retries: int = 0
    seconds: float = 0.0
    caught_up: bool = False
    notes: list[str] = field(default_factory=list)


class _Service:
    """One followed service: where it lives and what the follower knows about its position."""

    def __init__(self, name: str, schema: str | None, engine: sa.Engine, applier: ServiceApplier) -> None:
        self.name, self.schema, self.engine, self.applier = name, schema, engine, applier
        self.position: str | None = None
        self.snapshot: dict[str, Any] | None = None
        self.events = 0
        self.transactions = 0
        self.commit_time: str | None = None
        self.applied_at: str | None = None
        self.written_at = 0.0
        self.coarse_dirty: set[str] = set()
        self.rate_mark = (time.monotonic(), 0)
        self._conn: sa.Connection | None = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A target transaction on the service's own long-lived connection (dropped after a failure)."""
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect()
        conn = self._conn
        try:
            with conn.begin():
                yield conn
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


class _Stop(Exception):
    pass


def _pg_session(dbapi_connection: Any, _record: Any) -> None:
    # the legacy database checked the foreign keys; a service's slice of a transaction commits whole
    with dbapi_connection.cursor() as cur:
        try:
            cur.execute("SET session_replication_role = replica")
        except Exception:  # noqa: BLE001 - not a superuser: foreign keys stay checked (apply order is the log's)
            dbapi_connection.rollback()
    dbapi_connection.commit()


def _mysql_session(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cur:
        cur.execute("SET SESSION foreign_key_checks = 0")
        cur.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")


def apply_engine(where: Target, design: Design, service: str) -> sa.Engine:
    """A read-write engine for applying to ``service``: foreign keys off, reconnecting after a drop."""
    if where.dialect == "sqlite":
        return where.engine(design, service)
    url = where.url(design, service)
    args = {"connect_args": {"application_name": APPLICATION_NAME}} if where.dialect == "postgresql" else {}
    engine = target_engine(url, pool_pre_ping=True, pool_size=2, **args)
    sa.event.listen(engine, "connect", _pg_session if where.dialect == "postgresql" else _mysql_session)
    return engine


def _transient(exc: BaseException) -> bool:
    """A lost connection (worth a retry), as opposed to a refused statement."""
    if isinstance(exc, ConnectError):
        return True
    if isinstance(exc, sa.exc.DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)
    return isinstance(exc, ConnectionError | OSError)


class Follower:
    """Follows one capture into the services of a design on a target; see the module doc."""

    def __init__(self, source: str, target: str | Path, design: Design | str | Path, *,
                 state_dir: str | Path | None = None, services: Iterable[str] | None = None) -> None:
        folder = None
        if not isinstance(design, Design):
            folder = Path(design)
            design = load_design(folder)
        if state_dir is None:
            if folder is None:
                raise NotFoundError("give the state folder (state_dir) when the design is not a folder")
            state_dir = state.default_folder(folder)
        self.design = design
        self.folder = Path(state_dir)
        self.spec = state.load_capture(self.folder)
        self.source_url = source
        self.source_dialect = url_backend(source)
        if self.source_dialect != self.spec.backend:
            raise TargetError(f"the capture in {self.folder} is for a {self.spec.backend} source, not "
                              f"{mask_url(source)}")
        names = sorted(services) if services is not None else sorted(design.services)
        for name in names:
            design.service(name)
        self.routes: Routes = routes(design, names)
        self.where = Target.parse(target)
        # no ping per checkout (a read-model refill checks out a connection per batch): a stale one fails, and
        # the batch is retried on a fresh one
        self.source = with_sqlite_functions(source_engine(source, pool_size=2))
        self.services: dict[str, _Service] = {}
        for name in names:
            schema = self.where.schema(design, name)
            engine = apply_engine(self.where, design, name)
            dialect = engine.dialect
            self.services[name] = _Service(name, schema, engine,
                                           ServiceApplier(name, self.routes, schema, dialect, self.source_dialect))
        self.reader: LogReader | None = None
        # on a server, every service's namespace is reachable from one connection: one commit per batch for all
        self._shared = next(iter(self.services.values())) if self.where.dialect != "sqlite" and self.services \
            else None
        self.result = FollowResult(self.spec.name)
        self._stop = threading.Event()
        self._batch: list[SourceTransaction] = []
        self._flushed_changes = 0
        self._status_at = 0.0
        self._coarse_at = 0.0
        self._coarse_lock = threading.Lock()
        self._finished = threading.Event()
        self._coarse_error: BaseException | None = None
        mixed = {p.unit.label for r in self.routes.tables.values() for p in r.projections if p.recompute is not None}
        self._pure_coarse = {u.label for units in self.routes.coarse.values() for u in units} - mixed
        self._bar: Any = None

    # -- helpers ---------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the follower to stop after the current batch (thread-safe)."""
        self._stop.set()

    def _retrying(self, what: str, action: Callable[[], Any], options: FollowOptions,
                  limit: float | None = None) -> Any:
        """Run ``action``; after a lost connection, wait and run it again (it must be idempotent)."""
        deadline = time.monotonic() + (options.retry_for if limit is None else limit)
        delay = 0.2
        while True:
            try:
                return action()
            except Exception as exc:  # noqa: BLE001 - classified below
                if not _transient(exc) or time.monotonic() > deadline or self._stop.is_set():
                    raise
                self.result.retries += 1
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _check_namespaces(self) -> None:
        for name, svc in self.services.items():
            with friendly_errors(self.where.url(self.design, name)):
                if not self.where.exists(self.design, name):
                    raise TargetError(f"service {name} is not on the target ({self.where.where(self.design, name)}): "
                                      "run 'workbench migrate' first")
                with svc.engine.begin() as conn:
                    state.ensure(conn, svc.schema)
                    applied = state.read(conn, svc.schema, self.spec.name)
            if applied is not None:
                svc.position, svc.snapshot = applied.position, applied.snapshot
                svc.events, svc.transactions = applied.events, applied.transactions
                svc.commit_time, svc.applied_at = applied.commit_time, applied.applied_at

    # -- bringing services level with a snapshot -------------------------------------------------------

    def _reconcile(self, svc: _Service, sconn: sa.Connection, position: str,
                   snapshot: dict[str, Any] | None, progress: Any) -> int:
        """Compare every table of ``svc`` with the source (under ``sconn``'s snapshot), write the differences
        and the position in one target transaction; rows written."""
        def work() -> int:
            written = 0
            # the comparison reads through a connection of its own: verify's Side switches the connection it
            # reads to streaming (server-side cursors), which the writes cannot use
            with svc.engine.begin() as tconn, svc.engine.connect() as rconn:
                applied = state.read(tconn, svc.schema, self.spec.name, lock=True)
                if applied is not None and snapshot is not None:
                    return -1  # another follower got there first
                for unit in self.routes.services[svc.name]:
                    src = Side(sconn, self.source_dialect, unit.source_from(self.source_dialect), unit)
                    tgt = Side(rconn, self.where.dialect, unit.target_table(svc.schema), unit)
                    found = diff(unit, src, tgt)
                    if not found.empty:
                        written += svc.applier.apply_diff(tconn, found, sconn)
                    if progress is not None:
                        progress.update(1)
                record = state.Applied(position, snapshot, None, iso(utc_now()),
                                       applied.events if applied else 0, applied.transactions if applied else 0)
                state.write(tconn, svc.schema, self.spec.name, record, insert=applied is None)
            return written

        written = int(self._retrying(f"reconcile {svc.name}", work, FollowOptions()))
        with svc.engine.connect() as conn:
            applied = state.read(conn, svc.schema, self.spec.name)
        if applied is not None:
            svc.position, svc.snapshot = applied.position, applied.snapshot
        svc.written_at = time.monotonic()
        return max(written, 0)

    def _level(self, reader_: LogReader, options: FollowOptions) -> None:
        """First start of services without a position: level them with one source snapshot."""
        todo = [s for s in self.services.values() if s.position is None]
        if not todo:
            return
        tables = sum(len(self.routes.services[s.name]) for s in todo)
        bar = tqdm(total=tables, desc="level with the source snapshot", unit=" table",
                   disable=None if options.progress is None else not options.progress, leave=False)
        try:
            with friendly_errors(self.source_url), reader_.snapshot(self.source) as (sconn, snap):
                for svc in todo:
                    self.result.reconciled[svc.name] = self._reconcile(svc, sconn, self.spec.start, snap, bar)
        finally:
            bar.close()

    def _refresh_coarse(self, labels: dict[str, set[str]] | None = None) -> None:
        """Compare the coarse read models (all, or the touched ones) with their fill and write the differences."""
        with self._coarse_lock:
            for name, svc in self.services.items():
                wanted = labels.get(name, set()) if labels is not None else None
                units = [u for u in self.routes.coarse.get(name, []) if wanted is None or u.label in wanted]
                if not units:
                    continue
                done = {u.label for u in units}
                svc.coarse_dirty -= done  # a change marking one again meanwhile marks it for the next round

                def work(svc: _Service = svc, units: list[Any] = units) -> None:
                    with self.source.connect() as sconn, svc.engine.begin() as tconn, \
                            svc.engine.connect() as rconn:
                        for unit in units:
                            src = Side(sconn, self.source_dialect, unit.source_from(self.source_dialect), unit)
                            tgt = Side(rconn, self.where.dialect, unit.target_table(svc.schema), unit)
                            found = diff(unit, src, tgt)
                            if not found.empty:
                                svc.applier.apply_diff(tconn, found, sconn)

                try:
                    self._retrying(f"refresh {name}", work, FollowOptions())
                except BaseException:
                    svc.coarse_dirty |= done
                    raise
                self.result.coarse_refreshes += len(units)
            self._coarse_at = time.monotonic()

    def _coarse_worker(self, options: FollowOptions) -> None:
        """Background: compare the read models only a whole comparison keeps right (filled from views, say) every
        ``coarse_every`` seconds when changes touched them -- off the apply path, so they never hold up the lag.
        Those a change can also refill row by row are compared from the main loop instead (no two writers)."""
        while not self._finished.wait(options.coarse_every):
            dirty = {n: {label for label in s.coarse_dirty if label in self._pure_coarse}
                     for n, s in self.services.items()}
            if any(dirty.values()):
                try:
                    self._refresh_coarse(dirty)
                except BaseException as exc:  # noqa: BLE001 - raised in the main loop
                    self._coarse_error = exc
                    return

    # -- applying batches --------------------------------------------------------------------------------

    def _apply_one(self, conn: sa.Connection, svc: _Service,
                   txns: list[SourceTransaction]) -> tuple[int, int, str, set[str]]:
        """Apply one service's share of ``txns`` and its new position inside ``conn``'s transaction."""
        assert self.reader is not None
        rd = self.reader
        applied = state.read(conn, svc.schema, self.spec.name, lock=True)
        if applied is None:
            raise TargetError(f"{svc.name}: its position row vanished from the target while following")
        todo = [t for t in txns if not rd.covers(applied.position, t.position)]
        snap = applied.snapshot
        apply_txns = [t for t in todo if not (snap and rd.visible(snap, t))]
        count, coarse = svc.applier.apply(conn, apply_txns, self.source)
        position = applied.position
        for t in todo:
            position = rd.merge(position, t.position)
        touched = sum(1 for t in apply_txns if any(svc.applier.wants(c.table) for c in t.changes))
        last = next((t.commit_time for t in reversed(todo) if t.commit_time is not None), None)
        record = state.Applied(position, snap, iso(last) or applied.commit_time, iso(utc_now()),
                               applied.events + count, applied.transactions + touched)
        state.write(conn, svc.schema, self.spec.name, record, insert=False)
        skipped = sum(1 for t in todo if t.changes) - sum(1 for t in apply_txns if t.changes)
        return count, skipped, position, coarse

    def _commit(self, group: list[tuple[_Service, list[SourceTransaction]]], options: FollowOptions) -> None:
        """Apply services' shares of a batch: in one target transaction when they share a server (one commit for
        all: a service's changes and position still commit together), else one per service (SQLite files)."""
        holder = self._shared or group[0][0]

        def work() -> list[tuple[int, int, str, set[str]]]:
            with holder.transaction() as conn:
                return [self._apply_one(conn, svc, txns) for svc, txns in group]

        outcomes = self._retrying(f"apply to {', '.join(svc.name for svc, _ in group)}", work, options)
        now = time.monotonic()
        for (svc, _), (count, skipped, position, coarse) in zip(group, outcomes, strict=True):
            svc.position = position
            svc.events += count
            svc.coarse_dirty |= coarse
            svc.written_at = now
            self.result.events += count
            self.result.skipped_visible += skipped
            if self._bar is not None and count:
                self._bar.update(count)

    def _commit_all(self, group: list[tuple[_Service, list[SourceTransaction]]], options: FollowOptions) -> None:
        if not group:
            return
        if self._shared is not None:
            self._commit(group, options)
        else:
            for item in group:
                self._commit([item], options)

    def _flush(self, options: FollowOptions) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        assert self.reader is not None
        rd = self.reader
        now = time.monotonic()
        group = []
        for svc in self.services.values():
            assert svc.position is not None
            txns = [t for t in batch if not rd.covers(svc.position, t.position)]
            if not txns:
                continue
            touched = any(svc.applier.wants(c.table) for t in txns for c in t.changes)
            if touched or now - svc.written_at >= options.quiet_every:
                group.append((svc, txns))
        self._commit_all(group, options)
        self.result.transactions += sum(1 for t in batch if t.changes)
        self._flushed_changes += sum(len(t.changes) for t in batch)
        rd.confirm(self._confirmable())
        for listener in options.listeners:
            listener(batch)

    def _confirmable(self) -> str:
        assert self.reader is not None
        return self.reader.earliest([s.position for s in self.services.values() if s.position is not None])

    def _idle(self, options: FollowOptions, head: str | None) -> bool:
        """Work for quiet moments; True when the follower has caught up with ``head``."""
        assert self.reader is not None
        rd = self.reader
        idle = rd.idle_position()
        now = time.monotonic()
        if idle is not None:
            group: list[tuple[_Service, list[SourceTransaction]]] = []
            for svc in self.services.values():
                assert svc.position is not None
                merged = rd.merge(svc.position, idle)
                if merged != svc.position and (now - svc.written_at >= options.idle_every or options.until_caught_up):
                    group.append((svc, [SourceTransaction(idle, "", None)]))
            self._commit_all(group, options)
            rd.confirm(self._confirmable())
        if self._coarse_error is not None:
            raise self._coarse_error
        mixed = {n: {label for label in s.coarse_dirty if label not in self._pure_coarse}
                 for n, s in self.services.items()}
        if head is not None and any(s.coarse_dirty for s in self.services.values()):  # catching up: all, now
            self._refresh_coarse({n: set(s.coarse_dirty) for n, s in self.services.items()})
        elif any(mixed.values()) and now - self._coarse_at >= options.coarse_every:
            self._refresh_coarse(mixed)
        if head is None or idle is None:
            return False
        return all(s.position is not None and rd.covers(s.position, head) for s in self.services.values()) \
            and not any(s.coarse_dirty for s in self.services.values())

    def source_head(self) -> str | None:
        """The source's current end of log (PostgreSQL: WAL insert LSN; MariaDB: the GTID state)."""
        with friendly_errors(self.source_url), self.source.connect() as conn:
            if self.source_dialect == "postgresql":
                return conn.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar()
            if self.source_dialect == "mysql":
                return conn.exec_driver_sql("SELECT @@gtid_binlog_pos").scalar()
        return None

    # -- status ------------------------------------------------------------------------------------------

    def _status(self, following: bool) -> None:
        now = time.monotonic()
        rd = self.reader
        pending = (rd.received_changes - self._flushed_changes) if rd is not None else 0
        oldest = None
        if self._batch:
            oldest = self._batch[0].commit_time
        elif rd is not None:
            oldest = rd.oldest()
        lag = max(0.0, (utc_now() - oldest).total_seconds()) if oldest is not None and pending else 0.0
        services = []
        per_service = {}
        for svc in self.services.values():
            then, events = svc.rate_mark
            rate = (svc.events - events) / (now - then) if now > then else 0.0
            svc.rate_mark = (now, svc.events)
            services.append(ServiceStatus(svc.name, svc.position, svc.commit_time, iso(utc_now()), svc.events,
                                          svc.transactions, pending, round(lag, 3), round(rate, 1)))
            per_service[svc.name] = svc.events
        out = SyncStatus(self.spec.name, self.spec.backend, mask_url(self.source_url), self.where.display,
                         "following" if following else "stopped", rd.head() if rd is not None else None,
                         iso(utc_now()) or "", services)
        state.save_atomically(out, self.folder / "status.json")
        state.append_lag(self.folder, LagSample(iso(utc_now()) or "", round(lag, 3), pending,
                                                sum(per_service.values()), per_service))
        if self._bar is not None:
            self._bar.set_postfix_str(f"lag {lag:.1f} s, {pending:,} pending", refresh=False)
        self._status_at = now

    # -- the loops ---------------------------------------------------------------------------------------

    def run(self, options: FollowOptions | None = None) -> FollowResult:
        """Follow until stopped (Ctrl-C, SIGTERM, :meth:`stop`), ``duration`` or ``until_caught_up``."""
        options = options or FollowOptions()
        started = time.monotonic()
        self._retrying("check the target", self._check_namespaces, options, limit=10.0)
        self._bar = tqdm(desc=f"sync {self.spec.name}", unit=" changes",
                         disable=None if options.progress is None else not options.progress, dynamic_ncols=True)
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, lambda *_: self.stop())
        try:
            if self.spec.backend == "sqlite":
                self._poll_loop(options, started)
            else:
                self._log_loop(options, started)
        except KeyboardInterrupt:
            pass
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            with contextlib.suppress(Exception):
                self._status(following=False)
            self._bar.close()
            if self.reader is not None:
                self.reader.close()
            self.result.seconds = round(time.monotonic() - started, 3)
        return self.result

    def _expired(self, options: FollowOptions, started: float) -> bool:
        return self._stop.is_set() or (options.duration is not None and time.monotonic() - started >= options.duration)

    def _start_reader(self) -> LogReader:
        rd = reader(self.source_url, self.spec, self.routes)
        positions = [s.position for s in self.services.values() if s.position is not None]
        rd.start(rd.earliest(positions))
        return rd

    def _log_loop(self, options: FollowOptions, started: float) -> None:
        probe = reader(self.source_url, self.spec, self.routes)  # positions and snapshots only
        self._level(probe, options)
        self._refresh_coarse()
        self.reader = self._start_reader()
        worker = threading.Thread(target=self._coarse_worker, args=(options,), name="wb-coarse", daemon=True)
        worker.start()
        try:
            self._follow_log(options, started)
        finally:
            self._finished.set()
            worker.join(timeout=60)

    def _follow_log(self, options: FollowOptions, started: float) -> None:
        assert self.reader is not None
        head: str | None = None
        batch_started = 0.0
        size = 0
        failing_since: float | None = None
        while not self._expired(options, started):
            try:
                timeout = max(0.0, options.batch_wait - (time.monotonic() - batch_started)) if self._batch else 0.2
                txn = self.reader.get(timeout)
                failing_since = None
            except Exception:  # noqa: BLE001 - the log connection: reopen from the committed positions
                failing_since = failing_since or time.monotonic()
                if time.monotonic() - failing_since > options.retry_for or self._stop.is_set():
                    raise
                self.result.retries += 1
                self.reader.close()
                self._batch = []
                self._flushed_changes = 0
                time.sleep(0.5)
                self.reader = self._start_reader()
                continue
            if txn is not None:
                if not self._batch:
                    batch_started = time.monotonic()
                    size = 0
                self._batch.append(txn)
                size += len(txn.changes)
                while size < options.batch_changes:
                    more = self.reader.get(0)
                    if more is None:
                        break
                    self._batch.append(more)
                    size += len(more.changes)
            # group commit: a batch waits ``batch_wait`` for more transactions (one target commit per service for
            # all of them) unless it is full; a commit per source transaction would bound the rate by the fsyncs
            if self._batch and (size >= options.batch_changes
                                or time.monotonic() - batch_started >= options.batch_wait):
                self._flush(options)
            if not self._batch and not self.reader.ready():
                if options.until_caught_up and head is None:
                    head = self._retrying("read the source's head", self.source_head, options)
                if self._idle(options, head):
                    self.result.caught_up = True
                    break
            if time.monotonic() - self._status_at >= options.status_every:
                self._status(following=True)
        self._flush(options)
        if any(s.coarse_dirty for s in self.services.values()):  # a clean stop leaves no read model behind
            self._refresh_coarse({n: set(s.coarse_dirty) for n, s in self.services.items()})

    def _poll_loop(self, options: FollowOptions, started: float) -> None:
        """SQLite: compare every table each poll, apply the differences; a poll finding none means caught up."""
        polls = 0
        for svc in self.services.values():
            if svc.position is not None and svc.position.startswith("poll:"):
                polls = max(polls, int(svc.position[5:]))
        while not self._expired(options, started):
            began = time.monotonic()
            polls += 1
            position = f"poll:{polls}"
            txn = SourceTransaction(position, str(polls), utc_now(), received=began)
            found = 0
            for svc in self.services.values():
                found += self._poll_service(svc, txn, options)
            self.result.transactions += 1 if found else 0
            for listener in options.listeners:
                listener([txn])
            self._status(following=True)
            if found == 0 and options.until_caught_up:
                self.result.caught_up = True
                break
            time.sleep(max(0.0, options.poll_every - (time.monotonic() - began)))

    def _poll_service(self, svc: _Service, txn: SourceTransaction, options: FollowOptions) -> int:
        owned = {u.label for u in self.routes.services[svc.name] if u.role == "owned"}

        def work() -> tuple[int, list[Any]]:
            changes: list[Any] = []
            with self.source.connect() as sconn, svc.engine.begin() as tconn, svc.engine.connect() as rconn:
                applied = state.read(tconn, svc.schema, self.spec.name, lock=True)
                count = 0
                for unit in self.routes.services[svc.name]:
                    src = Side(sconn, self.source_dialect, unit.source_from(self.source_dialect), unit)
                    tgt = Side(rconn, self.where.dialect, unit.target_table(svc.schema), unit)
                    found = diff(unit, src, tgt)
                    if found.empty:
                        continue
                    count += svc.applier.apply_diff(tconn, found, sconn)
                    if unit.label in owned:
                        changes += found.changes(unit.origin, txn.position, txn.xid, txn.commit_time)
                record = state.Applied(txn.position, None, iso(txn.commit_time), iso(utc_now()),
                                       (applied.events if applied else 0) + count,
                                       (applied.transactions if applied else 0) + (1 if count else 0))
                state.write(tconn, svc.schema, self.spec.name, record, insert=applied is None)
            return count, changes

        count, changes = self._retrying(f"poll {svc.name}", work, options)
        txn.changes += changes
        svc.position = txn.position
        svc.events += count
        self.result.events += count
        if self._bar is not None and count:
            self._bar.update(count)
        return count

    def close(self) -> None:
        for svc in self.services.values():
            svc.release()
            svc.engine.dispose()
        self.source.dispose()
        self.where.dispose()


def follow(source: str, target: str | Path, design: Design | str | Path, *, state_dir: str | Path | None = None,
           services: Iterable[str] | None = None, options: FollowOptions | None = None) -> FollowResult:
    """Follow the capture set up for ``source`` into ``target`` (see the module doc); returns what it did."""
    follower = Follower(source, target, design, state_dir=state_dir, services=services)
    try:
        return follower.run(options)
    finally:
        follower.close()


@contextlib.contextmanager
def following(source: str, target: str | Path, design: Design | str | Path, *, state_dir: str | Path | None = None,
              services: Iterable[str] | None = None, options: FollowOptions | None = None) -> Iterator[Follower]:
    """A follower running in a background thread for the block's duration (tests, benches, notebooks)."""
    follower = Follower(source, target, design, state_dir=state_dir, services=services)
    errors: list[BaseException] = []

    def body() -> None:
        try:
            follower.run(options)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=body, name="wb-follower", daemon=True)
    thread.start()
    try:
        yield follower
    finally:
        follower.stop()
        thread.join(timeout=60)
        follower.close()
    if errors:
        raise errors[0]


def wait_until(check: Callable[[], bool], timeout: float, every: float = 0.2) -> bool:
    """Poll ``check`` until it holds or ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return check()
