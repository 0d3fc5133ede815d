"""MariaDB/MySQL capture: the row-based binary log, read with python-mysql-replication, positions by GTID.

Setup creates nothing on the source: it checks ``log_bin``, ``binlog_format=ROW`` and
``binlog_row_image=FULL`` (every row event carries the whole row before and after, so a table
without a primary key can be followed by its values) and records the GTID position to start from
(``@@gtid_binlog_pos``). The follower registers as a replica with a server id of its own and
reads the binlog from the earliest GTID its services have applied (``auto_position``); a GTID
names one transaction, and whole transactions are applied, so it is an exact resume point.

The binlog is the server's, shared by every database on it: row events are filtered to the
source database's tables (``only_schemas`` plus the captured table list); transactions of other
databases arrive empty and only move the position forward.

Column names: with ``binlog_row_metadata=FULL`` (MariaDB 10.5+, MySQL 8) they are in the log;
otherwise python-mysql-replication reads them from ``information_schema`` (``use_column_name_cache``)
-- right as long as no captured table's columns change while following. Without that metadata the
library decodes every string column as UTF-8, so a captured binary column (BLOB, BINARY) needs
``binlog_row_metadata=FULL``; setup refuses otherwise. Statements in the log (DDL, ``TRUNCATE``) are
not row changes and are not followed; they are counted in the follower's notes.

Binlog retention is the opposite risk of a PostgreSQL slot: nothing holds the log for us, so a
follower stopped longer than ``binlog_expire_logs_seconds`` finds its GTID purged and must be set up
again (status names the oldest binlog still on the server).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import time
import zlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from workbench.db import mask_url, resolve_url, source_engine
from workbench.schema import table_key
from workbench.sync.capture import CaptureError, LogReader
from workbench.sync.model import CaptureHealth, CaptureSpec, RowChange, SetupAction, SourceTransaction, utc_now
from workbench.sync.routes import Routes

PRIVILEGES = [
    "REPLICATION SLAVE: read the binary log",
    "BINLOG MONITOR (MariaDB 10.5+; REPLICATION CLIENT before): read the GTID position and binlog list",
    "SELECT on the captured tables and information_schema (column names, read models, snapshots; read-only)",
]

ENABLE = ("start MariaDB with --log-bin --binlog-format=ROW --binlog-row-image=FULL --server-id=1 "
          "(see .ci/run)")

_GTID = re.compile(r"^\d+-\d+-\d+$")


def parse_gtids(text: str) -> dict[int, tuple[int, int]]:
    """A GTID list as domain -> (server, sequence).

    >>> parse_gtids("0-1-3920,1-2-5")
    {0: (1, 3920), 1: (2, 5)}
    """
    out = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if not _GTID.match(part):
            raise CaptureError(f"not a MariaDB GTID: {part!r}")
        domain, server, seq = (int(x) for x in part.split("-"))
        out[domain] = (server, seq)
    return out


def gtid_text(gtids: dict[int, tuple[int, int]]) -> str:
    return ",".join(f"{d}-{s}-{n}" for d, (s, n) in sorted(gtids.items()))


def _binlog_index(name: str) -> int:
    suffix = name.rsplit(".", 1)[-1]
    return int(suffix) if suffix.isdigit() else 0


def _variables(conn: sa.Connection) -> dict[str, Any]:
    names = ("log_bin", "binlog_format", "binlog_row_image", "server_id", "gtid_binlog_pos", "binlog_row_metadata")
    out = {}
    for name in names:
        try:
            out[name] = conn.exec_driver_sql(f"SELECT @@{name}").scalar()
        except sa.exc.DBAPIError:
            out[name] = None  # MySQL has no gtid_binlog_pos, older servers no binlog_row_metadata
    return out


def check_settings(conn: sa.Connection) -> dict[str, Any]:
    found = _variables(conn)
    wrong = []
    if str(found["log_bin"]) not in ("1", "ON"):
        wrong.append("log_bin is off")
    if str(found["binlog_format"]).upper() != "ROW":
        wrong.append(f"binlog_format is {found['binlog_format']}")
    if str(found["binlog_row_image"]).upper() != "FULL":
        wrong.append(f"binlog_row_image is {found['binlog_row_image']}")
    if not found["server_id"]:
        wrong.append("server_id is 0")
    if wrong:
        raise CaptureError(f"the binlog cannot be followed ({'; '.join(wrong)}): {ENABLE}")
    if found["gtid_binlog_pos"] is None:
        raise CaptureError("this server has no MariaDB GTIDs (@@gtid_binlog_pos): follow a MariaDB source")
    return found


def setup(url: str, name: str, routes: Routes) -> CaptureSpec:
    """Check the binlog settings and record where the follow starts; nothing is created on the source."""
    engine = source_engine(url, poolclass=sa.pool.NullPool)
    spec = CaptureSpec(name=name, backend="mysql", source=mask_url(url), start="", tables=routes.captured,
                       privileges=list(PRIVILEGES), created_at=utc_now().isoformat())
    try:
        with engine.connect() as conn:
            found = check_settings(conn)
            spec.database = conn.exec_driver_sql("SELECT DATABASE()").scalar()
            spec.default_schema = spec.database
            spec.start = str(found["gtid_binlog_pos"] or "")
            binary = conn.execute(sa.text(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = :s AND "
                "data_type IN ('binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob')"),
                {"s": spec.database}).all()
    finally:
        engine.dispose()
    captured = set(routes.captured)
    binary_columns = [(str(t), str(c)) for t, c in binary if t in captured]
    if binary_columns and str(found.get("binlog_row_metadata") or "").upper() != "FULL":
        table, column = binary_columns[0]
        raise CaptureError(f"{table}.{column} is a binary column: without binlog_row_metadata=FULL the "
                           "binlog reader cannot tell its bytes from text; set it (SET GLOBAL binlog_row_metadata = "
                           "FULL, and in the server's configuration) and run setup again")
    spec.actions.append(SetupAction("nothing created on the source: the binlog is read from this GTID position",
                                    f"SELECT @@gtid_binlog_pos  -- {spec.start or '(empty)'}", False))
    if str(found.get("binlog_row_metadata") or "").upper() != "FULL":
        spec.notes.append("binlog_row_metadata is not FULL: column names are read from information_schema, so a "
                          "column change on a captured table while following needs a new setup")
    spec.notes.append("nothing retains the binlog for the follower: keep binlog_expire_logs_seconds above the "
                      "longest pause")
    return spec


def health(url: str, spec: CaptureSpec) -> CaptureHealth:
    """Whether the binlog still holds the capture's start (the oldest binlog file is named)."""
    engine = source_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            logs = [r[0] for r in conn.exec_driver_sql("SHOW BINARY LOGS")]
            head = conn.exec_driver_sql("SELECT @@gtid_binlog_pos").scalar()
            gone = purged(conn, spec.start)
    finally:
        engine.dispose()
    if gone:
        return CaptureHealth(True, None, None, head, True, gone)
    return CaptureHealth(True, None, None, head, False,
                         f"binlog files {logs[0]} .. {logs[-1]} on the server" if logs else "no binlog files")


