"""Follow PostgreSQL (logical decoding) and MariaDB (binlog) sources on the real servers.

- No gap between the copy and the follow, in either order: on one loaded source, capture A is set
  up *before* its copy and capture B *after* its copy, both copies taken while the workload writes,
  and the workload goes on after; both targets verify equal once caught up. A's overlap (changes in
  the copy and in the log) is skipped by the snapshot check, B's gap is filled when the follower
  levels the services with its snapshot.
- Unchanged TOAST values (PostgreSQL) and tables without a primary key (duplicate rows included):
  setup switches the keyless table to REPLICA IDENTITY FULL and teardown restores it; the row
  changes a listener receives carry the unchanged column.
- A capture left behind: ``sync status`` (exit 1) and the monitoring SQL report the slot and the WAL
  it retains; teardown removes it.
- The rehearsal under load (``workbench sync rehearse``, small): the 2% sample, the workload replayed,
  the follower process SIGKILLed twice and its target connection dropped; lag 0, every table equal.

Every slot and database made here has a unique name and is dropped in a ``finally``. The servers'
settings (wal_level=logical; log_bin, binlog_format=ROW, binlog_row_image=FULL) are not changed:
without them these tests skip locally and fail under CI=true (``.ci/run`` switches them on).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from servers import admin_engine, fresh_database, fresh_name, missing
from test_sync import owner

from workbench import cli, serde
from workbench.decompose import decompose
from workbench.design import design as make_design
from workbench.design import load_design
from workbench.design.model import Design
from workbench.introspect import introspect
from workbench.migrate import migrate, verify, with_prefix
from workbench.operate import queries
from workbench.sample import load
from workbench.sync import FollowOptions, SourceTransaction, control, follow, following, setup, status, teardown
from workbench.sync.follow import wait_until
from workbench.sync.rehearse import rehearse
from workbench.sync.replay import replay

BACKENDS = ["postgresql", "mariadb"]
SETTINGS = {
    "postgresql": ("SHOW wal_level", ["logical"],
                   "PostgreSQL needs wal_level=logical (ALTER SYSTEM SET wal_level = logical; restart; see .ci/run)"),
    "mariadb": ("SELECT CONCAT(IF(@@log_bin, 1, 0), @@binlog_format, @@binlog_row_image)", ["1ROWFULL"],
                "MariaDB needs --log-bin --binlog-format=ROW --binlog-row-image=FULL --server-id=1 (see .ci/run)"),
}


def require_capture(backend: str) -> None:
    """Skip locally (fail under CI=true) when the server's change log is not configured for capture."""
    query, good, fix = SETTINGS[backend]
    engine = admin_engine(backend)
    try:
        with engine.connect() as conn:
            value = str(conn.exec_driver_sql(query).scalar())
    finally:
        engine.dispose()
    if value not in good:
        missing(f"{fix} (found {value})")


@pytest.fixture(scope="module", params=BACKENDS)
def legacy(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(backend, URL) of a source database holding the 2% sample, shared by this module's tests (they write to it
    as the monolith would, each with captures and targets of its own)."""
    backend = request.param
    require_capture(backend)
    with fresh_database(backend) as url:
        load(url, scale=0.02)
        yield backend, url


def _services(design_dir: Path) -> list[str]:
    """The customers' service: customers and their addresses (an FK cycle), sessions, searches (no key), returns."""
    return sorted({owner(design_dir, "customers"), owner(design_dir, "search_log")})


def _prefixed(d, backend: str, target: str):  # type: ignore[no-untyped-def]
    return with_prefix(d, f"{sa.make_url(target).database}_") if backend == "mariadb" else d


def check_left_behind(backend: str, source: str, target: str, d: Design, folder: Path, names: list[str], slot: str,
                      capsys: pytest.CaptureFixture[str]) -> None:
    """A capture nobody follows: PostgreSQL's slot retains WAL; status (exit 1) and the monitoring SQL say so."""
    st = status(source, target, d, state_dir=folder, services=names)
    assert st.state == "stopped" and all(s.position is None for s in st.services)  # nothing applied yet
    args = ["sync", "status", "--source", source, "--target", target, "--design", str(folder / "design.json"),
            "--state", str(folder), *sum((["--service", n] for n in names), [])]
    serde.save(d, folder / "design.json")
    code = cli.main(args)
    out = capsys.readouterr().out
    if backend == "mariadb":  # nothing on the source to leave behind; the binlog's reach is named
        assert code == 0 and not st.health.left_behind and "binlog files" in st.health.message
        found = {q.name: q for q in queries(d, "mysql", services=names[:1])}
        with sa.create_engine(source, poolclass=sa.pool.NullPool).connect() as conn:
            assert conn.execute(sa.text(found["binlog_retention"].sql)).one().gtid_head
        return
    assert st.health.exists and st.health.left_behind and (st.health.retained_bytes or 0) > 0
    assert code == 1 and f"replication slot {slot!r} is not in use" in out
    found = {q.name: q for q in queries(d, "postgresql", services=names[:1])}
    with sa.create_engine(source, poolclass=sa.pool.NullPool).connect() as conn:
        rows = {r.slot_name: r for r in conn.execute(sa.text(found["capture_slots"].sql))}
    assert rows[slot].active is False and rows[slot].left_behind and rows[slot].retained_bytes > 0


