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
