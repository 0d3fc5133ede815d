"""PostgreSQL capture: logical decoding with the built-in ``pgoutput`` plugin, a replication slot and a
publication limited to the captured tables.

Why this way
    The server here has ``pgoutput`` (built in) and not wal2json. The stream is read over the
    replication protocol with psycopg2's ``LogicalReplicationConnection`` (psycopg 3 has no
    replication API): the server pushes each transaction as it commits (no polling delay, no
    re-decoding of the WAL on every poll, as ``pg_logical_slot_peek_binary_changes`` does), and
    the slot advances only when we confirm a position (``send_feedback(flush_lsn=...)``) after
    every service committed it -- ``pg_logical_slot_get_changes`` would consume changes before
    they are applied, and lose them to a crash. pgoutput's messages (Begin, Relation, Insert,
    Update, Delete, Truncate, Commit; protocol version 1, documented in the PostgreSQL manual,
    "Logical Replication Message Formats") are unpacked here; column values come as PostgreSQL's
    text output and are typed by psycopg 3's own loaders (the DateStyle is ISO, TimeZone UTC).

Tables without a primary key
    An ``UPDATE`` or ``DELETE`` on a published table without a replica identity *fails on the
    source* ("cannot update table ... because it does not have a replica identity"). Setup
    therefore switches every captured table without a primary key to ``REPLICA IDENTITY FULL``
    (the old row is logged whole: the follower finds the row to change by all its values) before
    adding it to the publication, records the previous setting, and teardown restores it. Tables
    with a primary key keep ``DEFAULT``.

Unchanged TOAST values
    With ``REPLICA IDENTITY DEFAULT``, an ``UPDATE`` that leaves a value stored out of line
    (TOAST, over ~2 kB) untouched does not log it: pgoutput marks it "unchanged". The change then
    carries the column in :attr:`~workbench.sync.model.RowChange.unchanged` and the apply updates
    only the columns it has, leaving the target's value (the same) in place -- no need for FULL.

Retained WAL
    A slot keeps the WAL its consumer has not confirmed, without limit: a follower stopped for
    days fills the disk. ``workbench sync status`` and the monitoring SQL report the slot and the
    WAL it retains; ``workbench sync teardown`` drops it. While the follower idles, it confirms the
    server's position at keepalives, so a quiet set of tables does not hold WAL either.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import select
import struct
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from workbench.db import mask_url, resolve_url, source_engine, target_engine
from workbench.schema import table_key
from workbench.sync.capture import CaptureError, LogReader
from workbench.sync.model import CaptureHealth, CaptureSpec, RowChange, SetupAction, SourceTransaction, utc_now
from workbench.sync.routes import Routes

PRIVILEGES = [
    "REPLICATION (or superuser): create and read the replication slot",
    "CREATE on the database: create the publication (FOR TABLE: owner of each captured table)",
    "owner of each captured table without a primary key: ALTER TABLE ... REPLICA IDENTITY FULL",
    "SELECT on the captured tables (the follower reads read-model rows and snapshots, read-only)",
]

ENABLE = "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL (see .ci/run)"

_PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def lsn_int(text: str) -> int:
    """
    >>> lsn_int("0/4D2C0690"), lsn_text(lsn_int("1A/2B"))
    (1294730896, '1A/2B')
    """
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def lsn_text(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def _quote(conn: sa.Connection, schema: str, name: str) -> str:
    prep = conn.dialect.identifier_preparer
    return f"{prep.quote_schema(schema)}.{prep.quote(name)}"


def _locate(conn: sa.Connection, tables: list[str]) -> dict[str, tuple[str, str]]:
    """(schema, name) of each table key on the source (keys without a schema are in the default one)."""
    default = conn.dialect.default_schema_name or "public"
    out = {}
    for key in tables:
        schema, dot, name = key.partition(".")
        out[key] = (schema, name) if dot else (default, key)
    return out


def check_settings(conn: sa.Connection) -> None:
    level = conn.exec_driver_sql("SHOW wal_level").scalar()
    if level != "logical":
        raise CaptureError(f"PostgreSQL's wal_level is {level}, logical decoding needs logical: {ENABLE}")


def setup(url: str, name: str, routes: Routes) -> CaptureSpec:
    """Create the publication (after switching keyless tables to REPLICA IDENTITY FULL) and the slot.

    Idempotent: an existing publication gets the current table list, an existing slot is kept.
    """
    spec = CaptureSpec(name=name, backend="postgresql", source=mask_url(url), start="",
                       tables=routes.captured, privileges=list(PRIVILEGES), created_at=utc_now().isoformat())
    engine = target_engine(url, poolclass=sa.pool.NullPool)  # the one session that writes to the source's catalog
    try:
        with engine.begin() as conn:
            check_settings(conn)
            spec.database = conn.exec_driver_sql("SELECT current_database()").scalar()
            spec.default_schema = conn.dialect.default_schema_name or "public"
            located = _locate(conn, routes.captured)
            missing = []
            for key, (schema, table) in located.items():
                row = conn.execute(sa.text(
                    "SELECT c.relreplident, "
                    "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)"
                    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = :s AND c.relname = :t AND c.relkind IN ('r', 'p')"),
                    {"s": schema, "t": table}).first()
                if row is None:
                    missing.append(key)
                    continue
                identity, has_pk = row
                if has_pk or identity == "f":
                    continue
                sql = f"ALTER TABLE {_quote(conn, schema, table)} REPLICA IDENTITY FULL"
                conn.exec_driver_sql(sql)
                spec.replica_identity[key] = identity
                spec.actions.append(SetupAction(
                    f"{key}: no primary key -- REPLICA IDENTITY FULL, or its UPDATEs and DELETEs would fail once it "
                    "is published; the whole old row is logged and identifies the row (restored by teardown)", sql))
            if missing:
                raise CaptureError(f"{len(missing)} captured table(s) not found on {mask_url(url)}, "
                                   f"e.g. {missing[0]!r}: is the design from this database?")
            listed = ", ".join(_quote(conn, s, t) for s, t in located.values())
            prep = conn.dialect.identifier_preparer
            exists = conn.execute(sa.text("SELECT 1 FROM pg_publication WHERE pubname = :n"), {"n": name}).first()
            sql = (f"ALTER PUBLICATION {prep.quote(name)} SET TABLE {listed}" if exists
                   else f"CREATE PUBLICATION {prep.quote(name)} FOR TABLE {listed}")
            conn.exec_driver_sql(sql)
            spec.actions.append(SetupAction(f"publication {name}: the {len(located)} captured tables", sql))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            found = conn.execute(sa.text("SELECT confirmed_flush_lsn::text, plugin FROM pg_replication_slots "
                                         "WHERE slot_name = :n"), {"n": name}).first()
            sql = f"SELECT * FROM pg_create_logical_replication_slot('{name}', 'pgoutput')"
            if found is None:
                spec.start = conn.exec_driver_sql(sql).one()[1]
                spec.actions.append(SetupAction(f"replication slot {name} (pgoutput): retains WAL until confirmed",
                                                sql))
            else:
                if found[1] != "pgoutput":
                    raise CaptureError(f"a replication slot {name!r} exists with plugin {found[1]}: "
                                       "choose another name")
                spec.start = found[0]
                spec.actions.append(SetupAction(f"replication slot {name} (pgoutput), already there", sql, False))
    finally:
        engine.dispose()
    spec.notes.append("the slot retains WAL until the follower confirms it: run 'workbench sync teardown' when done")
    return spec


def teardown(url: str, spec: CaptureSpec) -> list[str]:
    """Drop the slot and the publication, restore each table's replica identity; what was done, as SQL."""
    done = []
    engine = target_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            slot = conn.execute(sa.text("SELECT active, active_pid FROM pg_replication_slots WHERE slot_name = :n"),
                                {"n": spec.name}).first()
            if slot is not None:
                if slot[0]:
                    raise CaptureError(f"the replication slot {spec.name!r} is in use (process {slot[1]}): stop the "
                                       "follower first")
                conn.execute(sa.text("SELECT pg_drop_replication_slot(:n)"), {"n": spec.name})
                done.append(f"SELECT pg_drop_replication_slot('{spec.name}')")
        with engine.begin() as conn:
            prep = conn.dialect.identifier_preparer
            sql = f"DROP PUBLICATION IF EXISTS {prep.quote(spec.name)}"
            conn.exec_driver_sql(sql)
            done.append(sql)
            setting = {"d": "DEFAULT", "n": "NOTHING"}
            for key, (schema, table) in _locate(conn, sorted(spec.replica_identity)).items():
                sql = f"ALTER TABLE {_quote(conn, schema, table)} REPLICA IDENTITY " \
                      f"{setting.get(spec.replica_identity[key], 'DEFAULT')}"
                with contextlib.suppress(sa.exc.ProgrammingError):  # the table is gone: nothing to restore
                    with conn.begin_nested():
                        conn.exec_driver_sql(sql)
                        done.append(sql)
    finally:
        engine.dispose()
    return done


