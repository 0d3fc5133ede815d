"""Column types: schema.json text of every source dialect -> a portable type that compiles and runs everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, oracle, postgresql, sqlite
from sqlalchemy.schema import CreateTable

from workbench.design.sqltypes import to_sqlalchemy
from workbench.introspect import introspect
from workbench.sample import METADATA

TARGETS = {"postgresql": postgresql, "mysql": mysql, "sqlite": sqlite, "mssql": mssql, "oracle": oracle}


def _sample_types() -> list[sa.types.TypeEngine]:
    """Every distinct column type the sample database declares (its SQLAlchemy definition)."""
    seen: dict[str, sa.types.TypeEngine] = {}
    for table in METADATA.sorted_tables:
        for column in table.columns:
            seen.setdefault(repr(column.type), column.type)
    return [seen[k] for k in sorted(seen)]


def _probe(url: str) -> tuple[list[tuple[sa.types.TypeEngine, str]], str]:
    """Create one table with a column per sample type, introspect it, return (declared, catalog text) pairs."""
    types = _sample_types()
    metadata = sa.MetaData()
    sa.Table("type_probe", metadata, *(sa.Column(f"c{i}", t) for i, t in enumerate(types)))
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    metadata.create_all(engine)
    engine.dispose()
    schema = introspect(url)
    table = next(t for t in schema.tables if t.name == "type_probe")
    return [(types[i], table.column(f"c{i}").type) for i in range(len(types))], schema.dialect


def _same_meaning(declared: sa.types.TypeEngine, mapped: sa.types.TypeEngine) -> bool:
    """The mapped type carries what the declaration meant: class family and its parameters."""
    for family in (sa.Boolean, sa.Numeric, sa.DateTime, sa.Date, sa.Text, sa.String, sa.Integer):
        if isinstance(declared, family):
            if not isinstance(mapped, family):
                return False
            if family is sa.Numeric:
                return (mapped.precision, mapped.scale) == (declared.precision, declared.scale)
            if family is sa.String and not isinstance(declared, sa.Text):
                return not isinstance(mapped, sa.Text) and mapped.length == declared.length
            return True
    return False


def _check_source(url: str) -> tuple[list[str], str]:
    pairs, dialect = _probe(url)
    texts = []
    for declared, text in pairs:
        mapped = to_sqlalchemy(text, dialect)
        assert mapped.exact, f"{dialect} {text!r}: {mapped.note}"
        assert _same_meaning(declared, mapped.type), f"{dialect} {text!r} ({declared!r}) mapped to {mapped.type!r}"
        for name, module in TARGETS.items():
            assert str(mapped.type.compile(dialect=module.dialect())), (name, text)
        texts.append(text)
    return texts, dialect


def _create_on(url: str, texts: list[str], dialect: str) -> None:
    """The mapped types must also execute: a table with all of them is created on the real target."""
    metadata = sa.MetaData()
    table = sa.Table("mapped_types", metadata, *(sa.Column(f"c{i}", to_sqlalchemy(t, dialect).type)
                                                  for i, t in enumerate(texts)))
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(CreateTable(table))
        assert "mapped_types" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_sample_types_from_sqlite_map_and_run_everywhere(tmp_path: Path) -> None:
    texts, dialect = _check_source(f"sqlite:///{tmp_path / 'probe.sqlite'}")
    assert dialect == "sqlite" and len(texts) >= 8
    _create_on(f"sqlite:///{tmp_path / 'target.sqlite'}", texts, dialect)


@pytest.mark.postgres
def test_sample_types_from_postgresql_map_and_run(pg_url: str, tmp_path: Path) -> None:
    texts, dialect = _check_source(pg_url)
    assert any("TIMESTAMP" in t for t in texts)
    _create_on(pg_url, texts, dialect)
    _create_on(f"sqlite:///{tmp_path / 'target.sqlite'}", texts, dialect)


@pytest.mark.mariadb
def test_sample_types_from_mariadb_map_and_run(mysql_url: str, pg_url: str) -> None:
    texts, dialect = _check_source(mysql_url)
    assert any(t.startswith("TINYINT(1)") for t in texts)  # MariaDB's BOOLEAN must come back as Boolean
    _create_on(pg_url, texts, dialect)


@pytest.mark.parametrize(("dialect", "text", "family", "exact"), [
    ("postgresql", "TIMESTAMP WITH TIME ZONE", sa.DateTime, True),
    ("postgresql", "CHARACTER VARYING(40)", sa.String, True),
    ("postgresql", "DOUBLE PRECISION", sa.Double, True),
    ("postgresql", "JSONB", sa.JSON, True),
    ("postgresql", "UUID", sa.Uuid, True),
    ("postgresql", "BYTEA", sa.LargeBinary, True),
    ("postgresql", "INTEGER[]", sa.JSON, False),
    ("postgresql", "tsvector", sa.Text, False),
    ("mysql", "INTEGER UNSIGNED", sa.BigInteger, True),  # 4 billion does not fit a signed INTEGER
    ("mysql", "ENUM('new','paid')", sa.String, False),
    ("mysql", "LONGTEXT", sa.Text, True),
    ("mysql", "VARCHAR(40) CHARACTER SET latin1 COLLATE latin1_swedish_ci", sa.String, True),
    ("mssql", "NVARCHAR(MAX)", sa.Text, True),
    ("mssql", "DATETIME2", sa.DateTime, True),
    ("oracle", "NUMBER(10, 0)", sa.Numeric, True),
    ("sqlite", "", sa.Text, False),
])
def test_foreign_spellings(dialect: str, text: str, family: type, exact: bool) -> None:
    mapped = to_sqlalchemy(text, dialect)
    assert isinstance(mapped.type, family)
    assert mapped.exact is exact
    assert (mapped.note is None) is exact
    for module in TARGETS.values():
        assert str(mapped.type.compile(dialect=module.dialect()))


def test_timezone_and_lengths_survive() -> None:
    assert to_sqlalchemy("TIMESTAMP WITH TIME ZONE", "postgresql").type.timezone is True
    assert to_sqlalchemy("TIMESTAMP WITHOUT TIME ZONE", "postgresql").type.timezone is False
    assert to_sqlalchemy("ENUM('new','refunded')", "mysql").type.length == len("refunded")
    assert to_sqlalchemy("NUMERIC(14, 8)", "sqlite").type.scale == 8


@pytest.mark.parametrize(("dialect", "text", "on_mysql", "on_mssql"), [
    ("postgresql", "TIMESTAMP WITHOUT TIME ZONE", "DATETIME(6)", "DATETIME2(6)"),  # microseconds by default
    ("postgresql", "TIMESTAMP(3) WITHOUT TIME ZONE", "DATETIME(3)", "DATETIME2(3)"),
    ("postgresql", "TIME WITHOUT TIME ZONE", "TIME(6)", "TIME(6)"),
    ("sqlite", "DATETIME", "DATETIME(6)", "DATETIME2(6)"),  # text: whatever fraction it holds
    ("mysql", "DATETIME", "DATETIME", "DATETIME"),  # whole seconds by default
    ("mysql", "DATETIME(3)", "DATETIME(3)", "DATETIME2(3)"),
    ("mssql", "DATETIME", "DATETIME(3)", "DATETIME2(3)"),
    ("mssql", "DATETIME2", "DATETIME(6)", "DATETIME2(6)"),  # 100 ns: as close as MySQL gets
    ("mssql", "SMALLDATETIME", "DATETIME", "DATETIME"),
])
def test_fractional_seconds_survive_targets_that_default_to_whole_seconds(dialect: str, text: str, on_mysql: str,
                                                                          on_mssql: str) -> None:
    mapped = to_sqlalchemy(text, dialect).type
    assert str(mapped.compile(dialect=mysql.dialect())) == on_mysql
    assert str(mapped.compile(dialect=mssql.dialect())) == on_mssql
    on_oracle = str(mapped.compile(dialect=oracle.dialect()))
    if on_mysql.startswith("DATETIME"):  # Oracle's DATE holds whole seconds, its TIMESTAMP microseconds
        assert on_oracle == ("DATE" if on_mysql == "DATETIME" else "TIMESTAMP")


@pytest.mark.postgres
@pytest.mark.mariadb
def test_microseconds_from_postgresql_arrive_on_mariadb(pg_url: str, mysql_url: str) -> None:
    """A PostgreSQL timestamp keeps its microseconds through the mapped type on a real MariaDB."""
    source = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with source.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE stamps (id INTEGER PRIMARY KEY, at TIMESTAMP NOT NULL)")
        conn.exec_driver_sql("INSERT INTO stamps VALUES (1, '2024-05-06 07:08:09.123456')")
        expected = conn.exec_driver_sql("SELECT at FROM stamps").scalar_one()
    source.dispose()
    text = next(t for t in introspect(pg_url).tables if t.name == "stamps").column("at").type
    table = sa.Table("stamps", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("at", to_sqlalchemy(text, "postgresql").type))
    target = sa.create_engine(mysql_url, poolclass=sa.pool.NullPool)
    try:
        with target.begin() as conn:
            table.create(conn)
            conn.execute(table.insert(), [{"id": 1, "at": expected}])
            assert conn.execute(sa.select(table.c.at)).scalar_one() == expected
    finally:
        target.dispose()


def test_a_known_target_gets_its_own_type_not_a_variant_list() -> None:
    """The per-service metadata (DDL, Alembic baselines) names the target's type plainly."""
    assert repr(to_sqlalchemy("TIMESTAMP", "postgresql", "mysql").type) == "DATETIME(fsp=6)"
    assert repr(to_sqlalchemy("TIMESTAMP", "postgresql", "mariadb").type) == "DATETIME(fsp=6)"
    assert repr(to_sqlalchemy("TIMESTAMP", "postgresql", "postgresql").type) == "DateTime()"
    assert repr(to_sqlalchemy("DATETIME", "mysql", "mssql").type) == "DateTime()"  # whole seconds fit anywhere


def test_a_time_of_day_has_a_type_on_oracle_too() -> None:
    """Oracle has no TIME: the interval since midnight, with the source's fractional digits."""
    assert str(to_sqlalchemy("TIME WITHOUT TIME ZONE", "postgresql").type.compile(dialect=oracle.dialect())) == \
        "INTERVAL DAY(0) TO SECOND(6)"
    assert str(to_sqlalchemy("TIME", "mysql", "oracle").type.compile(dialect=oracle.dialect())) == \
        "INTERVAL DAY(0) TO SECOND(0)"
    assert str(to_sqlalchemy("TIME", "mysql", "mysql").type.compile(dialect=mysql.dialect())) == "TIME"
