"""Issue 12's "Done when": a full ``workbench report`` on a PostgreSQL database with a partitioned table, an
enum, a domain, a full-text column, triggers and materialized views (one never populated), migrated into
PostgreSQL; and on a MariaDB database with ENUM/SET, ON UPDATE timestamps, triggers and an index name
repeated on the tables of one service, migrated into MariaDB. Every stage renders ok, every owned table
holds exactly the legacy rows, and an ordinary insert (and update) into each migrated table works as it
does on the legacy database: same columns filled, same ids drawn, same triggers fired.

One render per backend (module-scoped): each takes a minute or two on a loaded machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from realdb import INSERTS, legacy
from servers import fresh_database

from workbench import cli, report
from workbench.design.model import Design, load_design

pytestmark = pytest.mark.slow

TRIGGERED = {"postgresql": {}, "mariadb": {"film": ("film_text", "film_id"), "rental": ("rental_log", "rental_id")}}
"""Table -> (table its trigger writes, column holding the new row's id): a side effect to see on both sides."""


@dataclass
class Rendered:
    backend: str
    source: str
    target: str
    out: Path
    code: int
    design: Design


@pytest.fixture(scope="module", params=["postgresql", "mariadb"])
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    backend = request.param
    out = tmp_path_factory.mktemp(f"report_{backend}")
    with legacy(backend) as source, fresh_database(backend) as target:
        argv = ["report", "--db", source, "--out", str(out), "--client", "Issue 12", "-p", f"target_url={target}"]
        if backend == "mariadb":  # its services' databases carry the target's name; idx_fk_address_id x3 in one
            argv += ["-p", f"prefix={sa.make_url(target).database}_",
                     "-p", "options={together: [[customer, staff, store]]}"]
        code = cli.main(argv)
        design = load_design(out / "design") if (out / "design" / "design.json").exists() else Design("", backend)
        yield Rendered(backend, source, target, out, code, design)


def test_every_stage_renders_ok(rendered: Rendered) -> None:
    statuses = {r["stage"]: r["status"] for r in json.loads((rendered.out / "report.json").read_text())["stages"]}
    assert statuses == dict.fromkeys(report.available_stages(), "ok"), statuses
    assert rendered.code == 0
    for stage in report.available_stages():
        if stage != "assess":
            checks = json.loads((rendered.out / "checks" / f"{stage}.json").read_text())
            assert all(checks["checks"].values()), (stage, checks)


def test_every_owned_table_holds_exactly_the_legacy_rows(rendered: Rendered) -> None:
    verification = json.loads((rendered.out / "verify.json").read_text())
    migration = json.loads((rendered.out / "migration.json").read_text())
    assert verification["ok"] and all(s["status"] == "complete" for s in migration["services"])
    owned = {t["table"]: t for t in verification["tables"] if t["role"] == "owned"}
    assert set(owned) == set(INSERTS[rendered.backend])
    engine = sa.create_engine(rendered.source, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        for name, check in owned.items():
            legacy_rows = conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
            assert check["status"] == "equal" and check["source_rows"] == check["target_rows"] == legacy_rows, name
    engine.dispose()


def _where(r: Rendered, table: str) -> str:
    owner = next(svc for svc in r.design.services.values() if table in svc.owned)
    return owner.namespace


def _try(url: str, backend: str, qualify: str, table: str) -> dict[str, Any]:
    """Insert the ordinary row into ``table``, then update one row's e-mail; report what happened; roll back."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    prep = engine.dialect.identifier_preparer
    name = f"{prep.quote_schema(qualify)}.{prep.quote(table)}" if qualify else prep.quote(table)
    seen: dict[str, Any] = {}
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            row = conn.exec_driver_sql(INSERTS[backend][table].format(t=name) + " RETURNING *").mappings().one()
            seen["filled"] = sorted(k for k, v in row.items() if v is not None)
            key = next(iter(row))  # every fixture table's first column is its key (or its key's first column)
            highest = conn.exec_driver_sql(f"SELECT max({prep.quote(key)}) FROM {name} "
                                           f"WHERE {prep.quote(key)} <> {int(row[key])}").scalar_one()
            seen["new id above the copied ones"] = highest is None or row[key] > highest  # gaps may differ
            if table in TRIGGERED[backend]:
                other, column = TRIGGERED[backend][table]
                qualified = f"{prep.quote_schema(qualify)}.{prep.quote(other)}" if qualify else prep.quote(other)
                seen["triggered"] = conn.exec_driver_sql(
                    f"SELECT count(*) FROM {qualified} WHERE {column} = {int(row[key])}").scalar_one()
            if table == "customer":
                conn.exec_driver_sql(f"UPDATE {name} SET last_update = '2000-01-01 00:00:00' WHERE customer_id = 2")
                conn.exec_driver_sql(f"UPDATE {name} SET email = 'changed@example.com' WHERE customer_id = 2")
                stamp = conn.exec_driver_sql(f"SELECT last_update FROM {name} WHERE customer_id = 2").scalar_one()
                seen["touched"] = stamp.year > 2000  # ON UPDATE (MariaDB) or the last_updated trigger (PostgreSQL)
        finally:
            tx.rollback()
    engine.dispose()
    return seen


def test_an_insert_into_each_migrated_table_works_as_on_the_legacy_database(rendered: Rendered) -> None:
    for table in INSERTS[rendered.backend]:
        before = _try(rendered.source, rendered.backend, "", table)
        after = _try(rendered.target, rendered.backend, _where(rendered, table), table)
        assert after == before, table


def test_what_the_legacy_database_had_is_kept(rendered: Rendered) -> None:
    engine = sa.create_engine(rendered.target, poolclass=sa.pool.NullPool)
    inspector = sa.inspect(engine)
    film = {c["name"]: c for c in inspector.get_columns("film", schema=_where(rendered, "film"))}
    if rendered.backend == "postgresql":
        ns = _where(rendered, "film")
        rating, year = film["rating"]["type"], film["release_year"]["type"]
        assert (type(rating).__name__, rating.name, rating.schema) == ("ENUM", "mpaa_rating", ns)
        assert film["rating"]["default"] == f"'G'::{ns}.mpaa_rating"
        assert (type(year).__name__, year.name, year.schema) == ("DOMAIN", "year", ns)
        assert type(film["fulltext"]["type"]).__name__ == "TSVECTOR"
        assert type(film["special_features"]["type"]).__name__ == "ARRAY"
        assert film["title_key"]["computed"]["persisted"] and film["film_id"]["identity"]["always"] is False
        payment = {c["name"]: c for c in inspector.get_columns("payment", schema=_where(rendered, "payment"))}
        assert "nextval(" in payment["payment_id"]["default"]
        indexes = {i["name"]: i for i in inspector.get_indexes("film", schema=ns)}
        assert indexes["film_fulltext_idx"]["dialect_options"]["postgresql_using"] == "gist"
    else:
        rating, features = film["rating"]["type"], film["special_features"]["type"]
        assert (type(rating).__name__, list(rating.enums)) == ("ENUM", ["G", "PG", "PG-13", "R", "NC-17"])
        assert type(features).__name__ == "SET" and "Deleted Scenes" in features.values
        assert film["last_update"]["default"] == "current_timestamp() ON UPDATE current_timestamp()"
        customer = {c["name"]: c for c in inspector.get_columns("customer", schema=_where(rendered, "customer"))}
        assert customer["full_name"]["computed"]["persisted"] is False
        people = _where(rendered, "customer")
        assert _where(rendered, "staff") == _where(rendered, "store") == people
        names = [i["name"] for t in ("customer", "staff", "store") for i in inspector.get_indexes(t, schema=people)]
        assert len(names) == len(set(names)) and "idx_fk_address_id" in names
    engine.dispose()


def test_the_logic_is_assessed_assigned_and_recreated(rendered: Rendered) -> None:
    triggers = {"postgresql": ["customer.last_updated", "film.film_fulltext_trigger", "film.last_updated"],
                "mariadb": ["film.del_film", "film.ins_film", "film.upd_film", "rental.rental_logged"],
                }[rendered.backend]
    assess_page = (rendered.out / "01_assess.html").read_text()
    assert all(t in assess_page for t in triggers) and "partitioned table" in assess_page
    items = {i.name: i for i in rendered.design.logic}
    assert {n for n, i in items.items() if i.kind == "trigger"} == set(triggers)
    assert all(i.services and i.action for i in items.values())
    assert all(i.recreate_in == i.services for i in items.values() if i.kind == "trigger")
    if rendered.backend == "postgresql":
        assert items["customer_spend"].kind == "materialized view" and "WITH NO DATA" in items["customer_spend"].action
    design_page = (rendered.out / "03_design.html").read_text()
    assert "Work to do: logic inside the legacy database" in design_page and triggers[0] in design_page
