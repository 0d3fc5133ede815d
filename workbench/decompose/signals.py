"""The evidence that two tables belong together, one function per signal, each kept separately.

Every function returns ``{(a, b): strength}`` with ``a < b`` (table keys) and strength > 0. They
are combined into one weighted graph by :mod:`workbench.decompose.graph`; keeping them apart lets
the reasons in ``decomposition.yaml`` say *which* evidence ties a table to its service.

Signals
-------
fk : declared foreign keys. 1 per pair of tables; 2 when the child is part of its parent (composition):
    the key is identifying (its columns are part of the child's primary key), deletes cascade, or
    the child's name extends its parent's (``loan_charge`` -> ``loan``, ``Sales Invoice Item`` ->
    ``Sales Invoice``), the naming convention of an aggregate's parts.
implied_fk : undeclared references found by name (``customer_id`` next to ``customers.id``, or
    a column spelled like another table's primary key) with a compatible type, by the assessment
    stage's rules. Legacy MySQL/MyISAM schemas often declare no keys at all.
join : table-pair affinity of Oracle's Data Refactoring Advisor: the Jaccard index of the two
    tables' statement sets, half by distinct statements, half by calls.
cowrite : the same Jaccard index over transactions *writing* both tables. The strongest signal:
    splitting two tables written in one transaction costs a saga.
coaccess : the Jaccard index over transactions touching both tables (reads included): ORMs load
    related rows with separate statements that never join.
name : the same leading name word(s): a module's tables share their first informative word
    (:mod:`workbench.decompose.vocabulary`), and sharing the first two says more. Strength
    1 / (n - 1) for a leading word n tables share, so every table spends one unit of name evidence
    on its group whatever the group's size.
schema : the same database schema, when the database has several: each table tied to its schema's
    most referenced tables.

Keys that only record who created or changed a row (``created_by``, ``write_uid``) count 0.3:
they point every table at the user table and say nothing about domains.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

import pandas as pd

from workbench.decompose.vocabulary import Vocabulary
from workbench.schema import Schema, Table
from workbench.workload.model import Workload

Pair = tuple[str, str]

SIGNALS = ("fk", "implied_fk", "join", "cowrite", "coaccess", "name", "schema")


def pair(a: str, b: str) -> Pair:
    """The unordered pair as a sorted tuple.

    >>> pair("orders", "customers")
    ('customers', 'orders')
    """
    return (a, b) if a < b else (b, a)


_WHO_DID_IT = re.compile(
    r"^(created|creat|create|updated|update|modified|modify|changed|deleted|inserted|last_?modified|last_?updated"
    r"|write|written|approved|reviewed|entered|edited)_?(by|uid|user|user_?id|by_?id|by_?user(_?id)?)$")


def bookkeeping(column: str) -> bool:
    """Whether a key column only records who touched the row (``created_by``, ``write_uid``, ...).

    Such keys point every table at the user table; they say nothing about the domain.

    >>> bookkeeping("created_by"), bookkeeping("write_uid"), bookkeeping("LastModifiedBy"), bookkeeping("customer_id")
    (True, True, True, False)
    """
    from workbench.assess.naming import snake

    return bool(_WHO_DID_IT.match(snake(column)))


BOOKKEEPING_STRENGTH = 0.3
"""Strength of a key that only records who created or changed a row."""

PART_OF_STRENGTH = 2.0
"""Strength of a key tying a part to its whole (composition): a reference plus as much again."""


def fk_strength(table: Table, columns: list[str]) -> float:
    """A declared key's strength: 1; :data:`PART_OF_STRENGTH` when identifying (its columns are part
    of the child's primary key) -- and see :func:`fk_edges` for cascades and names; 0.3 for a
    bookkeeping key."""
    if len(columns) == 1 and bookkeeping(columns[0]):
        return BOOKKEEPING_STRENGTH
    identifying = bool(table.primary_key) and set(columns) <= set(table.primary_key)
    return PART_OF_STRENGTH if identifying else 1.0


def extends(vocabulary: Vocabulary, child: str, parent: str) -> bool:
    """Whether ``child``'s informative name words start with all of ``parent``'s.

    >>> v = Vocabulary.of_names(["loans", "loan_charges", "loan_products", "charges"])
    >>> extends(v, "loan_charges", "loans"), extends(v, "charges", "loans")
    (True, False)
    """
    head, tail = vocabulary.words(parent), vocabulary.words(child)
    return bool(head) and len(tail) > len(head) and tail[: len(head)] == head


def fk_edges(schema: Schema, vocabulary: Vocabulary | None = None) -> dict[Pair, float]:
    """Declared foreign keys between distinct base tables, the strongest per pair of tables
    (self-references say nothing about boundaries; a second key between the same two tables says
    little more than the first)."""
    tables = {t.key for t in schema.base_tables}
    vocab = vocabulary or Vocabulary.of(schema)
    out: dict[Pair, float] = {}
    for t in schema.base_tables:
        for fk in t.foreign_keys:
            parent = fk.referred_key
            if parent == t.key or parent not in tables:
                continue
            strength = fk_strength(t, fk.columns)
            part_of = (fk.on_delete or "").upper() == "CASCADE" or extends(vocab, t.key, parent)
            if part_of and strength == 1.0:
                strength = PART_OF_STRENGTH
            p = pair(t.key, parent)
            out[p] = max(out.get(p, 0.0), strength)
    return dict(sorted(out.items()))


def schema_edges(schema: Schema, per_table: int = 3) -> dict[Pair, float]:
    """Same database schema: when tables live in several schemas (``sales.*``, ``hr.*``), each table is
    tied to the ``per_table`` most referenced tables of its own schema (strength 1).

    The DBA's grouping is evidence of ownership; tying each table to its schema's central tables,
    rather than to every other table of the schema, keeps the graph sparse. A schema holding nearly
    all tables (or a database with one schema) gives no signal.
    """
    by_schema: dict[str | None, list[Table]] = defaultdict(list)
    for t in schema.base_tables:
        by_schema[t.schema].append(t)
    if len(by_schema) < 2:
        return {}
    total = len(schema.base_tables)
    fan_in = {p: len(c) for p, c in references(schema).items()}
    out: dict[Pair, float] = {}
    for tables in by_schema.values():
        if len(tables) < 2 or len(tables) > 0.8 * total:
            continue
        central = sorted(tables, key=lambda t: (-fan_in.get(t.key, 0), t.key))[: per_table + 1]
        for t in tables:
            for c in [c for c in central if c.key != t.key][:per_table]:
                out[pair(t.key, c.key)] = 1.0
    return dict(sorted(out.items()))


def implied_references(schema: Schema) -> list[tuple[str, str, str]]:
    """Undeclared references read from column names, as ``(child, parent, column)``, sorted.

    The rules are the assessment stage's (:func:`workbench.assess.implied.implied_references`), so
    the lint report and the decomposition see the same implied keys.
    """
    from workbench.assess.implied import implied_references as found

    return sorted({(r.table, r.referred_table, r.column) for r in found(schema) if r.referred_table != r.table})


def implied_fk_edges(schema: Schema, implied: list[tuple[str, str, str]] | None = None) -> dict[Pair, float]:
    """:func:`implied_references` (or ``implied``, when already computed) as unordered edges of
    strength 1, pairs already declared skipped."""
    declared = set(fk_edges(schema))
    refs = implied_references(schema) if implied is None else implied
    return {p: 1.0 for p in sorted({pair(c, p) for c, p, _ in refs}) if p not in declared}


def references(schema: Schema, implied: list[tuple[str, str, str]] | None = None) -> dict[str, set[str]]:
    """parent -> the distinct tables referencing it, declared or implied (self-references left out)."""
    out: dict[str, set[str]] = defaultdict(set)
    keys = {t.key for t in schema.base_tables}
    for t in schema.base_tables:
        for fk in t.foreign_keys:
            if fk.referred_key != t.key and fk.referred_key in keys:
                out[fk.referred_key].add(t.key)
    for child, parent, _ in implied_references(schema) if implied is None else implied:
        out[parent].add(child)
    return dict(out)


def _affinity(groups: list[tuple[Iterable[str], float]], known: set[str] | None) -> dict[Pair, float]:
    """0.5 static + 0.5 dynamic Jaccard over groups of tables (statements or transactions):
    |A and B| / (|A| + |B| - |A and B|) with A the groups holding a table, counted once each
    (static) or by their count (dynamic). Pairs come from a pandas self-join of the memberships."""
    index: dict[str, int] = {}
    rows = [(i, index.setdefault(t, len(index)), float(count)) for i, (members, count) in enumerate(groups)
            for t in sorted(set(members)) if known is None or t in known]
    if not rows:
        return {}
    names = sorted(index, key=index.__getitem__)
    member = pd.DataFrame(rows, columns=["g", "t", "c"])
    if member["c"].sum() <= 0:
        member["c"] = 1.0
    size = member.groupby("t").agg(n=("g", "size"), c=("c", "sum"))
    pairs = member.merge(member[["g", "t"]], on="g", suffixes=("_a", "_b"))
    pairs = pairs[pairs["t_a"] != pairs["t_b"]]
    pairs = pairs[[names[a] < names[b] for a, b in zip(pairs["t_a"], pairs["t_b"], strict=True)]]
    if pairs.empty:
        return {}
    inter = pairs.groupby(["t_a", "t_b"], sort=False).agg(n=("g", "size"), c=("c", "sum")).reset_index()
    na, nb = size.loc[inter["t_a"]], size.loc[inter["t_b"]]
    static = inter["n"].to_numpy() / (na["n"].to_numpy() + nb["n"].to_numpy() - inter["n"].to_numpy())
    dynamic = inter["c"].to_numpy() / (na["c"].to_numpy() + nb["c"].to_numpy() - inter["c"].to_numpy())
    value = 0.5 * static + 0.5 * dynamic
    return dict(sorted(((names[a], names[b]), float(v))
                       for a, b, v in zip(inter["t_a"], inter["t_b"], value, strict=True)))


def join_affinity(workload: Workload, tables: set[str] | None = None) -> dict[Pair, float]:
    """Join co-access per REFERENCE.md section 2: joins(t1,t2) / (sql(t1) + sql(t2) - joins(t1,t2)).

    ``sql(t)`` counts the statements touching ``t``; only pairs joined in at least one statement
    get an edge, so tables merely read by one statement in separate subqueries stay apart.
    """
    touched: dict[str, set[int]] = defaultdict(set)
    joined: dict[Pair, set[int]] = defaultdict(set)
    calls: list[float] = []
    for i, tpl in enumerate(workload.templates):
        calls.append(float(max(tpl.calls, 0)))
        for t in set(tpl.tables_read) | set(tpl.tables_written):
            if tables is None or t in tables:
                touched[t].add(i)
        for a, b in tpl.joins:
            if a != b and (tables is None or (a in tables and b in tables)):
                joined[pair(a, b)].add(i)
    dynamic_ok = sum(calls) > 0
    out: dict[Pair, float] = {}
    for (a, b), both in sorted(joined.items()):
        sa, sb = touched[a] | both, touched[b] | both
        static = len(both) / len(sa | sb)
        if dynamic_ok:
            wb = sum(calls[i] for i in both)
            wu = sum(calls[i] for i in sa | sb)
            dynamic = wb / wu if wu else static
        else:
            dynamic = static
        out[(a, b)] = 0.5 * static + 0.5 * dynamic
    return out


def cowrite_affinity(workload: Workload, tables: set[str] | None = None) -> dict[Pair, float]:
    """Jaccard over transactions writing each table (static by shape, dynamic by count)."""
    return _affinity([(tx.tables_written, tx.count) for tx in workload.transactions], tables)


def coaccess_affinity(workload: Workload, tables: set[str] | None = None) -> dict[Pair, float]:
    """Jaccard over transactions touching each table, reads included."""
    return _affinity([([*tx.tables_read, *tx.tables_written], tx.count) for tx in workload.transactions], tables)


def name_similarity(schema: Schema, vocabulary: Vocabulary | None = None, depth: int = 1,
                    dense: int = 40, sparse_neighbours: int = 20) -> dict[Pair, float]:
    """Tables sharing their leading informative name word(s), as ``{pair: strength}``.

    A pair's strength is 1 / (n - 1) for the deepest leading prefix (of up to ``depth`` words) it
    shares with n tables in all, so a table's name evidence sums to about one per level however
    large its group. Groups of more than ``dense`` tables link each table to its ``sparse_neighbours`` next
    names in sorted order instead of to all (the same total weight, a linear number of edges).
    A word half the tables start with is a prefix, not a module (see
    :class:`~workbench.decompose.vocabulary.Vocabulary`), and groups of more than half the
    tables say nothing.

    >>> from workbench.schema import Table
    >>> names = ["orders", "order_lines", "order_line_taxes", "order_notes", "audit_log", "customers",
    ...          "customer_groups", "products", "warehouses"]
    >>> sims = name_similarity(Schema("sqlite", "x", tables=[Table(n) for n in names]))
    >>> sims[("order_line_taxes", "order_lines")] == sims[("order_lines", "orders")] == round(1 / 3, 6)
    True
    >>> deeper = name_similarity(Schema("sqlite", "x", tables=[Table(n) for n in names]), depth=2)
    >>> deeper[("order_line_taxes", "order_lines")] > deeper[("order_lines", "orders")]
    True
    >>> ("audit_log", "customers") in sims
    False
    """
    vocab = vocabulary or Vocabulary.of(schema)
    keys = sorted(vocab.table_words)
    out: dict[Pair, float] = {}
    for d in range(1, depth + 1):
        groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for t in keys:
            lead = vocab.leading(t, d)
            if lead is not None:
                groups[lead].append(t)
        for members in groups.values():
            n = len(members)
            if n < 2 or n > 0.5 * len(keys):
                continue
            if n <= dense:
                strength = 1.0 / (n - 1)
                links = ((a, b) for i, a in enumerate(members) for b in members[i + 1:])
            else:
                strength = 1.0 / sparse_neighbours
                half = sparse_neighbours // 2
                links = ((members[i], members[(i + j) % n]) for i in range(n) for j in range(1, half + 1))
            for a, b in links:
                p = pair(a, b)
                out[p] = max(out.get(p, 0.0), round(strength, 6))
    return dict(sorted(out.items()))
