"""Read models on real servers: every read model of the fixtures' designs filled and verified, within and
across dialects; aggregates typed wide enough; a materialized view without rows read through its query;
a legacy object that cannot be read named with the legacy database, the rest migrated on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from realdb import legacy
from servers import fresh_database

from workbench.decompose.model import Decomposition, Service
from workbench.design import design
from workbench.design.model import Design
from workbench.errors import MigrationError
from workbench.introspect import introspect
from workbench.migrate import migrate
from workbench.migrate.target import with_prefix
from workbench.migrate.verify import verify
from workbench.schema import Schema

SPLITS = {
    "postgresql": {"catalog": ["category", "film", "film_category", "language", "inventory"],
                   "people": ["address", "city", "country", "customer"], "sales": ["payment", "rental"]},
    "mariadb": {"catalog": ["film", "film_text", "language", "inventory"],
                "people": ["address", "city", "country", "customer", "staff", "store"],
                "sales": ["payment", "rental", "rental_log"]},
}
"""Services cutting through the fixtures' views, so that each view becomes a read model."""


@pytest.fixture(scope="module", params=["postgresql", "mariadb"])
def source(request: pytest.FixtureRequest) -> Iterator[tuple[str, str, Schema, Design]]:
    backend = request.param
    with legacy(backend) as url:
        schema = introspect(url, progress=False)
        services = {name: Service(tables) for name, tables in SPLITS[backend].items()}
        yield backend, url, schema, design(schema, Decomposition(services=services), findings=[])


def _on(d: Design, target_backend: str, target: str) -> Design:
    """MariaDB databases are server-wide: the services' carry the target database's name as prefix."""
    return with_prefix(d, f"{sa.make_url(target).database}_") if target_backend == "mariadb" else d


@pytest.mark.parametrize("target_backend", ["postgresql", "mariadb"])
def test_every_read_model_fills_and_verifies(source: tuple[str, str, Schema, Design], target_backend: str) -> None:
    backend, url, schema, d = source
    sums = [c for p in d.projections for c in p.columns if c.name in ("total_sales", "spent")]
    assert sums and all(c.type.startswith("DECIMAL(38, 2)") for c in sums)  # before: DECIMAL(5, 2), overflowing
    assert {p.driving for p in d.projections} >= ({"sales_by_film_category", "customer_spend"}
                                                  if backend == "postgresql" else {"sales_by_store"})
    with fresh_database(target_backend) as target:
        d = _on(d, target_backend, target)
        result = migrate(url, target, d, alembic=False, progress=False)
        report = verify(url, target, d)
    read_models = [t for t in result.tables if t.role == "projection"]
    assert read_models and all(t.status == "copied" for t in read_models), result.failures()
    assert report.ok, report.problems()
    assert all(t.source_rows == t.target_rows for t in report.tables)


def test_an_unreadable_legacy_object_fails_its_table_names_the_legacy_database_and_the_rest_goes_on() -> None:
    with legacy("postgresql") as url:
        schema = introspect(url, progress=False)
        schema.table("customer_spend").populated = True  # introspected before a REFRESH ... WITH NO DATA
        services = {name: Service(tables) for name, tables in SPLITS["postgresql"].items()}
        d = design(schema, Decomposition(services=services), findings=[])
        with fresh_database("postgresql") as target, pytest.raises(MigrationError) as failure:
            migrate(url, target, d, alembic=False, progress=False)
    result = failure.value.result  # type: ignore[attr-defined]
    failed = [t for t in result.tables if t.status == "failed"]
    assert [t.table for t in failed] == ["rm_customer_spend"]  # before: the whole run stopped
    message = failed[0].message
    assert "customer_spend" in message and "has not been populated" in message
    assert sa.make_url(url).database in message and sa.make_url(target).database not in message
    assert sum(s.status == "complete" for s in result.services) == len(result.services) - 1  # the rest went on


def test_across_dialects_each_column_says_what_it_keeps_and_loses(source: tuple[str, str, Schema, Design]) -> None:
    from workbench.design.ddl import statements
    from workbench.design.schemas import DIALECTS

    backend, _, _, d = source
    notes = {n.split(":")[0]: n for svc in d.services.values() for t in svc.tables if t.role == "owned"
             for n in t.notes if n.startswith("column ")}
    if backend == "postgresql":
        assert notes["column rating"] == ("column rating: enum mpaa_rating kept on postgresql targets; elsewhere "
                                          "VARCHAR(5), values (G, PG, PG-13, R, NC-17) not enforced")
        assert "domain year kept on postgresql targets; elsewhere its base type integer, its rules (CHECK" in \
            notes["column release_year"]
        assert "elsewhere" in notes["column fulltext"] and "elsewhere" in notes["column title_key"]
        assert "sequence default" in notes["column payment_id"]
    else:
        assert "ON UPDATE clause" in notes["column last_update"] and "elsewhere dropped" in notes["column last_update"]
        assert "generated as concat" in notes["column full_name"]
        assert "elsewhere" in notes["column rating"] and "elsewhere" in notes["column special_features"]
    for dialect in DIALECTS:  # every target compiles, whatever it keeps
        for name in d.services:
            assert statements(d, name, dialect)
