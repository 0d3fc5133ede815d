"""Render the stage notebooks with papermill into a report folder: executed notebooks, pages, title page.

``render_engagement`` runs each stage's notebook from :data:`STAGES` in order (by notebook file
name: ``01_...`` first), in the ``workbench`` kernel (registered by ``make setup``), with the
notebooks folder as working directory. Every stage reads its inputs from and writes its
artifacts (``schema.json``, ``workload.json``, ``decomposition.yaml``, ``design/``, ...) to the
report folder, so a stage can be rerun alone after a hand edit of its input (``--from design``
after editing ``decomposition.yaml``). Per stage the folder keeps the executed notebook
(``<out>/<notebook>.ipynb``, also when a cell fails) and its page without code
(``<out>/<notebook>.html``, images inline, no CDN script); ``index.html`` is the title page and
``report.json`` records each page's status (current, failed, stale, skipped).

Stages whose notebook does not exist yet are skipped and listed on the title page as "not
available"; registered stages never rendered in the folder are listed as "not rendered".

Secrets: papermill writes the parameters it injects into the notebook (as a cell and as
metadata), so the URL passed to a notebook never carries a password. A ``${VAR}`` reference
is passed as written, un-expanded; the kernel inherits the environment and expands it when it
connects. A literal password is removed from the URL and handed to the kernel through the
:data:`workbench.db.PASSWORD_ENV` environment variable instead. Notebooks display only
:func:`workbench.db.mask_url` output; as a last guard, every output is passed through
:func:`workbench.db.scrub` before the notebook is saved.

Reproducibility: timings, the injected cell's random id and absolute input paths are stripped;
the kernel runs with ``PYTHONHASHSEED=0``. Two renders of the same input into the same folder
path differ only in the title page's date (fix it with the engagement's ``date``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import nbformat
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from workbench import serde
from workbench.db import PASSWORD_ENV, mask_url, resolve_url, scrub
from workbench.engagement import (
    FILE as ENGAGEMENT_FILE,
)
from workbench.engagement import (
    INFORMATIONAL,
    Database,
    Engagement,
    choices,
    included_schemas,
    save_engagement,
    with_url,
)
from workbench.errors import BadURLError, NotFoundError, StageError
from workbench.reporting import manifest as manifests
from workbench.reporting import notebooks as nbs
from workbench.reporting import title as titles
from workbench.reporting.checks import forget_checks, load_checks

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL = "workbench"

STAGES: dict[str, str] = {
    "assess": "01_assess.ipynb",
    "decompose": "02_decompose.ipynb",
    "design": "03_design.ipynb",
    "plan": "04_plan.ipynb",
    "migrate": "05_migrate.ipynb",
    "operate": "06_operate.ipynb",
}
"""Stage name -> notebook file in :data:`NOTEBOOKS`; stages run in the order of their file names."""

_TITLES = {"assess": "Assess: profile, lint, pros and cons of a schema per service",
           "decompose": "Decompose: candidate service boundaries, scored and explained",
           "design": "Design: per-service schemas, a mechanism for every cross-boundary dependency",
           "plan": "Plan: migration waves, effort, risks and prerequisites",
           "migrate": "Migrate: per-service schemas built, legacy rows copied and verified, schemas versioned",
           "operate": "Operate: drift, index advice and monitoring per service"}

ALWAYS = ("db_url", "out_dir")
"""Parameters every stage notebook declares and always receives."""


# ----------------------------------------------------------------------------------- stages


def stage_order() -> list[str]:
    """Registered stages in running order: by notebook file name (``01_assess`` before ``02_...``).

    >>> stage_order()[0]
    'assess'
    """
    return sorted(STAGES, key=lambda s: (STAGES[s], s))


def available_stages() -> list[str]:
    """Registered stages whose notebook exists, in running order."""
    return [s for s in stage_order() if (NOTEBOOKS / STAGES[s]).exists()]


def select_stages(stages: list[str] | None = None, start: str | None = None) -> list[str]:
    """The stages to render, in running order: ``stages`` (default: every available one), from ``start`` on.

    Raises
    ------
    NotFoundError
        For an unknown stage, or a chosen stage whose notebook does not exist.
    """
    named = list(stages or []) + ([start] if start else [])
    unknown = sorted(set(named) - set(STAGES))
    if unknown:
        raise NotFoundError(f"unknown stage: {', '.join(unknown)} (known: {', '.join(stage_order())})")
    order = stage_order()
    if stages:
        names = [s for s in order if s in stages]
        for name in names:
            if not (NOTEBOOKS / STAGES[name]).exists():
                raise NotFoundError(f"notebook not found for stage {name}: {NOTEBOOKS / STAGES[name]}")
    else:
        names = available_stages()
    if start:
        names = [s for s in names if order.index(s) >= order.index(start)]
    return names


def title_of(stage: str) -> str:
    return _TITLES.get(stage, stage)


# ------------------------------------------------------------------------------ parameters


def notebook_url(db: str) -> tuple[str, dict[str, str]]:
    """The URL to hand to a notebook, and environment variables the kernel needs to use it.

    ``${VAR}`` templates pass through as written; a literal password moves to
    :data:`~workbench.db.PASSWORD_ENV`; a relative SQLite path becomes absolute (the notebook
    runs in another folder).

    >>> notebook_url("postgresql://app:s3cret@db/x")
    ('postgresql://app@db/x', {'WORKBENCH_DB_PASSWORD': 's3cret'})
    """
    raw = str(db).strip()
    resolve_url(raw)  # fail here, with a masked message, rather than inside the notebook
    if "${" in raw:
        return raw, {}
    try:
        url = make_url(raw)
    except ArgumentError:
        raise BadURLError(f"not a database URL: {scrub(raw)!r}") from None
    env: dict[str, str] = {}
    if url.password is not None:
        env[PASSWORD_ENV] = str(url.password)
        url = URL.create(url.drivername, url.username, None, url.host, url.port, url.database, url.query)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = url.database.removeprefix("file:")
        if not Path(path.split("?")[0]).is_absolute():
            url = url.set(database=str(Path(path).resolve()))
    return url.render_as_string(hide_password=False), env


def _secret_free(engagement: Engagement) -> tuple[Engagement, str, dict[str, str]]:
    """The engagement with password-free URLs (database and live log sources), and the kernels' environment.

    Raises
    ------
    BadURLError
        When two URLs carry different literal passwords: only one can travel by the environment.
    """
    url, env = notebook_url(engagement.database.url)
    logs = []
    for source in engagement.workload.logs:
        if "://" not in source:
            logs.append(source)
            continue
        log_url, log_env = notebook_url(source)
        if log_env and env and log_env != env:
            raise BadURLError(f"the log source {mask_url(source)} and the database have different passwords: "
                              f"write the log source's as ${{VAR}}")  # fmt: skip
        env = env or log_env
        logs.append(log_url)
    clean = with_url(engagement, url)
    clean.workload = replace(engagement.workload, logs=logs)
    return clean, url, env


@dataclass
class RenderPlan:
    """What a render will do: the stages, each one's parameters, and the settings no notebook takes."""

    stages: list[str]
    parameters: dict[str, dict[str, Any]]
    ignored: list[str] = field(default_factory=list)


