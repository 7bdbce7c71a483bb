"""The public Python API of shieldlab. The CLI and the web app are thin layers over these names.

    from shieldlab.api import load_scenario, engage, engage_document
    doc = engage_document(engage(load_scenario("examples/kozelsk-washington.toml")))

    from shieldlab.api import coverage, write_output
    ds = coverage(load_scenario("examples/coverage-us-east.toml"), workers=2)   # an xarray.Dataset
    write_output(ds, "coverage.png")                                            # or .nc / .csv / .geojson
"""

from __future__ import annotations

from shieldlab import __version__
from shieldlab.coverage.run import CoverageResult
from shieldlab.coverage.run import run as run_coverage
from shieldlab.earth.model import Earth
from shieldlab.engagement.engage import EngageResult, engage
from shieldlab.errors import MISSING, AimError, Problem, ScenarioError, ShieldlabError
from shieldlab.output.jsonout import coverage_document, engage_document
from shieldlab.scenario.load import load_scenario, load_scenario_text
from shieldlab.scenario.model import (Battery, CoverageSpec, EarthSpec, InterceptorType, MissileType, Point, Radar,
                                      Scenario, Sector, ThreatSpec, Trajectory)

__all__ = [
    "__version__", "Earth", "EngageResult", "engage", "engage_document", "load_scenario", "load_scenario_text",
    "AimError", "Problem", "ScenarioError", "ShieldlabError", "Battery", "CoverageSpec", "EarthSpec",
    "InterceptorType", "MissileType", "Point", "Radar", "Scenario", "Sector", "ThreatSpec", "Trajectory",
    "CoverageResult", "coverage", "coverage_document", "run_coverage", "to_dataset", "require_coverage",
    "OutputError", "write_output", "write_outputs",
]


def require_coverage(scenario: Scenario) -> None:
    """Raise ScenarioError (naming the file) when the scenario has no [coverage] table."""
    if scenario.coverage is None:
        raise ScenarioError([Problem(
            scenario.source or scenario.name, "", "coverage", MISSING,
            "a [coverage] table (missile, from = launch points, to = aim grid or places) to run a coverage")])


def coverage(scenario: Scenario, **kw):
    """Run the scenario's [coverage] and return it as an xarray.Dataset (shieldlab.coverage.dataset).

    Keywords go to :func:`run_coverage`: ``workers`` (local processes), ``scheduler`` (a dask scheduler
    address), ``chunk_size``, ``progress`` (a callback ``progress(done_pairs, total_pairs)``).
    """
    from shieldlab.coverage.dataset import to_dataset

    require_coverage(scenario)
    return to_dataset(run_coverage(scenario, **kw))


# imported on first use: xarray (and cartopy for maps) are slow to import and `engage` needs neither
_LAZY = {
    "to_dataset": ("shieldlab.coverage.dataset", "to_dataset"),
    "write_output": ("shieldlab.output.files", "write"),
    "write_outputs": ("shieldlab.output.files", "write_all"),
    "OutputError": ("shieldlab.output.files", "OutputError"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
