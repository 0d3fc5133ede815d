"""Logs that lie about their numbers or their format (issue 13 item 5, issue 12 item 8).

Infinite, NaN, out-of-range and negative counts and durations, nesting deeper than the JSON
parser goes and lone surrogates are counted and sampled as malformed or binary like any bad line,
and ``workload.json`` stays standard JSON. A log read with the wrong ``--format`` fails in one
line naming the format the file looks like, instead of an empty workload and exit code 0.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from workbench import serde
from workbench.cli import main
from workbench.errors import ArtifactError
from workbench.workload import ingest
from workbench.workload.simlog import write_logs
from workbench.workload.sources import FORMATS
from workbench.workload.sources.sniff import looks_like


def _strict(text: str) -> object:
    """JSON as a strict parser reads it: NaN and Infinity are not JSON."""
    def refuse(name: str) -> None:
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


GOOD = [json.dumps({"sql": f"SELECT * FROM orders WHERE id = {i}", "calls": 2, "duration_ms": 1.5, "session": "s"})
        for i in range(30)]
BAD_NUMBERS = [
    '{"sql": "SELECT 1 FROM a", "calls": Infinity}',
    '{"sql": "SELECT 1 FROM a", "calls": -Infinity}',
    '{"sql": "SELECT 1 FROM a", "calls": NaN}',
    '{"sql": "SELECT 1 FROM a", "calls": 1e400}',
    '{"sql": "SELECT 1 FROM a", "calls": "1e400"}',
    '{"sql": "SELECT 1 FROM a", "calls": "inf"}',
    '{"sql": "SELECT 1 FROM a", "calls": -5}',
    '{"sql": "SELECT 1 FROM a", "duration_ms": -0.5}',
    '{"sql": "SELECT 1 FROM a", "duration_ms": 1e400}',
    '{"sql": "SELECT 1 FROM a", "duration_ms": NaN}',
    '{"sql": "SELECT 1 FROM a", "duration_ms": "nan"}',
    '{"sql": "SELECT 1 FROM a", "duration_ms": 1e300}',
    '{"sql": "SELECT 1 FROM a", "calls": true}',
    '{"sql": "SELECT 1 FROM a", "calls": [1]}',
    "[" * 200_000 + "]" * 200_000,  # deeper than any JSON parser's recursion
    '{"x": ' * 50_000 + "1" + "}" * 50_000,
]


def test_bad_numbers_and_deep_nesting_are_malformed_lines(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(GOOD + BAD_NUMBERS + GOOD) + "\n", encoding="utf-8")
    w = ingest([str(path)], "jsonl")
    assert w.statements == 2 * 2 * len(GOOD)  # only the good lines, 2 calls each
    assert {i.kind: i.count for i in w.issues} == {"malformed_line": len(BAD_NUMBERS)}
    samples = next(i for i in w.issues if i.kind == "malformed_line").samples
    assert samples and all("log.jsonl line" in s for s in samples)
    template = w.templates[0]
    assert template.calls == 120 and template.total_time_ms == 90.0
    _strict(serde.dumps(w))


def test_bad_numbers_in_csv_exports(tmp_path: Path) -> None:
    pgss = tmp_path / "pgss.csv"
    rows = [["query", "calls", "total_exec_time"]]
    rows += [[f"SELECT * FROM a WHERE id = ${i}", "3", "1.0"] for i in range(9)]
    rows += [["SELECT 1", "inf", "1"], ["SELECT 2", "1", "1e400"], ["SELECT 3", "-2", "1"], ["SELECT 4", "1", "NaN"],
             ["SELECT 5", "1", "-1"], ["SELECT 6", "1e400", "1"]]
    with pgss.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    w = ingest([str(pgss)], "pg_stat_statements")
    assert w.statements == 27 and {i.kind: i.count for i in w.issues} == {"malformed_line": 6}
    _strict(serde.dumps(w))
    digest = tmp_path / "digest.csv"
    digest.write_text("DIGEST_TEXT,COUNT_STAR,SUM_TIMER_WAIT\n" + "SELECT * FROM `a`,4,5000000000\n" * 5
                      + "SELECT * FROM `b`,1,inf\nSELECT * FROM `b`,NaN,1\nSELECT * FROM `b`,1,-7\n", encoding="utf-8")
    w = ingest([str(digest)], "mysql_digest")
    assert w.statements == 20 and w.templates[0].total_time_ms == 25.0
    assert {i.kind: i.count for i in w.issues} == {"malformed_line": 3}


def test_lone_surrogates_are_binary_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(GOOD + ['{"sql": "\\ud800"}', '{"sql": "SELECT \\udfff FROM a", "session": "\\ud800"}'])
                    + "\n", encoding="utf-8")
    w = ingest([str(path)], "jsonl")
    assert {i.kind: i.count for i in w.issues} == {"binary": 2}
    serde.dumps(w).encode("utf-8")  # writable as UTF-8: no lone surrogate reached the model
    out = tmp_path / "workload.json"
    assert main(["workload", str(path), "--format", "jsonl", "--out", str(out)]) == 0
    _strict(out.read_text(encoding="utf-8"))


# -- a wrong --format ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {f: p for f, p in write_logs(tmp_path_factory.mktemp("logs"), statements=400, seed=3).items()
            if f in FORMATS}


def test_every_format_is_recognised(logs: dict[str, Path]) -> None:
    assert set(logs) == set(FORMATS)
    for fmt, path in logs.items():
        assert looks_like(str(path)) == fmt


@pytest.mark.parametrize("chosen", sorted(FORMATS))
def test_a_wrong_format_fails_naming_the_right_one(logs: dict[str, Path], chosen: str) -> None:
    for actual, path in sorted(logs.items()):
        if actual == chosen:
            assert ingest([str(path)], chosen).statements > 0
            continue
        with pytest.raises(ArtifactError) as info:
            ingest([str(path)], chosen)
        message = str(info.value)
        assert f"use --format {actual}" in message and "\n" not in message, (chosen, actual, message)


def test_cli_wrong_format_exits_non_zero_and_writes_nothing(logs: dict[str, Path], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "workload.json"
    code = main(["workload", str(logs["pg_csvlog"]), "--format", "mysql_general_log", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "looks like pg_csvlog" in err, err
    assert not out.exists()


def test_mostly_broken_file_of_the_right_format_fails_too(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(GOOD[:3] + ["{broken"] * 2 + ["not json at all"] * 10) + "\n", encoding="utf-8")
    with pytest.raises(ArtifactError, match="12 of its first 15 lines are not jsonl"):
        ingest([str(path)], "jsonl")
    path.write_text("\n".join(GOOD[:10] + ["{broken"] * 3) + "\n", encoding="utf-8")
    assert ingest([str(path)], "jsonl").statements == 20  # a few bad lines: counted, never fatal


def test_a_huge_wrong_file_is_judged_on_its_first_lines(tmp_path: Path) -> None:
    """A multi-million-line log in the wrong format is not read to the end to find that out."""
    path = tmp_path / "general.log"
    path.write_text("\t\t    7 Query\tSELECT 1\n" * 2_000_000, encoding="utf-8")
    with pytest.raises(ArtifactError, match=r"1,000\+ of its first .* use --format mysql_general_log"):
        ingest([str(path)], "jsonl")
