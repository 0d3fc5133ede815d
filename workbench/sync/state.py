"""Where a follow stands: one row per capture in each service's namespace, written in the same target
transaction as the changes it accounts for; and the local state folder (``capture.json``,
``status.json``, ``lag.jsonl``).

Table :data:`TABLE` (``capture`` primary key): ``position`` -- every source transaction up to it is
applied to the service (its changes and this row commit together, so a restart resumes exactly
there and a transaction is never applied twice); ``snapshot`` -- the source snapshot the service
was first brought level with (transactions visible in it are already in, see
:mod:`workbench.sync.capture`); ``commit_time``/``applied_at`` of the last transaction applied, and
running counts of row changes and transactions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from workbench import serde
from workbench.errors import ArtifactError, NotFoundError
from workbench.sync.model import CAPTURE_FILE, LAG_FILE, STATUS_FILE, CaptureSpec, LagSample, SyncStatus

TABLE = "_workbench_sync"
"""Name of the position table in every followed service's namespace (ignored by drift and Alembic)."""


def table(schema: str | None) -> sa.Table:
    return sa.Table(
        TABLE, sa.MetaData(),
        sa.Column("capture", sa.String(100), primary_key=True),
        sa.Column("position", sa.Text, nullable=False),
        sa.Column("snapshot", sa.Text),
        sa.Column("commit_time", sa.String(40)),
        sa.Column("applied_at", sa.String(40)),
        sa.Column("events", sa.BigInteger, nullable=False, default=0),
        sa.Column("transactions", sa.BigInteger, nullable=False, default=0),
        schema=schema,
        comment="workbench sync: the source position applied to this service (safe to drop after the cut-over)",
    )  # fmt: skip


@dataclass
class Applied:
    """One service's row of :data:`TABLE`."""

    position: str
    snapshot: dict[str, Any] | None
    commit_time: str | None
    applied_at: str | None
    events: int
    transactions: int


def ensure(conn: sa.Connection, schema: str | None) -> None:
    """Create the position table in a namespace when missing."""
    table(schema).create(conn, checkfirst=True)


def read(conn: sa.Connection, schema: str | None, capture: str, *, lock: bool = False) -> Applied | None:
    """The service's position for ``capture`` (``lock``: FOR UPDATE, held until the transaction ends)."""
    t = table(schema)
    query = sa.select(t.c.position, t.c.snapshot, t.c.commit_time, t.c.applied_at, t.c.events,
                      t.c.transactions).where(t.c.capture == capture)
    if lock and conn.dialect.name != "sqlite":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    return Applied(row.position, json.loads(row.snapshot) if row.snapshot else None, row.commit_time,
                   row.applied_at, int(row.events), int(row.transactions))


def exists(conn: sa.Connection, schema: str | None) -> bool:
    return TABLE in sa.inspect(conn).get_table_names(schema=schema)


def write(conn: sa.Connection, schema: str | None, capture: str, applied: Applied, *, insert: bool) -> None:
    """Store the service's position (inside the transaction that applied the changes)."""
    t = table(schema)
    values = {"position": applied.position, "commit_time": applied.commit_time, "applied_at": applied.applied_at,
              "events": applied.events, "transactions": applied.transactions,
              "snapshot": json.dumps(applied.snapshot) if applied.snapshot is not None else None}
    if insert:
        conn.execute(sa.insert(t).values(capture=capture, **values))
    else:
        conn.execute(sa.update(t).where(t.c.capture == capture).values(**values))


# -- the local state folder ---------------------------------------------------------------------------

def default_folder(design_dir: str | Path) -> Path:
    """Where setup and the follower keep their files: ``<design folder>/sync``."""
    path = Path(design_dir)
    return (path if path.is_dir() or path.suffix != ".json" else path.parent) / "sync"


def load_capture(folder: Path) -> CaptureSpec:
    path = folder / CAPTURE_FILE
    if not path.exists():
        raise NotFoundError(f"no capture set up in {folder} ({CAPTURE_FILE} missing): run 'workbench sync setup' first")
    return serde.load(CaptureSpec, path)


def save_atomically(obj: Any, path: Path) -> None:
    """Write an artifact through a temporary file: a reader never sees half of it."""
    tmp = path.with_name(path.name + ".tmp")
    serde.save(obj, tmp)
    tmp.replace(path)


def load_status(folder: Path) -> SyncStatus | None:
    path = folder / STATUS_FILE
    return serde.load(SyncStatus, path) if path.exists() else None


def append_lag(folder: Path, sample: LagSample) -> None:
    with open(folder / LAG_FILE, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(serde.to_dict(sample), separators=(",", ":")) + "\n")


def read_lag(folder: Path) -> list[LagSample]:
    """The follower's lag history (a torn last line, from a kill mid-write, is skipped)."""
    path = folder / LAG_FILE
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(serde.from_dict(LagSample, json.loads(line)))
        except (ValueError, ArtifactError):
            continue
    return out
