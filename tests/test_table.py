"""The flyout table (interceptor/table.py) against exact fast-arc solutions, and warm-started aiming
against cold aiming. The table only steers the coverage scan; these bound how far it may be off."""

import functools

import numpy as np
import pytest

from shieldlab.earth import frames, geodesic
from shieldlab.engagement.scan import TABLE_MARGIN_S
from shieldlab.earth.model import Earth
from shieldlab.interceptor import table as tablemod
from shieldlab.interceptor.flyout import Flyout
from shieldlab.scenario.model import EarthSpec, InterceptorType, Point
from shieldlab.threat import aim

TABLE_TOL_S = 2.0  # trilinear error of T in a clear cell
SPEED_TOL_M_S = 0.05  # warm and cold aiming agree far inside the 3 m/s validation tolerance
GAMMA_TOL_DEG = 0.01
AZ_TOL_DEG = 1e-3  # 50x inside the 0.05 deg validation tolerance; gamma converges to 2e-5 rad and az follows


# a battery's site, its interceptor, and the farthest ground range of the random test points
BATTERIES = {
    "poland-iib": (Point(54.4728, 17.1231), InterceptorType("iib", 60.0, 5500.0, 100e3, 1500e3), 3500e3),
    # a slow interceptor in a low band: a small table, built in seconds with SHIELDLAB_JIT=0
    "deveselu-slow": (Point(44.05, 24.41), InterceptorType("slow", 40.0, 2500.0, 100e3, 300e3), 900e3),
}


@functools.cache
def _table(battery):
    site, it, _ = BATTERIES[battery]
    earth = Earth.from_spec(EarthSpec())
    fly = Flyout(earth, site, it)
    return earth, fly, tablemod.build(fly)


def _table_and_exact(battery, n, seed):
    """The table's look-up and the exact flyout times of n random points around the battery in its band."""
    earth, fly, tb = _table(battery)
    site, it, far_m = BATTERIES[battery]
    rng = np.random.default_rng(seed)
    lat, lon, _ = geodesic.direct(earth, site.lat_deg, site.lon_deg, rng.uniform(0, 360, n),
                                  rng.uniform(50e3, far_m, n))
    P = frames.geodetic_to_ecef(earth, lat, lon, rng.uniform(it.min_altitude_m, it.max_altitude_m, n))
    return tb.lookup(P), fly.solve(P).time_s


def test_table_matches_exact_flyout_in_clear_cells():
    tl, T_ex = _table_and_exact("poland-iib", 400, 1)
    T_tab = tl.time_s
    clear = np.isfinite(T_tab)
    assert clear.sum() > 100, "too few clear cells to test"
    err = np.abs(T_tab[clear] - T_ex[clear])
    assert np.all(np.isfinite(T_ex[clear])), "table finite where no exact arc exists"
    assert err.max() < TABLE_TOL_S, f"table off by up to {err.max():.2f} s (tolerance {TABLE_TOL_S} s)"


@pytest.mark.parametrize("battery", ["poland-iib", pytest.param("deveselu-slow", marks=pytest.mark.kernels)])
def test_table_never_hides_reachable_points(battery):
    """Where the table says 'no arc' without flagging the cell as mixed, the exact solver agrees."""
    tl, T_ex = _table_and_exact(battery, 400, 2)
    T_tab, mixed = tl.time_s, tl.mixed
    assert np.isfinite(T_ex).sum() > 50, "test set-up: too few reachable points"
    hidden = ~np.isfinite(T_tab) & ~mixed & np.isfinite(T_ex)
    assert not hidden.any(), f"{hidden.sum()} reachable points outside every flagged cell"


def test_mixed_cells_bound_the_flyout_time_from_below():
    """scan.TABLE_MARGIN_S relies on this bound: in a mixed cell T is at least the least finite corner's time
    minus the margin. Points of mixed cells are few (~7 % of the reach) and the bound is tight at about one in
    2,000 of them (T up to 10.45 s below the least corner on 200,000 random points around this battery: the
    margin was 10 s before): so 150,000 points, of which only the mixed ones are solved."""
    earth, fly, tb = _table("poland-iib")
    site, it, far_m = BATTERIES["poland-iib"]
    rng = np.random.default_rng(3)
    n = 150_000
    lat, lon, _ = geodesic.direct(earth, site.lat_deg, site.lon_deg, rng.uniform(0, 360, n),
                                  rng.uniform(50e3, far_m, n))
    alt = rng.uniform(it.min_altitude_m, it.max_altitude_m, n)
    P = frames.geodetic_to_ecef(earth, lat, lon, alt)
    tl = tb.lookup(P, alt)
    m = tl.mixed & np.isfinite(tl.lower_s)
    T_ex, lower = fly.solve(P[m]).time_s, tl.lower_s[m]
    r = np.isfinite(T_ex)
    assert r.sum() > 2000, "test set-up: too few reachable points in mixed cells"
    assert np.all(T_ex[r] >= lower[r] - TABLE_MARGIN_S), np.min(T_ex[r] - lower[r])


def test_warm_started_aiming_equals_cold_aiming():
    earth = Earth.from_spec(EarthSpec())
    lat = np.repeat(np.arange(30.0, 46.0, 2.0), 6)
    lon = np.tile(np.arange(-100.0, -70.0, 5.0), 8)
    p = aim.AimProblem(np.full(lat.size, 54.035), np.full(lat.size, 36.013), lat, lon, 350e3, 200e3, 7000.0)
    cold = aim.solve(earth, p, "min-energy")
    warm = aim.solve_warm(earth, p, "min-energy")
    assert cold.ok.all() and warm.ok.all()
    assert np.abs(cold.speed_m_s - warm.speed_m_s).max() < SPEED_TOL_M_S
    assert np.degrees(np.abs(cold.gamma_rad - warm.gamma_rad)).max() < GAMMA_TOL_DEG
    d = (cold.azimuth0_deg - warm.azimuth0_deg + 180) % 360 - 180
    assert np.abs(d).max() < AZ_TOL_DEG
