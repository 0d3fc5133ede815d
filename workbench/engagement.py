"""The engagement file: one client's report settings, kept beside the report, never holding a secret.

``workbench report --config engagement.yaml --out reports/<client>/`` reads it (see
``engagement.example.yaml`` at the repository root). Relative paths in it (a SQLite file, log
files) are relative to the file. The database password is never stored: write it as a ``${VAR}``
reference in the URL, or set ``WORKBENCH_DB_PASSWORD``, or let the command ask for it when a
person is at the terminal (``database.prompt``). A URL with a literal password is refused.

Each setting reaches the stage notebooks as a papermill parameter; a notebook receives only the
parameters its ``parameters`` cell declares. The names notebook authors should use:

=============================  =====================================================
engagement setting             notebook parameter
=============================  =====================================================
database.url                   ``db_url`` (always passed, password removed)
(the report folder)            ``out_dir`` (always passed)
client, engagement             ``client``, ``engagement``
database.schemas / exclude     ``schemas`` (the schemas to read, excludes applied)
workload.logs, workload.format ``workload_logs`` (absolute paths), ``workload_format``
decomposition.<name>           ``options`` (all the decomposition options given, as a mapping
                               for :class:`~workbench.decompose.options.DecomposeOptions`),
                               or ``<name>`` itself: ``method``, ``services``, ``resolution``, ...
target_dialect                 ``target_dialect``, or ``dialect``, or ``dialects`` (a list)
parameters.<name>              ``<name>`` (anything else, by the notebook's own name)
=============================  =====================================================

Unset settings (None, empty) are not passed: the notebook's default applies.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from workbench import serde
from workbench.db import PASSWORD_ENV, mask_url
from workbench.decompose.options import DecomposeOptions
from workbench.errors import ArtifactError, BadURLError, NotFoundError

FILE = "engagement.yaml"
"""Name of the engagement copy a render keeps in the report folder (rerun a stage from it)."""


@dataclass
class Database:
    """The legacy database.

    Attributes
    ----------
    url : SQLAlchemy URL; password as ``${VAR}`` or from ``WORKBENCH_DB_PASSWORD``, never literal.
    schemas : schemas to read (empty: every application schema).
    exclude_schemas : schemas to leave out (applied after ``schemas``).
    prompt : ask for a password on a terminal when the URL and the environment give none.
    """

    url: str = ""
    schemas: list[str] = field(default_factory=list)
    exclude_schemas: list[str] = field(default_factory=list)
    prompt: bool = True


@dataclass
class LogSources:
    """Query logs for the workload (see ``workbench workload --help`` for the formats).

    Attributes
    ----------
    logs : log files or URLs (live formats); none: the sample's simulated workload, else none.
    format : their format, e.g. ``pg_csvlog``.
    """

    logs: list[str] = field(default_factory=list)
    format: str | None = None


@dataclass
class Engagement:
    """One client's report settings: the model of ``engagement.yaml``.

    Attributes
    ----------
    client, engagement : shown on the title page.
    date : title page date (``YYYY-MM-DD``); None: the day of the render.
    database, workload : see their classes.
    decomposition : the Decompose stage's options
        (:class:`~workbench.decompose.options.DecomposeOptions`, as ``workbench decompose`` takes them).
    target_dialect : SQL dialect of the target schemas (design and DDL), e.g. ``postgresql``.
    stages : stages to render, in any order (empty: every available one).
    parameters : further notebook parameters by name (never a secret).
    """

    client: str = "Client"
    engagement: str = "From a monolithic database to a schema per service"
    date: str | None = None
    database: Database = field(default_factory=Database)
    workload: LogSources = field(default_factory=LogSources)
    decomposition: DecomposeOptions = field(default_factory=DecomposeOptions)
    target_dialect: str | None = None
    stages: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Choice:
    """A setting given in the engagement, and the notebook parameter names that can receive it."""

    setting: str
    names: dict[str, Any]


def check_no_password(url: str, where: str) -> None:
    """Refuse a URL carrying a literal password (a ``${VAR}`` reference is fine).

    >>> check_no_password("postgresql://app:${PGPASS}@db/x", "engagement.yaml")
    >>> check_no_password("postgresql://app:hunter2@db/x", "engagement.yaml")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    workbench.errors.BadURLError: engagement.yaml: the database URL postgresql://app:***@db/x holds a password;
    write it as ${VAR} or set WORKBENCH_DB_PASSWORD
    """
    try:
        password = make_url(url).password
    except (ArgumentError, ValueError):
        raise BadURLError(f"{where}: not a database URL: {mask_url(url)!r}") from None
    if password is not None and not (str(password).startswith("${") and str(password).endswith("}")):
        raise BadURLError(f"{where}: the database URL {mask_url(url)} holds a password; "
                          f"write it as ${{VAR}} or set {PASSWORD_ENV}")  # fmt: skip


def check_date(text: str | None, where: str) -> str | None:
    """``text`` as an ISO date, or None; :class:`ArtifactError` naming ``where`` otherwise.

    >>> check_date("2026-01-31", "--date")
    '2026-01-31'
    """
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(str(text)).isoformat()
    except ValueError:
        raise ArtifactError(f"{where}: date must look like 2026-01-31, got {text!r}") from None


def _anchor_sqlite(url: str, base: Path) -> str:
    """A SQLite URL's relative file path made absolute against ``base`` (the engagement file's folder)."""
    if "${" in url or not url.startswith("sqlite"):
        return url
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return url  # named (masked) where it is used
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:") or Path(database).is_absolute():
        return url
    return parsed.set(database=str((base / database).resolve())).render_as_string(hide_password=False)


def _anchor_log(path: str, base: Path) -> str:
    return path if "://" in path or Path(path).is_absolute() else str((base / path).resolve())


def _check_keys(data: Any, cls: type, where: str) -> None:
    """Refuse settings the model does not know: a misspelt key must not be silently ignored."""
    import dataclasses
    import typing

    if not isinstance(data, dict):
        return
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    for key, value in data.items():
        if key not in known:
            raise ArtifactError(f"{where}: unknown setting {key!r} (known: {', '.join(known)})")
        if dataclasses.is_dataclass(hints[key]):
            _check_keys(value, hints[key], f"{where}: {key}")


def load_engagement(path: str | Path) -> Engagement:
    """Read ``engagement.yaml``: relative paths anchored at its folder, settings checked.

    Raises
    ------
    NotFoundError
        When the file does not exist.
    ArtifactError
        For a malformed file (names the field).
    BadURLError
        When the database URL holds a literal password (the message masks it).
    """
    import yaml

    path = Path(path)
    engagement = serde.load(Engagement, path)
    _check_keys(yaml.safe_load(path.read_text(encoding="utf-8")), Engagement, str(path))
    if not engagement.database.url:
        raise ArtifactError(f"{path}: database.url is missing")
    _check_secret_free(engagement, str(path))
    base = path.resolve().parent
    engagement.date = check_date(engagement.date, str(path))
    engagement.database.url = _anchor_sqlite(engagement.database.url, base)
    engagement.workload.logs = [_anchor_log(p, base) for p in engagement.workload.logs]
    return engagement


def save_engagement(engagement: Engagement, path: str | Path) -> Path:
    """Write ``engagement`` as YAML; refuses a URL holding a literal password."""
    _check_secret_free(engagement, str(path))
    return serde.save(engagement, path)


def _check_secret_free(engagement: Engagement, where: str) -> None:
    check_no_password(engagement.database.url, where)
    for source in engagement.workload.logs:
        if "://" in source:
            check_no_password(source, f"{where}: workload.logs")


def with_url(engagement: Engagement, url: str) -> Engagement:
    """A copy with another database URL (e.g. the password-free one handed to the notebooks)."""
    return replace(engagement, database=replace(engagement.database, url=url))


def choices(engagement: Engagement, schemas: list[str] | None = None) -> list[Choice]:
    """The settings given (unset ones left out), each with the parameter names that can take it.

    ``schemas`` is the resolved list of schemas to read (see :func:`included_schemas`).

    >>> [c.setting for c in choices(Engagement(target_dialect="mysql"))]
    ['client', 'engagement', 'target_dialect']
    """
    given = [
        Choice("client", {"client": engagement.client}),
        Choice("engagement", {"engagement": engagement.engagement}),
    ]
    if schemas is not None:
        given.append(Choice("database.schemas", {"schemas": list(schemas)}))
    if engagement.workload.logs:
        given.append(Choice("workload.logs", {"workload_logs": list(engagement.workload.logs)}))
    if engagement.workload.format:
        given.append(Choice("workload.format", {"workload_format": engagement.workload.format}))
    options = serde.to_dict(engagement.decomposition.given())
    for name, value in options.items():
        given.append(Choice(f"decomposition.{name}", {name: value, "options": options}))
    if engagement.target_dialect:
        d = engagement.target_dialect
        given.append(Choice("target_dialect", {"target_dialect": d, "dialect": d, "dialects": [d]}))
    for name, value in sorted(engagement.parameters.items()):
        given.append(Choice(f"parameters.{name}", {name: value}))
    return given


INFORMATIONAL = frozenset({"client", "engagement"})
"""Settings that need no notebook to take them (the title page shows them anyway)."""


def included_schemas(engagement: Engagement) -> list[str] | None:
    """The schemas to read: ``schemas`` (or all) minus ``exclude_schemas``; None for "all".

    Listing the schemas needs a connection (read-only) only when some are excluded.

    Raises
    ------
    NotFoundError
        When the exclusions leave no schema.
    """
    db = engagement.database
    if not db.exclude_schemas:
        return sorted(db.schemas) or None
    import sqlalchemy as sa

    from workbench.db import friendly_errors, source_engine
    from workbench.introspect.common import default_schema, pick_schemas

    engine = source_engine(db.url, poolclass=sa.pool.NullPool)
    try:
        with friendly_errors(db.url), engine.connect() as conn:
            backend = "mysql" if conn.dialect.name == "mariadb" else conn.dialect.name
            available = sa.inspect(conn).get_schema_names()
            chosen = pick_schemas(backend, db.schemas or None, available, default_schema(conn), mask_url(db.url))
    finally:
        engine.dispose()
    left = sorted(set(chosen) - set(db.exclude_schemas))
    if not left:
        raise NotFoundError(
            f"no schema left to read in {mask_url(db.url)} after excluding {', '.join(db.exclude_schemas)}"
        )
    return left


def ask_password(url: str, prompt: bool = True, interactive: bool | None = None) -> dict[str, str]:
    """Environment for the notebooks' kernels: a password typed at the terminal, when one is needed.

    Asks only when nothing else supplies a password (no ``${VAR}``, none in the URL, no
    ``WORKBENCH_DB_PASSWORD``), the backend has logins (not SQLite), ``prompt`` is on and a
    person is at the terminal (``interactive``, default: stdin is a TTY). An empty answer means
    no password. The answer lives only in this process's memory and the kernels' environment.
    """
    if not prompt or "${" in url or os.environ.get(PASSWORD_ENV):
        return {}
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return {}
    if parsed.password is not None or parsed.get_backend_name() == "sqlite":
        return {}
    if not (sys.stdin.isatty() if interactive is None else interactive):
        return {}
    secret = getpass.getpass(f"password for {mask_url(url)} (empty: none): ")
    return {PASSWORD_ENV: secret} if secret else {}
