"""The `engage` JSON document, exactly as SCENARIO.md specifies (units in keys, null for missing)."""

from __future__ import annotations

import math

import numpy as np

from shieldlab import __version__


def _num(x, scale=1.0):
    x = float(x)
    return None if not math.isfinite(x) else x * scale


def threat_record(res, i: int, *, sensors=None, batteries=None) -> dict:
    """One threat's record. `res` is an EngageResult-like object (names, aims, threats, detections_s,
    track_time_s, windows)."""
    th = res.threats
    sensors = res.scenario.sensors if sensors is None else sensors
    batteries = res.scenario.batteries if batteries is None else batteries
    err = th.error[i]
    aim = res.aims[i]
    rec = {
        "name": res.names[i],
        "error": err,
        "launch": {"lat_deg": _num(th.launch_lat_deg[i]), "lon_deg": _num(th.launch_lon_deg[i]),
                   "time_s": _num(th.launch_time_s[i])},
        "aim": None if aim is None else {"lat_deg": _num(aim[0]), "lon_deg": _num(aim[1])},
    }
    if err is not None:
        rec.update({"launch_azimuth_deg": None, "burnout": None, "apogee": None, "impact": None,
                    "ground_range_km": None,
                    "detections": [{"sensor": s.name, "time_s": None} for s in sensors],
                    "track_time_s": None,
                    "engagements": [{"battery": b.name, "earliest_launch_s": None, "feasible": False,
                                     "reason": None, "first_intercept": None, "last_intercept": None}
                                    for b in batteries]})
        return rec
    rec.update({
        "launch_azimuth_deg": _num(th.azimuth0_deg[i]),
        "burnout": {"time_s": _num(th.burnout_time_s[i]), "lat_deg": _num(th.burnout_lat_deg[i]),
                    "lon_deg": _num(th.burnout_lon_deg[i]), "altitude_km": _num(th.burnout_altitude_m[i], 1e-3),
                    "speed_km_s": _num(th.burnout_speed_m_s[i], 1e-3), "gamma_deg": _num(np.degrees(th.gamma_rad[i])),
                    "azimuth_deg": _num(th.burnout_azimuth_deg[i])},
        "apogee": {"time_s": _num(th.apogee_time_s[i]), "altitude_km": _num(th.apogee_altitude_m[i], 1e-3),
                   "lat_deg": _num(th.apogee_lat_deg[i]), "lon_deg": _num(th.apogee_lon_deg[i])},
        "impact": {"time_s": _num(th.impact_time_s[i]), "lat_deg": _num(th.impact_lat_deg[i]),
                   "lon_deg": _num(th.impact_lon_deg[i])},
        "ground_range_km": _num(th.ground_range_m[i], 1e-3),
        "detections": [{"sensor": s.name, "time_s": _num(res.detections_s[i, j])} for j, s in enumerate(sensors)],
        "track_time_s": _num(res.track_time_s[i]),
        "engagements": [_engagement(b.name, w, i) for b, w in zip(batteries, res.windows)],
    })
    return rec


def _intercept(ic, i):
    if not math.isfinite(float(ic.time_s[i])):
        return None
    return {"time_s": _num(ic.time_s[i]), "lat_deg": _num(ic.lat_deg[i]), "lon_deg": _num(ic.lon_deg[i]),
            "altitude_km": _num(ic.altitude_m[i], 1e-3), "interceptor_launch_s": _num(ic.interceptor_launch_s[i]),
            "flyout_time_s": _num(ic.flyout_time_s[i])}


def _engagement(name, w, i):
    feasible = bool(w.feasible[i])
    return {"battery": name, "earliest_launch_s": _num(w.earliest_launch_s[i]), "feasible": feasible,
            "reason": str(w.reason[i]),
            "first_intercept": _intercept(w.first, i) if feasible else None,
            "last_intercept": _intercept(w.last, i) if feasible else None}


def engage_document(res) -> dict:
    e = res.earth.spec
    return {
        "shieldlab_version": __version__,
        "scenario": res.scenario.name,
        "earth": {"model": e.model, "rotation": e.rotation, "j2": e.j2 if e.model == "wgs84" else False},
        "threats": [threat_record(res, i) for i in range(len(res.names))],
    }
