"""Threat trajectories for many threats at once: burnout, free flight to impact, apogee, and the
position at any time (powered flight by the burnout model's rule, free flight by cubic Hermite
interpolation between integrator nodes, whose error is far below a metre at the default step).

Frames: every stored vector is ECEF (`r_ecef`, `v_ecef`); times are scenario times in seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from shieldlab import freeflight
from shieldlab._jit import njit, prange
from shieldlab.earth._kernels import geodetic_lat_alt
from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.threat.burnout import burnout_point, burnout_state_ecef, powered_position_ecef


@dataclass
class ThreatBatch:
    """n threats' flights. Rows whose `error` is not None hold NaN in every computed field."""

    earth: Earth
    launch_time_s: np.ndarray
    launch_lat_deg: np.ndarray
    launch_lon_deg: np.ndarray
    launch_alt_m: np.ndarray
    azimuth0_deg: np.ndarray
    burn_time_s: np.ndarray
    burnout_range_m: np.ndarray
    burnout_altitude_m: np.ndarray
    burnout_speed_m_s: np.ndarray
    gamma_rad: np.ndarray
    error: list = field(default_factory=list)
    # filled by fly()
    burnout_lat_deg: np.ndarray = None
    burnout_lon_deg: np.ndarray = None
    burnout_azimuth_deg: np.ndarray = None
    nodes: np.ndarray = None  # (n, m, 7): t_s, r_ecef (3), v_ecef (3); free flight only
    node_count: np.ndarray = None
    impact_time_s: np.ndarray = None
    impact_lat_deg: np.ndarray = None
    impact_lon_deg: np.ndarray = None
    apogee_time_s: np.ndarray = None
    apogee_altitude_m: np.ndarray = None
    apogee_lat_deg: np.ndarray = None
    apogee_lon_deg: np.ndarray = None
    ground_range_m: np.ndarray = None
    step_s: float = freeflight.DEFAULT_STEP_S

    @property
    def n(self) -> int:
        return self.launch_time_s.shape[0]

    @property
    def burnout_time_s(self) -> np.ndarray:
        return self.launch_time_s + self.burn_time_s

    @property
    def valid(self) -> np.ndarray:
        return np.array([e is None for e in self.error], bool)

    def position_ecef(self, idx, t_s) -> np.ndarray:
        """Positions (k, 3) of threats idx (k,) at scenario times t_s (k,); NaN outside launch..impact."""
        idx = np.asarray(idx, int)
        t = np.asarray(t_s, float)
        out = np.full(idx.shape + (3,), np.nan)
        tau = t - self.launch_time_s[idx]
        powered = (tau >= 0) & (tau <= self.burn_time_s[idx])
        if powered.any():
            i = idx[powered]
            out[powered] = powered_position_ecef(
                self.earth, self.launch_lat_deg[i], self.launch_lon_deg[i], self.launch_alt_m[i],
                self.azimuth0_deg[i], self.burn_time_s[i], self.burnout_range_m[i], self.burnout_altitude_m[i],
                tau[powered])
        free = (tau > self.burn_time_s[idx]) & (t <= self.impact_time_s[idx])
        if free.any():
            out[free] = self.free_flight_positions(idx[free], t[free])[0]
        return out

    def free_flight_positions(self, idx, t_s):
        """Free-flight positions (k, 3) and geodetic altitudes (k,) at times t_s (compiled)."""
        return _hermite_batch(self.nodes, self.node_count, self.step_s, np.ascontiguousarray(idx, dtype=np.int64),
                              np.ascontiguousarray(t_s, dtype=float), self.earth.kernel_params)


