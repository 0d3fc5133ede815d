"""``workbench.report`` mechanics on small stand-in stage notebooks (quick kernels, a real SQLite database).

The stand-ins chain through files in the report folder like the real stages do: the first reads
the database and writes ``count.txt``, the second doubles it into ``double.txt``, the third adds
one into ``plus_one.txt``. That makes every behaviour checkable by value: ordering, artifacts
flowing between stages, reruns after a hand edit, failures, parameters, secrets. The real stage
notebooks are rendered in ``test_report_suite.py``.
"""

from __future__ import annotations

import ast
import json
import shutil
import sqlite3
from pathlib import Path

import nbformat
import pytest
import sqlalchemy as sa

from workbench import report
from workbench.db import PASSWORD_ENV
from workbench.engagement import Database, Engagement
from workbench.errors import BadURLError, NotFoundError, StageError

SECRET_TEMPLATE = "T3mplate-pa55word"
SECRET_ENV = "Env-pa55word"
SECRET_LITERAL = "Lit3ral-pa55word"


def _notebook(parameters: str, *cells: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "workbench", "display_name": "Workbench", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# A stand-in stage"),
                nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


FIRST = _notebook(
    'db_url = ""\nout_dir = ""\nclient = "nobody"\ngreeting = "hello"',
    "import pathlib\nimport sqlalchemy as sa\nfrom workbench.db import mask_url, source_engine",
    'with source_engine(db_url).connect() as conn:\n'
    '    n = conn.execute(sa.text("SELECT count(*) FROM customers")).scalar()\n'
    'pathlib.Path(out_dir, "count.txt").write_text(str(n))\n'
    'print(f"{greeting} {client}: {n} customers in {mask_url(db_url)}")',
)
SECOND = _notebook(
    'db_url = ""\nout_dir = ""\nfactor = 2',
    'import pathlib\nn = int(pathlib.Path(out_dir, "count.txt").read_text())\n'
    'pathlib.Path(out_dir, "double.txt").write_text(str(n * factor))\nprint(f"doubled: {n * factor}")',
    'import sys\nprint("diagnostic noise", file=sys.stderr)',
)
THIRD = _notebook(
    'db_url = ""\nout_dir = ""',
    'import pathlib\nn = int(pathlib.Path(out_dir, "double.txt").read_text())\n'
    'pathlib.Path(out_dir, "plus_one.txt").write_text(str(n + 1))\nprint(f"plus one: {n + 1}")',
)
BROKEN = _notebook(
    'db_url = ""\nout_dir = ""',
    'print("broken stage started")',
    'x = 1\nraise ValueError("table frobnicate is missing")',
)


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "shop.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(80))")
        con.executemany("INSERT INTO customers VALUES (?, ?)", [(i, f"customer {i}") for i in range(40)])
    return path


def _register(mp: pytest.MonkeyPatch, folder: Path, stages: dict[str, tuple[str, nbformat.NotebookNode]]) -> None:
    """Point the registry at stand-in notebooks; a stage given None as notebook is registered but missing."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in stages.values():
        if nb is not None:
            nbformat.write(nb, folder / name)
    mp.setattr(report, "NOTEBOOKS", folder)
    # registered out of order on purpose: stages run by notebook file name
    mp.setattr(report, "STAGES", {stage: name for stage, (name, _) in reversed(stages.items())})


CHAIN = {"first": ("01_first.ipynb", FIRST), "second": ("02_second.ipynb", SECOND), "third": ("03_third.ipynb", THIRD),
         "later": ("05_later.ipynb", None)}


@pytest.fixture(scope="module")
def chain(shop_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, report.Rendered]:
    """One render of the three stand-ins, the URL holding a ${VAR} password, another password in the environment."""
    mp = pytest.MonkeyPatch()
    base = tmp_path_factory.mktemp("chain")
    _register(mp, base / "notebooks", CHAIN)
    mp.setenv("WB_TEST_SECRET", SECRET_TEMPLATE)
    mp.setenv(PASSWORD_ENV, SECRET_ENV)
    try:
        engagement = Engagement(client="ACME Corp", database=Database(url=f"sqlite://app:${{WB_TEST_SECRET}}@/{shop_db}"),
                                target_dialect="mysql", parameters={"factor": 3}, date="2026-01-15")
        return base / "out", report.render_engagement(engagement, base / "out")
    finally:
        mp.undo()


@pytest.fixture
def registry(chain: tuple[Path, report.Rendered], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The stand-in registry again, for tests that render more; returns the notebooks folder."""
    folder = chain[0].parent / "notebooks"
    monkeypatch.setattr(report, "NOTEBOOKS", folder)
    monkeypatch.setattr(report, "STAGES", {stage: name for stage, (name, _) in CHAIN.items()})
    return folder


