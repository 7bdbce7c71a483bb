"""A sampled interceptor burnout speed (docs/models.md, Uncertainty): the samples of one flyout family are
evaluated in one batch, each at its own speed, screened by a table over burnout speed
(interceptor/speed_table.py) and refined with exact solves. The results must be those of the per-sample
exact evaluation (engagement/window.py `evaluate` with that sample's Flyout and no table) to the
refinement tolerance of the window boundaries (engagement/boundary.py TIME_TOL_S), with equal
feasibility and reasons; a zero-width speed must give the engage result exactly."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from shieldlab.api import engage, load_scenario
from shieldlab.earth.model import Earth
from shieldlab.engagement import window
from shieldlab.engagement.boundary import FAST_TOL_S, TIME_TOL_S
from shieldlab.engagement.condition import Condition
from shieldlab.engagement.latest import GAIN_TOL_S, TABLE_ERROR_S
from shieldlab.engagement.scan import free_flight_samples
from shieldlab.interceptor import speed_table
from shieldlab.interceptor.flyout import Flyout, SpeedRowsFlyout
from shieldlab.scenario.model import VarySpec
from shieldlab.threat.build import threats_for_pairs, threats_for_scenario
from shieldlab.uncertainty import sampling
from shieldlab.uncertainty.evaluate import evaluate, speed_grids

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "kozelsk-washington.toml"
# Window boundaries are roots of g(t) = t - t0 - T(P(t)) located to |g| <= G_TOL_S (engagement/boundary.py:
# FAST_TOL_S on the table path, TIME_TOL_S on the exact one); two such roots differ in t by at most
# 2 G_TOL_S / |dg/dt|. The latest launch, the maximum of t - T(P(t)), is refined until the parabola promises
# less than GAIN_TOL_S (engagement/latest.py): two refinements differ by at most twice that.
G_TOL_S = max(FAST_TOL_S, TIME_TOL_S)
LATEST_TOL_S = 2 * GAIN_TOL_S
SLOPE_DT_S = 0.5  # step of the exact finite-difference slope dg/dt at a boundary
TABLE_TOL_S = 2.0  # tests/test_table.py: a clear cell's time is within this of the exact one, or within its bound
INTERCEPT_TOL_S = 3.0  # validation README: first intercept time
SPEED = VarySpec("interceptors.sm3-iib.burnout_speed", ("interceptors", "sm3-iib", "burnout_speed_m_s"), "normal",
                 (5500.0, 400.0), low=0.0, high=11000.0)


@pytest.fixture(scope="module")
def marginal(tmp_path_factory):
    """The example with the Polish SM-3 IIB battery cued at launch and 150 s late: its latest launch
    against the Washington threats is ~164-180 s at 5.5 km/s (the example's engage result), so a burnout
    speed +-400 m/s (1 sd) puts samples on both sides."""
    text = EXAMPLE.read_text()
    old = 'interceptor = "sm3-iib"\nlaunch_delay = "60 s"'
    assert old in text
    text = text.replace(old, 'interceptor = "sm3-iib"\nlaunch_delay = "150 s"')
    text = text.replace('cue = "track"\n', 'cue = "launch"\n', 1)
    path = tmp_path_factory.mktemp("speed") / "marginal.toml"
    path.write_text(text)
    return load_scenario(path)


def _exact(sc, speeds):
    """Per sample, the Polish IIB battery's window by an exact evaluation with that sample's interceptor."""
    earth = Earth.from_spec(sc.earth)
    threats = threats_for_scenario(sc, earth)
    smp = free_flight_samples(threats)
    b = sc.batteries[0]
    t0 = threats.launch_time_s + b.launch_delay_s
    out = []
    for v in speeds:
        fo = Flyout(earth, b.at, replace(sc.interceptors[b.interceptor], burnout_speed_m_s=float(v)))
        out.append((window.evaluate(threats, fo, t0, smp), Condition(threats, fo, t0)))
    return out


def test_sampled_speed_matches_exact_per_sample(marginal):
    n = 40
    values = sampling.sample_values((SPEED,), sampling.unit_draws(1, n, 3))
    speeds = np.asarray(values[0], float)
    assert speed_table.worthwhile(np.unique(speeds).size)  # the table path is the one tested
    res = evaluate(marginal, (SPEED,), values)
    ref = _exact(marginal, speeds)
    feas = np.array([w.feasible for w, _ in ref])
    # samples on both sides for at least one threat
    assert feas.any() and not feas.all()
    np.testing.assert_array_equal(res.feasible[:, :, 0], feas)
    np.testing.assert_array_equal(res.reason_code[:, :, 0], np.array([w.reason_code for w, _ in ref]))
    latest = np.array([w.latest_launch_s for w, _ in ref])
    np.testing.assert_allclose(res.latest_launch_s[:, :, 0], latest, rtol=0, atol=LATEST_TOL_S, equal_nan=True)
    t0 = np.array([w.earliest_launch_s for w, _ in ref])
    np.testing.assert_allclose(res.margin_s[:, :, 0], latest - t0, rtol=0, atol=LATEST_TOL_S, equal_nan=True)
    # first intercepts: exact g at the batch's first intercept within the tolerance, and the two roots as
    # close as that tolerance and the slope of g there allow
    for s, (w, cond) in enumerate(ref):
        tr = np.flatnonzero(w.feasible)
        if tr.size == 0:
            continue
        t_fast, t_ref = res.first_intercept_s[s, tr, 0], w.first.time_s[tr]
        g = cond.at(tr, t_fast, None).g_s
        assert np.abs(g).max() <= G_TOL_S + 1e-9, (s, g)
        g_hi, g_lo = (cond.at(tr, t_ref + d, None).g_s for d in (SLOPE_DT_S, -SLOPE_DT_S))
        slope = (g_hi - g_lo) / (2 * SLOPE_DT_S)
        assert (np.abs(t_fast - t_ref) <= 2 * G_TOL_S / np.abs(slope)).all(), (s, t_fast - t_ref, slope)


def test_speed_rows_flyout_solves_each_row_at_its_speed(marginal):
    """Points solved in one batch at per-row speeds get each the solution of that speed's own Flyout."""
    earth = Earth.from_spec(marginal.earth)
    threats = threats_for_scenario(marginal, earth)
    b = marginal.batteries[0]
    it = marginal.interceptors[b.interceptor]
    t = threats.burnout_time_s[0] + np.arange(50.0, 1000.0, 100.0)  # every 100 s of the free flight
    p, _ = threats.free_flight_positions(np.zeros(t.size, int), t)
    v = np.linspace(1500.0, 6200.0, p.shape[0])  # the slowest reach none of these points
    rows = SpeedRowsFlyout(earth, b.at, it, speeds_m_s=v)
    got = rows.rows(np.arange(v.size)[::-1]).solve(p[::-1])
    for i in range(v.size):
        one = Flyout(earth, b.at, replace(it, burnout_speed_m_s=float(v[i]))).solve(p[i:i + 1])
        j = v.size - 1 - i
        np.testing.assert_array_equal(got.time_s[j:j + 1], one.time_s)
        np.testing.assert_array_equal(got.arc[j:j + 1], one.arc)
        np.testing.assert_array_equal(got.speed_m_s[j:j + 1], one.speed_m_s)
    assert np.isfinite(got.time_s).any() and not np.isfinite(got.time_s).all()


def test_zero_width_speed_equals_engage(marginal):
    sc = marginal
    nominal = sc.interceptors["sm3-iib"].burnout_speed_m_s
    vary = (replace(SPEED, params=(nominal, 0.0)),)
    values = sampling.sample_values(vary, sampling.unit_draws(1, 5, 1))
    res = evaluate(sc, vary, values)
    e = engage(sc).engagements
    for field, want in (("feasible", e.feasible), ("reason_code", e.reason_code),
                        ("latest_launch_s", e.latest_launch_s), ("margin_s", e.margin_s),
                        ("first_intercept_s", e.first.time_s),
                        ("earliest_launch_s", e.earliest_launch_s)):
        got = getattr(res, field)
        for s in range(got.shape[0]):
            np.testing.assert_array_equal(got[s], want, err_msg=field)


def _against_exact(earth, battery, it, smp, band, tab, rows, speeds):
    """Per row i of a SpeedTable `tab` (threat rows[i] at burnout speed speeds[i]): (row, speed, and at its in-band
    samples the table's time, error bound and mixed flags, and the exact flyout times at that speed)."""
    for i, (r, s) in enumerate(zip(rows, speeds)):
        exact = Flyout(earth, battery.at, replace(it, burnout_speed_m_s=float(s))).solve(smp.r_ecef[r][band[r]])
        yield r, s, tab.time_s[i][band[r]], tab.error_s[i][band[r]], tab.mixed[i][band[r]], exact.time_s


def test_speed_table_within_its_error_bound(marginal):
    """At speeds between the nodes, the table's clear values are within their error bound of the exact flyout
    times (the bound the scan relies on, as for FlyoutTable: engagement/scan.py CLEAR_MARGIN_S), and below
    MAX_CLEAR_ERROR_S; mixed samples are those where an exact solve decides."""
    earth = Earth.from_spec(marginal.earth)
    threats = threats_for_scenario(marginal, earth)
    smp = free_flight_samples(threats)
    b = marginal.batteries[0]
    it = marginal.interceptors[b.interceptor]
    band = np.isfinite(smp.altitude_m) & (smp.altitude_m >= it.min_altitude_m) & (smp.altitude_m <= it.max_altitude_m)
    sampled = np.linspace(4300.0, 6700.0, 50)
    nodes = speed_table.build(Flyout(earth, b.at, it), smp, np.arange(threats.n), sampled, band)
    v = np.array([4410.0, 5020.0, 5555.0, 6190.0, 6650.0])  # none a node
    assert not np.isin(v, nodes.speeds_m_s).any()
    rows = np.repeat(np.arange(threats.n), v.size)
    speeds = np.tile(v, threats.n)
    tab = nodes.table(rows, speeds)
    clear_n = reach_n = 0
    for r, s, t, err, mixed, exact in _against_exact(earth, b, it, smp, band, tab, rows, speeds):
        clear = np.isfinite(t)
        clear_n += clear.sum()
        reach_n += np.isfinite(exact).sum()
        assert (np.abs(t[clear] - exact[clear]) <= err[clear]).all(), (r, s)
        assert (err[clear] <= speed_table.MAX_CLEAR_ERROR_S).all()
        # out of reach at both nodes (not mixed, no value): out of reach at this speed too
        assert np.isinf(exact[~clear & ~mixed]).all(), (r, s)
    assert clear_n > 0.4 * reach_n  # a good part of the reachable samples is served by the table (49% here)


def test_speed_table_path_equals_exact_path_near_orbital_interceptor(monkeypatch):
    """The 2007 GBI case (examples/case-studies/poland-gbi-2007-uncertainty.toml, Uzhur -> Seattle): a two-stage GBI
    at 5.4-9.0 km/s, where the table-screened scan once missed the window of 3 of 400 samples whose exact margin
    was positive (+3 to +26 s): rows whose screened window disagrees with their exactly refined margin are now
    evaluated again with exact scans, so every sample's feasibility and reason equal the exact path's."""
    from dataclasses import replace as dc_replace

    from shieldlab.api import load_scenario, uncertainty
    from shieldlab.interceptor import speed_table as st

    root = Path(__file__).resolve().parent.parent
    sc = load_scenario(root / "examples" / "case-studies" / "poland-gbi-2007-uncertainty.toml")
    sc = dc_replace(sc, threats=tuple(t for t in sc.threats if t.name == "uzhur-seattle"),
                    uncertainty=dc_replace(sc.uncertainty, sensitivity_samples=0))
    fast = uncertainty(sc)
    monkeypatch.setattr(st, "worthwhile", lambda n: False)
    exact = uncertainty(sc)
    np.testing.assert_array_equal(fast.outcome.feasible, exact.outcome.feasible)
    np.testing.assert_array_equal(fast.outcome.reason_code, exact.outcome.reason_code)
    np.testing.assert_allclose(fast.outcome.margin_s, exact.outcome.margin_s, atol=2 * GAIN_TOL_S, equal_nan=True)


@pytest.fixture(scope="module")
def grid_case(marginal, tmp_path_factory):
    """The marginal example with a [coverage] of 30 pairs Kozelsk -> US east coast, 40 sampled speeds of the
    IIB, and the SpeedGrid a coverage run builds for them (uncertainty/evaluate.py `speed_grids`)."""
    text = Path(marginal.source).read_text() + (
        '\n[coverage]\nmissile = "icbm-solid"\ntrajectory = "min-energy"\nfrom = ["kozelsk"]\n'
        'to = { lat = [36, 44], lon = [-80, -70], step = "2 deg" }\n')
    path = tmp_path_factory.mktemp("grid") / "marginal-coverage.toml"
    path.write_text(text)
    sc = load_scenario(path)
    values = sampling.sample_values((SPEED,), sampling.unit_draws(1, 40, 5))
    grids = speed_grids(sc, (SPEED,), values)
    assert len(grids) == 1  # the IIB battery's family; the IIA's speed is not sampled
    return sc, values, next(iter(grids.values()))


def test_speed_grid_table_within_its_error_bound(grid_case):
    """Node values looked up in a SpeedGrid's flyout tables (coverage runs): clear values within their error bound
    (the speed interpolation's plus the tables' own) or TABLE_TOL_S of the exact flyout times, as for a FlyoutTable
    (tests/test_flyout_table.py), and within latest.TABLE_ERROR_S, the table error the latest launch's candidate
    search allows for; a sample neither clear nor mixed is out of reach."""
    sc, values, grid = grid_case
    earth = Earth.from_spec(sc.earth)
    threats = threats_for_pairs(sc, earth, np.arange(0, 30, 7))
    smp = free_flight_samples(threats)
    b = sc.batteries[0]
    it = sc.interceptors[b.interceptor]
    band = np.isfinite(smp.altitude_m) & (smp.altitude_m >= it.min_altitude_m) & (smp.altitude_m <= it.max_altitude_m)
    nodes = grid.nodes(smp, np.arange(threats.n), band)
    v = np.array([grid.speeds_m_s[0] + 1.0, np.mean(grid.speeds_m_s[5:7]), grid.speeds_m_s[-1] - 1.0])
    rows = np.repeat(np.arange(threats.n), v.size)
    speeds = np.tile(v, threats.n)
    tab = nodes.table(rows, speeds)
    clear_n = reach_n = 0
    for r, s, t, err, mixed, exact in _against_exact(earth, b, it, smp, band, tab, rows, speeds):
        clear = np.isfinite(t)
        clear_n += clear.sum()
        reach_n += np.isfinite(exact).sum()
        off = np.abs(t[clear] - exact[clear])
        assert (off <= np.maximum(TABLE_TOL_S, err[clear])).all(), (r, s, off.max())
        assert (off <= TABLE_ERROR_S).all(), (r, s, off.max())
        assert np.isinf(exact[~clear & ~mixed]).all(), (r, s)
    assert clear_n > 0.4 * reach_n


def test_coverage_speed_grid_path_equals_exact_path(grid_case):
    """A coverage run's pairs with the speed table's node values from the run's SpeedGrid give the results of
    exact node solves per task: every sample's feasibility and reason equal, margins and first intercepts within
    the refinement tolerances (the screen differs, the exact refinement does not)."""
    sc, values, grid = grid_case
    pairs = np.arange(0, 30, 3)
    fast = evaluate(sc, (SPEED,), values, pairs, {next(iter(speed_grids(sc, (SPEED,), values))): grid})
    exact = evaluate(sc, (SPEED,), values, pairs)
    assert fast.feasible[:, :, 0].any() and not fast.feasible[:, :, 0].all()  # samples on both sides
    np.testing.assert_array_equal(fast.feasible, exact.feasible)
    np.testing.assert_array_equal(fast.reason_code, exact.reason_code)
    np.testing.assert_allclose(fast.margin_s, exact.margin_s, rtol=0, atol=LATEST_TOL_S, equal_nan=True)
    np.testing.assert_allclose(fast.first_intercept_s, exact.first_intercept_s, rtol=0, atol=INTERCEPT_TOL_S,
                               equal_nan=True)


def test_speed_rows_flyout_launch_and_arrival_read_each_rows_speed(marginal):
    """Without a speed given, `launch` and `arrival` of a SpeedRowsFlyout read an arc per row at that row's
    burnout speed, as that speed's own Flyout does, floor arcs (energy management: x below the floor encodes
    the speed) included; a batch of another size is refused rather than read at the interceptor's speed."""
    earth = Earth.from_spec(marginal.earth)
    b = marginal.batteries[0]
    it = replace(marginal.interceptors[b.interceptor], energy_management=True, min_launch_elevation_deg=10.0)
    v = np.array([3000.0, 4500.0, 6200.0])
    rows = SpeedRowsFlyout(earth, b.at, it, speeds_m_s=v)
    floor = rows.floor_rad
    x = np.array([floor - 0.3, floor + 0.2, floor - 0.05])  # two floor arcs, one full-speed arc
    az, tau = np.array([0.4, 1.9, 5.0]), np.array([30.0, 120.0, 250.0])
    el, speed = rows.launch(x)
    state, clear = rows.arrival(az, x, tau)
    for i in range(v.size):
        one = Flyout(earth, b.at, replace(it, burnout_speed_m_s=float(v[i])))
        el_i, speed_i = one.launch(x[i:i + 1])
        np.testing.assert_array_equal(el[i:i + 1], el_i)
        np.testing.assert_array_equal(speed[i:i + 1], speed_i)
        state_i, clear_i = one.arrival(az[i:i + 1], x[i:i + 1], tau[i:i + 1])
        np.testing.assert_array_equal(state[i:i + 1], state_i)
        np.testing.assert_array_equal(clear[i:i + 1], clear_i)
    assert speed[0] == pytest.approx(v[0] * (1.0 - 0.3)) and speed[1] == v[1]
    with pytest.raises(ValueError, match="row speeds"):
        rows.launch(x[:2])
    np.testing.assert_array_equal(rows.launch(x[:2], speed_m_s=v[:2])[1], v[:2])
