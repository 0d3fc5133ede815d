"""The Plan stage as the notebook runs it: read the design (or make it), plan, write, check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.design.model import Design, load_design
from workbench.plan.frames import write_plan
from workbench.plan.model import Plan
from workbench.plan.pipeline import plan


@dataclass
class StageResult:
    """The plan, the design it came from (and where from), the files written and the checks."""

    plan: Plan
    design: Design
    origin: str
    paths: dict[str, Path]
    checks: dict[str, bool]


def checks(result: Plan, design: Design) -> dict[str, bool]:
    """Invariants every plan must meet."""
    placed = [s for w in result.waves for s in w.services]
    wave = result.wave_of()
    return {
        "every service in exactly one wave": sorted(placed) == sorted(design.services),
        "waves numbered in order": [w.number for w in result.waves] == list(range(1, len(result.waves) + 1)),
        "every wave says why it comes then": all(w.rationale for w in result.waves),
        "services to merge move in the same wave": all(
            wave.get(d.consumer) == wave.get(s) for d in design.dependencies if d.mechanism == "merge_services"
            for s in d.write_facts.get("merge_with", [])),
        "risk register sorted by score": [r.score for r in result.risks] == sorted((r.score for r in result.risks),
                                                                                  reverse=True),
        "effort points are the sum of their drivers": all(
            abs(e.points - sum(e.contributions.values())) < 0.05 for e in result.efforts),
    }


def run(db_url: str, out_dir: str | Path, *, design_dir: str | Path | None = None,
        max_per_wave: int | None = None, **design_options: Any) -> StageResult:
    """Plan the design in ``out_dir/design`` (designed now if missing, with ``design_options`` for
    :func:`workbench.design.stage.run`); write ``plan.json`` and ``plan.md`` into ``out_dir``."""
    folder = Path(design_dir) if design_dir else Path(out_dir) / "design"
    if (folder / "design.json").exists():
        design, origin = load_design(folder), "design/design.json"
    else:
        from workbench.design.stage import run as design_stage

        design = design_stage(db_url, out_dir, **design_options).design
        origin = "designed now (design stage defaults), written to design/"
    result = plan(design, max_per_wave=max_per_wave)
    paths = write_plan(result, Path(out_dir) / "plan.json")
    return StageResult(result, design, origin, paths, checks(result, design))
