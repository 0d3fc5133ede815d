"""Follow the monolith without servers: routing, the fold of a batch, and a SQLite legacy database followed by polling.

The SQLite test changes the legacy file the way an application would (inserts, updates, deletes,
a table without a key, a row changed twice between two polls), follows it into SQLite targets,
and checks the targets verify equal, the row changes reach a listener, a second follow writes
nothing, and ``workbench sync status --json`` reports every service.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from workbench import cli
from workbench.design import load_design
from workbench.migrate import migrate, verify
from workbench.migrate.units import units
from workbench.reporting import title
from workbench.sync import FollowOptions, RowChange, SourceTransaction, follow, setup, status
from workbench.sync import frames as sync_frames
from workbench.sync.apply import KeyedPlan, OrderedPlan
from workbench.sync.routes import Recompute, routes


def owner(design_dir: Path, table: str) -> str:
    d = load_design(design_dir)
    return next(name for name, svc in d.services.items() if table in svc.owned)


def test_routes_send_a_table_to_its_owner_its_replicas_and_the_read_models_reading_it(sync_design: Path) -> None:
    d = load_design(sync_design)
    r = routes(d)
    customers = r.tables["customers"]
    assert customers.key == ["id"]
    fed = {(u.service, u.role) for u in customers.rows}
    assert (owner(sync_design, "customers"), "owned") in fed
    assert any(role in ("replica", "command_replica") for _, role in fed)  # a consumer's copy
    by_model = {p.unit.table: p.recompute for p in customers.projections}
    # a read model joining customers on c.id = r.customer_id: its rows with that customer_id
    assert Recompute(("customer_id",), ("id",)) in (by_model.get("rm_product_reviews") or [])
    assert r.keyless() == sorted(t for t in r.tables if not r.tables[t].key) and "search_log" in r.keyless()
    view_models = [p for p in d.projections if p.dependency.startswith("view:")]
    for p in view_models:  # filled from a view: compared whole, triggered by the tables under the view
        assert p.name in {u.table for u in r.coarse[p.service]}
    assert set(r.captured) == {u.origin for name in d.services for u in units(d, name) if u.projection is None} \
        | {s.table for p in d.projections for s in p.joins if s.table in r.tables}


def _change(op: str, before: dict | None, after: dict | None, unchanged: tuple[str, ...] = ()) -> RowChange:
    image = after or before or {}
    return RowChange("t", op, {"id": image.get("id")}, before, after, "0/1", "1", None, unchanged)  # type: ignore[arg-type]


def test_a_batch_folds_to_the_last_state_of_each_key(sync_design: Path) -> None:
    unit = next(u for u in units(load_design(sync_design), owner(sync_design, "customers")) if u.table == "customers")
    cols = unit.columns
    row = {c: None for c in cols} | {"id": 1, "first_name": "Ann"}
    plan = KeyedPlan(unit)
    plan.add(_change("insert", None, row))
    plan.add(_change("update", {"id": 1}, row | {"first_name": "Bea"}))
    plan.add(_change("insert", None, row | {"id": 2}))
    plan.add(_change("delete", {"id": 2}, None))
    # an update that left a TOAST value out of the log merges into the row written before
    partial = {c: v for c, v in (row | {"first_name": "Cy"}).items() if c != "last_name"}
    plan.add(_change("update", None, partial, ("last_name",)))
    plan.add(_change("update", {"id": 3}, partial | {"id": 4}, ("last_name",)))  # key change, partial row
    assert plan.ops[(1,)] == ("put", row | {"first_name": "Cy"})
    assert plan.ops[(2,)] == ("del", None)
    assert plan.ops[(3,)] == ("del", None) and plan.ops[(4,)][0] == "patch"
    assert "last_name" not in plan.ops[(4,)][1]  # type: ignore[operator]
    keyless = OrderedPlan(unit)
    keyless.add(_change("insert", None, row))
    keyless.add(_change("update", row, row | {"first_name": "Dee"}))
    keyless.add(_change("delete", {"id": 1}, None))  # no whole old row: nothing identifies it
    assert [op for op, _ in keyless.ops] == ["ins", "del", "ins"] and keyless.skipped == 1


def test_a_sqlite_legacy_database_is_followed_by_polling_deletes_included(
        sync_design: Path, small_sample_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    legacy = tmp_path / "legacy.sqlite"
    shutil.copy(small_sample_path, legacy)
    source = f"sqlite:///{legacy}"
    d = load_design(sync_design)
    names = sorted({owner(sync_design, "customers"), owner(sync_design, "search_log"),
                    owner(sync_design, "product_reviews")})
    target, state_dir = tmp_path / "target", tmp_path / "sync"
    assert migrate(source, target, d, services=names, alembic=False, progress=False).ok
    spec = setup(source, d, name="wb_test_poll", state_dir=state_dir, services=names)
    assert spec.backend == "sqlite" and not any(a.done_now for a in spec.actions)  # nothing made on the source
    seen: list[SourceTransaction] = []
    options = FollowOptions(until_caught_up=True, progress=False, poll_every=0.0, listeners=[seen.extend])
    first = follow(source, target, d, state_dir=state_dir, services=names, options=options)
    assert first.caught_up and first.events == 0

    with sqlite3.connect(legacy) as conn:  # the monolith writes
        conn.execute("UPDATE customers SET first_name = 'Zoë' WHERE id IN (1, 5)")
        conn.execute("UPDATE customers SET first_name = 'Zoë', last_name = 'Twice' WHERE id = 9")
        conn.execute("UPDATE customers SET last_name = 'Thrice' WHERE id = 9")  # both between two polls
        conn.execute("DELETE FROM product_reviews WHERE id IN (SELECT id FROM product_reviews ORDER BY id LIMIT 2)")
        conn.execute("INSERT INTO search_log (session_id, customer_id, search_terms, results_count, searched_at) "
                     "VALUES (7, NULL, 'tent', 3, '2025-03-01 10:00:00'), (7, NULL, 'tent', 3, '2025-03-01 10:00:00')")
    assert not verify(source, target, d, services=names, progress=False).ok
    seen.clear()
    second = follow(source, target, d, state_dir=state_dir, services=names, options=options)
    assert second.caught_up and second.events > 0
    report = verify(source, target, d, services=names, progress=False)
    assert report.ok, report.problems()
    changes = [c for t in seen for c in t.changes]
    by_table: dict[str, list[RowChange]] = {}
    for c in changes:
        by_table.setdefault(c.table, []).append(c)
    nine = [c for c in by_table["customers"] if c.key == {"id": 9}]
    assert len(nine) == 1 and nine[0].op == "update"  # the intermediate state was never seen
    assert nine[0].after and nine[0].after["last_name"] == "Thrice" and nine[0].before["last_name"] != "Thrice"
    assert sorted(c.op for c in by_table["product_reviews"]) == ["delete", "delete"]
    assert [c.op for c in by_table["search_log"]] == ["insert", "insert"] and by_table["search_log"][0].key == {}
    assert all(c.position.startswith("poll:") for c in changes)

    again = follow(source, target, d, state_dir=state_dir, services=names, options=options)
    assert again.events == 0 and again.caught_up  # idempotent: nothing left to write

    code = cli.main(["sync", "status", "--source", source, "--target", str(target), "--design", str(sync_design),
                     "--state", str(state_dir), "--json", *sum((["--service", n] for n in names), [])])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["state"] == "stopped" and out["backend"] == "sqlite"
    assert [s["service"] for s in out["services"]] == names
    assert all(s["position"] == out["services"][0]["position"] for s in out["services"])
    assert sum(s["events"] for s in out["services"]) == second.events
    st = status(source, target, d, state_dir=state_dir, services=names)
    assert not st.health.left_behind and st.services[0].position.startswith("poll:")

    # the CLI's verify after a follow, then what the notebook's follow section and the title page show
    assert cli.main(["sync", "run", "--source", source, "--target", str(target), "--design", str(sync_design),
                     "--state", str(state_dir), "--until-caught-up", "--verify", "--no-progress",
                     *sum((["--service", n] for n in names), [])]) == 0
    assert f"verify: {len(report.tables)}/{len(report.tables)} tables equal" in capsys.readouterr().out
    view = sync_frames.load_view(state_dir)
    assert view.exists and view.state == "stopped" and view.verify is not None and view.verify.ok
    text = sync_frames.summary(view)
    assert "wb_test_poll" in text and f"{len(report.tables)} of {len(report.tables)} tables equal" in text
    assert list(sync_frames.services_frame(view)["service"]) == names
    assert len(sync_frames.lag_frame(view)) >= 3 and sync_frames.lag_plot(view).axes
    assert sync_frames.events_plot(view).axes
    out = tmp_path / "report"
    shutil.copytree(state_dir, out / "design" / "sync")
    figures = {f.key: f for f in title.summary(out)[0]}
    assert figures["sync_services"].value == len(names) and figures["sync_events"].value >= second.events
    assert "stopped" in figures["sync_tables"].label
