"""Figures of the plan: the waves as a chart."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from workbench.plan.model import Plan


def wave_chart(plan: Plan, size: tuple[float, float] | None = None) -> Figure:
    """Waves one after the other, each service a bar as long as its effort points; services of a
    wave run side by side, and the next wave starts when the wave's largest service is done."""
    effort = {e.service: e for e in plan.efforts}
    rows = [(w.number, s) for w in plan.waves for s in w.services]
    fig, ax = plt.subplots(figsize=size or (11, 1.2 + 0.45 * max(1, len(rows))))
    cmap = plt.get_cmap("tab10")
    start = 0.0
    y = 0
    ticks, labels = [], []
    for w in plan.waves:
        length = max((effort[s].points for s in w.services), default=0.0)
        for s in w.services:
            e = effort[s]
            ax.barh(y, e.points, left=start, color=cmap((w.number - 1) % 10), edgecolor="#333333")
            ax.text(start + e.points + 0.5, y, f"{e.points:g} ({e.size})", va="center", fontsize=8)
            ticks.append(y)
            labels.append(f"wave {w.number}: {s}")
            y += 1
        start += length
    ax.set_yticks(ticks, labels)
    ax.invert_yaxis()
    ax.set_xlabel("effort points (cumulative; waves in sequence)")
    ax.set_title("Migration waves (strangler fig): extract first what the rest depends on least")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
