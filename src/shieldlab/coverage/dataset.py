"""A coverage result as a self-describing xarray Dataset (what `--out FILE.nc` writes).

Layout:

- a grid of aim points (``to = { lat = …, lon = …, step = … }``): dims ``launch × lat × lon``;
- a list of places (``to = [ … ]``): dims ``launch × aim``, with ``aim`` (labels), ``aim_lat`` and
  ``aim_lon`` coordinates, aims in the documented order (latitude, then longitude).

Per-battery variables add the ``battery`` dim (after ``launch``, so that the aim dims come last as CF
tools expect); detection and track times add ``sensor``. Batteries and sensors carry their sites and
parameters as coordinates, so a file written from this Dataset is enough to draw the coverage map again.

Numbers are SI or km as said in the names; NaN means "does not exist" (no intercept, never detected,
pair that cannot be computed). ``reason`` is an int8 code: -1 when the threat cannot be computed (see
``error``), otherwise the :class:`shieldlab.engagement.results.Reason` code, as the
``flag_values``/``flag_meanings`` attributes say.

netCDF attributes cannot be booleans: flags are stored as 0/1 integers.
"""

from __future__ import annotations

import os
import numpy as np
import xarray as xr

from shieldlab import __version__
from shieldlab import constants as C
from shieldlab.coverage.pairs import PairLayout, aim_labels, coord_text, launch_labels, pair_names, point_text
from shieldlab.engagement.results import NO_CODE, Reason
from shieldlab.output.geometry import wrap_lon
from shieldlab.scenario.model import AimGrid

ERROR_CODE = NO_CODE
ERROR_MEANING = "error"
CONSTANTS = ("WGS84_A_M", "WGS84_F", "SPHERE_R_M", "GM_M3_S2", "OMEGA_RAD_S", "J2")