def test_no_change_is_lost_or_doubled_whether_the_capture_starts_before_or_after_the_copy(
        legacy: tuple[str, str], sync_design: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    backend, source = legacy
    names = _services(sync_design)
    with fresh_database(backend) as target_a, fresh_database(backend) as target_b:
        da, db = _prefixed(load_design(sync_design), backend, target_a), _prefixed(load_design(sync_design), backend,
                                                                                 target_b)
        state_a, state_b = tmp_path / "a", tmp_path / "b"
        slots = [fresh_name(), fresh_name()]
        stop = threading.Event()
        writer = threading.Thread(target=replay, kwargs={"url": source, "rate": 40, "seed": 3, "stop": stop},
                                  daemon=True)
        set_up: list[Path] = []
        try:
            setup(source, da, name=slots[0], state_dir=state_a, services=names)  # A: capture, then copy
            set_up.append(state_a)
            writer.start()  # the monolith writes through both copies
            assert migrate(source, target_a, da, services=names, alembic=False, progress=False).ok
            assert migrate(source, target_b, db, services=names, alembic=False, progress=False).ok
            check_left_behind(backend, source, target_a, da, state_a, names, slots[0], capsys)
            setup(source, db, name=slots[1], state_dir=state_b, services=names)  # B: copy, then capture
            set_up.append(state_b)
            live = FollowOptions(progress=False, quiet_every=0.5)
            with following(source, target_a, da, state_dir=state_a, services=names, options=live) as fa, \
                    following(source, target_b, db, state_dir=state_b, services=names, options=live) as fb:
                replay(source, rate=0, transactions=40, seed=4)  # the followers level, then follow the log
                stop.set()
                writer.join()
                head = control.head(source, "postgresql" if backend == "postgresql" else "mysql")
                assert head is not None
                for target, d, folder in ((target_a, da, state_a), (target_b, db, state_b)):
                    assert wait_until(lambda t=target, d=d, f=folder: control.caught_up(
                        source, t, d, head, state_dir=f, services=names), timeout=120), "no lag 0"
            a, b = fa.result, fb.result
            assert a.skipped_visible > 0, "capture before the copy: the snapshot saw logged transactions"
            assert sum(b.reconciled.values()) > 0, "copy before the capture: levelling filled the gap"
            assert a.events > 0 and b.events > 0  # the writes after the snapshots came from the log
            for target, d in ((target_a, da), (target_b, db)):
                report = verify(source, target, d, services=names, progress=False)
                assert report.ok, report.problems()
            again = follow(source, target_a, da, state_dir=state_a, services=names,
                           options=FollowOptions(until_caught_up=True, progress=False))
            assert again.events == 0 and not again.reconciled  # a restart applies nothing twice
            st = status(source, target_a, da, state_dir=state_a, services=names)
            assert st.state == "stopped" and all(s.lag_events == 0 and s.lag_seconds == 0 for s in st.services)
            assert not st.health.left_behind or backend == "postgresql"  # a stopped follower's slot still retains
        finally:
            stop.set()
            for folder in set_up:
                teardown(source, state_dir=folder)
        assert status(source, target_a, da, state_dir=state_a, services=names).state == "torn down"
        if backend == "postgresql":
            engine = admin_engine("postgresql")
            with engine.connect() as conn:
                assert not conn.execute(sa.text("SELECT slot_name FROM pg_replication_slots WHERE slot_name IN "
                                                "(:a, :b)"), {"a": slots[0], "b": slots[1]}).all()
            engine.dispose()


TOAST_SCHEMA = {
    "postgresql": ["CREATE TABLE docs (id integer PRIMARY KEY, title varchar(40), body text, hits integer)",
                   "CREATE TABLE clicks (doc_id integer, label varchar(20), amount numeric(8, 2))"],
    "mariadb": ["CREATE TABLE docs (id integer PRIMARY KEY, title varchar(40), body longtext, hits integer)",
                "CREATE TABLE clicks (doc_id integer, label varchar(20), amount decimal(8, 2))"],
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_unchanged_toast_values_and_a_table_without_a_key_are_followed_exactly(backend: str, tmp_path: Path) -> None:
    require_capture(backend)
    with fresh_database(backend) as source, fresh_database(backend) as target:
        engine = sa.create_engine(source, poolclass=sa.pool.NullPool)
        big = "".join(f"{i:05d}{(i * 7919) % 100_003:06d}" for i in range(2_000))  # ~22 kB, stored out of line
        with engine.begin() as conn:
            for ddl in TOAST_SCHEMA[backend]:
                conn.exec_driver_sql(ddl)
            conn.execute(sa.text("INSERT INTO docs VALUES (:i, :t, :b, 0)"),
                         [{"i": i, "t": f"doc {i}", "b": big + str(i)} for i in range(1, 6)])
            conn.execute(sa.text("INSERT INTO clicks VALUES (1, 'a', 1.50), (1, 'a', 1.50), (2, 'b', 2.00)"))
        schema = introspect(source, progress=False)
        d = make_design(schema, decompose(schema, services=1, stability=0))
        d = with_prefix(d, f"{sa.make_url(target).database}_") if backend == "mariadb" else d
        name = fresh_name()
        spec = setup(source, d, name=name, state_dir=tmp_path)
        try:
            if backend == "postgresql":
                assert [a.sql for a in spec.actions if "REPLICA IDENTITY" in a.sql] == \
                    ["ALTER TABLE public.clicks REPLICA IDENTITY FULL"]
            assert migrate(source, target, d, alembic=False, progress=False).ok
            options = FollowOptions(until_caught_up=True, progress=False)
            assert follow(source, target, d, state_dir=tmp_path, options=options).reconciled  # levelled: following
            with engine.begin() as conn:
                conn.exec_driver_sql("UPDATE docs SET hits = hits + 1 WHERE id <= 3")  # body untouched: TOAST
                conn.exec_driver_sql("UPDATE docs SET body = 'short now' WHERE id = 4")
                conn.exec_driver_sql("DELETE FROM docs WHERE id = 5")
                conn.exec_driver_sql("INSERT INTO clicks VALUES (1, 'a', 1.50), (3, NULL, NULL)")
            with engine.begin() as conn:  # one of three equal rows, and a row with NULLs
                conn.exec_driver_sql("DELETE FROM clicks WHERE doc_id = 2")
                conn.exec_driver_sql("UPDATE clicks SET amount = 9.99 WHERE doc_id = 3")
                if backend == "postgresql":
                    conn.exec_driver_sql("DELETE FROM clicks WHERE ctid = (SELECT min(ctid) FROM clicks "
                                         "WHERE doc_id = 1)")
                else:
                    conn.exec_driver_sql("DELETE FROM clicks WHERE doc_id = 1 LIMIT 1")
            seen: list[SourceTransaction] = []
            options.listeners.append(seen.extend)
            result = follow(source, target, d, state_dir=tmp_path, options=options)
            assert result.caught_up and result.events >= 9
            report = verify(source, target, d, progress=False)
            assert report.ok, report.problems()
            changes = [c for t in seen for c in t.changes]
            hits = [c for c in changes if c.table == "docs" and c.op == "update" and c.key["id"] <= 3]
            assert len(hits) == 3 and all(c.position == hits[0].position for c in hits)  # one transaction
            if backend == "postgresql":
                assert all(c.unchanged == ("body",) and "body" not in (c.after or {}) for c in hits)
            else:
                assert all(c.after and c.after["body"].startswith(big) for c in hits)  # FULL row image
            keyless = [c for c in changes if c.table == "clicks"]
            assert {c.op for c in keyless} == {"insert", "update", "delete"} and all(c.key == {} for c in keyless)
            assert all(c.before and set(c.before) == {"doc_id", "label", "amount"} for c in keyless if c.op != "insert")
        finally:
            done = teardown(source, state_dir=tmp_path)
        if backend == "postgresql":
            assert "ALTER TABLE public.clicks REPLICA IDENTITY DEFAULT" in done
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT relreplident FROM pg_class WHERE relname = 'clicks'").scalar() \
                    == "d"
        engine.dispose()


def test_the_rehearsal_converges_through_kills_and_a_dropped_target_connection(
        legacy: tuple[str, str], sync_design: Path, tmp_path: Path) -> None:
    backend, source = legacy
    server = sa.make_url(admin_engine(backend).url).render_as_string(hide_password=False)
    names = _services(sync_design)
    result = rehearse(server, scale=0.02, rate=40, duration=5, kills=2, drops=1, seed=11, source=source,
                      design=load_design(sync_design), services=names, work_dir=tmp_path)
    assert result.ok, result.problems
    assert result.kills == 2 and result.follower_starts >= 3
    assert result.dropped_connections >= 1
    assert result.replay.transactions > 100 and result.replay.rows > 0 and result.replay.refused > 0
    assert result.events > 0 and result.tables >= 15  # every table of the service, replicas included