def plan_parameters(engagement: Engagement, url: str, out: Path, stages: list[str],
                    schemas: list[str] | None = None) -> RenderPlan:
    """Each stage's papermill parameters: ``db_url``, ``out_dir``, and the engagement's settings it declares.

    Raises
    ------
    NotFoundError
        For an explicit ``parameters`` entry that no available notebook declares (a typo), or
        one that would override ``db_url``/``out_dir``.
    """
    given = choices(engagement, schemas)
    declared = {s: nbs.declared_parameters(NOTEBOOKS / STAGES[s]) for s in dict.fromkeys(available_stages() + stages)}
    everywhere = set().union(*declared.values()) if declared else set()
    ignored = []
    for choice in given:
        if choice.setting.startswith("parameters."):
            name = choice.setting.removeprefix("parameters.")
            if name in ALWAYS:
                raise NotFoundError(
                    f"parameter {name!r} is set by the report itself; give it as the database URL / --out"
                )
            if name not in everywhere:
                known = ", ".join(sorted(everywhere - set(ALWAYS))) or "none"
                raise NotFoundError(f"parameter {name!r} is not declared by any stage notebook (declared: {known})")
        elif choice.setting not in INFORMATIONAL and not set(choice.names) & everywhere:
            ignored.append(choice.setting)
    per_stage = {}
    for stage in stages:
        params: dict[str, Any] = {"db_url": url, "out_dir": str(out)}
        for choice in given:
            params.update({k: v for k, v in choice.names.items() if k in declared[stage] and k not in ALWAYS})
        per_stage[stage] = params
    return RenderPlan(stages, per_stage, sorted(ignored))


