"""The explorer in a real browser: JupyterLab from the project's environment, headless Chromium (Debian's)
driven by Playwright, 02_decompose.ipynb run top to bottom, a table moved, a metric changed, the
decomposition saved. A screenshot of the explorer is left in the test's temporary folder.

Skips locally without Chromium or Playwright; fails under CI=true, like the database tests.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from servers import missing

from workbench.decompose.model import load_decomposition
from workbench.reporting.browser import FLAGS, find_chromium

ROOT = Path(__file__).resolve().parent.parent
MOVED_TO = "moved_by_the_browser"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def lab(tmp_path: Path, sample_path: Path) -> Iterator[dict[str, object]]:
    """JupyterLab serving a copy of 02_decompose.ipynb pointed at the sample and at a folder of its own."""
    work, out = tmp_path / "notebooks", tmp_path / "out"
    work.mkdir()
    nb = nbformat.read(ROOT / "notebooks" / "02_decompose.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    injected = nbformat.v4.new_code_cell(f"db_url = {f'sqlite:///{sample_path}'!r}\nout_dir = {str(out)!r}")
    injected.id = "injected-parameters"
    nb.cells.insert(at + 1, injected)  # as papermill injects them
    nbformat.write(nb, work / "02_decompose.ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "run"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"), "MPLBACKEND": "Agg"}
    log = (tmp_path / "lab.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=", "--LabApp.extension_manager=readonly",
         "--ServerApp.allow_root=True"],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=work)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield {"url": f"{base}/lab/tree/02_decompose.ipynb?token={token}", "out": out, "tmp": tmp_path}
    finally:
        server.terminate()  # the server shuts its kernels down on the way out
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


RUN_ALL = "window.jupyterapp.commands.execute('notebook:run-all-cells')"
BUSY = """() => { const nb = window.jupyterapp.shell.currentWidget;
  const kernel = nb && nb.sessionContext && nb.sessionContext.session && nb.sessionContext.session.kernel;
  const running = [...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'));
  return !kernel || kernel.status !== 'idle' || running; }"""
METRICS = """() => Object.fromEntries([...document.querySelectorAll('.wb-metrics tr[data-metric]')].map(
  r => [r.dataset.metric, [r.querySelector('.now').textContent, r.querySelector('.change').textContent]]))"""


def test_move_a_table_in_the_explorer_and_save(lab: dict[str, object]) -> None:
    chromium = find_chromium()
    if chromium is None:
        missing("chromium is not installed (make browser, or apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install -e '.[dev]')")
    flags = [f for f in FLAGS if f not in ("--headless", "--remote-debugging-pipe", "--hide-scrollbars")]
    out, tmp = Path(str(lab["out"])), Path(str(lab["tmp"]))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=flags)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(str(lab["url"]))
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                                   "window.jupyterapp.shell.currentWidget.sessionContext && "
                                   "window.jupyterapp.shell.currentWidget.sessionContext.session && "
                                   "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
                                   timeout=90_000)
            page.wait_for_function(f"() => !({BUSY})()", timeout=60_000)
            page.evaluate(RUN_ALL)
            page.wait_for_selector(".wb-explorer .wb-metrics tr[data-metric]", timeout=240_000)
            page.wait_for_function(f"() => !({BUSY})()", timeout=240_000)
            assert (out / "decomposition.yaml").exists()  # the stage wrote its own; Save must replace it
            generated = load_decomposition(out / "decomposition.yaml")

            before = page.evaluate(METRICS)
            assert {"services", "modularity", "cross_service_fks", "truth.ari"} <= set(before)
            table = next(t for s in generated.services.values() if len(s.tables) > 1 for t in sorted(s.tables))
            page.select_option(".wb-table select", label=table)
            page.wait_for_function(f"() => document.querySelector('.wb-table-card').textContent.includes({table!r})")
            page.select_option(".wb-target select", label="(a new service)")
            page.fill(".wb-new-name input", MOVED_TO)
            page.click(".wb-move")
            page.wait_for_function(f"() => document.querySelector('.wb-status').textContent.includes('move {table}')",
                                   timeout=30_000)
            after = page.evaluate(METRICS)
            assert after["services"][0] == str(int(before["services"][0]) + 1) and after["services"][1] == "+1"
            changed = [k for k in after if after[k][0] != before[k][0]]
            assert set(changed) - {"services"}, f"no metric but the count changed: {after}"
            assert "error" not in page.inner_html(".wb-status")

            page.click(".wb-save")
            page.wait_for_function("() => document.querySelector('.wb-status').textContent.includes('saved')",
                                   timeout=30_000)
            saved = load_decomposition(out / "decomposition.yaml")
            assert saved.service_of(table) == MOVED_TO and saved.tables[table].role == "pinned"
            assert {t: s for t, s in saved.assignment().items() if t != table} == \
                {t: s for t, s in generated.assignment().items() if t != table}

            page.locator(".wb-explorer").scroll_into_view_if_needed()
            shot = tmp / "explorer.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 20_000
            assert page.locator(".wb-explorer .js-plotly-plot .main-svg").count() > 0  # the service map drew
            page.locator(".wb-views").scroll_into_view_if_needed()
            page.screenshot(path=str(tmp / "explorer-map.png"))
            assert not [e for e in errors if "wb-" in e or "plotly" in e.lower()], errors
            print(f"explorer screenshot: {shot}")
        finally:
            browser.close()

