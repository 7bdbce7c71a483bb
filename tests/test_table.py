"""The flyout table (interceptor/table.py) against exact fast-arc solutions, and warm-started aiming
against cold aiming. The table only steers the coverage scan; these bound how far it may be off."""

import functools
from pathlib import Path

import numpy as np
import pytest

from shieldlab.earth import frames, geodesic
from shieldlab.engagement import scan
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


def _random_points(battery, n, seed):
    """n random points (ECEF (n, 3) and geodetic altitudes (n,)) around the battery in its band, 50 km out to
    the battery's farthest test range."""
    earth, _, _ = _table(battery)
    site, it, far_m = BATTERIES[battery]
    rng = np.random.default_rng(seed)
    lat, lon, _ = geodesic.direct(earth, site.lat_deg, site.lon_deg, rng.uniform(0, 360, n),
                                  rng.uniform(50e3, far_m, n))
    alt = rng.uniform(it.min_altitude_m, it.max_altitude_m, n)
    return frames.geodetic_to_ecef(earth, lat, lon, alt), alt


def _table_and_exact(battery, n, seed):
    """The table's look-up and the exact flyout times of n random points around the battery in its band."""
    _, fly, tb = _table(battery)
    P, _ = _random_points(battery, n, seed)
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


# a clear cell's interpolated Jacobian against the exact one at the exact arc (median of 0.5 % measured on both
# batteries) and the exact solves started from it: 3.0 arcs a point, 5.2-5.8 from the same arc with a Jacobian
# of finite differences (the solution the same: converged to CONVERGED_M, 0.5 ms at most measured)
JACOBIAN_MEDIAN_REL = 0.02
SAME_SOLUTION_S = 1e-3
MAX_CHORD_ARCS_MEAN = 3.5


@pytest.mark.parametrize("battery", ["poland-iib", pytest.param("deveselu-slow", marks=pytest.mark.kernels)])
def test_table_jacobians_start_exact_solves(battery):
    _, fly, tb = _table(battery)
    P, alt = _random_points(battery, 400, 6)
    assert tb.lookup(P, alt).jacobian is None  # only when asked for
    tl = tb.lookup(P, alt, jacobian=True)
    has = np.isfinite(tl.jacobian).all(axis=(1, 2))
    clear = np.isfinite(tl.time_s)
    assert not (has & ~clear).any(), "a Jacobian outside the clear cells"
    assert has.sum() >= 0.9 * clear.sum() > 100
    plain = fly.solve(P[has], guess=tl.arc[has])
    chord = fly.solve(P[has], guess=tl.arc[has], guess_jac=tl.jacobian[has])
    assert np.all(np.abs(chord.time_s - plain.time_s) <= SAME_SOLUTION_S)
    rel = np.linalg.norm(tl.jacobian[has] - plain.jacobian, axis=(1, 2)) / np.linalg.norm(plain.jacobian, axis=(1, 2))
    assert np.median(rel) < JACOBIAN_MEDIAN_REL, np.median(rel)
    assert chord.arcs_propagated.mean() <= MAX_CHORD_ARCS_MEAN < plain.arcs_propagated.mean()



def test_mixed_cells_bound_the_flyout_time_from_below():
    """scan.TABLE_MARGIN_S relies on this bound: in a mixed cell T is at least the least finite corner's time
    minus the margin. Points of mixed cells are few (~7 % of the reach) and the bound is tight at about one in
    2,000 of them (T up to 10.45 s below the least corner on 200,000 random points around this battery: the
    margin was 10 s before): so 150,000 points, of which only the mixed ones are solved."""
    _, fly, tb = _table("poland-iib")
    P, alt = _random_points("poland-iib", 150_000, 3)
    tl = tb.lookup(P, alt)
    m = tl.mixed & np.isfinite(tl.lower_s)
    T_ex, lower = fly.solve(P[m]).time_s, tl.lower_s[m]
    r = np.isfinite(T_ex)
    assert r.sum() > 2000, "test set-up: too few reachable points in mixed cells"
    assert np.all(T_ex[r] >= lower[r] - TABLE_MARGIN_S), np.min(T_ex[r] - lower[r])



# the table's interpolation in mixed cells whose corners are all reachable: a guess, within GUESS_MEDIAN_S of the
# exact time for half of them (1.7 s measured on 40,000 points), not a flyout time (a jump between arcs: ~1,000 s)
GUESS_MEDIAN_S = 3.0


