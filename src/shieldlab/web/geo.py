"""What the web map draws, computed in Python: threat ground tracks, detection points, radar coverage
outlines and sites. Pure functions of a Scenario / EngageResult; JSON-ready dicts out.

Radar coverage outline (the choice, stated once): for a reference altitude h (300 km and 1000 km by
default: low and high in a typical exo-atmospheric intercept band / ICBM midcourse) the outline is, along
each azimuth from the radar, the farthest ground point above which a target at altitude h is still seen by
the radar, by the very test the engagement uses (`RadarGeometry.sees`: slant range <= max_range, elevation
>= min_elevation, line of sight). The ground distance is found by bisection along the geodesic (pyproj Geod
through `shieldlab.earth.geodesic.direct`), so the outline is exact for that altitude on the scenario's
Earth, not a flat circle of radius max_range: a target lower down is seen less far (the elevation mask cuts
first), a higher one farther until the range limit. Azimuth-limited radars get a wedge (site, arc over the
sector, site).

Longitudes of a polygon or a track are made continuous (unwrapped from their first point), so they may
leave [-180, 180]; this lets Leaflet draw across the antimeridian without a seam. A ring that encloses
a pole is closed along that pole (latitude +-90). Ground tracks, longitude unwrapping and point labels
come from :mod:`shieldlab.output.geometry`, as in the report.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.output.geometry import ground_track, point_label, unwrap_lon
from shieldlab.scenario.model import Radar, Scenario
from shieldlab.sensors.radar import RadarGeometry

DEFAULT_REF_ALTITUDES_KM = (300.0, 1000.0)
RING_STEP_DEG = 2.0
RING_BISECTIONS = 40  # 20,000 km / 2**40: far below a metre
MAX_RING_M = 20_000e3  # half a meridian: no point on Earth is farther along a geodesic


def _r(x, nd=4):
    x = float(x)
    return None if not np.isfinite(x) else round(x, nd)


def tracks(res) -> list[dict]:
    """Per threat (in file order): ground track points with phase, and where each sensor first saw it.

    {"threat", "points": [{"time_s", "lat_deg", "lon_deg", "altitude_km", "phase": "powered"|"free"}],
     "detections": [{"sensor", "time_s", "lat_deg", "lon_deg", "altitude_km"}]}; empty lists for a threat
    that could not be computed. Longitudes along a track are continuous (see the module text).
    """
    th, earth = res.threats, res.earth
    sensors = [s.name for s in res.scenario.sensors]
    valid = th.valid
    out = []
    for i, name in enumerate(res.names):
        if not valid[i]:
            out.append({"threat": name, "points": [], "detections": []})
            continue
        tr = ground_track(th, i, with_apogee=False)
        tb = tr.burnout_time_s
        pts = [{"time_s": _r(tt, 2), "lat_deg": _r(la), "lon_deg": _r(lo), "altitude_km": _r(al * 1e-3, 2),
                "phase": "powered" if tt <= tb else "free"}
               for tt, la, lo, al in zip(tr.time_s, tr.lat_deg, tr.lon_deg, tr.alt_m)]
        det = []
        for j, s in enumerate(sensors):
            td = res.detections_s[i, j]
            if not np.isfinite(td):
                continue
            p = th.position_ecef(np.array([i]), np.array([td]))
            dlat, dlon, dalt = frames.ecef_to_geodetic(earth, p)
            det.append({"sensor": s, "time_s": _r(td, 2), "lat_deg": _r(dlat[0]), "lon_deg": _r(dlon[0]),
                        "altitude_km": _r(dalt[0] * 1e-3, 2)})
        out.append({"threat": name, "points": pts, "detections": det})
    return out


def coverage_outline_m(earth: Earth, radar: Radar, azimuths_deg: np.ndarray, ref_altitude_m: float) -> np.ndarray:
    """Per azimuth, the farthest ground distance (m) above which a target at ref_altitude_m is seen
    (ignoring the azimuth sector, which the caller applies); NaN where not even the point overhead is."""
    rg = RadarGeometry(earth, replace(radar, sector=None))
    site = radar.at
    az = np.asarray(azimuths_deg, float)

    def seen(d):
        lat, lon, _ = geodesic.direct(earth, np.full(az.shape, site.lat_deg), np.full(az.shape, site.lon_deg), az, d)
        return rg.sees(frames.geodetic_to_ecef(earth, lat, lon, np.full(az.shape, ref_altitude_m)))

    lo = np.zeros_like(az)
    hi = np.full_like(az, MAX_RING_M)
    overhead = seen(lo)
    far = seen(hi)
    for _ in range(RING_BISECTIONS):
        mid = 0.5 * (lo + hi)
        s = seen(mid)
        lo = np.where(s, mid, lo)
        hi = np.where(s, hi, mid)
    d = np.where(far, MAX_RING_M, lo)
    return np.where(overhead, d, np.nan)


def _close_polygon(lat, lon) -> list:
    """A closed ring [[lon, lat], ...] with continuous longitudes; closed along a pole when it winds
    around one (its longitudes then advance by 360 deg)."""
    lat = list(map(float, lat))
    lon = [float(x) for x in unwrap_lon(lon)]
    closing = float(unwrap_lon([lon[-1], lon[0]])[1])  # the first point, seen from the last one
    if abs(closing - lon[0]) > 180.0:  # wound around a pole: along the ring, up to the pole and back
        pole = 90.0 if np.mean(lat) > 0 else -90.0
        lat += [lat[0], pole, pole, lat[0]]
        lon += [closing, closing, lon[0], lon[0]]
    else:
        lat.append(lat[0])
        lon.append(lon[0])
    return [[round(x, 4), round(y, 4)] for x, y in zip(lon, lat)]


def radar_feature(earth: Earth, radar: Radar, ref_altitude_m: float) -> dict | None:
    """The radar's coverage polygon at the reference altitude (a ring or a wedge), or None when even
    the point overhead is out of range."""
    sec = radar.sector
    wedge = sec is not None and sec.half_width_deg < 180.0
    if wedge:
        n = max(2, int(np.ceil(2 * sec.half_width_deg / RING_STEP_DEG)) + 1)
        az = np.linspace(sec.center_deg - sec.half_width_deg, sec.center_deg + sec.half_width_deg, n)
    else:
        az = np.arange(0.0, 360.0, RING_STEP_DEG)
    d = coverage_outline_m(earth, radar, az, ref_altitude_m)
    if not np.isfinite(d).all():
        return None
    site = radar.at
    lat, lon, _ = geodesic.direct(earth, np.full(az.shape, site.lat_deg), np.full(az.shape, site.lon_deg), az, d)
    if wedge:
        lat = np.concatenate([[site.lat_deg], lat])
        lon = np.concatenate([[site.lon_deg], lon])
    ring = _close_polygon(lat, lon)
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "kind": "radar-coverage", "name": radar.name, "shape": "wedge" if wedge else "ring",
            "max_range_km": radar.max_range_m * 1e-3, "min_elevation_deg": radar.min_elevation_deg,
            "ref_altitude_km": ref_altitude_m * 1e-3,
            "sector": None if not wedge else {"center_deg": sec.center_deg, "half_width_deg": sec.half_width_deg},
            "max_ground_range_km": round(float(np.max(d)) * 1e-3, 1),
        },
    }


def _point(kind: str, name: str, p, **props) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon_deg, p.lat_deg]},
            "properties": {"kind": kind, "name": name, "alt_m": p.alt_m, **props}}


def geometry(scenario: Scenario, ref_altitudes_km=DEFAULT_REF_ALTITUDES_KM) -> dict:
    """A GeoJSON FeatureCollection: radar sites and coverage polygons (one per reference altitude),
    battery (interceptor) sites and the coverage launch points. Feature `properties.kind` says which."""
    earth = Earth.from_spec(scenario.earth)
    feats = []
    for h in ref_altitudes_km:
        for r in scenario.sensors:
            f = radar_feature(earth, r, h * 1e3)
            if f is not None:
                feats.append(f)
    for r in scenario.sensors:
        feats.append(_point("radar", r.name, r.at, max_range_km=r.max_range_m * 1e-3,
                            min_elevation_deg=r.min_elevation_deg,
                            sector=None if r.sector is None else {"center_deg": r.sector.center_deg,
                                                                  "half_width_deg": r.sector.half_width_deg}))
    for b in scenario.batteries:
        it = scenario.interceptors[b.interceptor]
        feats.append(_point("battery", b.name, b.at, interceptor=b.interceptor, launch_delay_s=b.launch_delay_s,
                            cue=b.cue, burnout_speed_km_s=it.burnout_speed_m_s * 1e-3,
                            min_altitude_km=it.min_altitude_m * 1e-3,
                            max_altitude_km=None if not np.isfinite(it.max_altitude_m) else it.max_altitude_m * 1e-3))
    if scenario.coverage is not None:
        for p in scenario.coverage.launch:
            feats.append(_point("launch", point_label(p), p))
    return {"type": "FeatureCollection", "ref_altitudes_km": list(ref_altitudes_km), "features": feats}


def summary(scenario: Scenario) -> dict:
    """The parameters the page's side panel shows and edits, with the file's values."""
    from shieldlab.coverage.pairs import layout

    cov = scenario.coverage
    return {
        "name": scenario.name,
        "interceptors": [{"name": k, "burnout_speed_km_s": v.burnout_speed_m_s * 1e-3, "burn_time_s": v.burn_time_s}
                         for k, v in scenario.interceptors.items()],
        "batteries": [{"name": b.name, "interceptor": b.interceptor, "launch_delay_s": b.launch_delay_s,
                       "cue": b.cue} for b in scenario.batteries],
        "sensors": [{"name": s.name, "max_range_km": s.max_range_m * 1e-3} for s in scenario.sensors],
        "threats": [{"name": t.name, "aimed": t.aim is not None, "trajectory": t.trajectory.label()}
                    for t in scenario.threats],
        "uncertainty": None if scenario.uncertainty is None else {
            "samples": scenario.uncertainty.samples, "sensitivity_samples": scenario.uncertainty.sensitivity_samples,
            "varied": [v.key for v in scenario.uncertainty.vary],
        },
        "coverage": None if cov is None else {
            "missile": cov.missile, "trajectory": cov.trajectory.label(),
            "launch": [point_label(p) for p in cov.launch],
            "n_pairs": layout(cov).n_pairs,
        },
    }


def coverage_compact(result) -> dict:
    """A coverage run, compact for the map: per launch point, per aim point, per battery."""
    sc, lay, eng = result.scenario, result.layout, result.engagements
    nl, na = len(lay.launch), lay.aim_lat_deg.size
    nb = len(sc.batteries)
    feas = eng.feasible.reshape(nl, na, nb) if nl * na else np.zeros((nl, na, nb), bool)
    code = eng.reason_code.reshape(nl, na, nb) if nl * na else np.zeros((nl, na, nb), int)
    def per(x, scale=1.0):
        return np.asarray(x, float).reshape(nl, na, nb) * scale if nl * na else np.zeros((nl, na, nb))

    def cube(x, nd):  # [launch][aim][battery], null where not finite
        return [[[_r(v, nd) for v in row] for row in per_l] for per_l in x.tolist()]

    first = per(eng.first.time_s)
    err = np.asarray(result.flights.error, dtype=object).reshape(nl, na) if nl * na else np.zeros((nl, na), object)
    grid = None
    g = sc.coverage.aim
    if lay.grid_lat_deg is not None:
        grid = {"step_deg": g.step_deg, "lat_deg": [float(x) for x in lay.grid_lat_deg],
                "lon_deg": [float(x) for x in lay.grid_lon_deg]}
    return {
        "scenario": sc.name,
        "batteries": [b.name for b in sc.batteries],
        "launch": [{"name": point_label(p), "lat_deg": p.lat_deg, "lon_deg": p.lon_deg}
                   for p in lay.launch],
        "aim": {"lat_deg": [float(x) for x in lay.aim_lat_deg], "lon_deg": [float(x) for x in lay.aim_lon_deg]},
        "grid": grid,
        "n_pairs": nl * na,
        # [launch][aim][battery]
        "feasible": feas.astype(bool).tolist(),
        "reason": [[[_reason_value(c) for c in row] for row in per_l] for per_l in code.tolist()],
        "first_intercept_s": cube(first, 1),
        # the margin and the latest launch (null: no margin / no latest launch), the geometry at the first intercept
        "margin_s": cube(per(eng.margin_s), 3),
        "latest_launch_s": cube(per(eng.latest_launch_s), 3),
        "first_closing_speed_km_s": cube(per(eng.first.closing_speed_m_s, 1e-3), 4),
        "first_crossing_angle_deg": cube(per(eng.first.crossing_angle_deg), 2),
        # [launch][aim]: null, or why the missile cannot fly that pair
        "error": err.tolist(),
    }


def uncertainty_layout(result) -> dict | None:
    """For an uncertainty run over [coverage] pairs, how its "pairs" records map onto the page's coverage arrays:
    pair launch * n_aim + aim (the coverage's pair order); None for a run over [[threats]]."""
    from shieldlab.coverage.pairs import layout

    if result.pairs is None:
        return None
    lay = layout(result.scenario.coverage)
    return {"launch": [point_label(p) for p in lay.launch], "n_aim": int(lay.aim_lat_deg.size),
            "aim": {"lat_deg": [float(x) for x in lay.aim_lat_deg], "lon_deg": [float(x) for x in lay.aim_lon_deg]}}


def _reason_value(code: int):
    from shieldlab.api import Reason

    r = Reason.from_code(code)
    return None if r is None else r.value
