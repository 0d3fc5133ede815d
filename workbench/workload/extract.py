"""What one statement template does to which tables: read, written, joined, and its kind.

Tables are found through sqlglot scopes (``build_scope(...).traverse()``): a name in a FROM
clause is a table only when no CTE, derived table or table function claims it. sqlglot builds
scopes for queries only, so a DML statement is first rewritten into the query it implies
(``UPDATE a SET .. FROM b WHERE ..`` reads like ``SELECT .. FROM a, b WHERE ..``) with its
target marked as written rather than read.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import combinations
from typing import TypeGuard

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, build_scope

MAX_PARSE_CHARS = 200_000
"""Longer templates are not handed to sqlglot (reported as unparseable)."""


@dataclass(frozen=True, order=True)
class TableRef:
    """A table name as a statement spells it; ``quoted`` says whether the name was quoted."""

    name: str
    schema: str | None = None
    quoted: bool = False
    schema_quoted: bool = False

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass
class StatementInfo:
    """The analysis of one template.

    Attributes
    ----------
    kind : ``select``, ``insert``, ``update``, ``delete``, ``merge``, ``ddl`` or ``other``.
    control : ``begin``, ``commit``, ``rollback``, ``autocommit_on``, ``autocommit_off`` or None:
        how the statement moves its session's transaction.
    issue : ``unparseable`` or ``unsupported`` when sqlglot could not (fully) understand it.
    """

    kind: str
    reads: list[TableRef] = field(default_factory=list)
    writes: list[TableRef] = field(default_factory=list)
    joins: list[tuple[TableRef, TableRef]] = field(default_factory=list)
    control: str | None = None
    issue: str | None = None
    detail: str | None = None


_CONTROL = [
    (re.compile(r"^(?:BEGIN|START\s+TRANSACTION)\b(?!\s*;?\s*\w+\s*:=)", re.I), "begin"),
    (re.compile(r"^(?:COMMIT|END)\b(?!\s+PREPARED)", re.I), "commit"),
    (re.compile(r"^(?:ROLLBACK|ABORT)\b(?!\s+(?:WORK\s+|TRANSACTION\s+)?TO\b)(?!\s+PREPARED)", re.I), "rollback"),
    (re.compile(r"^SET autocommit = ON$"), "autocommit_on"),
    (re.compile(r"^SET autocommit = OFF$"), "autocommit_off"),
]


def control_of(template: str) -> str | None:
    """How a normalised statement moves its session's transaction (None: it does not).

    >>> control_of("START TRANSACTION READ ONLY"), control_of("ROLLBACK TO SAVEPOINT s")
    ('begin', None)
    """
    for pattern, control in _CONTROL:
        if pattern.match(template):
            return control
    return None


_REPLACE = re.compile(r"^REPLACE\b", re.I)


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """sqlglot logs a warning for every statement it falls back to a Command for; we count them."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _ref(table: exp.Table) -> TableRef:
    ident = table.this
    db = table.args.get("db")
    return TableRef(
        name=table.name,
        schema=db.name if isinstance(db, exp.Identifier) and db.name else None,
        quoted=bool(isinstance(ident, exp.Identifier) and ident.quoted),
        schema_quoted=bool(isinstance(db, exp.Identifier) and db.quoted),
    )


def _is_real(node: object) -> TypeGuard[exp.Table]:
    """A table, as opposed to a table function (``generate_series(..)``) or a placeholder."""
    return isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier) and bool(node.name)


def _targets(stmt: exp.Expression) -> list[exp.Table]:
    """The tables a statement writes (or whose structure it changes)."""
    nodes: list[exp.Expression] = []
    if isinstance(stmt, exp.Insert | exp.Update | exp.Merge):
        nodes = [stmt.this]
    elif isinstance(stmt, exp.Delete):
        nodes = list(stmt.args.get("tables") or []) or [stmt.this]
    elif isinstance(stmt, exp.TruncateTable):
        nodes = list(stmt.expressions)
    elif isinstance(stmt, exp.Drop):
        kind = str(stmt.args.get("kind") or "").upper()
        nodes = list(stmt.args.get("tables") or [stmt.this]) if kind in ("TABLE", "VIEW", "MATERIALIZED VIEW") else []
    elif isinstance(stmt, exp.Create | exp.Alter):
        node = stmt.this
        if isinstance(node, exp.Index):
            node = node.args.get("table")
        nodes = [node]
    out = []
    for node in nodes:
        if isinstance(node, exp.Schema):
            node = node.this
        if _is_real(node):
            out.append(node)
    return out


