"""``report.json``: what each stage's page in a report folder stands for.

A stage can be rerun alone after a hand edit of its input, so a folder mixes pages of several
renders. The manifest records, per stage, whether its page is current (``ok``), shows a failure
(``failed``), predates a rerun of an earlier stage (``stale``) or was never reached (``skipped``);
the title page reads it. No timings and no dates: the file must be reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from workbench import serde

FILE = "report.json"

STATUSES = ("ok", "failed", "stale", "skipped")


@dataclass
class StageRecord:
    """One stage's page in the folder.

    Attributes
    ----------
    stage : stage name (a key of :data:`workbench.report.STAGES`).
    notebook : executed notebook file in the folder.
    html : its page (outputs only).
    status : one of :data:`STATUSES`.
    note : the error of a failed stage; the reason of a stale or skipped one.
    """

    stage: str
    notebook: str
    html: str
    status: str = "ok"
    note: str | None = None


@dataclass
class Manifest:
    """Stage records in registry order."""

    FORMAT: ClassVar[serde.Format] = serde.Format("report")

    stages: list[StageRecord] = field(default_factory=list)

    def get(self, stage: str) -> StageRecord | None:
        return next((r for r in self.stages if r.stage == stage), None)

    def put(self, record: StageRecord, order: list[str]) -> None:
        """Replace or add ``record``, keeping the records in ``order`` (unknown stages last)."""
        kept = [r for r in self.stages if r.stage != record.stage] + [record]
        rank = {name: i for i, name in enumerate(order)}
        self.stages = sorted(kept, key=lambda r: (rank.get(r.stage, len(rank)), r.stage))

    def mark_later(self, stage: str, order: list[str], status: str, note: str, rendered: set[str]) -> None:
        """Set ``status`` on the ``ok`` records of stages after ``stage`` not in ``rendered`` (their inputs changed)."""
        later = order[order.index(stage) + 1:] if stage in order else []
        for record in self.stages:
            if record.stage in later and record.stage not in rendered and record.status == "ok":
                record.status, record.note = status, note


def load(out: Path) -> Manifest:
    """The folder's manifest; an empty one for a new folder."""
    path = Path(out) / FILE
    return serde.load(Manifest, path) if path.exists() else Manifest()


def save(manifest: Manifest, out: Path) -> Path:
    return serde.save(manifest, Path(out) / FILE)
