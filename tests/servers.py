"""The integration servers: reach them, and hand out throwaway databases on them.

PostgreSQL (127.0.0.1:5432, user postgres) and MariaDB (127.0.0.1:3306, root) are started on every
development and CI machine. Locally a missing server skips the tests that need it; under CI=true it
fails them, so a CI run can never pass by skipping its integration tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest
import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("WORKBENCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MY_ADMIN_URL = os.environ.get("WORKBENCH_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
ADMIN = {"postgresql": (PG_ADMIN_URL, "PostgreSQL"), "mariadb": (MY_ADMIN_URL, "MariaDB")}


def missing(message: str) -> NoReturn:
    """Skip the test locally; fail it under CI=true, where nothing it needs may be missing."""
    if IN_CI:
        pytest.fail(f"{message} (CI=true: integration tests must not skip)")
    pytest.skip(message)


def unavailable(what: str, exc: Exception) -> NoReturn:
    missing(f"{what} is not reachable: {str(exc).splitlines()[0]}")


def admin_engine(backend: str) -> sa.Engine:
    """An autocommit engine on ``backend``'s admin database; skips (fails under CI) when unreachable."""
    url, what = ADMIN[backend]
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        unavailable(what, exc)
    return engine


def fresh_name() -> str:
    return f"wb_test_{uuid.uuid4().hex[:10]}"


@contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    """The URL of a new, empty database on ``backend`` (``postgresql`` or ``mariadb``), dropped on exit.

    On MariaDB, every database whose name starts with this one's goes too: a migration's services
    get databases of their own, named with the test database as prefix.
    """
    admin = admin_engine(backend)
    name = fresh_name()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"' if backend == "postgresql"
                             else f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield sa.make_url(ADMIN[backend][0]).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if backend == "postgresql":
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                found = conn.execute(sa.text("SELECT schema_name FROM information_schema.schemata "
                                             "WHERE schema_name LIKE :p"), {"p": f"{name}%"}).scalars().all()
                for db in found:
                    conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{db}`"))
        admin.dispose()
