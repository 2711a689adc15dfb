"""A viewer's kernel that no page can ask to shut down (browser killed, laptop closed) goes once idle; an
open page's kernel and the preheated pool's stay however long they sit."""

from __future__ import annotations

import re
import time

import pytest
from browser import Server, headless_chromium, wait_for_charts

from analytics import cli, dashboard, serve

#: Short, for the test; the server's default is a quarter of an hour. The culler looks every quarter of it.
ABANDONED_AFTER = 12


@pytest.fixture(scope="module")
def server(sample_warehouse, tmp_path_factory):
    running = Server(warehouse=sample_warehouse, log=tmp_path_factory.mktemp("voila") / "server.log",
                     abandoned_kernel_seconds=ABANDONED_AFTER)
    try:
        yield running.wait_ready()
    finally:
        running.stop()


def _until(condition, what: str, server: Server, seconds: float = 60, page=None) -> None:
    """Wait for ``condition``; with ``page``, in its wait, so that Playwright handles its events meanwhile."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} not seen in {seconds:.0f} s:\n{server.log_text()[-3000:]}"
        if page is not None:
            page.wait_for_timeout(200)
        else:
            time.sleep(0.2)


def _shut_down(server: Server) -> set[str]:
    return set(re.findall(r"Kernel shutdown: ([0-9a-f-]+)", server.log_text()))


def _kernel_of(page) -> str:
    return page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")


def _opened(browser, server: Server, notebook: str, *, connect_after: float = 0):
    """A page of ``notebook``, live; its kernel's websocket held back ``connect_after`` seconds first."""
    page = browser.new_page()
    if connect_after:
        def held_back(socket) -> None:
            time.sleep(connect_after)
            socket.connect_to_server()

        page.route_web_socket(re.compile(r".*/api/kernels/[^/]+/channels.*"), held_back)
    page.goto(f"{server.url}/voila/render/{notebook}")
    wait_for_charts(page, 1)
    kernel = _kernel_of(page)
    # live: its widgets connected to the kernel
    _until(lambda: f"(kernel {kernel})" in server.log_text(), "the page's connection", server, page=page)
    return page, kernel


@pytest.mark.browser
def test_an_abandoned_kernel_is_shut_down_and_an_open_page_keeps_its_own(server, sample_warehouse):
    started = set(re.findall(r"Kernel started: ([0-9a-f-]+)", server.log_text()))
    assert len(started) == 2  # the two dashboards' preheated kernels
    with headless_chromium() as browser:
        # as from a browser killed: the page's request to shut its kernel down never reaches the server
        gone_page, gone = _opened(browser, server, "policy-review.ipynb")
        gone_page.route("**/api/shutdown/**", lambda route: route.abort())
        gone_page.close()
        _until(lambda: gone in _shut_down(server), "the abandoned kernel's shutdown", server)
        assert f"({gone}) with 0 connections" in server.log_text()  # culled for being idle and unconnected
        # the other dashboard's pooled kernel, idle since the server started (longer than the abandoned one),
        # is spared
        assert _shut_down(server) == {gone}
        # taken from the pool after that long idle, it is not shut down before its page connects, even when
        # the culler looks in between (it looks every quarter of the limit)
        page, kernel = _opened(browser, server, "leadership.ipynb", connect_after=ABANDONED_AFTER / 2)
        assert _shut_down(server) == {gone}
        # connected pages, and no warning about the websocket pings' settings (harmless, and alarming)
        assert "websocket_ping_timeout" not in server.log_text()
        # the pool's kernel started again for the page abandoned, idle there past the limit, as is the open
        # page's: neither is shut down
        refilled = "Kernel pool of policy-review.ipynb is filled"
        _until(lambda: server.log_text().count(refilled) == 2, "the pool filled again", server)
        time.sleep(1.5 * ABANDONED_AFTER)
        assert _shut_down(server) == {gone}
        # and the open page still answers its filters from its kernel
        department = dashboard.filter_options(dashboard.load_data(sample_warehouse).quarterly)["departments"][1]
        page.locator("select").nth(1).select_option(label=department)
        page.wait_for_function(
            "(name) => document.querySelectorAll('.js-plotly-plot')[0].data.some(t => t.name === name)",
            arg=department, timeout=30_000)
        assert _kernel_of(page) == kernel and kernel not in _shut_down(server)


@pytest.mark.parametrize("seconds", [0, -5, 1.5, "600"])
def test_the_abandoned_kernel_limit_must_be_whole_seconds(seconds):
    with pytest.raises(ValueError, match="abandoned_kernel_seconds"):
        serve.serve(port=8866, abandoned_kernel_seconds=seconds)


def test_the_command_refuses_a_limit_of_no_minutes(capsys):
    assert cli.main(["dashboard", "--abandoned-after", "0"]) == 2
    assert "--abandoned-after 0: give minutes above 0" in capsys.readouterr().err
