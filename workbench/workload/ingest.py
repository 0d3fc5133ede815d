"""Logs in, workload model out: normalise every statement, parse each template once, count.

The loop over statements is the hot path (millions of lines): a statement costs a regex
normalisation and a dict lookup; sqlglot runs only for a template never seen before, and
transactions are reduced to their shape as soon as they end. Memory therefore grows with the
number of distinct templates and open sessions, not with the length of the log.
"""

from __future__ import annotations

import gc
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from workbench.db import mask_url, sqlglot_dialect
from workbench.errors import ArtifactError
from workbench.schema import Schema
from workbench.workload.extract import analyze, analyze_truncated
from workbench.workload.model import ParseIssue, StatementTemplate, Transaction, Workload
from workbench.workload.normalize import HUGE_IN_LIST, Normalizer, fingerprint, is_binary, sample_text, split_statements
from workbench.workload.resolve import Resolver
from workbench.workload.sources import FORMATS, get_format, is_url
from workbench.workload.sources.base import Statement
from workbench.workload.transactions import TransactionGrouper

SAMPLES_PER_ISSUE = 5
RAW_CACHE_SIZE = 20_000
"""Raw statement texts remembered with their template (cleared when full: memory stays bounded)."""


class _Template:
    """A template while counting; becomes a :class:`StatementTemplate` at the end."""

    __slots__ = ("text", "calls", "time", "kind", "reads", "writes", "joins", "unknown", "control", "issue", "keep")

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls = 0
        self.time = 0.0
        self.kind = "other"
        self.reads: frozenset[str] = frozenset()
        self.writes: frozenset[str] = frozenset()
        self.joins: list[tuple[str, str]] = []
        self.unknown: list[str] = []
        self.control: str | None = None
        self.issue: str | None = None
        self.keep = True


class _Issues:
    """Counts and samples what could not be used; samples are normalised, so no literal leaks."""

    def __init__(self, normalizer: Normalizer) -> None:
        self._normalizer = normalizer
        self.counts: Counter[str] = Counter()
        self.samples: dict[str, list[str]] = {}

    def add(self, kind: str, text: str, count: int = 1, safe: bool = False) -> None:
        """Count ``count`` statements of ``kind``; ``safe`` text (normalised, or a position) is sampled as is."""
        self.counts[kind] += count
        samples = self.samples.setdefault(kind, [])
        if len(samples) < SAMPLES_PER_ISSUE:
            shown = sample_text(text if safe else self._normalizer(text)[0])
            if shown not in samples:
                samples.append(shown)

    def result(self) -> list[ParseIssue]:
        return [ParseIssue(kind, self.counts[kind], self.samples.get(kind, [])) for kind in sorted(self.counts)]


