"""Fixtures shared by the test modules: the `shieldlab` command run as a user runs it, scenario files written
from the shared texts (tests/scenarios.py), and the engagement-europe scenario computed once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import scenarios

CLI_GUARD_S = 600  # only a guard against a hung process, not a timing assertion


def _run_shieldlab(*args, columns: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("COLUMNS", None)  # rich sizes its tables by COLUMNS: a test that cares sets it
    if columns is not None:
        env["COLUMNS"] = columns
    return subprocess.run([sys.executable, "-m", "shieldlab", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=CLI_GUARD_S, check=False)


@pytest.fixture(scope="session")
def shieldlab_cli():
    """`python -m shieldlab ARGS...` in a subprocess: shieldlab_cli("engage", path, "--json", columns="200")."""
    return _run_shieldlab


@pytest.fixture(scope="session")
def toml_file(tmp_path_factory):
    """Writes a scenario text to a new file: toml_file(text, "name.toml") -> Path (one new folder a call)."""

    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path_factory.mktemp("scenario") / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def europe_result():
    """engage() of scenarios.EUROPE (the engagement-europe geometry with two fast batteries)."""
    from shieldlab.api import engage, load_scenario_text

    return engage(load_scenario_text(scenarios.EUROPE, "europe.toml"))
