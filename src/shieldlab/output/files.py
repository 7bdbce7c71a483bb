"""Coverage result files, chosen by extension: `.nc`, `.csv`, `.geojson`, `.png`.

Every writer works from the coverage Dataset (:func:`shieldlab.coverage.dataset.to_dataset`), so a
Dataset read back from a `.nc` file can be written again as CSV, GeoJSON or a map.

All writes are atomic: the file is written to a temporary file in the target's directory, then
renamed over the target (``os.replace``). If anything goes wrong, including Ctrl-C, the temporary file
is removed and the target is left as it was (absent, or with its previous content). Several files
(`write_all`) are all or nothing: every temporary file is written first, and the targets are renamed
over only when all of them were written (a rename itself failing, after all were written, is the one
case left: a rename within a directory fails only if the directory changes meanwhile).

Formats:

``.nc``
    netCDF-4 (netcdf4 engine), the Dataset as is.
``.csv``
    One row per (launch, aim) pair, in the documented order, with the battery figures as column groups:
    ``<battery> feasible`` (true/false), ``<battery> reason``, ``<battery> earliest launch s``,
    ``<battery> first intercept s``, ``<battery> first intercept alt km``, ``<battery> last intercept s``,
    ``<battery> latest launch s``, ``<battery> margin s``, and the geometry at the first and the last
    intercept: ``<battery> first intercept closing km/s``, ``<battery> first intercept crossing deg``,
    ``<battery> last intercept closing km/s``, ``<battery> last intercept crossing deg``.
    One row per threat is what a spreadsheet user reads and filters most easily (the row count is the pair
    count, and "which batteries can engage this threat" is one row, also summarised in ``engageable by``).
    Missing numbers are empty cells; UTF-8, comma-separated, header row first.
    After the battery groups, per sensor: ``<sensor> detection s`` and ``<sensor> track s`` (docs/models.md,
    Track formation; ``track time s`` is the earliest track, the cue of ``cue = "track"`` batteries).
``.geojson``
    A FeatureCollection (RFC 7946, lon/lat in [-180, 180]): one Point per (launch, aim) pair at the aim
    point (``kind = "aim"``, properties ``launch``, ``aim``, ``error``, ``engageable_by``, and per battery
    ``<battery>:feasible``, ``<battery>:reason``, ``<battery>:first_intercept_time_s``,
    ``<battery>:latest_launch_s``, ``<battery>:margin_s``, ``<battery>:first_intercept_closing_speed_km_s``,
    ``<battery>:first_intercept_crossing_angle_deg``), then one Point per
    launch point (``kind = "launch"``), battery (``kind = "battery"``) and sensor (``kind = "sensor"``).
    Flat property names so that GIS tools show them as plain columns.
    Aim Points also carry, per sensor, ``<sensor>:detection_s`` and ``<sensor>:track_s``; sensor Points
    their sensitivity (``reference_range_km``, ``reference_rcs_m2``, ``range_km``, ``boost_range_km``: the
    ranges against the missile in free and powered flight) and ``track_formation_s`` (docs/models.md,
    Sensitivity: range against a cross-section; Track formation).
``.png``
    The coverage map (:mod:`shieldlab.output.covermap`).
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from shieldlab import __version__
from shieldlab.coverage.dataset import flat, flat_aims, is_grid
from shieldlab.engagement.results import Reason
from shieldlab.errors import ShieldlabError
from shieldlab.output.geometry import wrap_lon

FORMATS = {".nc": "netCDF-4", ".csv": "CSV table", ".geojson": "GeoJSON", ".png": "PNG map"}


class OutputError(ShieldlabError, ValueError):
    """An output path that cannot be written (unknown extension, missing or unwritable directory, or a
    write that failed)."""


def output_format(path) -> str:
    """The extension of a supported output path (lower case), else OutputError."""
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        known = ", ".join(f"{e} ({d})" for e, d in FORMATS.items())
        raise OutputError(f"{os.fspath(path)}: unknown output format {ext or '(no extension)'!r}; "
                          f"use one of {known}")
    return ext


def check_output_path(path) -> str:
    """Check before computing anything that `path` can be written: known extension, existing directory
    in which a file can be created (tried: a temporary file is created there and removed)."""
    ext = output_format(path)
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{os.fspath(path)}: the directory {os.fspath(parent)!r} does not exist")
    if p.is_dir():
        raise OutputError(f"{os.fspath(path)}: is a directory")
    try:
        os.unlink(_temp_beside(p))
    except OSError as e:
        raise OutputError(f"{os.fspath(path)}: cannot write in the directory {os.fspath(parent)!r}: "
                          f"{e.strerror or e}") from None
    return ext


# --------------------------------------------------------------------------- atomic writes
def _temp_beside(path: Path) -> str:
    """A new empty temporary file in `path`'s directory (so that renaming it onto `path` is atomic)."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=directory)
    os.close(fd)
    return tmp


