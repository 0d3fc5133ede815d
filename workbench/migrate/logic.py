"""Recreate, in a service's schema, the legacy triggers and routines that move with it.

On a target of the source's dialect, the design marks each trigger and routine that touches only
one service's tables (a trigger function touching none: every service whose triggers run it) with
``recreate_in`` (see :mod:`workbench.design.logic`). This step runs after the rows are copied, so
no trigger fires on the copy, and creates them from the legacy definitions pointed at the
service's schema:

- PostgreSQL: routines as the legacy ``CREATE OR REPLACE`` text with the service's schema in their
  name, their ``search_path`` pinned to that schema (so their bodies find the service's tables
  whoever calls them); triggers with ``ON`` the service's table and the recreated routine;
- MariaDB/MySQL: the routine or trigger created in the service's database, where the body's
  unqualified names then resolve (dropped first if a rerun finds it there);
- SQLite: the trigger's text as it is, in the service's own file.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from workbench.design.model import Design, LogicItem
from workbench.design.schemas import same_dialect
from workbench.errors import MigrationError

_PG_ROUTINE = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE)\s+"
                         r"((?:\"(?:[^\"]|\"\")*\"|[^\s.(\"]+)\.)?(\"(?:[^\"]|\"\")*\"|[^\s.(\"]+)\s*\(", re.IGNORECASE)
_PG_TRIGGER_ON = re.compile(r"\sON\s+((?:\"(?:[^\"]|\"\")*\"|[^\s.\"]+)(?:\.(?:\"(?:[^\"]|\"\")*\"|[^\s.\"]+))?)\s",
                            re.IGNORECASE)
_PG_EXECUTE = re.compile(r"(EXECUTE\s+(?:FUNCTION|PROCEDURE)\s+)((?:\"(?:[^\"]|\"\")*\"|[^\s.(\"]+)\.)?"
                         r"(\"(?:[^\"]|\"\")*\"|[^\s.(\"]+)\s*\(", re.IGNORECASE)
_MY_HEAD = re.compile(r"^\s*CREATE\s+(?:DEFINER\s*=\s*\S+\s+)?(FUNCTION|PROCEDURE|TRIGGER)\s+(`(?:[^`]|``)*`|\S+)",
                      re.IGNORECASE)
_MY_ON = re.compile(r"(\sON\s+)(`(?:[^`]|``)*`|[^\s`]+)(\s+FOR\s+EACH\s+ROW)", re.IGNORECASE)


def _short(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def postgresql_statements(item: LogicItem, namespace: str, recreated: set[str], table: str = "") -> list[str]:
    """The statements recreating a routine or trigger in ``namespace`` (PostgreSQL); ``table`` is the
    trigger's table there.

    >>> from workbench.design.model import LogicItem
    >>> trig = LogicItem("trigger", "film.touch", definition="CREATE TRIGGER touch BEFORE UPDATE ON public.film "
    ...                  "FOR EACH ROW EXECUTE FUNCTION public.last_updated()", function="last_updated")
    >>> postgresql_statements(trig, "catalog", {"last_updated"}, "film")[-1]
    'CREATE OR REPLACE TRIGGER touch BEFORE UPDATE ON catalog.film FOR EACH ROW EXECUTE FUNCTION catalog.last_updated()'
    """
    prep = sa.dialects.postgresql.dialect().identifier_preparer
    ns = prep.quote_schema(namespace)
    if item.kind in ("function", "procedure"):
        match = _PG_ROUTINE.match(item.definition)
        if match is None:
            raise MigrationError(f"{item.kind} {item.name}: its definition does not start with CREATE {item.kind}")
        body = f"CREATE OR REPLACE {match.group(1).upper()} {ns}.{match.group(3)}(" + item.definition[match.end():]
        kind = match.group(1).upper()
        return [body, f"ALTER {kind} {ns}.{match.group(3)}({item.arguments}) SET search_path FROM CURRENT"]
    text = _PG_TRIGGER_ON.sub(lambda m: f" ON {ns}.{prep.quote(table)} ", item.definition, count=1)
    if item.function in recreated:
        text = _PG_EXECUTE.sub(lambda m: f"{m.group(1)}{ns}.{m.group(3)}(", text, count=1)
    return [re.sub(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TRIGGER", "CREATE OR REPLACE TRIGGER", text, count=1,
                   flags=re.IGNORECASE)]


def mysql_statements(item: LogicItem, namespace: str, table: str = "") -> list[str]:
    """The statements recreating a routine or trigger in database ``namespace`` (MySQL/MariaDB); ``table`` is
    the trigger's table there.

    >>> from workbench.design.model import LogicItem
    >>> trig = LogicItem("trigger", "film.ins_film", definition="CREATE TRIGGER `ins_film` AFTER INSERT ON `film` "
    ...                  "FOR EACH ROW INSERT INTO film_text VALUES (new.film_id)")
    >>> mysql_statements(trig, "catalog", "film")[1][:72]
    'CREATE TRIGGER `catalog`.`ins_film` AFTER INSERT ON `catalog`.`film` FOR'
    """
    match = _MY_HEAD.match(item.definition)
    if match is None:
        raise MigrationError(f"{item.kind} {item.name}: its definition does not start with CREATE {item.kind}")
    kind, name = match.group(1).upper(), match.group(2)
    ns = "`" + namespace.replace("`", "``") + "`"
    text = f"CREATE {kind} {ns}.{name}" + item.definition[match.end():]
    if kind == "TRIGGER":
        target = "`" + table.replace("`", "``") + "`"
        text = _MY_ON.sub(lambda m: f"{m.group(1)}{ns}.{target}{m.group(3)}", text, count=1)
    return [f"DROP {kind} IF EXISTS {ns}.{name}", text]


def sqlite_statements(item: LogicItem) -> list[str]:
    """A trigger recreated as it was, in the service's own file (SQLite has no routines)."""
    name = '"' + _short(item.name).replace('"', '""') + '"'
    return [f"DROP TRIGGER IF EXISTS {name}", item.definition]


