"""Decision rules: which consistency mechanism each cross-boundary dependency gets, and why.

The rules follow the field's practice (``REFERENCE.md`` section 6) and make every switch explicit
and measurable. Each rule reads named *facts* (computed by :mod:`workbench.design.dependencies`
from the schema and the workload) and returns the mechanism with a reason that quotes the figures
and the threshold that decided. Thresholds are shares of the workload rather than absolute counts,
so a one-hour log and a one-month log of the same system give the same design.

Beyond the reference table, four rules the evidence justifies:

- undeclared references (``orders.customer_id`` without a constraint, found by name and type) are
  foreign keys too: they cross the boundary just the same;
- a participant that only *appends* in a multi-service transaction (an audit log, a history, a
  notification) is not a saga step: nothing it does can fail for business reasons or needs undoing,
  so it consumes an event from the initiator's outbox (``domain_events``);
- a cross-cutting table written *in place* by several services (a shared counter, settings) is
  neither: each service gets its own copy (``local_copy``);
- a view over several services' tables can live in no single schema: it is a read dependency of the
  service its query starts from, decided like a join.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from workbench.design.model import ForeignKeyFacts, Mechanism, ReadFacts, WriteFacts

MECHANISMS: dict[Mechanism, str] = {
    "reference_by_id": "keep the id column, drop the FK; the owner publishes lifecycle events the holder reacts to",
    "command_side_replica": "the consumer keeps a read-only copy of the few columns its writes validate against, "
                            "fed by events",
    "replicated_reference_data": "small, rarely changing data copied read-only into each consumer's schema, "
                                 "fed by events",
    "api_composition": "the consumer calls the providers' APIs and joins the (small) results in memory",
    "cqrs_projection": "a read model in the consumer's schema, joined in advance and kept current by the providers' "
                       "events",
    "saga_choreography": "local transactions chained by events through each service's outbox; compensations undo "
                         "on failure",
    "saga_orchestration": "an orchestrator in the initiating service drives the participants' local transactions "
                          "by commands",
    "domain_events": "the other service only records the fact: an event from the initiator's outbox, consumed "
                     "idempotently",
    "local_copy": "a cross-cutting table written in place by everyone: each service gets its own copy of it",
    "merge_services": "written together in most transactions: the coupling is too strong to split; merge the services",
}
"""Every mechanism the design can recommend, with what it means in one line."""

_LIGHTEST_FIRST: list[Mechanism] = [
    "local_copy", "replicated_reference_data", "reference_by_id", "domain_events", "api_composition",
    "command_side_replica", "cqrs_projection", "saga_choreography", "saga_orchestration", "merge_services"]
STRENGTH: dict[Mechanism, int] = {m: i for i, m in enumerate(_LIGHTEST_FIRST)}
"""Mechanisms from the lightest to the heaviest coupling they leave (for summaries and ordering)."""


@dataclass(frozen=True)
class Rules:
    """Thresholds of the decision rules, with the defaults the design uses.

    Attributes
    ----------
    reference_max_rows : a referred table at most this big, and ...
    reference_max_write_share : ... written by at most this share of all write calls, is reference
        data (replicated). Tables the decomposition put in a reference service always are.
    hot_write_share : when transactions that write the referencing table and read the referred one
        (a validation lookup) make at least this share of all write transactions, the lookup is on
        a hot write path: a command-side replica, since a synchronous call there couples availability.
    hot_read_share : a cross-service read with at least this share of all read calls is hot: a read
        model, not a fan-out of API calls per request.
    max_composition_providers : API composition is kept for at most this many provider services.
    large_result_rows : an unfiltered, unpaged read over tables this big is too large to compose.
    merge_share : two services written together in at least this share of the transactions writing
        either (Jaccard) should be merged rather than linked by a saga.
    choreography_max_steps : sagas with at most this many local transactions use choreography; longer
        ones use an orchestrator (choreography gets hard to follow beyond a short linear flow).
    """

    reference_max_rows: int = 1_000
    reference_max_write_share: float = 0.001
    hot_write_share: float = 0.05
    hot_read_share: float = 0.02
    max_composition_providers: int = 2
    large_result_rows: int = 10_000
    merge_share: float = 0.5
    choreography_max_steps: int = 3

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> Rules:
        """Rules with some thresholds overridden; an unknown name is an error naming it."""
        from workbench.errors import WorkbenchError

        values = dict(values or {})
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise WorkbenchError(
                f"unknown design rule(s): {', '.join(unknown)} (known: {', '.join(cls.__dataclass_fields__)})"
            )
        return cls(**values)


Decision = tuple[Mechanism, str]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def decide_foreign_key(facts: ForeignKeyFacts, rules: Rules = Rules()) -> Decision:
    """A foreign key from the consumer's table to a provider's table.

    Facts used: ``referred_is_reference`` (the decomposition made it reference data),
    ``referred_rows``, ``referred_write_share`` (None without a workload), ``lookups`` (count of the
    transactions writing the referencing table that also read the referred one) and ``lookup_share``
    (their share of all write transactions; None without a workload).

    >>> decide_foreign_key({"referred_is_reference": True, "referred_rows": 20})[0]
    'replicated_reference_data'
    >>> decide_foreign_key({"referred_rows": 10**6, "lookup_share": 0.5, "lookups": 40})[0]
    'command_side_replica'
    >>> decide_foreign_key({"referred_rows": 10**6})[0]
    'reference_by_id'
    """
    rows = facts.get("referred_rows")
    write_share = facts.get("referred_write_share")
    if facts.get("referred_is_reference"):
        return "replicated_reference_data", "the decomposition classifies the referred table as reference data " \
            f"({rows if rows is not None else '?'} rows): replicate it read-only into the consumer"
    if rows is not None and rows <= rules.reference_max_rows and write_share is not None and \
            write_share <= rules.reference_max_write_share:
        return (
            "replicated_reference_data",
            f"small ({rows:,} rows <= {rules.reference_max_rows:,}) and rarely written "
            f"({_pct(write_share)} of write calls <= {_pct(rules.reference_max_write_share)}): replicate it read-only",
        )
    lookup = facts.get("lookup_share")
    if lookup is not None and lookup >= rules.hot_write_share and facts.get("lookups", 0) > 0:
        return (
            "command_side_replica",
            f"transactions writing the referencing table read the referred one: {_pct(lookup)} of all write "
            f"transactions (>= {_pct(rules.hot_write_share)}), a hot write-path lookup; keep a replica of the "
            "columns it needs instead of a synchronous call (accepting brief staleness)",
        )
    why = (
        "no write-path lookup of it in the workload" if lookup is not None else "no workload to show write-path lookups"
    )
    return "reference_by_id", f"a reference to validate and follow ({why}): keep the id, drop the FK, react to the " \
        "owner's lifecycle events (e.g. deleted)"


def decide_read(facts: ReadFacts, rules: Rules = Rules()) -> Decision:
    """A read (query or view) joining tables of several services.

    Facts used: ``reference_only`` (every provider table is reference data), ``providers``,
    ``call_share`` (share of all read calls; None without a workload), ``cross_filter`` /
    ``cross_sort`` (filters / sorting or grouping on provider columns), ``aggregated``,
    ``paged``, ``key_lookup``, ``filtered``, ``rows_estimate``.

    >>> decide_read({"reference_only": True})[0]
    'replicated_reference_data'
    >>> decide_read({"providers": 1, "call_share": 0.001, "key_lookup": True})[0]
    'api_composition'
    >>> decide_read({"providers": 1, "call_share": 0.001, "cross_filter": True})[0]
    'cqrs_projection'
    """
    if facts.get("reference_only"):
        return "replicated_reference_data", "every other table it joins is reference data: join locally against " \
            "the read-only replicas"
    reasons = []
    if facts.get("cross_filter"):
        reasons.append("it filters on another service's columns")
    if facts.get("cross_sort"):
        reasons.append("it sorts or groups on another service's columns")
    if facts.get("aggregated") and not facts.get("key_lookup"):
        reasons.append("it aggregates rows of several services")
    share = facts.get("call_share")
    if share is not None and share >= rules.hot_read_share:
        reasons.append(f"it is hot ({_pct(share)} of read calls >= {_pct(rules.hot_read_share)})")
    n = int(facts.get("providers", 1))
    if n > rules.max_composition_providers:
        reasons.append(f"it needs {n} provider services (> {rules.max_composition_providers})")
    rows = facts.get("rows_estimate")
    if not facts.get("key_lookup") and not facts.get("paged") and not facts.get("filtered") and \
            rows is not None and rows >= rules.large_result_rows:
        reasons.append(f"it reads up to {rows:,} rows unfiltered (>= {rules.large_result_rows:,})")
    if reasons:
        return "cqrs_projection", "; ".join(reasons) + ": a read model fed by the providers' events"
    how = "a key lookup" if facts.get("key_lookup") else "a bounded, locally filtered read"
    calls = f", {_pct(share)} of read calls" if share is not None else ""
    return "api_composition", f"{how} with {n} provider(s){calls}: compose the providers' API results"


def decide_write(facts: WriteFacts, rules: Rules = Rules()) -> Decision:
    """One transaction shape writing tables of several services.

    Facts used: ``saga_participants`` (services with in-place writes besides the initiator),
    ``event_consumers`` (services that only append), ``local_copies`` (cross-cutting services
    written in place), ``jaccard`` (participant -> share of the transactions writing the initiator
    or it that write both), ``count``.

    >>> decide_write({"saga_participants": ["b"], "jaccard": {"b": 0.9}})[0]
    'merge_services'
    >>> decide_write({"saga_participants": ["b"], "jaccard": {"b": 0.1}})[0]
    'saga_choreography'
    >>> decide_write({"saga_participants": ["b", "c", "d"], "jaccard": {}})[0]
    'saga_orchestration'
    >>> decide_write({"event_consumers": ["audit"]})[0]
    'domain_events'
    """
    jaccard: Mapping[str, float] = facts.get("jaccard") or {}
    strong = sorted(s for s, j in jaccard.items() if j >= rules.merge_share)
    if strong:
        figures = ", ".join(f"{s} {_pct(jaccard[s])}" for s in strong)
        return "merge_services", f"written together with {figures} of the transactions writing either " \
            f"(>= {_pct(rules.merge_share)}): too coupled for a saga; merge them"
    saga = list(facts.get("saga_participants") or [])
    if saga:
        steps = 1 + len(saga)
        extra = ""
        if facts.get("event_consumers"):
            extra = f"; {', '.join(facts['event_consumers'])} only record(s) the outcome through events"
        if steps <= rules.choreography_max_steps:
            return "saga_choreography", f"{steps} local transactions (<= {rules.choreography_max_steps}): a short " \
                f"linear flow, chained by events from each outbox{extra}"
        return (
            "saga_orchestration",
            f"{steps} local transactions (> {rules.choreography_max_steps}): an orchestrator "
            f"keeps the flow and its compensations in one place{extra}",
        )
    if facts.get("event_consumers"):
        return "domain_events", f"{', '.join(facts['event_consumers'])} only append(s) what happened: publish an " \
            "event from the initiator's outbox; nothing to compensate"
    tables = ", ".join(facts.get("local_copy_tables") or facts.get("local_copies") or [])
    return "local_copy", f"{tables}: cross-cutting, written in place by several services: give each writer its own " \
        "copy in its schema instead of sharing it"
