"""Radar sensitivity and track formation (docs/models.md, Sensitivity: range against a cross-section; Track
formation).

Sources: docs/models.md, Sensitivity: range against a cross-section, gives the detection range against a target
of cross-section sigma as R_ref (sigma / sigma_ref)^(1/4), capped by max_range: the radar equation at a fixed
signal-to-noise threshold (received power ~ sigma / R^4; Skolnik, Introduction to Radar Systems, 3rd ed., eq. 2.1
and section 2.7), with the booster's sigma_B in powered flight (0 <= t - t_L <= t_bo) and the warhead's sigma
after burnout; `rcs` in dBsm is sigma = 10^(x/10) m2. docs/models.md, Track formation: a radar's track time is
the first t at which it has seen the threat at every instant of [t - t_f, t].

The geometry is built so that the range rule alone decides what is seen: a non-rotating sphere, a threat flying
due east from (0, 0) and a radar 600 km downrange, below its path, that looks at every elevation above 0 deg.
The slant range to the threat falls from 600 km to 382 km (at ~180 s, in free flight) and rises again; with
R_ref = 500 km, sigma_B = 1.5 m2 and sigma = 0.6 m2 the radar sees the booster from when the range falls to
R_ref 1.5^(1/4) = 553 km (~69 s) until burnout (120 s, range 470 km), loses it at burnout (the warhead's range is
R_ref 0.6^(1/4) = 440 km), and sees the warhead again from ~131 s to ~231 s: a first pass of ~51 s and a second
of ~100 s. The expected times are independent roots (scipy brentq) of |P(t) - S| = R(sigma), R from the closed
form above; P(t) is the engine's trajectory (validated on its own by tests/test_freeflight.py and the vectors).
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest
import xarray as xr
from rich.console import Console
from scipy.optimize import brentq

from shieldlab.api import coverage, engage, load_scenario_text
from shieldlab.coverage.dataset import flat
from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.output import files
from shieldlab.output.table import print_engage
from shieldlab.scenario.model import EarthSpec, Point, Radar, Sector
from shieldlab.sensors.radar import RadarGeometry, detection_times, track_times
from shieldlab.threat.trajectory import ThreatBatch, fly

# ---- tolerances (named, with what they stand for) --------------------------------------------------------
RANGE_REL_TOL = 1e-12   # the fourth-root law in floating point (a handful of roundings)
ROOT_TOL_S = 0.05       # detection / interval start vs an independent root (the code bisects to ~2.4 ms)
TRACK_TOL_S = 0.05      # track time vs independent start + t_f (the start as precise as a detection)
DBSM_TOL_S = 0.01       # "-10 dBsm" vs "0.1 m2" (equal up to a rounding of sigma: the same bisection)
COVERAGE_TOL_S = 0.05   # coverage (warm-started aiming) vs engage (cold aiming) of the same pair
ROOT_XTOL_S = 1e-6      # brentq's own tolerance

R_REF_M = 500e3
RCS_M2, RCS_BOOST_M2 = 0.6, 1.5
LAUNCH_S, BURN_S = 0.0, 120.0


def fourth_root_range_m(sigma_m2, r_ref_m=R_REF_M, sigma_ref_m2=1.0, cap_m=math.inf):
    """docs/models.md, Sensitivity: range against a cross-section, written out: R_ref (sigma / sigma_ref)^(1/4),
    capped by max_range."""
    return min(cap_m, r_ref_m * (sigma_m2 / sigma_ref_m2) ** 0.25)


# ---- the fourth-root law --------------------------------------------------------------------------------------


@pytest.mark.parametrize("sigma_m2, sigma_ref_m2, cap_m, expected_m", [
    (1.0, 1.0, math.inf, 1000e3),          # the reference target: the reference range
    (16.0, 1.0, math.inf, 2000e3),         # 16^(1/4) = 2
    (0.0625, 1.0, math.inf, 500e3),        # 0.0625^(1/4) = 1/2
    (0.1, 10.0, math.inf, 1000e3 * 0.01 ** 0.25),  # reference_rcs 10 m2: 0.01^(1/4) = 0.3162...
    (16.0, 1.0, 1500e3, 1500e3),           # 2000 km capped by max_range
    (0.0625, 1.0, 1500e3, 500e3),          # the cap does not lengthen a shorter range
])
def test_fourth_root_law(sigma_m2, sigma_ref_m2, cap_m, expected_m):
    radar = Radar("r", Point(0.0, 0.0), max_range_m=cap_m, reference_range_m=1000e3, reference_rcs_m2=sigma_ref_m2)
    rg = RadarGeometry(Earth.from_spec(EarthSpec()), radar)
    got = rg.range_m(np.array([sigma_m2, sigma_m2]))
    assert got == pytest.approx([expected_m] * 2, rel=RANGE_REL_TOL)
    assert radar.range_m(sigma_m2) == pytest.approx(expected_m, rel=RANGE_REL_TOL)


def test_a_radar_without_reference_range_keeps_max_range():
    radar = Radar("r", Point(0.0, 0.0), max_range_m=1234e3)
    rg = RadarGeometry(Earth.from_spec(EarthSpec()), radar)
    assert (rg.range_m(np.array([0.01, 1.0, 100.0])) == 1234e3).all()


# ---- the scenario of the module text ---------------------------------------------------------------------------


def _text(track_formation="0 s", rcs=f"{RCS_M2} m2", rcs_boost=f"{RCS_BOOST_M2} m2", max_range=None, extra=""):
    cap = f'max_range = "{max_range}"\n' if max_range else ""
    boost = f'rcs_boost = "{rcs_boost}"\n' if rcs_boost else ""
    return f'''name = "sensitivity"
[earth]
model = "sphere"
rotation = false

[missiles.m]
burn_time = "{BURN_S} s"
burnout_altitude = "120 km"
burnout_range = "150 km"
burnout_speed = "5.0 km/s"
rcs = "{rcs}"
{boost}
[[sensors]]
name = "down"
at = {{ lat = 0.0, lon = 5.3955 }}
reference_range = "{R_REF_M / 1e3:g} km"
track_formation = "{track_formation}"
{cap}
[[threats]]
name = "east"
missile = "m"
from = {{ lat = 0.0, lon = 0.0 }}
azimuth = "90 deg"
gamma = "40 deg"
launch_time = "{LAUNCH_S} s"
{extra}'''


_CACHE: dict = {}


def _result(text):
    if text not in _CACHE:
        _CACHE[text] = engage(load_scenario_text(text, "sensitivity.toml"))
    return _CACHE[text]


def _sphere_result(tf_s):
    return _result(_text(f"{tf_s:g} s"))


def _range_root(res, r_m, lo_s, hi_s):
    """The time in [lo, hi] at which the slant range from the radar to the threat is r_m (brentq)."""
    th = res.threats
    site = RadarGeometry(res.earth, res.scenario.sensors[0]).site_ecef

    def f(t):
        return float(np.linalg.norm(th.position_ecef(np.array([0]), np.array([t]))[0] - site)) - r_m

    return brentq(f, lo_s, hi_s, xtol=ROOT_XTOL_S)


def _passes(res, cap_m=math.inf):
    """(start, end) of the two passes: the booster's and the warhead's (module text)."""
    r_b = fourth_root_range_m(RCS_BOOST_M2, cap_m=cap_m)
    r_f = fourth_root_range_m(RCS_M2, cap_m=cap_m)
    t_bo = LAUNCH_S + BURN_S
    first = (_range_root(res, r_b, LAUNCH_S + 1.0, t_bo), t_bo)
    second = (_range_root(res, r_f, t_bo, 180.0), _range_root(res, r_f, 180.0, 400.0))
    return first, second


def test_setup_the_range_rule_alone_decides():
    """The set-up: at every second of the flight the radar sees the threat exactly when the slant range is
    within the range of the threat's phase (elevation above the mask throughout the passes)."""
    res = _sphere_result(0.0)
    th = res.threats
    rg = RadarGeometry(res.earth, res.scenario.sensors[0])
    ts = np.arange(1.0, th.impact_time_s[0], 1.0)
    idx = np.zeros(ts.size, int)
    p = th.position_ecef(idx, ts)
    rng = np.linalg.norm(p - rg.site_ecef, axis=1)
    within = np.where(ts <= LAUNCH_S + BURN_S, rng <= fourth_root_range_m(RCS_BOOST_M2),
                      rng <= fourth_root_range_m(RCS_M2))
    rb, rf = rg.ranges_m(th, [0])
    assert np.array_equal(rg.sees_threats(th, idx, ts, rb[0], rf[0]), within)
    (a0, a1), (b0, b1) = _passes(res)
    assert 45.0 < a1 - a0 < 60.0 and 90.0 < b1 - b0 < 110.0, ((a0, a1), (b0, b1))


