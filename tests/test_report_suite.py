"""The report suite end to end: every available stage notebook rendered on the sample database in PostgreSQL.

The database URL carries a password (trust authentication ignores it, so it travels exactly as a
real one would); every file written is searched for it. Two renders run side by side, one through
``workbench report`` in-process and one in a child process, into two folders: they must be equal
byte for byte once the folder path and the title page's date are masked. A third render reruns
design and plan after a hand edit of ``decomposition.yaml``. The pages are then opened in headless
Chromium: no console error, and the title page's screenshot shows the summary figures.

Each full render takes a minute or two on a loaded machine: the module renders as little as that.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
import sqlalchemy as sa
import yaml
from servers import missing

from workbench import cli, report
from workbench.db import PASSWORD_ENV

SECRET = "s3cr3t-XYZ"
DATE = re.compile(rb'<time datetime="\d{4}-\d{2}-\d{2}">\d{4}-\d{2}-\d{2}</time>')

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg_sample() -> Iterator[str]:
    """A PostgreSQL database holding the sample at 2% volume, for the whole module."""
    from servers import fresh_database

    from workbench.sample import load

    with fresh_database("postgresql") as url:
        load(url, scale=0.02)
        yield url


@pytest.fixture(scope="module")
def renders(pg_sample: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    """Render A in-process and B in a child process, concurrently, with the same password-bearing URL."""
    base = tmp_path_factory.mktemp("suite")
    url = sa.make_url(pg_sample).set(password=SECRET).render_as_string(hide_password=False)
    argv = ["report", "--db", url, "--client", "ACME Retail", "--engagement", "Report suite test"]
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    child = subprocess.Popen([sys.executable, "-m", "workbench.cli", *argv, "--out", str(base / "b")], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=base)  # fmt: skip
    code = cli.main([*argv, "--out", str(base / "a")])
    stdout, stderr = child.communicate(timeout=1200)
    assert code == 0, "in-process render failed"
    assert child.returncode == 0, stderr[-3000:]
    return {"a": base / "a", "b": base / "b", "child_output": stdout + stderr}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_available_stage_is_rendered(renders: dict[str, Path | str]) -> None:
    out = Path(renders["a"])
    stages = report.available_stages()
    assert stages[0] == "assess" and len(stages) >= 2
    status = {r["stage"]: r["status"] for r in json.loads((out / "report.json").read_text())["stages"]}
    assert status == dict.fromkeys(stages, "ok")
    index = (out / "index.html").read_text()
    for stage in stages:
        page = Path(report.STAGES[stage]).with_suffix(".html").name
        assert (out / report.STAGES[stage]).exists() and (out / page).exists()
        assert f'href="{page}"' in index
    for artifact in ("schema.json", "lint.json", "workload.json", "engagement.yaml"):
        assert (out / artifact).exists()


def test_no_secret_in_any_file_or_message(renders: dict[str, Path | str], pg_sample: str) -> None:
    forms = [SECRET.encode(), SECRET.replace("-", "%2D").encode()]
    for key in ("a", "b"):
        for name, data in _files(Path(renders[key])).items():
            assert not [f for f in forms if f in data], f"the password leaked into {key}/{name}"
    assert SECRET not in str(renders["child_output"])
    assert f"<code>{pg_sample}</code>" in (Path(renders["a"]) / "index.html").read_text()  # the database, shown


def test_two_renders_differ_only_in_the_date(renders: dict[str, Path | str]) -> None:
    a, b = Path(renders["a"]), Path(renders["b"])
    first, second = _files(a), _files(b)
    assert sorted(first) == sorted(second)
    different = []
    for name, data in first.items():
        other = second[name].replace(str(b).encode(), str(a).encode())
        if name == "index.html":
            data, other = DATE.sub(b"<time/>", data), DATE.sub(b"<time/>", other)
        if data != other:
            different.append(name)
    if different:  # show where, so a rare difference can be told from the message alone
        import difflib

        name = different[0]
        other = second[name].replace(str(b).encode(), str(a).encode()).decode(errors="replace").splitlines()
        lines = [line[:300] for line in difflib.unified_diff(first[name].decode(errors="replace").splitlines(), other,
                                                              lineterm="", n=1)][:40]
        raise AssertionError(f"renders differ in {different}; first difference, in {name}:\n" + "\n".join(lines))
    assert DATE.search(first["index.html"])


def test_title_page_figures_match_the_artifacts(renders: dict[str, Path | str]) -> None:
    out = Path(renders["a"])
    index = (out / "index.html").read_text()
    shown = dict(re.findall(r'data-figure="(\w+)"><div class="value">([^<]+)</div>', index))
    schema = json.loads((out / "schema.json").read_text())
    assert shown["tables"] == str(sum(1 for t in schema["tables"] if t["kind"] == "table"))
    assert shown["views"] == str(sum(1 for t in schema["tables"] if t["kind"] == "view"))
    assert shown["lint_findings"] == str(len(json.loads((out / "lint.json").read_text())))
    if (out / "decomposition.yaml").exists():
        assert shown["services"] == str(len(yaml.safe_load((out / "decomposition.yaml").read_text())["services"]))
    if (out / "plan.json").exists():
        assert shown["waves"] == str(len(json.loads((out / "plan.json").read_text())["waves"]))
    assert "ACME Retail" in index and "Report suite test" in index


def test_pages_are_self_contained_and_show_no_code(renders: dict[str, Path | str]) -> None:
    out = Path(renders["a"])
    for stage in report.available_stages():
        page = (out / Path(report.STAGES[stage]).with_suffix(".html")).read_text()
        source = nbformat.read(report.NOTEBOOKS / report.STAGES[stage], as_version=4)
        code = [line.strip() for c in source.cells if c.cell_type == "code" for line in c.source.splitlines()
                if len(line.strip()) > 24 and not line.strip().startswith("#")]  # fmt: skip
        assert code and not [line for line in code if line in page], stage
        assert "data:image/png;base64," in page, stage
    for page in out.glob("*.html"):
        text = page.read_text()
        assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', text), page.name
        assert not re.search(r'<img[^>]+src="(?!data:)', text), page.name


def test_assess_notebook_ran_on_the_database(renders: dict[str, Path | str]) -> None:
    out = Path(renders["a"])
    nb = nbformat.read(out / "01_assess.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    schema = json.loads((out / "schema.json").read_text())
    assert f"{sum(1 for t in schema['tables'] if t['kind'] == 'table')} tables" in printed
    assert "postgresql+psycopg://postgres@127.0.0.1" in nb.metadata.papermill.parameters["db_url"]
    assert {"fk_cycles", "polymorphic_associations"} <= {f["rule"] for f in json.loads((out / "lint.json").read_text())}


def test_edited_decomposition_rerenders_design_and_plan_only(renders: dict[str, Path | str], tmp_path: Path) -> None:
    stages = report.available_stages()
    if not {"decompose", "design", "plan"} <= set(stages):
        pytest.skip(f"needs the decompose, design and plan notebooks (available: {', '.join(stages)})")
    out = tmp_path / "edited"
    shutil.copytree(Path(renders["b"]), out)
    services = yaml.safe_load((out / "decomposition.yaml").read_text())["services"]
    keep, merged = sorted(services)[:2]
    services[keep]["tables"] = sorted(services[keep]["tables"] + services.pop(merged)["tables"])
    (out / "decomposition.yaml").write_text(yaml.safe_dump({"services": services}))  # the architect's hand edit
    before = _files(out)

    assert cli.main(["report", "--out", str(out), "--from", "design"]) == 0  # settings from out/engagement.yaml
    after = _files(out)
    for name in ("01_assess.ipynb", "01_assess.html", "02_decompose.ipynb", "02_decompose.html", "schema.json",
                 "decomposition.yaml"):
        assert after[name] == before[name], f"{name} changed"
    assert after["03_design.html"] != before["03_design.html"] and after["plan.json"] != before["plan.json"]
    design = json.loads(after["design/design.json"])
    assert sorted(design["services"]) == sorted(services)
    assert {s for w in json.loads(after["plan.json"])["waves"] for s in w["services"]} <= set(services)
    assert merged not in json.loads(after["design/design.json"])["services"]
    index = after["index.html"].decode()
    assert f'data-figure="services"><div class="value">{len(services)}<' in index


# ---------------------------------------------------------------------------------- in a browser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from workbench.reporting.browser import HeadlessChromium, find_chromium

    if find_chromium() is None:
        missing("chromium is not installed (make browser, or apt-get install chromium)")
    with HeadlessChromium(1280, 2000) as chromium:
        yield chromium


def test_pages_render_without_console_errors(renders: dict[str, Path | str], browser: object) -> None:
    pages = sorted(Path(renders["a"]).glob("*.html"))
    assert len(pages) == len(report.available_stages()) + 1
    for page in pages:
        before = len(browser.console_errors)  # type: ignore[attr-defined]
        browser.open(page)  # type: ignore[attr-defined]
        assert browser.evaluate("document.body.innerText.length") > 200  # type: ignore[attr-defined]
        assert browser.console_errors[before:] == [], page.name  # type: ignore[attr-defined]


FACTS = """(() => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom].map(Math.round); };
  const text = e => { const range = document.createRange(); range.selectNodeContents(e); return box(range); };
  return {
    section: box(document.getElementById('figures')),
    cards: [...document.querySelectorAll('#figures .card')].map(c => ({key: c.dataset.figure, box: box(c),
             value: c.querySelector('.value').innerText, number: text(c.querySelector('.value'))})),
    charts: [...document.querySelectorAll('#figures img')].map(i => ({box: box(i),
             loaded: i.complete && i.naturalWidth > 0, width: i.naturalWidth, height: i.naturalHeight})),
  };
})()"""


def test_title_page_screenshot_shows_the_summary_figures(renders: dict[str, Path | str], browser: object) -> None:
    """Screenshot the title page, then again with the figures hidden: the difference is the figures, where the DOM
    puts them."""
    import io

    import numpy as np
    from PIL import Image

    out = Path(renders["a"])
    browser.open(out / "index.html")  # type: ignore[attr-defined]
    facts = browser.evaluate(FACTS)  # type: ignore[attr-defined]
    shown = np.asarray(Image.open(io.BytesIO(browser.screenshot())).convert("RGB")).astype(int)  # type: ignore[attr-defined]
    browser.evaluate("document.getElementById('figures').style.visibility = 'hidden'")  # type: ignore[attr-defined]
    hidden = np.asarray(Image.open(io.BytesIO(browser.screenshot())).convert("RGB")).astype(int)  # type: ignore[attr-defined]
    assert shown.shape == hidden.shape == (2000, 1280, 3)

    schema = json.loads((out / "schema.json").read_text())
    values = {c["key"]: c["value"] for c in facts["cards"]}
    assert values["tables"] == str(sum(1 for t in schema["tables"] if t["kind"] == "table"))
    assert {"tables", "rows", "lint_findings"} <= set(values)
    assert facts["charts"] and all(c["loaded"] for c in facts["charts"])

    left, top, right, bottom = facts["section"]
    assert 0 < top and bottom <= 2000, "the summary must be on the first screen"
    changed = np.any(shown != hidden, axis=2)
    ys, xs = np.nonzero(changed)
    assert ys.size > 0.03 * (right - left) * (bottom - top), "hiding the figures barely changes the screenshot"
    assert left - 1 <= xs.min() and xs.max() <= right and top - 1 <= ys.min() and ys.max() <= bottom, (
        "changes outside the figures"
    )
    for card in facts["cards"]:
        x0, y0, x1, y1 = card["number"]
        assert card["box"][0] <= x0 and x1 <= card["box"][2] and card["box"][1] <= y0 and y1 <= card["box"][3]
        ink = (shown[y0:y1, x0:x1].mean(axis=2) < 160).mean()  # dark digits on the light card background
        assert 0.15 < ink < 0.7, f"card {card['key']} shows no number ({ink:.3f} ink)"
    for chart in facts["charts"]:
        x0, y0, x1, y1 = chart["box"]
        assert (x1 - x0, y1 - y0) == (chart["width"], chart["height"])
        region = shown[y0:y1, x0:x1]
        colourful = (region.max(axis=2) - region.min(axis=2) > 60).mean()
        assert colourful > 0.02, "a chart shows no bars"
        assert not np.any(hidden[y0:y1, x0:x1] != hidden[y0, x0]), "hidden chart area is not blank"
