"""Windows shorter than the scan's sample spacing (docs/models.md, Engagement windows: numerical methods, and
The latest launch): the battery can intercept exactly when t0 <= L, L the latest launch (the maximum of
f(t) = t - T(P(t))), so the window and the margin L - t0 must agree even where the window falls between two
free-flight samples (SAMPLE_S apart, engagement/scan.py) and no sample is feasible.

- A constructed case: the Poland 2007 case study's Uzhur -> Seattle threat against a 7.7 km/s two-stage GBI
  at Redzikowo, launched 1 s before its latest launch. f peaks where the threat leaves the 100 km band, and the
  window (about 1.2 s) lies between two samples. It is feasible, on the exact scan and on a flyout table,
  with its first and last intercept where a dense brute-force scan of exact solves puts them. (The same
  geometry as sample 51 of the 2007 uncertainty case study, 7.69 km/s and 108 s delay, once `timeline`
  with a margin of +1.8 s.)
- A property over a handful of geometries (that case study's ten threats against that battery; the Kozelsk
  example's threats against its batteries, whose maxima lie inside the band) and margins from -3 s to +30 s:
  feasible == (margin >= 0) for every engagement, on the exact scan, a flyout table (coverage runs) and a
  table over burnout speed (uncertainty runs).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from shieldlab.api import engage, load_scenario
from shieldlab.engagement import latest, window
from shieldlab.engagement.boundary import TIME_TOL_S
from shieldlab.engagement.condition import Condition
from shieldlab.engagement.engage import battery_flyout
from shieldlab.engagement.results import Reason
from shieldlab.engagement.scan import SAMPLE_S, FreeFlightSamples
from shieldlab.interceptor import speed_table
from shieldlab.interceptor import table as flyout_table
from shieldlab.interceptor.flyout import Flyout, SpeedRowsFlyout
from shieldlab.threat.trajectory import take

ROOT = Path(__file__).resolve().parents[1]
POLAND = ROOT / "examples" / "case-studies" / "poland-gbi-2007-vs-russia.toml"
KOZELSK = ROOT / "examples" / "kozelsk-washington.toml"
GBI_77 = "gbi-7.7-postol"  # the case study's 7.7 km/s battery at Redzikowo
SHORT_MARGIN_S = 1.0  # the constructed case: t0 this far before L
DENSE_S = 0.01  # step of the brute-force scan of the constructed window
# the latest launch is an exact value of f refined until the parabola promises less than GAIN_TOL_S
# (engagement/latest.py, 0.01 s); the window's intercepts are exact values too (their L is at least theirs)
LATEST_TOL_S = 0.02
MARGINS_S = (-3.0, -1.0, -0.3, 0.05, 0.3, 1.0, 3.0, 30.0)  # t0 = L - margin, per threat


def _geometry(path: Path, battery: str | None = None):
    """(threats, samples, flyout, L (n,), threat names) of a scenario's threats against one of its batteries
    (the first)."""
    sc = load_scenario(path)
    res = engage(sc)
    names = [b.name for b in sc.batteries]
    b = sc.batteries[names.index(battery) if battery else 0]
    fo = battery_flyout(sc, res.earth, b)
    L = latest.latest_launch(res.threats, fo, samples=res.samples)
    return res.threats, res.samples, fo, L, list(res.names)


@pytest.fixture(scope="module")
def poland():
    return _geometry(POLAND, GBI_77)


@pytest.fixture(scope="module")
def kozelsk():
    return _geometry(KOZELSK)


def _g(threats, fo, t0, i, t):
    """Exact g = t - t0 - T(P(t)) of threat i at times t (-inf outside the band or out of reach)."""
    t = np.asarray(t, float)
    return Condition(threats, fo, np.full(threats.n, t0)).at(np.full(t.size, i), t, None).g_s


@pytest.mark.parametrize("tabled", [False, True], ids=["exact", "table"])
def test_window_between_two_samples(poland, tabled):
    threats, samples, fo, L, names = poland
    i = names.index("uzhur-seattle")
    t0 = L[i] - SHORT_MARGIN_S
    # set-up: no sample is feasible, and the window (dense exact scan around the best sample) is shorter
    # than the samples' spacing
    ts = samples.times_s[samples.row[i]]
    ts = ts[np.isfinite(ts)]
    gs = _g(threats, fo, t0, i, ts)
    assert (gs < 0).all() and np.isfinite(gs).any()
    k = int(np.argmax(gs))
    dense = np.arange(ts[max(k - 1, 0)], ts[min(k + 1, ts.size - 1)], DENSE_S)
    inside = dense[_g(threats, fo, t0, i, dense) >= 0]
    assert 0 < inside[-1] - inside[0] < SAMPLE_S
    t0s = np.full(threats.n, np.nan)
    t0s[i] = t0
    win = window.evaluate(threats, fo, t0s, samples, table=flyout_table.build(fo) if tabled else None)
    assert win.feasible[i] and win.reason_code[i] == Reason.OK.code
    margin = win.latest_launch_s[i] - t0
    assert margin == pytest.approx(SHORT_MARGIN_S, abs=LATEST_TOL_S)
    first, last = win.first.time_s[i], win.last.time_s[i]
    # the intercepts bound the brute-force window (to its step) and are feasible to the boundaries' tolerance
    assert abs(first - inside[0]) <= DENSE_S and abs(last - inside[-1]) <= DENSE_S
    g_first, g_last = _g(threats, fo, t0, i, [first, last])
    assert abs(g_first) <= TIME_TOL_S and g_last >= -TIME_TOL_S
    assert win.first.interceptor_launch_s[i] == pytest.approx(t0, abs=TIME_TOL_S)
    assert t0 - TIME_TOL_S <= win.last.interceptor_launch_s[i] <= win.latest_launch_s[i]
    assert np.isfinite(win.first.closing_speed_m_s[i])  # the geometry of a found window


def _agree(win, t0, where):
    """feasible == (margin >= 0) on every engagement with a latest launch (a feasible margin >= -TIME_TOL_S:
    the boundaries are found to that); returns the number of feasible ones."""
    with np.errstate(invalid="ignore"):
        margin = win.latest_launch_s - t0
    has = np.isfinite(margin)
    assert (win.feasible <= has).all(), where
    assert (margin[win.feasible] >= -TIME_TOL_S).all(), (where, margin[win.feasible])
    assert (margin[has & ~win.feasible] < 0).all(), (where, margin[has & ~win.feasible])
    assert (win.reason_code[win.feasible] == Reason.OK.code).all(), where
    return int(win.feasible.sum())


def _missed_by_samples(threats, samples, fo, t0, rows):
    """How many of the threats `rows` have no feasible sample (exact g < 0 at every one)."""
    n = 0
    for i in rows:
        ts = samples.times_s[samples.row[i]]
        ts = ts[np.isfinite(ts)]
        n += not (_g(threats, fo, t0[i], i, ts) >= 0).any()
    return n


@pytest.mark.parametrize("tabled", [False, True], ids=["exact", "table"])
@pytest.mark.parametrize("geometry,short", [("poland", True), ("kozelsk", False)])
def test_feasible_exactly_when_margin_is_not_negative(geometry, short, tabled, request):
    """`short`: the geometry has windows that no sample falls in (the Poland case's maxima lie where its threats
    leave the band; Kozelsk's inside the band, with windows wider than the samples' spacing even 0.05 s
    from the maximum)."""
    threats, samples, fo, L, _ = request.getfixturevalue(geometry)
    table = flyout_table.build(fo) if tabled else None
    rows = np.flatnonzero(np.isfinite(L))
    assert rows.size >= 3
    feasible = missed = 0
    for m in MARGINS_S:
        t0 = L - m  # NaN where L is not finite: no cue
        win = window.evaluate(threats, fo, t0, samples, table=table)
        feasible += _agree(win, t0, f"{geometry}, margin {m} s")
        if 0 < m <= SHORT_MARGIN_S:
            missed += _missed_by_samples(threats, samples, fo, t0, rows)
    assert 0 < feasible < rows.size * len(MARGINS_S)  # both sides
    assert (missed > 0) == short


def test_feasible_exactly_when_margin_is_not_negative_speed_table(poland):
    """Uncertainty runs: the Uzhur -> Seattle flight at 40 burnout speeds from 7.40 to 7.55 km/s, each row at
    its own speed, scanned on a table over burnout speed (interceptor/speed_table.py), launched at the latest
    launch of the middle speed: the window opens between the rows."""
    threats, samples, fo, _, names = poland
    i = names.index("uzhur-seattle")
    speeds = np.linspace(7.40e3, 7.55e3, 40)
    assert speed_table.worthwhile(speeds.size)
    rows = np.full(speeds.size, i)
    flights = take(threats, rows)
    smp = FreeFlightSamples(samples.row[rows], samples.times_s, samples.r_ecef, samples.altitude_m)
    it = fo.interceptor
    band = np.isfinite(samples.altitude_m) & (samples.altitude_m >= it.min_altitude_m)
    band &= samples.altitude_m <= it.max_altitude_m
    nodes = speed_table.build(Flyout(fo.earth, fo.site, it), samples, smp.row, speeds, band)
    rows_fo = SpeedRowsFlyout(fo.earth, fo.site, it, speeds_m_s=speeds)
    mid = Flyout(fo.earth, fo.site, replace(it, burnout_speed_m_s=7.475e3))
    t0 = np.full(speeds.size, latest.latest_launch(threats, mid, idx=[i], samples=samples)[i])
    win = window.evaluate(flights, rows_fo, t0, smp, table=nodes.table(smp.row, speeds))
    n = _agree(win, t0, "speed table")
    assert 0 < n < speeds.size
