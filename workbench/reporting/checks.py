"""A stage's own checks, shown on its page and recorded for the report: a stage is ok only when they pass.

A stage notebook can run to its last cell while what it produced is wrong: a migration with two
services failed and a verification with differences printed ``FAILED`` lines, yet the report
called the stage ok because no cell raised. Each stage notebook therefore hands its checks to
:func:`record_checks`, which prints them (the page shows them) and writes
``<out_dir>/checks/<stage>.json``; :mod:`workbench.report` reads that file after the notebook ran
and fails the stage, naming the failed checks and the first problems, when any check failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from workbench import serde
from workbench.db import scrub

FOLDER = "checks"
"""Sub-folder of the report folder holding one ``<stage>.json`` per stage that recorded checks."""

SHOWN_PROBLEMS = 10
"""Problems printed under the checks (all of them are in the JSON file)."""


@dataclass
class StageChecks:
    """What a stage checked on its own output.

    Attributes
    ----------
    stage : the stage's name (a key of :data:`workbench.report.STAGES`).
    checks : check (a sentence) -> whether it held.
    problems : one line per thing that went wrong, naming what and where (a table, a service).
    """

    stage: str
    checks: dict[str, bool] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, held in self.checks.items() if not held]

    def summary(self) -> str:
        """One line for the title page and the command's error.

        >>> StageChecks("migrate", {"rows equal": False, "fks": True}, ["crm.orders: 3 rows missing"]).summary()
        'check failed: rows equal; first problem: crm.orders: 3 rows missing'
        """
        failed = self.failed
        text = f"{'checks' if len(failed) > 1 else 'check'} failed: {'; '.join(failed)}"
        if self.problems:
            more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            text += f"; first problem: {self.problems[0]}{more}"
        return scrub(text)


def path(out_dir: str | Path, stage: str) -> Path:
    """Where a stage's checks are recorded in the report folder."""
    return Path(out_dir) / FOLDER / f"{stage}.json"


def record_checks(stage: str, checks: Mapping[str, bool], out_dir: str | Path,
                  problems: Iterable[str] = ()) -> StageChecks:
    """Print the checks (``ok`` or ``FAILED`` per line, then the problems when one failed) and record them.

    The stage notebook calls this in its checks cell; the report then knows whether the stage is ok.
    """
    result = StageChecks(stage, {str(k): bool(v) for k, v in checks.items()}, [scrub(p) for p in problems])
    for name, held in result.checks.items():
        print(f"{'ok ' if held else 'FAILED'} {name}")
    if not result.ok and result.problems:
        print(f"{len(result.problems)} problem(s):")
        for line in result.problems[:SHOWN_PROBLEMS]:
            print(f"  - {line}")
        if len(result.problems) > SHOWN_PROBLEMS:
            print(f"  ... and {len(result.problems) - SHOWN_PROBLEMS} more (see {FOLDER}/{stage}.json)")
    serde.save(result, path(out_dir, stage))
    return result


def load_checks(out_dir: str | Path, stage: str) -> StageChecks | None:
    """The checks a stage recorded in ``out_dir``, or None when it recorded none."""
    file = path(out_dir, stage)
    return serde.load(StageChecks, file) if file.exists() else None


def forget_checks(out_dir: str | Path, stage: str) -> None:
    """Remove a stage's recorded checks (before it runs again: an old verdict must not pass for a new one)."""
    path(out_dir, stage).unlink(missing_ok=True)
