"""The launch floor and energy management of the straight-boost interceptor (docs/models.md, Launch floor and
energy management; interceptor/flyout.py, interceptor/_fastarc.py), and the fast-arc solver near the zenith
(shieldlab issue 12, item 3: slow interceptors missed reachable points overhead).

References: docs/models.md, Gravity; Frames; The interceptor: straight boost and the fast arc; Launch floor and
energy management. Every returned arc is flown again here by an independent integration, scipy's DOP853 (rtol
1e-12) in the inertial frame with the model's gravity typed in below (not imported from src/), from the burnout
state those sections state: S + v t_b u / 2 with Earth-relative velocity v u. Reachability near the zenith is
checked by a brute-force search: a dense grid of launch directions, each flown by DOP853, the nearest passes
refined by scipy's root finder.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp
from scipy.optimize import root

from shieldlab.api import engage, load_scenario_text
from shieldlab.earth import geodesic
from shieldlab.earth.model import Earth
from shieldlab.interceptor.flyout import FAMILY_BURNOUT, FAMILY_FLOOR, FAMILY_FULL, Flyout
from shieldlab.scenario.model import EarthSpec, InterceptorType, Point

# docs/models.md, Shape, rotation and gravity constants, typed here so the reference does not share code with src/
GM = 3.986004418e14
WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
J2 = 1.08262668e-3
OMEGA = 7.292115e-5

IVP_RTOL = 1e-12  # the validation vectors' reference integrations use DOP853 at rtol 1e-11 (validation README)
IVP_ATOL_M = 1e-6
# The solver converges to 0.5 m (flyout.CONVERGED_M) on its RK4 arcs (20 s steps: decimetres on these arcs), so an
# independent flight of its arc passes within about a metre of the point, at the solver's time to a millisecond.
ARRIVAL_TOL_M = 1.5
ARRIVAL_TIME_TOL_S = 2e-3
SAME_ARC_TOL_S = 0.01  # two solves of one arc: both within 0.5 m of the point, ~0.1 ms apart at km/s
BRUTE_TIME_TOL_S = 0.01  # the brute-force reference converges (DOP853 + root) to the same arc as the solver
# At the edge of reach the fast and slow arcs merge and dT/dP diverges: there a metre (the solver's 0.5 m, RK4 against
# DOP853) moves T by tens of milliseconds, and the two arcs' times differ by as much
EDGE_TIME_TOL_S = 0.1
FIRST_INTERCEPT_TOL_S = 3.0  # docs/models.md, Validation vectors: first intercept time
WINDOW_TOL_S = 0.01  # engagement/boundary.py TIME_TOL_S: boundaries located to this

EARTH = Earth.from_spec(EarthSpec())


# ---- the independent reference ----------------------------------------------------------------------------------
def _ecef(lat_deg, lon_deg, alt_m):
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    e2 = WGS84_F * (2 - WGS84_F)
    n = WGS84_A / math.sqrt(1 - e2 * math.sin(lat) ** 2)
    return np.array([(n + alt_m) * math.cos(lat) * math.cos(lon), (n + alt_m) * math.cos(lat) * math.sin(lon),
                     (n * (1 - e2) + alt_m) * math.sin(lat)])


def _enu(lat_deg, lon_deg):
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    east = np.array([-math.sin(lon), math.cos(lon), 0.0])
    north = np.array([-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)])
    up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
    return east, north, up


def _rhs(t, y):
    """Point mass + J2 in the inertial frame (docs/models.md, Gravity), vectorised over stacked states (6 n,)."""
    s = y.reshape(-1, 6)
    r = s[:, :3]
    rn = np.linalg.norm(r, axis=1)
    k = 1.5 * J2 * (WGS84_A / rn) ** 2
    zz = (r[:, 2] / rn) ** 2
    c = -GM / rn**3
    a = np.empty_like(r)
    a[:, 0] = c * r[:, 0] * (1 + k * (1 - 5 * zz))
    a[:, 1] = c * r[:, 1] * (1 + k * (1 - 5 * zz))
    a[:, 2] = c * r[:, 2] * (1 + k * (3 - 5 * zz))
    return np.concatenate([s[:, 3:], a], axis=1).ravel()


def _to_ecef(tau, r_in):
    """Inertial positions (n, 3) at flight time tau to ECEF (the inertial frame coincides with ECEF at burnout)."""
    tau = np.asarray(tau, float)
    c, s = np.cos(OMEGA * tau), np.sin(OMEGA * tau)
    if tau.ndim:  # times along the leading axes: (..., 1) against (..., 3)
        c, s = c[..., 0], s[..., 0]
    return np.stack([c * r_in[..., 0] + s * r_in[..., 1], -s * r_in[..., 0] + c * r_in[..., 1], r_in[..., 2]], -1)


def _burnout(site_ecef, u, speed, burn_time_s):
    """Inertial state(s) (n, 6) at burnout: S + v t_b u / 2, Earth-relative velocity v u (docs/models.md, The
    interceptor: straight boost and the fast arc; Launch floor and energy management)."""
    u = np.atleast_2d(u)
    v = np.broadcast_to(np.asarray(speed, float), (u.shape[0],))[:, None]
    r0 = site_ecef + 0.5 * v * burn_time_s * u
    v_in = v * u + np.cross([0.0, 0.0, OMEGA], r0)
    return np.concatenate([r0, v_in], axis=1)


def fly(site_ecef, u, speed, burn_time_s, tau_s):
    """ECEF position at tau after burnout of one arc, by DOP853."""
    y0 = _burnout(site_ecef, u, speed, burn_time_s)[0]
    sol = solve_ivp(_rhs, (0.0, tau_s), y0, method="DOP853", rtol=IVP_RTOL, atol=IVP_ATOL_M)
    return _to_ecef(tau_s, sol.y[:3, -1])


def nearest_pass(site_ecef, u, speed, burn_time_s, p, tau_max):
    """(least distance, tau there) of one arc's DOP853 flight to the point p (dense output, refined)."""
    y0 = _burnout(site_ecef, u, speed, burn_time_s)[0]
    sol = solve_ivp(_rhs, (0.0, tau_max), y0, method="DOP853", rtol=IVP_RTOL, atol=IVP_ATOL_M, dense_output=True)
    t = np.linspace(0.0, tau_max, int(tau_max * 20) + 1)
    d = np.linalg.norm(_to_ecef(t[:, None], sol.sol(t)[:3].T) - p, axis=1)
    j = int(np.argmin(d))
    lo, hi = t[max(j - 1, 0)], t[min(j + 1, t.size - 1)]
    for _ in range(60):  # golden section on the dense output
        a, b = lo + 0.382 * (hi - lo), lo + 0.618 * (hi - lo)
        da, db = (np.linalg.norm(_to_ecef(x, sol.sol(x)[:3]) - p) for x in (a, b))
        lo, hi = (lo, b) if da < db else (a, hi)
    tc = 0.5 * (lo + hi)
    return float(np.linalg.norm(_to_ecef(tc, sol.sol(tc)[:3]) - p)), tc


