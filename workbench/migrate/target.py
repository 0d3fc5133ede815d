"""Where each service's schema lives in a target: a schema (PostgreSQL), a database (MariaDB/MySQL)
or a file of its own (SQLite).

A server target is one URL; every service's namespace sits beside the others on that server. A
SQLite target is a folder (``path/to/folder`` or ``sqlite:///path/to/folder``) holding one
``<namespace>.sqlite`` file per service, exactly as :func:`workbench.design.ddl.apply` lays them out.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from workbench.db import mask_url, parse_url, resolve_url, target_engine
from workbench.design.model import Design
from workbench.errors import BadURLError, TargetError

DIALECTS = ("postgresql", "mysql", "sqlite")
"""Target backends the migration writes (others would need their own bulk path)."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers (verify, a watching test) never block the copy
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _postgresql_session(dbapi_connection: Any, _record: Any) -> None:
    # Each chunk commits with its checkpoint: a commit lost to a server crash loses both together,
    # which the rerun repairs, so the copy need not wait for every commit to reach the disk.
    with dbapi_connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
    dbapi_connection.commit()


def _mysql_session(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cur:
        # foreign keys are checked by the migration itself once a service's tables are complete;
        # NO_AUTO_VALUE_ON_ZERO keeps a legacy id 0 as 0 instead of drawing a new AUTO_INCREMENT value
        cur.execute("SET SESSION foreign_key_checks = 0")
        cur.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")


@dataclass
class Target:
    """A target for the services of a design.

    Attributes
    ----------
    spec : the URL or folder as given (shown only through :attr:`display`).
    dialect : ``postgresql``, ``mysql`` or ``sqlite``.
    folder : the SQLite folder (None for servers).
    """

    spec: str
    dialect: str
    folder: Path | None = None
    _engines: dict[str, sa.Engine] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, spec: str | Path) -> Target:
        """A target from a server URL, a folder, or ``sqlite:///folder``.

        A relative folder is made absolute here, so artifacts naming it (``migration.json``,
        ``verify.json``) mean the same folder wherever they are read from.

        >>> Target.parse("/tmp/services").dialect, Target.parse("sqlite:////tmp/services").folder
        ('sqlite', PosixPath('/tmp/services'))
        """
        text = str(spec).strip()
        if "://" not in text:
            return cls(text, "sqlite", Path(text).resolve())
        url = parse_url(text, "target URL or folder") if "${" not in text else resolve_url(text)
        name = url.get_backend_name()
        family = {"mariadb": "mysql", "postgres": "postgresql"}.get(name, name)
        if family == "sqlite":
            if not url.database or url.database == ":memory:":
                raise BadURLError("a SQLite target is a folder (one file per service): give sqlite:///path/to/folder")
            path = Path(url.database)
            if path.suffix in (".db", ".sqlite", ".sqlite3") and not path.is_dir():
                raise BadURLError(f"a SQLite target is a folder (one file per service), not a file: {path}")
            return cls(text, "sqlite", path.resolve())
        if family not in DIALECTS:
            raise BadURLError(f"cannot migrate into {family} ({mask_url(text)}): targets are {', '.join(DIALECTS)}")
        return cls(text, family)

    @property
    def display(self) -> str:
        """The target as it may be shown: password masked, or the folder."""
        return str(self.folder) if self.folder is not None else mask_url(self.spec)

    def schema(self, design: Design, service: str) -> str | None:
        """The schema qualifying the service's tables (None for SQLite: the file is the namespace)."""
        return None if self.dialect == "sqlite" else design.service(service).namespace

    def path(self, design: Design, service: str) -> Path:
        """The SQLite file of a service."""
        assert self.folder is not None
        return self.folder / f"{design.service(service).namespace}.sqlite"

    def url(self, design: Design, service: str) -> str:
        """A URL reaching the service's tables (the server's, or the service's SQLite file)."""
        if self.folder is not None:
            return f"sqlite:///{self.path(design, service)}"
        return self.spec

    def where(self, design: Design, service: str) -> str:
        """Where the service lives, for messages (password masked)."""
        if self.folder is not None:
            return str(self.path(design, service))
        return f"{mask_url(self.spec)} {design.service(service).namespace}"

    def engine(self, design: Design, service: str, *, migrating: bool = False) -> sa.Engine:
        """A read-write engine on the service's namespace; ``migrating`` sets the bulk-load session."""
        key = f"{self.url(design, service)}|{migrating}"
        engine = self._engines.get(key)
        if engine is None:
            if self.folder is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
            engine = target_engine(self.url(design, service), pool_pre_ping=False)
            if self.dialect == "sqlite":
                sa.event.listen(engine, "connect", _sqlite_pragmas)
            elif self.dialect == "mysql" and migrating:
                sa.event.listen(engine, "connect", _mysql_session)
            elif self.dialect == "postgresql" and migrating:
                sa.event.listen(engine, "connect", _postgresql_session)
            from workbench.migrate.canon import with_sqlite_functions

            self._engines[key] = with_sqlite_functions(engine)
            engine = self._engines[key]
        return engine

    def exists(self, design: Design, service: str) -> bool:
        """Whether the service's namespace (or file) exists already."""
        if self.folder is not None:
            return self.path(design, service).exists()
        with self.engine(design, service).connect() as conn:
            return design.service(service).namespace in sa.inspect(conn).get_schema_names()

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()


def with_prefix(design: Design, prefix: str) -> Design:
    """A copy of ``design`` whose namespaces carry ``prefix`` (e.g. one target server, several rehearsals).

    >>> from workbench.design.model import ServiceDesign
    >>> with_prefix(Design("x", "sqlite", {"crm": ServiceDesign("crm", "crm")}), "rehearsal_").service("crm").namespace
    'rehearsal_crm'
    """
    if not prefix:
        return design
    if not re.fullmatch(r"\w+", prefix):
        raise TargetError(f"namespace prefix {prefix!r} is not allowed: letters, digits and _ only")
    out = copy.deepcopy(design)
    for svc in out.services.values():
        svc.namespace = f"{prefix}{svc.namespace}"
    return out