def test_detection_is_the_booster_at_its_fourth_root_range():
    res = _sphere_result(0.0)
    (a0, _), _ = _passes(res)
    det = float(res.detections_s[0, 0])
    assert det == pytest.approx(a0, abs=ROOT_TOL_S), f"detection {det:.4f} s, booster in range at {a0:.4f} s"


def test_without_rcs_boost_the_booster_has_the_warheads_range():
    """rcs_boost defaults to rcs (docs/models.md, Sensitivity: range against a cross-section): 440 km never
    reaches the booster, the warhead is seen at 440 km."""
    res = _result(_text(rcs_boost=None))
    _, (b0, _) = _passes(res)
    det = float(res.detections_s[0, 0])
    assert det == pytest.approx(b0, abs=ROOT_TOL_S), f"detection {det:.4f} s, warhead in range at {b0:.4f} s"


def test_max_range_caps_the_boosters_range():
    cap_m = 520e3  # below the booster's 553 km, above the warhead's 440 km
    res = _result(_text(max_range="520 km"))
    (a0, _), (b0, _) = _passes(res, cap_m)
    assert float(res.detections_s[0, 0]) == pytest.approx(a0, abs=ROOT_TOL_S)
    assert a0 > _passes(_sphere_result(0.0))[0][0] + 5.0, "test set-up: the cap must delay the detection"