def brute_force_flyout_s(site: Point, speed, burn_time_s, p, el_min_deg=60.0, tau_max=450.0):
    """The least flyout time to p over launch directions above el_min_deg at one burnout speed, by brute force: a
    grid of directions every 0.5 deg of tilt from the zenith (in east and north), each flown by DOP853 (all at once,
    a vectorised right-hand side), the passes within 30 km of p refined to a root of the miss by scipy's `root`
    in (east tilt, north tilt, tau) on single DOP853 flights; inf when no arc reaches p."""
    S = _ecef(site.lat_deg, site.lon_deg, site.alt_m)
    e, n, up = _enu(site.lat_deg, site.lon_deg)
    lim = math.cos(math.radians(el_min_deg))
    q = np.arange(-lim, lim + 1e-9, math.radians(0.5))
    qe, qn = (a.ravel() for a in np.meshgrid(q, q))
    keep = qe**2 + qn**2 <= lim**2
    qe, qn = qe[keep], qn[keep]
    u = qe[:, None] * e + qn[:, None] * n + np.sqrt(1 - qe**2 - qn**2)[:, None] * up
    y0 = _burnout(S, u, speed, burn_time_s).ravel()
    t = np.arange(0.0, tau_max, 1.0)
    sol = solve_ivp(_rhs, (0.0, tau_max), y0, method="DOP853", rtol=1e-10, atol=1e-3, t_eval=t)
    r = _to_ecef(t[None, :, None], sol.y.reshape(-1, 6, t.size)[:, :3, :].transpose(0, 2, 1))
    d = np.linalg.norm(r - p, axis=2)  # (directions, times)
    cand = np.flatnonzero(d.min(axis=1) < 30e3)
    best = math.inf
    for i in cand[np.argsort(d.min(axis=1)[cand])][:12]:
        tau0 = t[np.argmin(d[i])]

        def miss(x):
            uu = x[0] * e + x[1] * n + math.sqrt(max(1 - x[0] ** 2 - x[1] ** 2, 0.0)) * up
            return (fly(S, uu, speed, burn_time_s, max(x[2], 1e-3)) - p) / 1e3

        r_ = root(miss, [qe[i], qn[i], tau0], method="hybr", options={"xtol": 1e-12})
        if np.linalg.norm(miss(r_.x)) * 1e3 < 1.0 and r_.x[2] > 0:
            best = min(best, burn_time_s + r_.x[2])
    return best


