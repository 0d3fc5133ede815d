"""Follow the monolith: keep the services' schemas current from the legacy database's change log while it writes.

``workbench sync setup`` prepares change capture on the source (:func:`setup`), ``workbench sync
run`` follows it into the target the migration built (:func:`follow`), ``workbench sync status``
reports per service the position applied, the lag in row changes and seconds and the events/s
(:func:`status`), ``workbench sync teardown`` removes the capture (:func:`teardown`), and
``workbench sync rehearse`` proves it under load (:func:`~workbench.sync.rehearse.rehearse`).

Capture, per source (a real change log read with a maintained library)
    - PostgreSQL: logical decoding, ``pgoutput``, a slot and a publication limited to the captured
      tables, streamed with psycopg2's replication connection (:mod:`~workbench.sync.postgres`;
      why this and not the SQL functions, and how unchanged TOAST values and tables without a
      primary key are handled, is written there);
    - MariaDB/MySQL: the row-based binlog with python-mysql-replication, positions by GTID
      (:mod:`~workbench.sync.mariadb`);
    - SQLite: no log; read-only polling that finds changed key ranges with ``verify``'s checksums and
      copies only what changed, deletes included -- states between two polls are not seen
      (:mod:`~workbench.sync.reconcile`, :mod:`~workbench.sync.follow`).

Apply, per the design (:mod:`~workbench.sync.routes`, :mod:`~workbench.sync.apply`)
    Owned tables into their service, replicated reference data into every consumer, read models
    recomputed for the rows a change touches; idempotent; each batch of whole source transactions
    applied atomically per service with the source position in the same target transaction. The
    order of setup, copy and follow, and why no change is lost or doubled between them, is in
    :mod:`~workbench.sync.follow`.

The interface for other consumers of the capture (``workbench.events`` publishes the owners'
change events through it during the transition)
    :class:`RowChange`
        ``table`` (legacy key), ``op`` (``insert``/``update``/``delete``/``truncate``), ``key``,
        ``before``/``after`` (column -> Python value; ``unchanged`` names columns the log left out),
        ``position``, ``xid``, ``commit_time`` of the source transaction.
    :class:`SourceTransaction`
        ``position``, ``xid``, ``commit_time`` and its ``changes`` in log order; committed ones only.
    In-process, beside the apply: ``follow(source, target, design, options=FollowOptions(listeners=[f]))``
        calls ``f(batch: list[SourceTransaction])`` once every service has committed the batch (at
        least once: after a crash the batch may come again; the positions tell).
    A capture of its own: ``setup(source, design, name="wb_events")``, then
        ``rd = open_reader(source, design, state_dir)``; ``rd.start(position)``;
        ``for txn in rd.transactions(): ...; rd.confirm(txn.position)`` -- the consumer keeps its own
        position (``rd.covers``/``rd.merge`` compare and advance it) and confirms only what it
        committed; delivery is at least once.
"""

from __future__ import annotations

from pathlib import Path

from workbench.design.model import Design, load_design
from workbench.sync import state
from workbench.sync.capture import CaptureError, LogReader, reader
from workbench.sync.control import caught_up, default_name, setup, status, teardown
from workbench.sync.follow import Follower, FollowOptions, FollowResult, Listener, follow, following
from workbench.sync.model import CaptureSpec, RowChange, SourceTransaction, SyncStatus
from workbench.sync.routes import routes


def open_reader(source: str, design: Design | str | Path, state_dir: str | Path | None = None) -> LogReader:
    """A log reader for the capture set up in ``state_dir`` (default ``<design>/sync``); not started."""
    if isinstance(design, Design):
        if state_dir is None:
            raise CaptureError("give state_dir when the design is not a folder")
        d = design
    else:
        d = load_design(design)
    folder = Path(state_dir) if state_dir is not None else state.default_folder(design)  # type: ignore[arg-type]
    return reader(source, state.load_capture(folder), routes(d))


__all__ = [
    "CaptureError", "CaptureSpec", "FollowOptions", "FollowResult", "Follower", "Listener", "LogReader", "RowChange",
    "SourceTransaction", "SyncStatus", "caught_up", "default_name", "follow", "following", "open_reader", "setup",
    "status", "teardown",
]
