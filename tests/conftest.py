"""Fixtures shared by the test modules: the `shieldlab` command run as a user runs it, and scenario files written
from texts (the shared scenario texts are in tests/scenarios.py).

The `kernels` marker (pyproject.toml) marks tests that, between them, call every compiled kernel;
tests/test_jit_paths.py runs them again with SHIELDLAB_JIT=0 (plain Python). With SHIELDLAB_KERNEL_CALLS=FILE
set in such a run, this file records in FILE (JSON) which kernels were called and each test's outcome.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI_GUARD_S = 600  # only a guard against a hung process, not a timing assertion
KERNEL_CALLS_ENV = "SHIELDLAB_KERNEL_CALLS"


def _run_shieldlab(*args, columns: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("COLUMNS", None)  # rich sizes its tables by COLUMNS: a test that cares sets it
    if columns is not None:
        env["COLUMNS"] = columns
    return subprocess.run([sys.executable, "-m", "shieldlab", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=CLI_GUARD_S, check=False)


@pytest.fixture(scope="session")
def shieldlab_cli():
    """`python -m shieldlab ARGS...` in a subprocess: shieldlab_cli("engage", path, "--json", columns="200")."""
    return _run_shieldlab


@pytest.fixture(scope="session")
def toml_file(tmp_path_factory):
    """Writes a scenario text to a new file: toml_file(text, "name.toml") -> Path (a new folder each call)."""

    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path_factory.mktemp("scenario") / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


# ---- which kernels a SHIELDLAB_JIT=0 run calls (tests/test_jit_paths.py) ---------------------------------------
class _KernelCalls:
    """Wraps shieldlab._jit.njit (with SHIELDLAB_JIT=0 the identity) before any kernel module is imported (this
    file is imported before the test modules), so that each kernel notes its first call. Writes `kernels`: the
    module.function of every kernel imported, `called`: those called, each with the first test that called
    it, and `outcomes`: each test's outcome."""

    def __init__(self, path: str):
        from shieldlab import _jit

        self.path, self.jit = path, _jit.ENABLED
        self.kernels: set[str] = set()
        self.called: dict[str, str] = {}
        self.outcomes: dict[str, str] = {}
        self.test = ""
        if self.jit:  # compiled kernels cannot be wrapped: nothing is recorded and the file says "jit": true
            return
        plain = _jit.njit

        def recording_njit(*args, **kwargs):
            def wrap(f):
                f = plain(f)
                name = f"{f.__module__}.{f.__qualname__}"
                self.kernels.add(name)

                @functools.wraps(f)
                def call(*a, **k):
                    if name not in self.called:
                        self.called[name] = self.test
                    return f(*a, **k)

                return call

            return wrap(args[0]) if args and callable(args[0]) else wrap

        _jit.njit = recording_njit

    def write(self):
        doc = {"jit": self.jit, "kernels": sorted(self.kernels), "called": dict(sorted(self.called.items())),
               "outcomes": self.outcomes}
        Path(self.path).write_text(json.dumps(doc, indent=1), encoding="utf-8")


_KERNEL_CALLS = _KernelCalls(os.environ[KERNEL_CALLS_ENV]) if os.environ.get(KERNEL_CALLS_ENV) else None


def pytest_runtest_logstart(nodeid, location):
    if _KERNEL_CALLS is not None:
        _KERNEL_CALLS.test = nodeid


def pytest_runtest_logreport(report):
    if _KERNEL_CALLS is not None and (report.when == "call" or report.outcome != "passed"):
        _KERNEL_CALLS.outcomes[report.nodeid] = report.outcome  # a failed or skipped set-up counts too


def pytest_sessionfinish(session):
    if _KERNEL_CALLS is not None:
        _KERNEL_CALLS.write()