def _commit(tmp: str, path: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; give it the mode a normal open() would
    os.replace(tmp, path)


def _discard(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass


def atomic_write(path, write) -> None:
    """Call ``write(tmp_path)`` to write a temporary file next to `path`, then rename it onto `path`.

    On any exception (KeyboardInterrupt included) the temporary file is removed, `path` is untouched and
    the exception propagates.
    """
    path = Path(path)
    tmp = _temp_beside(path)
    try:
        write(tmp)
        _commit(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


def _dataset(data):
    import xarray as xr

    if isinstance(data, xr.Dataset):
        return data
    from shieldlab.coverage.dataset import to_dataset

    return to_dataset(data)


def write(data, path) -> None:
    """Write a coverage Dataset (or CoverageResult) to `path`, the format chosen by its extension.
    OutputError if it cannot be written (nothing is then changed)."""
    write_all(data, [path])


def write_all(data, paths) -> None:
    """Write several outputs, all or nothing: every path checked first, the Dataset built once, every
    file written to a temporary file beside its target, and the targets replaced only when all were
    written. OutputError (naming the file) if one cannot be written: no target is then changed, and
    no temporary file is left. A path given twice is written once."""
    write_files(paths, check_output_path, lambda: _dataset(data), _RENDER)


def write_files(paths, check, build, render) -> None:
    """The all-or-nothing writing of `write_all` for any kind of output: `check(path)` gives each path's
    extension (or raises OutputError) before anything is built, `build()` the object written, `render[ext](obj,
    tmp)` writes it to a temporary file beside its target; the targets are replaced only when all were written."""
    unique: dict = {}
    for p in paths:
        unique.setdefault(os.path.abspath(os.fspath(p)), Path(p))
    targets = [(p, check(p)) for p in unique.values()]
    obj = build()
    temps: list = []
    try:
        for p, ext in targets:
            tmp = _temp_beside(p)
            temps.append(tmp)
            try:
                render[ext](obj, tmp)
            except OSError as e:
                raise OutputError(f"{os.fspath(p)}: cannot write it: {e.strerror or e}") from e
        for tmp, (p, _) in zip(temps, targets):
            try:
                _commit(tmp, p)
            except OSError as e:
                raise OutputError(f"{os.fspath(p)}: cannot write it: {e.strerror or e}") from e
    except BaseException:
        for tmp in temps:
            _discard(tmp)
        raise


# --------------------------------------------------------------------------- netCDF
def _netcdf_ready(ds):
    """netCDF cannot hold object arrays of str with NaN, nor empty variable-length dims in every
    version: make sure strings are plain str."""
    ds = ds.copy()
    for name in list(ds.variables):
        v = ds[name]
        if v.dtype == object:
            ds[name] = v.astype(str)
    return ds


def _render_netcdf(ds, tmp) -> None:
    _netcdf_ready(ds).to_netcdf(tmp, engine="netcdf4", format="NETCDF4")


def write_netcdf(ds, path) -> None:
    atomic_write(path, lambda tmp: _render_netcdf(ds, tmp))


# --------------------------------------------------------------------------- CSV
def _num(x, fmt):
    x = float(x)
    return "" if not math.isfinite(x) else fmt.format(x)


def _reason(code: int) -> str:
    """The JSON string of a Reason code ("" for a pair that cannot be computed)."""
    r = Reason.from_code(code)
    return "" if r is None else r.value


def csv_header(batteries, sensors=()) -> list[str]:
    head = ["launch", "launch lat deg", "launch lon deg", "aim", "aim lat deg", "aim lon deg", "error",
            "flight time s", "apogee km", "ground range km", "burnout speed km/s", "track time s",
            "engageable by"]
    for b in batteries:
        head += [f"{b} feasible", f"{b} reason", f"{b} earliest launch s", f"{b} first intercept s",
                 f"{b} first intercept alt km", f"{b} last intercept s", f"{b} latest launch s", f"{b} margin s",
                 f"{b} first intercept closing km/s", f"{b} first intercept crossing deg",
                 f"{b} last intercept closing km/s", f"{b} last intercept crossing deg"]
    for s in sensors:
        head += [f"{s} detection s", f"{s} track s"]
    return head


def _csv_rows(ds):
    """The CSV data rows up to the battery groups, one per pair in the documented order (the sensor groups
    are added by `_sensor_columns`)."""
    batteries = [str(b) for b in ds["battery"].values]
    labels, alat, alon = flat_aims(ds)
    na = len(labels)
    launches = [str(x) for x in ds["launch"].values]
    llat, llon = ds["launch_lat"].values, ds["launch_lon"].values
    f = {k: flat(ds, k) for k in ("flight_time_s", "apogee_altitude_km", "ground_range_km", "burnout_speed_km_s",
                                  "track_time_s", "error", "feasible", "reason", "earliest_launch_s",
                                  "first_intercept_time_s", "first_intercept_altitude_km", "last_intercept_time_s",
                                  "latest_launch_s", "margin_s", "first_intercept_closing_speed_km_s",
                                  "first_intercept_crossing_angle_deg", "last_intercept_closing_speed_km_s",
                                  "last_intercept_crossing_angle_deg")}
    for i in range(len(launches) * na):
        li, ai = divmod(i, na)
        feas = f["feasible"][i]
        row = [launches[li], _num(llat[li], "{:.6f}"), _num(llon[li], "{:.6f}"), labels[ai],
               _num(alat[ai], "{:.6f}"), _num(wrap_lon(float(alon[ai])), "{:.6f}"), str(f["error"][i]),
               _num(f["flight_time_s"][i], "{:.3f}"), _num(f["apogee_altitude_km"][i], "{:.3f}"),
               _num(f["ground_range_km"][i], "{:.3f}"), _num(f["burnout_speed_km_s"][i], "{:.5f}"),
               _num(f["track_time_s"][i], "{:.3f}"),
               ";".join(b for b, ok in zip(batteries, feas) if ok)]
        for j in range(len(batteries)):
            row += ["true" if feas[j] else "false", _reason(int(f["reason"][i, j])),
                    _num(f["earliest_launch_s"][i, j], "{:.3f}"), _num(f["first_intercept_time_s"][i, j], "{:.3f}"),
                    _num(f["first_intercept_altitude_km"][i, j], "{:.3f}"),
                    _num(f["last_intercept_time_s"][i, j], "{:.3f}"), _num(f["latest_launch_s"][i, j], "{:.3f}"),
                    _num(f["margin_s"][i, j], "{:.3f}"), _num(f["first_intercept_closing_speed_km_s"][i, j], "{:.4f}"),
                    _num(f["first_intercept_crossing_angle_deg"][i, j], "{:.3f}"),
                    _num(f["last_intercept_closing_speed_km_s"][i, j], "{:.4f}"),
                    _num(f["last_intercept_crossing_angle_deg"][i, j], "{:.3f}")]
        yield row


def _sensor_times(ds):
    """(names, detection (n, sensors), track (n, sensors)) of a coverage Dataset; the track times are the
    detection times in a Dataset written before track formation existed (every track formation 0)."""
    names = [str(s) for s in ds["sensor"].values]
    det = flat(ds, "detection_time_s")
    return names, det, flat(ds, "sensor_track_time_s") if "sensor_track_time_s" in ds else det


def _sensor_columns(ds):
    """cells(i): the `<sensor> detection s`, `<sensor> track s` cells of pair i."""
    names, det, trk = _sensor_times(ds)

    def cells(i):
        return [c for j in range(len(names)) for c in (_num(det[i, j], "{:.3f}"), _num(trk[i, j], "{:.3f}"))]

    return cells


def _render_csv(ds, tmp) -> None:
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(csv_header([str(b) for b in ds["battery"].values], [str(s) for s in ds["sensor"].values]))
        sensor_cells = _sensor_columns(ds)
        for i, row in enumerate(_csv_rows(ds)):
            w.writerow(row + sensor_cells(i))


def write_csv(ds, path) -> None:
    atomic_write(path, lambda tmp: _render_csv(ds, tmp))


# --------------------------------------------------------------------------- GeoJSON
def _jnum(x, nd=3):
    x = float(x)
    return None if not math.isfinite(x) else round(x, nd)


def _point(lon, lat, props):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(wrap_lon(float(lon)), 6),
                                                                             round(float(lat), 6)]},
            "properties": props}