class WorkloadBuilder:
    """Accumulates statements from any number of sources into one :class:`Workload`.

    Parameters
    ----------
    schema : names are resolved against it (None: names are kept as written).
    dialect : sqlglot dialect of the statements.
    transactional : whether the statements come in log order with sessions (else no transactions).
    """

    def __init__(self, schema: Schema | None, dialect: str | None, transactional: bool = True) -> None:
        self.dialect = dialect
        self.normalizer = Normalizer(dialect)
        self.resolver = Resolver(schema, dialect)
        self.issues = _Issues(self.normalizer)
        self.grouper = TransactionGrouper() if transactional else None
        self.statements = 0
        self._templates: dict[str, _Template] = {}
        self._last: dict[str | None, _Template] = {}
        self._raw: dict[str, _Template] = {}

    def _template(self, text: str) -> _Template:
        tpl = _Template(text)
        self._templates[text] = tpl
        if is_binary(text):
            tpl.issue, tpl.keep = "binary", False
            return tpl
        truncated = text.endswith("...")
        info = analyze_truncated(text, self.dialect) if truncated else analyze(text, self.dialect)
        tpl.kind, tpl.control = info.kind, info.control
        if truncated:
            tpl.issue = "truncated"
            tpl.keep = info.issue is None
        elif info.issue is not None:
            tpl.issue = info.issue
            tpl.keep = bool(info.reads or info.writes)  # scope analysis failed half-way: keep what was found
        resolve = self.resolver.resolve
        unknown: set[str] = set()
        reads: set[str] = set()
        writes: set[str] = set()
        for refs, out in ((info.reads, reads), (info.writes, writes)):
            for ref in refs:
                key = resolve(ref)
                if key is None:
                    unknown.add(str(ref))
                else:
                    out.add(key)
        tpl.reads, tpl.writes = frozenset(reads), frozenset(writes)
        joins: set[tuple[str, str]] = set()
        for a, b in info.joins:
            ka, kb = resolve(a), resolve(b)
            if ka is not None and kb is not None and ka != kb:
                joins.add((ka, kb) if ka < kb else (kb, ka))
        tpl.joins = sorted(joins)
        tpl.unknown = sorted(unknown)
        return tpl

    def _count(self, tpl: _Template, calls: int, duration: float, session: str | None, txn: str | None) -> None:
        tpl.calls += calls
        tpl.time += duration
        if tpl.issue is not None:
            self.issues.add(tpl.issue, tpl.text, calls, safe=True)
            if not tpl.keep and tpl.control is None:
                return
        if self.grouper is not None:
            self.grouper.add(session, txn, tpl, calls)
        self._last[session] = tpl

    def _line(self, text: str, longest: int, calls: int, duration: float, session: str | None, txn: str | None) -> int:
        """A line off the fast path: a huge list, several statements, or nothing at all."""
        if longest > HUGE_IN_LIST:
            self.issues.add("huge_in_list", text, calls, safe=True)
        pieces = split_statements(text) if ";" in text else ([text] if text else [])
        if len(pieces) > 1:
            self.issues.add("multi_statement", text, calls, safe=True)
        for piece in pieces:
            tpl = self._templates.get(piece) or self._template(piece)
            self._count(tpl, calls, duration, session, txn)
        return calls * len(pieces)

    def feed(self, records: Iterable[Statement]) -> None:
        """Count every statement of ``records``.

        The hot loop: a line seen before verbatim (prepared statements, ``$n`` parameters) skips
        even normalisation, through a bounded cache of raw texts. The objects alive before it
        (modules, parsed templates) are frozen out of the garbage collector meanwhile, so its
        periodic full collections do not walk them once per few thousand lines.
        """
        freeze = gc.get_freeze_count() == 0  # never unfreeze what a caller froze
        if freeze:
            gc.freeze()
        try:
            self._feed(records)
        finally:
            if freeze:
                gc.unfreeze()

    def _feed(self, records: Iterable[Statement]) -> None:
        normalize = self.normalizer
        templates = self._templates
        raw = self._raw
        new = self._template
        count = self._count
        group = self.grouper.add if self.grouper is not None else None
        grouper = self.grouper
        open_transactions: dict[str | None, list[Any]] = grouper.open_transactions if grouper is not None else {}
        open_get = open_transactions.get
        last = self._last
        statements = 0
        for sql, calls, duration, session, txn in records:
            if sql is None:
                prev = last.get(session)
                if prev is not None:
                    prev.time += duration
                continue
            tpl = raw.get(sql)
            if tpl is None:
                text, longest = normalize(sql)
                if longest > HUGE_IN_LIST or ";" in text or not text:
                    statements += self._line(text, longest, calls, duration, session, txn)
                    continue
                tpl = templates.get(text)
                if tpl is None:
                    tpl = new(text)
                if len(raw) >= RAW_CACHE_SIZE:
                    raw.clear()
                raw[sql] = tpl
            statements += calls
            if tpl.issue is not None or group is None:
                count(tpl, calls, duration, session, txn)
                continue
            tpl.calls += calls
            tpl.time += duration
            last[session] = tpl
            if txn is not None and tpl.control is None:  # inside a named transaction: the grouper's common case
                state = open_get(session)
                if state is not None and state[0] == txn:
                    state.append(tpl)
                    continue
            group(session, txn, tpl, calls)
        self.statements += statements

    def result(self, sources: Sequence[str] = ()) -> Workload:
        """The workload: templates by calls, transactions by count, issues by kind (all sorted)."""
        templates = [
            StatementTemplate(
                fingerprint=fingerprint(t.text),
                text=t.text,
                kind=t.kind,
                calls=t.calls,
                total_time_ms=round(t.time, 3),
                tables_read=sorted(t.reads),
                tables_written=sorted(t.writes),
                joins=list(t.joins),
                unknown_tables=list(t.unknown),
            )
            for t in self._templates.values()
            if t.keep and t.calls > 0
        ]
        templates.sort(key=lambda t: (-t.calls, t.fingerprint))
        transactions = []
        if self.grouper is not None:
            shapes = self.grouper.finish()
            transactions = [Transaction(sorted(r), sorted(w), n) for (r, w), n in shapes.items()]
            transactions.sort(key=lambda t: (-t.count, t.tables_written, t.tables_read))
        return Workload(
            sources=[mask_url(s) if is_url(s) else s for s in sources],
            dialect=self.dialect,
            statements=self.statements,
            templates=templates,
            transactions=transactions,
            issues=self.issues.result(),
        )


