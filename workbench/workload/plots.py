"""Figures of the workload: hottest tables, read/write mix, co-access heatmap, domain spans.

Like the Assess figures, each function returns a :class:`matplotlib.figure.Figure` built without
pyplot (the notebook shows it once, as the cell's value) and lays data out in sorted order.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from workbench.workload import frames
from workbench.workload.model import Workload

_READ = "#1f77b4"
_WRITE = "#d62728"


def _empty(fig: Figure, message: str) -> Figure:
    ax = fig.subplots()
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return fig


def hottest_tables(workload: Workload, top: int = 20) -> Figure:
    """Statement calls per table, split into reads and writes, for the ``top`` busiest tables."""
    access = frames.table_access(workload).head(top).iloc[::-1]
    fig = Figure(figsize=(9, max(3.0, 0.28 * len(access) + 1.2)), layout="constrained")
    if access.empty:
        return _empty(fig, "no table accesses in the workload")
    ax = fig.subplots()
    ax.barh(access["table"], access["reads"], color=_READ, label="reads")
    ax.barh(access["table"], access["writes"], left=access["reads"], color=_WRITE, label="writes")
    ax.set_xlabel("statement calls")
    ax.set_title(f"The {len(access)} busiest tables")
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(loc="lower right")
    return fig


def read_write_mix(workload: Workload, top: int = 30) -> Figure:
    """Share of reads per table (the ``top`` busiest), with the workload's overall read share."""
    access = frames.table_access(workload).head(top)
    fig = Figure(figsize=(9, max(3.0, 0.26 * len(access) + 1.2)), layout="constrained")
    if access.empty:
        return _empty(fig, "no table accesses in the workload")
    access = access.sort_values(["read_share", "table"], ascending=[True, False])
    ax = fig.subplots()
    ax.barh(access["table"], access["read_share"], color=_READ, label="reads")
    ax.barh(access["table"], 1 - access["read_share"], left=access["read_share"], color=_WRITE, label="writes")
    overall = access["reads"].sum() / max(1, access["total"].sum())
    ax.axvline(overall, color="black", linestyle="--", linewidth=1, label=f"overall {overall:.0%} reads")
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of statement calls")
    ax.set_title("Read/write mix per table", pad=24)
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=8, frameon=False)
    return fig


def co_access_heatmap(workload: Workload, top: int = 25) -> Figure:
    """Transactions touching both tables, for the ``top`` tables most often touched (log colour scale)."""
    full = frames.co_access_matrix(workload)
    fig = Figure(figsize=(10, 9), layout="constrained")
    if full.empty:
        return _empty(fig, "no transactions or statements touching tables")
    keep = sorted(np.diag(full.values).argsort()[::-1][:top])
    names = [full.index[i] for i in keep]
    matrix = full.loc[names, names].to_numpy(dtype=float)
    ax = fig.subplots()
    image = ax.imshow(np.log10(matrix + 1), cmap="viridis")
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    unit = "transactions" if workload.transactions else "statement calls"
    ax.set_title(f"Co-access: {unit} touching both tables")
    fig.colorbar(image, ax=ax, label=f"log10(1 + {unit})", shrink=0.8)
    return fig


def domain_spans(workload: Workload, domains: Mapping[str, str]) -> Figure:
    """How many transactions touch and write one, two, three ... domains (weighted by count)."""
    frame = frames.transaction_domains(workload, domains)
    fig = Figure(figsize=(8, 3.5), layout="constrained")
    if frame.empty:
        return _empty(fig, "no transactions in the workload")
    ax = fig.subplots()
    top = int(max(frame["domains"].max(), 1))
    spans = np.arange(1, top + 1)
    touched = [frame.loc[frame["domains"] == k, "count"].sum() for k in spans]
    written = [frame.loc[frame["domains_written"] == k, "count"].sum() for k in spans]
    ax.bar(spans - 0.2, touched, width=0.4, color=_READ, label="domains touched")
    ax.bar(spans + 0.2, written, width=0.4, color=_WRITE, label="domains written")
    ax.set_yscale("symlog")
    ax.set_xticks(spans)
    ax.set_xlabel("domains per transaction")
    ax.set_ylabel("transactions")
    ax.set_title("Transactions spanning several domains")
    ax.legend()
    return fig
