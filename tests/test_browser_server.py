"""The dashboard tests' server goes when the test process goes, even killed (no teardown runs then)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited; only its parent's wait is missing


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_a_killed_test_process_leaves_no_dashboard_server(tmp_path):
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from browser import Server; "
         f"server = Server(warehouse=None, preheat=False, log=Path({str(tmp_path / 'server.log')!r})); "
         "print(server.process.pid, flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(TESTS), os.environ.get("PYTHONPATH", "")])})
    server = int(parent.stdout.readline())
    try:
        time.sleep(1)
        assert _running(server)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 30
        while _running(server) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _running(server), (tmp_path / "server.log").read_text()
    finally:  # a failing run must not leave its server behind either (its session's group is its pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server, signal.SIGKILL)


def test_a_server_stopped_just_after_a_visit_starts_no_kernel_to_refill_its_pool(sample_warehouse, tmp_path):
    """The pool refills a taken kernel some seconds after the visit; a stop in between cancels the refill
    rather than start a kernel and render a dashboard only to shut it down."""
    from browser import Server

    server = Server(warehouse=sample_warehouse, log=tmp_path / "server.log").wait_ready()
    try:
        assert server.log_text().count("Kernel started") == 2  # the two dashboards' preheated kernels
        status, page = server.get("/voila/render/leadership.ipynb")  # takes the pool's kernel
        assert status == 200 and "jupyter-config-data" in page
    finally:
        server.stop()
    log = server.log_text()
    assert server.process.returncode is not None
    assert log.count("Kernel started") == 2, log[-3000:]
    assert "never awaited" not in log, log[-3000:]
