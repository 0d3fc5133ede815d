"""Index and constraint names on real targets: unique per namespace and within each dialect's limit.

MariaDB scopes index names per table, so a legacy MariaDB schema repeats ``idx_fk_address_id`` on
``customer``, ``staff`` and ``store``; once those tables share a service, PostgreSQL and SQLite
(names per schema) refused the design's DDL (``index idx_fk_address_id already exists``), and so
did the design stage's own SQLite check. Long names broke the other way: PostgreSQL silently cuts
identifiers at 63 bytes (two long index names became one), MariaDB refuses its own
``<table>_ibfk_1`` for an unnamed foreign key of a long-named table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from realdb import legacy
from servers import fresh_database

from workbench.decompose.model import Decomposition, Service
from workbench.design import apply, design, statements
from workbench.design.model import Design
from workbench.design.stage import checks
from workbench.design.write import write_design
from workbench.introspect import introspect
from workbench.migrate.target import with_prefix
from workbench.schema import Schema

PEOPLE = ["address", "city", "country", "customer", "staff", "store"]


@pytest.fixture(scope="module")
def mariadb_legacy() -> Iterator[str]:
    with legacy("mariadb") as url:
        yield url


@pytest.fixture(scope="module")
def people(mariadb_legacy: str) -> tuple[Schema, Design]:
    """The MariaDB fixture designed with the tables repeating index names in one service."""
    schema = introspect(mariadb_legacy, progress=False)
    rest = sorted(t.key for t in schema.base_tables if t.key not in PEOPLE)
    return schema, design(schema, Decomposition(services={"people": Service(PEOPLE), "rest": Service(rest)}),
                          findings=[])


@pytest.fixture(scope="module")
def people_design(people: tuple[Schema, Design]) -> Design:
    return people[1]


def _index_names(engine: sa.Engine, schema: str | None, tables: list[str]) -> list[str]:
    inspector = sa.inspect(engine)
    return [ix["name"] for t in tables for ix in inspector.get_indexes(t, schema=schema)]


def test_repeated_mariadb_index_names_pass_the_design_check(people: tuple[Schema, Design], tmp_path: Path) -> None:
    schema, d = people
    folder = tmp_path / "design"
    write_design(d, folder, ["postgresql", "mysql", "sqlite"])
    result = checks(d, schema, folder)  # before: "index idx_fk_address_id already exists"
    assert all(result.values()), result


def test_repeated_index_names_are_unique_on_every_target(people_design: Design, tmp_path: Path) -> None:
    apply(people_design, str(tmp_path / "sqlite"))
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'sqlite' / 'people.sqlite'}")
    names = _index_names(engine, None, PEOPLE)
    engine.dispose()
    assert len(names) == len(set(names)) and "idx_fk_address_id" in names and "staff_idx_fk_address_id" in names
    with fresh_database("postgresql") as pg:
        apply(people_design, pg)
        engine = sa.create_engine(pg)
        names = _index_names(engine, "people", PEOPLE)
        engine.dispose()
        assert len(names) == len(set(names)) and "store_idx_fk_address_id" in names
    with fresh_database("mariadb") as my:
        prefixed = with_prefix(people_design, f"{sa.make_url(my).database}_")
        apply(prefixed, my)
        engine = sa.create_engine(my)
        names = _index_names(engine, prefixed.service("people").namespace, PEOPLE)
        engine.dispose()
        assert sorted(n for n in names if "address_id" in n) == [
            "idx_fk_address_id", "staff_idx_fk_address_id", "store_idx_fk_address_id"]


def test_the_same_design_gives_the_same_names(people_design: Design) -> None:
    assert statements(people_design, "people", "postgresql") == statements(people_design, "people", "postgresql")


def _long_names_db(path: Path) -> str:
    """A SQLite legacy database with names at and past every server's limit."""
    long_table = "t" * 54 + "_child"  # 60 characters: fits every server, its "_ibfk_1" does not
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        con.execute(f"CREATE TABLE {long_table} (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), "
                    "a INTEGER, b INTEGER)")
        stem = "ix_" + "very_long_index_name_" * 3
        con.execute(f"CREATE INDEX {stem}on_a ON {long_table} (a)")
        con.execute(f"CREATE INDEX {stem}on_b ON {long_table} (b)")
    return f"sqlite:///{path}"


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_long_names_fit_each_server(backend: str, tmp_path: Path) -> None:
    source = _long_names_db(tmp_path / "legacy.sqlite")
    schema = introspect(source, progress=False)
    d = design(schema, Decomposition(services={"one": Service([t.key for t in schema.base_tables])}), findings=[])
    with fresh_database(backend) as url:
        if backend == "mariadb":
            d = with_prefix(d, f"{sa.make_url(url).database}_")
        apply(d, url)  # before: PostgreSQL cut both index names to one; MariaDB refused <table>_ibfk_1
        engine = sa.create_engine(url)
        inspector = sa.inspect(engine)
        table = next(t.key for t in schema.base_tables if t.key != "parent")
        names = [ix["name"] for ix in inspector.get_indexes(table, schema=d.service("one").namespace)]
        fks = inspector.get_foreign_keys(table, schema=d.service("one").namespace)
        engine.dispose()
        limit = 63 if backend == "postgresql" else 64
        assert len({n for n in names if n.startswith("ix_very")}) == 2
        assert all(len(n.encode()) <= limit for n in names) and len(fks) == 1 and len(fks[0]["name"]) <= limit
