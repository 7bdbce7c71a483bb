"""The latest launch and margin (docs/models.md, The latest launch) and the intercept geometry (docs/models.md,
Intercept geometry).

- The latest launch L = max of t - T(P(t)) over the times at which every condition but the timeline holds:
  against a brute-force dense scan with exact flyout solves (every 0.5 s of the free flight, then every 2 ms
  around the best), on every kind of maximum: inside the window, at a band crossing, at the edge of reach,
  at the burnout, and just before the fast arc is lost (T jumps to the slow arc); for `engage` (exact scans)
  and for coverage runs (flyout tables), including pairs where the table is uncertain for 70 samples.
- The margin L - t0: its sign agrees with `feasible` on every engagement of every example and case study, and
  it is null exactly where docs/models.md, The latest launch, says (L too for `altitude` and `out-of-reach`).
- Closing speed and crossing angle: against an independent computation (both flights propagated with scipy's
  DOP853 in the inertial frame from their burnout states, the velocities differenced there), and a head-on
  and a tail-chase geometry.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer
from scenarios import at, battery, header, interceptor, missile, places, radar, threat
from scipy.integrate import solve_ivp
from scipy.optimize import least_squares

from shieldlab import constants as C
from shieldlab.api import Reason, count_pairs, coverage, engage, latest_launch, load_scenario, load_scenario_text
from shieldlab.coverage import run as cov
from shieldlab.engagement.condition import Condition
from shieldlab.engagement.engage import battery_flyout, evaluate_threats
from shieldlab.engagement.geometry import closing_and_crossing, inertial_velocity
from shieldlab.interceptor.flyout import FAMILY_FLOOR, FAMILY_FULL

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "tests" / "vectors"
CASES = ROOT / "examples" / "case-studies"
# the example scenarios with something to engage (not examples/assess-2017.toml, flight tests only)
EXAMPLES = [p for p in sorted((ROOT / "examples").glob("*.toml")) + sorted(CASES.glob("*.toml"))
            if "[[threats]]" in p.read_text(encoding="utf-8") or "[coverage]" in p.read_text(encoding="utf-8")]

# Brute force: a 0.5 s grid of exact solves, then a 2 ms grid over +-1 s around its best. Its own error is at
# most |f'| x 2 ms (|f'| <= ~3, so ~6 ms); the engine refines to GAIN_TOL_S (10 ms of promised gain) and
# locates edges of reach to EDGE_TOL_S (2 ms). 20 ms covers both, 150 times tighter than the validation
# tolerance of the latest launch (3 s, docs/models.md, Validation vectors).
BRUTE_COARSE_S = 0.5
BRUTE_FINE_S = 0.002
LATEST_TOL_S = 0.02
TIME_TOL_S = 0.01  # the windows' boundaries (engagement/boundary.py TIME_TOL_S): a feasible margin is >= -this
# Geometry against DOP853 (rtol 1e-11): the engine's states come from RK4 flights (20 s steps) whose positions
# agree with DOP853 to better than a metre (tests/test_freeflight.py); the velocities to ~1 mm/s. 0.05 m/s and
# 0.001 deg are 1000 times tighter than the validation tolerances (0.05 km/s, 1 deg).
CLOSING_SPEED_TOL_M_S = 0.05
CROSSING_ANGLE_TOL_DEG = 1e-3
HEAD_ON_MAX_DEG = 10.0  # both arcs curve under gravity: exactly 0 deg is not constructible
TAIL_CHASE_MIN_DEG = 170.0


# --------------------------------------------------------------------------------------------- brute force
def brute_latest(threats, flyout, i: int) -> tuple[float, float]:
    """(max f, its time) of threat i by dense exact solves, cold (no warm starts): NaN where no time is in D."""
    cond = Condition(threats, flyout, np.zeros(threats.n))  # g = t - 0 - T = f

    def f(t):
        t = np.asarray(t, float)
        return cond.at(np.full(t.size, i), t, None).g_s

    tb, ti = threats.burnout_time_s[i], threats.impact_time_s[i]
    t = np.append(np.arange(tb, ti, BRUTE_COARSE_S), ti)
    v = f(t)
    if not np.isfinite(v).any():
        return math.nan, math.nan
    k = int(np.argmax(v))
    fine = np.append(np.arange(max(tb, t[k] - 1.0), min(ti, t[k] + 1.0), BRUTE_FINE_S), min(ti, t[k] + 1.0))
    vf = f(fine)
    j = int(np.argmax(vf))
    return float(vf[j]), float(fine[j])


def _check_against_brute(res, latest, label):
    """Every engagement of `res` (EngageResult): `latest` (threats, batteries) against the brute force."""
    fails = []
    for j, b in enumerate(res.scenario.batteries):
        fly = battery_flyout(res.scenario, res.earth, b)
        for i in np.flatnonzero(res.threats.valid):
            want, when = brute_latest(res.threats, fly, i)
            got = latest[i, j]
            if math.isnan(want) or math.isnan(got):
                if math.isnan(want) != math.isnan(got):
                    fails.append(f"{label} {res.names[i]} / {b.name}: L {got} where the brute force has {want}")
                continue
            if abs(got - want) > LATEST_TOL_S:
                fails.append(f"{label} {res.names[i]} / {b.name}: L {got:.4f}, brute force {want:.4f} at t = "
                             f"{when:.3f} (off by {got - want:+.4f} s, tolerance {LATEST_TOL_S} s)")
    return fails


@pytest.fixture(scope="module")
def kozelsk():
    """Kozelsk ICBMs past Poland and Romania: maxima inside the window and at the burnout."""
    return engage(load_scenario(ROOT / "examples" / "kozelsk-washington.toml"))


@pytest.fixture(scope="module")
def burnout():
    """Two coverage-us-east pairs whose threats fly away from Romania's IIA from their burnout on: the maximum
    is at the burnout."""
    return engage(load_scenario(ROOT / "examples" / "coverage-us-east.toml"), pairs=[0, 27])


@pytest.fixture(scope="module")
def energy():
    """The energy-management vector: the maximum at the edge of reach (9 km/s), at the band's floor, and (k9-em,
    k9-em-floor) at the switch from the full-speed to the floor arcs, a kink of f (docs/models.md, energy
    management)."""
    return engage(load_scenario(VECTORS / "energy-management" / "scenario.toml"))


@pytest.fixture(scope="module")
def jump():
    """epaa-vs-iran pair 102 against the North Sea battery: f rises until the fast arc is lost 3 s after a
    sample, where T jumps by ~1700 s to the slow arc; the maximum lies just before the jump."""
    return engage(load_scenario(CASES / "epaa-vs-iran.toml"), pairs=[102])


@pytest.mark.parametrize("name", ["kozelsk", "burnout", "energy", "jump"])
def test_latest_launch_equals_brute_force(name, request):
    res = request.getfixturevalue(name)
    eng = res.engagements
    fails = _check_against_brute(res, eng.latest_launch_s, f"engage {name}:")
    # the API's latest launch (no windows involved) is the same maximum
    api = np.stack([latest_launch(res, b.at, res.scenario.interceptors[b.interceptor])
                    for b in res.scenario.batteries], axis=1)
    api[np.isneginf(api)] = np.nan
    fails += _check_against_brute(res, api, f"api {name}:")
    assert not fails, "\n".join(fails)


def test_the_cases_have_every_kind_of_maximum(kozelsk, burnout, energy, jump):
    """Set-up: the maxima above lie inside the window, at the burnout, at the band's floor, at the edge of
    reach and at a jump, so that the brute-force test covers each."""
    en = energy.engagements
    # Poland's IIB against Kozelsk -> Washington: inside, far from the window's ends
    fly = battery_flyout(kozelsk.scenario, kozelsk.earth, kozelsk.scenario.batteries[0])
    _, when = brute_latest(kozelsk.threats, fly, 0)
    assert kozelsk.engagements.reason(0, 0) is Reason.TIMELINE
    assert kozelsk.flights.burnout_time_s[0] + 100 < when < kozelsk.flights.impact_time_s[0] - 100
    # Romania's IIA: at the burnout
    fly = battery_flyout(burnout.scenario, burnout.earth, burnout.scenario.batteries[1])
    for i in range(2):
        _, when = brute_latest(burnout.threats, fly, i)
        assert when == burnout.flights.burnout_time_s[i]
    # k75 (7.5 km/s): at the band's floor, 150 km; k9 (9 km/s): at the edge of reach, at 188 km
    k9, k75 = [b.name for b in energy.scenario.batteries].index("k9"), [
        b.name for b in energy.scenario.batteries].index("k75")
    assert abs(en.last.altitude_m[0, k75] - 150e3) < 1.0 and en.last.altitude_m[0, k9] > 180e3
    assert en.latest_launch_s[0, k75] == pytest.approx(en.last.interceptor_launch_s[0, k75], abs=LATEST_TOL_S)
    # the jump: the sample after the maximum is reachable only on the slow arc
    ns = [b.name for b in jump.scenario.batteries].index("north-sea-iib")
    fly = battery_flyout(jump.scenario, jump.earth, jump.scenario.batteries[ns])
    L, when = brute_latest(jump.threats, fly, 0)
    cond = Condition(jump.threats, fly, np.zeros(1))
    after = cond.at(np.array([0]), np.array([when + 2 * BRUTE_FINE_S]), None).g_s[0]
    assert after < L - 1000.0
    # engaged since the flyout fix of issue 12 (the fast arc near the burnout sphere the old solver lost is found)
    assert jump.engagements.reason(0, ns) is Reason.OK


def test_coverage_latest_launch_equals_brute_force():
    """Coverage runs find L from the flyout tables' scan: the pairs where the table misleads most."""
    fails = []
    for name, pairs in (("epaa-phase4-vs-russia", [57, 61]),  # 70 uncertain table samples before the top
                        ("epaa-vs-iran", [102, 252]),  # a jump to the slow arc; a band left and re-entered
                        ("east-coast-gbi-vs-iran", [8, 121])):  # a top 8 s from the table's
        sc = load_scenario(CASES / f"{name}.toml")
        rec = cov.evaluate_chunk(sc, np.array(pairs), cov.build_tables(sc))
        res = engage(sc, pairs=pairs)  # the same threats, flown alone, for the brute force
        fails += _check_against_brute(res, rec.engagements.latest_launch_s, f"coverage {name}:")
    assert not fails, "\n".join(fails)