def check_arc_by_dop853(fly_: Flyout, fs, i, p):
    """Fly arc i of FlyoutSolution fs (its azimuth, elevation_rad and speed_m_s) by DOP853: it must pass within
    ARRIVAL_TOL_M of p at the solver's tau (ARRIVAL_TIME_TOL_S)."""
    it = fly_.interceptor
    e, n, up = _enu(fly_.site.lat_deg, fly_.site.lon_deg)
    az, el, tau = fs.arc[i, 0], fs.elevation_rad[i], fs.arc[i, 2]
    u = math.cos(el) * (math.sin(az) * e + math.cos(az) * n) + math.sin(el) * up
    S = _ecef(fly_.site.lat_deg, fly_.site.lon_deg, fly_.site.alt_m)
    miss = np.linalg.norm(fly(S, u, fs.speed_m_s[i], it.burn_time_s, tau) - p)
    assert miss < ARRIVAL_TOL_M, f"the arc's DOP853 flight misses its point by {miss:.2f} m"
    d, tc = nearest_pass(S, u, fs.speed_m_s[i], it.burn_time_s, p, tau + 5.0)
    assert d < ARRIVAL_TOL_M and abs(tc - tau) < ARRIVAL_TIME_TOL_S, (d, tc, tau)
    # and Flyout.arrival (the compiled integrator) from the arc's row and speed lands there too
    st_, clear = fly_.arrival(fs.arc[i:i + 1, 0], fs.arc[i:i + 1, 1], fs.arc[i:i + 1, 2], fs.speed_m_s[i:i + 1])
    assert np.linalg.norm(st_[0, :3] - p) < 1.0 and clear[0] >= -1.0


# ---- the floor and energy management ----------------------------------------------------------------------------
KURECIK = Point(38.34944, 37.79361, 2085.0)
K9 = dict(burn_time_s=100.0, burnout_speed_m_s=9000.0, min_altitude_m=150e3)  # the energy-management vector's k9


def _k9(**kw):
    return InterceptorType("k9", **{**K9, **kw})


def _point(site, az_deg, dist_m, alt_m):
    lat, lon, _ = geodesic.direct(EARTH, site.lat_deg, site.lon_deg, az_deg, dist_m)
    return _ecef(float(lat), float(lon), alt_m)


# 1600 km from Kurecik towards the north-west at 300 km: the 9 km/s fast arc is launched 6.3 deg above the
# horizon, below a 10 deg floor
LOW_FAR = _point(KURECIK, 300.0, 1600e3, 300e3)


@pytest.mark.kernels
def test_floor_arc_flies_to_its_point():
    """With energy management the point is reached by a floor arc (launched at e_L = 10 deg, slower than 9 km/s):
    flown by DOP853 from the burnout state docs/models.md, Launch floor and energy management, states, it arrives
    at the point at the solver's time."""
    fly_ = Flyout(EARTH, KURECIK, _k9(min_launch_elevation_deg=10.0, energy_management=True))
    fs = fly_.solve(LOW_FAR[None])
    assert fs.family[0] == FAMILY_FLOOR, fs
    assert fs.elevation_rad[0] == pytest.approx(math.radians(10.0), abs=1e-12)
    assert 0.0 < fs.speed_m_s[0] < 9000.0
    # the arc's row encodes the floor arc: x = e_L - (1 - v / v_b)
    assert fs.arc[0, 1] == pytest.approx(math.radians(10.0) - (1 - fs.speed_m_s[0] / 9000.0), abs=1e-12)
    check_arc_by_dop853(fly_, fs, 0, LOW_FAR)


