"""A dashboard's next viewer sees what the warehouse's last publication holds, never what a kernel the server
rendered in advance read before it (numbers since rebuilt, a person since erased); a page already open says
when newer data has been published."""

from __future__ import annotations

import re
import shutil
import time
from datetime import datetime
from pathlib import Path

import pytest
from browser import Server, headless_chromium, wait_for_charts

from analytics import cli, dashboard, serve, snapshots, warehouse

DASHBOARDS = ("leadership.ipynb", "policy-review.ipynb")
#: when the copy's last build says it was built, before the tests build it again
OLD_BUILD = "2020-01-02 03:04:00"


def _served_copy(sample_warehouse: Path, folder: Path) -> tuple[Server, Path]:
    """A server of a copy of the sample warehouse whose last build is dated :data:`OLD_BUILD`, its two
    dashboards rendered in advance from it."""
    target = folder / "warehouse.duckdb"
    shutil.copyfile(sample_warehouse, target)
    con = warehouse.connect(target)
    con.execute(f"UPDATE build_log SET built_at = TIMESTAMPTZ '{OLD_BUILD}+00'")
    snapshots.publish_snapshot(con, target)
    return Server(warehouse=target, log=folder / "server.log").wait_ready(), target


@pytest.fixture(scope="module")
def served(sample_warehouse, tmp_path_factory):
    server, target = _served_copy(sample_warehouse, tmp_path_factory.mktemp("fresh"))
    try:
        yield server, target
    finally:
        server.stop()


def _renderings_again(server: Server) -> dict[str, int]:
    return {name: server.log_text().count(f"Rendering {name} again") for name in DASHBOARDS}


def _fills(server: Server) -> dict[str, int]:
    return {name: server.log_text().count(f"Kernel pool of {name} is filled") for name in DASHBOARDS}


def _wait_for_fills(server: Server, fills: dict[str, int]) -> None:
    """Until each dashboard's pool has been filled ``fills`` times (or more): a pool holds one kernel (the
    server's default), so each fill after the first is the dashboard rendered again (or a viewer's kernel
    replaced)."""
    deadline = time.monotonic() + 90
    while any(_fills(server)[name] < count for name, count in fills.items()):
        assert time.monotonic() < deadline, server.log_text()[-3000:]
        time.sleep(0.3)


def _banner_build(page: str) -> str:
    """The "built …" part of a dashboard's coverage banner, from its static first screen."""
    found = re.search(r"built (\d\d \w{3} \d{4} \d\d:\d\d) UTC", page)
    assert found, page[:2000]
    return found.group(1)


def test_a_stream_of_publications_renders_each_dashboard_again_once_it_stops(served):
    """A watcher publishing export after export kept both dashboards rendering, one rendering per
    publication that came while the last one ran, on the cores the watcher needs."""
    server, target = served
    renderings, fills = _renderings_again(server), _fills(server)
    for _ in range(4):  # a publication a second, well within the quiet time the pool waits for
        snapshots.publish_snapshot(warehouse.connect(target), target)
        time.sleep(1.0)
    assert _renderings_again(server) == renderings
    _wait_for_fills(server, {name: count + 1 for name, count in fills.items()})
    # long enough for a rendering begun before the last publication to have been replaced once more
    time.sleep(serve.REPUBLISHED_QUIET_SECONDS + 3 * serve.REPUBLISHED_CHECK_SECONDS)
    assert _renderings_again(server) == {name: count + 1 for name, count in renderings.items()}, \
        server.log_text()[-3000:]


def test_a_publication_renders_the_pooled_dashboards_again(served):
    server, target = served
    before, renderings, fills = server.log_text(), _renderings_again(server), _fills(server)
    # a build publishes while both dashboards wait in the pool, rendered from what it replaces
    assert cli.main(["build", "--warehouse", str(target)]) == 0
    _wait_for_fills(server, {name: count + 1 for name, count in fills.items()})
    log = server.log_text()
    # rendered again before anyone asked, so the next viewer waits no longer
    assert _renderings_again(server) == {name: count + 1 for name, count in renderings.items()}, log[-3000:]
    for event in ("Kernel started", "Kernel shutdown"):  # a new kernel each, the old one shut down
        assert log.count(event) == before.count(event) + 2, log[-3000:]
    for name in DASHBOARDS:
        status, page = server.get(f"/voila/render/{name}")
        assert status == 200
        assert _banner_build(page) != f"{datetime.fromisoformat(OLD_BUILD):%d %b %Y %H:%M}", name


@pytest.mark.browser
def test_an_open_page_says_when_newer_data_is_published(served):
    server, target = served
    with headless_chromium() as browser:
        page = browser.new_page()
        page.goto(f"{server.url}/voila/render/leadership.ipynb")
        wait_for_charts(page, 1)
        notice = page.locator(".pp-newer")
        assert notice.count() == 0
        assert cli.main(["build", "--warehouse", str(target)]) == 0
        # the page's kernel looks every REPUBLISHED_LOOK_SECONDS while idle
        notice.wait_for(timeout=(dashboard.REPUBLISHED_LOOK_SECONDS + 20) * 1000)
        assert "Newer data was published" in notice.inner_text() and "Reload this page" in notice.inner_text()
        page.close()