def test_dbsm_is_ten_log10_of_square_metres():
    """rcs = 10 log10(0.6) dBsm is 0.6 m2: the same detection (the warhead at 440 km)."""
    a = _result(_text(rcs=f"{10 * math.log10(RCS_M2)!r} dBsm", rcs_boost=None))
    b = _result(_text(rcs_boost=None))
    assert a.scenario.missiles["m"].rcs_m2 == pytest.approx(RCS_M2, rel=RANGE_REL_TOL)
    ta, tb = float(a.detections_s[0, 0]), float(b.detections_s[0, 0])
    assert math.isfinite(ta) and ta == pytest.approx(tb, abs=DBSM_TOL_S)


def test_a_smaller_cross_section_is_never_seen():
    """-10 dBsm = 0.1 m2: 500 km 0.1^(1/4) = 281 km, inside the 382 km closest approach: never detected."""
    res = _result(_text(rcs="-10 dBsm", rcs_boost=None))
    assert res.scenario.missiles["m"].rcs_m2 == pytest.approx(0.1, rel=RANGE_REL_TOL)
    assert fourth_root_range_m(0.1) < 382e3
    assert math.isnan(float(res.detections_s[0, 0])) and math.isnan(float(res.track_time_s[0]))


# ---- track formation -----------------------------------------------------------------------------------------


def test_track_formation_zero_is_the_detection_time_exactly():
    res = _sphere_result(0.0)
    d = res.detections
    assert np.array_equal(d.track_s, d.time_s, equal_nan=True)
    assert float(d.track_time_s[0]) == float(d.time_s[0, 0])


def test_track_within_the_first_pass():
    """t_f = 30 s < the booster's pass (~51 s): track = its start + 30 s."""
    res = _sphere_result(30.0)
    (a0, _), _ = _passes(res)
    assert float(res.detections.track_s[0, 0]) == pytest.approx(a0 + 30.0, abs=TRACK_TOL_S)
    assert float(res.detections.track_s[0, 0]) == float(res.detections_s[0, 0]) + 30.0


def test_a_pass_shorter_than_track_formation_gives_no_track():
    """t_f = 60 s: the booster's pass (~51 s, ended by the range change at burnout) gives no track; the
    warhead's (~100 s) does, at its start + 60 s."""
    res = _sphere_result(60.0)
    (a0, a1), (b0, _) = _passes(res)
    assert a1 - a0 < 60.0, "test set-up: the first pass must be shorter than t_f"
    assert float(res.detections_s[0, 0]) == pytest.approx(a0, abs=ROOT_TOL_S), "detection is not changed by t_f"
    track = float(res.detections.track_s[0, 0])
    assert track == pytest.approx(b0 + 60.0, abs=TRACK_TOL_S), f"track {track:.3f} s, expected {b0 + 60:.3f} s"
    assert float(res.track_time_s[0]) == track