# --------------------------------------------------------------------------- dataset
def _source_text(scenario) -> str | None:
    src = scenario.source
    if not src or not os.path.isfile(src):
        return None
    try:
        with open(src, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def _attrs(scenario, n_pairs: int) -> dict:
    cov = scenario.coverage
    m = scenario.missiles[cov.missile]
    attrs = {
        "title": f"shieldlab coverage: {scenario.name}",
        "Conventions": "CF-1.8",
        "scenario": scenario.name,
        "shieldlab_version": __version__,
        "source": "shieldlab coverage",
        "n_pairs": int(n_pairs),
        "pair_order": "launch points in file order, then aim points by latitude then longitude",
        "earth_model": scenario.earth.model,
        "earth_rotation": int(bool(scenario.earth.rotation)),
        "earth_j2": int(bool(scenario.earth.j2) and scenario.earth.model == "wgs84"),
        "missile": m.name,
        "missile_model": m.model,
        "missile_burn_time_s": float(m.burn_time_s),
        "trajectory": cov.trajectory.label(),
        "trajectory_mode": cov.trajectory.mode,
        "launch_time_s": float(cov.launch_time_s),
    }
    if m.model == "staged":  # docs/models.md, The staged model
        attrs["missile_payload_mass_kg"] = float(m.payload_mass_kg)
        attrs["missile_liftoff_mass_kg"] = float(m.liftoff_mass_kg)
        attrs["missile_stages"] = len(m.stages)
    else:
        attrs["missile_burnout_altitude_m"] = float(m.burnout_altitude_m)
        attrs["missile_burnout_range_m"] = float(m.burnout_range_m)
        if m.burnout_speed_m_s is not None:
            attrs["missile_burnout_speed_m_s"] = float(m.burnout_speed_m_s)
    # docs/models.md, Sensitivity: range against a cross-section
    attrs["missile_rcs_m2"] = float(m.rcs_m2)  # free flight
    attrs["missile_rcs_boost_m2"] = float(m.boost_rcs_m2)  # powered flight
    if cov.trajectory.gamma_deg is not None:
        attrs["trajectory_gamma_deg"] = float(cov.trajectory.gamma_deg)
    if cov.trajectory.kick_deg is not None:
        attrs["trajectory_kick_deg"] = float(cov.trajectory.kick_deg)
    for k in CONSTANTS:
        attrs[f"constant_{k}"] = float(getattr(C, k))
    if isinstance(cov.aim, AimGrid):
        g = cov.aim
        attrs.update(aim_grid_lat_deg=[g.lat_min_deg, g.lat_max_deg], aim_grid_lon_deg=[g.lon_min_deg, g.lon_max_deg],
                     aim_grid_step_deg=float(g.step_deg))
    text = _source_text(scenario)
    if text is not None:
        attrs["scenario_file"] = os.fspath(scenario.source)
        attrs["scenario_toml"] = text
    return attrs


def _var(data, dims, units=None, long_name=None, **extra):
    attrs = {}
    if long_name:
        attrs["long_name"] = long_name
    if units:
        attrs["units"] = units
    attrs.update(extra)
    return xr.Variable(dims, data, attrs)


def _sensitivity_coords(sensors, missile) -> dict:
    """The sensors' sensitivity and track formation (docs/models.md, Sensitivity: range against a cross-section;
    Track formation) and their detection ranges against this coverage's missile, as coordinates along
    ``sensor``."""
    def col(f):
        return np.array([f(x) for x in sensors], float)

    return {
        "sensor_reference_range_km": ("sensor", col(lambda x: np.nan if x.reference_range_m is None
                                                    else x.reference_range_m * 1e-3),
                                      {"units": "km", "comment": "NaN: the range is max_range"}),
        "sensor_reference_rcs_m2": ("sensor", col(lambda x: x.reference_rcs_m2), {"units": "m2"}),
        "sensor_track_formation_s": ("sensor", col(lambda x: x.track_formation_s), {"units": "s"}),
        "sensor_range_km": ("sensor", col(lambda x: x.range_m(missile.rcs_m2) * 1e-3),
                            {"units": "km", "long_name": "detection range against the missile in free flight"}),
        "sensor_boost_range_km": ("sensor", col(lambda x: x.range_m(missile.boost_rcs_m2) * 1e-3),
                                  {"units": "km",
                                   "long_name": "detection range against the missile in powered flight"}),
    }


def layout_coords(scenario, lay: PairLayout) -> tuple[tuple, tuple, dict, dict]:
    """(aim dims, aim shape, launch coordinates, aim coordinates) of the coverage dims of a pair layout: `launch`
    (labels, latitudes, longitudes), and `lat` × `lon` for a grid of aim points or `aim` (labels, latitudes,
    longitudes) for places; shared by the coverage Dataset and an uncertainty run's over the pairs."""
    launch = {
        "launch": ("launch", np.array(launch_labels(lay), dtype=object), {"long_name": "launch point"}),
        "launch_lat": ("launch", np.array([p.lat_deg for p in lay.launch], float),
                       {"units": "degrees_north", "long_name": "launch point latitude"}),
        "launch_lon": ("launch", np.array([p.lon_deg for p in lay.launch], float),
                       {"units": "degrees_east", "long_name": "launch point longitude"}),
    }
    coords: dict = {}
    if lay.grid_lat_deg is not None:
        coords["lat"] = ("lat", np.asarray(lay.grid_lat_deg, float),
                         {"units": "degrees_north", "standard_name": "latitude", "long_name": "aim point latitude"})
        coords["lon"] = ("lon", np.asarray(lay.grid_lon_deg, float),
                         {"units": "degrees_east", "standard_name": "longitude", "long_name": "aim point longitude",
                          "comment": "as given in the scenario (may exceed 180 for a grid across the antimeridian)"})
    else:
        coords["aim"] = ("aim", np.array(aim_labels(scenario, lay), dtype=object), {"long_name": "aim point"})
        coords["aim_lat"] = ("aim", np.asarray(lay.aim_lat_deg, float),
                             {"units": "degrees_north", "standard_name": "latitude"})
        coords["aim_lon"] = ("aim", np.asarray(lay.aim_lon_deg, float),
                             {"units": "degrees_east", "standard_name": "longitude"})
        return ("aim",), (lay.aim_lat_deg.size,), launch, coords
    return ("lat", "lon"), (lay.grid_lat_deg.size, lay.grid_lon_deg.size), launch, coords


def to_dataset(result) -> xr.Dataset:
    """The Dataset of a whole :class:`shieldlab.engagement.results.CoverageResult` (see the module doc)."""
    if not result.complete:
        raise ValueError(f"a Dataset needs every pair of the coverage, in order; this result holds "
                         f"{result.pairs.size} of {result.layout.n_pairs} (join chunks with CoverageResult.concat)")
    sc, lay = result.scenario, result.layout
    fl, det, eng = result.flights, result.detections, result.engagements
    nl, na = len(lay.launch), lay.aim_lat_deg.size
    aim_dims, aim_shape, launch_coords, aim_coords = layout_coords(sc, lay)
    n = nl * na

    def pair(a, scale=1.0):
        """(n,) -> (launch, *aim)"""
        return (np.asarray(a, float) * scale).reshape((nl, *aim_shape))

    def per(a, scale=1.0, dtype=float):
        """(n, k) -> (launch, k, *aim)"""
        k = np.asarray(a).shape[1]
        arr = np.asarray(a).reshape((nl, *aim_shape, k))
        arr = np.moveaxis(arr, -1, 1)
        return arr.astype(dtype) * scale if dtype is float else arr.astype(dtype)

    pdims = ("launch", *aim_dims)
    bdims = ("launch", "battery", *aim_dims)
    flight = np.asarray(fl.impact_time_s, float) - np.asarray(fl.launch_time_s, float)
    err = np.array(["" if e is None else str(e) for e in fl.error], dtype=object)

    data_vars = {
        "feasible": _var(per(eng.feasible, dtype=bool), bdims, None,
                         "battery can engage the threat of this pair"),
        "reason": _var(per(eng.reason_code, dtype=np.int8), bdims, None,
                       "why the battery can or cannot engage",
                       flag_values=np.array([ERROR_CODE, *(r.code for r in Reason)], dtype=np.int8),
                       flag_meanings=" ".join((ERROR_MEANING, *(r.value for r in Reason)))),
        "earliest_launch_s": _var(per(eng.earliest_launch_s), bdims, "s",
                                  "earliest interceptor launch time (scenario time)"),
        "first_intercept_time_s": _var(per(eng.first.time_s), bdims, "s", "first possible intercept time"),
        "first_intercept_altitude_km": _var(per(eng.first.altitude_m, 1e-3), bdims, "km",
                                            "geodetic altitude of the first possible intercept"),
        "first_interceptor_launch_s": _var(per(eng.first.interceptor_launch_s), bdims, "s",
                                           "interceptor launch time for the first possible intercept"),
        "last_intercept_time_s": _var(per(eng.last.time_s), bdims, "s", "last possible intercept time"),
        "last_intercept_altitude_km": _var(per(eng.last.altitude_m, 1e-3), bdims, "km",
                                           "geodetic altitude of the last possible intercept"),
        "latest_launch_s": _var(per(eng.latest_launch_s), bdims, "s",
                                "latest interceptor launch that still intercepts (scenario time)"),
        "margin_s": _var(per(eng.margin_s), bdims, "s",
                         "latest launch minus earliest launch (negative: too late by that much)"),
        "first_intercept_closing_speed_km_s": _var(per(eng.first.closing_speed_m_s, 1e-3), bdims, "km s-1",
                                                   "closing speed of interceptor and threat at the first intercept"),
        "first_intercept_crossing_angle_deg": _var(per(eng.first.crossing_angle_deg), bdims, "degree",
                                                   "angle between the interceptor's velocity and the reverse of "
                                                   "the threat's at the first intercept (0 head-on)"),
        "last_intercept_closing_speed_km_s": _var(per(eng.last.closing_speed_m_s, 1e-3), bdims, "km s-1",
                                                  "closing speed of interceptor and threat at the last intercept"),
        "last_intercept_crossing_angle_deg": _var(per(eng.last.crossing_angle_deg), bdims, "degree",
                                                  "angle between the interceptor's velocity and the reverse of "
                                                  "the threat's at the last intercept (0 head-on)"),
        "flight_time_s": _var(pair(flight), pdims, "s", "threat flight time, launch to impact"),
        "apogee_altitude_km": _var(pair(fl.apogee_altitude_m, 1e-3), pdims, "km", "threat apogee altitude"),
        "track_time_s": _var(pair(det.track_time_s), pdims, "s",
                             "earliest track by any sensor, the cue of cue = track batteries (scenario time)"),
        "ground_range_km": _var(pair(fl.ground_range_m, 1e-3), pdims, "km", "threat ground range"),
        "burnout_speed_km_s": _var(pair(fl.burnout_speed_m_s, 1e-3), pdims, "km s-1", "threat burnout speed"),
        "launch_azimuth_deg": _var(pair(fl.launch_azimuth_deg), pdims, "degree",
                                   "threat launch azimuth, clockwise from north"),
        "impact_time_s": _var(pair(fl.impact_time_s), pdims, "s", "threat impact time (scenario time)"),
        "detection_time_s": _var(per(det.time_s), ("launch", "sensor", *aim_dims), "s",
                                 "first detection by each sensor (scenario time)"),
        "sensor_track_time_s": _var(per(det.track_s), ("launch", "sensor", *aim_dims), "s",
                                    "track time of each sensor: seen for its whole track formation time "
                                    "(scenario time)"),
        "error": _var(err.reshape((nl, *aim_shape)), pdims, None,
                      "why the threat cannot be computed (empty when it can)"),
    }

    if sc.missiles[sc.coverage.missile].model == "staged":  # docs/models.md, The staged model (cutoff NaN: full burn)
        data_vars["max_range_km"] = _var(pair(fl.max_range_m, 1e-3), pdims, "km",
                                         "greatest ground range along the launch azimuth (full burn)")
        data_vars["kick_deg"] = _var(pair(fl.kick_deg), pdims, "degree", "kick angle from the vertical")
        data_vars["cutoff_s"] = _var(pair(fl.cutoff_s), pdims, "s",
                                     "thrust termination of the last stage, s after launch (NaN: full burn)")

    b, s = sc.batteries, sc.sensors
    coords = {
        **launch_coords,
        "battery": ("battery", np.array([x.name for x in b], dtype=object), {"long_name": "battery"}),
        "battery_lat": ("battery", np.array([x.at.lat_deg for x in b], float), {"units": "degrees_north"}),
        "battery_lon": ("battery", np.array([x.at.lon_deg for x in b], float), {"units": "degrees_east"}),
        "battery_interceptor": ("battery", np.array([x.interceptor for x in b], dtype=object), {}),
        "battery_launch_delay_s": ("battery", np.array([x.launch_delay_s for x in b], float), {"units": "s"}),
        "battery_cue": ("battery", np.array([x.cue for x in b], dtype=object), {}),
        "sensor": ("sensor", np.array([x.name for x in s], dtype=object), {"long_name": "sensor"}),
        "sensor_kind": ("sensor", np.array([x.kind for x in s], dtype=object), {}),
        "sensor_lat": ("sensor", np.array([x.at.lat_deg for x in s], float), {"units": "degrees_north"}),
        "sensor_lon": ("sensor", np.array([x.at.lon_deg for x in s], float), {"units": "degrees_east"}),
        "sensor_alt_m": ("sensor", np.array([x.at.alt_m for x in s], float), {"units": "m"}),
        "sensor_max_range_km": ("sensor", np.array([x.max_range_m * 1e-3 for x in s], float),
                                {"units": "km", "comment": "inf: no cap (a reference range only)"}),
        **_sensitivity_coords(s, sc.missiles[sc.coverage.missile]),
        "sensor_min_elevation_deg": ("sensor", np.array([x.min_elevation_deg for x in s], float),
                                     {"units": "degree"}),
        "sensor_sector_center_deg": ("sensor", np.array([x.sector.center_deg if x.sector else np.nan for x in s],
                                                        float), {"units": "degree", "comment": "NaN: all round"}),
        "sensor_sector_half_width_deg": ("sensor", np.array([x.sector.half_width_deg if x.sector else np.nan
                                                            for x in s], float),
                                         {"units": "degree", "comment": "NaN: all round"}),
    }
    return xr.Dataset(data_vars, coords={**coords, **aim_coords}, attrs=_attrs(sc, n))


def is_grid(ds: xr.Dataset) -> bool:
    """Whether a coverage Dataset holds a lat/lon grid of aim points (else a list of places)."""
    return "lat" in ds.dims and "lon" in ds.dims


def flat_aims(ds: xr.Dataset):
    """(labels, lat, lon) of the aim points of a coverage Dataset in pair order (lat, then lon)."""
    if is_grid(ds):
        lat = np.repeat(ds["lat"].values, ds.sizes["lon"])
        lon = np.tile(ds["lon"].values, ds.sizes["lat"])
        return [point_text(a, wrap_lon(float(b))) for a, b in zip(lat, lon)], lat, lon
    return [str(x) for x in ds["aim"].values], ds["aim_lat"].values, ds["aim_lon"].values


def flat(ds: xr.Dataset, name: str) -> np.ndarray:
    """A variable of a coverage Dataset as (n_pairs,) or (n_pairs, k) in pair order."""
    v = ds[name]
    aim_dims = ("lat", "lon") if is_grid(ds) else ("aim",)
    other = [d for d in v.dims if d not in ("launch", *aim_dims)]
    v = v.transpose("launch", *aim_dims, *other)
    n = ds.sizes["launch"] * int(np.prod([ds.sizes[d] for d in aim_dims]))
    return v.values.reshape((n, *[ds.sizes[d] for d in other]))


__all__ = ["to_dataset", "layout_coords", "pair_names", "aim_labels", "launch_labels", "is_grid", "flat_aims", "flat", "coord_text",
           "point_text"]