def test_energy_management_switch_in_tables_and_engage(energy):
    """k9-em and k9-em-floor: the maximum lies at the switch between the full-speed and the floor arcs (the
    samples on either side are of different families), where f has a kink. The table path of a coverage run
    (the same threats scanned with the batteries' flyout tables) finds the same latest launch as `engage`,
    and both the brute force's."""
    sc, th = energy.scenario, energy.threats
    names = [b.name for b in sc.batteries]
    em = [names.index("k9-em"), names.index("k9-em-floor")]
    # set-up: the brute-force maximum is between samples of two families (floor arcs just after it)
    for j in em:
        fly = battery_flyout(sc, energy.earth, sc.batteries[j])
        _, when = brute_latest(th, fly, 0)
        p, _ = th.free_flight_positions(np.zeros(2, int), np.array([when - 0.1, when + 0.1]))
        assert fly.solve(p).family.tolist() == [FAMILY_FULL, FAMILY_FLOOR]
    tabled = evaluate_threats(sc, energy.earth, th, cov.build_tables(sc))["engagements"]
    want = energy.engagements.latest_launch_s[:, em]
    assert np.abs(tabled.latest_launch_s[:, em] - want).max() <= LATEST_TOL_S
    fails = _check_against_brute(energy, tabled.latest_launch_s, "tables energy:")
    assert not fails, "\n".join(fails)