def health(url: str, name: str) -> CaptureHealth:
    """The slot as the server sees it: whether it exists, is in use, and the WAL it retains."""
    engine = source_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text(
                "SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, "
                "confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = :n"), {"n": name}).first()
    finally:
        engine.dispose()
    if row is None:
        return CaptureHealth(False, message=f"no replication slot {name!r} on the source")
    active, retained, confirmed = row
    out = CaptureHealth(True, bool(active), int(retained or 0), confirmed)
    if not active:
        out.left_behind = True
        out.message = (f"replication slot {name!r} is not in use and retains {int(retained or 0):,} bytes of WAL "
                       "(growing): start 'workbench sync run' or drop it with 'workbench sync teardown'")
    return out


def _dsn(url: str) -> dict[str, Any]:
    parsed = resolve_url(url)
    out: dict[str, Any] = {"host": parsed.host or "localhost", "port": parsed.port or 5432,
                           "user": parsed.username, "dbname": parsed.database,
                           "options": "-c DateStyle=ISO -c TimeZone=UTC -c extra_float_digits=3 "
                                      "-c bytea_output=hex -c IntervalStyle=iso_8601"}
    if parsed.password:
        out["password"] = parsed.password
    return {k: v for k, v in out.items() if v is not None}


class _Relation:
    __slots__ = ("key", "names", "loaders", "wanted")

    def __init__(self, key: str, names: list[str], loaders: list[Any], wanted: bool) -> None:
        self.key, self.names, self.loaders, self.wanted = key, names, loaders, wanted


