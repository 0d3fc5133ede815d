"""The plan as pandas tables, and its Markdown summary (``plan.md``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench import serde
from workbench.design.frames import markdown
from workbench.names import md_code, md_text
from workbench.plan.model import Plan


def waves_frame(plan: Plan) -> pd.DataFrame:
    """One row per service: its wave, effort and size, and its risk (highest score, number of risks)."""
    effort = {e.service: e for e in plan.efforts}
    risk = risk_by_service(plan).set_index("service")
    top_score, risks = risk["top_score"].to_dict(), risk["risks"].to_dict()
    rows = [{"wave": w.number, "service": s, "points": effort[s].points, "size": effort[s].size,
             "tables": effort[s].drivers.get("tables"), "rows": effort[s].drivers.get("rows"),
             "top_risk": int(top_score[s]) if s in top_score else 0,
             "risks": int(risks[s]) if s in risks else 0,
             "rationale": w.rationale} for w in plan.waves for s in w.services]
    return pd.DataFrame(rows, columns=["wave", "service", "points", "size", "tables", "rows", "top_risk", "risks",
                                       "rationale"])


def risk_by_service(plan: Plan) -> pd.DataFrame:
    """Per service: its highest risk score, how many risks, and their summed score."""
    rows: dict[str, dict[str, int]] = {}
    for r in plan.risks:
        entry = rows.setdefault(r.service, {"top_score": 0, "risks": 0, "total_score": 0})
        entry["top_score"] = max(entry["top_score"], r.score)
        entry["risks"] += 1
        entry["total_score"] += r.score
    frame = pd.DataFrame([{"service": s, **v} for s, v in rows.items()],
                         columns=["service", "top_score", "risks", "total_score"])
    return frame.sort_values(["top_score", "total_score", "service"], ascending=[False, False, True],
                             ignore_index=True)


def efforts_frame(plan: Plan) -> pd.DataFrame:
    """Each service's points per driver (the columns sum to ``points``)."""
    rows = [{"service": e.service, **e.contributions, "points": e.points, "size": e.size} for e in plan.efforts]
    return pd.DataFrame(rows).sort_values(["points", "service"], ascending=[False, True], ignore_index=True)


def risks_frame(plan: Plan) -> pd.DataFrame:
    """The risk register, most serious first."""
    rows = [{"score": r.score, "likelihood": r.likelihood, "impact": r.impact, "category": r.category,
             "service": r.service, "risk": r.description, "mitigation": r.mitigation, "id": r.id} for r in plan.risks]
    return pd.DataFrame(rows, columns=["score", "likelihood", "impact", "category", "service", "risk", "mitigation",
                                       "id"])


def prerequisites_frame(plan: Plan) -> pd.DataFrame:
    """What must be in place per wave: who does what for whom."""
    rows = [{"wave": w.number, "kind": p.kind, "for": p.service, "by": p.by, "detail": p.detail,
             "dependency": p.dependency} for w in plan.waves for p in w.prerequisites]
    return pd.DataFrame(rows, columns=["wave", "kind", "for", "by", "detail", "dependency"])


def prerequisite_summary(plan: Plan) -> pd.DataFrame:
    """Prerequisites counted per wave and kind."""
    frame = prerequisites_frame(plan)
    if frame.empty:
        return pd.DataFrame(columns=["wave"])
    return pd.crosstab(frame["wave"], frame["kind"]).reset_index().rename_axis(None, axis=1)


def summary(plan: Plan) -> str:
    """The plan as Markdown: waves, efforts, risks, prerequisites."""
    lines = ["# Migration plan", "", f"Source: {md_code(plan.source)}.", "", "## Waves", ""]
    for w in plan.waves:
        lines += [f"### Wave {w.number}: {md_text(', '.join(w.services))} ({w.points:g} points)", "",
                  md_text(w.rationale) + ".", "", *[f"{i}. {md_text(step)}" for i, step in enumerate(w.steps, 1)], ""]
    lines += ["## Effort", "", markdown(efforts_frame(plan)), "", "## Risk register", "",
              markdown(risks_frame(plan).drop(columns=["id"])), "", "## Prerequisites", "",
              markdown(prerequisites_frame(plan)), ""]
    return "\n".join(lines)


def write_plan(plan: Plan, path: str | Path) -> dict[str, Path]:
    """``plan.json`` at ``path`` and ``plan.md`` beside it."""
    path = Path(path)
    json_path = serde.save(plan, path)
    return {"plan": json_path, "summary": serde.write_text(json_path.with_suffix(".md"), summary(plan))}
