"""The sample workload: valid SQL on every backend, the same truth in every log format, and
what the issue asks of it (multi-domain writes, cross-domain reads, wide reports, shared audit)."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from workbench import serde
from workbench.cli import main
from workbench.db import target_engine
from workbench.sample.tables import DOMAINS, METADATA, VIEWS
from workbench.schema import Schema, Table
from workbench.workload import Workload, frames, ingest
from workbench.workload.simlog import FILES, render, write_logs
from workbench.workload.simulate import OPERATIONS, Population, simulate

STATEMENTS = 4000


def sample_schema(dialect: str = "postgresql", default_schema: str = "public", drop: tuple[str, ...] = ()) -> Schema:
    tables = [Table(name) for name in METADATA.tables if name not in drop] + [Table(v, kind="view") for v in VIEWS]
    return Schema(dialect=dialect, database="retail", default_schema=default_schema, tables=tables)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_logs(tmp_path_factory.mktemp("sim"), statements=STATEMENTS, seed=11)


@pytest.fixture(scope="module")
def workloads(logs: dict[str, Path]) -> dict[str, Workload]:
    schema = sample_schema()
    return {fmt: ingest([str(logs[fmt])], fmt, schema=schema) for fmt in FILES}


def one_of_each() -> list[tuple[str, tuple]]:  # type: ignore[type-arg]
    """Every statement every operation can send, with values (each operation built a few times)."""
    rng, pop = random.Random(5), Population()
    seen: dict[str, tuple] = {}  # type: ignore[type-arg]
    for op in OPERATIONS:
        for _ in range(6):
            for sql, params in op.build(rng, pop, 3600.0):
                seen.setdefault(sql, params)
    return sorted(seen.items())


def create_sample_schema(engine: sa.Engine) -> None:
    METADATA.create_all(engine)
    with engine.begin() as conn:
        for name, body in VIEWS.items():
            conn.exec_driver_sql(f"CREATE VIEW {conn.dialect.identifier_preparer.quote(name)} AS {body}")


def run_all(engine: sa.Engine, style: str, setup: list[str]) -> list[str]:
    """Execute every simulated statement in one rolled-back transaction; return the failures."""
    failures = []
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for sql in setup:
            cur.execute(sql)
        for template, params in one_of_each():
            text = render(template, params, style)
            if engine.dialect.name == "sqlite":
                text = text.replace(" FOR UPDATE", "")  # SQLite has no row locks
            try:
                if engine.dialect.name == "postgresql":
                    cur.execute("SAVEPOINT s")
                cur.execute(text)
                if engine.dialect.name == "postgresql":
                    cur.execute("RELEASE SAVEPOINT s")
            except Exception as exc:  # noqa: BLE001 - collect every failure with its message
                failures.append(f"{text[:120]}: {str(exc).splitlines()[0]}")
                if engine.dialect.name == "postgresql":
                    cur.execute("ROLLBACK TO SAVEPOINT s")
        raw.rollback()
    finally:
        raw.close()
    return failures


def test_every_statement_runs_on_sqlite(tmp_path: Path) -> None:
    engine = target_engine(f"sqlite:///{tmp_path / 'schema.sqlite'}", poolclass=sa.pool.NullPool)
    create_sample_schema(engine)
    assert run_all(engine, "postgres", []) == []
    assert len(one_of_each()) > 60


@pytest.mark.postgres
def test_every_statement_runs_on_postgresql(pg_url: str) -> None:
    engine = target_engine(pg_url, poolclass=sa.pool.NullPool)
    create_sample_schema(engine)
    # the schema is empty: foreign keys are switched off for this session so inserts can run
    assert run_all(engine, "postgres", ["SET session_replication_role = replica"]) == []


@pytest.mark.mariadb
def test_every_statement_runs_on_mariadb(mysql_url: str) -> None:
    engine = target_engine(mysql_url, poolclass=sa.pool.NullPool)
    create_sample_schema(engine)
    assert run_all(engine, "mysql", ["SET FOREIGN_KEY_CHECKS = 0", "START TRANSACTION"]) == []


def test_deterministic(tmp_path: Path) -> None:
    def digest(folder: Path, seed: int) -> dict[str, str]:
        paths = write_logs(folder, statements=600, seed=seed)
        return {f: hashlib.sha256(p.read_bytes()).hexdigest() for f, p in paths.items()}

    first = digest(tmp_path / "a", 3)
    assert first == digest(tmp_path / "b", 3)
    other = digest(tmp_path / "c", 4)
    assert all(first[f] != other[f] for f in FILES)


def test_simulator_stops_on_a_transaction_boundary() -> None:
    stream = list(simulate(500, seed=2, sessions=8))
    assert len(stream) >= 500
    open_txn = {}
    for s in stream:
        if s.sql == "BEGIN":
            open_txn[s.session] = True
        elif s.sql in ("COMMIT", "ROLLBACK"):
            open_txn.pop(s.session)
    assert open_txn == {}
    assert len({s.session for s in stream}) == 8


def test_every_format_counts_the_same_statements(logs: dict[str, Path], workloads: dict[str, Workload]) -> None:
    summary = json.loads(logs["summary"].read_text())
    for fmt in ("pg_csvlog", "pg_stat_statements", "mysql_digest", "jsonl", "csv"):
        assert workloads[fmt].statements == summary["statements"], fmt
        assert not workloads[fmt].issues or fmt == "mysql_digest", (fmt, workloads[fmt].issues)
    # the general log also holds what the MySQL client adds: SET NAMES, SET AUTOCOMMIT, pool ROLLBACKs
    general = workloads["mysql_general_log"]
    assert general.statements > summary["statements"]
    assert not general.issues
    # the only digest issue is the service desk's wide query, longer than 1,024 bytes
    assert [(i.kind, i.count) for i in workloads["mysql_digest"].issues] == [
        ("truncated", summary["operations"]["customer_360"])
    ]


def test_table_access_agrees_across_formats(workloads: dict[str, Workload]) -> None:
    reference = frames.table_access(workloads["pg_csvlog"]).set_index("table")
    for fmt in ("pg_stat_statements", "jsonl", "csv", "mysql_general_log"):
        other = frames.table_access(workloads[fmt]).set_index("table")
        assert (other["writes"] == reference["writes"]).all(), fmt
        assert sorted(other.index) == sorted(reference.index), fmt
    # digest truncation hides the tail of the wide query: fewer reads there, never more
    digest = frames.table_access(workloads["mysql_digest"]).set_index("table")
    assert (digest["reads"] <= reference.loc[digest.index, "reads"]).all()
    assert (digest["writes"] == reference.loc[digest.index, "writes"]).all()


def test_transactions_are_rebuilt_from_every_transactional_log(
    logs: dict[str, Path], workloads: dict[str, Workload]
) -> None:
    summary = json.loads(logs["summary"].read_text())

    def shapes(w: Workload) -> Counter:  # type: ignore[type-arg]
        return Counter({(tuple(t.tables_read), tuple(t.tables_written)): t.count for t in w.transactions})

    # csvlog (virtual transaction ids, simple and extended protocol) and the generic formats agree exactly
    assert shapes(workloads["pg_csvlog"]) == shapes(workloads["jsonl"]) == shapes(workloads["csv"])
    for fmt in ("pg_csvlog", "mysql_general_log", "jsonl"):
        checkout = sum(t.count for t in workloads[fmt].transactions
                       if {"orders", "order_lines", "payments"} <= set(t.tables_written))  # fmt: skip
        assert checkout == summary["operations"]["checkout"], fmt
        ships = sum(t.count for t in workloads[fmt].transactions if "shipments" in t.tables_written)
        assert ships == summary["operations"]["ship"], fmt
    assert workloads["pg_stat_statements"].transactions == [] == workloads["mysql_digest"].transactions


def test_the_sample_workload_has_what_real_ones_have(logs: dict[str, Path], workloads: dict[str, Workload]) -> None:
    ran = json.loads(logs["summary"].read_text())["operations"]
    w = workloads["pg_csvlog"]
    spans = frames.transaction_domains(w, DOMAINS)
    # one transaction writing order + inventory + payment
    assert any({"ordering", "inventory", "billing"} <= set(d.split(", ")) for d in spans["write_domains"])
    # read-only joins across domains
    cross_reads = [(a, b) for t in w.templates if not t.tables_written for a, b in t.joins if DOMAINS[a] != DOMAINS[b]]
    assert len({DOMAINS[a] + "/" + DOMAINS[b] for a, b in cross_reads}) >= 4
    # reporting queries touching many tables
    assert max(len(t.tables_read) for t in w.templates) >= 8
    # the shared audit table, written together with tables of (nearly) every domain
    audit_domains = {DOMAINS[x] for t in w.transactions if "audit_log" in t.tables_written for x in t.tables_written}
    expected = {
        "ordering",
        "billing",
        "fulfilment",
        "inventory",
        "purchasing",
        "customers",
        "staff",
        "pricing",
        "platform",
    }
    assert audit_domains >= expected | ({"reporting"} if ran.get("month_end") else set())
    assert not any(t.unknown_tables for t in w.templates)


def test_names_missing_from_the_schema_are_reported(logs: dict[str, Path]) -> None:
    schema = sample_schema(drop=("audit_log", "tblSupplier"))
    w = ingest([str(logs["pg_csvlog"])], "pg_csvlog", schema=schema)
    unknown = frames.unknown_tables(w)
    assert set(unknown["name"]) == {"audit_log", "tblSupplier"}
    touched = {x for t in w.templates for x in t.tables_read + t.tables_written}
    assert not touched & {"audit_log", "tblSupplier"}


def test_mysql_schema_qualified_names_resolve(logs: dict[str, Path]) -> None:
    schema = sample_schema(dialect="mysql", default_schema="retail")
    w = ingest([str(logs["mysql_digest"])], "mysql_digest", schema=schema)
    assert not any(t.unknown_tables for t in w.templates)
    assert "tblSupplier" in frames.table_access(w)["table"].tolist()


def test_workload_json_round_trip(tmp_path: Path, workloads: dict[str, Workload]) -> None:
    w = workloads["pg_csvlog"]
    assert serde.from_dict(Workload, serde.to_dict(w)) == w
    path = serde.save(w, tmp_path / "workload.json")
    assert serde.load(Workload, path) == w
    assert serde.load(Workload, serde.save(w, tmp_path / "workload.yaml")) == w


def test_cli(tmp_path: Path, logs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    schema_path = serde.save(sample_schema(), tmp_path / "schema.json")
    out = tmp_path / "workload.json"
    assert main(["workload", str(logs["pg_csvlog"]), "--format", "pg_csvlog", "--schema", str(schema_path),
                 "--out", str(out)]) == 0  # fmt: skip
    assert serde.load(Workload, out).statements == json.loads(logs["summary"].read_text())["statements"]
    assert main(["workload", "simulate", "--out", str(tmp_path / "sim"), "--statements", "300", "--log", "jsonl"]) == 0
    assert (tmp_path / "sim" / FILES["jsonl"]).exists() and not (tmp_path / "sim" / FILES["pg_csvlog"]).exists()
    capsys.readouterr()
    assert main(["workload", str(tmp_path / "missing.csv"), "--format", "pg_csvlog", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: error:") and "missing.csv" in err and len(err.strip().splitlines()) == 1