def test_no_pass_long_enough_gives_no_track_and_not_detected():
    """t_f = 120 s, longer than both passes: no track; a `track` battery is not cued (reason not-detected), a
    `launch` battery is."""
    extra = '''
[interceptors.k]
burn_time = "60 s"
burnout_speed = "4.5 km/s"
min_altitude = "100 km"

[[batteries]]
name = "on-track"
at = { lat = 0.0, lon = 5.3955 }
interceptor = "k"
launch_delay = "10 s"

[[batteries]]
name = "on-launch"
at = { lat = 0.0, lon = 5.3955 }
interceptor = "k"
launch_delay = "10 s"
cue = "launch"
'''
    res = _result(_text("120 s", extra=extra))
    assert math.isfinite(float(res.detections_s[0, 0])), "detected, though never tracked"
    assert math.isnan(float(res.detections.track_s[0, 0])) and math.isnan(float(res.track_time_s[0]))
    rec = res.to_document()["threats"][0]
    assert rec["detections"][0]["track_s"] is None and rec["track_time_s"] is None
    on_track, on_launch = rec["engagements"]
    assert on_track["reason"] == "not-detected" and on_track["earliest_launch_s"] is None
    assert on_launch["earliest_launch_s"] == pytest.approx(LAUNCH_S + 10.0, abs=1e-9)
    # the same batteries with t_f = 60 s: the track cue starts from the warhead pass's track
    res60 = _result(_text("60 s", extra=extra))
    eng = res60.to_document()["threats"][0]["engagements"][0]
    assert eng["earliest_launch_s"] == pytest.approx(float(res60.track_time_s[0]) + 10.0, abs=1e-9)


def test_json_detections_carry_track_s():
    rec = _sphere_result(60.0).to_document()["threats"][0]
    d = rec["detections"][0]
    assert set(d) == {"sensor", "time_s", "track_s"}
    assert d["track_s"] > d["time_s"] and rec["track_time_s"] == d["track_s"]
    assert json.loads(json.dumps(rec)) == rec


def test_text_table_shows_a_track_that_differs_from_the_detection():
    doc = _sphere_result(60.0).to_document()
    out = io.StringIO()
    print_engage(doc, Console(file=out, width=100, color_system=None))
    text = out.getvalue()
    track = doc["threats"][0]["detections"][0]["track_s"]
    assert f"track at {track:.1f} s" in text, text
    out0 = io.StringIO()
    print_engage(_sphere_result(0.0).to_document(), Console(file=out0, width=100, color_system=None))
    assert "track at" not in out0.getvalue() and "no track" not in out0.getvalue()


BRUTE_STEP_S = 0.05  # brute-force sampling step; track times agree to two steps


