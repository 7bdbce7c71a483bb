"""The flights an assessment compares with a test (docs/models.md, Assessing a missile from a flight test): a
burnout type flown from given (v_bo, gamma), a staged type from given (kick, payload), many at once; and the
greatest ground range over the free angle (gamma or the kick) along many azimuths.

Every function takes arrays broadcast to (n,) and returns an `Observed` of arrays (n,): apogee (the greatest
geodetic altitude of the free flight), flight time (launch to impact, the powered flight included), ground range
along the way (a flight past the antipode counts a circumference minus its geodesic distance) and the impact
point; NaN where the flight crashes or does not come down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from shieldlab import freeflight
from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.scenario.model import Point
from shieldlab.threat import staged
from shieldlab.threat.burnout import burnout_point, burnout_state_ecef

INVPHI = (math.sqrt(5.0) - 1.0) / 2.0
GAMMA_GRID_DEG = np.linspace(1.0, 80.0, 40)  # flight-path angles tried first for the burnout type's maximum range
GAMMA_TOL_DEG = 1e-3
KICK_GRID_DEG = np.geomspace(0.05, 89.95, 32)  # kicks tried first for the staged type's maximum range
KICK_TOL_DEG = 1e-4


@dataclass(frozen=True, eq=False)
class Observed:
    """What n model flights show of themselves, as a test's observers would see it (arrays (n,), SI)."""

    apogee_m: np.ndarray
    flight_time_s: np.ndarray
    ground_range_m: np.ndarray
    impact_lat_deg: np.ndarray
    impact_lon_deg: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        return np.isfinite(self.flight_time_s) & np.isfinite(self.ground_range_m)


def _n(*arrays) -> tuple[np.ndarray, ...]:
    b = np.broadcast_arrays(*(np.atleast_1d(np.asarray(a, float)) for a in arrays))
    return tuple(np.ascontiguousarray(a, dtype=float) for a in b)


def along_range_m(earth: Earth, lat, lon, az0, ilat, ilon) -> np.ndarray:
    """The ground range (m) from the launch point to the impact along the way: the geodesic distance, or a
    circumference minus it when the flight went past the antipode (its impact lies behind the launch azimuth,
    beyond a quarter of the way round). NaN where the impact is NaN."""
    ok = np.isfinite(ilat) & np.isfinite(ilon)
    az_i, rng = geodesic.inverse(earth, lat, lon, np.where(ok, ilat, 0.0), np.where(ok, ilon, 0.0))
    az_i, rng = np.atleast_1d(az_i), np.atleast_1d(rng)
    circ = 2.0 * math.pi * earth.mean_radius_m
    back = (np.abs((az_i - az0 + 180.0) % 360.0 - 180.0) > 90.0) & (rng > 0.25 * circ)
    return np.where(ok, np.where(back, circ - rng, rng), np.nan)


def burnout_flights(earth: Earth, launch: Point, azimuth_deg, burn_time_s, burnout_altitude_m, burnout_range_m,
                    speed_m_s, gamma_deg, *, step_s: float = freeflight.DEFAULT_STEP_S) -> Observed:
    """Flights of a burnout type (docs/models.md, The threat missile: the burnout model) with burnout speeds and
    flight-path angles given (arrays broadcast to (n,))."""
    az, t_bo, h_bo, d_bo, v, g = _n(azimuth_deg, burn_time_s, burnout_altitude_m, burnout_range_m, speed_m_s,
                                    gamma_deg)
    n = az.size
    lat = np.full(n, launch.lat_deg)
    lon = np.full(n, launch.lon_deg)
    lat_b, lon_b, az_b = burnout_point(earth, lat, lon, az, d_bo)
    r, vel = burnout_state_ecef(earth, lat_b, lon_b, h_bo, az_b, np.radians(g), v)
    good = np.isfinite(r).all(-1) & np.isfinite(vel).all(-1) & (v > 0)
    r = np.ascontiguousarray(np.where(good[:, None], r, [[earth.a_m + 1e6, 0.0, 0.0]]))
    vel = np.ascontiguousarray(np.where(good[:, None], vel, [[0.0, 0.0, 1.0]]))
    p = earth.kernel_params
    st, tau_i, rimp = freeflight.impact_batch(r, vel, p, step_s, freeflight.MAX_FLIGHT_S)
    st2, _, _, _, alt_a, _ = freeflight.trajectory_batch(r, vel, p, step_s, freeflight.MAX_FLIGHT_S,
                                                         np.zeros((n, 1, 7)))
    ok = good & (st == freeflight.OK)

    ilat, ilon, _ = frames.ecef_to_geodetic(earth, np.where(ok[:, None], rimp, [[earth.a_m, 0.0, 0.0]]))
    ilat, ilon = np.where(ok, ilat, np.nan), np.where(ok, ilon, np.nan)
    return Observed(np.where(ok, alt_a, np.nan), np.where(ok, t_bo + tau_i, np.nan),
                    along_range_m(earth, lat, lon, az, ilat, ilon), ilat, ilon)


