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
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from workbench.errors import BadURLError, ConnectError, MissingDriverError, NotFoundError

PASSWORD_ENV = "WORKBENCH_DB_PASSWORD"
"""Environment variable holding the password when the URL has none."""

_SECRETS: set[str] = set()
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SPACE = re.compile(r"\s")
_USER_NAME = re.compile(r"[^:/@\s]*")


def _register_secret(secret: str | None) -> None:
    """Remember a password, and the forms a URL or a driver may show it in (URL-escaped)."""
    if secret and len(secret) >= 2:
        rendered = URL.create("x", "u", secret, "h").render_as_string(hide_password=False)[len("x://u:"):-len("@h")]
        forms = (secret, quote(secret, safe=""), quote_plus(secret), quote(secret), rendered, repr(secret)[1:-1],
                 secret.encode("utf-8", "backslashreplace").decode("latin-1"))  # as repr() and mojibake show it
        _SECRETS.update(form for form in forms if len(form) >= 2)


def _mask_url_passwords(text: str) -> str:
    """``scheme://user:password@`` runs with the password replaced by ``***``, in linear time.

    The password runs to the *last* ``@`` before white space: a host never holds one, a password
    may. A regular expression for the pattern retries every start position of a long word and
    takes quadratic time (a minute on an 80,000-character token); this visits each ``://`` once and
    finds each white-space delimited run's end and last ``@`` once.
    """
    out: list[str] = []
    done = 0  # text[:done] is in out
    run_from, run_end, run_at = len(text) + 1, -1, -1  # the run from run_from ends at run_end; last '@' at run_at
    search = text.find
    sep = search("://")
    while sep >= 0:
        start = sep + 3
        i = _USER_NAME.match(text, start).end()  # type: ignore[union-attr]  # always matches
        if i < len(text) and text[i] == ":":
            pw = i + 1
            if not run_from <= pw <= run_end:
                m = _SPACE.search(text, pw)
                run_from, run_end = pw, (m.start() if m else len(text))
                run_at = text.rfind("@", pw, run_end)
            if run_at > pw:
                out += [text[done:pw], "***"]
                done = run_at
                sep = search("://", run_at)
                continue
        sep = search("://", start)
    out.append(text[done:])
    return "".join(out)


def scrub(text: str) -> str:
    """Remove every known password and any ``user:password@`` URL part from ``text`` (linear time).

    >>> scrub("connect postgresql://app:s3cret@db/x failed")
    'connect postgresql://app:***@db/x failed'
    """
    if "://" in text:
        text = _mask_url_passwords(text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    return text


def mask_whole(text: str) -> str:
    """A string that should be a URL but cannot be parsed, as it may be shown: where its bounds are
    unknown a password is masked whole, everything between ``://`` (or the first ``:``) and the last
    ``@``; a string with neither ``@`` nor ``:`` holds no credentials and is shown as typed.

    >>> mask_whole("postgresql://u:pa:ss/w@rd@db:5432/x"), mask_whole("postgresql//u:pa:ss@w@h/x")
    ('postgresql://***@db:5432/x', 'postgresql//u:***@h/x')
    >>> mask_whole("not a url at all")
    'not a url at all'
    """
    text = scrub(text)
    scheme, sep, rest = text.partition("://")
    at = rest.rfind("@")
    if sep and re.fullmatch(r"[A-Za-z][\w+.-]*", scheme):
        return f"{scheme}://***@{rest[at + 1:]}" if at >= 0 else f"{scheme}://{rest}"
    colon, at = text.find(":"), text.rfind("@")
    if 0 <= colon < at:
        return f"{text[:colon + 1]}***{text[at:]}"
    return "***" if at >= 0 else text


def _expand(template: str) -> str:
    """``${VAR}`` references replaced by their values; those inside the URL's ``user:password@``
    part URL-escaped, so ``@ : / # %`` in a password stay the password's."""
    if "${" not in template:
        return template
    sep = template.find("://")
    at = template.rfind("@", sep + 3) if sep >= 0 else -1  # references before it are user or password

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in os.environ:
            raise BadURLError(f"database URL refers to ${{{name}}}, which is not set")
        found = os.environ[name]
        if sep >= 0 and sep < m.start() < at:
            _register_secret(found)
            return quote(found, safe="")
        return found

    return _REFERENCE.sub(value, template)


def parse_url(text: str, what: str = "database URL") -> URL:
    """A URL string parsed by SQLAlchemy; a malformed one is a :class:`BadURLError` showing it masked whole.

    >>> parse_url("postgresql://u:secret@db:nope/x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    workbench.errors.BadURLError: not a database URL: 'postgresql://***@db:nope/x' (expected e.g. ...)
    """
    try:
        _one_at(text)
        return make_url(text)
    except (ArgumentError, ValueError, TypeError):
        raise BadURLError(f"not a {what}: {mask_whole(text)!r} (expected e.g. postgresql://user@host/db; "
                          f"a password with @ : / # % URL-escaped, or as ${{VAR}})") from None


def _one_at(text: str) -> None:
    """Refuse a second ``@``: a literal password holding one leaves no way to know where it ends (the
    rest would be taken for the host or the query, and a part of it shown in errors)."""
    sep = text.find("://")
    if sep >= 0 and not text.startswith("/", sep + 3) and text.count("@", sep) > 1:  # sqlite:///a@b/c@d.db: a path
        raise ValueError("two '@' in the URL")


def resolve_url(url: str | URL) -> URL:
    """Parse ``url``, expanding ``${VAR}`` references and filling the password from the environment.

    The password can come from a ``${VAR}`` inside the URL (``postgresql://app:${PGPASS}@db/x``)
    or, when the URL has none, from ``WORKBENCH_DB_PASSWORD``; either way nothing secret has to be
    typed into a notebook or an engagement file. A referenced value inside ``user:password@`` is
    inserted URL-escaped, so any character may be in a password.

    >>> resolve_url("sqlite:///x.db").get_backend_name(), resolve_url("postgres://app@db/x").drivername
    ('sqlite', 'postgresql')
    """
    if isinstance(url, URL):
        parsed = url
    else:
        original = str(url).strip()
        text = _expand(original)
        try:
            _one_at(text)
            parsed = make_url(text)
        except (ArgumentError, ValueError, TypeError):
            # named as typed (before ${VAR} expansion), masked whole: where the URL breaks, the
            # password's bounds are unknown
            raise BadURLError(f"not a database URL: {mask_whole(original)!r} (expected e.g. "
                              "postgresql://user@host/db; a password with @ : / # % URL-escaped, or as ${VAR})"
                              ) from None
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
        except (ArgumentError, ValueError, TypeError):
            return mask_whole(text)
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


def _utf8_password(dialect: object, conn_rec: object, cargs: object, cparams: dict[str, object]) -> None:
    """PyMySQL sends a ``str`` password as Latin-1 (a traceback for anything beyond it); the MySQL
    and MariaDB clients send the UTF-8 bytes a utf8mb4 server hashed: send those."""
    password = cparams.get("password")
    if isinstance(password, str):
        cparams["password"] = password.encode("utf-8")


def _create(url: URL, **kwargs: object) -> Engine:
    try:
        engine = sa.create_engine(url, **kwargs)
        if engine.dialect.driver == "pymysql":
            sa.event.listen(engine, "do_connect", _utf8_password)
        return engine
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
        connecting = exc.statement is None  # e.g. psycopg refusing a connection option
        if connecting or exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
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
