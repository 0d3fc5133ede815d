"""Open report pages in headless Chromium: console errors, DOM facts and screenshots.

A report is mailed and opened in a browser, so it is checked in one: Debian's ``chromium``,
driven over the DevTools protocol on ``--remote-debugging-pipe`` (file descriptors 3 and 4,
NUL-separated JSON), which needs nothing beyond the standard library and no network port.
Console errors are the page's ``console.error`` calls, uncaught exceptions, and browser log
entries of level ``error`` (e.g. a resource that failed to load).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from workbench.errors import NotFoundError, WorkbenchError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--force-device-scale-factor=1", "--remote-debugging-pipe",
)  # fmt: skip
"""Command-line flags: headless, no sandbox (containers run as root), nothing phoning home."""


def find_chromium() -> str | None:
    """Path of a Chromium-family browser on PATH, or None."""
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


def _high_fd(fd: int) -> int:
    """A close-on-exec duplicate of ``fd`` numbered 10 or more, so dup2 onto 3 and 4 cannot clash."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class HeadlessChromium:
    """One headless browser with one page, driven over the DevTools pipe.

    Use as a context manager::

        with HeadlessChromium() as browser:
            browser.open(Path("reports/sample/index.html"))
            png = browser.screenshot()
            errors = browser.console_errors

    Raises
    ------
    NotFoundError
        When no Chromium is installed.
    WorkbenchError
        When the browser dies, times out or answers a command with an error.
    """

    def __init__(self, width: int = 1280, height: int = 2000, timeout: float = 60.0, binary: str | None = None) -> None:
        self.width, self.height, self.timeout = width, height, timeout
        found = binary or find_chromium()
        if not found:
            raise NotFoundError(
                f"no Chromium browser on PATH (tried {', '.join(CANDIDATES)}): apt-get install chromium"
            )
        self.binary: str = found
        self.console_errors: list[str] = []
        self._events: list[dict[str, Any]] = []
        self._next_id = 0
        self._buffer = b""
        self._session: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # -------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> HeadlessChromium:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        """Launch the browser and attach to a fresh page of ``width`` x ``height`` CSS pixels."""
        self._profile = tempfile.TemporaryDirectory(prefix="wb-chromium-")
        cmd_read, self._cmd = (_high_fd(fd) for fd in os.pipe())
        self._res, res_write = (_high_fd(fd) for fd in os.pipe())

        def _wire() -> None:  # in the child: the browser reads fd 3 and writes fd 4 (dup2 makes them inheritable)
            os.dup2(cmd_read, 3)
            os.dup2(res_write, 4)

        self._log = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [self.binary, *FLAGS, f"--user-data-dir={self._profile.name}", f"--window-size={self.width},{self.height}",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log, preexec_fn=_wire,
            close_fds=False,  # keep 3 and 4; every other descriptor Python opened is close-on-exec anyway
        )  # fmt: skip
        os.close(cmd_read)
        os.close(res_write)
        target = self.call("Target.createTarget", {"url": "about:blank"}, browser=True)["targetId"]
        self._session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True}, browser=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False})

    def close(self) -> None:
        """Close the browser (politely, then by force) and remove its profile."""
        if self._proc is None:
            return
        try:
            if self._proc.poll() is None:
                self._send("Browser.close", {}, browser=True)
                self._proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        finally:
            for fd in (self._cmd, self._res):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._log.close()
            self._profile.cleanup()
            self._proc = None

    # ------------------------------------------------------------------------------- protocol

    def _send(self, method: str, params: dict[str, Any], browser: bool = False) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self._session and not browser:
            message["sessionId"] = self._session
        os.write(self._cmd, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._res], [], [], left)[0]:
                raise WorkbenchError(f"Chromium did not answer within {self.timeout:g} s")
            chunk = os.read(self._res, 1 << 20)
            if not chunk:
                raise WorkbenchError(
                    f"Chromium exited unexpectedly (exit code {self._proc.poll() if self._proc else '?'})"
                )
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        if "method" in message:
            self._record(message)
        return message

    def _record(self, event: dict[str, Any]) -> None:
        """Keep events; collect the console errors among them."""
        self._events.append(event)
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = [a.get("value", a.get("description", "")) for a in params.get("args", [])]
            self.console_errors.append("console.error: " + " ".join(str(a) for a in args))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "exception")
            self.console_errors.append(f"uncaught: {text}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.console_errors.append(
                f"{entry.get('source', 'log')}: {entry.get('text', '')} {entry.get('url', '')}".strip()
            )

    def call(self, method: str, params: dict[str, Any] | None = None, browser: bool = False) -> dict[str, Any]:
        """Send one command and wait for its answer (events arriving meanwhile are recorded)."""
        wanted = self._send(method, params or {}, browser)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise WorkbenchError(
                        f"Chromium refused {method}: {message['error'].get('message', message['error'])}"
                    )
                return message.get("result", {})

    def wait_for(self, method: str, since: int = 0) -> dict[str, Any]:
        """The first event ``method`` recorded after the first ``since`` events, waiting for it if needed."""
        deadline = time.monotonic() + self.timeout
        while True:
            for event in self._events[since:]:
                if event["method"] == method:
                    return event
            self._receive(deadline)

    # ------------------------------------------------------------------------------ page work

    def open(self, path: str | Path) -> None:
        """Load a local file (or a URL) and wait for its load event and its fonts."""
        url = path if isinstance(path, str) and "://" in path else Path(path).resolve().as_uri()
        mark = len(self._events)
        result = self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise WorkbenchError(f"Chromium cannot open {url}: {result['errorText']}")
        self.wait_for("Page.loadEventFired", since=mark)
        self.evaluate("document.fonts.ready.then(() => true)")

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise WorkbenchError(
                f"page script failed: {details.get('exception', {}).get('description') or details.get('text')}"
            )
        return result.get("result", {}).get("value")

    def screenshot(self) -> bytes:
        """The viewport (``width`` x ``height``) as PNG bytes."""
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        return base64.b64decode(data)