def _status(out: Path) -> dict[str, str]:
    return {r["stage"]: r["status"] for r in json.loads((out / "report.json").read_text())["stages"]}


def test_stages_run_in_file_order_and_pass_artifacts_on(chain: tuple[Path, report.Rendered]) -> None:
    out, rendered = chain
    assert [r.stage for r in rendered.runs] == ["first", "second", "third"]
    assert all(r.status == "ok" and r.seconds > 0 for r in rendered.runs)
    assert (out / "count.txt").read_text() == "40"
    assert (out / "double.txt").read_text() == "120"  # factor=3 from the engagement's parameters
    assert (out / "plus_one.txt").read_text() == "121"
    assert _status(out) == {"first": "ok", "second": "ok", "third": "ok"}
    for stem in ("01_first", "02_second", "03_third"):
        assert (out / f"{stem}.ipynb").exists() and (out / f"{stem}.html").exists()


def test_parameters_reach_only_the_notebooks_declaring_them(chain: tuple[Path, report.Rendered]) -> None:
    out, rendered = chain
    first = nbformat.read(out / "01_first.ipynb", as_version=4).metadata.papermill.parameters
    second = nbformat.read(out / "02_second.ipynb", as_version=4).metadata.papermill.parameters
    third = nbformat.read(out / "03_third.ipynb", as_version=4).metadata.papermill.parameters
    assert first["client"] == "ACME Corp" and "factor" not in first
    assert second["factor"] == 3 and "client" not in second
    assert set(third) == {"db_url", "out_dir"}
    assert rendered.ignored == ["target_dialect"]  # no stand-in declares a dialect


