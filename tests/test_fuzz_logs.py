"""Property tests: every log format's reader on arbitrary bytes, encodings, numbers and lengths.

Whatever a log holds, ``ingest`` either returns a workload (bad lines counted and sampled, counts
non-negative, times finite, ``workload.json`` standard UTF-8 JSON) or fails with a one-line
:class:`WorkbenchError` (a CSV header without the format's columns, a file in another format);
never another exception. ``make fuzz`` runs many more examples (see ``fuzzing.py``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from pathlib import Path

import pytest
from fuzzing import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import serde
from workbench.errors import WorkbenchError
from workbench.workload import ingest
from workbench.workload.sources import FORMATS

pytestmark = pytest.mark.fuzz

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]

numbers = st.one_of(
    st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["inf", "-inf", "NaN", "1e400", "-1e400", "1e308", "0x10", "", " 7 ", "1_000", "١٢", "3.5"]),
    st.text(max_size=8),
)
nested_sql = st.integers(min_value=1, max_value=3000).map(lambda n: "SELECT " + "(" * n + "1" + ")" * n + " FROM t")
long_token = st.integers(min_value=1, max_value=200_000).map(lambda n: "SELECT " + "a" * n + " FROM t")
sql_text = st.one_of(
    st.text(max_size=120),
    st.sampled_from(["SELECT * FROM orders WHERE id = 1", "UPDATE a SET x = 'it''s' WHERE id = 2;DELETE FROM b",
                     "SELECT * FROM t WHERE s = '\\'", "INSERT INTO `x` VALUES (?, ?)", "SELECT $1::text",
                     "select * from \"weird\"\"name\"", "BEGIN", "COMMIT", "/* unclosed", "'unclosed"]),
    nested_sql,
    long_token,
)


def _check(path: Path, fmt: str) -> None:
    """The property: a workload that is standard UTF-8 JSON with sane figures, or a one-line WorkbenchError."""
    try:
        w = ingest([str(path)], fmt, progress=False)
    except WorkbenchError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    text = serde.dumps(w)
    text.encode("utf-8")  # no lone surrogate

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in workload.json")

    json.loads(text, parse_constant=refuse)
    assert w.statements >= 0
    for t in w.templates:
        assert t.calls >= 0 and math.isfinite(t.total_time_ms) and t.total_time_ms >= 0
    for issue in w.issues:
        assert issue.count >= 0


def _file(data: bytes, suffix: str) -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    handle.write(data)
    handle.close()
    return Path(handle.name)


def _run(data: bytes, fmt: str, suffix: str = ".log") -> None:
    path = _file(data, suffix)
    try:
        _check(path, fmt)
    finally:
        path.unlink()


@given(data=st.binary(max_size=3000), fmt=st.sampled_from(sorted(FORMATS)))
@settings(max_examples=examples(40, 1500))
def test_arbitrary_bytes(data: bytes, fmt: str) -> None:
    _run(data, fmt)


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


@given(rows=st.lists(st.fixed_dictionaries({"sql": sql_text}, optional={
    "calls": numbers, "duration_ms": numbers, "session": st.one_of(st.text(max_size=5), numbers, st.none()),
    "transaction": st.one_of(st.text(max_size=5), st.none())}), max_size=25),
    extra=st.lists(st.sampled_from(["[" * 5000, '{"sql": ' * 3000, '{"sql": "\\ud800"}', '{"sql": 1}', "null",
                                    '{"sql": "SELECT 1", "calls": Infinity}', '{"sql": "SELECT 1"} trailing']),
                   max_size=4),
    encoding=st.sampled_from(ENCODINGS))
@settings(max_examples=examples(40, 1500))
def test_jsonl_lines(rows: list[dict[str, object]], extra: list[str], encoding: str) -> None:
    lines = [json.dumps(r, ensure_ascii=encoding != "utf-8") for r in rows] + extra
    _run(_encode("\n".join(lines) + "\n", encoding), "jsonl", ".jsonl")


def _csv(rows: list[list[object]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


HEADERS = {"csv": ["sql", "calls", "session", "transaction", "duration_ms"],
           "pg_stat_statements": ["userid", "dbid", "query", "calls", "total_exec_time"],
           "mysql_digest": ["SCHEMA_NAME", "DIGEST", "DIGEST_TEXT", "COUNT_STAR", "SUM_TIMER_WAIT"]}


@given(fmt=st.sampled_from(sorted(HEADERS)),
       rows=st.lists(st.tuples(sql_text, numbers, numbers, st.text(max_size=4)), max_size=20),
       ragged=st.lists(st.lists(st.text(max_size=6), max_size=8), max_size=3),
       encoding=st.sampled_from(ENCODINGS))
@settings(max_examples=examples(40, 1500))
def test_csv_exports(fmt: str, rows: list[tuple[str, object, object, str]], ragged: list[list[str]],
                     encoding: str) -> None:
    header = HEADERS[fmt]
    body: list[list[object]] = []
    for sql, calls, time, other in rows:
        if fmt == "csv":
            body.append([sql, calls, other, other, time])
        else:
            body.append([other, other, sql, calls, time])
    _run(_encode(_csv([header, *body, *ragged]), encoding), fmt, ".csv")


def _csvlog_row(message: str, session: str, vxid: str, severity: str) -> list[str]:
    return ["2025-01-01 00:00:00.000 UTC", "app", "db", "1", "h:1", session, "1", "SELECT",
            "2025-01-01 00:00:00 UTC", vxid, "0", severity, "00000", message, "", "", "", "", "", "", "", "", "psql",
            "client backend", "", "0"]


messages = st.one_of(
    sql_text.map(lambda s: "statement: " + s),
    st.tuples(numbers, sql_text).map(lambda p: f"duration: {p[0]} ms  statement: {p[1]}"),
    numbers.map(lambda n: f"duration: {n} ms"),
    st.tuples(st.text(max_size=6), sql_text).map(lambda p: f"execute {p[0]}: {p[1]}"),
    st.text(max_size=40),
)


@given(rows=st.lists(st.tuples(messages, st.text(max_size=4), st.sampled_from(["3/7", "3/0", "", "x"]),
                               st.sampled_from(["LOG", "ERROR", "", "log"])), max_size=25),
       width=st.sampled_from([26, 24, 23, 14, 13, 30]), encoding=st.sampled_from(ENCODINGS))
@settings(max_examples=examples(40, 1500))
def test_pg_csvlog_rows(rows: list[tuple[str, str, str, str]], width: int, encoding: str) -> None:
    table = [(_csvlog_row(*r) + [""] * 10)[:width] for r in rows]
    _run(_encode(_csv(table), encoding), "pg_csvlog", ".csv")


entries = st.one_of(
    st.tuples(st.sampled_from(["", "250101  9:00:00", "2024-05-01T10:00:00.1Z"]), st.integers(0, 10**12),
              st.sampled_from(["Query", "Execute", "Connect", "Init DB", "Quit", "Prepare"]), sql_text)
    .map(lambda e: f"{e[0]}\t\t  {e[1]} {e[2]}\t{e[3]}"),
    st.text(max_size=60),
    st.just("Time\t\t    Id Command\tArgument"),
)


@given(lines=st.lists(entries, max_size=30), encoding=st.sampled_from(ENCODINGS))
@settings(max_examples=examples(40, 1500))
def test_general_log_lines(lines: list[str], encoding: str) -> None:
    _run(_encode("\n".join(lines) + "\n", encoding), "mysql_general_log", ".log")
