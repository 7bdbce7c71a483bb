"""Flyout time T(P) of a straight-boost interceptor (docs/models.md, The interceptor: straight boost and the fast
arc; Launch floor and energy management; Flyout times: numerical methods), vectorised over points.

Launched from site S towards azimuth a and elevation e (u the unit direction in S's local frame),
burnout is at S + v t_b u / 2 with Earth-relative velocity v u, then free flight. The burnout speed v is
v_b; with `energy_management` any 0 < v <= v_b. Launches need e_L <= e <= 90 deg and e > 0 (e_L =
`min_launch_elevation`). T(P) is the least time from launch to arrival at P over all allowed launches:
the fast arc.

Two families of arcs hold the least time (docs/models.md, Launch floor and energy management): the full-speed
arcs (v = v_b, e >= e_L), and, with energy management, the floor arcs (e = e_L, v < v_b: the speed whose arc
passes through P). Both are solved in one set of unknowns (az, x, tau) (interceptor/_fastarc.py): x is the
elevation of a full-speed arc, and x < e_L denotes the floor arc at speed v = v_b (1 - (e_L - x)), so Newton
steps, Jacobians and warm starts carry over from one family to the other. With e_L = 0 the floor family is
the horizon: the allowed launches are e > 0, so the least time over the floor family is the limit
e -> 0+, which is the time of the arc launched at e = 0 exactly (T is continuous in e); that arc
stands for the limit and counts as allowed (it must still clear the ground like any arc).

An arc is valid when Newton converges (miss < CONVERGED_M), tau > 0 (after burnout), the launch is
allowed and the arc stays above ground (node altitudes >= -1 m); T is the least valid arc's time,
+inf where none is valid. Points that a cheap sound bound proves beyond every valid arc are left at +inf
without a search (`_fastarc.reach_screen`). The solver is compiled (interceptor/_fastarc.py), one point per loop
iteration; a warm start from a nearby exact arc may come with that arc's point and Jacobian, and then
begins with a chord step; one with a Jacobian only (a flyout table's, interpolated) begins with chord
steps on it from the start itself.
"""

from __future__ import annotations

import math
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
# Two solutions of one point within this are the same arc (converged to CONVERGED_M, they differ by
# ~0.1 ms): the fallback starts' arc replaces the high start's only when it is faster by more.
SAME_ARC_S = 1e-3
FAMILY_NONE, FAMILY_FULL, FAMILY_FLOOR, FAMILY_BURNOUT = (_fastarc.FAMILY_NONE, _fastarc.FAMILY_FULL,
                                                          _fastarc.FAMILY_FLOOR, _fastarc.FAMILY_BURNOUT)


_NO_SPEEDS = np.empty(0)