def geojson_document(ds) -> dict:
    batteries = [str(b) for b in ds["battery"].values]
    labels, alat, alon = flat_aims(ds)
    na = len(labels)
    launches = [str(x) for x in ds["launch"].values]
    feas, reason, first = flat(ds, "feasible"), flat(ds, "reason"), flat(ds, "first_intercept_time_s")
    per_battery = {k: flat(ds, k) for k in ("latest_launch_s", "margin_s", "first_intercept_closing_speed_km_s",
                                             "first_intercept_crossing_angle_deg")}
    err, flight = flat(ds, "error"), flat(ds, "flight_time_s")
    sensors, det, trk = _sensor_times(ds)
    feats = []
    for i in range(len(launches) * na):
        li, ai = divmod(i, na)
        props = {"kind": "aim", "launch": launches[li], "aim": labels[ai], "error": str(err[i]) or None,
                 "flight_time_s": _jnum(flight[i]),
                 "engageable_by": ",".join(b for b, ok in zip(batteries, feas[i]) if ok),
                 "n_engageable": int(np.count_nonzero(feas[i]))}
        for j, s in enumerate(sensors):
            props[f"{s}:detection_s"] = _jnum(det[i, j])
            props[f"{s}:track_s"] = _jnum(trk[i, j])
        for j, b in enumerate(batteries):
            props[f"{b}:feasible"] = bool(feas[i, j])
            props[f"{b}:reason"] = _reason(int(reason[i, j])) or None
            props[f"{b}:first_intercept_time_s"] = _jnum(first[i, j])
            for k, v in per_battery.items():
                props[f"{b}:{k}"] = _jnum(v[i, j], 4 if k.endswith("_km_s") else 3)
        feats.append(_point(alon[ai], alat[ai], props))
    for k, name in enumerate(launches):
        feats.append(_point(ds["launch_lon"].values[k], ds["launch_lat"].values[k], {"kind": "launch", "name": name}))
    for k, name in enumerate(batteries):
        feats.append(_point(ds["battery_lon"].values[k], ds["battery_lat"].values[k], {
            "kind": "battery", "name": name, "interceptor": str(ds["battery_interceptor"].values[k]),
            "launch_delay_s": _jnum(ds["battery_launch_delay_s"].values[k]),
            "cue": str(ds["battery_cue"].values[k])}))
    for k, name in enumerate(str(s) for s in ds["sensor"].values):
        feats.append(_point(ds["sensor_lon"].values[k], ds["sensor_lat"].values[k], {
            "kind": "sensor", "name": name, "sensor_kind": str(ds["sensor_kind"].values[k]),
            "max_range_km": _jnum(ds["sensor_max_range_km"].values[k]),
            "min_elevation_deg": _jnum(ds["sensor_min_elevation_deg"].values[k]),
            "sector_center_deg": _jnum(ds["sensor_sector_center_deg"].values[k]),
            "sector_half_width_deg": _jnum(ds["sensor_sector_half_width_deg"].values[k]),
            **{key: _jnum(ds[var].values[k]) for key, var in _SENSOR_PROPS.items() if var in ds.coords}}))
    return {"type": "FeatureCollection",
            "scenario": str(ds.attrs.get("scenario", "")),
            "shieldlab_version": str(ds.attrs.get("shieldlab_version", __version__)),
            "missile": str(ds.attrs.get("missile", "")), "trajectory": str(ds.attrs.get("trajectory", "")),
            "aim_layout": "grid" if is_grid(ds) else "places",
            "features": feats}