def test_floor_family_reaches_below_the_floor_only_with_energy_management():
    """docs/models.md, Launch floor and energy management: a distant low point whose fast arc needs a launch below
    e_L is reached by the floor family with energy management; without it only by the slow high arc (launched
    above e_L), or not at all."""
    def solve(p, **kw):
        return Flyout(EARTH, KURECIK, _k9(**kw)).solve(p[None])

    # 9 km/s at LOW_FAR: the fast arc is 6.3 deg up; with a 10 deg floor no arc at all (the slow arcs go round the
    # Earth), with energy management a floor arc
    free, floored = solve(LOW_FAR), solve(LOW_FAR, min_launch_elevation_deg=10.0)
    managed = solve(LOW_FAR, min_launch_elevation_deg=10.0, energy_management=True)
    assert free.family[0] == FAMILY_FULL and 0.0 < math.degrees(free.elevation_rad[0]) < 10.0
    assert floored.time_s[0] == math.inf
    assert managed.family[0] == FAMILY_FLOOR and managed.speed_m_s[0] < 9000.0
    assert free.time_s[0] < managed.time_s[0] < math.inf
    # 6 km/s, 1600 km out at 150 km: the fast arc is 7 deg up; with the floor only the high arc (80 deg up, ~37 min)
    # comes down through the point; with energy management the floor arc, half an hour earlier
    p = _point(KURECIK, 300.0, 1600e3, 150e3)
    free, floored = solve(p, burnout_speed_m_s=6000.0), solve(p, burnout_speed_m_s=6000.0, min_launch_elevation_deg=10.0)
    managed = solve(p, burnout_speed_m_s=6000.0, min_launch_elevation_deg=10.0, energy_management=True)
    assert free.family[0] == FAMILY_FULL and 0.0 < math.degrees(free.elevation_rad[0]) < 10.0
    assert floored.family[0] == FAMILY_FULL and math.degrees(floored.elevation_rad[0]) > 45.0
    assert managed.family[0] == FAMILY_FLOOR and managed.speed_m_s[0] < 6000.0
    assert free.time_s[0] < managed.time_s[0] < floored.time_s[0] - 1000.0
    for fs in (floored, managed):
        check_arc_by_dop853(Flyout(EARTH, KURECIK, _k9(burnout_speed_m_s=6000.0, min_launch_elevation_deg=10.0,
                                                     energy_management=fs is managed)), fs, 0, p)


@pytest.mark.kernels
def test_energy_management_at_the_horizon_floor():
    """e_L = 0 with energy management: the floor family is the horizon, flown at elevation 0 exactly (it stands for
    the limit e -> 0+, flyout.py); its arc must still reach the point, by DOP853 too."""
    fly_ = Flyout(EARTH, KURECIK, _k9(energy_management=True))
    p = _point(KURECIK, 300.0, 3200e3, 160e3)
    fs = fly_.solve(p[None])
    if fs.family[0] == FAMILY_FLOOR:
        assert fs.elevation_rad[0] == 0.0
    check_arc_by_dop853(fly_, fs, 0, p)
    # a faster type without energy management reaches no earlier than with it
    assert Flyout(EARTH, KURECIK, _k9()).solve(p[None]).time_s[0] >= fs.time_s[0] - SAME_ARC_TOL_S