def write_params(engagement: Engagement, out: str | Path, folder: str | Path, stages: list[str] | None = None,
                 start: str | None = None) -> list[Path]:
    """Write ``folder/<stage>.yaml``: each stage's parameters for plain ``papermill -f`` (no secret in them).

    ``papermill notebooks/01_assess.ipynb out.ipynb -k workbench --cwd notebooks -f <folder>/assess.yaml``
    then runs a stage as ``workbench report`` would (give the password through the environment).
    """

    names = select_stages(stages or engagement.stages or None, start)
    clean, url, _ = _secret_free(engagement)
    plan = plan_parameters(clean, url, Path(out).resolve(), names, included_schemas(engagement))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stage in names:
        paths.append(serde.save(plan.parameters[stage], folder / f"{stage}.yaml"))
    return paths


# --------------------------------------------------------------------------------- running


@contextlib.contextmanager
def _environment(extra: dict[str, str]) -> Iterator[None]:
    """Set ``extra`` in os.environ (inherited by the kernel process) for the block's duration."""
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class StageRun:
    """One stage of a render: its status (``ok`` or ``failed``), wall time, and the error if any."""

    stage: str
    status: str
    seconds: float
    error: str | None = None


@dataclass
class Rendered:
    """A finished render: the title page, the stages run, and engagement settings no notebook took."""

    index: Path
    runs: list[StageRun]
    ignored: list[str]


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def failing_line(source: str, traceback: list[str]) -> str:
    """The line of a failed cell that raised (from IPython's traceback), else its first statement.

    >>> failing_line("import x\\nrun()", ["\\x1b[31mCell In[3], line 2\\n      1 import x\\n----> 2 run()\\n"])
    'run()'
    """
    for entry in traceback:
        text = _ANSI.sub("", entry)
        if "Cell In[" in text:
            for line in text.splitlines():
                if match := re.match(r"\s*-+>\s*\d+\s?(.*)", line):
                    return match.group(1).strip()
    lines = [line.strip() for line in source.splitlines() if line.strip() and not line.lstrip().startswith(("#", "%"))]
    return lines[0] if lines else ""


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _run_stage(stage: str, out: Path, params: dict[str, Any], position: str, progress: bool | None) -> str | None:
    """Execute one notebook into ``out``, clean it, write its page; the error text if a cell failed or a
    check the notebook recorded (:func:`workbench.reporting.checks.record_checks`) did not hold."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook = STAGES[stage]
    target = out / notebook
    for old in (target, target.with_suffix(".html")):  # an earlier render's page must not pass for this one's
        old.unlink(missing_ok=True)
    forget_checks(out, stage)
    failure: str | None = None
    bar: bool | dict[str, Any] = False  # tqdm's disable=None: a bar on a terminal only
    if progress is not False:
        bar = {"desc": f"{position} {stage}", "disable": None if progress is None else False}
    try:
        papermill.execute_notebook(
            str(NOTEBOOKS / notebook), str(target), parameters=params, kernel_name=KERNEL, cwd=str(NOTEBOOKS),
            progress_bar=bar, log_output=False,
        )  # fmt: skip
    except PapermillExecutionError as exc:
        message = scrub(str(exc.evalue)).strip().splitlines()
        failure = f"{exc.ename}: {message[0] if message else ''}".rstrip(": ")
        failure += f" (cell [{exc.exec_count}]: {_short(scrub(failing_line(exc.source, exc.traceback or [])))})"
    except Exception as exc:  # noqa: BLE001 - kernel missing, kernel died: name the stage, keep what ran
        if type(exc).__name__ == "NoSuchKernel":
            raise StageError(f"stage {stage}: Jupyter kernel {KERNEL!r} is not installed (run: make setup)") from None
        failure = f"{type(exc).__name__}: {scrub(str(exc)).splitlines()[0] if str(exc) else ''}".rstrip(": ")
    if not target.exists():  # the kernel never started: nothing to keep
        return failure or "no executed notebook was written"
    if failure is None:
        recorded = load_checks(out, stage)
        if recorded is not None and not recorded.ok:  # every cell ran, but what the stage produced is wrong
            failure = recorded.summary()
    nb = nbs.clean(nbformat.read(target, as_version=4), notebook)
    nbformat.write(nb, target)
    nav = nbs.navigation([("Report", titles.FILE), ("Executed notebook", notebook)])
    serde.write_text(target.with_suffix(".html"), nbs.export_html(nb, title_of(stage), nav, failure))
    return failure


def _stage_rows(out: Path, manifest: manifests.Manifest) -> list[titles.StageRow]:
    rows = []
    for stage in stage_order():
        notebook = STAGES[stage]
        page = Path(notebook).with_suffix(".html").name
        record = manifest.get(stage)
        if record is not None:
            rows.append(titles.StageRow(stage, title_of(stage), page if (out / page).exists() else None,
                                        notebook if (out / notebook).exists() else None, record.status, record.note))
        elif (NOTEBOOKS / notebook).exists():
            rows.append(titles.StageRow(stage, title_of(stage), None, None, "not rendered"))
        else:
            rows.append(titles.StageRow(stage, title_of(stage), None, None, "not available",
                                        "no notebook for this stage in this version of the workbench"))
    return rows


def _files(out: Path) -> list[str]:
    """The folder's artifacts for the title page: top-level entries except the pages and notebooks."""
    pages = {titles.FILE} | {n for nb in STAGES.values() for n in (nb, Path(nb).with_suffix(".html").name)}
    names = []
    for entry in sorted(out.iterdir(), key=lambda p: p.name):
        if entry.name in pages or entry.name.startswith("."):
            continue
        if entry.is_dir():
            names.append(f"{entry.name}/README.md" if (entry / "README.md").exists() else f"{entry.name}/")
        else:
            names.append(entry.name)
    return names