@dataclass(frozen=True, eq=False, slots=True)
class FlyoutSolution:
    """Fast-arc solutions at k points (NaN where there is no valid arc):

    - `time_s` (k,): the flyout time T from interceptor launch (inf: no valid arc);
    - `arc` (k, 3): the arc's (azimuth rad, launch parameter x, tau s after burnout), the unknowns of
      the solver and what `Flyout.solve` takes as a warm start. x is the launch elevation (rad) of a
      full-speed arc; with energy management, x < e_L marks a floor arc, launched at e_L with burnout
      speed v_b (1 - (e_L - x)). Without energy management x is always the elevation;
    - `jacobian` (k, 3, 3): d(arrival point)/d(az, x, tau) of each arc (for chord-step warm starts);
    - `arcs_propagated` (k,): the arcs flown to find it (for profiling);
    - `speed_m_s` (k,): the burnout speed of the arc (v_b without energy management);
    - `elevation_rad` (k,): the launch elevation of the arc (x, or e_L for a floor arc);
    - `family` (k,) int8: which family the arc belongs to: FAMILY_FULL (speed v_b), FAMILY_FLOOR
      (energy management: launched at e_L, slower than v_b), FAMILY_BURNOUT (energy management: the
      point lies inside the burnout sphere, at or above the floor, and is reached at burnout, tau = 0,
      launched straight at it at speed 2 |P - S| / t_b; `arc` holds (az, elevation, 0) and `speed_m_s`
      the speed), FAMILY_NONE (no arc).

    `Flyout.arrival(az, el, tau, speed_m_s)` with `arc`'s columns (or with `elevation_rad`) gives the
    arc's state at tau."""

    time_s: np.ndarray
    arc: np.ndarray
    jacobian: np.ndarray
    arcs_propagated: np.ndarray
    speed_m_s: np.ndarray
    elevation_rad: np.ndarray
    family: np.ndarray

    def __repr__(self) -> str:
        k = self.time_s.shape[0]
        n = [int((self.family == f).sum()) for f in (FAMILY_FLOOR, FAMILY_BURNOUT)]
        return (f"<FlyoutSolution: {k} points, {int(np.isfinite(self.time_s).sum())} reachable "
                f"({n[0]} by floor arcs, {n[1]} at burnout)>")


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

    @property
    def floor_rad(self) -> float:
        """The launch elevation floor e_L (rad)."""
        return math.radians(self.interceptor.min_launch_elevation_deg)

    def direction(self, az_rad, el_rad) -> np.ndarray:
        e, n, u = self.basis
        ce = np.cos(el_rad)[:, None]
        return ce * (np.sin(az_rad)[:, None] * e + np.cos(az_rad)[:, None] * n) + np.sin(el_rad)[:, None] * u

    def launch(self, arc_x, speed_m_s=None):
        """(elevation rad (k,), burnout speed m/s (k,)) of launch parameters x (an `arc`'s column 1).
        With `speed_m_s` given, x is read as an elevation flown at that speed; with energy management
        an elevation below the floor is read as the floor (the floor arcs' x), so the column of `arc`
        and `elevation_rad` give the same launch."""
        it = self.interceptor
        x = np.atleast_1d(np.asarray(arc_x, dtype=float))
        em, floor = it.energy_management, self.floor_rad
        below = (x < floor) if em else np.zeros(x.shape, bool)
        el = np.where(below, floor, x)
        if speed_m_s is None:
            vb = self._full_speed_m_s(x.shape)
            v = np.where(below, vb * (1.0 + (x - floor)), vb)
        else:
            v = np.broadcast_to(np.asarray(speed_m_s, dtype=float), x.shape).astype(float)
        return el, v

    def arrival(self, az_rad, el_rad, tau_s, speed_m_s=None):
        """ECEF state (k, 6) at flight time tau after burnout and each arc's clearance (k,) (its least
        node altitude), for arcs launched towards (az, el): `el` a column of `FlyoutSolution.arc` or
        its `elevation_rad`, and `speed_m_s` the burnout speed (default: as the arc encodes it, v_b
        for a full-speed arc; see `launch`)."""
        el, v = self.launch(el_rad, speed_m_s)
        az = np.broadcast_to(np.asarray(az_rad, dtype=float), el.shape)
        it = self.interceptor
        u = self.direction(az, el)
        r0 = self.site_ecef + 0.5 * v[:, None] * it.burn_time_s * u
        v0 = v[:, None] * u
        return freeflight.state_at_batch(np.ascontiguousarray(r0), np.ascontiguousarray(v0),
                                         np.ascontiguousarray(tau_s, dtype=float), self.earth.kernel_params, STEP_S)

    def _full_speed_m_s(self, shape):
        """The full burnout speed of arcs of the given shape (`launch`): the interceptor's."""
        return np.full(shape, float(self.interceptor.burnout_speed_m_s))

    def inside_hole(self, p_ecef) -> np.ndarray:
        """(k,) whether points lie inside the burnout sphere (|P - S| < v_b t_b / 2) of an interceptor without
        energy management: every arc there reaches P only on the back of its reach, often not at all (a hole
        in the reach; docs/models.md, Flyout times: numerical methods), so feasibility along a threat's path
        can stop where the path enters the sphere and come back where it leaves it. All False with energy
        management (there a point inside is reached at burnout)."""
        p = np.atleast_2d(np.asarray(p_ecef, dtype=float))
        if self.interceptor.energy_management:
            return np.zeros(p.shape[0], bool)
        radius_m = 0.5 * self._full_speed_m_s((p.shape[0],)) * self.interceptor.burn_time_s
        return np.linalg.norm(p - self.site_ecef, axis=1) < radius_m

    def rows(self, which) -> Flyout:
        """The flyout of the points of threats (or samples) `which` (an index or a mask): this one; a
        `SpeedRowsFlyout` gives those rows' own burnout speeds. Callers that solve points of known rows
        call `flyout.rows(which).solve(points)`."""
        return self

    def solve(self, p_ecef, guess=None, guess_point=None, guess_jac=None, screen=True,
              speed_m_s=None) -> FlyoutSolution:
        """The flyout solution at points p_ecef (k, 3): times T (k,) in s from launch to each point (inf
        where unreachable), the fast arcs' (az, x, tau) (k, 3) for warm starts (`guess`, NaN rows:
        none) and their Jacobians, speeds and elevations (FlyoutSolution). A warm start that is the
        exact solution for `guess_point` (k, 3) with Jacobian `guess_jac` (k, 3, 3) (as in a
        FlyoutSolution) is first moved by one chord step to the new point, which usually leaves one
        arc to check; with `guess_jac` but no `guess_point` (NaN rows), the Jacobian of an arc near the
        solution (interpolated from a flyout table's nodes, interceptor/table.py) stands in for Newton's
        first finite differences (chord steps while they converge fast). With `screen` (the default),
        points that the reach screen proves beyond any valid arc (`_fastarc.reach_screen`: an energy and
        minimum-energy-conic bound with margins for J2, the Earth's turn and round-off) get T = inf at
        once, 0 arcs propagated: the same result as the search's, found without it (`screen=False`
        searches every point, for tests). `speed_m_s`
        (k,): per-point burnout speeds in place of the interceptor's (each point solved as by the
        interceptor with its speed; `SpeedRowsFlyout`)."""
        p = np.ascontiguousarray(np.atleast_2d(np.asarray(p_ecef, float)))
        k = p.shape[0]
        it = self.interceptor
        nan = lambda *shape: np.full(shape, np.nan)  # noqa: E731
        g = nan(k, 3) if guess is None else np.ascontiguousarray(np.asarray(guess, float).reshape(k, 3))
        gp = nan(k, 3) if guess_point is None else np.ascontiguousarray(np.asarray(guess_point, float).reshape(k, 3))
        gj = nan(k, 3, 3) if guess_jac is None else np.ascontiguousarray(np.asarray(guess_jac, float).reshape(k, 3, 3))
        tau_cap = TAU_CAP_S if it.max_flight_time_s is None else min(TAU_CAP_S, 1.5 * it.max_flight_time_s + 100.0)
        max_tau = np.inf if it.max_flight_time_s is None else it.max_flight_time_s
        floor = self.floor_rad
        T, sol, arcs, jac, speed, family = _fastarc.solve_batch(
            p, g, gp, gj, self.site_ecef, self.basis_rows, it.burnout_speed_m_s, it.burn_time_s,
            bool(it.energy_management), floor, self.earth.kernel_params, STEP_S, tau_cap, max_tau, FD_RAD,
            CONVERGED_M, MAX_ITER, MAX_STEP_RAD, MAX_STEP_TAU_S, SAME_ARC_S, bool(screen),
            _NO_SPEEDS if speed_m_s is None else np.ascontiguousarray(np.broadcast_to(speed_m_s, (k,)), dtype=float))
        elevation = np.where(family == FAMILY_FLOOR, floor, sol[:, 1])
        return FlyoutSolution(T, sol, jac, arcs, speed, elevation, family)


