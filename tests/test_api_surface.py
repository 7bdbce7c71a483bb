"""The public import surface (shieldlab.api): the front ends are thin layers over it, and importing it
stays light.

Checked by parsing the front ends' sources: the command line (cli.py), the web app (web/app.py) and the
report's builder, sweeps and uncertainty section import from shieldlab.api, shieldlab.output (formatting) and their own
front-end package only, never from the engine's modules (engagement, coverage, threat, ...).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import shieldlab.api as api

SRC = Path(api.__file__).resolve().parent
FRONT_ENDS = {
    # file: the front-end packages it may use besides shieldlab.api and shieldlab.output
    "cli.py": ("shieldlab.report", "shieldlab.web.app"),
    "web/app.py": ("shieldlab.web",),
    "report/build.py": ("shieldlab.report",),
    "report/html.py": ("shieldlab.report",),
    "report/sweeps.py": ("shieldlab.report",),
    "report/uncertainty.py": ("shieldlab.report",),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every shieldlab import in the file, those inside functions included; `from
    shieldlab import x` counts as shieldlab.x."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "shieldlab"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "shieldlab":
            if node.module == "shieldlab":
                out += [(node.lineno, f"shieldlab.{a.name}") for a in node.names]
            else:
                out.append((node.lineno, node.module))
    return out


def _allowed(module: str, own: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in ("shieldlab.api", "shieldlab.output", *own))


@pytest.mark.parametrize("name", list(FRONT_ENDS))
def test_front_ends_import_only_the_api(name):
    path = SRC / name
    found = _imports(path)
    assert any(m == "shieldlab.api" for _, m in found), f"{name} does not use shieldlab.api at all"
    bad = [f"{name}:{line}: {m}" for line, m in found if not _allowed(m, FRONT_ENDS[name])]
    assert not bad, "front ends must go through shieldlab.api:\n" + "\n".join(bad)


def test_the_check_sees_a_violation(tmp_path):
    p = tmp_path / "x.py"
    p.write_text("def f():\n    from shieldlab.coverage.run import run\n    from shieldlab import catalog\n")
    found = _imports(p)
    assert found == [(2, "shieldlab.coverage.run"), (3, "shieldlab.catalog")]
    assert not any(_allowed(m, ()) for _, m in found)


def test_all_names_exist_and_the_dead_ones_are_gone():
    for name in api.__all__:
        assert getattr(api, name) is not None, name
    for gone in ("AimError", "run_coverage", "engage_document", "coverage_document", "to_dataset"):
        assert gone not in api.__all__ and not hasattr(api, gone), gone
    import shieldlab.errors

    assert not hasattr(shieldlab.errors, "AimError")


def test_importing_the_api_leaves_heavy_packages_out():
    code = ("import sys, shieldlab.api; "
            "print(sorted(m for m in ('xarray', 'matplotlib', 'cartopy', 'dask', 'fastapi') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout


def test_the_api_functions_find_the_names_they_import_on_first_use():
    """The names of shieldlab.api imported on first use (`_LAZY`, a module __getattr__) are not globals of the
    module until something asks for them from outside: a function of the API that uses one must import it itself.
    Run in a fresh process, where nothing has asked yet: `engage(..., pairs=...)` counts the pairs."""
    code = ("import shieldlab.api as a; from pathlib import Path; "
            f"sc = a.load_scenario(Path({str(SRC.parents[1] / 'examples' / 'coverage-us-east.toml')!r})); "
            "print(a.engage(sc, pairs=[0, 1]).flights.n)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "2", out.stdout