def _loader(oid: int) -> Any:
    import psycopg
    from psycopg.pq import Format

    cls = psycopg.adapters.get_loader(oid, Format.TEXT)
    return cls(oid, None) if cls is not None else None


class PostgresReader(LogReader):
    """Streams pgoutput from the capture's slot over the replication protocol (psycopg2)."""

    backend = "postgresql"

    def __init__(self, url: str, spec: CaptureSpec, routes: Routes) -> None:
        super().__init__(url, spec, routes)
        self._confirmed = 0
        self._sent = 0
        self._wal_end = 0
        self._conn: Any = None
        self._cur: Any = None
        self._default_schema = spec.default_schema or "public"

    # -- positions -------------------------------------------------------------------------------

    def covers(self, stored: str, position: str) -> bool:
        return lsn_int(position) <= lsn_int(stored)

    def merge(self, stored: str, position: str) -> str:
        return position if lsn_int(position) > lsn_int(stored) else stored

    def earliest(self, positions: list[str]) -> str:
        return lsn_text(min(lsn_int(p) for p in positions)) if positions else self.spec.start

    def visible(self, snapshot: dict[str, Any], txn: SourceTransaction) -> bool:
        """
        >>> r = PostgresReader("postgresql://x@h/d", CaptureSpec("c", "postgresql", "", "0/0"), Routes({}, {}, {}))
        >>> snap = {"xmin": 100, "xmax": 105, "xip": [102]}
        >>> [r.visible(snap, SourceTransaction("0/1", str(x), None, meta={"xid": x})) for x in (99, 102, 103, 105, 7)]
        [True, False, True, False, True]
        >>> r.visible({"xmin": (1 << 32) + 5, "xmax": (1 << 32) + 9, "xip": []},
        ...           SourceTransaction("0/1", "", None, meta={"xid": 4294967290}))
        True
        """
        xid = txn.meta.get("xid")
        if xid is None:
            return False
        xmax = int(snapshot["xmax"])
        full = (xmax & ~0xFFFFFFFF) | int(xid)  # the 32-bit xid in the epoch nearest the snapshot's
        if full - xmax > 1 << 31:
            full -= 1 << 32
        elif xmax - full > 1 << 31:
            full += 1 << 32
        return full < int(snapshot["xmin"]) or (full < xmax and full not in set(snapshot["xip"]))

    @contextlib.contextmanager
    def snapshot(self, engine: sa.Engine) -> Iterator[tuple[sa.Connection, dict[str, Any]]]:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            with conn.begin():
                text = conn.exec_driver_sql("SELECT pg_current_snapshot()::text").scalar_one()
                xmin, xmax, xip = text.split(":")
                yield conn, {"xmin": int(xmin), "xmax": int(xmax), "xip": [int(x) for x in xip.split(",") if x]}

    # -- the stream ------------------------------------------------------------------------------

    def confirm(self, position: str) -> None:
        value = lsn_int(position)
        if value > self._confirmed:
            self._confirmed = value

    def head(self) -> str | None:
        return lsn_text(self._wal_end) if self._wal_end else None

    def _keepalive(self) -> None:
        if self._cur is not None:
            self._cur.send_feedback(flush_lsn=self._confirmed, force=True)

    def _close_stream(self) -> None:
        pass  # the reading thread sends its last confirmation and closes the connection itself

    def _run(self, position: str) -> None:
        import psycopg2
        import psycopg2.extras

        try:
            conn = psycopg2.connect(connection_factory=psycopg2.extras.LogicalReplicationConnection, **_dsn(self.url))
        except psycopg2.OperationalError as exc:
            raise CaptureError(f"cannot open a replication connection to {self.spec.source}: "
                               f"{str(exc).strip().splitlines()[0]}") from None
        self._conn = conn
        cur = self._cur = conn.cursor()
        self._confirmed = max(self._confirmed, lsn_int(position))
        try:
            cur.start_replication(slot_name=self.spec.name, decode=False, start_lsn=lsn_int(position),
                                  options={"proto_version": "1", "publication_names": self.spec.name},
                                  status_interval=5)
        except psycopg2.Error as exc:
            raise CaptureError(f"cannot read the replication slot {self.spec.name!r}: "
                               f"{str(exc).strip().splitlines()[0]}") from None
        try:
            relations: dict[int, _Relation] = {}
            loaders: dict[int, Any] = {}
            txn: SourceTransaction | None = None
            pending: list[tuple[Any, ...]] = []
            last_feedback = 0.0
            unpack_from = struct.unpack_from
            while not self._stop.is_set():
                msg = cur.read_message()
                now = time.monotonic()
                if self._confirmed > self._sent or now - last_feedback > 1:
                    # asking for a reply makes the server send a keepalive: a fresh end of WAL while idle
                    cur.send_feedback(flush_lsn=self._confirmed, write_lsn=self._confirmed, reply=msg is None)
                    self._sent, last_feedback = self._confirmed, now
                if msg is None:
                    self._wal_end = max(self._wal_end, cur.wal_end)
                    if txn is None and cur.wal_end:
                        self._set_idle(lsn_text(cur.wal_end))
                    select.select([cur], [], [], 0.2)
                    continue
                data = msg.payload
                kind = data[0:1]
                self._wal_end = max(self._wal_end, msg.wal_end)
                if kind == b"B":
                    final_lsn, ts, xid = unpack_from(">QqI", data, 1)
                    commit = _PG_EPOCH + dt.timedelta(microseconds=ts)
                    txn = SourceTransaction(lsn_text(final_lsn), str(xid), commit, meta={"xid": xid})
                    pending = []
                    self.in_progress_since = now
                elif kind == b"C":
                    _flags, _commit_lsn, end_lsn, _ts = unpack_from(">BQQq", data, 1)
                    if txn is not None:
                        txn.position = lsn_text(end_lsn)
                        txn.received = time.monotonic()
                        txn.changes = [RowChange(t, op, k, b, a, txn.position, txn.xid, txn.commit_time, u)
                                       for t, op, k, b, a, u in pending]
                        self._emit(txn)
                    txn, pending = None, []
                    self.in_progress_since = None
                elif kind == b"R":
                    rel_id, schema, name, columns = _relation(data)
                    rel_loaders = []
                    for _col, oid in columns:
                        if oid not in loaders:
                            loaders[oid] = _loader(oid)
                        rel_loaders.append(loaders[oid])
                    key = table_key(None if schema == self._default_schema else schema, name)
                    relations[rel_id] = _Relation(key, [c for c, _ in columns], rel_loaders, key in self.keys)
                elif kind in (b"I", b"U", b"D"):
                    rel = relations[unpack_from(">I", data, 1)[0]]
                    if not rel.wanted:
                        continue
                    pos = 5
                    before = after = None
                    unchanged: tuple[str, ...] = ()
                    if kind == b"I":
                        after, unchanged, pos = _tuple(data, pos + 1, rel)
                    elif kind == b"D":
                        before, _, pos = _tuple(data, pos + 1, rel)
                    else:
                        if data[pos:pos + 1] in (b"K", b"O"):
                            before, _, pos = _tuple(data, pos + 1, rel)
                        after, unchanged, pos = _tuple(data, pos + 1, rel)
                    key_cols = self.keys[rel.key]
                    if before is not None and data[5:6] == b"K":  # the old key only: the other columns are not logged
                        before = {k: before.get(k) for k in key_cols}
                    image = after if after is not None else before or {}
                    key_values = {k: image.get(k) for k in key_cols}
                    op = {b"I": "insert", b"U": "update", b"D": "delete"}[kind]
                    pending.append((rel.key, op, key_values, before, after, unchanged))
                elif kind == b"T":
                    nrels, _options = unpack_from(">IB", data, 1)
                    for i in range(nrels):
                        truncated = relations.get(unpack_from(">I", data, 6 + 4 * i)[0])
                        if truncated is not None and truncated.wanted:
                            pending.append((truncated.key, "truncate", {}, None, None, ()))
                # 'O' (origin), 'Y' (type), 'M' (message): nothing to apply
        finally:
            with contextlib.suppress(Exception):
                cur.send_feedback(flush_lsn=self._confirmed, write_lsn=self._confirmed, force=True)
            with contextlib.suppress(Exception):
                conn.close()


