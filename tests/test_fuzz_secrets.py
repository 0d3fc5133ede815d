"""Property tests: arbitrary passwords through ``${VAR}``, ``WORKBENCH_DB_PASSWORD`` and literal URLs.

Whatever the password, it reaches the driver intact (the URL's other parts unbent), and no run of
four of its characters appears in anything the workbench prints or writes that the same command
with another password would not print too. ``make test`` tries a few examples per property,
``make fuzz`` many (see the Hypothesis profiles in ``conftest.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fuzzing import examples, new_fragments
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from servers import fresh_database

from workbench import db
from workbench.cli import main

pytestmark = pytest.mark.fuzz

NASTY = ["Pa:ss@w0rd%41", "ab@cd:SuperSecretTail", "@@@@::::////####%%%%", "%41%42%43%44", "p w d\t4tab",
         "${NOT_A_VAR_", "'\"`;--/*", "ünï¢ødé✓😀pw", "\\\\\\\\"]
passwords = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"), min_size=4,
            max_size=24),
    st.text(st.sampled_from("@:/#%?&=+ $[]{}aZ9"), min_size=4, max_size=24),
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(db.PASSWORD_ENV, raising=False)
    yield


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@given(secret=passwords)
@example(secret="100%+sure d@y")
def test_var_password_arrives_intact_and_is_never_shown(secret: str) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WB_FUZZ_PW", secret)
        url = db.resolve_url("postgresql+psycopg://app:${WB_FUZZ_PW}@db.example.com:6543/erp?sslmode=disable")
        assert (url.username, url.password, url.host, url.port, url.database) == \
            ("app", secret, "db.example.com", 6543, "erp")
        assert db.mask_url(url) == "postgresql+psycopg://app:***@db.example.com:6543/erp?sslmode=disable"
        shown = db.scrub(f"error at {url.render_as_string(hide_password=False)} with {secret!r} / {secret}")
        assert not new_fragments(secret, shown, "error at postgresql+psycopg://app:***@db.example.com:6543/erp")


def _error_outputs(capsys: pytest.CaptureFixture[str], tmp_path: Path, secret: str) -> dict[str, str]:
    """What the CLI prints for a password given four ways to servers that are not there (port 1)."""
    out: dict[str, str] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WB_FUZZ_PW", secret)
        for family in ("postgresql", "mysql"):
            code, out[f"{family} var"] = _cli(capsys, "introspect", f"{family}://app:${{WB_FUZZ_PW}}@127.0.0.1:1/erp")
            assert code == 2
            code, out[f"{family} literal"] = _cli(capsys, "introspect", f"{family}://app:{secret}@127.0.0.1:1/erp")
            assert code == 2
            mp.setenv(db.PASSWORD_ENV, secret)
            code, out[f"{family} env"] = _cli(capsys, "introspect", f"{family}://app@127.0.0.1:1/erp")
            assert code == 2
            mp.delenv(db.PASSWORD_ENV)
        code, out["migrate target"] = _cli(capsys, "migrate", "--source", f"sqlite:///{tmp_path / 'none.sqlite'}",
                                           "--target", f"postgresql://app:{secret}@127.0.0.1:1/erp",
                                           "--design", str(tmp_path / "nodesign"))
        assert code == 2
    return out


@given(secret=passwords)
@settings(max_examples=examples(10, 150))
def test_error_paths_show_no_fragment(secret: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # A literal URL cannot tell a password from a reference: "${NAME}" in it is always a reference.
    assume(not re.search(r"\$\{[A-Za-z_]", secret))
    with pytest.MonkeyPatch.context():
        saved = set(db._SECRETS)
        baseline = _error_outputs(capsys, tmp_path, "Zq")
        db._SECRETS.clear()
        db._SECRETS.update(saved)
    outputs = _error_outputs(capsys, tmp_path, secret)
    for how, text in outputs.items():
        assert text.count("\n") == 1 and text.startswith("workbench: error: "), (how, text)
        assert not new_fragments(secret, text, baseline[how]), (how, text)


@pytest.fixture(scope="module")
def pg_fuzz_url() -> Iterator[str]:
    with fresh_database("postgresql") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE marker (id int primary key)"))
        engine.dispose()
        yield url


@pytest.mark.postgres
@given(secret=passwords)
@settings(max_examples=examples(5, 100), suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_var_password_reaches_postgresql(secret: str, pg_fuzz_url: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The server trusts local logins: the run succeeds only if user, host, port and database arrived unbent."""
    u = sa.make_url(pg_fuzz_url)
    template = f"postgresql://{u.username}:${{WB_FUZZ_PW}}@{u.host}:{u.port}/{u.database}"

    def run(password: str) -> str:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("WB_FUZZ_PW", password)
            out = tmp_path / "schema.json"
            code, text = _cli(capsys, "introspect", template, "--out", str(out))
        written = out.read_text(encoding="utf-8")
        assert code == 0 and '"marker"' in written, text
        return text + written

    baseline = run("Zq")
    assert not new_fragments(secret, run(secret), baseline)


@pytest.mark.mariadb
@given(secret=passwords)
@settings(max_examples=examples(5, 100))
def test_any_refused_password_leaves_no_fragment(secret: str, capsys: pytest.CaptureFixture[str]) -> None:
    """MariaDB refuses any password for the test server's root: the error names the server, never the password."""
    from servers import MY_ADMIN_URL

    u = sa.make_url(MY_ADMIN_URL)
    baseline = f"workbench: error: cannot use mysql://{u.username}:***@{u.host}:{u.port}/{u.database}: " \
               f"(1045, \"Access denied for user '{u.username}'@'{u.host}' (using password: YES)\")"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WB_FUZZ_PW", secret)
        code, text = _cli(capsys, "introspect", f"mysql://{u.username}:${{WB_FUZZ_PW}}@{u.host}:{u.port}/{u.database}")
    assert code == 2 and "Access denied" in text, text
    assert not new_fragments(secret, text, baseline), text
