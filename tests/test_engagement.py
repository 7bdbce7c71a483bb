"""Engagements (docs/models.md, The interceptor: straight boost and the fast arc; Engagements) through the
public API and its JSON document.

The geometry is the `engagement-europe` validation vector (an IRBM from Semnan to Berlin, radar at
Kürecik, batteries at Deveselu and Redzikowo); every test changes one thing in it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from scenarios import (EUROPE_PLACES, FAST, IRBM, KURECIK_RADAR, SEMNAN_BERLIN, at, battery, header, interceptor,
                       places, radar, replace_once, threat)

from shieldlab.api import engage, load_scenario_text
from shieldlab.earth import frames
from shieldlab.interceptor.flyout import Flyout

# ---- tolerances ------------------------------------------------------------------------------------------------
EXACT_S = 1e-6                 # identities between reported times (sums/differences of the same floats)
FLYOUT_TOL_S = 0.01            # T(P) re-solved from scratch vs the reported flyout time (Newton stops at 0.5 m)
ARRIVAL_TOL_M = 1000.0         # independent DOP853 propagation of the returned arc vs the intercept point
# the arc must stay above altitude 0 (docs/models.md, The interceptor: straight boost and the fast arc)
GROUND_CLEARANCE_M = -1.0      # 1 m numerical slack
ALTITUDE_BAND_TOL_M = 1.0      # intercept altitude inside [min_altitude, max_altitude]
INTERCEPT_TIME_TOL_S = 3.0     # docs/models.md, Validation vectors: first intercept time
FIRST_INTERCEPT_REFINE_S = 1.0  # one second before the first intercept, the battery cannot yet intercept
IVP_RTOL = 1e-11               # docs/models.md, Validation vectors: DOP853 at rtol 1e-11
IVP_ATOL_M = 1e-3

# ---- the scenario: engagement-europe (tests/scenarios.py) with interceptors that fail for each reason ----------
HEAD = (header("engagement-europe-variants") + places(*EUROPE_PLACES, "lisbon") + IRBM + FAST
        + interceptor("crawl", "30 s", "1.5 km/s", "100 km")
        + interceptor("high-band", "60 s", "4.5 km/s", "900 km", "1500 km")
        + interceptor("short-legs", "60 s", "4.5 km/s", "100 km", "1200 km", max_flight_time="10 s"))
BLIND = radar("canberra", at(-35.28, 149.13), "2000 km")
THREAT_LAUNCH_S = 30.0
THREAT = threat("semnan-berlin", "irbm", "semnan", "berlin", launch_time=f"{THREAT_LAUNCH_S} s")


LAUNCH_CUE_DELAY_S = 45.0
MAIN_BATTERIES = [
    battery("romania-fast", "deveselu", "fast"),
    battery("poland-fast", "redzikowo", "fast"),
    battery("lisbon-crawl", "lisbon", "crawl"),               # 1.5 km/s, >2000 km from the path: out-of-reach
    battery("romania-high-band", "deveselu", "high-band"),   # band 900-1500 km, apogee ~850 km: altitude
    battery("romania-late", "deveselu", "fast", 3000.0),     # reachable, launch after impact: timeline
    battery("romania-short-legs", "deveselu", "short-legs"),  # reachable but for max_flight_time: out-of-reach
    battery("romania-launch-cue", "deveselu", "fast", LAUNCH_CUE_DELAY_S, "launch"),
]
MAIN = HEAD + KURECIK_RADAR + "".join(MAIN_BATTERIES) + THREAT
EXPECTED_REASON = {
    "romania-fast": "ok", "poland-fast": "ok", "lisbon-crawl": "out-of-reach", "romania-high-band": "altitude",
    "romania-late": "timeline", "romania-short-legs": "out-of-reach", "romania-launch-cue": "ok",
}


@pytest.fixture(scope="module")
def main_result():
    res = engage(load_scenario_text(MAIN, "main.toml"))
    return res, res.to_document()


def _eng(doc, name):
    return next(e for e in doc["threats"][0]["engagements"] if e["battery"] == name)


def _interceptor(res, battery_name):
    b = next(b for b in res.scenario.batteries if b.name == battery_name)
    return b, res.scenario.interceptors[b.interceptor]


# ---- reasons ---------------------------------------------------------------------------------------------------


def test_main_scenario_threat_is_as_in_the_vector(main_result):
    _, doc = main_result
    th = doc["threats"][0]
    assert th["error"] is None
    # engagement-europe expected.json: apogee 849.6 km, Kürecik detection 132.9 s after launch
    assert th["apogee"]["altitude_km"] == pytest.approx(849.6, abs=1.0)
    assert th["track_time_s"] - THREAT_LAUNCH_S == pytest.approx(132.88, abs=1.0)


@pytest.mark.parametrize("name", list(EXPECTED_REASON))
def test_reason(main_result, name):
    _, doc = main_result
    e = _eng(doc, name)
    assert e["reason"] == EXPECTED_REASON[name], f"{name}: {e}"
    assert e["feasible"] is (EXPECTED_REASON[name] == "ok"), e
    if not e["feasible"]:
        assert e["first_intercept"] is None and e["last_intercept"] is None, e
    else:
        assert e["first_intercept"] is not None and e["last_intercept"] is not None, e


def test_vector_first_intercepts(main_result):
    # engagement-europe expected.json: romania-fast 602.6 s, poland-fast 717.2 s after launch (validation 3 s)
    _, doc = main_result
    for name, t in (("romania-fast", 602.646484375), ("poland-fast", 717.216796875)):
        got = _eng(doc, name)["first_intercept"]["time_s"] - THREAT_LAUNCH_S
        assert got == pytest.approx(t, abs=INTERCEPT_TIME_TOL_S), f"{name}: first intercept {got} s vs {t} s"


def test_max_flight_time_limits_reach(main_result):
    # the same interceptor without max_flight_time is ok from the same site; with 10 s of free flight it reaches
    # ~v_b (t_b/2 + 10 s) = 180 km from Deveselu, nowhere near the path inside the band
    _, doc = main_result
    assert _eng(doc, "romania-fast")["reason"] == "ok"
    assert _eng(doc, "romania-short-legs")["reason"] == "out-of-reach"
    # and the limit is honoured where the flight is feasible: flyout - burn time <= max_flight_time
    res = engage(load_scenario_text(
        replace_once(HEAD, 'max_flight_time = "10 s"', 'max_flight_time = "300 s"') + KURECIK_RADAR
        + battery("romania-short-legs", "deveselu", "short-legs") + THREAT, "legs.toml"))
    e = res.to_document()["threats"][0]["engagements"][0]
    assert e["feasible"], e
    for key in ("first_intercept", "last_intercept"):
        assert e[key]["flyout_time_s"] - 60.0 <= 300.0 + EXACT_S, e


def test_not_detected_track_cue_but_launch_cue_still_engages():
    res = engage(load_scenario_text(HEAD + BLIND + MAIN_BATTERIES[0] + MAIN_BATTERIES[-1] + THREAT, "blind.toml"))
    th = res.to_document()["threats"][0]
    assert th["detections"] == [{"sensor": "canberra", "time_s": None, "track_s": None}]
    assert th["track_time_s"] is None
    track, launch = th["engagements"]
    assert track["reason"] == "not-detected" and track["feasible"] is False, track
    assert track["earliest_launch_s"] is None, track
    assert track["first_intercept"] is None and track["last_intercept"] is None, track
    # docs/models.md, Engagements: cue = "launch" does not need any detection
    assert launch["reason"] == "ok" and launch["feasible"] is True, launch


def test_not_detected_without_any_sensor():
    th = engage(load_scenario_text(HEAD + MAIN_BATTERIES[0] + THREAT, "nosensor.toml")).to_document()["threats"][0]
    assert th["detections"] == [] and th["track_time_s"] is None, th
    assert th["engagements"][0]["reason"] == "not-detected", th["engagements"][0]


def test_launch_cue_earliest_launch_is_exact(main_result):
    # docs/models.md, Engagements: cue = "launch": t_I0 = t_L + delta
    _, doc = main_result
    e = _eng(doc, "romania-launch-cue")
    assert e["earliest_launch_s"] == THREAT_LAUNCH_S + LAUNCH_CUE_DELAY_S, e["earliest_launch_s"]


def test_track_cue_earliest_launch(main_result):
    # docs/models.md, Engagements: cue = "track": t_I0 = first detection over all sensors + delta
    _, doc = main_result
    th = doc["threats"][0]
    for name in ("romania-fast", "poland-fast", "romania-high-band", "lisbon-crawl"):
        e = _eng(doc, name)
        assert e["earliest_launch_s"] == pytest.approx(th["track_time_s"] + 60.0, abs=EXACT_S), e
    assert _eng(doc, "romania-late")["earliest_launch_s"] == pytest.approx(th["track_time_s"] + 3000.0, abs=EXACT_S)


# ---- first and last intercept ------------------------------------------------------------------------------------

FEASIBLE = ["romania-fast", "poland-fast", "romania-launch-cue"]


@pytest.mark.parametrize("name", FEASIBLE)
def test_intercept_invariants(main_result, name):
    res, doc = main_result
    th = doc["threats"][0]
    e = _eng(doc, name)
    _, it = _interceptor(res, name)
    first, last = e["first_intercept"], e["last_intercept"]
    for which, ic in (("first", first), ("last", last)):
        # docs/models.md, Engagements: at the intercept the interceptor is launched at t - T(P(t))
        assert ic["interceptor_launch_s"] == pytest.approx(ic["time_s"] - ic["flyout_time_s"], abs=EXACT_S), ic
        assert ic["interceptor_launch_s"] >= e["earliest_launch_s"] - EXACT_S, (which, ic, e["earliest_launch_s"])
        alt_m = ic["altitude_km"] * 1e3
        assert it.min_altitude_m - ALTITUDE_BAND_TOL_M <= alt_m <= it.max_altitude_m + ALTITUDE_BAND_TOL_M, (which, ic)
        # the kill vehicle intercepts only after its own burnout, and only during the threat's free flight
        assert ic["flyout_time_s"] > it.burn_time_s, (which, ic)
        assert th["burnout"]["time_s"] <= ic["time_s"] <= th["impact"]["time_s"], (which, ic)
    assert first["time_s"] <= last["time_s"], (first, last)


@pytest.mark.parametrize("name", FEASIBLE)
def test_first_intercept_is_the_first(main_result, name):
    """One second earlier the battery cannot intercept: T(P(t)) > t - t_I0 (or P(t) out of the band)."""
    res, doc = main_result
    e = _eng(doc, name)
    b, it = _interceptor(res, name)
    t = e["first_intercept"]["time_s"] - FIRST_INTERCEPT_REFINE_S
    if t < res.threats.burnout_time_s[0]:
        pytest.skip("first intercept within a second of the threat's burnout")
    p = res.threats.position_ecef(np.array([0]), np.array([t]))
    _, _, alt = frames.ecef_to_geodetic(res.earth, p)
    if not it.min_altitude_m <= alt[0] <= it.max_altitude_m:
        return
    T = Flyout(res.earth, b.at, it).solve(p).time_s
    assert t - e["earliest_launch_s"] < T[0], (
        f"{name}: at {t:.2f} s (1 s before the reported first intercept) the interceptor could already arrive: "
        f"T = {T[0]:.2f} s <= {t - e['earliest_launch_s']:.2f} s available")


def _gravity(r, earth):
    """docs/models.md, Gravity: a = -GM r/r^3 (1 + k(1 - 5 z^2/r^2)) for x, y and (1 + k(3 - 5 z^2/r^2)) for z,
    k = 1.5 J2 (Re/r)^2 (J2 = 0 on the sphere)."""
    x, y, z = r
    rn = math.sqrt(x * x + y * y + z * z)
    k = 1.5 * earth.j2 * (earth.a_m / rn) ** 2
    c = -earth.gm_m3_s2 / rn**3
    zz = 5 * z * z / (rn * rn)
    return np.array([c * x * (1 + k * (1 - zz)), c * y * (1 + k * (1 - zz)), c * z * (1 + k * (3 - zz))])


def _rz(theta):
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@pytest.mark.parametrize("name", FEASIBLE)
def test_flyout_consistency_and_independent_propagation(main_result, name):
    res, doc = main_result
    e = _eng(doc, name)
    b, it = _interceptor(res, name)
    earth = res.earth
    t_hit = e["first_intercept"]["time_s"]
    p = res.threats.position_ecef(np.array([0]), np.array([t_hit]))
    fs = Flyout(earth, b.at, it).solve(p)
    T, arc = fs.time_s, fs.arc
    assert T[0] == pytest.approx(e["first_intercept"]["flyout_time_s"], abs=FLYOUT_TOL_S), (
        f"{name}: T(P) re-solved {T[0]:.4f} s vs reported {e['first_intercept']['flyout_time_s']:.4f} s")
    az, el, tau = arc[0]
    assert 0.0 < el <= math.pi / 2 and tau > 0.0, arc[0]
    assert T[0] == pytest.approx(it.burn_time_s + tau, abs=EXACT_S), (T, arc)

    # Independent check, docs/models.md, The interceptor: straight boost and the fast arc, and The Earth:
    # burnout at S + v_b t_b u / 2 with Earth-relative velocity v_b u at t_I + t_b, then vacuum flight under
    # point mass + J2 in the inertial frame, which coincides with ECEF at t = 0: r_i = Rz(w t) r_e,
    # v_i = Rz(w t)(v_e + w z x r_e).
    s = frames.geodetic_to_ecef(earth, b.at.lat_deg, b.at.lon_deg, b.at.alt_m)
    lat, lon = math.radians(b.at.lat_deg), math.radians(b.at.lon_deg)
    up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
    east = np.array([-math.sin(lon), math.cos(lon), 0.0])
    north = np.cross(up, east)
    u = math.cos(el) * (math.sin(az) * east + math.cos(az) * north) + math.sin(el) * up
    r_e = s + 0.5 * it.burnout_speed_m_s * it.burn_time_s * u
    v_e = it.burnout_speed_m_s * u
    w = earth.omega_rad_s
    t_launch = e["first_intercept"]["interceptor_launch_s"]
    t_bo = t_launch + it.burn_time_s
    rot = _rz(w * t_bo)
    y0 = np.concatenate([rot @ r_e, rot @ (v_e + np.cross([0.0, 0.0, w], r_e))])
    # fly from the reported launch to the reported intercept time (t_hit - t_bo = tau to FLYOUT_TOL_S, above)
    sol = solve_ivp(lambda t, y: np.concatenate([y[3:], _gravity(y[:3], earth)]), (t_bo, t_hit), y0,
                    method="DOP853", rtol=IVP_RTOL, atol=IVP_ATOL_M, dense_output=True)
    assert sol.success, sol.message
    arrive = _rz(-w * t_hit) @ sol.y[:3, -1]
    miss = float(np.linalg.norm(arrive - p[0]))
    assert miss < ARRIVAL_TOL_M, f"{name}: the returned arc (az, el, tau) misses the intercept point by {miss:.0f} m"
    # docs/models.md, The interceptor: straight boost and the fast arc: the arc from burnout to the intercept
    # point stays above altitude 0
    ts = np.linspace(t_bo, t_hit, 400)
    pts = np.array([_rz(-w * t) @ sol.sol(t)[:3] for t in ts])
    _, _, alts = frames.ecef_to_geodetic(earth, pts)
    assert alts.min() > GROUND_CLEARANCE_M, f"{name}: the interceptor's arc dips to {alts.min():.0f} m"


# ---- monotonicity (hypothesis) -----------------------------------------------------------------------------------

def _prop_head(tb, hmin, v1, v2):
    """engagement-europe without batteries, two interceptor types "a" and "b" differing in speed only."""
    return (header("prop") + places("semnan", "berlin", "kurecik") + IRBM
            + interceptor("a", f"{tb} s", f"{v1} m/s", f"{hmin} km", "1200 km")
            + interceptor("b", f"{tb} s", f"{v2} m/s", f"{hmin} km", "1200 km") + KURECIK_RADAR + SEMNAN_BERLIN)


# Deveselu, Redzikowo, Istanbul, Kyiv, Odesa, Paris, Stockholm
SITES = [(44.05, 24.41), (54.4728, 17.1231), (41.0, 29.0), (50.45, 30.52), (46.5, 30.7), (48.86, 2.35), (59.33, 18.07)]
PROP_SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
speeds = st.floats(3800.0, 6000.0)
delays = st.floats(0.0, 900.0)  # track ~133 s, impact ~1127 s: large delays leave no time


def _pair(site, tb, hmin, v1, v2, bat1, bat2):
    text = _prop_head(tb, hmin, v1, v2) + battery("one", at(*site), *bat1) + battery("two", at(*site), *bat2)
    one, two = engage(load_scenario_text(text, "prop.toml")).to_document()["threats"][0]["engagements"]
    return one, two


def _first(e):
    return e["first_intercept"]["time_s"] if e["feasible"] else math.inf


@PROP_SETTINGS
@given(site=st.sampled_from(SITES), tb=st.sampled_from([40.0, 60.0]), hmin=st.sampled_from([80.0, 100.0, 150.0]),
       v1=speeds, dv=st.floats(50.0, 1500.0), delay=delays)
def test_faster_interceptor_never_loses_an_intercept(site, tb, hmin, v1, dv, delay):
    slow, fast = _pair(site, tb, hmin, v1, v1 + dv, ("a", delay), ("b", delay))
    assert not (slow["feasible"] and not fast["feasible"]), (slow, fast)
    assert _first(fast) <= _first(slow) + INTERCEPT_TIME_TOL_S, (
        f"a {dv:.0f} m/s faster interceptor intercepts later: {_first(fast):.1f} s vs {_first(slow):.1f} s")


@PROP_SETTINGS
@given(site=st.sampled_from(SITES), tb=st.sampled_from([40.0, 60.0]), hmin=st.sampled_from([80.0, 100.0, 150.0]),
       v1=speeds, delay=delays, extra=st.floats(1.0, 600.0))
def test_longer_delay_never_gains_an_intercept(site, tb, hmin, v1, delay, extra):
    early, late = _pair(site, tb, hmin, v1, v1, ("a", delay), ("a", delay + extra))
    assert not (late["feasible"] and not early["feasible"]), (early, late)
    assert _first(late) >= _first(early) - INTERCEPT_TIME_TOL_S, (
        f"a launch {extra:.0f} s later intercepts earlier: {_first(late):.1f} s vs {_first(early):.1f} s")


@PROP_SETTINGS
@given(site=st.sampled_from(SITES), tb=st.sampled_from([40.0, 60.0]), hmin=st.sampled_from([80.0, 100.0, 150.0]),
       v1=speeds, delay=delays)
def test_launch_cue_never_later_than_track_cue(site, tb, hmin, v1, delay):
    track, launch = _pair(site, tb, hmin, v1, v1, ("a", delay, "track"), ("a", delay, "launch"))
    assert launch["earliest_launch_s"] <= track["earliest_launch_s"], (launch, track)
    assert not (track["feasible"] and not launch["feasible"]), (track, launch)
    assert _first(launch) <= _first(track) + INTERCEPT_TIME_TOL_S, (
        f"cue=launch intercepts later than cue=track: {_first(launch):.1f} s vs {_first(track):.1f} s")


# ---- a band entered only briefly -------------------------------------------------------------------------------


# Regression: the band test once looked only at 5 s samples, so a band entered for < 5 s near the apogee
# (min_altitude 3 m below it) was reported as 'altitude'. The apogee is now one of the scanned samples.
def test_band_entered_briefly_near_apogee(main_result):
    _, doc = main_result
    apogee_km = doc["threats"][0]["apogee"]["altitude_km"]
    band_min_km = apogee_km - 0.003
    text = replace_once(HEAD, FAST, interceptor("fast", "60 s", "4.5 km/s", f"{band_min_km!r} km", "1200 km"))
    e = engage(load_scenario_text(text + KURECIK_RADAR + MAIN_BATTERIES[0] + THREAT, "band.toml")).to_document()
    eng = e["threats"][0]["engagements"][0]
    assert eng["reason"] != "altitude", (
        f"reason 'altitude' although the apogee {apogee_km:.4f} km is above min_altitude {band_min_km:.4f} km")
    assert eng["feasible"], eng