def _implied_queries(stmt: exp.Expression) -> list[exp.Expr]:
    """The queries whose scopes hold every table the statement reads; DML becomes a SELECT.

    The DML target stays in the implied FROM clause so joins with it are seen; the caller
    drops it from the reads.
    """
    with_ = stmt.args.get("with_")
    if isinstance(stmt, exp.Query):
        return [stmt]
    if isinstance(stmt, exp.Update | exp.Delete):
        target = stmt.this
        joins = list(target.args.get("joins") or []) if isinstance(target, exp.Table) else []
        if joins:
            target.set("joins", None)
        extra = stmt.args.get("from_") or stmt.args.get("using")
        if isinstance(extra, exp.From):
            joins = [exp.Join(this=extra.this), *joins, *(extra.args.get("joins") or [])]
        elif isinstance(extra, list):
            joins += [exp.Join(this=e) for e in extra]
        select = exp.Select(
            expressions=[e.expression if isinstance(e, exp.EQ) else e for e in stmt.expressions] or [exp.Star()],
            from_=exp.From(this=target),
            joins=joins or None,
            where=stmt.args.get("where"),
            with_=with_,
        )
        return [select]
    if isinstance(stmt, exp.Merge):
        using = stmt.args.get("using")
        select = exp.Select(
            expressions=[exp.Star()],
            from_=exp.From(this=stmt.this),
            joins=[exp.Join(this=using, on=stmt.args.get("on"))] if using is not None else None,
            with_=with_,
        )
        return [select]
    queries: list[exp.Expr] = []
    if isinstance(stmt, exp.Insert | exp.Create):
        query = stmt.expression
        if isinstance(query, exp.Query):
            if with_ is not None and isinstance(query, exp.Select) and not query.args.get("with_"):
                query.set("with_", with_)
            queries.append(query)
    return queries


def _leaf_tables(scope: Scope) -> list[exp.Table]:
    """Every real table read anywhere inside a derived table's or CTE's scope."""
    out: list[exp.Table] = []
    for inner in scope.traverse():
        out += [src for _, (_, src) in inner.selected_sources.items() if _is_real(src)]
    return out


def _scan(query: exp.Expr, target_ids: set[int], reads: list[exp.Table],
          joins: list[tuple[exp.Table, exp.Table]]) -> None:  # fmt: skip
    """Collect the real tables of every scope of ``query`` (targets excepted) and the pairs each block joins."""
    root = build_scope(query)
    if root is None:
        raise SqlglotError("no scope")
    for scope in root.traverse():
        groups: list[list[exp.Table]] = []
        for _name, (_node, source) in scope.selected_sources.items():
            if _is_real(source):
                if id(source) not in target_ids:
                    reads.append(source)
                groups.append([source])
            elif isinstance(source, Scope):
                groups.append(_leaf_tables(source))
        if isinstance(scope.expression, exp.Select):
            for a, b in combinations(groups, 2):
                joins += [(x, y) for x in a for y in b]