def write_index(out: Path, engagement: Engagement, url: str) -> Path:
    """(Re)write the title page of ``out`` from its artifacts and ``report.json``."""
    info = titles.TitleInfo(engagement.client, engagement.engagement, engagement.date or dt.date.today().isoformat(),
                            mask_url(url))
    return titles.write(out, info, _stage_rows(out, manifests.load(out)), _files(out))


def render_engagement(
    engagement: Engagement,
    out: str | Path,
    stages: list[str] | None = None,
    start: str | None = None,
    env: dict[str, str] | None = None,
    progress: bool | None = None,
    on_stage: Callable[[StageRun], None] | None = None,
) -> Rendered:
    """Render ``engagement``'s stages into folder ``out``: notebooks, pages, title page.

    Parameters
    ----------
    engagement : the settings (see :mod:`workbench.engagement`); its database URL may carry a
        literal password (moved to the kernel's environment, never written).
    out : report folder; created if needed. Artifacts of earlier renders are inputs.
    stages : stages to run (default: the engagement's, else every available one).
    start : run from this stage on (e.g. ``design`` after a hand edit of ``decomposition.yaml``).
    env : extra environment for the kernels (e.g. a password typed at a prompt).
    progress : per-stage progress bars; None: only on a terminal.
    on_stage : called after each stage (status, seconds): for a progress line or a benchmark.

    Raises
    ------
    NotFoundError
        For an unknown stage, a missing notebook, or an explicit parameter no notebook declares.
    StageError
        When a notebook fails, or a check it recorded on its own output does not hold (a migration
        with a failed service, a verification with differences): names the stage and the cell's
        error or the failed checks with the first problem; the (partial) notebook, its
        page, the earlier stages' output and the title page (showing the failure) are kept.
    """
    names = select_stages(stages or engagement.stages or None, start)
    extra = {"PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0"), **(env or {})}
    with _environment(extra):
        clean, url, secret_env = _secret_free(engagement)
        out = Path(out).resolve()
        plan = plan_parameters(clean, url, out, names, included_schemas(engagement))
    out.mkdir(parents=True, exist_ok=True)
    save_engagement(clean, out / ENGAGEMENT_FILE)
    manifest = manifests.load(out)
    order = stage_order()
    runs: list[StageRun] = []
    with _environment({**extra, **secret_env}):
        for i, stage in enumerate(names, 1):
            began = time.perf_counter()
            failure = _run_stage(stage, out, plan.parameters[stage], f"[{i}/{len(names)}]", progress)
            run = StageRun(stage, "failed" if failure else "ok", round(time.perf_counter() - began, 1), failure)
            runs.append(run)
            record = manifests.StageRecord(stage, STAGES[stage], Path(STAGES[stage]).with_suffix(".html").name,
                                           run.status, failure)
            manifest.put(record, order)
            if on_stage is not None:
                on_stage(run)
            if failure:
                for later in names[i:]:
                    manifest.put(
                        manifests.StageRecord(
                            later,
                            STAGES[later],
                            Path(STAGES[later]).with_suffix(".html").name,
                            "skipped",
                            f"not run: stage {stage} failed",
                        ),
                        order,
                    )
                manifest.mark_later(
                    stage, order, "stale", f"its inputs may have changed: stage {stage} failed", set(names)
                )
                manifests.save(manifest, out)
                write_index(out, engagement, url)
                page = out / Path(STAGES[stage]).with_suffix(".html")
                raise StageError(f"stage {stage} failed: {failure} (page: {page})")
    if names:
        manifest.mark_later(names[0], order, "stale", f"rendered before stage {names[0]} was rerun", set(names))
    manifests.save(manifest, out)
    return Rendered(write_index(out, engagement, url), runs, plan.ignored)


