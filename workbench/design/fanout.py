"""How a join multiplies rows, and how to split it into read models that each hold one grain.

A read model is one table, so it has one grain: one row per row of some table of its join. A join
keeps its grain through many-to-one steps (the joined table's whole key is equated) and moves it
down one one-to-many chain (customers -> orders -> invoices). Two one-to-many branches from the same
row (orders *and* web sessions of a customer) multiply each other: the classic chasm trap, where
SUMs and COUNTs over the join are wrong and the table grows with the product of the branches. A
table joined on part of its key while the request supplies the rest (``er.rate_date = ?``) is a
request-time lookup: without the request's value every matching row joins.

:func:`segments` splits a join tree into such single-grain pieces; the consumer joins the pieces
at request time, as the original query did.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from workbench.design.model import JoinStep
from workbench.schema import Schema, Table

ONE, MANY, LOOSE = "one", "many", "loose"


@dataclass
class Link:
    """How one join step attaches to the steps before it.

    Attributes
    ----------
    kind : ``one`` (its whole primary or unique key is equated: it never multiplies), ``many`` (it
        holds the rows referring to a whole key of its parent: one-to-many) or ``loose`` (neither
        side's key is covered: it multiplies by however many rows share the joined values).
    parent : the alias it hangs from (None for the first step).
    needs : every earlier alias its join condition names (a piece holding it must hold them all).
    lookup : a ``loose`` step whose join also compares with request values (parameters dropped from
        the fill): without them every row sharing the joined values would join.
    """

    kind: str
    parent: str | None
    needs: frozenset[str]
    lookup: bool = False


def _keys(t: Table) -> list[set[str]]:
    keys = [set(t.primary_key)] + [set(u.columns) for u in t.unique_constraints] + \
        [set(i.columns) for i in t.indexes if i.unique]
    return [k for k in keys if k]


def _aliases_in(sql: str) -> set[str]:
    from sqlglot import exp, parse_one

    return {c.table for c in parse_one(sql).find_all(exp.Column) if c.table}


def links(steps: Sequence[JoinStep], schema: Schema, dropped: Sequence[int] = ()) -> dict[str, Link]:
    """Each step's :class:`Link`, by alias; ``dropped`` counts each step's request-time predicates.

    >>> from workbench.schema import Column, Table
    >>> s = Schema(dialect="sqlite", database="x", tables=[
    ...     Table("c", columns=[Column("id", "INT")], primary_key=["id"]),
    ...     Table("o", columns=[Column("id", "INT"), Column("c_id", "INT")], primary_key=["id"])])
    >>> steps = [JoinStep("c", "c", None, "c"), JoinStep("o", "o", None, "o", on=[["o.c_id", "c.id"]]),
    ...          JoinStep("c", "c", None, "c2", on=[["c2.id", "o.c_id"]])]
    >>> [(a, k.kind, k.parent) for a, k in links(steps, s).items()]
    [('c', 'one', None), ('o', 'many', 'c'), ('c2', 'one', 'o')]
    """
    tables = {t.key: t for t in schema.tables}
    order = [s.alias for s in steps]
    out: dict[str, Link] = {}
    for i, step in enumerate(steps):
        if i == 0:
            out[step.alias] = Link(ONE, None, frozenset())
            continue
        earlier = set(order[:i])
        mine: set[str] = set()  # my columns equated to a constant or to an earlier column
        theirs: dict[str, set[str]] = {}  # earlier alias -> its columns equated to mine
        for pair in step.on:
            sides = [side.partition(".") for side in pair]
            refs = [(a, c) for a, dot, c in sides if dot and a in earlier | {step.alias}]
            if len(refs) == 1 and refs[0][0] == step.alias:
                mine.add(refs[0][1].lower())
            elif len(refs) == 2:
                (a1, c1), (a2, c2) = refs
                for (ma, mc), (oa, oc) in (((a1, c1), (a2, c2)), ((a2, c2), (a1, c1))):
                    if ma == step.alias and oa != step.alias:
                        mine.add(mc.lower())
                        theirs.setdefault(oa, set()).add(oc.lower())
        needs = set(theirs)
        for sql in step.extra:
            needs |= _aliases_in(sql) & earlier
        by_alias = {s.alias: s for s in steps[:i]}
        table = tables.get(step.table)
        parent = max(needs, key=order.index) if needs else order[0]
        lookup = i < len(dropped) and dropped[i] > 0
        if table is not None and any({c.lower() for c in k} <= mine for k in _keys(table)):
            out[step.alias] = Link(ONE, parent, frozenset(needs))
            continue
        referred = [a for a, cols in theirs.items() if (t := tables.get(by_alias[a].table)) is not None
                    and any({c.lower() for c in k} <= cols for k in _keys(t))]
        if referred:  # a request-time filter on children (o.status = ?) leaves them all in the fill
            out[step.alias] = Link(MANY, max(referred, key=order.index), frozenset(needs))
        else:
            out[step.alias] = Link(LOOSE, parent, frozenset(needs), lookup=lookup)
    return out


@dataclass
class Segment:
    """One single-grain piece of a join: its steps (the first has no join condition), the alias that
    tells it from the other pieces (None: the piece of the first step, holding its only chain), and
    what the split left to the request."""

    steps: list[JoinStep]
    leaf: str | None = None
    notes: list[str] = dataclasses.field(default_factory=list)


def _root(step: JoinStep) -> JoinStep:
    return dataclasses.replace(step, outer=False, on=[], extra=[])


def segments(steps: Sequence[JoinStep], schema: Schema, dropped: Sequence[int] = (),
             own: Collection[str] = ()) -> list[Segment]:
    """The join split into single-grain pieces, in join order.

    A join with at most one multiplying chain stays whole. Otherwise each request-time lookup
    starts a piece of its own, and each root-to-leaf chain of multiplying steps becomes a piece
    with the to-one steps hanging from it. Pieces made only of ``own`` tables (the consumer has
    them already) are left to the request, unless nothing else would remain.
    """
    link = links(steps, schema, dropped)
    by_alias = {s.alias: s for s in steps}
    children: dict[str | None, list[str]] = {}
    for s in steps:
        children.setdefault(link[s.alias].parent, []).append(s.alias)
    for s in steps[1:]:
        if link[s.alias].lookup:  # detach: a request-time lookup is a root of its own
            children[link[s.alias].parent].remove(s.alias)

    def closure(alias: str) -> list[str]:
        """``alias`` and its to-one descendants (not request-time lookups)."""
        out = [alias]
        for c in children.get(alias, []):
            if link[c].kind == ONE:
                out += closure(c)
        return out

    def chains(alias: str) -> list[list[str]]:
        """Every path of multiplying steps down from ``alias``'s to-one closure."""
        below = [c for a in closure(alias) for c in children.get(a, []) if link[c].kind != ONE]
        if not below:
            return [[]]
        return [[c, *rest] for c in below for rest in chains(c)]

    roots = [steps[0].alias] + [s.alias for s in steps[1:] if link[s.alias].lookup]
    whole = len(roots) == 1 and len(chains(roots[0])) == 1
    if whole:
        return [Segment(list(steps))]

    pieces: list[tuple[str, list[str], list[str]]] = []  # (root, chain, aliases)
    for root in roots:
        for chain in chains(root):
            aliases = closure(root) + [a for c in chain for a in closure(c)]
            pieces.append((root, chain, aliases))
    out: list[Segment] = []
    left: list[str] = []
    pruned: list[str] = []
    seen: list[list[str]] = []
    for root, chain, aliases in pieces:
        kept = [a for a in (s.alias for s in steps) if a in aliases]
        changed = True
        while changed:  # a step naming an alias outside the piece cannot be joined in it
            changed = False
            for a in kept[1:]:
                if not link[a].needs <= set(kept):
                    kept.remove(a)
                    pruned.append(by_alias[a].name)
                    changed = True
        mine = {by_alias[a].table for a in kept}
        if own and mine <= set(own):
            left.append(by_alias[chain[-1] if chain else root].name)
            continue
        if kept in seen:
            continue
        seen.append(kept)
        multi = len(chains(root)) > 1
        leaf = _leaf([a for a in chain if a in kept]) if multi else (root if root != steps[0].alias else None)
        seg = Segment([_root(by_alias[root])] + [by_alias[a] for a in kept[1:]], leaf)
        if root != steps[0].alias:
            seg.notes.append(f"{by_alias[root].name} is joined on part of its key, the rest given by the request: "
                             f"a read model of its own, joined at request time")
        elif chain and multi:
            seg.notes.append("the join has several one-to-many branches, which one table would multiply: "
                             f"this read model holds the branch through {', '.join(by_alias[a].name for a in chain)}")
        if root == steps[0].alias and len(roots) > 1:
            seg.notes.append(f"joined at request time with {', '.join(by_alias[r].name for r in roots[1:])}, "
                             "a read model of its own (joined on part of its key)")
        out.append(seg)
    if not out:
        return [Segment([_root(steps[0])] + [by_alias[a] for a in closure(steps[0].alias)[1:]], None)]
    if pruned:
        out[0].notes.append(f"left out where their join names tables of another read model: "
                            f"{', '.join(sorted(set(pruned)))}")
    if left:
        out[0].notes.append(f"the service's own {', '.join(sorted(set(left)))} joined at request time, not copied")
    return out


def _leaf(chain: Sequence[str]) -> str | None:
    return chain[-1] if chain else None


def grain(steps: Sequence[JoinStep], schema: Schema) -> list[tuple[str, str]] | None:
    """The (table, column) pairs identifying one row of the join, or None when no key exists.

    A joined table whose whole primary or unique key is equated to the other side does not multiply
    rows (a many-to-one join); any other joined table adds its primary key, unless it is outer-joined
    (its key could be NULL) or has none.
    """
    tables = {t.key: t for t in schema.tables}
    first = tables[steps[0].table]
    if not first.primary_key:
        return None
    aliases = {s.alias for s in steps}

    def column(side: str) -> tuple[str, str] | None:
        alias, dot, col = side.partition(".")
        return (alias, col) if dot and alias in aliases else None

    out = [(first.key, c) for c in first.primary_key]
    seen = {first.key}
    for step in steps[1:]:
        t = tables[step.table]
        equated = set()
        for a, b in step.on:
            ca, cb = column(a), column(b)
            for mine, other in ((ca, cb), (cb, ca)):
                if mine and other and mine[0] == step.alias and other[0] != step.alias:
                    equated.add(mine[1])
        if any({c.lower() for c in k} <= {c.lower() for c in equated} for k in _keys(t)):
            continue
        if step.outer or not t.primary_key or t.key in seen:
            return None
        out += [(t.key, c) for c in t.primary_key]
        seen.add(t.key)
    return out