def test_points_inside_the_burnout_sphere_are_reached_at_burnout():
    """With energy management a point closer than v_b t_b / 2 and above the floor is reached at burnout (tau = 0,
    burnout speed 2 |P - S| / t_b): T = t_b. Without it only the slow arcs falling back through it reach it."""
    p = _point(KURECIK, 45.0, 250e3, 200e3)
    managed = Flyout(EARTH, KURECIK, _k9(energy_management=True)).solve(p[None])
    S = _ecef(KURECIK.lat_deg, KURECIK.lon_deg, KURECIK.alt_m)
    assert managed.family[0] == FAMILY_BURNOUT and managed.time_s[0] == 100.0 and managed.arc[0, 2] == 0.0
    assert managed.speed_m_s[0] == pytest.approx(2 * np.linalg.norm(p - S) / 100.0, rel=1e-12)
    st_, _ = Flyout(EARTH, KURECIK, _k9(energy_management=True)).arrival(
        managed.arc[:, 0], managed.elevation_rad, managed.arc[:, 2], managed.speed_m_s)
    assert np.linalg.norm(st_[0, :3] - p) < 1e-3
    full = Flyout(EARTH, KURECIK, _k9()).solve(p[None])
    assert full.time_s[0] > 500.0


@pytest.mark.kernels
def test_warm_starts_carry_over_between_the_families():
    """A floor arc's row and Jacobian (in (az, x, tau)) warm-start a neighbouring point by a chord step: the same
    arc as a cold solve, in few arcs."""
    fly_ = Flyout(EARTH, KURECIK, _k9(min_launch_elevation_deg=10.0, energy_management=True))
    P = np.stack([_point(KURECIK, 300.0 + da, 2600e3 + dd, 200e3 + dh)
                  for da, dd, dh in [(0, 0, 0), (0.2, 10e3, 5e3), (-0.3, -20e3, 3e3), (0.1, 30e3, -10e3)]])
    fs = fly_.solve(P[:1])
    cold = fly_.solve(P[1:])
    warm = fly_.solve(P[1:], guess=np.repeat(fs.arc, 3, 0), guess_point=np.repeat(P[:1], 3, 0),
                      guess_jac=np.repeat(fs.jacobian, 3, 0))
    assert np.all(cold.family == FAMILY_FLOOR) and np.all(warm.family == FAMILY_FLOOR)
    assert np.abs(warm.time_s - cold.time_s).max() < SAME_ARC_TOL_S
    assert warm.arcs_propagated.mean() < cold.arcs_propagated.mean()


# ---- a faster type never reaches later (energy management), over the whole Earth --------------------------------
@settings(derandomize=True, max_examples=40, deadline=None)
@given(lat=st.floats(-89.0, 89.0), lon=st.floats(-180.0, 180.0), az=st.floats(0.0, 360.0),
       dist_km=st.floats(0.0, 7000.0), alt_km=st.floats(50.0, 1500.0), v_slow=st.floats(1500.0, 7000.0),
       dv=st.floats(100.0, 3000.0), burn=st.floats(20.0, 120.0), floor_deg=st.sampled_from([0.0, 5.0, 20.0]))
def test_energy_management_faster_never_later(lat, lon, az, dist_km, alt_km, v_slow, dv, burn, floor_deg):
    """docs/models.md, Launch floor and energy management: with energy management a faster type (same burn time,
    floor and site) never has a larger T(P) than a slower one: every arc of the slower type is open to it. Random
    sites and points anywhere on the Earth."""
    site = Point(lat, lon)
    lat_p, lon_p, _ = geodesic.direct(EARTH, lat, lon, az, dist_km * 1e3)
    p = _ecef(float(lat_p), float(lon_p), alt_km * 1e3)[None]
    types = [InterceptorType("t", burn, v, min_launch_elevation_deg=floor_deg, energy_management=True)
             for v in (v_slow, v_slow + dv)]
    slow, fast = (Flyout(EARTH, site, t).solve(p).time_s[0] for t in types)
    assert fast <= slow + SAME_ARC_TOL_S, f"T = {fast:.3f} s at {v_slow + dv:.0f} m/s, {slow:.3f} s at {v_slow:.0f}"