def ingest(
    sources: Sequence[str],
    format: str,
    schema: Schema | None = None,
    dialect: str | None = None,
    progress: bool | None = None,
) -> Workload:
    """Read logs of one format into a workload model.

    Parameters
    ----------
    sources : log files (``-`` for stdin) or, for live formats, database URLs.
    format : one of :data:`workbench.workload.sources.FORMATS`.
    schema : table names are resolved against it; names it lacks are reported per template.
    dialect : sqlglot dialect; default: the format's, else the schema's.
    progress : tqdm progress bar (None: only on a terminal).

    Raises
    ------
    NotFoundError, ArtifactError, ConnectError
        For a missing file or format, an unusable CSV header, an unreachable server. Bad lines
        never raise: they are counted in ``Workload.issues``.
    """
    fmt = get_format(format)
    source_dialect = sqlglot_dialect(schema.dialect) if schema is not None else None
    builder = WorkloadBuilder(schema, dialect or fmt.dialect or source_dialect, fmt.transactional)
    for source in sources:
        sink = _SourceIssues(builder.issues)
        records = sink.count(fmt.read(source, sink))
        show = sys.stderr.isatty() if progress is None else progress
        if show:
            label = mask_url(source) if is_url(source) else source
            records = iter(tqdm(records, desc=label, unit=" stmt", mininterval=1.0, leave=False))
        try:
            builder.feed(records)
        except _WrongFormat:
            pass  # raised from inside the reader once the first lines showed it: reported below
        except ArtifactError as exc:  # e.g. a CSV header without the format's columns
            sink.explain(exc, source, fmt.name)
        if not is_url(source):
            sink.check(source, fmt.name)
    return builder.result(sources)


class _WrongFormat(Exception):
    """The first :data:`EARLY_LINES` lines of a source were all unreadable: stop reading it."""


EARLY_LINES = 1_000
"""Unreadable lines, without one readable, after which a source is judged without reading the rest."""


class _SourceIssues:
    """The builder's issue sink for one source, counting its unreadable lines and its records, so
    that a file read in the wrong format fails instead of giving an empty workload."""

    def __init__(self, issues: _Issues) -> None:
        self._issues = issues
        self.bad = 0
        self.good = 0
        self.first: str | None = None

    def add(self, kind: str, text: str, count: int = 1, safe: bool = False) -> None:
        self._issues.add(kind, text, count, safe)
        if kind == "malformed_line":
            self.bad += count
            self.first = self.first or text
            if self.bad >= EARLY_LINES and not self.good:
                raise _WrongFormat

    def count(self, records: Iterable[Statement]) -> Iterator[Statement]:
        for record in records:
            self.good += 1
            yield record

    def explain(self, exc: ArtifactError, source: str, format: str) -> None:
        """Re-raise a reader's error with the format the file looks like, when that is another."""
        from workbench.workload.sources.sniff import looks_like

        guess = looks_like(source) if not is_url(source) else None
        if guess is None or guess == format:
            raise exc
        raise ArtifactError(f"{exc}; it looks like {guess}: use --format {guess}") from None

    def check(self, source: str, format: str) -> None:
        """:class:`ArtifactError` when most lines were unreadable, or none was read at all from a file
        that looks like another format; the message names the format the file looks like."""
        from workbench.workload.sources.sniff import looks_like

        guess = looks_like(source)
        wrong = self.bad > self.good or (not self.good and guess is not None and guess != format)
        if not wrong:
            return
        name = Path(source).name
        if self.bad > self.good:
            read = f"{self.bad:,}{'+' if self.bad >= EARLY_LINES and not self.good else ''} of its first " \
                   f"{self.bad + self.good:,} lines are not {format} (e.g. {self.first})"
        else:
            read = f"nothing in it is a {format} statement"
        if guess is not None and guess != format:
            hint = f"it looks like {guess}: use --format {guess}"
        elif guess == format:
            hint = f"it starts like {format} but most of it is not: is the file damaged?"
        else:
            hint = f"it looks like none of the known formats ({', '.join(sorted(FORMATS))})"
        raise ArtifactError(f"{name}: {read}; {hint}")
