"""Design: per-service schemas, a consistency mechanism for every cross-boundary dependency, and
the artifacts those mechanisms need (reference-by-id columns, replicas, CQRS read models, sagas,
outbox and idempotency tables, the events catalog), from an accepted decomposition.

>>> from workbench.schema import Column, ForeignKey, Schema, Table
>>> from workbench.decompose.model import Decomposition, Service
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

from workbench.design.ddl import apply, script, statements
from workbench.design.dependencies import catalog
from workbench.design.mechanisms import MECHANISMS, Rules
from workbench.design.model import Dependency, Design, ServiceDesign, load_design
from workbench.design.pipeline import design, namespace
from workbench.design.schemas import DIALECTS
from workbench.design.write import write_design

__all__ = ["DIALECTS", "MECHANISMS", "Dependency", "Design", "Rules", "ServiceDesign", "apply", "catalog", "design",
           "load_design", "namespace", "script", "statements", "write_design"]
