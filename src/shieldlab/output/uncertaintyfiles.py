"""Files of an uncertainty run (`shieldlab uncertainty FILE --out`): `.nc`, the samples and results as a netCDF-4
Dataset; `.png`, maps of the probability of an intercept per battery (a run over a [coverage]). Written all or
nothing, like coverage outputs (output/files.py)."""

from __future__ import annotations

import os
from pathlib import Path

from shieldlab.output.files import OutputError, _render_netcdf, check_output_path, write_files
from shieldlab.uncertainty.run import MAX_SERIAL_EVALUATIONS, evaluations, runs_over_pairs  # noqa: F401

FORMATS = {".nc": "netCDF-4", ".png": "PNG map (a [coverage] run)"}


def check_uncertainty_output(path, scenario) -> str:
    """Check before computing anything that `path` can be written: `.nc`, or `.png` for a [coverage] run."""
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        known = ", ".join(f"{e} ({d})" for e, d in FORMATS.items())
        raise OutputError(f"{os.fspath(path)}: unknown output format {ext or '(no extension)'!r}; use one of {known}")
    if ext == ".png" and not runs_over_pairs(scenario):
        raise OutputError(f"{os.fspath(path)}: a probability map needs a run over a [coverage] (a scenario with a "
                          f"[coverage] table and no [[threats]]); for [[threats]] use --json or .nc")
    if ext == ".png" and not scenario.batteries:
        raise OutputError(f"{os.fspath(path)}: a probability map needs at least one [[batteries]] entry")
    check_output_path(path)
    return ext


def _render_png(ds, tmp) -> None:
    from shieldlab.output.mapplot import save_figure
    from shieldlab.output.uncertaintymap import probability_figure

    save_figure(probability_figure(ds), tmp, format="png")


_RENDER = {".nc": _render_netcdf, ".png": _render_png}


def write_all(result, paths) -> None:
    """Write the result's files, all or nothing (OutputError naming the file; no target changed then)."""
    write_files(paths, lambda p: check_uncertainty_output(p, result.scenario), result.to_dataset, _RENDER)
