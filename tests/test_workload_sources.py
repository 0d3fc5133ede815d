"""Log readers, transaction grouping, and bad input that must never stop a run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from workbench import serde
from workbench.errors import ArtifactError, NotFoundError
from workbench.workload import ingest
from workbench.workload.sources import FORMATS, get_format
from workbench.workload.transactions import TransactionGrouper


class Issues:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def add(self, kind: str, text: str, count: int = 1) -> None:
        self.seen.append((kind, text))


def shapes(workload) -> dict[tuple[tuple[str, ...], tuple[str, ...]], int]:  # type: ignore[no-untyped-def]
    return {(tuple(t.tables_read), tuple(t.tables_written)): t.count for t in workload.transactions}


def write_jsonl(path: Path, records: list[dict]) -> Path:  # type: ignore[type-arg]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# --- transactions -------------------------------------------------------------------------------------------------


def test_sessions_interleave_and_blocks_group(tmp_path: Path) -> None:
    log = write_jsonl(tmp_path / "a.jsonl", [
        {"sql": "BEGIN", "session": 1},
        {"sql": "SELECT * FROM stock WHERE id = 1", "session": 2},  # autocommit, between session 1's statements
        {"sql": "UPDATE stock SET q = q - 1 WHERE id = 1", "session": 1},
        {"sql": "BEGIN", "session": 2},
        {"sql": "INSERT INTO orders VALUES (1)", "session": 1},
        {"sql": "INSERT INTO audit VALUES (1)", "session": 2},
        {"sql": "COMMIT", "session": 1},
        {"sql": "ROLLBACK", "session": 2},  # rolled back: still ran, still counted
        {"sql": "SELECT * FROM stock WHERE id = 2", "calls": 5, "session": 3},  # 5 autocommit transactions
    ])  # fmt: skip
    w = ingest([str(log)], "jsonl")
    assert shapes(w) == {
        ((), ("orders", "stock")): 1,
        ((), ("audit",)): 1,
        (("stock",), ()): 6,
    }
    assert w.statements == 13


def test_explicit_transaction_ids_win(tmp_path: Path) -> None:
    log = write_jsonl(tmp_path / "a.jsonl", [
        {"sql": "UPDATE a SET x = 1", "session": "s", "transaction": "t1"},
        {"sql": "UPDATE b SET x = 1", "session": "s", "transaction": "t1"},
        {"sql": "UPDATE c SET x = 1", "session": "s", "transaction": "t2"},
        {"sql": "SELECT * FROM d", "transaction": "t3"},
        {"sql": "SELECT * FROM e", "transaction": "t3"},
    ])  # fmt: skip
    assert shapes(ingest([str(log)], "jsonl")) == {((), ("a", "b")): 1, ((), ("c",)): 1, (("d", "e"), ()): 1}


def test_autocommit_off_makes_implicit_transactions(tmp_path: Path) -> None:
    log = write_jsonl(tmp_path / "a.jsonl", [
        {"sql": "SET AUTOCOMMIT = 0", "session": 7},
        {"sql": "SELECT * FROM a", "session": 7},
        {"sql": "UPDATE b SET x = 1", "session": 7},
        {"sql": "COMMIT", "session": 7},
        {"sql": "UPDATE c SET x = 1", "session": 7},
        {"sql": "SET autocommit = 1", "session": 7},  # commits the open transaction
        {"sql": "UPDATE d SET x = 1", "session": 7},
    ])  # fmt: skip
    assert shapes(ingest([str(log)], "jsonl")) == {(("a",), ("b",)): 1, ((), ("c",)): 1, ((), ("d",)): 1}


def test_grouper_closes_what_a_cut_log_left_open() -> None:
    class T:
        def __init__(self, w: str | None = None, c: str | None = None) -> None:
            self.reads, self.writes, self.control = frozenset(), frozenset([w] if w else []), c

    g = TransactionGrouper()
    for t in [T(c="begin"), T("a"), T("b")]:
        g.add("s", None, t)
    assert dict(g.finish()) == {(frozenset(), frozenset({"a", "b"})): 1}


# --- readers ------------------------------------------------------------------------------------------------------


def csvlog_row(
    message: str, session: str = "65.1", vxid: str = "3/7", severity: str = "LOG", detail: str = ""
) -> list[str]:
    return ["2025-01-01 00:00:00.000 UTC", "app", "db", "1", "h:1", session, "1", "SELECT", "2025-01-01 00:00:00 UTC",
            vxid, "0", severity, "00000", message, detail, "", "", "", "", "", "", "", "psql", "client backend", "",
            "0"]  # fmt: skip


def test_csvlog_messages(tmp_path: Path) -> None:
    path = tmp_path / "pg.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(csvlog_row("statement: BEGIN", vxid="3/8"))
        w.writerow(csvlog_row("execute <unnamed>: UPDATE a SET x = $1", vxid="3/8", detail="parameters: $1 = '5'"))
        w.writerow(csvlog_row("duration: 2.500 ms", vxid="3/0"))  # log_duration: belongs to the UPDATE
        w.writerow(csvlog_row("duration: 0.1 ms  parse <unnamed>: UPDATE a SET x = $1", vxid="3/8"))  # not an execution
        w.writerow(csvlog_row("statement: INSERT INTO b\nVALUES (1)", vxid="3/8"))  # multi-line
        w.writerow(csvlog_row("statement: COMMIT", vxid="3/0"))
        w.writerow(csvlog_row("duration: 1.000 ms  statement: SELECT * FROM c", vxid="3/0"))
        w.writerow(csvlog_row('relation "nope" does not exist', severity="ERROR"))
        w.writerow(csvlog_row("connection authorized: user=app database=db"))
        w.writerow(["too", "short"])
    w = ingest([str(path)], "pg_csvlog")
    assert shapes(w) == {((), ("a", "b")): 1, (("c",), ()): 1}
    update = next(t for t in w.templates if t.text.startswith("UPDATE"))
    assert update.total_time_ms == 2.5 and update.text == "UPDATE a SET x = ?"
    assert [(i.kind, i.count) for i in w.issues] == [("malformed_line", 1)]
    assert w.statements == 5


def test_general_log_file(tmp_path: Path) -> None:
    path = tmp_path / "general.log"
    path.write_text(
        "/usr/sbin/mariadbd, Version: 10.11.6-MariaDB (Debian 12). started with:\n"
        "Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\n"
        "Time\t\t    Id Command\tArgument\n"
        "250101  9:00:00\t    11 Connect\tapp@localhost on shop using Socket\n"
        "\t\t    11 Query\tSET AUTOCOMMIT = 0\n"
        "\t\t    12 Query\tSTART TRANSACTION\n"
        "\t\t    11 Query\tSELECT *\nFROM `a`\nWHERE s = 'x\\'y'\n"
        "\t\t    12 Query\tUPDATE c SET v = 1\n"
        "\t\t    11 Prepare\tUPDATE b SET v = ?\n"
        "\t\t    11 Execute\tUPDATE b SET v = 2\n"
        "250101  9:00:01\t    11 Query\tCOMMIT\n"
        "\t\t    12 Query\tCOMMIT\n"
        "\t\t    12 Quit\t\n",
        encoding="utf-8",
    )
    w = ingest([str(path)], "mysql_general_log")
    assert shapes(w) == {(("a",), ("b",)): 1, ((), ("c",)): 1}
    assert not w.issues


def test_2024_mysql8_general_log_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "general.log"
    path.write_text(
        "2024-05-01T10:00:00.123456Z\t   8 Query\tSELECT * FROM a\n2024-05-01T10:00:00.223456Z\t   8 Quit\t\n",
        encoding="utf-8",
    )
    assert shapes(ingest([str(path)], "mysql_general_log")) == {(("a",), ()): 1}


def test_aggregated_exports(tmp_path: Path) -> None:
    pgss = tmp_path / "pgss.csv"
    pgss.write_text(
        "userid,dbid,queryid,query,calls,total_exec_time\n"
        '10,5,1,"SELECT * FROM a WHERE id = $1",40,12.5\n'
        '10,5,2,"SELECT * FROM a WHERE id = $1",2,0.5\n'
        "10,5,3,BEGIN,7,0.1\n"
        "10,5,4,broken row\n",
        encoding="utf-8",
    )
    w = ingest([str(pgss)], "pg_stat_statements")
    select = next(t for t in w.templates if t.tables_read == ["a"])
    assert (select.calls, select.total_time_ms) == (42, 13.0)
    assert w.transactions == [] and w.statements == 49
    assert [(i.kind, i.count) for i in w.issues] == [("malformed_line", 1)]

    digest = tmp_path / "digest.csv"
    digest.write_text(
        "SCHEMA_NAME,DIGEST,DIGEST_TEXT,COUNT_STAR,SUM_TIMER_WAIT\n"
        "shop,d1,SELECT * FROM `a` WHERE `id` IN (...),10,2000000000\n"
        "shop,d2,SELECT `x` FROM `b` JOIN `c` ON `c`.`id` = `b`.`c_id` WHERE `b`.`y` = ...,3,0\n"
        "shop,d3,NULL,1,0\n",
        encoding="utf-8",
    )
    w = ingest([str(digest)], "mysql_digest")
    a = next(t for t in w.templates if t.tables_read == ["a"])
    assert (a.calls, a.total_time_ms, a.text) == (10, 2.0, "SELECT * FROM `a` WHERE `id` IN (?)")
    truncated = next(t for t in w.templates if "b" in t.tables_read)
    assert truncated.tables_read == ["b", "c"] and truncated.joins == [("b", "c")]
    assert [(i.kind, i.count) for i in w.issues] == [("truncated", 3)]


def test_generic_csv_and_missing_columns(tmp_path: Path) -> None:
    good = tmp_path / "s.csv"
    good.write_text(
        "sql,calls,session,transaction\nUPDATE a SET x = 1,1,s1,t1\nUPDATE b SET x = 1,1,s1,t1\n", encoding="utf-8"
    )
    assert shapes(ingest([str(good)], "csv")) == {((), ("a", "b")): 1}
    bad = tmp_path / "bad.csv"
    bad.write_text("statement,calls\nSELECT 1,1\n", encoding="utf-8")
    with pytest.raises(ArtifactError, match="sql"):
        ingest([str(bad)], "csv")
    with pytest.raises(NotFoundError, match="nowhere.jsonl"):
        ingest([str(tmp_path / "nowhere.jsonl")], "jsonl")
    with pytest.raises(NotFoundError, match="unknown log format"):
        get_format("oracle_awr")
    assert set(FORMATS) == {"pg_stat_statements", "pg_csvlog", "mysql_digest", "mysql_general_log", "jsonl", "csv"}


# --- bad input --------------------------------------------------------------------------------------------------------


def test_bad_input_is_counted_sampled_and_the_rest_used(tmp_path: Path) -> None:
    secret = "pw-Zq81-secret"
    good = [{"sql": f"SELECT * FROM orders WHERE id = {i}", "session": "s"} for i in range(20)]
    path = tmp_path / "mixed.jsonl"
    lines = [json.dumps(r) for r in good[:10]]
    lines += [
        json.dumps({"sql": f"SELEKT * FROM orders WHERE pw = '{secret}'"}),  # unparseable
        json.dumps({"sql": f"UPDATE orders SET pw = '{secret}' WHERE id = 1; DELETE FROM carts WHERE id = 2"}),
        json.dumps({"sql": "SELECT * FROM orders WHERE id IN (" + ", ".join(map(str, range(5000))) + ")"}),
        json.dumps({"sql": "VACUUM orders"}),  # unsupported: opaque to sqlglot
        json.dumps({"sql": "SELECT * FROM `orders` WHERE `status` = ? AND `note` LIKE ..."}),  # truncated digest text
        f'{{"sql": "SELECT 1", "calls": "many", "note": "{secret}"}}',  # bad calls
        '{"calls": 3}',  # no sql
        "{not json at all " + secret,
    ]
    garbage = b"\x00\x01\xff\xfe SELECT \x89PNG\r\n"
    path.write_bytes(("\n".join(lines) + "\n").encode()
                     + json.dumps({"sql": garbage.decode("latin-1")}).encode() + b"\n"
                     + b'{"sql": "\xff\xfe garbage"}\n'
                     + ("\n".join(json.dumps(r) for r in good[10:]) + "\n").encode())  # fmt: skip
    w = ingest([str(path)], "jsonl", dialect="mysql")
    kinds = {i.kind: i.count for i in w.issues}
    assert kinds == {"binary": 2, "huge_in_list": 1, "malformed_line": 3, "multi_statement": 1, "truncated": 1,
                     "unparseable": 1, "unsupported": 1}  # fmt: skip
    assert all(i.samples for i in w.issues)
    orders = next(t for t in w.templates if t.text == "SELECT * FROM orders WHERE id = ?")
    assert orders.calls == 20  # both halves of the file, around the garbage
    written = {tuple(t.tables_written) for t in w.templates}
    assert ("orders",) in written and ("carts",) in written  # the multi-statement line's statements are used
    text = serde.dumps(w)
    assert secret not in text and "\x00" not in text
