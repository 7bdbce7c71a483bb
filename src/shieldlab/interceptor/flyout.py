"""Flyout time T(P) of a straight-boost interceptor (MODELS.md section 4), vectorised over points.

Launched from site S towards azimuth a and elevation e (u the unit direction in S's local frame),
burnout is at S + v_b t_b u / 2 with Earth-relative velocity v_b u, then free flight. T(P) is the
least time from launch to arrival at P over all (a, e): the fast arc. It is found by Newton on
(a, e, tau) with the miss vector in ECEF as residual (d/dtau is the arrival velocity; d/da, d/de by
finite differences), started from the flat-Earth ballistic solutions for both the low (fast) and high
(slow) arcs. An arc is valid when it converges, tau > 0 (after burnout), e in (0, 90] deg and it
stays above ground; T is the least valid arc's time, +inf where none is valid. The solver is compiled
(interceptor/_fastarc.py), one point per loop iteration; a warm start from a nearby exact arc may
come with that arc's point and Jacobian, and then begins with a chord step.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from shieldlab import freeflight
from shieldlab.earth import frames
from shieldlab.earth.model import Earth
from shieldlab.interceptor import _fastarc
from shieldlab.scenario.model import InterceptorType, Point

CONVERGED_M = 0.5
MAX_ITER = 15
TAU_CAP_S = 4000.0  # no straight-boost arc of interest flies longer than this after burnout
FD_RAD = 1e-6
MAX_STEP_RAD = 0.2
MAX_STEP_TAU_S = 200.0
STEP_S = 20.0  # integrator step for interceptor arcs (as for threats: decimetres or better on valid arcs)


@dataclass(frozen=True, eq=False, slots=True)
class FlyoutSolution:
    """Fast-arc solutions at k points: `time_s` (k,) the flyout time T from interceptor launch (inf: no
    valid arc), `arc` (k, 3) the arc's (azimuth rad, elevation rad, tau s after burnout) (NaN where none),
    `jacobian` (k, 3, 3) d(arrival point)/d(az, el, tau) of each arc (for chord-step warm starts) and
    `arcs_propagated` (k,) the arcs flown to find it (for profiling)."""

    time_s: np.ndarray
    arc: np.ndarray
    jacobian: np.ndarray
    arcs_propagated: np.ndarray

    def __repr__(self) -> str:
        k = self.time_s.shape[0]
        return f"<FlyoutSolution: {k} points, {int(np.isfinite(self.time_s).sum())} reachable>"


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

    @cached_property
    def basis_rows(self) -> np.ndarray:
        """(3, 3): rows east, north, up at the site."""
        return np.ascontiguousarray(np.stack([np.asarray(b, float).reshape(3) for b in self.basis]))

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

    def solve(self, p_ecef, guess=None, guess_point=None, guess_jac=None) -> FlyoutSolution:
        """The flyout solution at points p_ecef (k, 3): times T (k,) in s from launch to each point (inf
        where unreachable), the fast arcs' (az, el, tau) (k, 3) for warm starts (`guess`, NaN rows:
        none) and their Jacobians. A warm start that is the exact solution for `guess_point` (k, 3)
        with Jacobian `guess_jac` (k, 3, 3) (as in a FlyoutSolution) is first moved by one chord step
        to the new point, which usually leaves one arc to check."""
        p = np.ascontiguousarray(np.atleast_2d(np.asarray(p_ecef, float)))
        k = p.shape[0]
        it = self.interceptor
        nan = lambda *shape: np.full(shape, np.nan)  # noqa: E731
        g = nan(k, 3) if guess is None else np.ascontiguousarray(np.asarray(guess, float).reshape(k, 3))
        gp = nan(k, 3) if guess_point is None else np.ascontiguousarray(np.asarray(guess_point, float).reshape(k, 3))
        gj = nan(k, 3, 3) if guess_jac is None else np.ascontiguousarray(np.asarray(guess_jac, float).reshape(k, 3, 3))
        tau_cap = TAU_CAP_S if it.max_flight_time_s is None else min(TAU_CAP_S, 1.5 * it.max_flight_time_s + 100.0)
        max_tau = np.inf if it.max_flight_time_s is None else it.max_flight_time_s
        T, sol, arcs, jac = _fastarc.solve_batch(
            p, g, gp, gj, self.site_ecef, self.basis_rows, it.burnout_speed_m_s, it.burn_time_s,
            self.earth.kernel_params, STEP_S, tau_cap, max_tau, FD_RAD, CONVERGED_M, MAX_ITER, MAX_STEP_RAD,
            MAX_STEP_TAU_S)
        return FlyoutSolution(T, sol, jac, arcs)
