"""Shared fixtures: a throwaway database per test on the real servers (see ``servers``), and the
sample database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from servers import fresh_database

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    with fresh_database("postgresql") as url:
        yield url


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """URL of a new, empty MariaDB database, dropped after the test."""
    with fresh_database("mariadb") as url:
        yield url


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


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Passwords a test hands to the library are scrubbed from every later output of the process
    (as they should be): forget them after the test, or a password like ``given`` would blank that
    word from another test's report."""
    from workbench import db

    before = set(db._SECRETS)
    yield
    db._SECRETS.clear()
    db._SECRETS.update(before)


@pytest.fixture(scope="session")
def sync_design(small_sample_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The design of the 2% sample with a short simulated workload, written to a folder (the sync tests')."""
    from workbench.decompose import decompose
    from workbench.design import design, write_design
    from workbench.introspect import introspect
    from workbench.workload import ingest
    from workbench.workload.simlog import write_logs

    folder = tmp_path_factory.getbasetemp() / "sync_sample_design"
    if not (folder / "design.json").exists():
        schema = introspect(f"sqlite:///{small_sample_path}", progress=False)
        logs = write_logs(folder / "logs", statements=3_000, formats=["jsonl"])
        workload = ingest([str(logs["jsonl"])], "jsonl", schema=schema)
        write_design(design(schema, decompose(schema, workload, stability=0), workload), folder,
                     ["postgresql", "mysql", "sqlite"])
    return folder


# Hypothesis profiles for the property tests (tests/test_fuzz_*.py): `make test` runs a few examples,
# the same ones every run (derandomized, no example database: deterministic and fast); `make fuzz`
# (HYPOTHESIS_PROFILE=fuzz) runs many random ones and keeps what fails in .hypothesis/.
settings.register_profile("ci", max_examples=15, derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("fuzz", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
