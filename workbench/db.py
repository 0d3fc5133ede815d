"""Database URLs and connections: password handling, masking, and read-only source sessions.

Every session the workbench opens on a *source* (legacy) database goes through
:func:`source_engine`, which makes the database itself refuse writes: SQLite opens the file with
``mode=ro``, PostgreSQL sets ``default_transaction_read_only``, MySQL/MariaDB set the session's
transactions ``READ ONLY``. Relying on the server rather than on our own discipline is the point:
a bug in the workbench cannot harm the legacy database.

Passwords never reach output: URLs are shown through :func:`mask_url`, and every password seen
in this process is registered so :func:`scrub` can remove it from driver error messages.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from workbench.errors import BadURLError, ConnectError, MissingDriverError, NotFoundError

PASSWORD_ENV = "WORKBENCH_DB_PASSWORD"
"""Environment variable holding the password when the URL has none."""

_SECRETS: set[str] = set()
_LOOSE_PASSWORD = re.compile(r":[^:@/\s]+@")
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)(?P<tail>@)")


def _register_secret(secret: str | None) -> None:
    if secret and len(secret) >= 2:
        _SECRETS.add(secret)


def scrub(text: str) -> str:
    """Remove every known password and any ``user:password@`` URL part from ``text``.

    >>> scrub("connect postgresql://app:s3cret@db/x failed")
    'connect postgresql://app:***@db/x failed'
    """
    text = _URL_PASSWORD.sub(r"\g<head>***\g<tail>", text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def resolve_url(url: str | URL) -> URL:
    """Parse ``url``, expanding ``${VAR}`` references and filling the password from the environment.

    The password can come from a ``${VAR}`` inside the URL (``postgresql://app:${PGPASS}@db/x``)
    or, when the URL has none, from ``WORKBENCH_DB_PASSWORD``; either way nothing secret has to be
    typed into a notebook or an engagement file.

    >>> resolve_url("sqlite:///x.db").get_backend_name(), resolve_url("postgres://app@db/x").drivername
    ('sqlite', 'postgresql')
    """
    if isinstance(url, URL):
        parsed = url
    else:
        text = original = str(url).strip()
        try:
            text = string.Template(text).substitute(os.environ)
        except KeyError as exc:
            raise BadURLError(f"database URL refers to ${{{exc.args[0]}}}, which is not set") from None
        except ValueError:
            pass  # a literal '$' in a password: leave the text alone
        try:
            parsed = make_url(text)
        except ArgumentError:
            # named as typed (before ${VAR} expansion), any user:password@ run masked even where the
            # malformed text defeats the URL pattern
            shown = _LOOSE_PASSWORD.sub(":***@", scrub(original))
            raise BadURLError(f"not a database URL: {shown!r} (expected e.g. postgresql://user@host/db)") from None
    if parsed.drivername.split("+")[0] == "postgres":  # libpq's and Heroku's spelling; SQLAlchemy wants postgresql
        parsed = parsed.set(drivername="postgresql" + parsed.drivername[len("postgres"):])
    if parsed.password is None and os.environ.get(PASSWORD_ENV) and parsed.get_backend_name() != "sqlite":
        parsed = parsed.set(password=os.environ[PASSWORD_ENV])
    _register_secret(parsed.password if isinstance(parsed.password, str) else None)
    return parsed


def mask_url(url: str | URL) -> str:
    """The URL as it may be shown anywhere: password replaced by ``***``.

    >>> mask_url("mysql+pymysql://root:hunter2@127.0.0.1/test")
    'mysql+pymysql://root:***@127.0.0.1/test'
    """
    if isinstance(url, str):
        text = url
        try:
            url = make_url(text)
        except ArgumentError:
            return scrub(text)
    return url.render_as_string(hide_password=True)


def backend(url: str | URL) -> str:
    """Backend family: ``sqlite``, ``postgresql``, ``mysql`` (MariaDB included), ..."""
    name = resolve_url(url).get_backend_name()
    return "mysql" if name == "mariadb" else name


_DEFAULT_DRIVERS = {"postgresql": "psycopg", "mysql": "pymysql", "mariadb": "pymysql"}


def _with_default_driver(url: URL) -> URL:
    """Prefer the drivers we install (psycopg 3, PyMySQL) when the URL names none."""
    if "+" not in url.drivername and url.drivername in _DEFAULT_DRIVERS:
        return url.set(drivername=f"{url.drivername}+{_DEFAULT_DRIVERS[url.drivername]}")
    return url


def _sqlite_readonly(url: URL) -> URL:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        raise BadURLError("an in-memory SQLite database has nothing to read: give a file path")
    path = Path(database[5:].split("?")[0]) if database.startswith("file:") else Path(database)
    if not path.exists():
        raise NotFoundError(f"SQLite database file not found: {path}")
    return URL.create("sqlite", database=f"file:{quote(str(path.resolve()))}", query={"mode": "ro", "uri": "true"})


def _create(url: URL, **kwargs: object) -> Engine:
    try:
        return sa.create_engine(url, **kwargs)
    except NoSuchModuleError:
        raise BadURLError(f"unknown database dialect {url.drivername!r} in {mask_url(url)}") from None
    except ImportError as exc:
        raise MissingDriverError(
            f"the driver for {url.drivername!r} is not installed ({exc.name or exc}); "
            f"install it with pip, e.g. the package named in SQLAlchemy's dialect docs"
        ) from None


def source_engine(url: str | URL, **kwargs: object) -> Engine:
    """An engine on a legacy database whose every session is read-only, enforced by the database.

    Raises
    ------
    BadURLError, MissingDriverError, NotFoundError
        For a URL that cannot be used; the message never contains the password.
    """
    parsed = _with_default_driver(resolve_url(url))
    family = parsed.get_backend_name()
    if family == "sqlite":
        engine = _create(_sqlite_readonly(parsed), **kwargs)
    elif family == "postgresql":
        engine = _create(parsed, connect_args={"options": "-c default_transaction_read_only=on"}, **kwargs)
    elif family in ("mysql", "mariadb"):
        engine = _create(parsed, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _readonly(dbapi_conn: Any, _record: Any) -> None:  # a DBAPI connection: no common type
            with dbapi_conn.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION READ ONLY")

    else:
        engine = _create(parsed, **kwargs)

        @sa.event.listens_for(engine, "begin")
        def _readonly_tx(conn: sa.Connection) -> None:
            if family == "oracle":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")

    return engine


def target_engine(url: str | URL, **kwargs: object) -> Engine:
    """An ordinary read-write engine, for targets the workbench builds (never for the source)."""
    return _create(_with_default_driver(resolve_url(url)), **kwargs)


@contextlib.contextmanager
def friendly_errors(url: str | URL) -> Iterator[None]:
    """Turn driver errors raised inside the block into :class:`ConnectError` with a masked URL."""
    try:
        yield
    except DBAPIError as exc:
        if exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
            detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ConnectError(f"cannot use {mask_url(url)}: {scrub(detail)}") from None
        raise


SQLGLOT_DIALECTS: dict[str, str] = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite",
                                    "mssql": "tsql", "oracle": "oracle"}  # fmt: skip
"""SQLAlchemy backend names (as in ``schema.json`` and target dialects) -> sqlglot dialects."""


@functools.lru_cache(maxsize=64)
def sqlglot_dialect(name: str | None) -> str | None:
    """The sqlglot dialect for a SQLAlchemy backend name (a sqlglot name is kept as it is).

    None (sqlglot's generic SQL) for no name or one sqlglot does not know, rather than an error
    at every parse.

    >>> sqlglot_dialect("postgresql"), sqlglot_dialect("mssql"), sqlglot_dialect("postgres"), sqlglot_dialect(None)
    ('postgres', 'tsql', 'postgres', None)
    >>> sqlglot_dialect("no_such_backend") is None
    True
    """
    if not name:
        return None
    if name in SQLGLOT_DIALECTS:
        return SQLGLOT_DIALECTS[name]
    from sqlglot.dialects.dialect import Dialect

    return name if Dialect.get(name) is not None else None
