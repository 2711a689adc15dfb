"""A dashboard's next viewer sees what the warehouse's last publication holds, never what a kernel the server
rendered in advance read before it (numbers since rebuilt, a person since erased)."""

from __future__ import annotations

import re
import shutil
import time

from browser import Server

from analytics import cli, snapshots, warehouse

DASHBOARDS = ("leadership.ipynb", "policy-review.ipynb")
#: when the copy's last build says it was built, before the test builds it again
OLD_BUILD = "2020-01-02 03:04:00"


def _banner_build(page: str) -> str:
    """The "built …" part of a dashboard's coverage banner, from its static first screen."""
    found = re.search(r"built (\d\d \w{3} \d{4} \d\d:\d\d) UTC", page)
    assert found, page[:2000]
    return found.group(1)


def test_a_publication_renders_the_pooled_dashboards_again(sample_warehouse, tmp_path):
    served = tmp_path / "warehouse.duckdb"
    shutil.copyfile(sample_warehouse, served)
    con = warehouse.connect(served)
    con.execute(f"UPDATE build_log SET built_at = TIMESTAMPTZ '{OLD_BUILD}+00'")
    snapshots.publish_snapshot(con, served)
    server = Server(warehouse=served, log=tmp_path / "server.log").wait_ready()
    try:
        assert server.log_text().count("Kernel started") == 2  # each dashboard rendered once, from the old build
        # a build publishes while both dashboards wait in the pool, rendered from what it replaces
        assert cli.main(["build", "--warehouse", str(served)]) == 0
        deadline = time.monotonic() + 90
        while not all(server.log_text().count(f"Kernel pool of {name} is filled") == 2 for name in DASHBOARDS):
            assert time.monotonic() < deadline, server.log_text()[-3000:]
            time.sleep(0.3)
        log = server.log_text()
        for name in DASHBOARDS:  # rendered again before anyone asked, so the next viewer waits no longer
            assert f"Rendering {name} again for its next viewer" in log, log[-3000:]
        assert log.count("Kernel started") == 4 and log.count("Kernel shutdown") == 2, log[-3000:]
        for name in DASHBOARDS:
            status, page = server.get(f"/voila/render/{name}")
            assert status == 200
            assert _banner_build(page) != "02 Jan 2020 03:04", name
    finally:
        server.stop()
