"""The SQL each service's operators should watch, for PostgreSQL and MariaDB/MySQL.

Per service (its namespace on the server the migration built):

- ``table_growth``: rows and bytes per table (record it on a schedule: growth is the difference);
- ``bloat`` (PostgreSQL: dead tuples and the last autovacuum) or ``fragmentation`` (InnoDB's free
  space inside the tables);
- ``unused_indexes``: indexes the server has never used since its statistics were reset;
- ``outbox_backlog``: events written to the transactional outbox and not yet relayed (rows whose
  ``published_at`` is still NULL, and how old the oldest is; ``workbench events relay`` sets it when
  the broker acknowledged the event);
- ``processed_growth``: rows of the idempotency table (``processed_message``) per consumer, how many
  came in the last day and the oldest: it grows by one row per event consumed, so prune rows older
  than the broker keeps messages (a redelivery older than that cannot come);
- ``event_lag``: per provider, events the service consumes (for its replicas and read models)
  that are not in its ``processed_message`` yet -- how far its copies lag behind. It reads the
  provider's outbox, so it needs both schemas on one server, as the migration lays them out;
- ``replication_lag``: WAL the replication slots (e.g. Debezium's) have not confirmed (PostgreSQL),
  the replica's delay (MariaDB/MySQL);
- ``capture_slots`` (run it on the *legacy* server while ``workbench sync`` follows it): every logical
  slot, whether a process reads it and the WAL it retains -- a slot left behind (``left_behind``)
  keeps WAL without limit; ``binlog_retention`` (MariaDB/MySQL): the GTID head and how long the
  binlog is kept, which bounds how long a follower may pause.

Identifiers are quoted by SQLAlchemy's dialect; names inside string literals are escaped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from workbench.design.ddl import dialect_of
from workbench.design.model import Design, ServiceDesign
from workbench.design.outbox import messaging
from workbench.design.schemas import check_dialect
from workbench.errors import WorkbenchError

DIALECTS = ("postgresql", "mysql")


@dataclass
class MonitorQuery:
    """One query to run on a schedule, and what to watch in its result."""

    service: str
    name: str
    purpose: str
    sql: str


def _literal(text: str) -> str:
    """
    >>> _literal("o'brien")
    "'o''brien'"
    """
    return "'" + text.replace("'", "''") + "'"


class _Names:
    def __init__(self, dialect: str) -> None:
        self.prep = dialect_of(dialect).identifier_preparer

    def table(self, schema: str, name: str) -> str:
        return f"{self.prep.quote_schema(schema)}.{self.prep.quote(name)}"

    def column(self, name: str) -> str:
        return self.prep.quote(name)


def _messaging(svc: ServiceDesign, job: str) -> str | None:
    return messaging(svc).get(job)


def _postgresql(svc: ServiceDesign) -> list[tuple[str, str, str]]:
    ns = _literal(svc.namespace)
    return [
        ("table_growth", "rows and bytes per table; run daily and compare: growth is the difference",
         ("SELECT s.relname AS table_name, s.n_live_tup AS live_rows, pg_total_relation_size(s.relid) AS total_bytes, "
         "pg_relation_size(s.relid) AS table_bytes, pg_indexes_size(s.relid) AS index_bytes, "
         "s.n_tup_ins AS inserted, s.n_tup_upd AS updated, s.n_tup_del AS deleted "
         f"FROM pg_stat_user_tables s WHERE s.schemaname = {ns} ORDER BY total_bytes DESC, table_name")),
        ("bloat", "dead rows per table: a dead share above ~0.2 that autovacuum does not bring down is bloat",
         ("SELECT relname AS table_name, n_live_tup AS live_rows, n_dead_tup AS dead_rows, "
         "round(n_dead_tup::numeric / NULLIF(n_live_tup + n_dead_tup, 0), 3) AS dead_share, "
         "last_autovacuum, last_autoanalyze "
         f"FROM pg_stat_user_tables WHERE schemaname = {ns} ORDER BY dead_rows DESC, table_name")),
        ("unused_indexes", "non-unique indexes never scanned since the statistics were reset: candidates to drop",
         ("SELECT s.relname AS table_name, s.indexrelname AS index_name, s.idx_scan AS scans, "
         "pg_relation_size(s.indexrelid) AS index_bytes "
         "FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid "
         f"WHERE s.schemaname = {ns} AND NOT i.indisunique AND s.idx_scan = 0 ORDER BY index_bytes DESC, index_name")),
        ("replication_lag", ("WAL not yet confirmed per replication slot (the outbox relay's, replicas'): "
         "should stay near 0 bytes"),
         ("SELECT slot_name, slot_type, active, "
         "pg_wal_lsn_diff(pg_current_wal_lsn(), COALESCE(confirmed_flush_lsn, restart_lsn)) AS lag_bytes "
         "FROM pg_replication_slots ORDER BY slot_name")),
        ("capture_slots", ("on the legacy server: change-capture slots (workbench sync, Debezium); a slot no process "
         "reads (left_behind) retains WAL without limit: follow it again or drop it (workbench sync teardown)"),
         ("SELECT slot_name, plugin, database, active, "
         "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained_bytes, "
         "confirmed_flush_lsn::text AS confirmed, NOT active AS left_behind "
         "FROM pg_replication_slots WHERE slot_type = 'logical' ORDER BY retained_bytes DESC, slot_name")),
    ]


def _mysql(svc: ServiceDesign) -> list[tuple[str, str, str]]:
    ns = _literal(svc.namespace)
    return [
        ("table_growth", "rows (InnoDB's estimate) and bytes per table; run daily and compare",
         ("SELECT table_name, table_rows, data_length, index_length, data_length + index_length AS total_bytes "
         f"FROM information_schema.tables WHERE table_schema = {ns} AND table_type = 'BASE TABLE' "
         "ORDER BY total_bytes DESC, table_name")),
        ("fragmentation", ("free space inside each table: a free share above ~0.2 on a big table calls for "
         "OPTIMIZE TABLE"),
         ("SELECT table_name, data_free, ROUND(data_free / NULLIF(data_length + index_length + data_free, 0), 3) "
         f"AS free_share FROM information_schema.tables WHERE table_schema = {ns} AND table_type = 'BASE TABLE' "
         "ORDER BY data_free DESC, table_name")),
        ("unused_indexes", "indexes no statement used since the server started (performance_schema must be on)",
         ("SELECT object_name AS table_name, index_name FROM sys.schema_unused_indexes "
         f"WHERE object_schema = {ns} ORDER BY object_name, index_name")),
        ("replication_lag", "on a replica: Seconds_Behind_Master should stay near 0 (empty on a primary)",
         "SHOW REPLICA STATUS"),
        ("binlog_retention", ("on the legacy server: the binlog's GTID head and how long it is kept; a change-capture "
         "follower (workbench sync) paused longer than that cannot resume"),
         "SELECT @@gtid_binlog_pos AS gtid_head, @@binlog_expire_logs_seconds AS expire_seconds"),
    ]


def _outbox(svc: ServiceDesign, names: _Names) -> tuple[str, str, str] | None:
    outbox = _messaging(svc, "outbox")
    if outbox is None:
        return None
    tt = svc.table(outbox)
    columns = {c.name for c in tt.table.columns}
    oldest = f", MIN({names.column('created_at')}) AS oldest_waiting" if "created_at" in columns else ""
    if "published_at" in columns:
        where = f" WHERE {names.column('published_at')} IS NULL"
    elif "published" in columns:
        where = f" WHERE {names.column('published')} = 0"
    else:
        where = ""
    return (
        "outbox_backlog",
        ("events waiting in the outbox: should stay near 0 (a growing count or an old oldest_waiting (UTC) means "
         "the relay is down or behind)"),
        f"SELECT COUNT(*) AS waiting_events{oldest} FROM {names.table(svc.namespace, outbox)}{where}",
    )


def _processed(svc: ServiceDesign, names: _Names, dialect: str) -> tuple[str, str, str] | None:
    inbox = _messaging(svc, "inbox")
    if inbox is None or svc.table(inbox).table.column("processed_at") is None:
        return None
    at = names.column("processed_at")
    day = "(now() AT TIME ZONE 'UTC') - INTERVAL '1 day'" if dialect == "postgresql" else \
        "UTC_TIMESTAMP() - INTERVAL 1 DAY"
    return (
        "processed_growth",
        ("rows of the idempotency table per consumer: one per event consumed; record daily, and prune rows older "
         "than the broker keeps messages (times in UTC)"),
        f"SELECT {names.column('consumer_id')} AS consumer_id, COUNT(*) AS processed, "
        f"SUM(CASE WHEN {at} >= {day} THEN 1 ELSE 0 END) AS last_day, MIN({at}) AS oldest "
        f"FROM {names.table(svc.namespace, inbox)} GROUP BY {names.column('consumer_id')} ORDER BY processed DESC",
    )


def _event_lag(design: Design, svc: ServiceDesign, names: _Names, present: set[str]) -> tuple[str, str, str] | None:
    inbox = _messaging(svc, "inbox")
    by_provider: dict[str, set[str]] = defaultdict(set)
    for e in design.events:
        if svc.name in e.consumers and e.service in present:
            by_provider[e.service].add(e.type)
    parts = []
    for provider, types in sorted(by_provider.items()):
        psvc = design.services[provider]
        outbox = _messaging(psvc, "outbox")
        if outbox is None or inbox is None:
            continue
        type_list = ", ".join(_literal(t) for t in sorted(types))
        parts.append(
            f"SELECT {_literal(provider)} AS provider, COUNT(*) AS unprocessed_events "
            f"FROM {names.table(psvc.namespace, outbox)} o WHERE o.{names.column('type')} IN ({type_list}) "
            f"AND NOT EXISTS (SELECT 1 FROM {names.table(svc.namespace, inbox)} p "
            f"WHERE p.{names.column('consumer_id')} = {_literal(svc.name)} "
            f"AND p.{names.column('message_id')} = o.{names.column('id')})")
    if not parts:
        return None
    return ("event_lag", ("events this service consumes (for its replicas and read models) not processed yet, per "
            "provider: how far its copies lag behind (consumer_id is the service's name)"), " UNION ALL ".join(parts))


def queries(design: Design, dialect: str = "postgresql", services: Iterable[str] | None = None,
            providers: Iterable[str] | None = None) -> list[MonitorQuery]:
    """The monitoring queries of each service for ``dialect`` (``postgresql`` or ``mysql``/``mariadb``).

    ``providers`` limits ``event_lag`` to the providers already on the server (a wave-by-wave
    migration leaves the others in the legacy database); default: every service of the design.

    Raises
    ------
    WorkbenchError
        For a dialect other than PostgreSQL and MariaDB/MySQL.
    """
    dialect = check_dialect(dialect)
    if dialect not in DIALECTS:
        raise WorkbenchError(f"monitoring SQL is written for PostgreSQL and MariaDB/MySQL, not {dialect}")
    names = _Names(dialect)
    present = set(providers) if providers is not None else set(design.services)
    out = []
    for name in sorted(services) if services is not None else sorted(design.services):
        svc = design.service(name)
        items = _postgresql(svc) if dialect == "postgresql" else _mysql(svc)
        items += [q for q in (_outbox(svc, names), _processed(svc, names, dialect),
                              _event_lag(design, svc, names, present)) if q is not None]
        out += [MonitorQuery(name, n, purpose, sql) for n, purpose, sql in items]
    return out


def script(items: list[MonitorQuery], dialect: str) -> str:
    """The queries as one commented SQL script (what ``workbench monitor`` prints)."""
    lines = [f"-- Monitoring queries ({check_dialect(dialect)}), generated by the workbench from design.json"]
    for q in items:
        lines += ["", f"-- {q.service}: {q.name}: {q.purpose}", q.sql + ";"]
    return "\n".join(lines) + "\n"
