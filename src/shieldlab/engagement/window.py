"""Intercept windows of one battery against many threats (MODELS.md section 5).

The battery can intercept at threat time t when burnout <= t <= impact, the threat's altitude is in
the interceptor's band, and t >= t_I0 + T(P(t)) (T within the flight-time limit). The free flight is
scanned every SAMPLE_S with exact flyout times; the first and last feasible samples' intervals are
then bisected on the same exact predicate to well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab.earth import frames
from shieldlab.interceptor.flyout import Flyout

SAMPLE_S = 5.0
BISECTIONS = 12  # 5 s / 2**12 ~ 1 ms

REASONS = ("ok", "not-detected", "altitude", "out-of-reach", "timeline")


@dataclass
class Intercept:
    time_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    altitude_m: np.ndarray
    interceptor_launch_s: np.ndarray
    flyout_time_s: np.ndarray


@dataclass
class Window:
    """Per threat: earliest interceptor launch, feasibility, reason, first and last intercept."""

    earliest_launch_s: np.ndarray
    feasible: np.ndarray
    reason: np.ndarray  # object array of REASONS
    first: Intercept
    last: Intercept


def _empty_intercept(n):
    z = lambda: np.full(n, np.nan)  # noqa: E731
    return Intercept(z(), z(), z(), z(), z(), z())


def evaluate(threats, flyout: Flyout, earliest_launch_s: np.ndarray) -> Window:
    """Windows of one battery (its flyout model) given each threat's earliest launch (NaN: no cue)."""
    n = threats.n
    E = threats.earth
    it = flyout.interceptor
    first, last = _empty_intercept(n), _empty_intercept(n)
    feasible = np.zeros(n, bool)
    reason = np.full(n, "not-detected", dtype=object)
    t0 = np.asarray(earliest_launch_s, float)
    idx = np.flatnonzero(threats.valid & np.isfinite(t0))
    if idx.size == 0:
        return Window(t0, feasible, reason, first, last)
    # sample the free flight
    tb = threats.burnout_time_s[idx]
    ti = threats.impact_time_s[idx]
    ns = np.ceil((ti - tb) / SAMPLE_S).astype(int)
    m = int(ns.max()) + 1
    j = np.arange(m)[None, :]
    times = tb[:, None] + j * ((ti - tb) / ns)[:, None]
    times[j > ns[:, None]] = np.nan
    k = idx.size
    rows = np.repeat(idx, m)
    tt = times.ravel()
    good = np.isfinite(tt)
    pos = np.full((k * m, 3), np.nan)
    pos[good] = threats.position_ecef(rows[good], tt[good])
    _, _, alt = frames.ecef_to_geodetic(E, pos)
    in_band = good & (alt >= it.min_altitude_m) & (alt <= it.max_altitude_m)
    T = np.full(k * m, np.inf)
    sol = np.full((k * m, 3), np.nan)
    if in_band.any():
        T[in_band], sol[in_band] = flyout.solve(pos[in_band])
    T = T.reshape(k, m)
    sol = sol.reshape(k, m, 3)
    in_band = in_band.reshape(k, m)
    ok = in_band & np.isfinite(T) & (times - t0[idx][:, None] >= T)
    reason[idx] = np.where(~in_band.any(1), "altitude",
                           np.where(~(in_band & np.isfinite(T)).any(1), "out-of-reach", "timeline"))
    hit = ok.any(1)
    reason[idx[hit]] = "ok"
    feasible[idx[hit]] = True
    if hit.any():
        h = np.flatnonzero(hit)
        f = np.argmax(ok[h], axis=1)
        l = m - 1 - np.argmax(ok[h, ::-1], axis=1)
        _refine(threats, flyout, t0, idx[h], times[h], sol[h], f, -1, first)
        _refine(threats, flyout, t0, idx[h], times[h], sol[h], l, +1, last)
    return Window(t0, feasible, reason, first, last)


def _feasible_at(threats, flyout, t0, tr, t, guess):
    p = threats.position_ecef(tr, t)
    _, _, alt = frames.ecef_to_geodetic(threats.earth, p)
    it = flyout.interceptor
    band = np.isfinite(alt) & (alt >= it.min_altitude_m) & (alt <= it.max_altitude_m)
    T = np.full(tr.size, np.inf)
    sol = np.full((tr.size, 3), np.nan)
    if band.any():
        T[band], sol[band] = flyout.solve(p[band], guess=guess[band])
    return band & np.isfinite(T) & (t - t0[tr] >= T), T, sol, p, alt


def _refine(threats, flyout, t0, tr, times, sol, kk, direction, out: Intercept):
    """Bisect between the feasible sample kk and its infeasible neighbour (kk + direction)."""
    rows = np.arange(tr.size)
    t_in = times[rows, kk]
    nb = kk + direction
    has_nb = (nb >= 0) & (nb < times.shape[1])
    t_out = np.where(has_nb, times[rows, np.clip(nb, 0, times.shape[1] - 1)], np.nan)
    has_nb &= np.isfinite(t_out)
    guess = sol[rows, kk]
    sub = np.flatnonzero(has_nb)
    a, b = t_in[sub].copy(), t_out[sub].copy()
    for _ in range(BISECTIONS):
        mid = 0.5 * (a + b)
        okm, _, s, _, _ = _feasible_at(threats, flyout, t0, tr[sub], mid, guess[sub])
        a = np.where(okm, mid, a)
        b = np.where(okm, b, mid)
        guess[sub] = np.where(okm[:, None], s, guess[sub])
    t_in[sub] = a
    okf, T, _, p, alt = _feasible_at(threats, flyout, t0, tr, t_in, guess)
    lat, lon, _ = frames.ecef_to_geodetic(threats.earth, p)
    out.time_s[tr] = t_in
    out.lat_deg[tr] = lat
    out.lon_deg[tr] = lon
    out.altitude_m[tr] = alt
    out.flyout_time_s[tr] = T
    out.interceptor_launch_s[tr] = t_in - T