# ---- the zenith: slow interceptors (issue 12, item 3) -----------------------------------------------------------
@pytest.mark.kernels
def test_points_straight_overhead_are_reached():
    """(azimuth, elevation) Newton steps fail straight above the site (the Jacobian's azimuth column vanishes);
    the solver's fallback, in the point's own vertical plane, reaches the point: by the near-vertical fast arc
    (DOP853 agrees), and no faster arc exists by brute force. (Before issue 12 the solver found no arc here.)"""
    site = Point(39.0, 40.0)
    fly_ = Flyout(EARTH, site, InterceptorType("slow", 40.0, 2500.0, 80e3, 600e3))
    e, n, up = _enu(site.lat_deg, site.lon_deg)
    p = _ecef(site.lat_deg, site.lon_deg, 0.0) + 360e3 * up + 2e3 * e  # 360 km up, 2 km east of the vertical
    fs = fly_.solve(p[None])
    assert fs.family[0] == FAMILY_FULL and math.degrees(fs.elevation_rad[0]) > 85.0
    check_arc_by_dop853(fly_, fs, 0, p)
    assert abs(fs.time_s[0] - brute_force_flyout_s(site, 2500.0, 40.0, p, el_min_deg=80.0)) < BRUTE_TIME_TOL_S


SLOW_SCENARIO = """
name = "slow interceptor overhead"
[earth]
model = "wgs84"
[places]
semnan = { lat = 35.234, lon = 53.921 }
site = { lat = 39, lon = 40 }
aim = { lat = 40, lon = 34 }
[missiles.m46]
burn_time = "120 s"
burnout_altitude = "120 km"
burnout_range = "150 km"
burnout_speed = "4.6 km/s"
[interceptors.slow]
burn_time = "40 s"
burnout_speed = "2.5 km/s"
min_altitude = "80 km"
max_altitude = "600 km"
[[batteries]]
name = "slow"
at = "site"
interceptor = "slow"
launch_delay = "0 s"
cue = "launch"
[[threats]]
name = "semnan-aim"
missile = "m46"
from = "semnan"
to = "aim"
"""


@pytest.fixture(scope="module")
def overhead():
    res = engage(load_scenario_text(SLOW_SCENARIO, "slow.toml"))
    it = res.scenario.interceptors["slow"]
    return res, Flyout(res.earth, res.scenario.batteries[0].at, it)


def test_slow_interceptor_reaches_points_overhead(overhead):
    """The threat passes almost over the battery near the top of its reach. Brute force (DOP853 over a dense grid of
    near-vertical launches, refined) finds the point at 560 s reachable, and launching at time 0 (cue = launch, no
    delay) intercepts it there: the first intercept is no later than that. The solver used to miss these points
    (its (azimuth, elevation) Newton steps fail at the zenith) and reported 568.27 s."""
    res, fly_ = overhead
    t = 560.0
    p = res.threats.position_ecef(np.array([0]), np.array([t]))[0]
    T_ref = brute_force_flyout_s(fly_.site, 2500.0, 40.0, p)
    assert T_ref < t, "test set-up: the point at 560 s should be reachable in time"
    fs = fly_.solve(p[None])
    assert abs(fs.time_s[0] - T_ref) < BRUTE_TIME_TOL_S, (fs.time_s[0], T_ref)
    check_arc_by_dop853(fly_, fs, 0, p)
    first = res.engagements.first.time_s[0, 0]
    assert first <= t + WINDOW_TOL_S, f"first intercept {first:.2f} s, but the point at {t} s is reachable in time"
    # the reported first intercept (at the edge of reach: the threat comes down into it) is reachable in time by brute
    # force, at the reported flyout time
    p1 = res.threats.position_ecef(np.array([0]), np.array([first]))[0]
    T1 = brute_force_flyout_s(fly_.site, 2500.0, 40.0, p1)
    assert T1 <= first + WINDOW_TOL_S
    assert abs(res.engagements.first.flyout_time_s[0, 0] - T1) < EDGE_TIME_TOL_S


