"""The workload model: which tables statements read, write and join, and which they write together.

The artifact ``workload.json`` of the Assess stage. Statements are kept per *template* (the
normalised statement, literals replaced by placeholders), because real logs repeat a few thousand
templates millions of times; transactions are kept per distinct (read set, write set) with a count.
Table names are table keys of the :class:`~workbench.schema.Schema` (``name`` or ``schema.name``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from workbench import serde


@dataclass
class StatementTemplate:
    """One normalised statement and everything counted for it.

    Attributes
    ----------
    fingerprint : stable hash of ``text``; the template's id.
    text : the normalised statement (literals and IN-lists as placeholders).
    kind : ``select``, ``insert``, ``update``, ``delete``, ``merge``, ``ddl`` or ``other``.
    calls : how many times it ran.
    total_time_ms : summed execution time, where the source reports it (else 0).
    tables_read, tables_written : schema table keys, sorted.
    joins : unordered table pairs joined in one query block, each sorted, the list sorted.
    unknown_tables : names the statement uses that the schema does not have (reported, not guessed).
    """

    fingerprint: str
    text: str
    kind: str
    calls: int = 0
    total_time_ms: float = 0.0
    tables_read: list[str] = field(default_factory=list)
    tables_written: list[str] = field(default_factory=list)
    joins: list[tuple[str, str]] = field(default_factory=list)
    unknown_tables: list[str] = field(default_factory=list)


@dataclass
class Transaction:
    """A distinct transaction shape: the tables it read and wrote, and how often it ran."""

    tables_read: list[str]
    tables_written: list[str]
    count: int = 1


@dataclass
class ParseIssue:
    """Input the parser could not fully use; counted and sampled, never fatal.

    ``kind`` is one of ``unparseable``, ``unsupported`` (parsed as an opaque command),
    ``truncated``, ``binary``, ``multi_statement``, ``malformed_line``, ``huge_in_list`` (an
    IN-list or multi-row VALUES longer than 1,000 items, collapsed to one placeholder and used),
    ``other_database`` and ``unknown_database`` (a live general log's sessions on another database,
    or connected before the log began, left out).
    ``count`` counts statements (times ``calls`` for aggregated sources); samples are normalised
    text, never raw log lines, so no literal value reaches the artifact.
    """

    kind: str
    count: int
    samples: list[str] = field(default_factory=list)


@dataclass
class Workload:
    """Everything the logs say about how the database is used."""

    FORMAT: ClassVar[serde.Format] = serde.Format("workload")

    sources: list[str] = field(default_factory=list)
    dialect: str | None = None
    statements: int = 0
    templates: list[StatementTemplate] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    issues: list[ParseIssue] = field(default_factory=list)