def test_interpolation_is_the_time_in_clear_cells_and_a_guess_in_mixed_ones():
    _, fly, tb = _table("poland-iib")
    P, alt = _random_points("poland-iib", 20_000, 4)
    tl = tb.lookup(P, alt)
    clear = np.isfinite(tl.time_s)
    assert np.array_equal(tl.interpolated_s[clear], tl.time_s[clear])
    assert np.all(np.isinf(tl.interpolated_s[~clear & ~tl.mixed]))  # out of reach: no guess
    m = tl.mixed & np.isfinite(tl.interpolated_s)
    assert m.sum() > 500, "test set-up: too few mixed cells with every corner reachable"
    err = np.abs(tl.interpolated_s[m] - fly.solve(P[m]).time_s)
    assert np.median(err) < GUESS_MEDIAN_S, np.median(err)
    assert err.max() > 100.0, "the case has no jump between arcs: it does not show that this is only a guess"


def test_guessed_probe_is_the_last_sample_before_the_guess_turns_negative():
    """scan._guessed_probe on hand-made guesses: runs of two threats from sample 2 forwards and from sample 9
    backwards, lo the last offset known feasible, hi the first known infeasible one (or one past the run)."""
    g = np.array([[5.0, 4.0, 3.0, 2.0, 1.0, 0.5, -0.5, -1.0, -2.0, -3.0],
                  [-3.0, -2.0, -1.0, np.nan, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0]])
    r = np.array([0, 1])
    # forwards from sample 2: offset 4 (sample 6) is the first negative guess, so offset 3 is probed
    assert list(scan._guessed_probe(g, r[:1], np.array([2]), +1, np.array([0]), np.array([8]))) == [3]
    # ... and once offset 3 is known feasible, offset 4 itself (the first guessed infeasible)
    assert list(scan._guessed_probe(g, r[:1], np.array([2]), +1, np.array([3]), np.array([8]))) == [4]
    # backwards from sample 9 of threat 1: the first negative guess is sample 2 (offset 7; sample 3's NaN is no
    # guess), so offset 6; with hi = 5 known no negative guess is left inside (lo, hi): 0, bisect instead
    assert list(scan._guessed_probe(g, r[1:], np.array([9]), -1, np.array([0]), np.array([10]))) == [6]
    assert list(scan._guessed_probe(g, r[1:], np.array([9]), -1, np.array([0]), np.array([5]))) == [0]
    # both threats forwards from sample 2 at once: threat 1's guesses there are NaN or positive: 0 (bisect)
    got = scan._guessed_probe(g, r, np.array([2, 2]), +1, np.array([0, 0]), np.array([8, 8]))
    assert list(got) == [3, 0]



def test_the_guess_chooses_probes_but_not_the_windows(monkeypatch):
    """The run search's guessed probes against plain bisection (`_guessed_probe` answering 0 everywhere) on
    300 pairs of the coverage benchmark, whose paths cross long runs of uncertain cells near the top of the
    Poland battery's reach: the same feasibility and reasons, and the intercepts and latest launches to the
    boundary tolerance."""
    from shieldlab.api import load_scenario
    from shieldlab.coverage import run as cov
    from shieldlab.engagement.boundary import TIME_TOL_S

    sc = load_scenario(Path(__file__).resolve().parents[1] / "benchmarks" / "bench.toml")
    tables = cov.build_tables(sc)
    pairs = np.arange(95, 395)
    guessed = cov.evaluate_chunk(sc, pairs, tables).engagements
    monkeypatch.setattr(scan, "_guessed_probe", lambda g, r, *a: np.zeros(r.size, int))
    bisected = cov.evaluate_chunk(sc, pairs, tables).engagements
    assert np.array_equal(guessed.reason_code, bisected.reason_code)
    assert np.array_equal(guessed.feasible, bisected.feasible)
    assert np.nanmax(np.abs(guessed.latest_launch_s - bisected.latest_launch_s)) <= TIME_TOL_S
    assert guessed.feasible.sum() > 100, "test set-up: too few windows"
    for which in ("first", "last"):
        a, b = getattr(guessed, which).time_s, getattr(bisected, which).time_s
        assert np.array_equal(np.isnan(a), np.isnan(b))
        assert np.nanmax(np.abs(a - b)) <= TIME_TOL_S


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