# ---- the burnout sphere's edge (energy management) --------------------------------------------------------------
def floor_arc_time_by_dop853(site: Point, speed, burn_time_s, floor_deg, p, tau_max=600.0):
    """The least flyout time to p over the floor arcs (launched at floor_deg, any burnout speed up to `speed`,
    docs/models.md, Launch floor and energy management), by a direct search: arcs towards p's azimuth at 19 speeds
    from 10 % to 100 % flown by DOP853, those passing within 30 km of p refined to a root of the miss by scipy's
    `root` in (azimuth, speed, tau) on single DOP853 flights; inf when no floor arc reaches p."""
    S = _ecef(site.lat_deg, site.lon_deg, site.alt_m)
    e, n, up = _enu(site.lat_deg, site.lon_deg)
    el = math.radians(floor_deg)
    az0 = math.atan2(np.dot(p - S, e), np.dot(p - S, n))

    def u(az):
        return math.cos(el) * (math.sin(az) * e + math.cos(az) * n) + math.sin(el) * up

    best = math.inf
    for v in np.linspace(0.1, 1.0, 19) * speed:
        d, tc = nearest_pass(S, u(az0), v, burn_time_s, p, tau_max)
        if d > 30e3:
            continue

        def miss(x):
            return (fly(S, u(x[0]), x[1] * speed, burn_time_s, max(x[2], 1e-3)) - p) / 1e3

        r_ = root(miss, [az0, v / speed, tc], method="hybr", options={"xtol": 1e-12})
        if np.linalg.norm(miss(r_.x)) * 1e3 < 1.0 and r_.x[2] > 0 and 0 < r_.x[1] <= 1.0:
            best = min(best, burn_time_s + r_.x[2])
    return best


@pytest.mark.parametrize("speed, burn, dist_r, below_deg", [
    # just inside the sphere, just below the floor; also run with the compiled kernels off (boosted_floor_start)
    pytest.param(2500.0, 40.0, 0.99, 0.1, marks=pytest.mark.kernels),
    (9000.0, 100.0, 0.99, 1.0),
    (9000.0, 100.0, 0.9, 0.1),
    (9000.0, 100.0, 1.01, 1.0),  # just outside
])
def test_points_below_the_floor_near_the_burnout_sphere(speed, burn, dist_r, below_deg):
    """With energy management, a point near the burnout sphere (|P - S| ~ v_b t_b / 2) but below the 10 deg floor is
    reached by a floor arc: launched at the floor, slow enough to fall to the point soon after burnout (the burnout
    point, v t_b / 2 along the floor's line, is then most of the way there). The solver finds it, at the time a
    direct search over the floor arcs by DOP853 finds, and its arc flies there (before: no arc, or a slow full-speed
    arc falling back through the point ten minutes later)."""
    site = Point(39.0, 40.0)
    it = InterceptorType("em", burn, speed, 1.0, 5000e3, min_launch_elevation_deg=10.0, energy_management=True)
    fly_ = Flyout(EARTH, site, it)
    e, n, up = _enu(site.lat_deg, site.lon_deg)
    el = math.radians(10.0 - below_deg)
    p = _ecef(site.lat_deg, site.lon_deg, 0.0) + dist_r * 0.5 * speed * burn * (math.cos(el) * e + math.sin(el) * up)
    ref = floor_arc_time_by_dop853(site, speed, burn, 10.0, p)
    assert ref < 2 * burn, "test set-up: a floor arc reaches the point soon after burnout"
    fs = fly_.solve(p[None])
    assert fs.family[0] == FAMILY_FLOOR and abs(fs.time_s[0] - ref) < BRUTE_TIME_TOL_S, (fs, fs.time_s[0], ref)
    check_arc_by_dop853(fly_, fs, 0, p)


@pytest.mark.parametrize("speed, burn", [(2500.0, 40.0), (9000.0, 100.0)])
def test_point_straight_above_on_the_burnout_sphere(speed, burn):
    """The point straight above the site at the burnout sphere's radius v_b t_b / 2 (to rounding) is the burnout
    point of the vertical launch at full speed: T = t_b, within the solver's 0.5 m of convergence (before: no arc,
    or the slow arc falling back through it)."""
    site = Point(39.0, 40.0)
    it = InterceptorType("em", burn, speed, 1.0, 5000e3, min_launch_elevation_deg=10.0, energy_management=True)
    _, _, up = _enu(site.lat_deg, site.lon_deg)
    S = _ecef(site.lat_deg, site.lon_deg, 0.0)
    for h in (0.5 * speed * burn, 0.5 * speed * burn + 0.3):
        fs = Flyout(EARTH, site, it).solve((S + h * up)[None])
        assert fs.time_s[0] == pytest.approx(burn, abs=SAME_ARC_TOL_S), (h, fs.time_s[0])
