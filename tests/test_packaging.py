"""The conda environment and the pip project must list the same dependencies with the same bounds."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
_REQ = re.compile(r"^\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*(.*)$")
CONDA_NAMES = {"python-igraph": "igraph"}
"""conda-forge names that differ from PyPI's for the same package (conda's ``igraph`` is the C library)."""


def _split(requirement: str) -> tuple[str, str]:
    match = _REQ.match(requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_side = dict(_split(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_side = dict(_split(d) for d in env["dependencies"] if isinstance(d, str) and d not in ("pip",))
    conda_side = {CONDA_NAMES.get(name, name): bound for name, bound in conda_side.items()}
    python_bound = conda_side.pop("python")
    assert python_bound == project["requires-python"]
    assert conda_side == pip_side


def test_makefile_builds_its_own_virtualenv() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "-m venv" in makefile and "pip install" in makefile
    assert re.search(r"^test: setup", makefile, re.M) and re.search(r"^demo: setup", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
