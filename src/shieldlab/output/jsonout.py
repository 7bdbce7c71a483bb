"""The `engage` JSON document, exactly as SCENARIO.md specifies (units in keys, null for missing).
Built from flat records (engagement/records.py), so `engage` and `coverage` print the same thing."""

from __future__ import annotations

import math

from shieldlab import __version__
from shieldlab.engagement.records import INTERCEPT_FIELDS
from shieldlab.engagement.window import REASONS


def _num(x, scale=1.0):
    x = float(x)
    return None if not math.isfinite(x) else x * scale


def _intercept(rec, part, i, j):
    if not math.isfinite(float(rec[f"{part}_time_s"][i, j])):
        return None
    out = {}
    for f in INTERCEPT_FIELDS:
        v = rec[f"{part}_{f}"][i, j]
        out["altitude_km" if f == "altitude_m" else f] = _num(v, 1e-3) if f == "altitude_m" else _num(v)
    return out


def threat_record(rec: dict, i: int, name: str, sensor_names, battery_names) -> dict:
    """One threat's JSON record from flat records."""
    aimed = math.isfinite(float(rec["aim_lat_deg"][i]))
    r = lambda k, s=1.0: _num(rec[k][i], s)  # noqa: E731
    out = {
        "name": name,
        "error": rec["error"][i],
        "launch": {"lat_deg": r("launch_lat_deg"), "lon_deg": r("launch_lon_deg"), "time_s": r("launch_time_s")},
        "aim": {"lat_deg": r("aim_lat_deg"), "lon_deg": r("aim_lon_deg")} if aimed else None,
    }
    if rec["error"][i] is not None:
        out.update({"launch_azimuth_deg": None, "burnout": None, "apogee": None, "impact": None,
                    "ground_range_km": None, "detections": [{"sensor": s, "time_s": None} for s in sensor_names],
                    "track_time_s": None,
                    "engagements": [{"battery": b, "earliest_launch_s": None, "feasible": False, "reason": None,
                                     "first_intercept": None, "last_intercept": None} for b in battery_names]})
        return out
    out.update({
        "launch_azimuth_deg": r("launch_azimuth_deg"),
        "burnout": {"time_s": r("burnout_time_s"), "lat_deg": r("burnout_lat_deg"), "lon_deg": r("burnout_lon_deg"),
                    "altitude_km": r("burnout_altitude_m", 1e-3), "speed_km_s": r("burnout_speed_m_s", 1e-3),
                    "gamma_deg": r("burnout_gamma_deg"), "azimuth_deg": r("burnout_azimuth_deg")},
        "apogee": {"time_s": r("apogee_time_s"), "altitude_km": r("apogee_altitude_m", 1e-3),
                   "lat_deg": r("apogee_lat_deg"), "lon_deg": r("apogee_lon_deg")},
        "impact": {"time_s": r("impact_time_s"), "lat_deg": r("impact_lat_deg"), "lon_deg": r("impact_lon_deg")},
        "ground_range_km": r("ground_range_m", 1e-3),
        "detections": [{"sensor": s, "time_s": _num(rec["detections_s"][i, j])} for j, s in enumerate(sensor_names)],
        "track_time_s": r("track_time_s"),
        "engagements": [],
    })
    for j, b in enumerate(battery_names):
        feasible = bool(rec["feasible"][i, j])
        code = int(rec["reason_code"][i, j])
        out["engagements"].append({
            "battery": b, "earliest_launch_s": _num(rec["earliest_launch_s"][i, j]), "feasible": feasible,
            "reason": REASONS[code] if code >= 0 else None,
            "first_intercept": _intercept(rec, "first", i, j) if feasible else None,
            "last_intercept": _intercept(rec, "last", i, j) if feasible else None,
        })
    return out


def earth_dict(spec) -> dict:
    return {"model": spec.model, "rotation": spec.rotation, "j2": bool(spec.j2) if spec.model == "wgs84" else False}


def engage_document(res) -> dict:
    """The `engage --json` document of an EngageResult."""
    sensors = [s.name for s in res.scenario.sensors]
    batteries = [b.name for b in res.scenario.batteries]
    return {
        "shieldlab_version": __version__,
        "scenario": res.scenario.name,
        "earth": earth_dict(res.earth.spec),
        "threats": [threat_record(res.records, i, n, sensors, batteries) for i, n in enumerate(res.names)],
    }


def coverage_document(result) -> dict:
    """The `coverage --json` document of a CoverageResult: the `engage` per-threat records, one per
    (launch, aim) pair in the documented order, named `launch -> aim`."""
    from shieldlab.coverage.dataset import pair_names

    sc = result.scenario
    sensors = [s.name for s in sc.sensors]
    batteries = [b.name for b in sc.batteries]
    names = pair_names(sc, result.layout)
    return {
        "shieldlab_version": __version__,
        "scenario": sc.name,
        "earth": earth_dict(sc.earth),
        "pairs": [threat_record(result.records, i, n, sensors, batteries) for i, n in enumerate(names)],
    }
