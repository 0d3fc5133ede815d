"""Plan: migration waves (strangler fig), effort and risk per service from measurable drivers, a
risk register, and the prerequisites per wave, all from a design (``design.json``).

>>> from workbench.design.model import Design, Dependency, ServiceDesign
>>> d = Design(source="x", source_dialect="sqlite", services={n: ServiceDesign(n, n) for n in ("crm", "sales")},
...            dependencies=[Dependency("fk:orders(c)->customers", "foreign_key", "sales", ["crm"],
...                                     mechanism="reference_by_id")])
>>> [w.services for w in plan(d).waves]
[['sales'], ['crm']]
"""

from __future__ import annotations

from workbench.plan.effort import EffortWeights, efforts
from workbench.plan.frames import write_plan
from workbench.plan.model import Effort, Plan, Prerequisite, Risk, Wave, load_plan
from workbench.plan.pipeline import plan
from workbench.plan.risk import RiskSettings, register
from workbench.plan.waves import order_waves, service_graph

__all__ = ["Effort", "EffortWeights", "Plan", "Prerequisite", "Risk", "RiskSettings", "Wave", "efforts", "load_plan",
           "order_waves", "plan", "register", "service_graph", "write_plan"]
