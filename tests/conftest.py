"""Shared fixtures: a throwaway database per test on the real servers, and the sample database.

PostgreSQL (127.0.0.1:5432, user postgres) and MariaDB (127.0.0.1:3306, root) are started on every
development and CI machine. Locally a missing server skips the tests that need it; under CI=true it
fails them, so a CI run can never pass by skipping its integration tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("WORKBENCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MY_ADMIN_URL = os.environ.get("WORKBENCH_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable: {str(exc).splitlines()[0]}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: integration tests must not skip)")
    pytest.skip(message)


def _admin_engine(url: str, what: str) -> sa.Engine:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        _unavailable(what, exc)
    return engine


def _fresh_name() -> str:
    return f"wb_test_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    admin = _admin_engine(PG_ADMIN_URL, "PostgreSQL")
    name = _fresh_name()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """URL of a new, empty MariaDB database, dropped after the test."""
    admin = _admin_engine(MY_ADMIN_URL, "MariaDB")
    name = _fresh_name()
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield sa.make_url(MY_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database on each backend in turn (SQLite file, PostgreSQL, MariaDB)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    return request.getfixturevalue("pg_url" if request.param == "postgresql" else "mysql_url")


@pytest.fixture(scope="session")
def sample_path() -> Path:
    """The full sample database built by ``make`` (built here if a test run starts without it)."""
    path = ROOT / "sample_db" / "retail.sqlite"
    if not path.exists():
        from workbench.sample import build

        build(path)
    return path


@pytest.fixture(scope="session")
def small_sample_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample database at 2% volume: same schema, quick to load into servers."""
    from workbench.sample import build

    return build(tmp_path_factory.mktemp("sample") / "small.sqlite", scale=0.02)