def oldest_gtids(conn: sa.Connection) -> tuple[str, dict[int, tuple[int, int]]]:
    """The oldest binlog file on the server and the GTIDs logged before it (its Gtid_list event)."""
    logs = [r[0] for r in conn.exec_driver_sql("SHOW BINARY LOGS")]
    if not logs:
        return "", {}
    for row in conn.exec_driver_sql(f"SHOW BINLOG EVENTS IN '{logs[0]}' LIMIT 4"):
        if row[2] == "Gtid_list":
            return logs[0], parse_gtids(str(row[5]).strip("[] "))
    return logs[0], {}


def purged(conn: sa.Connection, position: str) -> str | None:
    """A message when the binlog no longer holds the transactions after ``position`` (None: it does)."""
    if not position:
        return None
    first, before = oldest_gtids(conn)
    for domain, (_server, seq) in parse_gtids(position).items():
        if domain in before and before[domain][1] > seq:
            return (f"the binlog no longer holds what follows GTID {position} (the oldest file, {first}, starts after "
                    f"{gtid_text({domain: before[domain]})}): purged; set the capture up again (sync teardown, setup) "
                    "and the follower levels every service anew")
    return None


def _connection(url: str) -> dict[str, Any]:
    parsed = resolve_url(url)
    return {"host": parsed.host or "localhost", "port": parsed.port or 3306, "user": parsed.username or "",
            "password": parsed.password or ""}


