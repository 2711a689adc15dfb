"""The project's set-up promises: two README commands, conda and pip in step, clean notebooks."""

from __future__ import annotations

import json
import re
import tomllib

import yaml

from analytics import config

ROOT = config.PROJECT_ROOT
CONDA_NAMES = {"duckdb": "python-duckdb"}


def _requirement(spec: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    assert match, spec
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject_dependencies():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = dict(_requirement(d) for d in pyproject["project"]["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed: dict[str, str] = {}
    for entry in env["dependencies"]:
        specs = entry["pip"] if isinstance(entry, dict) else [entry]
        for spec in specs:
            if spec.startswith("-e"):
                continue
            name, bound = _requirement(spec)
            listed[name] = bound
    for name, bound in wanted.items():
        conda_name = CONDA_NAMES.get(name, name)
        assert conda_name in listed or name in listed, f"{name} is in pyproject.toml but not in environment.yml"
        assert listed.get(conda_name, listed.get(name)) == bound, f"{name}: bounds differ ({bound})"
    extra = set(listed) - {CONDA_NAMES.get(n, n) for n in wanted} - {"python", "pip"}
    assert not extra, f"environment.yml lists packages pyproject.toml does not: {sorted(extra)}"


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text().split("\n")[:25]
    commands = [line.strip() for line in head if line.strip().startswith("make ")]
    assert commands[:2] == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text()
    assert "make test" in script and "chromium" in script


def test_notebooks_are_committed_without_outputs():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "dashboards").glob("*.ipynb"))
    for path in notebooks:
        cells = json.loads(path.read_text())["cells"]
        dirty = [i for i, c in enumerate(cells)
                 if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
        assert not dirty, f"{path.name} has outputs committed in cells {dirty}; clear them before committing"