# --------------------------------------------------------------------------------------------- the margin
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_margin_sign_agrees_with_feasibility(path):
    """docs/models.md, The latest launch: margin >= 0 exactly when the battery can intercept (the windows'
    boundaries are found to TIME_TOL_S, so a feasible margin is >= -TIME_TOL_S); L and the margin null where the
    model says."""
    sc = load_scenario(path)
    res = engage(sc) if sc.threats else engage(sc, pairs=np.arange(0, count_pairs(sc), 7))
    eng = res.engagements
    assert eng.latest_launch_s.shape == eng.margin_s.shape == eng.feasible.shape
    checked = 0
    for i in range(res.flights.n):
        for j in range(len(sc.batteries)):
            L, m, t0, r = eng.latest_launch_s[i, j], eng.margin_s[i, j], eng.earliest_launch_s[i, j], eng.reason(i, j)
            where = f"{path.stem}: {res.names[i]} / {sc.batteries[j].name} ({r})"
            if r is None:  # a threat that cannot be computed
                assert math.isnan(L) and math.isnan(m), where
            elif r in (Reason.ALTITUDE, Reason.OUT_OF_REACH):
                assert math.isnan(L) and math.isnan(m), where
            elif r is Reason.NOT_DETECTED:
                assert math.isnan(m) and math.isnan(t0), where
            else:
                assert math.isfinite(L) and m == L - t0, where
                if r is Reason.OK:
                    assert m >= -TIME_TOL_S, f"{where}: margin {m}"
                    assert L >= eng.first.interceptor_launch_s[i, j] and L >= eng.last.interceptor_launch_s[i, j]
                else:
                    assert m < 0, f"{where}: margin {m}"
                checked += 1
    assert checked > 0


