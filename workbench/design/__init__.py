"""Design: per-service schemas, a consistency mechanism for every cross-boundary dependency, and
the artifacts those mechanisms need (reference-by-id columns, replicas, CQRS read models, sagas,
outbox and idempotency tables, the events catalog), from an accepted decomposition.

>>> from workbench.schema import Column, ForeignKey, Schema, Table
>>> from workbench.decompose.model import Decomposition, Service
>>> from workbench.design import design
>>> schema = Schema(dialect="sqlite", database="x.db", tables=[
...     Table("customers", columns=[Column("id", "INTEGER", False)], primary_key=["id"], row_count=10**5),
...     Table("orders", columns=[Column("id", "INTEGER", False), Column("customer_id", "INTEGER")],
...           primary_key=["id"], foreign_keys=[ForeignKey(["customer_id"], "customers", ["id"])])])
>>> d = design(schema, Decomposition(services={"crm": Service(["customers"]), "sales": Service(["orders"])}))
>>> [(x.id, x.mechanism) for x in d.dependencies]
[('fk:orders(customer_id)->customers', 'reference_by_id')]
>>> d.service("sales").references[0].referred_service
'crm'
"""

from __future__ import annotations

import importlib
from typing import Any

# Exports load on first use (PEP 562): reading a design.json (plan, migrate, drift) must not pay for
# the design pipeline's imports (sqlglot, pandas, the decomposition stack) at every CLI start.
_EXPORTS = {
    "apply": "ddl", "script": "ddl", "statements": "ddl", "catalog": "dependencies", "MECHANISMS": "mechanisms",
    "Rules": "mechanisms", "Dependency": "model", "Design": "model", "ServiceDesign": "model",
    "load_design": "model", "design": "pipeline", "namespace": "pipeline", "DIALECTS": "schemas",
    "write_design": "write",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
