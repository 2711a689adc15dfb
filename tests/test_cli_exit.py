"""The program ends as soon as its command is done (:func:`analytics.cli.run`), yet does what the interpreter's
exit does that matters: it waits for threads, stops the pools, runs the exit hooks and flushes its output."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

PROGRAM = textwrap.dedent("""
    import atexit, sys, threading, time
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    from analytics import cli

    out = Path(sys.argv[1])
    command_done = threading.Event()
    command = cli.main

    def main():
        code = command()
        command_done.set()
        return code

    def late():  # still working when the command is done
        command_done.wait()
        time.sleep(0.3)
        (out / "thread").write_text("ran")

    def exit_hook():
        (out / "exit hook").write_text("ran")
        print("said at exit", end="")  # no newline: still in the buffer of a piped stdout

    cli.main = main
    atexit.register(exit_hook)
    threading.Thread(target=late).start()
    # its thread is not a daemon and waits for work until the interpreter's own hook says the pool is done
    pool = ThreadPoolExecutor(1)
    pool.submit(time.sleep, 0.1)
    sys.argv = ["policy-pulse", "summary", "--warehouse", str(out / "missing.duckdb")]
    cli.run()
    """)


def test_the_program_waits_for_its_threads_runs_its_exit_hooks_and_flushes_before_it_ends(tmp_path: Path) -> None:
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(tmp_path)], capture_output=True, text=True,
                          timeout=60, env=buffered)
    assert done.returncode == 2, done.stderr  # the command's own code: no warehouse there
    assert "missing.duckdb" in done.stderr
    assert done.stdout == "said at exit"
    assert (tmp_path / "thread").read_text() == "ran"
    assert (tmp_path / "exit hook").read_text() == "ran"


def test_under_a_profiler_the_program_ends_as_usual_so_the_profile_is_written(tmp_path: Path) -> None:
    profile = tmp_path / "summary.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "analytics.cli", "summary",
                           "--warehouse", str(tmp_path / "missing.duckdb")], capture_output=True, text=True, timeout=60)
    assert "missing.duckdb" in done.stderr  # the command ran (cProfile ends with its own exit code, 0)
    assert profile.stat().st_size > 0
