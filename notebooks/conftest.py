"""pytest set-up for the notebooks nbval executes (``pytest --nbval-lax notebooks``).

pytest scopes a conftest's hooks to the files under its folder, so the session set-up of
``tests/conftest.py`` (private key, config folder, the one shared sample warehouse and
``POLICY_PULSE_WAREHOUSE``) is loaded from here too: the notebook kernels inherit that environment and
read the sample warehouse, whether ``notebooks`` runs alone or with the rest of the suite.

A notebook's cells share one kernel, so under pytest-xdist they must stay on one worker: run with
``--dist loadfile`` (or ``loadscope``). ``--dist loadgroup`` cannot keep them together here: with
pytest 9 an item's ``nodeid`` no longer reads the ``_nodeid`` that xdist 3.8 rewrites for groups.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

# Two threads of BLAS per kernel on a busy two-core machine spin against each other (the event
# study's least squares took seconds instead of a fraction of one); kernels inherit this.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

_SESSION_MODULE = "_policy_pulse_test_session"
# Not a test module: --doctest-modules would import this file a second time under the name
# `conftest`, which tests/conftest.py already holds ("import file mismatch").
collect_ignore = ["conftest.py"]


def _session():
    """``tests/conftest.py`` as a module (imported once; importing it sets the environment)."""
    if _SESSION_MODULE not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "tests" / "conftest.py"
        spec = importlib.util.spec_from_file_location(_SESSION_MODULE, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[_SESSION_MODULE] = module
        spec.loader.exec_module(module)
    return sys.modules[_SESSION_MODULE]


_session()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if str(getattr(item, "path", "")).endswith(".ipynb"):
        _session().ensure_sample_warehouse()
