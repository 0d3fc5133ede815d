"""Deterministic row generation for the whole monolith, one table at a time.

:func:`generate` runs the domain generators in dependency order over one shared
:class:`~workbench.sample.world.World` and yields each table's rows once, in the column order of
:data:`~workbench.sample.tables.METADATA`. The same ``(scale, seed)`` always yields the same rows,
whatever the backend they are written to.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator

from workbench.sample import gen_after, gen_base, gen_catalog, gen_customers, gen_orders
from workbench.sample.context import Context
from workbench.sample.tables import METADATA
from workbench.sample.world import Rows, World

DEFAULT_SEED = 20260101

Step = Callable[[Context, World], Iterator[tuple[str, Rows]]]

STEPS: tuple[Step, ...] = (
    gen_base.reference, gen_base.staff, gen_base.lookups, gen_catalog.catalog, gen_catalog.promotions,
    gen_customers.customers, gen_orders.orders, gen_after.purchasing, gen_after.stock, gen_after.catalog_feedback,
    gen_after.content, gen_after.platform, gen_after.reports,
)
"""Generators in dependency order: each may only read what earlier ones recorded in the World."""


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of acyclic rows are created.

    The rows hold no reference cycles, so the collector only burns time re-scanning them (a
    quarter of the build); reference counting still frees everything.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def generate(scale: float = 1.0, seed: int = DEFAULT_SEED) -> Iterator[tuple[str, Rows]]:
    """Yield ``(table name, rows)`` for every table of :data:`METADATA`, each exactly once.

    Raises
    ------
    RuntimeError
        If a generator disagrees with the table definitions (a bug, not a user error).
    """
    ctx, world = Context(scale, seed), World()
    done: set[str] = set()
    for step in STEPS:
        for name, rows in step(ctx, world):
            table = METADATA.tables.get(name)
            if table is None or name in done:
                raise RuntimeError(f"generator {step.__name__} yielded unknown or repeated table {name!r}")
            width = len(table.columns)
            bad = next((r for r in rows if len(r) != width), None)
            if bad is not None:
                raise RuntimeError(f"{name}: row has {len(bad)} values for {width} columns: {bad!r}")
            done.add(name)
            yield name, rows
    missing = sorted(set(METADATA.tables) - done)
    if missing:
        raise RuntimeError(f"no rows generated for tables: {', '.join(missing)}")