def test_kernel_expands_the_template_and_nothing_shows_a_secret(chain: tuple[Path, report.Rendered]) -> None:
    out, _ = chain
    nb = nbformat.read(out / "01_first.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "hello ACME Corp: 40 customers in sqlite://app:***@/" in printed
    assert nb.metadata.papermill.parameters["db_url"].startswith("sqlite://app:${WB_TEST_SECRET}@/")
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (SECRET_TEMPLATE, SECRET_ENV):
                assert secret.encode() not in data, f"{secret} leaked into {path.name}"


def test_executed_notebooks_carry_no_run_dependent_metadata(chain: tuple[Path, report.Rendered]) -> None:
    out, _ = chain
    nb = nbformat.read(out / "02_second.ipynb", as_version=4)
    assert not {"start_time", "end_time", "duration"} & set(nb.metadata.papermill)
    assert nb.metadata.papermill.input_path == "notebooks/02_second.ipynb"
    assert all("execution" not in c.metadata and "duration" not in c.metadata.get("papermill", {}) for c in nb.cells)
    assert [c.id for c in nb.cells][:3] == ["cell-0", "cell-1", "injected-parameters"]


def test_pages_show_outputs_not_code_and_load_nothing_from_the_network(chain: tuple[Path, report.Rendered]) -> None:
    out, _ = chain
    page = (out / "02_second.html").read_text()
    assert "doubled: 120" in page and "A stand-in stage" in page
    assert "read_text()" not in page and "factor = 3" not in page
    assert "<script src=" not in page and "cdnjs" not in page
    assert 'href="index.html"' in page
    assert "diagnostic noise" not in page  # stderr stays in the executed notebook only
    assert "diagnostic noise" in (out / "02_second.ipynb").read_text()


def test_title_page_lists_every_registered_stage(chain: tuple[Path, report.Rendered]) -> None:
    out, _ = chain
    index = (out / "index.html").read_text()
    assert (
        index.index('href="01_first.html"') < index.index('href="02_second.html"') < index.index('href="03_third.html"')
    )
    assert '<tr data-stage="later">' in index and "not available" in index
    assert "ACME Corp" in index and '<time datetime="2026-01-15">' in index
    assert "sqlite://app:***@/" in index


def test_rerun_of_a_stage_reads_the_hand_edited_input(chain: tuple[Path, report.Rendered], registry: Path,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "copy"
    shutil.copytree(chain[0], out)
    (out / "count.txt").write_text("5")  # a hand edit of the first stage's artifact
    first_page = (out / "01_first.html").read_bytes()
    rendered = report.render_engagement(
        Engagement(database=Database(url="sqlite:///unused.db")), out, stages=["second"]
    )
    assert [r.stage for r in rendered.runs] == ["second"]
    assert (out / "double.txt").read_text() == "10" and (out / "plus_one.txt").read_text() == "121"
    assert _status(out) == {"first": "ok", "second": "ok", "third": "stale"}
    assert (out / "01_first.html").read_bytes() == first_page
    assert "status-stale" in (out / "index.html").read_text()

    report.render_engagement(Engagement(database=Database(url="sqlite:///unused.db")), out, start="third")
    assert (out / "plus_one.txt").read_text() == "11"
    assert _status(out) == {"first": "ok", "second": "ok", "third": "ok"}


def test_a_failed_stage_is_named_with_its_cell_error_and_earlier_output_is_kept(
    shop_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(
        monkeypatch,
        tmp_path / "notebooks",
        {"first": ("01_first.ipynb", FIRST), "broken": ("02_broken.ipynb", BROKEN), "third": ("03_third.ipynb", THIRD)},
    )
    out = tmp_path / "out"
    with pytest.raises(StageError) as failure:
        report.render(f"sqlite:///{shop_db}", out)
    message = str(failure.value)
    assert message.startswith("stage broken failed: ValueError: table frobnicate is missing")
    assert 'raise ValueError("table frobnicate is missing")' in message  # the line that raised
    assert (out / "count.txt").read_text() == "40" and (out / "01_first.html").exists()
    partial = nbformat.read(out / "02_broken.ipynb", as_version=4)
    assert any("broken stage started" in o.get("text", "") for c in partial.cells for o in c.get("outputs", []))
    assert (out / "02_broken.html").exists() and not (out / "03_third.ipynb").exists()
    assert _status(out) == {"first": "ok", "broken": "failed", "third": "skipped"}
    index = (out / "index.html").read_text()
    assert "table frobnicate is missing" in index and "not run: stage broken failed" in index


def test_missing_kernel_says_how_to_install_it(registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "KERNEL", "wb-no-such-kernel")
    with pytest.raises(
        StageError, match=r"stage first: Jupyter kernel 'wb-no-such-kernel' is not installed \(run: make setup\)"
    ):
        report.render("sqlite:///x.db", tmp_path / "out", stages=["first"])


def test_unknown_stage_bad_url_and_unknown_parameter_fail_before_running(chain: tuple[Path, report.Rendered],
                                                                         registry: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="nosuch"):
        report.render("sqlite:///x.db", tmp_path / "a", stages=["nosuch"])
    with pytest.raises(NotFoundError, match="notebook not found for stage later"):
        report.render("sqlite:///x.db", tmp_path / "a", stages=["later"])
    with pytest.raises(BadURLError, match="NOT_SET_ANYWHERE"):
        report.render("postgresql://app:${NOT_SET_ANYWHERE}@db/x", tmp_path / "a")
    with pytest.raises(
        NotFoundError, match=r"'fcator' is not declared by any stage notebook \(declared: client, factor, greeting\)"
    ):
        report.render("sqlite:///x.db", tmp_path / "a", params={"fcator": 2})
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("stage", report.available_stages())
def test_stage_notebook_is_ready_for_papermill_nbval_and_jupyterlab(stage: str) -> None:
    """What every stage notebook owes the report: the project kernel, a parameters cell, checked outputs."""
    path = report.NOTEBOOKS / report.STAGES[stage]
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == report.KERNEL
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    declared = report.nbs.declared_parameters(path)
    assert len(tagged) == 1 and {"db_url", "out_dir"} <= set(declared)
    assert sa.make_url(ast.literal_eval(declared["db_url"])).password is None
    checked = [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith(report.CHECK_MARK)]
    assert checked and all(c.outputs for c in checked), "nbval --nbval-lax needs a checked cell with stored output"
    stored = [c for c in nb.cells if c.cell_type == "code" and c.outputs and c not in checked]
    assert not stored, "only checked cells keep outputs (run workbench.report.refresh_checks)"


def test_select_stages() -> None:
    order = report.stage_order()
    assert order == sorted(order, key=lambda s: report.STAGES[s])
    available = report.available_stages()
    assert report.select_stages() == available
    assert report.select_stages(start=available[-1]) == available[-1:]
    assert report.select_stages(stages=list(reversed(available[:2]))) == available[:2]


def test_notebook_url_moves_passwords_out_and_anchors_sqlite_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert report.notebook_url("sqlite:///rel/db.sqlite") == (f"sqlite:///{tmp_path}/rel/db.sqlite", {})
    assert report.notebook_url(f"mysql+pymysql://root:{SECRET_LITERAL}@h/db") == (
        "mysql+pymysql://root@h/db",
        {PASSWORD_ENV: SECRET_LITERAL},
    )
    monkeypatch.setenv("PGPASS", "x")
    assert report.notebook_url("postgresql://app:${PGPASS}@db/x") == ("postgresql://app:${PGPASS}@db/x", {})