def fly(batch: ThreatBatch) -> ThreatBatch:
    """Compute burnout, free flight, apogee and impact for every threat without an error."""
    E, n = batch.earth, batch.n
    if len(batch.error) != n:
        batch.error = [None] * n
    lat_b, lon_b, az_b = burnout_point(E, batch.launch_lat_deg, batch.launch_lon_deg, batch.azimuth0_deg,
                                       batch.burnout_range_m)
    batch.burnout_lat_deg, batch.burnout_lon_deg, batch.burnout_azimuth_deg = lat_b, lon_b, az_b
    r, v = burnout_state_ecef(E, lat_b, lon_b, batch.burnout_altitude_m, az_b, batch.gamma_rad, batch.burnout_speed_m_s)
    finite = np.isfinite(r).all(-1) & np.isfinite(v).all(-1)
    for i in np.flatnonzero(batch.valid & ~finite):
        batch.error[i] = "the burnout state is undefined (missing burnout speed, azimuth or flight-path angle)"
    valid = batch.valid
    r = np.ascontiguousarray(np.where(valid[:, None], r, 0.0))
    v = np.ascontiguousarray(np.where(valid[:, None], v, 0.0))
    r[~valid] = [E.a_m + 1e6, 0, 0]
    v[~valid] = [0, 0, 1.0]
    h = batch.step_s
    status, tau_imp, _ = freeflight.impact_batch(r, v, E.kernel_params, h, freeflight.MAX_FLIGHT_S)
    m = int(np.max(np.where(valid & (status == 0), tau_imp, 0.0), initial=0.0) // h) + 3
    nodes = np.full((n, m, 7), np.nan)
    status, count, tau_i, tau_a, alt_a, apo = freeflight.trajectory_batch(r, v, E.kernel_params, h,
                                                                           freeflight.MAX_FLIGHT_S, nodes)
    t_bo = batch.burnout_time_s
    nodes[:, :, 0] += t_bo[:, None]
    for i in np.flatnonzero(valid & (status != 0)):
        batch.error[i] = "the free flight does not come back to the ground (burnout speed too high?)"
    ok = batch.valid
    batch.nodes, batch.node_count = nodes, count
    batch.impact_time_s = np.where(ok, t_bo + tau_i, np.nan)
    last = nodes[np.arange(n), np.maximum(count - 1, 0), 1:4]
    ilat, ilon, _ = frames.ecef_to_geodetic(E, last)
    batch.impact_lat_deg = np.where(ok, ilat, np.nan)
    batch.impact_lon_deg = np.where(ok, ilon, np.nan)
    alat, alon, _ = frames.ecef_to_geodetic(E, apo[:, :3])
    batch.apogee_time_s = np.where(ok, t_bo + tau_a, np.nan)
    batch.apogee_altitude_m = np.where(ok, alt_a, np.nan)
    batch.apogee_lat_deg = np.where(ok, alat, np.nan)
    batch.apogee_lon_deg = np.where(ok, alon, np.nan)
    _, rng = geodesic.inverse(E, batch.launch_lat_deg, batch.launch_lon_deg,
                              np.nan_to_num(batch.impact_lat_deg), np.nan_to_num(batch.impact_lon_deg))
    batch.ground_range_m = np.where(ok, rng, np.nan)
    return batch


@njit
def hermite_position(nodes, count, step, i, t):
    """Free-flight ECEF position of threat i at time t: cubic Hermite between its integrator nodes."""
    t0 = nodes[i, 0, 0]
    u = (t - t0) / step
    j = int(u) if u > 0.0 else 0  # floor for t >= t0 (a float // costs more)
    j = min(j, count[i] - 2)
    ta = nodes[i, j, 0]
    h = nodes[i, j + 1, 0] - ta
    s = (t - ta) / h
    s2 = s * s
    s3 = s2 * s
    h00 = 2 * s3 - 3 * s2 + 1
    h10 = (s3 - 2 * s2 + s) * h
    h01 = -2 * s3 + 3 * s2
    h11 = (s3 - s2) * h
    x = h00 * nodes[i, j, 1] + h10 * nodes[i, j, 4] + h01 * nodes[i, j + 1, 1] + h11 * nodes[i, j + 1, 4]
    y = h00 * nodes[i, j, 2] + h10 * nodes[i, j, 5] + h01 * nodes[i, j + 1, 2] + h11 * nodes[i, j + 1, 5]
    z = h00 * nodes[i, j, 3] + h10 * nodes[i, j, 6] + h01 * nodes[i, j + 1, 3] + h11 * nodes[i, j + 1, 6]
    return x, y, z


@njit(parallel=True)
def _hermite_batch(nodes, count, step, rows, times, params):
    """Free-flight positions (k, 3) and geodetic altitudes (k,) of threats `rows` at `times`
    (NaN where a time is NaN)."""
    k = rows.shape[0]
    pos = np.empty((k, 3))
    alt = np.empty(k)
    for q in prange(k):
        t = times[q]
        if not np.isfinite(t):
            pos[q, :] = np.nan
            alt[q] = np.nan
            continue
        x, y, z = hermite_position(nodes, count, step, rows[q], t)
        pos[q, 0] = x
        pos[q, 1] = y
        pos[q, 2] = z
        _, alt[q] = geodetic_lat_alt(x, y, z, params)
    return pos, alt


@njit(parallel=True)
def sample_free_flights(nodes, count, step, rows, t_burnout, t_impact, t_apogee, sample_s, m, params):
    """Sample times (k, m) of the free flights of threats `rows`: every sample_s or less from burnout
    to impact (equal spacing), plus the apogee when it lies strictly inside, in increasing order,
    NaN padded; with their positions (k, m, 3) and geodetic altitudes (k, m)."""
    k = rows.shape[0]
    times = np.full((k, m), np.nan)
    pos = np.full((k, m, 3), np.nan)
    alt = np.full((k, m), np.nan)
    for q in prange(k):
        tb = t_burnout[q]
        ti = t_impact[q]
        ns = max(int(math.ceil((ti - tb) / sample_s)), 1)
        dt = (ti - tb) / ns
        ta = t_apogee[q]
        apo = ta > tb and ta < ti
        c = 0
        for j in range(ns + 1):
            t = tb + j * dt
            if apo and ta < t:
                times[q, c] = ta
                c += 1
                apo = False
            times[q, c] = t
            c += 1
        for j in range(c):
            x, y, z = hermite_position(nodes, count, step, rows[q], times[q, j])
            pos[q, j, 0] = x
            pos[q, j, 1] = y
            pos[q, j, 2] = z
            _, alt[q, j] = geodetic_lat_alt(x, y, z, params, 1)
    return times, pos, alt
