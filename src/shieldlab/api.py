"""The public Python API of shieldlab: the one import surface. The command line (cli.py), the web app
(web/app.py) and the report (report/) are thin layers over these names.

    from shieldlab.api import load_scenario, engage
    res = engage(load_scenario("examples/kozelsk-washington.toml"))
    res                      # <EngageResult 'Kozelsk to Washington ...': 3 threats x 3 sensors x 3 batteries, ...>
    doc = res.to_document()  # the `engage --json` document as a dict
    res.engagements.reason(0, 1)                     # <Reason.TIMELINE: 'timeline'>
    res.engagements.first.time_s                     # (threats, batteries) first intercept times, NaN: none

    from shieldlab.api import coverage, write_output
    cov = coverage(load_scenario("examples/coverage-us-east.toml"), workers=2)   # a CoverageResult
    ds = cov.to_dataset()                            # the xarray Dataset (what `--out F.nc` writes)
    write_output(cov, "coverage.png")                # or .nc / .csv / .geojson

    from shieldlab.api import assess, write_assess_output
    res = assess(load_scenario("examples/assess-2017.toml"))     # an AssessResult
    res["hwasong-15-2017-11-29"].fit("staged").max_range_m        # the fitted missile's range along the test's azimuth
    write_assess_output(res, "reach.png")                         # or .geojson: the reach contours

Results (shieldlab.engagement.results) are frozen dataclasses of read-only numpy arrays, leading axis the
threat or the pair, then the battery or the sensor: `Flights`, `Detections`, `Engagements` (with first and
last `Intercepts`), and `Reason`, the one vocabulary of why a battery can or cannot engage. xarray,
matplotlib and cartopy are imported only by the functions that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from shieldlab import __version__
from shieldlab._jit import on_first_compile  # noqa: F401 -- the command line's "compiling kernels" notice
from shieldlab.scenario.load import read_scenario_text  # noqa: F401 -- the report re-reads the file as the loader does
from shieldlab.earth.model import Earth
from shieldlab.engagement.engage import engage as _engage
from shieldlab.engagement.latest import latest_launch as _latest_launch
from shieldlab.engagement.results import (NO_CODE, CoverageResult, Detections, EngageResult, Engagements, Flights,
                                          Intercepts, Reason)
from shieldlab.errors import MISSING, Problem, ScenarioError, ShieldlabError, format_value
from shieldlab.interceptor.flyout import Flyout
from shieldlab.scenario.load import load_scenario, load_scenario_text
from shieldlab.scenario.model import (AimGrid, AssessmentSpec, Battery, CoverageSpec, EarthSpec, InterceptorType, MissileType, Point,
                                      Radar, Scenario, Sector, ThreatSpec, Trajectory, UncertaintySpec, VarySpec)

if TYPE_CHECKING:  # imported on first use (see _LAZY)
    from shieldlab.coverage.run import (SchedulerError, check_scheduler_address, choose_chunk_size, count_pairs,
                                        keep_heap, usable_cpus)
    from shieldlab.assess.results import AssessResult
    from shieldlab.uncertainty.results import UncertaintyResult

MODEL_CONSTANTS = ("WGS84_A_M", "WGS84_F", "SPHERE_R_M", "GM_M3_S2", "OMEGA_RAD_S", "J2")

__all__ = [
    "__version__",
    # scenarios
    "load_scenario", "load_scenario_text", "Scenario", "EarthSpec", "Point", "MissileType", "InterceptorType",
    "Sector", "Radar", "Battery", "Trajectory", "ThreatSpec", "AimGrid", "CoverageSpec", "AssessmentSpec", "Earth",
    # running
    "engage", "coverage", "assess", "uncertainty", "require_uncertainty", "require_assessments", "require_coverage", "count_pairs", "choose_chunk_size", "keep_heap", "latest_launch",
    "usable_cpus", "check_scheduler_address", "SchedulerError",
    # results
    "EngageResult", "CoverageResult", "Flights", "Detections", "Engagements", "Intercepts", "Reason", "NO_CODE",
    "AssessResult", "Assessment", "FitResult", "UncertaintyResult", "UncertaintySpec", "VarySpec",
    # outputs
    "write_output", "write_outputs", "write_assess_output", "OutputError", "model_constants", "format_value", "catalog",
    # errors
    "ShieldlabError", "ScenarioError", "Problem", "MISSING",
]


def require_coverage(scenario: Scenario) -> None:
    """Raise ScenarioError (naming the file) when the scenario has no [coverage] table."""
    if scenario.coverage is None:
        raise ScenarioError([Problem(
            scenario.source or scenario.name, "", "coverage", MISSING,
            "a [coverage] table (missile, from = launch points, to = aim grid or places) to run a coverage")])


def engage(scenario: Scenario, *, pairs=None) -> EngageResult:
    """Fly every [[threats]] entry of the scenario and evaluate every sensor and battery against it.

    With `pairs` (numbers of [coverage] pairs, see `count_pairs`), those pairs instead, each aimed on its
    own as a [[threats]] entry is, and named like coverage pairs (`launch -> aim`)."""
    if pairs is not None:
        from shieldlab.coverage.run import count_pairs  # imported on first use (_LAZY): not a global here

        require_coverage(scenario)
        n = count_pairs(scenario)
        p = np.asarray(pairs).reshape(-1)
        if p.size and (not np.issubdtype(p.dtype, np.integer) or p.min() < 0 or p.max() >= n):
            raise ValueError(f"pairs: expected pair numbers from 0 to {n - 1} (the [coverage] has {n} pairs), "
                             f"got {p.tolist()[:10]}")
    return _engage(scenario, pairs)


def coverage(scenario: Scenario, *, workers: int = 1, scheduler: str | None = None, chunk_size: int | None = None,
             progress=None) -> CoverageResult:
    """Run the scenario's [coverage]: every (launch, aim) pair against every sensor and battery.

    `workers`: local processes; `scheduler`: a dask scheduler address (e.g. tcp://host:8786) instead;
    `chunk_size`: pairs per task (default: `choose_chunk_size(count_pairs(scenario), workers, scheduler)`);
    `progress`: a callback ``progress(done_pairs, total_pairs)`` called as chunks finish. Raises
    ScenarioError when the scenario has no [coverage] table."""
    require_coverage(scenario)
    from shieldlab.coverage.run import run as _run_coverage

    return _run_coverage(scenario, workers=workers, scheduler=scheduler, chunk_size=chunk_size, progress=progress)


def require_assessments(scenario: Scenario) -> None:
    """Raise ScenarioError (naming the file) when the scenario has no [[assessments]] table."""
    if not scenario.assessments:
        raise ScenarioError([Problem(
            scenario.source or scenario.name, "", "assessments", MISSING,
            "at least one [[assessments]] table (a flight test: missile, from, azimuth or to, observed) to assess")])


def assess(scenario: Scenario) -> AssessResult:
    """Assess every [[assessments]] table (docs/models.md, Assessing a missile from a flight test): fit the free
    parameters of its missile type to the test, then the maximum range along the test's azimuth and every 5 deg of
    azimuth, and the catalog places within reach. Returns an `AssessResult`; an assessment that cannot be done
    carries an `error` sentence. Raises ScenarioError when the scenario has no [[assessments]] table."""
    from shieldlab.assess import assess as _assess

    require_assessments(scenario)
    return _assess(scenario)


def write_assess_output(result, path) -> None:
    """Write the reach contours of an `AssessResult` (or its document) to `path`: `.png` (a map) or `.geojson`.
    Raises OutputError for another extension or an unwritable path."""
    from shieldlab.output.assessmap import write_assess_output as _write

    _write(result if isinstance(result, dict) else result.to_document(), path)


def require_uncertainty(scenario: Scenario) -> None:
    """Raise ScenarioError (naming the file) when the scenario has no [uncertainty] table."""
    from shieldlab.uncertainty.run import require_uncertainty as _require

    _require(scenario)


def uncertainty(scenario: Scenario, *, workers: int = 1, scheduler: str | None = None, progress=None,
                coverage: bool | None = None) -> UncertaintyResult:
    """Run the scenario's [uncertainty] (docs/models.md, Uncertainty): its `samples` draws of the varied values
    (and Saltelli's samples for the Sobol indices), each evaluated against the [[threats]] (or, with `coverage`
    True, or by default for a scenario with a [coverage] and no [[threats]], the [coverage] pairs) and every
    battery. `workers`, `scheduler` and `progress(done, total)` as for `coverage`; the numbers are the same
    whichever way the run is spread. Returns an UncertaintyResult: `.probability`, `.sensitivity`,
    `.to_document()`, `.to_dataset()` (the xarray Dataset of the samples and results). Raises ScenarioError
    when the scenario has no [uncertainty] table."""
    from shieldlab.uncertainty.run import run

    return run(scenario, workers=workers, scheduler=scheduler, progress=progress, coverage=coverage)


def latest_launch(result: EngageResult, site: Point, interceptor: InterceptorType, *, threats=None) -> np.ndarray:
    """L per threat of an EngageResult (scenario seconds): the latest launch of `interceptor` from `site`
    that still intercepts (docs/models.md, The latest launch), from the same free-flight samples as the
    windows, refined on exact flyout times; a battery there engages exactly when its earliest launch t0 <= L
    (the scenario's own batteries have it as `result.engagements.latest_launch_s`). -inf: no time in the
    altitude band can be reached; NaN: a threat that cannot be computed. `threats`: indices to compute
    (others NaN)."""
    return _latest_launch(result.threats, Flyout(result.earth, site, interceptor), threats, result.samples)


def model_constants() -> dict[str, float]:
    """The model constants (name -> value, SI) that `shieldlab version` prints and output files record."""
    from shieldlab import constants

    return {k: getattr(constants, k) for k in MODEL_CONSTANTS}


# imported on first use: xarray (and cartopy for maps) are slow to import and `engage` needs neither; the
# coverage runner's process-pool machinery (multiprocessing, concurrent.futures, tempfile) neither
_LAZY = {
    **{name: ("shieldlab.coverage.run", name) for name in ("SchedulerError", "check_scheduler_address",
                                                           "choose_chunk_size", "count_pairs", "keep_heap",
                                                           "usable_cpus")},
    "write_output": ("shieldlab.output.files", "write"),
    "write_outputs": ("shieldlab.output.files", "write_all"),
    "OutputError": ("shieldlab.output.files", "OutputError"),
    "catalog": ("shieldlab.catalog", None),
    "AssessResult": ("shieldlab.assess.results", "AssessResult"),
    "Assessment": ("shieldlab.assess.results", "Assessment"),
    "FitResult": ("shieldlab.assess.results", "FitResult"),
    "UncertaintyResult": ("shieldlab.uncertainty.results", "UncertaintyResult"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = importlib.import_module(module)
        value = value if attr is None else getattr(value, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
