"""``workbench sync rehearse``: the follow under load, with the follower killed and its target connection dropped.

On a PostgreSQL or MariaDB server: the sample is loaded into a fresh source database, designed
(or a given design is used), its capture set up, migrated into a fresh target, followed by a
``workbench sync run`` *process*; then the sample's workload writes are replayed against the source
at a set rate (:mod:`workbench.sync.replay`). Meanwhile the follower is SIGKILLed at seeded random
moments and started again, and its target connections are terminated by the server. When the
replay ends, the source's head is taken and the rehearsal waits until every service's committed
position covers it (lag 0), then runs ``verify``: every table must equal the legacy rows --
nothing lost, nothing doubled. Every database, slot and publication it made is dropped at the end
(``keep`` leaves them for a look).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from workbench import serde
from workbench.db import backend as url_backend
from workbench.db import friendly_errors, mask_url, resolve_url, target_engine
from workbench.design.model import Design, load_design
from workbench.errors import WorkbenchError
from workbench.migrate.run import migrate
from workbench.migrate.target import with_prefix
from workbench.migrate.verify import verify
from workbench.sync import control
from workbench.sync.follow import APPLICATION_NAME
from workbench.sync.model import VERIFY_FILE
from workbench.sync.replay import ReplayResult, replay


@dataclass
class RehearsalResult:
    """What a rehearsal did and found (``ok``: every table equal after lag 0)."""

    backend: str
    server: str
    scale: float
    services: list[str] = field(default_factory=list)
    replay: ReplayResult = field(default_factory=ReplayResult)
    kills: int = 0
    dropped_connections: int = 0
    follower_starts: int = 0
    catch_up_seconds: float = 0.0
    events: int = 0
    tables: int = 0
    rows: int = 0
    ok: bool = False
    problems: list[str] = field(default_factory=list)


def database_url(server: str, name: str) -> str:
    """The server URL with ``name`` as its database (password kept: for connecting, never for showing)."""
    return resolve_url(server).set(database=name).render_as_string(hide_password=False)


def create_database(admin: sa.Engine, family: str, name: str) -> None:
    """Create database ``name`` (``admin``: an autocommit engine on the server)."""
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"' if family == "postgresql"
                             else f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")


def drop_databases(admin: sa.Engine, family: str, prefix: str) -> None:
    """Drop every database whose name starts with ``prefix`` (MariaDB: the services' databases too)."""
    with admin.connect() as conn:
        if family == "postgresql":
            for (name,) in conn.execute(sa.text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                        {"p": f"{prefix}%"}).all():
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            for (name,) in conn.execute(sa.text("SELECT schema_name FROM information_schema.schemata "
                                                "WHERE schema_name LIKE :p"), {"p": f"{prefix}%"}).all():
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")


def drop_target_connections(admin: sa.Engine, family: str, target_db: str) -> int:
    """Terminate the follower's sessions on the target (as a failover or a network cut would); how many."""
    with admin.connect() as conn:
        if family == "postgresql":
            return len(conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d AND application_name = :a"),
                {"d": target_db, "a": APPLICATION_NAME}).all())
        ids = [r[0] for r in conn.execute(sa.text(
            "SELECT id FROM information_schema.processlist WHERE db = :d AND id <> CONNECTION_ID()"),
            {"d": target_db}).all()]
        for pid in ids:
            with contextlib.suppress(sa.exc.DBAPIError):
                conn.exec_driver_sql(f"KILL CONNECTION {int(pid)}")
        return len(ids)


def design_for(source: str, folder: Path, statements: int = 3_000) -> Design:
    """Introspect the loaded source and design it with the sample's simulated workload (as a user would)."""
    from workbench.decompose import decompose
    from workbench.design import design as make_design
    from workbench.design import write_design
    from workbench.introspect import introspect
    from workbench.workload import ingest
    from workbench.workload.simlog import write_logs

    schema = introspect(source, progress=False)
    logs = write_logs(folder / "logs", statements=statements, formats=["jsonl"])
    workload = ingest([str(logs["jsonl"])], "jsonl", schema=schema)
    d = make_design(schema, decompose(schema, workload, stability=0), workload)
    write_design(d, folder / "design", [url_backend(source)])
    return load_design(folder / "design")


