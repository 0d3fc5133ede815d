"""A stage is ok only when what it produced is ok: its own checks decide, not merely that no cell raised.

A migration with failed services and a verification with differences used to render as a green
"ok" (the checks cell printed FAILED lines, nothing raised) and ``workbench report`` exited 0.
Stand-in notebooks check the mechanics quickly; one render of the real stages on a SQLite
database whose legacy rows break a declared foreign key checks the real Migrate stage end to end.
A failed stage's page shows a banner and the error's name and message, never a raw traceback.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from test_report import FIRST, _notebook, _register, _status

from workbench import cli, report
from workbench.errors import StageError
from workbench.reporting.checks import load_checks

CHECKED = _notebook(
    'db_url = ""\nout_dir = ""\nbroken = True',
    "from workbench.reporting.checks import record_checks",
    'print("made something")',
    'verdict = record_checks("checked", {"the thing was made": True, "the thing is right": not broken}, out_dir,\n'
    '                        problems=["svc.orders: 3 legacy rows missing on the target"] if broken else [])',
    'print("the page goes on after the checks")',
)


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-ins' database (the first stand-in counts its customers)."""
    path = tmp_path_factory.mktemp("db") / "shop.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(80))")
        con.executemany("INSERT INTO customers VALUES (?, ?)", [(i, f"customer {i}") for i in range(40)])
    return path


RAISING = _notebook(
    'db_url = ""\nout_dir = ""',
    'def deep():\n    raise RuntimeError("index idx_fk_address_id already exists <here>")\n\ndeep()',
)


def test_a_failed_check_fails_the_stage_its_page_and_the_command(shop_db: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, tmp_path / "notebooks", {"first": ("01_first.ipynb", FIRST),
                                                     "checked": ("02_checked.ipynb", CHECKED),
                                                     "third": ("03_third.ipynb", RAISING)})
    out = tmp_path / "out"
    with pytest.raises(StageError) as failure:
        report.render(f"sqlite:///{shop_db}", out)
    assert str(failure.value).startswith("stage checked failed: check failed: the thing is right; first problem: "
                                         "svc.orders: 3 legacy rows missing on the target")
    assert _status(out) == {"first": "ok", "checked": "failed", "third": "skipped"}
    page = (out / "02_checked.html").read_text()
    assert "This stage failed." in page and "FAILED the thing is right" in page
    assert "the page goes on after the checks" in page  # every cell ran: the page shows what and where
    index = (out / "index.html").read_text()
    assert "status-failed" in index and "svc.orders: 3 legacy rows missing" in index
    assert load_checks(out, "checked").failed == ["the thing is right"]

    code = cli.main(["report", "--db", f"sqlite:///{shop_db}", "--out", str(tmp_path / "cli"), "--stage", "checked"])
    assert code != 0 and _status(tmp_path / "cli") == {"checked": "failed"}

    # fixed: the same stage passes, and its old verdict does not linger
    report.render(f"sqlite:///{shop_db}", out, stages=["checked"], params={"broken": False})
    assert _status(out)["checked"] == "ok" and load_checks(out, "checked").ok
    assert "This stage failed." not in (out / "02_checked.html").read_text()


def test_a_failed_cell_shows_a_readable_error_not_a_traceback(shop_db: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, tmp_path / "notebooks", {"third": ("03_third.ipynb", RAISING)})
    with pytest.raises(StageError, match="RuntimeError: index idx_fk_address_id already exists"):
        report.render(f"sqlite:///{shop_db}", tmp_path / "out")
    page = (tmp_path / "out" / "03_third.html").read_text()
    assert "This step failed.</strong> RuntimeError: index idx_fk_address_id already exists &lt;here&gt;" in page
    assert "Traceback" not in page and "raise RuntimeError" not in page and "\x1b[" not in page and "[0;31m" not in page
    assert "This stage failed." in page


def _broken_legacy(path: Path) -> str:
    """Two tables in one service, and legacy rows that break their foreign key (SQLite never checked it)."""
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL)")
        con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL "
                    "REFERENCES customers(id), total NUMERIC(8, 2))")
        con.executemany("INSERT INTO customers VALUES (?, ?)", [(i, f"c{i}") for i in range(1, 21)])
        con.executemany("INSERT INTO orders VALUES (?, ?, ?)", [(i, 1 + i % 25, i * 1.5) for i in range(1, 61)])
    return f"sqlite:///{path}"


@pytest.mark.slow
def test_a_failed_migration_fails_the_report(tmp_path: Path) -> None:
    url = _broken_legacy(tmp_path / "legacy.sqlite")
    out = tmp_path / "report"
    code = cli.main(["report", "--db", url, "--out", str(out), "--stage", "migrate"])  # it designs what it lacks
    assert code != 0  # before: "stage migrate: ok", exit 0
    assert _status(out) == {"migrate": "failed"}
    migration = json.loads((out / "migration.json").read_text())
    assert any(s["status"] == "failed" for s in migration["services"])
    recorded = load_checks(out, "migrate")
    assert recorded is not None and "every service complete" in recorded.failed[0]
    assert any("break the foreign key" in p for p in recorded.problems)
    page = (out / "05_migrate.html").read_text()
    assert "This stage failed." in page and "break the foreign key" in page
    assert "status-failed" in (out / "index.html").read_text()


@pytest.mark.parametrize("stage", [s for s in report.available_stages() if s != "assess"])
def test_every_stage_with_checks_records_them(stage: str) -> None:
    """Assess has nothing to check of its own; every later stage hands its checks to the report."""
    import nbformat

    nb = nbformat.read(report.NOTEBOOKS / report.STAGES[stage], as_version=4)
    checked = [c for c in nb.cells if c.cell_type == "code" and f'record_checks("{stage}", result.checks' in c.source]
    assert len(checked) == 1 and checked[0].source.lstrip().startswith(report.CHECK_MARK)
