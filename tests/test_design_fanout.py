"""Splitting a read's join into single-grain read models (chasm traps, request-time lookups)."""

from __future__ import annotations

from workbench.design.fanout import LOOSE, MANY, ONE, grain, links, segments
from workbench.design.model import JoinStep
from workbench.schema import Column, Index, Schema, Table


def _schema() -> Schema:
    def t(name: str, *cols: str, pk: tuple[str, ...] = ("id",), unique: tuple[str, ...] = ()) -> Table:
        return Table(name, columns=[Column(c, "INT") for c in cols], primary_key=list(pk),
                     indexes=[Index(f"ux_{name}", list(unique), unique=True)] if unique else [])

    return Schema(dialect="sqlite", database="x", tables=[
        t("c", "id", "group_id"), t("g", "id"), t("o", "id", "c_id"), t("i", "id", "o_id"), t("r", "id", "c_id"),
        t("p", "id", "c_id", unique=("c_id",)), t("x", "id", "o_id", "r_id"), t("fx", "cur", "day", pk=("cur", "day"))])


def _step(table: str, alias: str, *on: tuple[str, str], outer: bool = True) -> JoinStep:
    return JoinStep(table, table, None, alias, outer=outer, on=[list(p) for p in on])


def test_links_tell_to_one_one_to_many_and_loose_joins() -> None:
    steps = [_step("c", "c", outer=False), _step("g", "g", ("g.id", "c.group_id")), _step("p", "p", ("p.c_id", "c.id")),
             _step("o", "o", ("o.c_id", "c.id")), _step("fx", "fx", ("fx.cur", "'EUR'"))]
    got = {a: (k.kind, k.parent) for a, k in links(steps, _schema()).items()}
    assert got == {"c": (ONE, None), "g": (ONE, "c"), "p": (ONE, "c"),  # p.c_id is unique: one per customer
                   "o": (MANY, "c"), "fx": (LOOSE, "c")}


def test_one_chain_keeps_the_join_whole() -> None:
    steps = [_step("c", "c", outer=False), _step("g", "g", ("g.id", "c.group_id")), _step("o", "o", ("o.c_id", "c.id")),
             _step("i", "i", ("i.o_id", "o.id"))]
    pieces = segments(steps, _schema())
    assert len(pieces) == 1 and pieces[0].steps == steps and pieces[0].leaf is None


def test_sibling_branches_become_pieces_and_a_step_spanning_them_is_left_out() -> None:
    steps = [_step("c", "c", outer=False), _step("g", "g", ("g.id", "c.group_id")), _step("o", "o", ("o.c_id", "c.id")),
             _step("r", "r", ("r.c_id", "c.id")), _step("x", "x", ("x.o_id", "o.id"), ("x.r_id", "r.id"))]
    pieces = segments(steps, _schema())
    assert [[s.alias for s in p.steps] for p in pieces] == [["c", "g", "o"], ["c", "g", "r"]]
    assert [p.leaf for p in pieces] == ["o", "r"]
    assert any("x" in n and "left out" in n for n in pieces[0].notes)


def test_pieces_of_own_tables_are_left_to_the_request_and_lookups_stand_alone() -> None:
    steps = [_step("c", "c", outer=False), _step("o", "o", ("o.c_id", "c.id")), _step("r", "r", ("r.c_id", "c.id")),
             _step("fx", "fx", ("fx.cur", "o.c_id"))]
    pieces = segments(steps, _schema(), dropped=[0, 0, 0, 1], own={"c", "r"})
    assert [[s.alias for s in p.steps] for p in pieces] == [["c", "o"], ["fx"]]
    assert pieces[1].steps[0].on == [] and not pieces[1].steps[0].outer and pieces[1].leaf == "fx"
    assert any("own r joined at request time" in n for n in pieces[0].notes)
    only_own = segments(steps[:3], _schema(), own={"c", "o", "r"})  # nothing foreign: the root stays
    assert [[s.alias for s in p.steps] for p in only_own] == [["c"]]


def test_a_request_filter_on_children_keeps_them_in_the_chain() -> None:
    """``LEFT JOIN o ON o.c_id = c.id AND o.status = ?``: every order is in the fill, the request filters."""
    steps = [_step("c", "c", outer=False), _step("o", "o", ("o.c_id", "c.id"))]
    assert links(steps, _schema(), dropped=[0, 1])["o"] == links(steps, _schema())["o"]
    assert len(segments(steps, _schema(), dropped=[0, 1])) == 1


def test_grain_counts_a_unique_key_as_to_one_like_the_split_does() -> None:
    steps = [_step("c", "c", outer=False), _step("p", "p", ("p.c_id", "c.id"), outer=False),
             _step("o", "o", ("o.c_id", "c.id"), outer=False)]
    assert grain(steps, _schema()) == [("c", "id"), ("o", "id")]  # p.c_id is unique: one profile per customer
