"""Writing the simulated workload as the logs real servers write, one file per format.

The point is fidelity to what the servers do, so the ingestion is exercised on the same shapes
(the tests also capture real logs to check that): PostgreSQL csvlog with
``log_min_duration_statement = 0`` (simple-protocol sessions inline literals, extended-protocol
sessions send ``$n`` with a ``parameters:`` detail; the virtual transaction id reads ``B/0`` once a
transaction is over), ``pg_stat_statements`` and MySQL digest exports (constants as ``$n`` / ``?``,
digests cut at 1,024 bytes), the MariaDB general log (half the sessions with
``SET AUTOCOMMIT = 0`` as PyMySQL does, the other half with explicit ``START TRANSACTION``), and
the generic JSON Lines and CSV. Digest texts follow what MariaDB 10.11 writes (tokens spaced,
``(...)`` for lists, captured from a real server); the rest follows captures from PostgreSQL 15.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import IO, Any

from sqlglot.dialects.mysql import MySQL
from sqlglot.tokens import TokenType
from tqdm import tqdm

from workbench import serde
from workbench.workload.simulate import START, Param, SimStatement, simulate

FILES: dict[str, str] = {
    "pg_csvlog": "postgresql.csv",
    "pg_stat_statements": "pg_stat_statements.csv",
    "mysql_digest": "events_statements_summary_by_digest.csv",
    "mysql_general_log": "general.log",
    "jsonl": "statements.jsonl",
    "csv": "statements.csv",
}
"""Format -> file name written in the output folder."""

DATABASE = "retail"
MAX_DIGEST_LENGTH = 1024
_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}


# --- rendering values ---------------------------------------------------------------------------------------------


def _pg_literal(value: Param) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple):
        return ", ".join(_pg_literal(v) for v in value)
    return "'" + value.replace("'", "''") + "'"


def _my_literal(value: Param) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, tuple):
        return ", ".join(_my_literal(v) for v in value)
    return _pg_literal(value)


@cache
def _parts(sql: str) -> tuple[str, ...]:
    return tuple(sql.split("?"))


def render(sql: str, params: Sequence[Param], style: str) -> str:
    """A statement with its values inlined the way a client would: ``postgres`` or ``mysql``.

    >>> render('SELECT * FROM "tblSupplier" WHERE n = ? AND id IN (?)', ("O'Neil", (1, 2)), "mysql")
    "SELECT * FROM `tblSupplier` WHERE n = 'O\\\\'Neil' AND id IN (1, 2)"
    """
    parts = _parts(sql)
    lit = _my_literal if style == "mysql" else _pg_literal
    out = [parts[0]]
    for part, value in zip(parts[1:], params, strict=True):
        out.append(lit(value))
        out.append(part)
    text = "".join(out)
    return text.replace('"', "`") if style == "mysql" else text


def render_numbered(sql: str, params: Sequence[Param]) -> tuple[str, list[str]]:
    """The statement with ``$n`` parameters (extended protocol) and their logged values.

    >>> render_numbered("SELECT ? WHERE x IN (?)", (5, (1, 2)))
    ('SELECT $1 WHERE x IN ($2, $3)', ["'5'", "'1'", "'2'"])
    """
    parts = _parts(sql)
    out = [parts[0]]
    values: list[str] = []
    for part, value in zip(parts[1:], params, strict=True):
        items = value if isinstance(value, tuple) else (value,)
        out.append(", ".join(f"${len(values) + i + 1}" for i in range(len(items))))
        values += ["NULL" if v is None else "'" + str(v).replace("'", "''") + "'" for v in items]
        out.append(part)
    return "".join(out), values


def _pgss_text(sql: str, params: Sequence[Param]) -> str:
    """What pg_stat_statements shows: every constant a ``$n`` (IN-lists keep their length)."""
    return render_numbered(sql, params)[0]


_LITERALS = {TokenType.NUMBER, TokenType.STRING, TokenType.PLACEHOLDER, TokenType.HEX_STRING, TokenType.BIT_STRING}
_NAMES = {TokenType.VAR, TokenType.IDENTIFIER}
_SQL_FUNCTIONS = {"COUNT", "SUM", "AVG", "MIN", "MAX", "CAST", "COALESCE"}  # keywords to MariaDB's lexer


@cache
def _digest_text(sql: str) -> str:
    """A digest as MariaDB writes it: one space between tokens, names in backticks, constants ``?``,
    lists of constants ``(...)``, a trailing space; cut at 1,024 bytes with ``...``.

    >>> _digest_text('SELECT COUNT(*) FROM "Order" o WHERE o.id IN (?) AND o.n <> 5')
    'SELECT COUNT ( * ) FROM `Order` `o` WHERE `o` . `id` IN (...) AND `o` . `n` != ? '
    """
    if sql in _CONTROL:
        return sql
    tokens = MySQL().tokenize(sql.replace('"', "`"))
    out = []
    for i, tok in enumerate(tokens):
        kind = tok.token_type
        if kind in _LITERALS:
            out.append("?")
        elif kind in _NAMES:
            follows_paren = i + 1 < len(tokens) and tokens[i + 1].token_type == TokenType.L_PAREN
            name = tok.text.upper()
            out.append(name if follows_paren and name in _SQL_FUNCTIONS else f"`{tok.text}`")
        elif kind == TokenType.NEQ:
            out.append("!=")
        else:
            out.append(tok.text.upper() if tok.text.isalpha() else tok.text)
    text = " ".join(out)
    text = re.sub(r"\b(IN|VALUES) \( \?(?: , \?)* \)", r"\1 (...)", text)
    text = re.sub(r"\( \? \)", "(?)", text) + " "
    raw = text.encode("utf-8")
    if len(raw) > MAX_DIGEST_LENGTH:
        text = raw[: MAX_DIGEST_LENGTH - 3].decode("utf-8", "ignore") + "..."
    return text


# --- one writer per format ----------------------------------------------------------------------------------------


def _stamp(t: float) -> datetime:
    return datetime.fromtimestamp(START + t, UTC)


@lru_cache(maxsize=64)
def _pg_second(second: int) -> str:
    return _stamp(second).strftime("%Y-%m-%d %H:%M:%S")


def _pg_time(t: float) -> str:
    """``2025-03-01 10:00:00.123 UTC``, as csvlog writes it (one strftime per second, not per row)."""
    second = int(t)
    return f"{_pg_second(second)}.{int((t - second) * 1000):03d} UTC"


class _CsvLog:
    """PostgreSQL 14+ csvlog, as written with ``log_min_duration_statement = 0``."""

    def __init__(self, handle: IO[str]) -> None:
        self.w = csv.writer(handle, lineterminator="\n")
        self.line: Counter[int] = Counter()
        self.lxid: Counter[int] = Counter()
        self.open_lxid: dict[int, int] = {}
        self.xid = 1000
        self.has_xid: dict[int, int] = {}

    def _row(self, s: SimStatement, tag: str, vxid: str, xid: int, message: str, detail: str = "") -> None:
        session = s.session
        self.line[session] += 1
        pid = 20_000 + 37 * session
        self.w.writerow([
            _pg_time(s.t), "shop", DATABASE, pid,
            f"10.0.1.{10 + session}:{40_000 + session}", f"67c25a00.{pid:x}", self.line[session], tag,
            "2025-03-01 00:00:00 UTC", vxid, xid, "LOG", "00000", message, detail, "", "", "", "", "", "", "", "shop",
            "client backend", "", 0,
        ])  # fmt: skip

    def write(self, s: SimStatement) -> None:
        session = s.session
        backend = session + 3
        if self.line[session] == 0:
            self._row(s, "authentication", f"{backend}/1", 0, f"connection authorized: user=shop database={DATABASE}")
        extended = session % 2 == 0 and s.params
        word = s.sql.split(" ", 1)[0].upper()
        if s.sql == "BEGIN":
            self.lxid[session] += 1
            self.open_lxid[session] = self.lxid[session]
        in_block = session in self.open_lxid
        if in_block and word in ("INSERT", "UPDATE", "DELETE") and session not in self.has_xid:
            self.xid += 1
            self.has_xid[session] = self.xid
        xid = self.has_xid.get(session, 0) if in_block else 0
        if s.sql in ("COMMIT", "ROLLBACK"):
            self.open_lxid.pop(session, None)
            self.has_xid.pop(session, None)
            vxid, xid = f"{backend}/0", 0
        elif in_block:
            vxid = f"{backend}/{self.open_lxid[session]}"
        else:
            self.lxid[session] += 1
            vxid = f"{backend}/{self.lxid[session] if extended else 0}"
        if extended:
            text, values = render_numbered(s.sql, s.params)
            detail = "parameters: " + ", ".join(f"${i} = {v}" for i, v in enumerate(values, start=1))
            self._row(s, word, vxid, xid, f"duration: {s.duration_ms:.3f} ms  execute <unnamed>: {text}", detail)
        else:
            text = render(s.sql, s.params, "postgres")
            self._row(s, word, vxid, xid, f"duration: {s.duration_ms:.3f} ms  statement: {text}")


class _GeneralLog:
    """The MariaDB general query log file."""

    def __init__(self, handle: IO[str]) -> None:
        self.h = handle
        self.last_second = -1
        self.seen: set[int] = set()
        handle.write(
            "/usr/sbin/mariadbd, Version: 10.11.6-MariaDB-0+deb12u1-log (Debian 12). started with:\n"
            "Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\n"
            "Time\t\t    Id Command\tArgument\n"
        )

    def _entry(self, t: float, thread: int, command: str, argument: str) -> None:
        second = int(t)
        if second != self.last_second:
            self.last_second = second
            when = _stamp(t)
            prefix = when.strftime("%y%m%d ") + f"{when.hour:2d}:{when.minute:02d}:{when.second:02d}\t"
        else:
            prefix = "\t\t"
        self.h.write(f"{prefix}{thread:6d} {command}\t{argument}\n")

    def write(self, s: SimStatement) -> None:
        thread = 100 + s.session
        manual = s.session % 2 == 1  # PyMySQL/SQLAlchemy style: SET AUTOCOMMIT = 0, COMMIT/ROLLBACK per request
        if s.session not in self.seen:
            self.seen.add(s.session)
            self._entry(s.t, thread, "Connect", f"shop@10.0.1.{10 + s.session} on {DATABASE} using TCP/IP")
            self._entry(s.t, thread, "Query", "SET NAMES utf8mb4")
            if manual:
                self._entry(s.t, thread, "Query", "SET AUTOCOMMIT = 0")
        if s.sql == "BEGIN":
            if not manual:
                self._entry(s.t, thread, "Query", "START TRANSACTION")
            return
        self._entry(s.t, thread, "Query", render(s.sql, s.params, "mysql"))
        if manual and s.txn is None and s.last:
            self._entry(s.t, thread, "Query", "ROLLBACK")  # the pool resets the connection on return

    def close(self, t: float) -> None:
        for session in sorted(self.seen):
            self._entry(t, 100 + session, "Quit", "")


class _Generic:
    """JSON Lines and CSV with the generic keys."""

    def __init__(self, jsonl: IO[str] | None, csv_handle: IO[str] | None) -> None:
        self.jsonl = jsonl
        self.csv = csv.writer(csv_handle, lineterminator="\n") if csv_handle is not None else None
        if self.csv is not None:
            self.csv.writerow(["sql", "calls", "session", "transaction", "duration_ms", "timestamp"])

    def write(self, s: SimStatement) -> None:
        sql = render(s.sql, s.params, "postgres")
        session = f"app-{s.session}"
        txn = f"{session}/{s.txn}" if s.txn is not None else None
        stamp = _stamp(s.t).isoformat(timespec="milliseconds")
        if self.jsonl is not None:
            record: dict[str, Any] = {"sql": sql, "calls": 1, "session": session, "transaction": txn,
                                      "duration_ms": s.duration_ms, "timestamp": stamp}  # fmt: skip
            self.jsonl.write(json.dumps(record, ensure_ascii=False) + "\n")
        if self.csv is not None:
            self.csv.writerow([sql, 1, session, txn or "", s.duration_ms, stamp])


def _write_pgss(handle: IO[str], stats: dict[str, list[float]]) -> None:
    w = csv.writer(handle, lineterminator="\n")
    w.writerow(["userid", "dbid", "toplevel", "queryid", "query", "calls", "total_exec_time", "rows"])
    rows: list[list[Any]] = []
    for text, (calls, total) in stats.items():
        queryid = int(hashlib.blake2b(text.encode(), digest_size=8).hexdigest(), 16) - 2**63
        rows.append([16384, 16385, "t", queryid, text, int(calls), round(total, 6), int(calls)])
    rows.sort(key=lambda r: r[3])
    w.writerows(rows)


def _write_digest(handle: IO[str], stats: dict[str, list[float]]) -> None:
    w = csv.writer(handle, lineterminator="\n")
    w.writerow(["SCHEMA_NAME", "DIGEST", "DIGEST_TEXT", "COUNT_STAR", "SUM_TIMER_WAIT", "SUM_ROWS_SENT",
                "FIRST_SEEN", "LAST_SEEN"])  # fmt: skip
    rows: list[list[Any]] = []
    for text, (calls, total) in stats.items():
        digest = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
        rows.append([DATABASE, digest, text, int(calls), int(round(total * 1e9)), int(calls),
                     "2025-03-01 00:00:00.000000", "2025-03-01 23:59:59.000000"])  # fmt: skip
    rows.sort(key=lambda r: r[1])
    w.writerows(rows)


def write_logs(
    out: str | Path,
    statements: int = 100_000,
    seed: int = 7,
    formats: Iterable[str] = tuple(FILES),
    sessions: int = 16,
    stream: Iterable[SimStatement] | None = None,
) -> dict[str, Path]:
    """Simulate the sample workload once and write it in every requested format.

    Returns the written files by format, plus ``summary`` (``simulation.json``: operations and
    transactions per operation, the simulator's own account of what it did). Every file is replaced
    only when the whole simulation succeeded: a failed run leaves the previous logs as they were.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wanted = list(formats)
    unknown = sorted(set(wanted) - set(FILES))
    if unknown:
        from workbench.errors import NotFoundError

        raise NotFoundError(f"unknown log format(s): {', '.join(unknown)}; known: {', '.join(FILES)}")
    paths = {f: out / FILES[f] for f in wanted}
    pgss: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    digest: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    ops: Counter[str] = Counter()
    rolled_back: Counter[str] = Counter()
    count = 0
    t = 0.0
    with contextlib.ExitStack() as files:  # every log replaces its file only when the whole run got through
        handles = {f: files.enter_context(serde.atomic_writer(paths[f])) for f in wanted}
        csvlog = _CsvLog(handles["pg_csvlog"]) if "pg_csvlog" in handles else None
        general = _GeneralLog(handles["mysql_general_log"]) if "mysql_general_log" in handles else None
        generic = (
            _Generic(handles.get("jsonl"), handles.get("csv")) if ("jsonl" in handles or "csv" in handles) else None
        )
        records = stream if stream is not None else simulate(statements, seed=seed, sessions=sessions)
        for s in tqdm(records, total=statements, unit=" stmt", desc="simulate", disable=None, mininterval=1.0):
            count += 1
            t = s.t
            if s.last:
                ops[s.op_name] += 1
                if s.sql == "ROLLBACK":
                    rolled_back[s.op_name] += 1
            if csvlog is not None:
                csvlog.write(s)
            if general is not None:
                general.write(s)
            if generic is not None:
                generic.write(s)
            if "pg_stat_statements" in paths:
                entry = pgss[_pgss_text(s.sql, s.params)]
                entry[0] += 1
                entry[1] += s.duration_ms
            if "mysql_digest" in paths:
                entry = digest[_digest_text(s.sql)]
                entry[0] += 1
                entry[1] += s.duration_ms
        if general is not None:
            general.close(t)
        if "pg_stat_statements" in handles:
            _write_pgss(handles["pg_stat_statements"], pgss)
        if "mysql_digest" in handles:
            _write_digest(handles["mysql_digest"], digest)
    summary = {"statements": count, "seed": seed, "sessions": sessions,
               "operations": dict(sorted(ops.items())), "rolled_back": dict(sorted(rolled_back.items()))}  # fmt: skip
    paths["summary"] = serde.save(summary, out / "simulation.json")
    return paths
