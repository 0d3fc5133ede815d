"""What real databases hold beyond tables, introspected read-only: partitions, materialized views,
enums and domains, generated and identity columns, ON UPDATE defaults, routines and triggers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from realdb import legacy

from workbench import serde
from workbench.introspect import introspect
from workbench.schema import Computed, Schema


@pytest.fixture(scope="module")
def pg() -> Iterator[Schema]:
    with legacy("postgresql") as url:
        yield introspect(url, progress=False)


@pytest.fixture(scope="module")
def my() -> Iterator[Schema]:
    with legacy("mariadb") as url:
        yield introspect(url, progress=False)


def test_a_postgresql_partitioned_table_is_one_table(pg: Schema) -> None:
    keys = {t.key for t in pg.tables}
    assert "payment" in keys and not any(k.startswith("payment_p") for k in keys)  # before: four tables
    payment = pg.table("payment")
    assert payment.partitioning == "RANGE (payment_date)"
    assert [p.name for p in payment.partitions] == ["payment_p2022_01", "payment_p2022_02", "payment_p2022_03"]
    assert sum(p.rows or 0 for p in payment.partitions) == payment.row_count == 120
    assert (payment.size_bytes or 0) > 0
    assert payment.column("payment_id").default == "nextval('payment_payment_id_seq'::regclass)"
    assert {fk.referred_table for t in pg.tables for fk in t.foreign_keys} <= keys


def test_postgresql_types_columns_and_materialized_views(pg: Schema) -> None:
    assert [(t.name, t.kind, t.values, t.base) for t in pg.types] == [
        ("mpaa_rating", "enum", ["G", "PG", "PG-13", "R", "NC-17"], None), ("year", "domain", [], "integer")]
    assert pg.types[1].checks == [["year_check", "CHECK (VALUE >= 1901 AND VALUE <= 2155)"]]
    film = pg.table("film")
    assert film.column("film_id").identity == "by default"
    assert film.column("title_key").computed == Computed("upper((title)::text)", True)
    assert film.column("title_key").default is None
    assert [(v.name, v.materialized, v.populated) for v in pg.views] == [
        ("customer_list", False, None), ("customer_spend", True, False), ("rental_by_category", True, True),
        ("sales_by_film_category", False, None)]


def test_postgresql_routines_and_triggers(pg: Schema) -> None:
    assert [(r.name, r.kind, r.returns, r.tables) for r in pg.routines] == [
        ("close_rental", "procedure", None, ["rental"]), ("inventory_in_stock", "function", "boolean", ["rental"]),
        ("last_updated", "function", "trigger", [])]
    assert all(r.definition.startswith("CREATE OR REPLACE") for r in pg.routines)
    assert [(t.key, t.timing, t.events, t.function, t.tables) for t in pg.triggers] == [
        ("customer.last_updated", "BEFORE", ["UPDATE"], "last_updated", ["customer"]),
        ("film.film_fulltext_trigger", "BEFORE", ["INSERT", "UPDATE"], "pg_catalog.tsvector_update_trigger", ["film"]),
        ("film.last_updated", "BEFORE", ["UPDATE"], "last_updated", ["film"])]


def test_mariadb_partitions_generated_identity_routines_triggers(my: Schema) -> None:
    log = my.table("rental_log")
    assert log.partitioning == "RANGE (year(`logged_at`))"
    assert [(p.name, p.bound) for p in log.partitions] == [
        ("p2021", "VALUES LESS THAN (2022)"), ("p2022", "VALUES LESS THAN (2023)"),
        ("pmax", "VALUES LESS THAN MAXVALUE")]
    assert log.column("log_id").identity == "auto_increment" and log.primary_key == ["log_id", "logged_at"]
    customer = my.table("customer")
    assert customer.column("full_name").computed == Computed("concat(`first_name`,' ',`last_name`)", False)
    assert customer.column("last_update").default == "current_timestamp() ON UPDATE current_timestamp()"
    assert my.table("film").column("rating").type == "ENUM('G','PG','PG-13','R','NC-17')"
    assert [(r.name, r.kind, r.tables) for r in my.routines] == [
        ("close_rental", "procedure", ["rental"]), ("inventory_in_stock", "function", ["rental"])]
    assert my.routines[1].definition.startswith("CREATE FUNCTION `inventory_in_stock`(`p_inventory_id` int(11)) "
                                                "RETURNS tinyint(1)")
    assert [(t.key, t.timing, t.events, t.tables) for t in my.triggers] == [
        ("film.del_film", "AFTER", ["DELETE"], ["film", "film_text"]),
        ("film.ins_film", "AFTER", ["INSERT"], ["film", "film_text"]),
        ("film.upd_film", "AFTER", ["UPDATE"], ["film", "film_text"]),
        ("rental.rental_logged", "AFTER", ["INSERT"], ["rental", "rental_log"])]


def test_sqlite_triggers_and_generated_columns(tmp_path: Path) -> None:
    path = tmp_path / "music.sqlite"
    with sqlite3.connect(path) as con:
        con.executescript("""
            CREATE TABLE album (id INTEGER PRIMARY KEY, title TEXT, slug TEXT GENERATED ALWAYS AS (lower(title)));
            CREATE TABLE album_log (album_id INTEGER, at TEXT);
            CREATE TRIGGER album_added AFTER INSERT ON album BEGIN
                INSERT INTO album_log VALUES (new.id, datetime('now'));
            END;
        """)
    s = introspect(f"sqlite:///{path}", progress=False)
    assert s.table("album").column("slug").computed == Computed("LOWER(title)", False)
    assert [(t.key, t.timing, t.events, t.tables) for t in s.triggers] == [
        ("album.album_added", "AFTER", ["INSERT"], ["album", "album_log"])]


def test_the_new_facts_round_trip_through_schema_json(pg: Schema, my: Schema, tmp_path: Path) -> None:
    for s in (pg, my):
        assert serde.load(Schema, serde.save(s, tmp_path / "schema.json")) == s


def test_the_assessment_lists_logic_and_storage(pg: Schema, my: Schema) -> None:
    from workbench.assess.logic import objects_frame, partitions_frame
    from workbench.assess.narrative import narrative

    frame = objects_frame(pg)
    kinds = dict(zip(frame["name"], frame["kind"], strict=True))
    assert kinds["film.film_fulltext_trigger"] == "trigger" and kinds["customer_spend"] == "materialized view"
    assert kinds["mpaa_rating"] == "enum" and kinds["year"] == "domain" and kinds["payment"] == "partitioned table"
    assert kinds["film.title_key"] == "generated column" and kinds["payment.payment_id"] == "sequence default"
    spend = frame[frame["name"] == "customer_spend"].iloc[0]
    assert spend["tables"] == "address, city, country, customer, payment" and "not populated" in spend["detail"]
    assert list(partitions_frame(pg)["partition"]) == ["payment_p2022_01", "payment_p2022_02", "payment_p2022_03"]
    text = narrative(pg)
    assert "3 triggers, 2 functions, 1 procedure and 2 materialized views" in text
    assert "1 partitioned table (payment) moves as one table" in text

    frame = objects_frame(my)
    kinds = dict(zip(frame["name"], frame["kind"], strict=True))
    assert kinds["film.rating"] == kinds["film.special_features"] == "enum or set column"
    assert kinds["customer.last_update"] == "on update default" and kinds["rental_log.log_id"] == "identity column"
    assert kinds["rental.rental_logged"] == "trigger" and kinds["rental_log"] == "partitioned table"