def analyze(template: str, dialect: str | None = None) -> StatementInfo:
    """Kind, tables read and written, and joined pairs of one normalised statement.

    Never raises for bad SQL: the result's ``issue`` says what went wrong.

    >>> info = analyze("UPDATE stock SET qty = ? FROM orders o WHERE o.product_id = stock.product_id", "postgres")
    >>> info.kind, [str(t) for t in info.reads], [str(t) for t in info.writes]
    ('update', ['orders'], ['stock'])
    >>> analyze("WITH c AS (SELECT * FROM customers) SELECT * FROM c JOIN orders USING (id)").joins
    ... # doctest: +NORMALIZE_WHITESPACE
    [(TableRef(name='customers', schema=None, quoted=False, schema_quoted=False),
      TableRef(name='orders', schema=None, quoted=False, schema_quoted=False))]
    """
    control = control_of(template)
    if len(template) > MAX_PARSE_CHARS:
        return StatementInfo("other", control=control, issue="unparseable", detail="statement too long to parse")
    text = _REPLACE.sub("INSERT", template) if dialect == "mysql" else template  # same tables as INSERT
    try:
        with _quiet_sqlglot():
            parsed = sqlglot.parse(text, read=dialect)
    except (SqlglotError, RecursionError, ValueError, KeyError, TypeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return StatementInfo("other", control=control, issue="unparseable", detail=detail)
    statements = [s for s in parsed if s is not None]
    if len(statements) != 1:
        return StatementInfo("other", control=control, issue="unparseable", detail="not exactly one statement")
    stmt = statements[0]
    if isinstance(stmt, exp.Condition | exp.Alias | exp.Tuple | exp.Star | exp.Identifier):
        return StatementInfo("other", control=control, issue="unparseable", detail="not a statement")
    if isinstance(stmt, exp.Command):
        return StatementInfo("other", control=control, issue="unsupported", detail=f"{stmt.name} is opaque to sqlglot")
    if not isinstance(stmt, exp.Expression):  # (every parsed statement is one)
        return StatementInfo("other", control=control, issue="unparseable", detail="not a statement")
    kind = _kind(stmt)
    targets = _targets(stmt)
    target_ids = {id(t) for t in targets}
    target_names = {t.alias_or_name for t in targets}
    if isinstance(stmt, exp.Delete) and stmt.args.get("tables"):
        # MySQL multi-table DELETE: the targets are named again in the FROM clause
        target_ids |= {id(t) for t in stmt.this.find_all(exp.Table) if t.alias_or_name in target_names}
    reads: list[exp.Table] = []
    join_nodes: list[tuple[exp.Table, exp.Table]] = []
    info = StatementInfo(kind, control=control)
    try:
        for query in _implied_queries(stmt):
            _scan(query, target_ids, reads, join_nodes)
    except (SqlglotError, RecursionError, KeyError, ValueError, TypeError, AttributeError) as exc:
        info.issue, info.detail = (
            "unsupported",
            f"scope analysis failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
        )
    info.writes = sorted({_ref(t) for t in targets})
    info.reads = sorted({_ref(t) for t in reads})
    pairs = set()
    for a, b in join_nodes:
        ra, rb = _ref(a), _ref(b)
        if ra != rb:
            pairs.add((ra, rb) if ra < rb else (rb, ra))
    info.joins = sorted(pairs)
    return info


_CUT = re.compile(
    r"\s(?:(?:LEFT|RIGHT|FULL|INNER|CROSS)\s+(?:OUTER\s+)?)?JOIN\s|\sWHERE\s|\sGROUP\s+BY\s|\sORDER\s+BY\s"
    r"|\sHAVING\s|\sLIMIT\s|\sON\s|,",
    re.I,
)


def analyze_truncated(template: str, dialect: str | None = None, attempts: int = 12) -> StatementInfo:
    """Analyse a statement cut short (a MySQL digest ends with ``...``): drop the broken tail.

    The text is cut back clause by clause (before the last JOIN, WHERE, GROUP BY, ON, comma)
    until sqlglot accepts it, so the tables named before the cut are still counted.

    >>> info = analyze_truncated("SELECT * FROM a JOIN b ON b.id = a.id JOIN c ON c.id = a.c_id AND c.x IN (?, ...")
    >>> sorted(str(t) for t in info.reads), info.issue
    (['a', 'b', 'c'], None)
    """
    text = template.removesuffix("...").rstrip()
    info = analyze(text, dialect)
    for _ in range(attempts):
        if info.issue != "unparseable":
            return info
        cuts = [m.start() for m in _CUT.finditer(text)]
        if not cuts:
            break
        text = text[: cuts[-1]].rstrip()
        info = analyze(text, dialect)
    return info


def _kind(stmt: exp.Expression) -> str:
    if isinstance(stmt, exp.Query):
        return "select"
    for cls, name in ((exp.Insert, "insert"), (exp.Update, "update"), (exp.Delete, "delete"), (exp.Merge, "merge")):
        if isinstance(stmt, cls):
            return name
    if isinstance(stmt, exp.Create | exp.Drop | exp.Alter | exp.TruncateTable):
        return "ddl"
    return "other"
