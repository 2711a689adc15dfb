"""Test-session set-up for ``tests/``, the doctests and the notebooks nbval executes.

A private key, a private config folder and ONE shared sample warehouse, built once per test run from
the committed ``data/sample/`` (ingest + build) and shared by every xdist worker and by the notebook
kernels (they inherit ``POLICY_PULSE_WAREHOUSE``). It lives at the project root so its hooks reach
``notebooks/`` as well as ``tests/``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from analytics import config

#: the process that starts the run (xdist's controller, or pytest alone) names the run's folder; its workers,
#: notebook kernels and other children inherit the name, and it removes the folder when the run ends
_STARTS_THE_RUN = "POLICY_PULSE_TEST_RUN" not in os.environ
_RUN_ID = os.environ.setdefault("POLICY_PULSE_TEST_RUN", str(os.getpid()))
SHARED = Path(tempfile.gettempdir()) / f"policy-pulse-tests-{_RUN_ID}"
SHARED.mkdir(parents=True, exist_ok=True)
SAMPLE_WAREHOUSE = SHARED / "sample.duckdb"

# Two BLAS threads per process on a busy two-core machine spin against each other; kernels inherit this.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

# Everything the package resolves through the environment points into the shared test folder.
os.environ["POLICY_PULSE_CONFIG_DIR"] = str(SHARED / "config")
os.environ["POLICY_PULSE_KEY"] = "policy-pulse-test-key-not-secret"
os.environ["POLICY_PULSE_WAREHOUSE"] = str(SAMPLE_WAREHOUSE)


def ensure_sample_warehouse() -> Path:
    """Build the shared sample warehouse once (a file lock makes concurrent workers wait)."""
    done = SHARED / "sample.done"
    with open(SHARED / "sample.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            from analytics import ingest

            results = ingest.ingest_paths([config.SAMPLE_DIR], warehouse_file=SAMPLE_WAREHOUSE)
            failed = [r.message for r in results if r.status == "failed"]
            assert not failed, f"the committed sample did not ingest: {failed}"
            try:
                from analytics import build
            except ImportError:
                build = None
            if build is not None:
                build.build(warehouse_file=SAMPLE_WAREHOUSE)
            done.write_text("ok")
    return SAMPLE_WAREHOUSE


def pytest_unconfigure(config: pytest.Config) -> None:
    if _STARTS_THE_RUN:
        shutil.rmtree(SHARED, ignore_errors=True)


@pytest.fixture(scope="session")
def sample_warehouse() -> Path:
    return ensure_sample_warehouse()


@pytest.fixture(scope="session")
def sample_truth() -> dict:
    import json

    return json.loads((config.SAMPLE_DIR / "truth.json").read_text())


@pytest.fixture
def one_new_post(tmp_path: Path) -> Path:
    """A monitoring export holding one post the sample does not have (an unattributed account's)."""
    posts = tmp_path / "monitoring_new.csv"
    posts.write_text("platform,handle,posted_at,text,url,likes,comments,shares\n"
                     "x,@nobody_new,2026-09-20 10:00,A brand new post about our food bank!,"
                     "https://x.com/nobody_new/status/9999999,1,0,0\n")
    return posts


def pytest_runtest_setup(item: pytest.Item) -> None:
    # notebooks executed by nbval read the shared warehouse through POLICY_PULSE_WAREHOUSE
    if item.fspath is not None and str(item.fspath).endswith(".ipynb"):
        ensure_sample_warehouse()


@pytest.fixture
def fresh_warehouse(tmp_path: Path) -> Path:
    """An empty warehouse file path of the test's own (with its own vault)."""
    return tmp_path / "warehouse.duckdb"