def test_not_detected_keeps_its_latest_launch():
    """cue = "track" without a sensor: no earliest launch, so no margin; L is the same as with a launch cue."""
    text = (header("uncued") + places("semnan", "berlin", "deveselu", "kurecik")
            + missile("irbm") + interceptor("fast", "60 s", "4.5 km/s", "100 km", "1200 km")
            + battery("tracked", "deveselu", "fast") + battery("warned", "deveselu", "fast", cue="launch")
            + threat("semnan-berlin", "irbm", "semnan", "berlin"))
    res = engage(load_scenario_text(text))
    eng = res.engagements
    assert eng.reason(0, 0) is Reason.NOT_DETECTED and eng.reason(0, 1) is Reason.OK
    assert math.isnan(eng.margin_s[0, 0]) and math.isfinite(eng.latest_launch_s[0, 0])
    # the same site and type: the same maximum (the launch-cued one may have been raised by its intercepts)
    assert abs(eng.latest_launch_s[0, 0] - eng.latest_launch_s[0, 1]) <= LATEST_TOL_S
    doc = res.to_document()["threats"][0]["engagements"]
    assert doc[0]["margin_s"] is None and doc[0]["latest_launch_s"] == eng.latest_launch_s[0, 0]
    assert doc[1]["margin_s"] == eng.margin_s[0, 1] > 0


def test_latest_launch_is_null_out_of_the_band_and_out_of_reach():
    text = (header("nulls") + places("semnan", "berlin", "deveselu", "kurecik")
            + missile("irbm") + interceptor("high", "60 s", "4.5 km/s", "2000 km")  # above the apogee
            + interceptor("slow", "60 s", "0.5 km/s", "100 km")  # reaches 30 km
            + radar("kurecik", "kurecik", "1800 km", "1 deg")
            + battery("band", "deveselu", "high") + battery("reach", "deveselu", "slow")
            + threat("semnan-berlin", "irbm", "semnan", "berlin"))
    res = engage(load_scenario_text(text))
    eng = res.engagements
    assert [eng.reason(0, j) for j in range(2)] == [Reason.ALTITUDE, Reason.OUT_OF_REACH]
    assert np.isnan(eng.latest_launch_s).all() and np.isnan(eng.margin_s).all()
    for e in res.to_document()["threats"][0]["engagements"]:
        assert e["latest_launch_s"] is None and e["margin_s"] is None


