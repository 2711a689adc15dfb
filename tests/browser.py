"""Helpers for the dashboard tests: start the real Voila server, find Debian's Chromium, read charts.

Playwright's own browser download is not available, so the tests drive the system Chromium
(``/usr/bin/chromium``). Without it the browser tests skip locally and fail when ``CI=true``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"


def find_chromium() -> str | None:
    """Debian's chromium binary, if installed."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def require_chromium() -> str:
    """The Chromium path; skip the test without one (fail under CI=true, where it must exist)."""
    path = find_chromium()
    reason = None
    if path is None:
        reason = "no Chromium found at /usr/bin/chromium (Debian: apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed (pip install playwright)"
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests must run under CI=true, but {reason}")
        pytest.skip(reason)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: Linux's prctl option: a signal for this process when the thread that started it ends.
_PR_SET_PDEATHSIG = 1


def _interrupted_with_parent() -> None:
    """In a server's process before it starts: SIGINT (Voila then shuts its kernels down) when the test
    process ends, even killed, where no teardown runs: a test run stopped by a timeout left a server and
    four kernels running. SIGINT is also taken back from "ignored", which a test run started in the
    background hands down (the server would then ignore :meth:`Server.stop` too)."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.signal(signal.SIGINT, 0)  # SIG_DFL; Python's signal.signal may not run outside the main thread
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT)


class Server:
    """A ``policy-pulse dashboard`` server (``analytics.serve.serve``) in its own process group."""

    def __init__(self, *, warehouse: Path | None, root: Path | None = None, preheat: bool = True,
                 log: Path, notebooks: tuple[str, ...] = ("leadership.ipynb", "policy-review.ipynb"),
                 abandoned_kernel_seconds: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.notebooks = notebooks if preheat else ()
        culling = "" if abandoned_kernel_seconds is None else f", abandoned_kernel_seconds={abandoned_kernel_seconds}"
        call = (f"from analytics.serve import serve; serve({str(warehouse) if warehouse else None!r}, "
                f"port={self.port}, root={str(root) if root else None!r}, preheat={preheat}{culling})")
        self._out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([sys.executable, "-c", call], stdout=self._out, stderr=subprocess.STDOUT,
                                        start_new_session=True, preexec_fn=_interrupted_with_parent)

    def wait_ready(self, timeout: float = 150.0) -> Server:
        """Until the index answers and every dashboard's preheated kernel has rendered it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the dashboard server exited ({self.process.returncode}):\n{self.log_text()}")
            text = self.log_text()
            filled = all(f"Kernel pool of {name} is filled" in text for name in self.notebooks)
            if filled and self.get("/")[0] == 200:
                return self
            time.sleep(0.5)
        raise TimeoutError(f"the dashboard server was not ready in {timeout:.0f} s:\n{self.log_text()[-3000:]}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=60) as response:
                return response.status, response.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", errors="replace")
        except (urllib.error.URLError, ConnectionError):
            return 0, ""

    def stop(self) -> None:
        # SIGINT lets Voila shut its kernels down; the process group holds only what this server started
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._out.close()


@contextlib.contextmanager
def headless_chromium():
    """A headless Chromium (Debian's, found by :func:`require_chromium`) for one module's pages."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def wait_for_charts(page, count: int, timeout_ms: int = 60_000) -> None:
    """Until ``count`` plotly charts have drawn their SVG."""
    page.wait_for_function(
        "(n) => Array.from(document.querySelectorAll('.js-plotly-plot')).filter("
        "g => g.querySelector('.main-svg')).length >= n", arg=count, timeout=timeout_ms)


def chart_data(page, index: int) -> list:
    """The traces (name, x, y) plotly drew in the ``index``-th chart on the page."""
    return page.evaluate(
        "(i) => { const g = document.querySelectorAll('.js-plotly-plot')[i];"
        " return g.data.map(t => [t.name, t.x || null, t.y || null]); }", index)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


#: Bounding boxes, in the drawn SVG, of what :func:`assert_readable` compares.
_FIGURE_BOXES = """() => {
  const box = (e) => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left,
                                                                   right: r.right}; };
  const first = (selector) => document.querySelector(selector) ? box(document.querySelector(selector)) : null;
  return {
    xticks: [...document.querySelectorAll('.xtick text')].map(e => ({...box(e), text: e.textContent})),
    yticks: [...document.querySelectorAll('.ytick text')].map(e => ({...box(e), text: e.textContent})),
    y2ticks: [...document.querySelectorAll('.y2tick text')].map(box),
    legend: first('.legend'), ytitle: first('.ytitle'), xtitle: first('.xtitle'),
    plot: first('.nsewdrag') || first('.bglayer rect'), subtitle: first('.gtitle-subtitle'), figure: first('.main-svg'),
  };
}"""


def drawn_figures(figures: dict, folder: Path) -> dict[str, dict]:
    """Each plotly figure drawn alone in headless Chromium: the boxes of its labels, legend and plot."""
    drawn = {}
    with headless_chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        for name, figure in figures.items():
            path = folder / f"{name}.html"
            figure.write_html(path, include_plotlyjs=True)
            page.goto(path.as_uri())
            page.wait_for_selector(".main-svg")
            drawn[name] = page.evaluate(_FIGURE_BOXES)
    return drawn


def assert_readable(boxes: dict, name: str, *, rows: int | None = None) -> None:
    """A drawn figure (:func:`drawn_figures`) whose category labels are whole (and, with ``rows``, all there),
    whose legend is clear of the axis's labels and title, whose plots' labels do not collide, and whose
    value axis title stays within the plot's height."""
    assert boxes["yticks"], name
    assert min(tick["left"] for tick in boxes["yticks"]) >= 0, f"{name}: a category label is cut off"
    if rows is not None:  # a label for every row, none skipped for want of room
        assert len({tick["text"] for tick in boxes["yticks"]}) == rows, name
    below = max(tick["bottom"] for tick in boxes["xticks"] + ([boxes["xtitle"]] if boxes["xtitle"] else []))
    if boxes["legend"] is not None:
        assert boxes["legend"]["top"] >= below, f"{name}: the legend covers the axis's labels"
    if boxes["y2ticks"]:  # a plot below the first: the months' labels clear of its values
        assert min(tick["top"] for tick in boxes["y2ticks"]) >= below, f"{name}: the plots' labels collide"
    if boxes["ytitle"] is not None:
        assert boxes["ytitle"]["top"] >= boxes["plot"]["top"] - 10, f"{name}: the axis title runs past the plot"
