"""Start-up of `import shieldlab.api` and of `shieldlab engage FILE` (issue 10, item 9): what they import.

`shieldlab engage` on a small scenario should take well under a second once its kernels are compiled. The time
itself is measured by benchmarks/bench_startup.py, not asserted here (timings on a shared machine are not test
results); these tests check its causes, in fresh processes:

- xarray, pandas, matplotlib, cartopy, fastapi and dask (output files, maps, the web app, clusters) are not
  imported by the API or by `engage`;
- scipy.linalg is not imported: numba probes for it when it sets up its compiler (0.2-0.3 s), and
  shieldlab._jit keeps that probe from importing it (numba itself imports the top-level `scipy` package, to
  check its version, so `scipy` alone is in sys.modules);
- typer and pydantic (the argument parsing of the other commands, ~0.2 s) are not imported by
  `engage FILE [--json]`, and rich not by `engage FILE --json` -- while every other form of the command still
  goes through typer, with the same output;
- the garbage collector, paused while `engage` imports (shieldlab.cli._import_and_freeze), runs again after;
- the one line "compiling kernels, once" appears on stderr only when kernels are compiled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "examples" / "kozelsk-washington.toml"
RUN_TIMEOUT_S = 600  # a first run compiles the kernels (about a minute; more on a loaded machine)

NOT_FOR_ENGAGE = ("xarray", "pandas", "matplotlib", "cartopy", "fastapi", "uvicorn", "dask", "distributed",
                  "scipy.linalg", "scipy.optimize", "scipy.integrate", "scipy.interpolate")
CLI_ONLY = ("typer", "pydantic", "click")

# runs `shieldlab ARGS...` as the console script does; at exit, writes the names of the imported modules to a file
PROBE = """
import atexit, gc, json, sys
out, args = sys.argv[1], sys.argv[2:]
atexit.register(lambda: json.dump({"modules": sorted(sys.modules), "gc_enabled": gc.isenabled()}, open(out, "w")))
sys.argv = ["shieldlab", *args]
from shieldlab.cli import main
main()
"""


def _python(*args: str, env: dict | None = None, timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout,
                          env=env, check=False)


def _loaded(modules: list[str], names) -> list[str]:
    """The names (packages or subpackages) of which some module is in `modules`."""
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


@pytest.fixture(scope="module")
def engage_runs(tmp_path_factory):
    """`shieldlab engage FILE --json` and `shieldlab engage FILE`: {"json": (process, modules), "table": ...}.
    A first run compiles the kernels if needed, so that these runs load them from the cache."""
    warm = _python("-m", "shieldlab", "engage", str(SCENARIO), "--json")
    assert warm.returncode == 0, warm.stderr
    runs = {}
    for kind, extra in (("json", ["--json"]), ("table", [])):
        out = tmp_path_factory.mktemp("probe") / "modules.json"
        proc = _python("-c", PROBE, str(out), "engage", str(SCENARIO), *extra)
        assert proc.returncode == 0, proc.stderr
        probe = json.loads(out.read_text())
        assert probe["gc_enabled"], "the garbage collector was left paused"
        runs[kind] = (proc, probe["modules"])
    return runs


def test_api_import_leaves_out_the_heavy_packages():
    proc = _python("-c", "import json, sys, shieldlab.api; print(json.dumps(sorted(sys.modules)))")
    assert proc.returncode == 0, proc.stderr
    modules = json.loads(proc.stdout)
    assert "shieldlab.api" in modules and "numba" in modules
    assert _loaded(modules, NOT_FOR_ENGAGE + CLI_ONLY + ("rich", "pyproj")) == []


@pytest.mark.parametrize("kind", ["json", "table"])
def test_engage_leaves_out_the_heavy_packages(engage_runs, kind):
    proc, modules = engage_runs[kind]
    assert "shieldlab.engagement.engage" in modules and "pyproj" in modules  # it did engage
    assert _loaded(modules, NOT_FOR_ENGAGE + CLI_ONLY) == []
    # rich formats the table, and nothing else of a successful --json run
    assert _loaded(modules, ("rich",)) == ([] if kind == "json" else ["rich"])


def test_engage_says_nothing_on_stderr_when_the_kernels_are_cached(engage_runs):
    for proc, _ in engage_runs.values():
        assert proc.stderr == ""


@pytest.mark.parametrize("kind", ["json", "table"])
def test_engage_prints_what_the_typer_command_prints(engage_runs, kind):
    """`main` runs `engage FILE [--json]` without typer; the typer application gives the same output."""
    proc, _ = engage_runs[kind]
    via_typer = _python("-c", "import sys; from shieldlab.cli import app; app(sys.argv[1:])",
                        "engage", str(SCENARIO), *(["--json"] if kind == "json" else []))
    assert via_typer.returncode == 0, via_typer.stderr
    assert proc.stdout == via_typer.stdout
    if kind == "json":
        with SCENARIO.open("rb") as f:
            assert json.loads(proc.stdout)["scenario"] == tomllib.load(f)["name"]


def test_only_the_plain_engage_forms_bypass_typer():
    from shieldlab.cli import _direct_engage

    f = "scenario.toml"
    assert _direct_engage(["engage", f]) == (Path(f), False)
    assert _direct_engage(["engage", f, "--json"]) == (Path(f), True)
    assert _direct_engage(["engage", "--json", f]) == (Path(f), True)
    for args in ([], ["engage"], ["engage", "--json"], ["engage", f, "--help"], ["engage", "--help"],
                 ["engage", f, "--json", "--json"], ["engage", f, "other.toml"], ["engage", "--", f],
                 ["engage", "-x.toml"], ["engage", ""], ["coverage", f], ["version"], ["engage", f, "--jsn"]):
        assert _direct_engage(args) is None, args


def test_first_compile_is_announced_on_stderr(tmp_path):
    """With no compiled kernels for these sources (an empty NUMBA_CACHE_DIR), engage says so at once on stderr;
    stdout stays for the JSON document. The run is stopped there: the compile itself takes a minute."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "shieldlab", "engage", str(SCENARIO), "--json"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()  # the notice, or "" if the process ended without one
    finally:
        proc.kill()
        out, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
    assert line.startswith("compiling kernels, once"), line
    assert str(tmp_path) in line
    assert out == ""


def test_on_first_compile_waits_for_a_compile(engage_runs):
    """When the kernel cache exists (engage_runs filled it), the callback runs at the first compile, once."""
    code = """
from shieldlab import _jit
from shieldlab.api import on_first_compile
calls = []
on_first_compile(calls.append)
assert calls == [], calls  # the cache folder exists and nothing was compiled yet
add_one = _jit.njit(cache=False)(lambda x: x + 1)
assert add_one(1) == 2 and add_one(1.5) == 2.5  # two compiles (int, float), one call of the callback
assert calls == [_jit.CACHE_DIR], calls
"""
    proc = _python("-c", code)
    assert proc.returncode == 0, proc.stderr