def test_coverage_margins_equal_engage(tmp_path):
    """The table path of a coverage run against `engage` of the same pairs: L to the brute-force tolerance."""
    sc = load_scenario(ROOT / "examples" / "coverage-us-east.toml")
    pairs = np.arange(0, 120, 3)
    rec = cov.evaluate_chunk(sc, pairs, cov.build_tables(sc)).engagements
    one = engage(sc, pairs=pairs).engagements
    assert np.array_equal(np.isnan(rec.latest_launch_s), np.isnan(one.latest_launch_s))
    d = np.abs(rec.latest_launch_s - one.latest_launch_s)
    assert np.nanmax(d) <= 2 * LATEST_TOL_S, np.nanmax(d)  # each to LATEST_TOL_S of the true maximum
    assert np.array_equal(rec.margin_s, rec.latest_launch_s - rec.earliest_launch_s, equal_nan=True)


# --------------------------------------------------------------------------------------------- geometry
_TO_ECEF = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)  # WGS84 geodetic -> ECEF (pyproj)


def _ecef(lat_deg, lon_deg, alt_m):
    return np.array(_TO_ECEF.transform(lon_deg, lat_deg, alt_m))


def _enu(lat_deg, lon_deg):
    la, lo = math.radians(lat_deg), math.radians(lon_deg)
    e = np.array([-math.sin(lo), math.cos(lo), 0.0])
    n = np.array([-math.sin(la) * math.cos(lo), -math.sin(la) * math.sin(lo), math.cos(la)])
    u = np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])
    return e, n, u


def _rz(theta):
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _gravity(t, y):
    """docs/models.md, Gravity: point mass + J2 (WGS84), inertial frame."""
    r = y[:3]
    rn = np.linalg.norm(r)
    k = 1.5 * C.J2 * (C.WGS84_A_M / rn) ** 2
    zz = (r[2] / rn) ** 2
    a = -C.GM_M3_S2 * r / rn**3 * np.array([1 + k * (1 - 5 * zz), 1 + k * (1 - 5 * zz), 1 + k * (3 - 5 * zz)])
    return np.concatenate([y[3:], a])


def _inertial_velocity_at(r_ecef, v_ecef, t_start, t_end):
    """Propagate an Earth-relative state given at scenario time t_start to t_end with DOP853 (rtol 1e-11) in
    the inertial frame (docs/models.md, Frames); the inertial velocity and the ECEF position at t_end."""
    w = C.OMEGA_RAD_S
    r_i = _rz(w * t_start) @ r_ecef
    v_i = _rz(w * t_start) @ (v_ecef + np.cross([0.0, 0.0, w], r_ecef))
    sol = solve_ivp(_gravity, (t_start, t_end), np.concatenate([r_i, v_i]), method="DOP853", rtol=1e-11,
                    atol=1e-6)
    y = sol.y[:, -1]
    return y[3:], _rz(-w * t_end) @ y[:3]


