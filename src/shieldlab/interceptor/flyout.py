"""Flyout time T(P) of a straight-boost interceptor (MODELS.md section 4), vectorised over points.

Launched from site S towards azimuth a and elevation e (u the unit direction in S's local frame),
burnout is at S + v_b t_b u / 2 with Earth-relative velocity v_b u, then free flight. T(P) is the
least time from launch to arrival at P over all (a, e): the fast arc. It is found by Newton on
(a, e, tau) with the miss vector in ECEF as residual (d/dtau is the arrival velocity; d/da, d/de by
finite differences), started from the flat-Earth ballistic solutions for both the low (fast) and high
(slow) arcs. An arc is valid when it converges, tau > 0 (after burnout), e in (0, 90] deg and it
stays above ground; T is the least valid arc's time, +inf where none is valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from shieldlab import freeflight
from shieldlab.earth import frames
from shieldlab.earth.model import Earth
from shieldlab.scenario.model import InterceptorType, Point

G0_M_S2 = 9.80665
CONVERGED_M = 0.5
MAX_ITER = 15
TAU_CAP_S = 4000.0  # no straight-boost arc of interest flies longer than this after burnout
FD_RAD = 1e-6
MAX_STEP_RAD = 0.2
MAX_STEP_TAU_S = 200.0
STEP_S = 20.0  # integrator step for interceptor arcs (as for threats: centimetres, tests/test_freeflight.py)


@dataclass(frozen=True)
class Flyout:
    """One interceptor type at one site."""

    earth: Earth
    site: Point
    interceptor: InterceptorType

    @cached_property
    def site_ecef(self) -> np.ndarray:
        return frames.geodetic_to_ecef(self.earth, self.site.lat_deg, self.site.lon_deg, self.site.alt_m)

    @cached_property
    def basis(self):
        return frames.enu_basis(self.site.lat_deg, self.site.lon_deg)

    def direction(self, az_rad, el_rad) -> np.ndarray:
        e, n, u = self.basis
        ce = np.cos(el_rad)[:, None]
        return ce * (np.sin(az_rad)[:, None] * e + np.cos(az_rad)[:, None] * n) + np.sin(el_rad)[:, None] * u

    def arrival(self, az_rad, el_rad, tau_s):
        """ECEF state (k, 6) at flight time tau after burnout and each arc's clearance (k,)."""
        it = self.interceptor
        u = self.direction(az_rad, el_rad)
        r0 = self.site_ecef + 0.5 * it.burnout_speed_m_s * it.burn_time_s * u
        v0 = it.burnout_speed_m_s * u
        return freeflight.state_at_batch(np.ascontiguousarray(r0), np.ascontiguousarray(v0),
                                         np.ascontiguousarray(tau_s, dtype=float), self.earth.kernel_params, STEP_S)

    def flat_earth_guess(self, p_ecef: np.ndarray, high: bool):
        """(az, el, tau) for the low or high flat-Earth ballistic arc through P (a starting value)."""
        it = self.interceptor
        e, n, u = self.basis
        d = p_ecef - self.site_ecef
        de, dn, du = d @ e, d @ n, d @ u
        x = np.hypot(de, dn)
        az = np.arctan2(de, dn)
        v2 = it.burnout_speed_m_s**2
        g = G0_M_S2
        disc = v2 * v2 - g * (g * x * x + 2 * du * v2)
        sq = np.sqrt(np.maximum(disc, 0.0))
        el = np.arctan2(v2 + sq if high else v2 - sq, g * np.maximum(x, 1.0))
        el = np.where(disc < 0, np.radians(45.0), el)
        v = it.burnout_speed_m_s
        if high:
            tau = np.minimum(x / (v * np.maximum(np.cos(el), 1e-3)), 2 * v * np.sin(el) / g)
        else:
            tau = np.sqrt(x * x + du * du) / v
        tau = np.maximum(tau - 0.5 * it.burn_time_s, 1.0)
        return az, el, tau

    def _newton(self, p_ecef, az, el, tau):
        """Newton on (az, el, tau); returns the solution and a converged mask."""
        k = p_ecef.shape[0]
        az, el, tau = az.copy(), el.copy(), tau.copy()
        active = np.ones(k, bool)
        conv = np.zeros(k, bool)
        clear = np.full(k, np.nan)
        prev_miss = np.full(k, np.inf)
        strikes = np.zeros(k, int)
        tau_cap = TAU_CAP_S if self.interceptor.max_flight_time_s is None else min(
            TAU_CAP_S, 1.5 * self.interceptor.max_flight_time_s + 100.0)
        for _ in range(MAX_ITER):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            m = idx.size
            A = np.concatenate([az[idx], az[idx] + FD_RAD, az[idx]])
            E = np.concatenate([el[idx], el[idx], el[idx] + FD_RAD])
            T = np.concatenate([tau[idx], tau[idx], tau[idx]])
            st, ca = self.arrival(A, E, T)
            st = st.reshape(3, m, 6)
            f = st[0, :, :3] - p_ecef[idx]
            clear[idx] = ca[:m]
            miss = np.linalg.norm(f, axis=-1)
            ok = miss < CONVERGED_M
            conv[idx[ok]] = True
            # give up on points that do not get closer (no arc reaches them)
            strikes[idx] = np.where(miss > 0.7 * prev_miss[idx], strikes[idx] + 1, 0)
            prev_miss[idx] = miss
            hopeless = (strikes[idx] >= 2) | (tau[idx] >= tau_cap)
            J = np.empty((m, 3, 3))
            J[:, :, 0] = (st[1, :, :3] - st[0, :, :3]) / FD_RAD
            J[:, :, 1] = (st[2, :, :3] - st[0, :, :3]) / FD_RAD
            J[:, :, 2] = st[0, :, 3:6]
            bad = ~np.isfinite(f).all(-1) | ~np.isfinite(J).all((-1, -2))
            with np.errstate(all="ignore"):
                Jg = np.where(bad[:, None, None], np.eye(3), J)
                try:
                    d = np.linalg.solve(Jg, -np.where(bad[:, None], 0.0, f)[..., None])[..., 0]
                except np.linalg.LinAlgError:
                    d = np.zeros((m, 3))
                    for j in range(m):
                        try:
                            d[j] = np.linalg.solve(Jg[j], -f[j])
                        except np.linalg.LinAlgError:
                            d[j] = np.nan
            scale = np.minimum.reduce([np.ones(m), MAX_STEP_RAD / np.maximum(np.abs(d[:, 0]), 1e-300),
                                       MAX_STEP_RAD / np.maximum(np.abs(d[:, 1]), 1e-300),
                                       MAX_STEP_TAU_S / np.maximum(np.abs(d[:, 2]), 1e-300)])
            upd = ~ok & ~bad & np.isfinite(d).all(-1)
            s = np.where(upd, scale, 0.0)[:, None] * np.nan_to_num(d)
            az[idx] += s[:, 0]
            el[idx] += s[:, 1]
            tau[idx] = np.clip(tau[idx] + s[:, 2], 1e-3, tau_cap)
            active[idx[ok | bad | ~upd | hopeless]] = False
        return az, el, tau, conv, clear

    def solve(self, p_ecef, guess=None):
        """Flyout times T (k,) in s from launch to each point (inf where unreachable) and the fast
        arcs' (az, el, tau) (k, 3) for warm starts."""
        p = np.atleast_2d(np.asarray(p_ecef, float))
        k = p.shape[0]
        it = self.interceptor
        best_T = np.full(k, np.inf)
        best = np.full((k, 3), np.nan)
        starts = []
        if guess is not None:
            starts.append(tuple(np.asarray(guess, float).T))
        starts += [self.flat_earth_guess(p, high=False), self.flat_earth_guess(p, high=True)]
        todo = np.ones(k, bool)
        for si, (az0, el0, tau0) in enumerate(starts):
            idx = np.flatnonzero(todo)
            if idx.size == 0:
                break
            g_ok = np.isfinite(az0[idx]) & np.isfinite(el0[idx]) & np.isfinite(tau0[idx])
            idx = idx[g_ok]
            if idx.size == 0:
                continue
            az, el, tau, conv, clear = self._newton(p[idx], az0[idx], el0[idx], tau0[idx])
            u_up = np.sin(el)  # elevation above the local horizontal; (az, el) any real numbers
            valid = conv & (tau > 0.0) & (u_up > 0.0) & (clear >= -1.0)
            if it.max_flight_time_s is not None:
                valid &= tau <= it.max_flight_time_s
            T = np.where(valid, it.burn_time_s + tau, np.inf)
            better = T < best_T[idx]
            best_T[idx[better]] = T[better]
            # normalise the direction: elevation in (0, 90], azimuth in [0, 2 pi)
            el_n = np.where(np.cos(el) < 0, np.pi - el, el)
            az_n = np.where(np.cos(el) < 0, az + np.pi, az) % (2 * np.pi)
            best[idx[better]] = np.stack([az_n, el_n, tau], -1)[better]
            # a valid arc from the warm start or the low start is the fast arc: the next starts
            # (ending with the high arc) only for the rest
            if si < len(starts) - 1:
                todo[idx[valid]] = False
        return best_T, best
