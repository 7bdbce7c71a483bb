"""The `engage` and `coverage` JSON documents, exactly as docs/scenario.md specifies them (headings
`shieldlab engage FILE --json` and `shieldlab coverage FILE --json`: units in keys, null for missing). Built
from the typed results (engagement/results.py: `EngageResult.to_document()`, `CoverageResult.to_document()`),
so `engage` and `coverage` print the same record for the same threat."""

from __future__ import annotations

import math

from shieldlab import __version__
from shieldlab.engagement.results import Reason


def _num(x, scale=1.0):
    x = float(x)
    return None if not math.isfinite(x) else x * scale


def _intercept(ic, i, j):
    """One intercept (results.Intercepts at threat i, battery j) or None."""
    if not math.isfinite(float(ic.time_s[i, j])):
        return None
    return {"time_s": _num(ic.time_s[i, j]), "lat_deg": _num(ic.lat_deg[i, j]), "lon_deg": _num(ic.lon_deg[i, j]),
            "altitude_km": _num(ic.altitude_m[i, j], 1e-3), "interceptor_launch_s": _num(ic.interceptor_launch_s[i, j]),
            "flyout_time_s": _num(ic.flyout_time_s[i, j]), "closing_speed_km_s": _num(ic.closing_speed_m_s[i, j], 1e-3),
            "crossing_angle_deg": _num(ic.crossing_angle_deg[i, j])}


def threat_record(result, i: int, name: str, sensor_names, battery_names) -> dict:
    """Threat (or pair) i's JSON record from a result's flights, detections and engagements."""
    fl, det, eng = result.flights, result.detections, result.engagements
    aimed = math.isfinite(float(fl.aim_lat_deg[i]))
    r = lambda a, s=1.0: _num(a[i], s)  # noqa: E731
    error = fl.error[i]
    out = {
        "name": name,
        "error": error,
        "launch": {"lat_deg": r(fl.launch_lat_deg), "lon_deg": r(fl.launch_lon_deg), "time_s": r(fl.launch_time_s)},
        "aim": {"lat_deg": r(fl.aim_lat_deg), "lon_deg": r(fl.aim_lon_deg)} if aimed else None,
    }
    if error is not None:
        out.update({"launch_azimuth_deg": None, "burnout": None, "apogee": None, "impact": None,
                    "ground_range_km": None, "max_range_km": None, "kick_deg": None, "cutoff_s": None,
                    "detections": [{"sensor": s, "time_s": None, "track_s": None} for s in sensor_names],
                    "track_time_s": None,
                    "engagements": [{"battery": b, "earliest_launch_s": None, "feasible": False, "reason": None,
                                     "latest_launch_s": None, "margin_s": None, "first_intercept": None,
                                     "last_intercept": None} for b in battery_names]})
        return out
    out.update({
        "launch_azimuth_deg": r(fl.launch_azimuth_deg),
        "burnout": {"time_s": r(fl.burnout_time_s), "lat_deg": r(fl.burnout_lat_deg), "lon_deg": r(fl.burnout_lon_deg),
                    "altitude_km": r(fl.burnout_altitude_m, 1e-3), "speed_km_s": r(fl.burnout_speed_m_s, 1e-3),
                    "gamma_deg": r(fl.burnout_gamma_deg), "azimuth_deg": r(fl.burnout_azimuth_deg)},
        "apogee": {"time_s": r(fl.apogee_time_s), "altitude_km": r(fl.apogee_altitude_m, 1e-3),
                   "lat_deg": r(fl.apogee_lat_deg), "lon_deg": r(fl.apogee_lon_deg)},
        "impact": {"time_s": r(fl.impact_time_s), "lat_deg": r(fl.impact_lat_deg), "lon_deg": r(fl.impact_lon_deg)},
        "ground_range_km": r(fl.ground_range_m, 1e-3),
        "max_range_km": r(fl.max_range_m, 1e-3), "kick_deg": r(fl.kick_deg), "cutoff_s": r(fl.cutoff_s),
        "detections": [{"sensor": s, "time_s": _num(det.time_s[i, j]), "track_s": _num(det.track_s[i, j])}
                       for j, s in enumerate(sensor_names)],
        "track_time_s": r(det.track_time_s),
        "engagements": [],
    })
    for j, b in enumerate(battery_names):
        feasible = bool(eng.feasible[i, j])
        reason = Reason.from_code(eng.reason_code[i, j])
        out["engagements"].append({
            "battery": b, "earliest_launch_s": _num(eng.earliest_launch_s[i, j]), "feasible": feasible,
            "reason": None if reason is None else reason.value,
            "latest_launch_s": _num(eng.latest_launch_s[i, j]), "margin_s": _num(eng.margin_s[i, j]),
            "first_intercept": _intercept(eng.first, i, j) if feasible else None,
            "last_intercept": _intercept(eng.last, i, j) if feasible else None,
        })
    return out


def earth_dict(spec) -> dict:
    return {"model": spec.model, "rotation": spec.rotation, "j2": bool(spec.j2) if spec.model == "wgs84" else False}


def engage_document(res) -> dict:
    """The `engage --json` document of an EngageResult."""
    sensors, batteries = res.sensor_names, res.battery_names
    return {
        "shieldlab_version": __version__,
        "scenario": res.scenario.name,
        "earth": earth_dict(res.earth.spec),
        "threats": [threat_record(res, i, n, sensors, batteries) for i, n in enumerate(res.names)],
    }


def coverage_document(result) -> dict:
    """The `coverage --json` document of a CoverageResult: the `engage` per-threat records, one per
    (launch, aim) pair in the documented order, named `launch -> aim`."""
    sc = result.scenario
    sensors, batteries = result.sensor_names, result.battery_names
    return {
        "shieldlab_version": __version__,
        "scenario": sc.name,
        "earth": earth_dict(sc.earth),
        "pairs": [threat_record(result, i, n, sensors, batteries) for i, n in enumerate(result.names)],
    }