def _independent_geometry(res, i, j, part):
    """Closing speed and crossing angle at threat i's `part` intercept by battery j, from both flights
    propagated with DOP853 from their burnout states."""
    sc, fl = res.scenario, res.flights
    ic = getattr(res.engagements, part)
    t = ic.time_s[i, j]
    b = sc.batteries[j]
    it = sc.interceptors[b.interceptor]
    # the kill vehicle: the arc (az, el) that reaches the intercept point in the reported flyout time (near
    # the fold of reach the fast and slow arcs differ by little), flown from its burnout
    p = _ecef(ic.lat_deg[i, j], ic.lon_deg[i, j], ic.altitude_m[i, j])
    fly = battery_flyout(sc, res.earth, b)
    tau = ic.flyout_time_s[i, j] - it.burn_time_s
    start = fly.solve(p[None]).arc[0]
    fit = least_squares(lambda x: fly.arrival(x[:1], x[1:], np.array([tau]))[0][0, :3] - p, start[:2],
                        x_scale=1e-3, xtol=1e-14, ftol=1e-14, gtol=1e-14)
    az = fit.x[0]
    # the launch parameter x is the elevation of a full-speed arc, or (energy management, docs/models.md, Launch
    # floor and energy management) below the floor a floor arc's speed: Flyout.launch decodes it into
    # (elevation, burnout speed)
    el_a, v_a = fly.launch(fit.x[1:])
    el, v = float(el_a[0]), float(v_a[0])
    e, n, u = _enu(b.at.lat_deg, b.at.lon_deg)
    d = math.cos(el) * (math.sin(az) * e + math.cos(az) * n) + math.sin(el) * u
    site = _ecef(b.at.lat_deg, b.at.lon_deg, b.at.alt_m)
    t_bo = ic.interceptor_launch_s[i, j] + it.burn_time_s
    vk, pk = _inertial_velocity_at(site + 0.5 * v * it.burn_time_s * d, v * d, t_bo, t)
    assert np.linalg.norm(pk - p) < 10.0  # the arc arrives at the intercept point
    # the threat: its burnout state (docs/models.md, The threat missile: the burnout model), flown to t
    e, n, u = _enu(fl.burnout_lat_deg[i], fl.burnout_lon_deg[i])
    g, az = math.radians(fl.burnout_gamma_deg[i]), math.radians(fl.burnout_azimuth_deg[i])
    v0 = fl.burnout_speed_m_s[i] * (math.cos(g) * (math.sin(az) * e + math.cos(az) * n) + math.sin(g) * u)
    r0 = _ecef(fl.burnout_lat_deg[i], fl.burnout_lon_deg[i], fl.burnout_altitude_m[i])
    vt, pt = _inertial_velocity_at(r0, v0, fl.burnout_time_s[i], t)
    assert np.linalg.norm(pt - p) < 10.0  # the threat is there at t
    closing = np.linalg.norm(vk - vt)
    angle = math.degrees(math.acos(np.clip(np.dot(vk, -vt) / (np.linalg.norm(vk) * np.linalg.norm(vt)), -1, 1)))
    return closing, angle


GEOMETRY = (header("geometry") + places("semnan", "berlin")
            + missile("irbm")
            + interceptor("chaser", "20 s", "9.0 km/s", "100 km")
            + interceptor("defender", "30 s", "4.0 km/s", "50 km")
            # at the threat's launch point: it can first intercept at the threat's burnout, from behind
            + battery("behind", at(35.234, 53.921), "chaser", "0 s", cue="launch")
            # at the threat's aim point: its last intercept meets the threat coming down at it
            + battery("ahead", "berlin", "defender", "0 s", cue="launch")
            + threat("semnan-berlin", "irbm", "semnan", "berlin"))


@pytest.fixture(scope="module")
def geometry():
    return engage(load_scenario_text(GEOMETRY))


@pytest.fixture(scope="module")
def europe():
    """The engagement-europe vector: batteries in Romania and Poland against an IRBM to Berlin."""
    return engage(load_scenario(VECTORS / "engagement-europe" / "scenario.toml"))


