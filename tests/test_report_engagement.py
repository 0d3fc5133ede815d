"""The engagement file and the ``workbench report`` command line: settings, secrets, plain papermill runs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import sqlalchemy as sa
import yaml

from workbench import cli, report
from workbench.db import PASSWORD_ENV
from workbench.decompose.options import DecomposeOptions
from workbench.engagement import (
    Database,
    Engagement,
    LogSources,
    ask_password,
    choices,
    included_schemas,
    load_engagement,
    save_engagement,
)
from workbench.errors import ArtifactError, BadURLError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "engagement.example.yaml"


def test_example_engagement_points_at_the_sample_database() -> None:
    engagement = load_engagement(EXAMPLE)
    assert engagement.database.url == f"sqlite:///{ROOT / 'sample_db' / 'retail.sqlite'}"
    assert engagement.stages == [] and engagement.date is None


def test_round_trip_keeps_every_setting(tmp_path: Path) -> None:
    engagement = Engagement(
        client="ACME", engagement="Split", date="2026-02-01",
        database=Database(url="postgresql://app:${PGPASS}@db/erp", schemas=["sales"], exclude_schemas=["audit"],
                          prompt=False),
        workload=LogSources(logs=[str(tmp_path / "pg.csv")], format="pg_csvlog"),
        decomposition=DecomposeOptions(method="louvain", services=5, weights={"cowrite": 4.0},
                                       pins={"orders": "sales"}, together=[["a", "b"]], apart=[["c", "d"]],
                                       exclude=["audit_log"], seed=3),
        target_dialect="mysql", stages=["assess", "design"], parameters={"max_per_wave": 2},
    )  # fmt: skip
    path = save_engagement(engagement, tmp_path / "engagement.yaml")
    assert load_engagement(path) == engagement


def test_literal_password_is_refused_and_not_repeated(tmp_path: Path) -> None:
    path = tmp_path / "engagement.yaml"
    path.write_text("database:\n  url: postgresql://app:Hunter2-secret@db/erp\n")
    with pytest.raises(BadURLError) as failure:
        load_engagement(path)
    assert "holds a password" in str(failure.value) and "Hunter2-secret" not in str(failure.value)
    with pytest.raises(BadURLError):
        save_engagement(Engagement(database=Database(url="mysql://root:Hunter2-secret@h/db")), tmp_path / "out.yaml")
    assert not (tmp_path / "out.yaml").exists()


def test_live_log_sources_never_carry_a_password_into_the_notebooks(tmp_path: Path) -> None:
    path = tmp_path / "engagement.yaml"
    path.write_text("database:\n  url: sqlite:///x.db\nworkload:\n  logs: ['postgresql://mon:L0g-secret@db/erp']\n")
    with pytest.raises(BadURLError, match=r"workload.logs: .*postgresql://mon:\*\*\*@db/erp") as failure:
        load_engagement(path)
    assert "L0g-secret" not in str(failure.value)

    base = ["report", "--db", "sqlite:///x.db", "--out", str(tmp_path / "out"), "--log-format", "pg_stat_statements",
            "--write-params", str(tmp_path / "params"), "--stage", "assess"]  # fmt: skip
    assert cli.main([*base, "--log", "postgresql://mon:L0g-secret@db/erp", "--log", "logs/pg.csv"]) == 0
    written = (tmp_path / "params" / "assess.yaml").read_text()
    assert "L0g-secret" not in written
    assert yaml.safe_load(written)["workload_logs"] == ["postgresql://mon@db/erp", str(Path("logs/pg.csv").resolve())]
    two = [*base, "--db", "postgresql://app:Db-secret@db/erp", "--log", "postgresql://mon:L0g-secret@db/erp"]
    assert cli.main(two) == 2  # two literal passwords cannot both travel by the environment


def test_relative_paths_are_anchored_at_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "client"
    folder.mkdir()
    (folder / "engagement.yaml").write_text(
        "database:\n  url: sqlite:///data/legacy.sqlite\n"
        "workload:\n  logs: [logs/pg.csv, /abs/other.csv]\n  format: pg_csvlog\n"
    )
    engagement = load_engagement(folder / "engagement.yaml")
    assert engagement.database.url == f"sqlite:///{folder / 'data' / 'legacy.sqlite'}"
    assert engagement.workload.logs == [str(folder / "logs" / "pg.csv"), "/abs/other.csv"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("database:\n  url: sqlite:///x.db\ndecompostion:\n  method: louvain\n", "unknown setting 'decompostion'"),
        ("database:\n  url: sqlite:///x.db\n  shemas: [a]\n", "database: unknown setting 'shemas'"),
        ("database:\n  url: sqlite:///x.db\ndate: 15/01/2026\n", "date must look like"),
        ("client: x\n", "database.url is missing"),
        ("database:\n  url: sqlite:///x.db\ndecomposition:\n  services: many\n", "services"),
    ],
)
def test_malformed_settings_are_named(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "engagement.yaml"
    path.write_text(text)
    with pytest.raises(ArtifactError, match=error):
        load_engagement(path)


def test_choices_leave_unset_settings_to_the_notebooks() -> None:
    assert {c.setting for c in choices(Engagement())} == {"client", "engagement"}
    given = {c.setting: c.names for c in choices(Engagement(
        decomposition=DecomposeOptions(method="louvain", weights={"fk": 1}), target_dialect="oracle",
        workload=LogSources(logs=["/x.csv"], format="jsonl")), schemas=["s"])}  # fmt: skip
    options = {"method": "louvain", "weights": {"fk": 1}}
    assert given["decomposition.method"] == {"method": "louvain", "options": options}
    assert given["decomposition.weights"] == {"weights": {"fk": 1}, "options": options}
    assert given["target_dialect"] == {"target_dialect": "oracle", "dialect": "oracle", "dialects": ["oracle"]}
    assert given["workload.logs"] == {"workload_logs": ["/x.csv"]} and given["database.schemas"] == {"schemas": ["s"]}


def test_password_prompt_only_when_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def fake_getpass(prompt: str) -> str:
        asked.append(prompt)
        return "Typed-s3cret"

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    url = "postgresql://app@db.example/erp"
    assert ask_password(url, interactive=True) == {PASSWORD_ENV: "Typed-s3cret"}
    assert asked == ["password for postgresql://app@db.example/erp (empty: none): "]
    assert ask_password(url, interactive=False) == {}
    assert ask_password(url, prompt=False, interactive=True) == {}
    assert ask_password("postgresql://app:${PGPASS}@db/erp", interactive=True) == {}
    assert ask_password("sqlite:///x.db", interactive=True) == {}
    monkeypatch.setenv(PASSWORD_ENV, "from-env")
    assert ask_password(url, interactive=True) == {}
    assert len(asked) == 1


def test_excluded_schemas_are_left_out(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        for name in ("billing", "audit", "crm"):
            conn.execute(sa.text(f"CREATE SCHEMA {name}"))
            conn.execute(sa.text(f"CREATE TABLE {name}.t (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    assert included_schemas(Engagement(database=Database(url=pg_url, exclude_schemas=["audit"]))) == [
        "billing",
        "crm",
        "public",
    ]
    assert included_schemas(
        Engagement(database=Database(url=pg_url, schemas=["crm", "audit"], exclude_schemas=["audit"]))
    ) == ["crm"]
    assert included_schemas(Engagement(database=Database(url=pg_url, schemas=["crm", "billing"]))) == ["billing", "crm"]
    assert included_schemas(Engagement(database=Database(url=pg_url))) is None


def _args(*argv: str):  # type: ignore[no-untyped-def]
    return cli.build_parser().parse_args(["report", *argv])


def test_flags_override_the_engagement_file(tmp_path: Path) -> None:
    args = _args("--config", str(EXAMPLE), "--out", str(tmp_path), "--client", "Other Ltd", "--dialect", "mysql",
                 "--schema", "main", "--services", "6", "-p", "max_per_wave=2", "-p", "rules={hot_read_share: 0.1}",
                 "--date", "2026-03-04")  # fmt: skip
    engagement = cli._report_engagement(args)
    assert engagement.client == "Other Ltd" and engagement.target_dialect == "mysql"
    assert engagement.database.schemas == ["main"] and engagement.decomposition.services == 6
    assert engagement.parameters == {"max_per_wave": 2, "rules": {"hot_read_share": 0.1}}
    assert engagement.date == "2026-03-04"
    assert engagement.engagement == load_engagement(EXAMPLE).engagement  # not overridden: kept


def test_rerun_reads_the_engagement_copy_in_the_folder(tmp_path: Path) -> None:
    save_engagement(
        Engagement(client="Kept Ltd", database=Database(url="sqlite:///kept.db")), tmp_path / "engagement.yaml"
    )
    assert cli._report_engagement(_args("--out", str(tmp_path), "--from", "design")).client == "Kept Ltd"
    code = cli.main(["report", "--out", str(tmp_path / "empty")])
    assert code == 2


def test_written_parameters_run_with_plain_papermill(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``--write-params`` then ``papermill -f``: the values land in each real notebook's injected cell, none unknown.

    papermill's own command line runs in-process (click's runner) with ``--prepare-only``: the
    parameters are injected exactly as for a run; executing the notebooks is what nbval and
    ``test_report_suite.py`` do.
    """
    from click.testing import CliRunner
    from papermill.cli import papermill

    config = tmp_path / "engagement.yaml"
    save_engagement(Engagement(database=Database(url=f"sqlite:///{tmp_path / 'legacy.sqlite'}"), target_dialect="mysql",
                               decomposition=DecomposeOptions(method="greedy_modularity", seed=4)), config)
    params = tmp_path / "params"
    assert (
        cli.main(["report", "--config", str(config), "--out", str(tmp_path / "out"), "--write-params", str(params)])
        == 0
    )
    stages = report.available_stages()
    assert sorted(p.stem for p in params.iterdir()) == sorted(stages)
    for stage in stages:
        values = yaml.safe_load((params / f"{stage}.yaml").read_text())
        assert values["db_url"] == f"sqlite:///{tmp_path / 'legacy.sqlite'}" and values["out_dir"] == str(
            tmp_path / "out"
        )
        target = tmp_path / f"{stage}.ipynb"
        caplog.clear()
        done = CliRunner().invoke(
            papermill,
            [
                str(report.NOTEBOOKS / report.STAGES[stage]),
                str(target),
                "-k",
                "workbench",
                "-f",
                str(params / f"{stage}.yaml"),
                "--prepare-only",
            ],
        )
        assert done.exit_code == 0, done.output
        assert not [r for r in caplog.records if "unknown parameter" in r.getMessage()]
        injected = next(c.source for c in nbformat.read(target, as_version=4).cells
                        if "injected-parameters" in c.metadata.get("tags", []))
        assert f'out_dir = "{tmp_path / "out"}"' in injected
        if stage == "decompose":
            assert 'options = {"method": "greedy_modularity", "seed": 4}' in injected
        if stage == "design":
            assert 'dialects = ["mysql"]' in injected
