"""The schema-per-service workbench: from a legacy monolithic database to a schema per service.

Stages, each a subpackage whose artifact feeds the next:
assess (introspect, profile, lint) -> decompose -> design -> plan -> migrate -> operate.
"""

__version__ = "0.1.0"