@pytest.mark.parametrize("name", ["energy", "geometry", "europe"])
def test_geometry_against_dop853(name, request):
    res = request.getfixturevalue(name)
    eng = res.engagements
    seen = 0
    for i, j in zip(*np.nonzero(eng.feasible)):
        for part in ("first", "last"):
            ic = getattr(eng, part)
            closing, angle = _independent_geometry(res, i, j, part)
            assert ic.closing_speed_m_s[i, j] == pytest.approx(closing, abs=CLOSING_SPEED_TOL_M_S), (i, j, part)
            assert ic.crossing_angle_deg[i, j] == pytest.approx(angle, abs=CROSSING_ANGLE_TOL_DEG), (i, j, part)
            seen += 1
    assert seen >= 2
    # where the battery cannot engage there is no geometry
    assert np.isnan(eng.first.closing_speed_m_s[~eng.feasible]).all()
    assert np.isnan(eng.last.crossing_angle_deg[~eng.feasible]).all()


def test_head_on_and_tail_chase(geometry):
    eng = geometry.engagements
    behind, ahead = 0, 1
    assert eng.feasible[0].all()
    # from the launch point: the first intercept is at the threat's burnout, the kill vehicle behind it
    assert eng.first.time_s[0, behind] == pytest.approx(geometry.flights.burnout_time_s[0], abs=TIME_TOL_S)
    assert eng.first.crossing_angle_deg[0, behind] > TAIL_CHASE_MIN_DEG
    # at the aim point: the last intercept, on the band's floor, meets the threat head on
    assert eng.last.altitude_m[0, ahead] == pytest.approx(50e3, abs=1.0)
    assert eng.last.crossing_angle_deg[0, ahead] < HEAD_ON_MAX_DEG
    # and the closing speeds: nearly the difference of the two speeds from behind, nearly their sum head on
    doc = geometry.to_document()["threats"][0]["engagements"]
    assert doc[behind]["first_intercept"]["crossing_angle_deg"] == eng.first.crossing_angle_deg[0, behind]
    assert doc[ahead]["last_intercept"]["closing_speed_km_s"] == eng.last.closing_speed_m_s[0, ahead] * 1e-3


def test_closing_and_crossing_formulae():
    """The definitions of docs/models.md, Intercept geometry, on plain vectors, and the inertial velocity of
    docs/models.md, Frames."""
    closing, angle = closing_and_crossing(np.array([[3.0, 0, 0], [3.0, 0, 0], [0, 4.0, 0]]),
                                          np.array([[-4.0, 0, 0], [1.0, 0, 0], [3.0, 0, 0]]))
    assert closing.tolist() == [7.0, 2.0, 5.0]
    assert angle == pytest.approx([0.0, 180.0, 90.0], abs=1e-12)
    # a point fixed on the equator at longitude 0 moves at w a to the east; at w t = 90 deg that is -x
    w = C.OMEGA_RAD_S
    v = inertial_velocity(np.array([[C.WGS84_A_M, 0, 0]]), np.zeros((1, 3)), np.array([math.pi / 2 / w]), w)
    assert v[0] == pytest.approx([-w * C.WGS84_A_M, 0.0, 0.0], abs=1e-9)


def test_coverage_geometry_equals_engage(tmp_path):
    """Coverage records carry the same geometry as `engage` of the pair, to the validation tolerances (the
    intercepts themselves agree to 3 s)."""
    sc = load_scenario(ROOT / "examples" / "coverage-us-east.toml")
    res = coverage(sc, workers=1)
    pairs = np.flatnonzero(res.engagements.feasible.any(axis=1))[:10]
    one = engage(sc, pairs=pairs).engagements
    ok = one.feasible
    for part in ("first", "last"):
        a, b = getattr(one, part), getattr(res.engagements, part)
        assert np.abs(a.closing_speed_m_s[ok] - b.closing_speed_m_s[pairs][ok]).max() <= 50.0  # 0.05 km/s
        assert np.abs(a.crossing_angle_deg[ok] - b.crossing_angle_deg[pairs][ok]).max() <= 1.0
    ds = res.to_dataset()
    assert float(ds["first_intercept_crossing_angle_deg"].max()) <= 180.0
