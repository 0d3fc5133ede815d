"""URL handling, password masking and the read-only guarantee of source engines."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from workbench import db
from workbench.errors import BadURLError, MissingDriverError, NotFoundError


def test_mask_url_hides_password() -> None:
    assert db.mask_url("postgresql://app:pa55word@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert "pa55word" not in db.mask_url(sa.make_url("mysql+pymysql://u:pa55word@h/d"))


def test_password_from_template_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGACY_DB_PASS", "t0psecret")
    url = db.resolve_url("postgresql://app:${LEGACY_DB_PASS}@db/x")
    assert url.password == "t0psecret"
    assert "t0psecret" not in db.mask_url(url)
    # once seen, the secret is scrubbed from any text, e.g. a driver's error message
    assert db.scrub("FATAL: password t0psecret rejected") == "FATAL: password *** rejected"


def test_password_from_environment_when_url_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(db.PASSWORD_ENV, "fr0mEnv")
    assert db.resolve_url("postgresql://app@db/x").password == "fr0mEnv"
    assert db.resolve_url("postgresql://app:given@db/x").password == "given"


def test_undefined_reference_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    with pytest.raises(BadURLError, match="NOPE_NOT_SET"):
        db.resolve_url("postgresql://app:${NOPE_NOT_SET}@db/x")


@pytest.mark.parametrize("url", ["not a url", "://nothing", "postgresql//missing-colon"])
def test_bad_url(url: str) -> None:
    with pytest.raises(BadURLError):
        db.source_engine(url)


def test_unknown_dialect_and_missing_driver() -> None:
    with pytest.raises(BadURLError, match="nosuchdb"):
        db.source_engine("nosuchdb://u:secretpw@h/d")
    with pytest.raises(MissingDriverError) as info:
        db.source_engine("mssql+pyodbc://u:secretpw@h/d")
    assert "secretpw" not in str(info.value)


def test_default_drivers_are_the_installed_ones() -> None:
    assert db.source_engine("postgresql://postgres@127.0.0.1/x").dialect.driver == "psycopg"
    assert db.source_engine("mysql://root@127.0.0.1/x").dialect.driver == "pymysql"


def test_sqlite_source_is_read_only(tmp_path: Path) -> None:
    path = tmp_path / "legacy.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO t VALUES (1)")
    before = path.read_bytes()
    engine = db.source_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar() == 1
        with pytest.raises(sa.exc.OperationalError, match="readonly"):
            conn.execute(sa.text("INSERT INTO t VALUES (2)"))
    engine.dispose()
    assert path.read_bytes() == before


def test_sqlite_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="nothere.sqlite"):
        db.source_engine(f"sqlite:///{tmp_path / 'nothere.sqlite'}")
    with pytest.raises(BadURLError, match="in-memory"):
        db.source_engine("sqlite://")


def test_postgres_source_refuses_writes(pg_url: str) -> None:
    with db.target_engine(pg_url).begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id int primary key)"))
    engine = db.source_engine(pg_url)
    with engine.connect() as conn:
        with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    engine.dispose()


def test_mariadb_source_refuses_writes(mysql_url: str) -> None:
    with db.target_engine(mysql_url).begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id int primary key)"))
    engine = db.source_engine(mysql_url)
    with engine.connect() as conn:
        with pytest.raises(sa.exc.DBAPIError, match="READ ONLY"):
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    engine.dispose()