def test_track_times_match_brute_force():
    """On random geometries (WGS84, rotation; sectors, elevation masks, max_range caps, booster and warhead
    ranges), each radar's track time equals the first time t, on a BRUTE_STEP_S grid, at which every sample of
    [t - t_f, t] is seen (docs/models.md, Track formation, read literally), and "no track" where no such t exists."""
    earth = Earth.from_spec(EarthSpec())
    rng = np.random.default_rng(5)
    n = 60
    lat, lon = rng.uniform(-50, 50, n), rng.uniform(-180, 180, n)
    batch = fly(ThreatBatch(earth, np.zeros(n), lat, lon, np.zeros(n), rng.uniform(0, 360, n), np.full(n, 150.0),
                            np.full(n, 300e3), np.full(n, 150e3), np.full(n, 5500.0), np.full(n, math.radians(35.0)),
                            rcs_m2=np.full(n, 0.3), rcs_boost_m2=np.full(n, 30.0)))
    radars = []
    for k in range(n):  # radar k within 800 km of a point of threat k's first half
        p = batch.position_ecef(np.array([k]), np.array([rng.uniform(0, 0.5 * batch.impact_time_s[k])]))
        plat, plon, _ = frames.ecef_to_geodetic(earth, p)
        la, lo, _ = geodesic.direct(earth, float(plat[0]), float(plon[0]), rng.uniform(0, 360), rng.uniform(0, 8e5))
        radars.append(RadarGeometry(earth, Radar(
            f"r{k}", Point(float(la), float(lo)), max_range_m=rng.uniform(6e5, 2e6),
            min_elevation_deg=rng.uniform(0, 5), sector=Sector(rng.uniform(0, 360), rng.uniform(5, 90)),
            reference_range_m=rng.uniform(8e5, 2.5e6), track_formation_s=float(rng.choice([5.0, 20.0, 60.0, 150.0])))))
    det = detection_times(batch, radars)
    trk = track_times(batch, radars, det)
    tracked = untracked = 0
    for k, rg in enumerate(radars):
        rb, rf = rg.ranges_m(batch, [k])
        ts = np.arange(0.0, batch.impact_time_s[k], BRUTE_STEP_S)
        seen = rg.sees_threats(batch, np.full(ts.size, k), ts, rb[0], rf[0])
        need = int(round(rg.radar.track_formation_s / BRUTE_STEP_S))
        run = np.zeros(ts.size, int)  # samples seen in a row, up to each
        for q in np.flatnonzero(seen):
            run[q] = run[q - 1] + 1 if q else 1
        ok = np.flatnonzero(run > need)
        expected = ts[ok[0]] if ok.size else math.nan
        got = float(trk[k, k])
        assert math.isnan(got) == math.isnan(expected), (k, got, expected, float(det[k, k]))
        if ok.size:
            assert got == pytest.approx(expected, abs=2 * BRUTE_STEP_S), (k, got, expected)
        tracked += ok.size > 0
        untracked += (not ok.size) and math.isfinite(det[k, k])
    assert tracked >= 10 and untracked >= 3, f"test set-up: {tracked} tracked, {untracked} seen but not tracked"



@pytest.mark.kernels
def test_free_flight_track_scan_equals_the_block_scan():
    """`_first_unseen` scans windows that start in the free flight in a compiled kernel (`_first_unseen_free`):
    the same sample times start + j h as the vectorised blocks, so the same first unseen time, exactly (past the
    impact included: nothing is seen there)."""
    from shieldlab.sensors.radar import FINE_SAMPLE_S, _first_unseen

    earth = Earth.from_spec(EarthSpec())
    rng = np.random.default_rng(11)
    n = 12
    lat, lon = rng.uniform(-3, 3, n), rng.uniform(-3, 3, n)  # launched around (0, 0), every way
    batch = fly(ThreatBatch(earth, np.zeros(n), lat, lon, np.zeros(n), rng.uniform(0, 360, n), np.full(n, 150.0),
                            np.full(n, 300e3), np.full(n, 150e3), np.full(n, 5500.0), np.full(n, math.radians(35.0)),
                            rcs_m2=np.full(n, 0.3), rcs_boost_m2=np.full(n, 30.0)))
    ilat, ilon = batch.impact_lat_deg[0], batch.impact_lon_deg[0]
    radars = [RadarGeometry(earth, Radar("r", Point(1.0, 1.0), max_range_m=2.0e6, min_elevation_deg=2.0,
                                         sector=Sector(45.0, 120.0))),
              # under threat 0's impact: it sees the threat down to the ground
              RadarGeometry(earth, Radar("under", Point(float(ilat), float(ilon)), max_range_m=2.0e6))]
    rows = np.repeat(np.arange(n), 3)
    # starts after burnout: early, mid-course and a few seconds before the impact
    frac = np.tile([0.05, 0.5, 1.0], n)
    start = batch.burnout_time_s[rows] + 1.0 + frac * (batch.impact_time_s[rows] - batch.burnout_time_s[rows] - 8.1)
    span = 30.0
    m = max(int(math.ceil(span / FINE_SAMPLE_S)), 1)
    t = start[:, None] + np.arange(1, m + 1)[None, :] * (span / m)
    got_all = []
    for rg in radars:
        rb, rf = rg.ranges_m(batch, rows)
        got = _first_unseen(batch, rows, start, span, rg, rb, rf)
        seen = rg.sees_threats(batch, np.repeat(rows, m), t.ravel(), np.repeat(rb, m), np.repeat(rf, m)).reshape(-1, m)
        expected = np.where(seen.all(1), np.nan, t[np.arange(rows.size), np.argmin(seen, axis=1)])
        np.testing.assert_array_equal(got, expected)
        got_all.append(got)
    got = np.concatenate(got_all)
    assert np.isnan(got).any() and np.isfinite(got).any(), "test set-up: want windows seen throughout and not"
    assert (got_all[1][2] > batch.impact_time_s[0]), "test set-up: want a window that runs past the impact"