class _Follower:
    """``workbench sync run`` as a child process (started again after each kill)."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.args, self.log = args, log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.starts += 1

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process is not None and self.alive():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def rehearse(server: str, *, scale: float = 0.02, rate: float = 30.0, duration: float = 10.0, kills: int = 2,
             drops: int = 1, seed: int = 7, design: Design | None = None, services: list[str] | None = None,
             source: str | None = None,
             work_dir: str | Path | None = None, keep: bool = False, catch_up_timeout: float = 180.0,
             log: Callable[[str], None] | None = None) -> RehearsalResult:
    """Rehearse the follow on the server at ``server`` (an admin URL: it creates and drops databases).

    Parameters
    ----------
    scale : volume of the sample loaded into the source.
    rate, duration : the replayed workload: write transactions per second, for how long.
    kills, drops : follower SIGKILLs, and terminations of its target connections, during the replay.
    design : the design to migrate (default: introspect the loaded sample and design it).
    services : the services to migrate and follow (default: all).
    source : a database on the server already holding the sample (it is written to; default: load a new one).
    """
    say = log or (lambda _text: None)
    family = url_backend(server)
    if family not in ("postgresql", "mysql"):
        raise WorkbenchError(f"a rehearsal runs on a PostgreSQL or MariaDB server, not {family}")
    base = f"wb_rehearsal_{uuid.uuid4().hex[:8]}"
    folder = Path(work_dir) if work_dir else Path("reports") / "rehearsal" / base
    folder.mkdir(parents=True, exist_ok=True)
    given = source is not None
    source = source if source is not None else database_url(server, f"{base}_src")
    target = database_url(server, base)
    result = RehearsalResult(family, mask_url(server), scale)
    admin = target_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    rng = random.Random(seed)
    follower: _Follower | None = None
    set_up = False
    try:
        with friendly_errors(server):
            if not given:
                create_database(admin, family, f"{base}_src")
            create_database(admin, family, base)
        if not given:
            from workbench.sample import load

            say(f"loading the sample (scale {scale}) into {base}_src")
            load(source, scale=scale)
        d = design if design is not None else design_for(source, folder)
        prefix = f"{base}_" if family == "mysql" else ""
        d = with_prefix(d, prefix)
        names = sorted(services) if services else sorted(d.services)
        result.services = names
        state_dir = folder / "sync"
        control.setup(source, d, name=base, state_dir=state_dir, services=names)
        set_up = True
        say(f"migrating {len(names)} services into {base}")
        migrate(source, target, d, services=names, alembic=False, progress=False)
        design_file = folder / "rehearsal-design.json"
        serde.save(_unprefixed(d, prefix), design_file)
        args = [sys.executable, "-m", "workbench.cli", "sync", "run", "--source", source, "--target", target,
                "--design", str(design_file), "--state", str(state_dir), "--prefix", prefix, "--no-progress"]
        for name in names:
            args += ["--service", name]
        follower = _Follower(args, folder / "follower.log")
        follower.start()
        say("waiting for the follower to level the services with its first snapshot")
        deadline = time.monotonic() + catch_up_timeout
        while not control.positioned(target, d, state_dir, names):
            if time.monotonic() > deadline or not follower.alive():
                raise WorkbenchError(f"the follower did not start following (see {folder / 'follower.log'})")
            time.sleep(0.3)
        moments = sorted([("kill", rng.uniform(0.15, 0.85) * duration) for _ in range(kills)]
                         + [("drop", rng.uniform(0.15, 0.85) * duration) for _ in range(drops)], key=lambda m: m[1])
        stop = threading.Event()
        outcome: list[ReplayResult] = []
        worker = threading.Thread(target=lambda: outcome.append(
            replay(source, rate=rate, duration=duration, seed=seed, stop=stop)), daemon=True)
        say(f"replaying the workload at {rate:g} transactions/s for {duration:g} s")
        started = time.monotonic()
        worker.start()
        for what, at in moments:
            time.sleep(max(0.0, started + at - time.monotonic()))
            if what == "kill":
                follower.kill()
                result.kills += 1
                time.sleep(rng.uniform(0.1, 1.0))
                follower.start()
            else:  # when the follower is connected: wait for it (it may be starting after a kill)
                deadline = time.monotonic() + 10
                dropped = 0
                while not dropped and time.monotonic() < deadline:
                    dropped = drop_target_connections(admin, family, base)
                    time.sleep(0 if dropped else 0.2)
                result.dropped_connections += dropped
        worker.join()
        result.replay = outcome[0] if outcome else ReplayResult()
        head = control.head(source, family)
        waited = time.monotonic()
        say("waiting for lag 0")
        while not control.caught_up(source, target, d, head or "", state_dir=state_dir, services=names):
            if time.monotonic() - waited > catch_up_timeout:
                raise WorkbenchError(f"the follower did not catch up within {catch_up_timeout:g} s "
                                     f"(see {folder / 'follower.log'})")
            if not follower.alive():
                follower.start()
            time.sleep(0.3)
        result.catch_up_seconds = round(time.monotonic() - waited, 2)
        follower.stop()
        result.follower_starts = follower.starts
        report = verify(source, target, d, services=names, progress=False)
        serde.save(report, state_dir / VERIFY_FILE)
        result.ok = report.ok
        result.problems = report.problems()
        result.tables = len(report.tables)
        result.rows = sum(t.target_rows for t in report.tables)
        st = control.status(source, target, d, state_dir=state_dir, services=names, count=False)
        result.events = sum(s.events for s in st.services)
    finally:
        if follower is not None:
            follower.kill()
        if set_up:
            with contextlib.suppress(Exception):
                control.teardown(source, state_dir=folder / "sync")
        if not keep:
            with contextlib.suppress(Exception):
                drop_databases(admin, family, base)
        admin.dispose()
    return result


def _unprefixed(d: Design, prefix: str) -> Design:
    """The design as the CLI reads it, so ``--prefix`` gives back ``d``."""
    import copy

    out = copy.deepcopy(d)
    for svc in out.services.values():
        if svc.namespace.startswith(prefix):
            svc.namespace = svc.namespace[len(prefix):]
    return out
