"""Flat per-threat results: one numpy array per field, the form that is merged across chunks and
workers, written to files, and turned into JSON. Nothing here computes physics."""

from __future__ import annotations

import numpy as np

from shieldlab.engagement.window import REASONS

THREAT_FIELDS = (
    "launch_time_s", "launch_lat_deg", "launch_lon_deg", "aim_lat_deg", "aim_lon_deg", "launch_azimuth_deg",
    "burnout_time_s", "burnout_lat_deg", "burnout_lon_deg", "burnout_altitude_m", "burnout_speed_m_s",
    "burnout_gamma_deg", "burnout_azimuth_deg", "apogee_time_s", "apogee_altitude_m", "apogee_lat_deg",
    "apogee_lon_deg", "impact_time_s", "impact_lat_deg", "impact_lon_deg", "ground_range_m", "track_time_s",
)
INTERCEPT_FIELDS = ("time_s", "lat_deg", "lon_deg", "altitude_m", "interceptor_launch_s", "flyout_time_s")
REASON_CODE = {r: i for i, r in enumerate(REASONS)}


def flatten(threats, aims_lat_deg, aims_lon_deg, detections_s, track_time_s, windows) -> dict:
    """Per-threat arrays: THREAT_FIELDS, 'error' (object), 'detections_s' (n, sensors) and per battery
    (axis 1) 'earliest_launch_s', 'feasible', 'reason_code', 'first_*', 'last_*'."""
    th = threats
    bad = ~th.valid
    nan_bad = lambda a: np.where(bad, np.nan, np.asarray(a, float))  # noqa: E731
    rec = {
        "launch_time_s": th.launch_time_s, "launch_lat_deg": th.launch_lat_deg, "launch_lon_deg": th.launch_lon_deg,
        "aim_lat_deg": np.asarray(aims_lat_deg, float), "aim_lon_deg": np.asarray(aims_lon_deg, float),
        "launch_azimuth_deg": nan_bad(th.azimuth0_deg), "burnout_time_s": nan_bad(th.burnout_time_s),
        "burnout_lat_deg": nan_bad(th.burnout_lat_deg), "burnout_lon_deg": nan_bad(th.burnout_lon_deg),
        "burnout_altitude_m": nan_bad(th.burnout_altitude_m), "burnout_speed_m_s": nan_bad(th.burnout_speed_m_s),
        "burnout_gamma_deg": nan_bad(np.degrees(th.gamma_rad)), "burnout_azimuth_deg": nan_bad(th.burnout_azimuth_deg),
        "apogee_time_s": th.apogee_time_s, "apogee_altitude_m": th.apogee_altitude_m,
        "apogee_lat_deg": th.apogee_lat_deg, "apogee_lon_deg": th.apogee_lon_deg,
        "impact_time_s": th.impact_time_s, "impact_lat_deg": th.impact_lat_deg, "impact_lon_deg": th.impact_lon_deg,
        "ground_range_m": th.ground_range_m, "track_time_s": nan_bad(track_time_s),
        "error": np.array(th.error, dtype=object),
        "detections_s": np.where(bad[:, None], np.nan, detections_s),
    }
    n, nb = th.n, len(windows)
    rec["earliest_launch_s"] = np.full((n, nb), np.nan)
    rec["feasible"] = np.zeros((n, nb), bool)
    rec["reason_code"] = np.full((n, nb), -1, np.int8)
    for part in ("first", "last"):
        for f in INTERCEPT_FIELDS:
            rec[f"{part}_{f}"] = np.full((n, nb), np.nan)
    for j, w in enumerate(windows):
        rec["earliest_launch_s"][:, j] = w.earliest_launch_s
        rec["feasible"][:, j] = w.feasible
        rec["reason_code"][:, j] = np.where(bad, -1, [REASON_CODE[r] for r in w.reason])
        for part in ("first", "last"):
            ic = getattr(w, part)
            for f in INTERCEPT_FIELDS:
                rec[f"{part}_{f}"][:, j] = np.where(w.feasible, getattr(ic, f), np.nan)
    for k in THREAT_FIELDS:
        rec[k] = np.asarray(rec[k], float).copy()
    return rec


def concat(parts: list[dict]) -> dict:
    """Join records of consecutive chunks."""
    return {k: np.concatenate([p[k] for p in parts], axis=0) for k in parts[0]}