def to_recreate(design: Design, service: str, dialect: str) -> list[LogicItem]:
    """The routines (first) and triggers ``workbench migrate`` recreates in ``service`` on a ``dialect`` target."""
    if not same_dialect(design.source_dialect, dialect):
        return []
    wanted = [i for i in design.logic if service in i.recreate_in and i.kind in ("function", "procedure", "trigger")]
    return sorted(wanted, key=lambda i: (i.kind == "trigger", i.name))


def recreate(conn: sa.Connection, design: Design, service: str, dialect: str) -> list[str]:
    """Create the service's triggers and routines in its schema, in the caller's transaction; their names.

    Raises
    ------
    MigrationError
        Naming the object the target refused, with the database's message.
    """
    items = to_recreate(design, service, dialect)
    svc = design.service(service)
    names = {tt.source: tt.table.name for tt in svc.tables if tt.role == "owned" and tt.source}
    recreated = {i.name for i in items if i.kind != "trigger"}
    dbapi_error: type[Exception] = getattr(conn.dialect.loaded_dbapi, "Error", sa.exc.DBAPIError)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]  # no parameters: '%' stays
    done = []
    try:
        if dialect == "postgresql":
            cursor.execute(f"SET LOCAL search_path TO {conn.dialect.identifier_preparer.quote(svc.namespace)}")
        for item in items:
            table = names.get(item.table or "", _short(item.table or ""))
            if dialect == "postgresql":
                statements = postgresql_statements(item, svc.namespace, recreated, table)
            elif dialect == "mysql":
                statements = mysql_statements(item, svc.namespace, table)
            else:
                statements = sqlite_statements(item)
            try:
                for statement in statements:
                    cursor.execute(statement)
            except dbapi_error as exc:
                detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise MigrationError(f"{service}: the target refused the legacy {item.kind} {item.name}: {detail}; "
                                     "recreate it by hand (see the design's work list), then rerun") from None
            done.append(item.name)
    finally:
        cursor.close()
    return done
