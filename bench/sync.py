"""Benchmark: ``workbench sync`` applying the legacy change log, against the floor of reading it with no apply.

Per source server (PostgreSQL: logical decoding; MariaDB: the binlog), on fresh databases created
and dropped here: the sample (``--scale``) is loaded, designed (introspected, with its simulated
workload), migrated into every service, and the follower levels the services once (not timed).
Two captures are set up side by side (PostgreSQL: two slots at the same point), so both
measurements read exactly the same changes:

- ``apply_rate``: a backlog is written while nothing follows -- the sample's workload replayed
  (multi-table transactions, inserts, updates, deletes) plus bulk updates and inserts over the
  services' tables, about ``--backlog`` row changes -- then read and *applied* to every service
  (owned tables, replicas, read models) until lag 0: source row changes per second. Its floor:
  the same changes read from the other capture and decoded into row changes with no apply.
- ``lag``: the workload replayed at ``--rate`` transactions/s for ``--seconds`` by another process
  that notes each commit's wall-clock time and id; the follower notes when every service has
  committed it: p50/p99 of the difference. Its floor: the same replay, timed only to the moment
  the capture hands the transaction over (no apply).

Each line of output is one JSON measurement with its ratio to the floor and whether it meets the
aim (apply at least half the floor and at least 5,000 row changes/s; p99 lag under 2 s). A final
``verify`` of every service is in the ``apply_rate`` line (``equal``).

Usage: ``python bench/sync.py [--backend postgresql|mariadb|all] [--scale 0.05] [--backlog 40000]
[--rate 80] [--seconds 20]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.db import target_engine  # noqa: E402
from workbench.migrate import migrate, verify, with_prefix  # noqa: E402
from workbench.sample import load  # noqa: E402
from workbench.sync import FollowOptions, SourceTransaction, control, follow, following, reader, routes  # noqa: E402
from workbench.sync import state as sync_state  # noqa: E402
from workbench.sync.rehearse import create_database, database_url, design_for, drop_databases  # noqa: E402
from workbench.sync.replay import replay  # noqa: E402

SERVERS = {
    "postgresql": os.environ.get("WORKBENCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
    "mariadb": os.environ.get("WORKBENCH_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}

BULK = [  # one transaction per round: updates across services, inserts into the shared audit log
    "UPDATE order_lines SET quantity = quantity + {sign} WHERE MOD(id, 5) = {k}",
    "UPDATE customers SET last_login_at = CURRENT_TIMESTAMP WHERE MOD(id, 5) = {k}",
    "UPDATE warehouse_stock SET quantity_reserved = quantity_reserved + {sign} WHERE MOD(product_id, 5) = {k}",
    "UPDATE products SET list_price = list_price + {sign} WHERE MOD(id, 5) = {k}",
    "INSERT INTO audit_log (table_name, row_id, action, changed_by, changed_at, details) "
    "SELECT table_name, row_id, 'BENCH', changed_by, changed_at, details FROM audit_log WHERE MOD(id, 25) = {k}",
]


def bulk(url: str, rows: int) -> int:
    """Write about ``rows`` row changes in transactions of a few thousand; the row changes written."""
    engine = target_engine(url, poolclass=sa.pool.NullPool)
    done = 0
    round_ = 0
    try:
        while done < rows:
            with engine.begin() as conn:
                for sql in BULK:
                    done += conn.exec_driver_sql(sql.format(k=round_ % 5, sign=1 if round_ % 2 == 0 else -1)).rowcount
            round_ += 1
    finally:
        engine.dispose()
    return done


def _replay_process(url: str, rate: float, seconds: float, seed: int, out: str) -> None:
    result = replay(url, rate=rate, duration=seconds, seed=seed, track=True)
    Path(out).write_text(json.dumps({"commits": result.commits, "rows": result.rows,
                                     "transactions": result.transactions}))


def _replay_in_process(url: str, rate: float, seconds: float, seed: int) -> tuple[Any, Path]:
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    process = multiprocessing.get_context("spawn").Process(target=_replay_process,
                                                            args=(url, rate, seconds, seed, str(out)))
    process.start()
    return process, out


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _drain(url: str, spec, r, start: str, head: str, backend: str, stop_at_head: bool = True,  # type: ignore[no-untyped-def]
           seen: dict[str, float] | None = None, until: threading.Event | None = None) -> tuple[int, float, str]:
    """Read the capture from ``start`` until it covers ``head`` (or ``until`` is set), decoding only.
    (row changes, seconds, position reached); ``seen`` records when each transaction arrived."""
    rd = reader(url, spec, r)
    rd.start(start)
    changes = 0
    position = start
    began = time.perf_counter()
    last = began
    try:
        while True:
            txn = rd.get(0.2)
            if txn is not None:
                if seen is not None:
                    seen[txn.xid] = time.time()
                changes += len(txn.changes)
                position = rd.merge(position, txn.position)
                last = time.perf_counter()
                continue
            idle = rd.idle_position()
            if stop_at_head and idle is not None and control.covers("postgresql" if backend == "postgresql"
                                                                     else "mysql", rd.merge(position, idle), head):
                break
            if until is not None and until.is_set() and rd.ready() == 0:
                break
        if idle is not None:
            position = rd.merge(position, idle)
        rd.confirm(position)
    finally:
        rd.close()
    return changes, last - began, position


def run(backend: str, scale: float, backlog: int, rate: float, seconds: float) -> list[dict[str, object]]:
    family = "postgresql" if backend == "postgresql" else "mysql"
    server = SERVERS[backend]
    admin = target_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    base = f"wb_test_bench_{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="wb_bench_sync_"))
    source, target = database_url(server, f"{base}_src"), database_url(server, base)
    states = {"apply": work / "apply", "floor": work / "floor"}
    made: list[Path] = []
    lines: list[dict[str, object]] = []
    try:
        create_database(admin, family, f"{base}_src")
        create_database(admin, family, base)
        load(source, scale=scale)
        d = design_for(source, work)
        d = with_prefix(d, f"{base}_") if family == "mysql" else d
        names = sorted(d.services)
        r = routes(d, names)
        for what, folder in states.items():
            control.setup(source, d, name=f"{base}_{what}", state_dir=folder)
            made.append(folder)
        migrate(source, target, d, alembic=False, progress=False)
        options = FollowOptions(until_caught_up=True, progress=False)
        follow(source, target, d, state_dir=states["apply"], options=options)  # level once, not timed
        floor_spec = sync_state.load_capture(states["floor"])
        positions = []
        where_target = target
        for name in names:
            with sa.create_engine(where_target).connect() as conn:
                applied = sync_state.read(conn, d.service(name).namespace, f"{base}_apply")
            positions.append(applied.position if applied else floor_spec.start)

        # -- apply rate against the floor ----------------------------------------------------------------
        replay(source, rate=0, duration=5, seed=21)
        written = bulk(source, backlog)
        head = control.head(source, family) or ""
        probe = reader(source, floor_spec, r)
        start = probe.earliest(positions) if family == "mysql" else floor_spec.start
        floor_changes, floor_seconds, floor_position = _drain(source, floor_spec, r, start, head, backend)
        began = time.perf_counter()
        result = follow(source, target, d, state_dir=states["apply"], options=options)
        apply_seconds = time.perf_counter() - began
        report = verify(source, target, d, progress=False)
        apply_rate = floor_changes / apply_seconds if apply_seconds else 0.0
        floor_rate = floor_changes / floor_seconds if floor_seconds else 0.0
        lines.append({
            "bench": "sync", "backend": backend, "measure": "apply_rate", "scale": scale, "services": len(names),
            "row_changes": floor_changes, "written": written, "applied_events": result.events,
            "transactions": result.transactions, "seconds": round(apply_seconds, 3),
            "row_changes_per_s": round(apply_rate), "applied_per_s": round(result.events / apply_seconds),
            "floor_seconds": round(floor_seconds, 3), "floor_row_changes_per_s": round(floor_rate),
            "ratio": round(apply_rate / floor_rate, 3) if floor_rate else None,
            "equal": report.ok, "aim": "ratio >= 0.5 and row_changes_per_s >= 5000",
            "ok": bool(report.ok and floor_rate and apply_rate / floor_rate >= 0.5 and apply_rate >= 5000)})

        # -- lag under the replayed workload, against the capture-only floor ------------------------------
        lags: dict[str, list[float]] = {}
        counts: dict[str, int] = {}
        for mode in ("floor", "apply"):
            seen: dict[str, float] = {}
            process, out = _replay_in_process(source, rate, seconds, seed=31 if mode == "floor" else 32)
            if mode == "floor":
                stop = threading.Event()

                def finish(process: Any = process, stop: threading.Event = stop) -> None:
                    process.join()
                    time.sleep(2)  # what the last commits still send
                    stop.set()

                threading.Thread(target=finish, daemon=True).start()
                _drain(source, floor_spec, r, floor_position if family == "mysql" else floor_spec.start, head,
                       backend, stop_at_head=False, seen=seen, until=stop)
            else:
                def note(batch: list[SourceTransaction], seen: dict[str, float] = seen) -> None:
                    now = time.time()
                    for txn in batch:
                        seen.setdefault(txn.xid, now)

                live = FollowOptions(progress=False, listeners=[note])
                with following(source, target, d, state_dir=states["apply"], options=live):
                    process.join()
                    time.sleep(3)
            process.join()
            data = json.loads(out.read_text())
            out.unlink()
            lags[mode] = [seen[xid] - at for xid, at in data["commits"] if xid in seen]
            counts[mode] = len(data["commits"])
        p50, p99 = _percentile(lags["apply"], 0.5), _percentile(lags["apply"], 0.99)
        f50, f99 = _percentile(lags["floor"], 0.5), _percentile(lags["floor"], 0.99)
        lines.append({
            "bench": "sync", "backend": backend, "measure": "lag", "rate": rate, "seconds": seconds,
            "transactions": counts["apply"], "matched": len(lags["apply"]),
            "p50_s": round(p50, 4), "p99_s": round(p99, 4), "mean_s": round(statistics.fmean(lags["apply"]), 4)
            if lags["apply"] else None, "floor_p50_s": round(f50, 4), "floor_p99_s": round(f99, 4),
            "ratio_p99_to_floor": round(p99 / f99, 2) if f99 else None, "aim": "p99_s < 2",
            "ok": bool(lags["apply"] and p99 < 2 and len(lags["apply"]) == counts["apply"])})
    finally:
        for folder in made:
            try:
                control.teardown(source, state_dir=folder)
            except Exception as exc:  # noqa: BLE001 - keep dropping the rest
                print(f"teardown {folder.name}: {exc}", file=sys.stderr)
        drop_databases(admin, family, base)
        admin.dispose()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="all", choices=["postgresql", "mariadb", "all"])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--backlog", type=int, default=40_000, help="row changes of bulk writes in the backlog")
    parser.add_argument("--rate", type=float, default=80.0, help="replayed write transactions per second (lag)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of replay for the lag measurement")
    args = parser.parse_args()
    backends = ["postgresql", "mariadb"] if args.backend == "all" else [args.backend]
    for backend in backends:
        for line in run(backend, args.scale, args.backlog, args.rate, args.seconds):
            print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