# sensor Point properties of docs/models.md, Sensitivity: range against a cross-section, and Track formation
# (absent from Datasets written before them)
_SENSOR_PROPS = {"reference_range_km": "sensor_reference_range_km", "reference_rcs_m2": "sensor_reference_rcs_m2",
                 "track_formation_s": "sensor_track_formation_s", "range_km": "sensor_range_km",
                 "boost_range_km": "sensor_boost_range_km"}


def _render_geojson(ds, tmp) -> None:
    doc = geojson_document(ds)
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
        fh.write("\n")


def write_geojson(ds, path) -> None:
    atomic_write(path, lambda tmp: _render_geojson(ds, tmp))


# --------------------------------------------------------------------------- PNG
def _render_png(ds, tmp) -> None:
    from shieldlab.output.covermap import coverage_figure
    from shieldlab.output.mapplot import save_figure

    save_figure(coverage_figure(ds), tmp, format="png")


def write_png(ds, path) -> None:
    atomic_write(path, lambda tmp: _render_png(ds, tmp))


_RENDER = {".nc": _render_netcdf, ".csv": _render_csv, ".geojson": _render_geojson, ".png": _render_png}


__all__ = ["FORMATS", "OutputError", "atomic_write", "check_output_path", "output_format", "write", "write_all",
           "write_files", "write_netcdf", "write_csv", "write_geojson", "write_png", "geojson_document", "csv_header"]
