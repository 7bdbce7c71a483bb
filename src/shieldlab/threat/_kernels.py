"""Compiled kernels of the threat trajectories: free-flight positions by cubic Hermite interpolation
between integrator nodes, and the sampling of whole free flights. Pure functions of arrays (nodes
(n, m, 7): t_s, r_ecef (3), v_ecef (3)); the objects that hold the arrays are in trajectory.py.
"""

from __future__ import annotations

import math

import numpy as np

from shieldlab._jit import njit, prange
from shieldlab.earth._kernels import geodetic_lat_alt


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
def hermite_batch(nodes, count, step, rows, times, params):
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
            t = tb + j * dt if j < ns else ti  # the end exactly (tb + ns dt may pass it by a rounding)
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
