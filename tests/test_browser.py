"""The headless Chromium checker itself: it must catch what it is there to catch.

Skips locally without Chromium; fails under CI=true, like the database fixtures.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import missing

from workbench.errors import NotFoundError
from workbench.reporting.browser import HeadlessChromium, check_pages, find_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[HeadlessChromium]:
    if find_chromium() is None:
        missing("chromium is not installed (make browser, or apt-get install chromium)")
    with HeadlessChromium(800, 600) as chromium:
        yield chromium


def _page(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>{body}</body></html>'
    )
    return path


def test_console_errors_exceptions_and_failed_loads_are_caught(browser: HeadlessChromium, tmp_path: Path) -> None:
    before = len(browser.console_errors)
    browser.open(_page(tmp_path, "bad.html", '<p>x</p><script>console.log("fine"); console.error("boom", 42);'
                                             'setTimeout(() => { throw new Error("late failure") }, 0)</script>'
                                             '<img src="missing.png">'))
    browser.evaluate("new Promise(r => setTimeout(() => r(true), 100))")
    errors = browser.console_errors[before:]
    assert "console.error: boom 42" in errors
    assert any(e.startswith("uncaught: Error: late failure") for e in errors)
    assert any("ERR_FILE_NOT_FOUND" in e and "missing.png" in e for e in errors)
    assert not any("fine" in e for e in errors)


def test_clean_page_has_no_errors_and_evaluates(browser: HeadlessChromium, tmp_path: Path) -> None:
    before = len(browser.console_errors)
    browser.open(
        _page(
            tmp_path, "ok.html", '<h1 id="t" style="margin:0;height:50px">Figures</h1><script>console.log("x")</script>'
        )
    )
    assert browser.evaluate("document.getElementById('t').getBoundingClientRect().height") == 50
    assert browser.evaluate("[1, 2].map(x => x * 2)") == [2, 4]
    assert browser.console_errors[before:] == []


def test_screenshot_is_the_viewport_with_what_the_page_draws(browser: HeadlessChromium, tmp_path: Path) -> None:
    from PIL import Image

    browser.open(
        _page(
            tmp_path,
            "box.html",
            '<div style="position:absolute;left:100px;top:50px;width:200px;height:100px;'
            'background:rgb(255,0,0)"></div>',
        )
    )
    image = Image.open(io.BytesIO(browser.screenshot())).convert("RGB")
    assert image.size == (800, 600)
    assert image.getpixel((150, 100)) == (255, 0, 0) and image.getpixel((50, 20)) == (255, 255, 255)
    assert image.getpixel((299, 149)) == (255, 0, 0) and image.getpixel((300, 150)) == (255, 255, 255)


def test_check_pages_reports_per_page(browser: HeadlessChromium, tmp_path: Path) -> None:
    good = _page(tmp_path, "good.html", "<p>fine</p>")
    bad = _page(tmp_path, "bad.html", '<script>console.error("broken")</script>')
    assert check_pages([good, bad]) == {"good.html": [], "bad.html": ["console.error: broken"]}


def test_missing_browser_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("workbench.reporting.browser.find_chromium", lambda: None)
    with pytest.raises(NotFoundError, match="no Chromium browser on PATH"):
        HeadlessChromium()