def render(db: str, out: Path, stages: list[str] | None = None, params: dict[str, Any] | None = None,
           date: str | None = None) -> Path:
    """Quick render of database ``db`` into folder ``out`` with default settings; return ``out/index.html``.

    Parameters
    ----------
    db : SQLAlchemy URL of the legacy database (password via ``${VAR}`` or the environment preferred).
    out : report folder; created if needed.
    stages : stage names from :data:`STAGES`, run in order (default: all whose notebook exists).
    params : extra notebook parameters by name (e.g. ``{"schemas": ["sales"]}``); never put secrets here.
    date : title page date (default: today).

    Raises
    ------
    NotFoundError, StageError
        As :func:`render_engagement`.
    """
    engagement = Engagement(database=Database(url=db), parameters=dict(params or {}), date=date)
    return render_engagement(engagement, out, stages).index


# ---------------------------------------------------------------------------- nbval upkeep

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def refresh_checks(stage: str = "assess") -> Path:
    """Re-run a stage notebook with its default parameters and store only its checked outputs.

    ``make test`` runs nbval with ``--nbval-lax``: only cells marked ``# NBVAL_CHECK_OUTPUT`` are
    compared, against the outputs stored in the notebook. Run this after a deliberate change of
    the sample database or of the figures those cells print; every other cell is stored without
    output, so the notebooks stay small and diffable.

    Raises
    ------
    StageError
        When the notebook fails; the stored notebook is left untouched.
    """
    import tempfile

    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = NOTEBOOKS / STAGES[stage]
    with tempfile.TemporaryDirectory() as tmp:
        executed_path = Path(tmp) / source.name
        try:
            papermill.execute_notebook(
                str(source),
                str(executed_path),
                kernel_name=KERNEL,
                cwd=str(NOTEBOOKS),
                progress_bar=None,
                log_output=False,
            )
        except PapermillExecutionError as exc:
            raise StageError(f"stage {stage} failed: {exc.ename}: {scrub(str(exc.evalue))}") from None
        executed = {c.get("id"): c for c in nbformat.read(executed_path, as_version=4).cells}
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        ran = executed.get(cell.get("id"))
        if ran is not None and cell.source.lstrip().startswith(CHECK_MARK):
            cell.outputs, cell.execution_count = ran.outputs, ran.execution_count
        else:
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    nb.metadata.pop("papermill", None)
    nbformat.write(nb, source)
    return source
