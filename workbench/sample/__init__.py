"""The sample legacy database: a retailer and wholesaler's monolith grown over fifteen years.

A deterministic generator (fixed seed) of 66 tables and 2 views over 13 business domains, with
the traits real legacy databases have (shared lookups, polymorphic tables, tables without keys,
unindexed and cyclic foreign keys, relationships by naming only, mixed naming styles); see
:mod:`workbench.sample.tables` for the list and ``sample_db/README.md`` for the story.

- :func:`build` writes it as a SQLite file (the default source for demos and tests);
- :func:`load` loads the same schema and rows into an empty PostgreSQL or MariaDB database;
- :data:`DOMAINS` is the answer key (table -> domain), committed as ``sample_db/domains.csv``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from workbench import serde
from workbench.sample.builder import build
from workbench.sample.data import DEFAULT_SEED, generate
from workbench.sample.loader import load
from workbench.sample.tables import DOMAIN_DESCRIPTIONS, DOMAINS, METADATA, VIEWS

__all__ = [
    "DEFAULT_SEED", "DOMAINS", "DOMAIN_DESCRIPTIONS", "METADATA", "VIEWS",
    "answer_key_text", "build", "generate", "load", "write_answer_key",
]


def answer_key_text() -> str:
    """``sample_db/domains.csv`` as it must read: header ``table,domain``, one row per table/view, sorted by table.

    >>> answer_key_text().splitlines()[:2]
    ['table,domain', 'GoodsReceipt,purchasing']
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", "domain"])
    for table in sorted(DOMAINS):
        writer.writerow([table, DOMAINS[table]])
    return out.getvalue()


def write_answer_key(path: str | Path) -> Path:
    """Write the answer key (see :func:`answer_key_text`) to ``path``; regenerate the committed copy with it."""
    return serde.write_text(path, answer_key_text())