def _relation(data: bytes) -> tuple[int, str, str, list[tuple[str, int]]]:
    """A Relation message: (relation id, schema, name, [(column, type oid)])."""
    rel_id = struct.unpack_from(">I", data, 1)[0]
    pos = 5
    end = data.index(b"\0", pos)
    schema = data[pos:end].decode()
    pos = end + 1
    end = data.index(b"\0", pos)
    name = data[pos:end].decode()
    pos = end + 2  # and the replica identity setting
    ncols = struct.unpack_from(">H", data, pos)[0]
    pos += 2
    columns = []
    for _ in range(ncols):
        pos += 1  # flags: part of the replica identity
        end = data.index(b"\0", pos)
        column = data[pos:end].decode()
        columns.append((column, struct.unpack_from(">I", data, end + 1)[0]))
        pos = end + 9
    return rel_id, schema, name, columns


def pending(url: str, spec: CaptureSpec, wanted: dict[str, set[str]], positions: dict[str, str],
            limit: int = 200_000) -> dict[str, tuple[int, dt.datetime | None]]:
    """Row changes waiting in the slot per service, and the commit time of the oldest (the follower stopped).

    Peeks at the slot (``pg_logical_slot_peek_binary_changes``: nothing is consumed) through a
    read-only session; ``wanted`` is service -> the tables whose changes it applies.
    """
    engine = source_engine(url, poolclass=sa.pool.NullPool)
    default = spec.default_schema or "public"
    out: dict[str, tuple[int, dt.datetime | None]] = {name: (0, None) for name in positions}
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT lsn::text, data FROM pg_logical_slot_peek_binary_changes(:slot, NULL, :limit, "
                "'proto_version', '1', 'publication_names', :publication)"),
                {"slot": spec.name, "publication": spec.name, "limit": limit})
            names: dict[int, str] = {}
            commit: dt.datetime | None = None
            tables: list[str] = []
            for _lsn, data in rows:
                data = bytes(data)
                kind = data[0:1]
                if kind == b"B":
                    commit = _PG_EPOCH + dt.timedelta(microseconds=struct.unpack_from(">q", data, 9)[0])
                    tables = []
                elif kind == b"R":
                    rel_id, schema, name, _ = _relation(data)
                    names[rel_id] = table_key(None if schema == default else schema, name)
                elif kind in (b"I", b"U", b"D"):
                    tables.append(names.get(struct.unpack_from(">I", data, 1)[0], ""))
                elif kind == b"C":
                    end = struct.unpack_from(">Q", data, 10)[0]
                    for service, position in positions.items():
                        if end > lsn_int(position):
                            mine = sum(1 for t in tables if t in wanted.get(service, ()))
                            count, oldest = out[service]
                            out[service] = (count + mine, oldest or (commit if mine else None))
    finally:
        engine.dispose()
    return out


def _tuple(data: bytes, pos: int, rel: _Relation) -> tuple[dict[str, Any], tuple[str, ...], int]:
    """One TupleData: column name -> typed value, the columns marked unchanged (TOAST), the next offset."""
    ncols = struct.unpack_from(">H", data, pos)[0]
    pos += 2
    values: dict[str, Any] = {}
    unchanged: list[str] = []
    names, loaders = rel.names, rel.loaders
    for i in range(ncols):
        kind = data[pos]
        pos += 1
        if kind == 0x6E:  # 'n': NULL
            values[names[i]] = None
        elif kind == 0x75:  # 'u': unchanged TOAST value, not in the log
            unchanged.append(names[i])
        else:  # 't' (text); 'b' (binary) is never asked for
            size = struct.unpack_from(">I", data, pos)[0]
            raw = data[pos + 4:pos + 4 + size]
            pos += 4 + size
            loader = loaders[i]
            if loader is None:
                values[names[i]] = raw.decode()
            else:
                try:
                    values[names[i]] = loader.load(raw)
                except Exception:  # noqa: BLE001 - a value the loader refuses (infinity dates) stays text
                    values[names[i]] = raw.decode()
    return values, tuple(unchanged), pos
