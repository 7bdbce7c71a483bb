"""The engagement condition (docs/models.md, Engagements), evaluated exactly: a battery can intercept threat i
at time t when the threat is inside the interceptor's altitude band and t >= t0[i] + T(P(t)), T the exact
flyout time (interceptor/flyout.py). t0 is the battery's earliest launch per threat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab.earth import frames
from shieldlab.interceptor.flyout import Flyout


@dataclass(frozen=True, eq=False, slots=True)
class ConditionResult:
    """The condition at k (threat, time) points: `feasible` (k,), `g_s` = t - t0 - T (k,) (-inf where no
    arc: T = inf), `flyout_time_s` T (k,), the fast `arc` (az, el, tau) (k, 3) and its `jacobian`
    (k, 3, 3) (NaN where none, e.g. outside the band), the threat's `position_ecef` (k, 3) and
    geodetic `altitude_m` (k,)."""

    feasible: np.ndarray
    g_s: np.ndarray
    flyout_time_s: np.ndarray
    arc: np.ndarray
    position_ecef: np.ndarray
    altitude_m: np.ndarray
    jacobian: np.ndarray


class Condition:
    """Exact evaluation of the engagement condition of one battery (its Flyout) for given threats."""

    def __init__(self, threats, flyout: Flyout, t0):
        self.threats, self.flyout, self.t0 = threats, flyout, t0
        it = flyout.interceptor
        self.lo, self.hi = it.min_altitude_m, it.max_altitude_m

    def position(self, tr, t):
        """Positions (k, 3) and geodetic altitudes (k,) of threats tr at times t (in free flight, as the windows
        ask them: both from the compiled interpolation in one call)."""
        th = self.threats
        if th.in_free_flight(tr, t).all():
            return th.free_flight_positions(tr, t)
        p = th.position_ecef(tr, t)
        return p, frames.geodetic_altitude(th.earth, p)

    def in_band(self, alt):
        return np.isfinite(alt) & (alt >= self.lo) & (alt <= self.hi)

    def at(self, tr, t, guess, guess_point=None, guess_jac=None, slack_s=0.0) -> ConditionResult:
        """The condition for threats tr at times t, the flyout solves warm-started from arcs `guess`
        (k, 3) (None or NaN rows: cold). When those arcs are exact for the points `guess_point` with
        Jacobians `guess_jac`, the solves start with a chord step (Flyout.solve). With slack_s,
        g >= -slack_s counts as feasible (for re-checking a boundary found to a tolerance)."""
        p, alt = self.position(tr, t)
        band = self.in_band(alt)
        T = np.full(tr.size, np.inf)
        sol = np.full((tr.size, 3), np.nan)
        jac = np.full((tr.size, 3, 3), np.nan)
        if band.any():
            sel = lambda a: None if a is None else a[band]  # noqa: E731
            fo = self.flyout.rows(np.broadcast_to(tr, band.shape)[band])  # the rows' own flyout (SpeedRowsFlyout)
            fs = fo.solve(p[band], guess=sel(guess), guess_point=sel(guess_point), guess_jac=sel(guess_jac))
            T[band], sol[band], jac[band] = fs.time_s, fs.arc, fs.jacobian
        g = t - self.t0[tr] - T
        return ConditionResult(band & (g >= -slack_s), g, T, sol, p, alt, jac)