UNDRAWN_PLOTS = """new Promise(resolve => {
  const undrawn = () => [...document.querySelectorAll('[%s]')]
    .filter(d => !(d.querySelector('svg.main-svg') && d._fullLayout)).map(d => d.id);
  const started = Date.now();
  const poll = () => { const left = undrawn();  // without plotly.js nothing will ever draw: no need to wait
    (left.length === 0 || typeof window.Plotly === 'undefined' || Date.now() - started > %d)
      ? resolve(left) : setTimeout(poll, 100); };
  poll();
})"""
"""The ids of the page's interactive plots that plotly has not drawn (after waiting up to a limit)."""


def undrawn_plots(browser: HeadlessChromium, wait_ms: int = 15000) -> list[str]:
    """Ids of the open page's interactive plots (``data-wb-plotly``) that plotly did not draw."""
    from workbench.reporting.interactive import ATTRIBUTE

    return list(browser.evaluate(UNDRAWN_PLOTS % (ATTRIBUTE, wait_ms)) or [])


def check_pages(paths: list[Path], width: int = 1280, height: int = 2000) -> dict[str, list[str]]:
    """Console errors of each page, by file name, opened one after the other in one browser; an
    interactive plot that did not draw counts as an error too.

    Raises
    ------
    NotFoundError
        When no Chromium is installed.
    """
    found: dict[str, list[str]] = {}
    with HeadlessChromium(width, height) as browser:
        for path in paths:
            before = len(browser.console_errors)
            browser.open(path)
            browser.evaluate("new Promise(r => setTimeout(() => r(true), 100))")  # late errors of onload handlers
            undrawn = [f"plot {ident} was not drawn" for ident in undrawn_plots(browser)]
            found[Path(path).name] = browser.console_errors[before:] + undrawn
    return found
