"""Canonical values and row hashes: the same text on every backend, in SQL and in Python."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from workbench.errors import BadURLError
from workbench.migrate import canon
from workbench.migrate.canon import Kind
from workbench.migrate.checkpoint import decode_key, encode_key
from workbench.migrate.target import Target

# One table whose columns cover every kind computed in SQL; rows chosen to trip naive spellings:
# trailing zeros, a value to round, negative zero, midnight, microseconds, NULLs, non-ASCII text.
COLUMNS = [
    ("id", sa.Integer(), Kind("int")),
    ("flag", sa.Boolean(), Kind("bool")),
    ("amount", sa.Numeric(12, 2), Kind("decimal", 2)),
    ("rate", sa.Numeric(14, 8), Kind("decimal", 8)),
    ("day", sa.Date(), Kind("date")),
    ("at", sa.DateTime(), Kind("datetime")),
    ("code", sa.CHAR(3), Kind("char")),
    ("label", sa.String(40), Kind("text")),
    ("note", sa.Text(), Kind("text")),
]
ROWS = [
    (1, True, Decimal("19.90"), Decimal("0.75095758"), dt.date(2011, 1, 3), dt.datetime(2011, 1, 4, 15, 21, 53),
     "EU", "Zoë's café", "a\nb"),
    (2, False, Decimal("-0.00"), Decimal("1.5"), dt.date(1999, 12, 31), dt.datetime(2020, 2, 29, 0, 0, 0, 120000),
     "USD", "", None),
    (3, None, None, None, None, None, None, None, None),
]


def _load(url: str) -> sa.Engine:
    engine = sa.create_engine(url)
    canon.with_sqlite_functions(engine)
    table = sa.Table("kinds", sa.MetaData(), *(sa.Column(n, t) for n, t, _ in COLUMNS))
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(table.insert(), [dict(zip([c[0] for c in COLUMNS], r, strict=True)) for r in ROWS])
    return engine


def test_canon_spells_values_one_way_whatever_the_driver_returns() -> None:
    assert canon.canon(Kind("decimal", 2), 19.9) == canon.canon(Kind("decimal", 2), Decimal("19.900")) == "19.90"
    assert canon.canon(Kind("decimal", 2), -0.001) == "0.00"
    assert canon.canon(Kind("numeric"), Decimal("10.500")) == "10.5"
    assert canon.canon(Kind("datetime"), "2011-01-04 15:21:53") == canon.canon(
        Kind("datetime"), dt.datetime(2011, 1, 4, 15, 21, 53)) == "2011-01-04 15:21:53.000000"
    aware = dt.datetime(2011, 1, 4, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert canon.canon(Kind("datetime_tz"), aware) == "2011-01-04 15:00:00.000000"
    assert canon.canon(Kind("time"), dt.timedelta(hours=25, seconds=1)) == "25:00:01.000000"
    assert canon.canon(Kind("bool"), "f") == canon.canon(Kind("bool"), 0) == "0"
    assert canon.canon(Kind("char"), "EU ") == "EU"
    assert canon.canon(Kind("json"), '{"b": 1, "a": [1, 2]}') == canon.canon(Kind("json"), {"a": [1, 2], "b": 1})
    assert canon.canon(Kind("uuid"), "6F9619FF8B86D011B42D00C04FC964FF") == "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    assert canon.canon(Kind("int"), None) is None


def test_row_hash_tells_null_from_text_and_is_order_sensitive_within_a_row() -> None:
    kinds = [Kind("text"), Kind("text")]
    hashes = {
        canon.row_hash(kinds, r) for r in [("a", None), ("a", ""), (None, "a"), ("", "a"), ("a", "b"), ("b", "a")]
    }
    assert len(hashes) == 6
    assert all(0 <= h < 2 ** 60 for h in hashes)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_sql_canonical_texts_and_checksums_match_python(backend: str, request: pytest.FixtureRequest,
                                                        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}" if backend == "sqlite" else \
        request.getfixturevalue("pg_url" if backend == "postgresql" else "mysql_url")
    engine = _load(url)
    dialect = {"mariadb": "mysql"}.get(sa.make_url(url).get_backend_name(), sa.make_url(url).get_backend_name())
    table = sa.table("kinds", *(sa.column(n) for n, _, _ in COLUMNS))
    kinds = [k for _, _, k in COLUMNS]
    try:
        with engine.connect() as conn:
            exprs = [canon.canon_sql(dialect, k, table.c[n]) for n, _, k in COLUMNS]
            in_sql = [list(r) for r in conn.execute(sa.select(*exprs).order_by(table.c.id))]
            raw = [list(r) for r in conn.execute(sa.select(table).order_by(table.c.id))]
            hashed = canon.row_hash_sql(dialect, kinds, [table.c[n] for n, _, _ in COLUMNS])
            count, total = conn.execute(sa.select(sa.func.count(), canon.sum_sql(dialect, hashed))).one()
    finally:
        engine.dispose()
    in_python = [[canon.canon(k, v) for k, v in zip(kinds, r, strict=True)] for r in raw]
    assert in_sql == in_python
    assert in_python[0][:5] == ["1", "1", "19.90", "0.75095758", "2011-01-03"]
    micros = "000000" if dialect == "mysql" else "120000"  # MariaDB's DATETIME keeps whole seconds
    assert in_python[1][2] == "0.00" and in_python[1][5] == f"2020-02-29 00:00:00.{micros}"
    expected = sum(canon.text_hash(canon.row_text(t)) for t in in_python)
    assert (count, int(total)) == (len(ROWS), expected)


def test_kinds_follow_the_designs_generic_types() -> None:
    assert canon.kind_of(sa.Float()) == Kind("float")
    assert canon.kind_of(sa.Numeric()) == Kind("numeric")
    assert canon.kind_of(sa.DateTime(timezone=True)) == Kind("datetime_tz")
    assert canon.supports("postgresql", [Kind("int"), Kind("json")]) is False
    assert canon.supports("mysql", [Kind("uuid")]) is False
    assert canon.supports("sqlite", [Kind("json")] * 10) is True


def test_checkpoint_keys_round_trip_with_their_types() -> None:
    key = (7, "x", Decimal("1.50"), dt.date(2011, 1, 3), dt.datetime(2011, 1, 3, 4, 5, 6, 7), b"\x00\xff", None)
    assert decode_key(encode_key(key)) == key


def test_targets_parse_servers_and_sqlite_folders(tmp_path: Path) -> None:
    assert Target.parse(str(tmp_path)).folder == tmp_path
    assert Target.parse(f"sqlite:///{tmp_path}").dialect == "sqlite"
    assert Target.parse("mariadb+pymysql://root@h/x").dialect == "mysql"
    assert Target.parse("postgresql://u:secret@h/x").display == "postgresql://u:***@h/x"
    with pytest.raises(BadURLError, match="folder"):
        Target.parse(f"sqlite:///{tmp_path / 'one.sqlite'}")
    with pytest.raises(BadURLError, match="oracle"):
        Target.parse("oracle://u@h/x")