def staged_flights(earth: Earth, vehicle: staged.StagedVehicles, launch: Point, azimuth_deg, kick_deg,
                   payload_mass_kg) -> tuple[Observed, staged.StagedFlights]:
    """Full-burn flights of one staged type (`vehicle`, one row) with kicks and payload masses given (arrays
    broadcast to (n,)), and the flights themselves (their burnout states)."""
    az, kick, pay = _n(azimuth_deg, kick_deg, payload_mass_kg)
    n = az.size
    veh = vehicle.take(np.zeros(n, np.int64)).with_payload(pay)
    f = staged.fly(earth, veh, launch.lat_deg, launch.lon_deg, launch.alt_m, az, np.clip(kick, 0.0, 90.0),
                   want_nodes=False)
    ok = f.status == staged.OK
    lat, lon = f.launch_lat_deg, f.launch_lon_deg
    return Observed(np.where(ok, f.apogee_altitude_m, np.nan), np.where(ok, f.impact_time_s, np.nan),
                    along_range_m(earth, lat, lon, az, f.impact_lat_deg, f.impact_lon_deg),
                    f.impact_lat_deg, f.impact_lon_deg), f


def maximize(range_of, n: int, grid: np.ndarray, lo: float, hi: float, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """The greatest of `range_of(rows, x)` (ranges (k,) for rows (k,) at x (k,); NaN: no flight) over x in
    [lo, hi] for n problems at once: the values of `grid` first, then golden-section search between the best
    one's neighbours to `tol`. Returns (x*, range*), NaN where every grid value fails."""
    g = grid.size
    rows = np.repeat(np.arange(n), g)
    rng = np.nan_to_num(range_of(rows, np.tile(grid, n)), nan=-1.0).reshape(n, g)
    best = np.argmax(rng, axis=1)
    found = rng[np.arange(n), best] > 0
    a = np.where(best > 0, grid[np.maximum(best - 1, 0)], lo)
    b = np.where(best < g - 1, grid[np.minimum(best + 1, g - 1)], hi)
    every = np.arange(n)
    f = lambda x: np.nan_to_num(range_of(every, x), nan=-1.0)  # noqa: E731
    c = b - INVPHI * (b - a)
    d = a + INVPHI * (b - a)
    fc, fd = f(c), f(d)
    while np.max(b - a) > tol:
        left = fc > fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        new = np.where(left, b - INVPHI * (b - a), a + INVPHI * (b - a))
        fn = f(new)
        c, d, fc, fd = (np.where(left, new, d), np.where(left, c, new), np.where(left, fn, fd),
                        np.where(left, fc, fn))
    cand_x = np.stack([grid[best], c, d], axis=1)
    cand_r = np.stack([rng[every, best], fc, fd], axis=1)
    j = np.argmax(cand_r, axis=1)
    return (np.where(found, cand_x[every, j], np.nan), np.where(found, cand_r[every, j], np.nan))


def burnout_max_range(earth: Earth, launch: Point, azimuths_deg, burn_time_s, burnout_altitude_m, burnout_range_m,
                      speed_m_s):
    """The greatest ground range over gamma at a fixed burnout speed, along each azimuth: (gamma* deg, range* m,
    Observed of those flights)."""
    az = np.atleast_1d(np.asarray(azimuths_deg, float))

    def range_of(rows, g):
        return burnout_flights(earth, launch, az[rows], burn_time_s, burnout_altitude_m, burnout_range_m,
                               speed_m_s, g).ground_range_m

    g, r = maximize(range_of, az.size, GAMMA_GRID_DEG, 0.5, 89.5, GAMMA_TOL_DEG)
    obs = burnout_flights(earth, launch, az, burn_time_s, burnout_altitude_m, burnout_range_m, speed_m_s,
                          np.nan_to_num(g, nan=45.0))
    return g, r, obs


def staged_max_range(earth: Earth, vehicle: staged.StagedVehicles, launch: Point, azimuths_deg, payload_mass_kg):
    """The greatest ground range over the kick with a full burn, along each azimuth (and payload, broadcast):
    (kick* deg, range* m, Observed of those flights)."""
    az, pay = _n(azimuths_deg, payload_mass_kg)

    def range_of(rows, k):
        return staged_flights(earth, vehicle, launch, az[rows], k, pay[rows])[0].ground_range_m

    k, r = maximize(range_of, az.size, KICK_GRID_DEG, 0.0, 90.0, KICK_TOL_DEG)
    obs = staged_flights(earth, vehicle, launch, az, np.nan_to_num(k, nan=1.0), pay)[0]
    return k, r, obs