@dataclass(frozen=True, eq=False)
class SpeedRowsFlyout(Flyout):
    """One interceptor type at one site whose burnout speed differs per row (`speeds_m_s` (n,): the threat
    rows of a window evaluation, e.g. the samples of an uncertainty run with a sampled burnout speed, all
    solved in one batch): `rows(which)` gives the flyout of those rows, whose `solve` takes one point per
    row, each with its row's speed. `interceptor` holds every other value (its own burnout speed is not
    used: `solve`, `launch` and `arrival` read each row's, one point or arc per row, unless given speeds)."""

    speeds_m_s: np.ndarray = None

    def _full_speed_m_s(self, shape):
        """Each row's own burnout speed: `launch` and `arrival` without a speed read one arc per row."""
        v = np.asarray(self.speeds_m_s, dtype=float)
        if v.shape != tuple(shape):
            raise ValueError(f"{shape[0] if shape else 1} arcs for {v.size} row speeds: give speed_m_s, or use "
                             "the flyout of their rows (rows(...))")
        return v

    def rows(self, which) -> SpeedRowsFlyout:
        out = object.__new__(type(self))
        out.__dict__.update(self.__dict__)  # the site's cached frame too
        object.__setattr__(out, "speeds_m_s", np.asarray(self.speeds_m_s)[which])
        return out

    def solve(self, p_ecef, guess=None, guess_point=None, guess_jac=None, screen=True,
              speed_m_s=None) -> FlyoutSolution:
        k = np.atleast_2d(np.asarray(p_ecef, float)).shape[0]
        v = np.asarray(self.speeds_m_s if speed_m_s is None else speed_m_s, dtype=float)
        if v.shape != (k,):
            raise ValueError(f"{k} points for {v.size} row speeds: solve the points of rows(...)")
        return super().solve(p_ecef, guess, guess_point, guess_jac, screen, speed_m_s=v)