# ---- the coverage path and its files ----------------------------------------------------------------------------

COVERAGE = _text("60 s").split("[[threats]]")[0] + '''
[[sensors]]
name = "plain"
at = { lat = 0.0, lon = 8.0 }
max_range = "1500 km"

[coverage]
missile = "m"
from = [{ lat = 0.0, lon = 0.0 }]
to = [{ lat = 0.0, lon = 20.0 }, { lat = 1.0, lon = 25.0 }, { lat = -1.0, lon = 30.0 }]
'''


@pytest.fixture(scope="module")
def cov():
    return coverage(load_scenario_text(COVERAGE, "cov.toml"))


def test_coverage_tracks_match_engage(cov):
    """The coverage batch path computes the same per-sensor track times as `engage` of each pair."""
    det = cov.detections
    assert np.isfinite(det.track_s[:, 0]).all() and (det.track_s[:, 0] > det.time_s[:, 0]).all()
    assert np.array_equal(det.track_s[:, 1], det.time_s[:, 1], equal_nan=True), "t_f = 0: the detection"
    one = engage(cov.scenario, pairs=np.arange(cov.pairs.size))
    assert np.allclose(det.track_s, one.detections.track_s, atol=COVERAGE_TOL_S, rtol=0.0, equal_nan=True)
    assert np.allclose(det.time_s, one.detections.time_s, atol=COVERAGE_TOL_S, rtol=0.0, equal_nan=True)
    assert np.array_equal(det.track_time_s, np.fmin.reduce(det.track_s, axis=1), equal_nan=True)


def test_coverage_files_carry_track_times(cov, tmp_path):
    ds = cov.to_dataset()
    v = ds["sensor_track_time_s"]
    assert v.dims == ("launch", "sensor", "aim") and v.attrs["units"] == "s"
    assert np.array_equal(flat(ds, "sensor_track_time_s"), cov.detections.track_s, equal_nan=True)
    assert ds["sensor_track_formation_s"].values.tolist() == [60.0, 0.0]
    assert ds["sensor_range_km"].values[0] == pytest.approx(fourth_root_range_m(RCS_M2) / 1e3, rel=RANGE_REL_TOL)
    assert ds["sensor_boost_range_km"].values[0] == pytest.approx(fourth_root_range_m(RCS_BOOST_M2) / 1e3,
                                                                  rel=RANGE_REL_TOL)
    assert ds["sensor_range_km"].values[1] == 1500.0 and math.isnan(ds["sensor_reference_range_km"].values[1])
    csv_path, gj_path, nc_path = tmp_path / "c.csv", tmp_path / "c.geojson", tmp_path / "c.nc"
    files.write_all(ds, [csv_path, gj_path, nc_path])
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    for k, row in enumerate(rows):
        for j, s in enumerate(("down", "plain")):
            assert float(row[f"{s} track s"]) == pytest.approx(cov.detections.track_s[k, j], abs=1e-3)
            assert float(row[f"{s} detection s"]) == pytest.approx(cov.detections.time_s[k, j], abs=1e-3)
    doc = json.loads(gj_path.read_text(encoding="utf-8"))
    aims = [f["properties"] for f in doc["features"] if f["properties"]["kind"] == "aim"]
    assert [p["down:track_s"] for p in aims] == pytest.approx(cov.detections.track_s[:, 0], abs=1e-3)
    sensor = next(f["properties"] for f in doc["features"] if f["properties"]["kind"] == "sensor")
    assert sensor["max_range_km"] is None and sensor["reference_range_km"] == R_REF_M / 1e3
    assert sensor["track_formation_s"] == 60.0
    with xr.open_dataset(nc_path) as back:
        assert np.array_equal(back["sensor_track_time_s"].values, v.values, equal_nan=True)