class MariaDBReader(LogReader):
    """Reads the binlog through python-mysql-replication's ``BinLogStreamReader`` (blocking, GTID auto-position)."""

    backend = "mysql"

    def __init__(self, url: str, spec: CaptureSpec, routes: Routes) -> None:
        super().__init__(url, spec, routes)
        self._stream: Any = None
        self._head: str | None = None
        self.statements = 0

    # -- positions -------------------------------------------------------------------------------

    def covers(self, stored: str, position: str) -> bool:
        done = parse_gtids(stored)
        for domain, (_server, seq) in parse_gtids(position).items():
            if domain not in done or done[domain][1] < seq:
                return False
        return True

    def merge(self, stored: str, position: str) -> str:
        done = parse_gtids(stored)
        done.update(parse_gtids(position))
        return gtid_text(done)

    def earliest(self, positions: list[str]) -> str:
        if not positions:
            return self.spec.start
        parsed = [parse_gtids(p) for p in positions]
        domains = set().union(*parsed)
        out = {}
        for d in domains:
            known = [p[d] for p in parsed if d in p]
            out[d] = min(known, key=lambda x: x[1]) if len(known) == len(parsed) else (known[0][0], 0)
        return gtid_text(out)

    def visible(self, snapshot: dict[str, Any], txn: SourceTransaction) -> bool:
        if "file" not in txn.meta:
            return False
        mine = (_binlog_index(txn.meta["file"]), int(txn.meta["pos"]))
        return mine <= (_binlog_index(snapshot["file"]), int(snapshot["pos"]))

    @contextlib.contextmanager
    def snapshot(self, engine: sa.Engine) -> Iterator[tuple[sa.Connection, dict[str, Any]]]:
        with engine.connect() as conn:
            conn.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            try:
                status = {k: v for k, v in conn.execute(sa.text("SHOW STATUS LIKE 'binlog_snapshot_%'"))}
                yield conn, {"file": status["Binlog_snapshot_file"], "pos": int(status["Binlog_snapshot_position"])}
            finally:
                conn.exec_driver_sql("COMMIT")

    # -- the stream ------------------------------------------------------------------------------

    def head(self) -> str | None:
        return self._head

    def _close_stream(self) -> None:
        stream = self._stream
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()

    def _run(self, position: str) -> None:
        from pymysqlreplication import BinLogStreamReader
        from pymysqlreplication.event import MariadbGtidEvent, QueryEvent, RotateEvent, XidEvent
        from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

        logging.getLogger("pymysqlreplication").setLevel(logging.ERROR)  # its advice on binlog_row_metadata: see doc
        engine = source_engine(self.url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                gone = purged(conn, position)
        finally:
            engine.dispose()
        if gone:  # the library would reconnect for ever to a server that refuses the position
            raise CaptureError(gone)
        database = self.spec.database or ""
        schemas = sorted({database} | {t.partition(".")[0] for t in self.keys if "." in t})
        tables = sorted({t.partition(".")[2] if "." in t else t for t in self.keys})
        # a replica id of our own: the capture's name, this process (two followers never collide)
        server_id = 1_000_000 + (zlib.crc32(f"{self.spec.name}:{os.getpid()}".encode()) % 1_000_000_000)
        self._stream = stream = BinLogStreamReader(
            connection_settings=_connection(self.url), server_id=server_id, blocking=self.blocking, resume_stream=True,
            is_mariadb=True, auto_position=position or None, only_schemas=schemas, only_tables=tables,
            use_column_name_cache=True, enable_logging=False, slave_heartbeat=1,
            only_events=[MariadbGtidEvent, XidEvent, QueryEvent, RotateEvent, WriteRowsEvent, UpdateRowsEvent,
                         DeleteRowsEvent])
        txn: SourceTransaction | None = None
        pending: list[tuple[Any, ...]] = []
        for event in stream:
            if self._stop.is_set():
                break
            if isinstance(event, MariadbGtidEvent):
                txn = SourceTransaction(event.gtid, event.gtid, None)
                pending = []
                self.in_progress_since = time.monotonic()
                self._head = event.gtid
                continue
            if isinstance(event, WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent):
                key = table_key(None if event.schema == database else event.schema, event.table)
                if txn is None or key not in self.keys:
                    continue
                key_cols = self.keys[key]
                for row in event.rows:
                    if isinstance(event, WriteRowsEvent):
                        before, after, op = None, row["values"], "insert"
                    elif isinstance(event, UpdateRowsEvent):
                        before, after, op = row["before_values"], row["after_values"], "update"
                    else:
                        before, after, op = row["values"], None, "delete"
                    image = after if after is not None else before or {}
                    pending.append((key, op, {k: image.get(k) for k in key_cols}, before, after))
                continue
            commit = isinstance(event, XidEvent) or (
                isinstance(event, QueryEvent) and event.query.strip().upper() in ("COMMIT", "COMMIT;"))
            if isinstance(event, QueryEvent) and not commit:
                query = event.query.strip().upper()
                if query == "BEGIN":
                    continue
                schema = event.schema.decode() if isinstance(event.schema, bytes) else str(event.schema or "")
                if schema in schemas:
                    self.statements += 1  # DDL or a statement-logged change on a followed database: not followed
                if txn is None:
                    continue
                commit = True  # a statement outside BEGIN ... COMMIT (DDL) is its own transaction
            if commit and txn is not None:
                moment = dt.datetime.fromtimestamp(event.timestamp, dt.UTC)
                txn.commit_time = moment
                txn.received = time.monotonic()
                txn.meta = {"file": stream.log_file, "pos": stream.log_pos}
                txn.changes = [RowChange(t, op, k, b, a, txn.position, txn.xid, moment) for t, op, k, b, a in pending]
                self._emit(txn)
                self._set_idle(txn.position)
                txn, pending = None, []
                self.in_progress_since = None


def pending(url: str, spec: CaptureSpec, routes: Routes, wanted: dict[str, set[str]], positions: dict[str, str],
            limit: int = 200_000) -> dict[str, tuple[int, dt.datetime | None]]:
    """Row changes in the binlog after each service's position, and the oldest's commit time (follower stopped)."""
    rd = MariaDBReader(url, spec, routes)
    rd.blocking = False
    out: dict[str, tuple[int, dt.datetime | None]] = {name: (0, None) for name in positions}
    rd.start(rd.earliest(list(positions.values())))
    seen = 0
    try:
        while seen < limit:
            txn = rd.get(0.5)
            if txn is None:
                if not rd.running():
                    break
                continue
            for service, position in positions.items():
                mine = sum(1 for c in txn.changes if c.table in wanted.get(service, ()))
                if mine and not rd.covers(position, txn.position):
                    count, oldest = out[service]
                    out[service] = (count + mine, oldest or txn.commit_time)
            seen += len(txn.changes)
    finally:
        rd.close()
    return out
