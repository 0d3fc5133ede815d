"""The follow as the Migrate notebook and the title page show it: the state folder's files as tables and plots.

Everything is read from the sync state folder (``<design>/sync``): ``capture.json`` (what setup
made), ``status.json`` (what the follower last reported), ``lag.jsonl`` (its lag over time) and
``verify.json`` (the last verification after a follow, when one was saved there).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workbench import serde
from workbench.migrate.verify import VerifyReport
from workbench.sync import state
from workbench.sync.model import CAPTURE_FILE, VERIFY_FILE, CaptureSpec, LagSample, SyncStatus


@dataclass
class FollowView:
    """What a sync state folder holds (every part None/empty when absent)."""

    folder: Path
    capture: CaptureSpec | None = None
    torn_down: bool = False
    status: SyncStatus | None = None
    lag: list[LagSample] = field(default_factory=list)
    verify: VerifyReport | None = None

    @property
    def exists(self) -> bool:
        return self.capture is not None or self.status is not None or self.torn_down

    @property
    def state(self) -> str:
        if self.status is not None:
            return "torn down" if self.torn_down else self.status.state
        if self.capture is not None:
            return "set up, not followed yet"
        return "torn down" if self.torn_down else "none"


def load_view(folder: str | Path) -> FollowView:
    """Read a sync state folder (a missing one gives an empty view)."""
    path = Path(folder)
    view = FollowView(path)
    if (path / CAPTURE_FILE).exists():
        view.capture = state.load_capture(path)
    elif (path / (CAPTURE_FILE + ".torn-down")).exists():
        view.torn_down = True
        view.capture = serde.load(CaptureSpec, path / (CAPTURE_FILE + ".torn-down"))
    view.status = state.load_status(path)
    view.lag = state.read_lag(path)
    if (path / VERIFY_FILE).exists():
        view.verify = serde.load(VerifyReport, path / VERIFY_FILE)
    return view


def summary(view: FollowView) -> str:
    """One Markdown paragraph: the capture, its state, the lag and the last verification."""
    if not view.exists:
        return ("No change capture set up for this design (`workbench sync setup`, then `workbench sync run`): "
                "the service schemas hold the copy as of the migration.")
    spec = view.capture
    parts = [f"Capture **{spec.name}** on `{spec.source}` ({spec.backend}), {len(spec.tables)} tables, "
             f"set up {spec.created_at[:19].replace('T', ' ')} UTC; state: **{view.state}**."] if spec else \
        [f"State: **{view.state}**."]
    st = view.status
    if st is not None:
        lag = st.lag_seconds
        parts.append(f"Last report {st.updated_at[:19].replace('T', ' ')} UTC: "
                     f"{sum(s.events for s in st.services):,} row changes applied to {len(st.services)} services, "
                     f"lag {'-' if lag is None else f'{lag:.1f} s'} ({st.lag_events or 0:,} changes waiting).")
    if view.verify is not None:
        equal = sum(t.status == "equal" for t in view.verify.tables)
        parts.append(f"Last verification after following: {equal} of {len(view.verify.tables)} tables equal"
                     f"{'' if view.verify.ok else ' -- differences, see verify.json'}.")
    return " ".join(parts)


def services_frame(view: FollowView) -> pd.DataFrame:
    """Per service: position applied, row changes and transactions applied, lag, events/s."""
    columns = ["service", "position", "row changes", "transactions", "lag (changes)", "lag (s)", "events/s",
               "last commit applied"]
    if view.status is None:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame([{"service": s.service, "position": s.position, "row changes": s.events,
                          "transactions": s.transactions, "lag (changes)": s.lag_events, "lag (s)": s.lag_seconds,
                          "events/s": s.events_per_second, "last commit applied": s.commit_time}
                         for s in view.status.services], columns=columns)


def lag_frame(view: FollowView) -> pd.DataFrame:
    """The lag history: time, lag in seconds and in waiting row changes, row changes applied so far."""
    rows: list[dict[str, Any]] = [{"time": dt.datetime.fromisoformat(s.t), "lag (s)": s.lag_seconds,
                                   "waiting": s.lag_events, "applied": s.applied} for s in view.lag]
    return pd.DataFrame(rows, columns=["time", "lag (s)", "waiting", "applied"])


def lag_plot(view: FollowView) -> Any:
    """Lag over time (seconds, and row changes waiting on a second axis)."""
    from matplotlib.figure import Figure

    frame = lag_frame(view)
    fig = Figure(figsize=(8, 3.2))
    ax = fig.add_subplot()
    if frame.empty:
        ax.text(0.5, 0.5, "no lag recorded yet", ha="center", va="center", transform=ax.transAxes)
        return fig
    ax.plot(frame["time"], frame["lag (s)"], color="#3b6ea5", label="lag (s)")
    ax.set_ylabel("lag (s)")
    other = ax.twinx()
    other.plot(frame["time"], frame["waiting"], color="#b5523b", alpha=0.6, label="row changes waiting")
    other.set_ylabel("row changes waiting")
    ax.set_title("Follower lag over time")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def events_plot(view: FollowView) -> Any:
    """Row changes applied per service."""
    from matplotlib.figure import Figure

    frame = services_frame(view)
    fig = Figure(figsize=(6, 0.6 + 0.3 * max(1, len(frame))))
    ax = fig.add_subplot()
    ax.barh(list(frame["service"])[::-1], list(frame["row changes"])[::-1], color="#4a8c5c")
    ax.set_xlabel("row changes applied")
    ax.set_title("Events per service")
    fig.tight_layout()
    return fig
