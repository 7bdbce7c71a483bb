"""The compiled RK4 free flight (shieldlab.freeflight) against an independent high-accuracy integration, the
invariants of the motion, and closed-form Kepler on the rotating sphere.

Reference model: docs/models.md, The Earth (gravity, inertial frame aligned with ECEF at t = 0, rotation about +z,
impact = first time the geodetic altitude falls to 0 m).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, minimize_scalar

from shieldlab import freeflight
from shieldlab.earth import _kernels, frames
from shieldlab.earth.model import Earth
from shieldlab.scenario.model import EarthSpec

# docs/models.md, Shape, rotation and gravity constants, typed here (not imported) so the reference is
# independent of src/
GM = 3.986004418e14
WGS84_A = 6378137.0
J2 = 1.08262668e-3
OMEGA = 7.292115e-5
SPHERE_R = 6371008.8

WGS84_ROT_J2 = Earth.from_spec(EarthSpec("wgs84", rotation=True, j2=True))
SPHERE_FIXED = Earth.from_spec(EarthSpec("sphere", rotation=False, j2=False))
SPHERE_ROT = Earth.from_spec(EarthSpec("sphere", rotation=True, j2=False))

# DOP853 reference settings (docs/models.md, Free-flight tests) and the agreement required of the default RK4 step
REF_RTOL = 1e-12
REF_ATOL = 1e-6
IMPACT_POS_TOL_M = 10.0
IMPACT_TIME_TOL_S = 0.01
APOGEE_ALT_TOL_M = 1.0
APOGEE_TIME_TOL_S = 0.01
NODE_POS_TOL_M = 10.0
GRAVITY_REL_TOL = 1e-13
# Invariants. At DEFAULT_STEP_S = 20 s, RK4's relative energy error peaks near apogee at up to 4e-9 on the cases
# below (about 0.2 J/kg, i.e. 2 cm of height); 1e-9 holds from a 10 s step on (error ~ h^4).
ENERGY_REL_TOL_DEFAULT_STEP = 1e-8
ENERGY_REL_TOL_FINE_STEP = 1e-9
FINE_STEP_S = 5.0
ANGULAR_MOMENTUM_REL_TOL = 1e-9
RK4_ORDER_RATIO = (12.0, 20.0)  # error(h) / error(h/2) of a 4th-order method: 2^4 = 16
KEPLER_POS_TOL_M = 10.0
KEPLER_TIME_TOL_S = 0.01

NODES_CAP = int(freeflight.MAX_FLIGHT_S / FINE_STEP_S) + 3

# (lat deg, lon deg, altitude m, speed m/s, flight-path angle deg, azimuth deg) of burnout states
CASES = [
    (55.7356, 31.424, 200e3, 6615.15, 28.68, 300.84),  # Kozelsk -> Washington min-energy burnout (aim-modes vector)
    (0.0, 0.0, 200e3, 7000.0, 22.0, 90.0),  # eastward along the equator
    (-30.0, 150.0, 120e3, 5000.0, 60.0, 10.0),  # lofted, southern hemisphere
    (70.0, -40.0, 300e3, 7200.0, 35.0, 180.0),  # over the pole region, due south
    (20.0, 60.0, 150e3, 7600.0, 15.0, 270.0),  # flat and fast, westward
]
CASE_IDS = ["kozelsk-washington", "equator-east", "lofted-south", "polar-south", "flat-west"]


def burnout_state(earth, case):
    lat, lon, h, v, g, az = case
    r0 = frames.geodetic_to_ecef(earth, lat, lon, h)
    v0 = v * frames.direction_enu_to_ecef(lat, lon, math.radians(az), math.radians(g))
    return np.ascontiguousarray(r0), np.ascontiguousarray(v0)


def fly_nodes(earth, r0, v0, step=freeflight.DEFAULT_STEP_S):
    nodes = np.full((1, NODES_CAP, 7), np.nan)
    status, count, t_imp, t_apo, alt_apo, apo = freeflight.trajectory_batch(
        r0[None].copy(), v0[None].copy(), earth.kernel_params, step, freeflight.MAX_FLIGHT_S, nodes)
    assert status[0] == freeflight.OK, f"status: expected OK, got {status[0]}"
    return nodes[0, :count[0]], t_imp[0], t_apo[0], alt_apo[0]


def reference_gravity(r, gm=GM, j2=J2, re=WGS84_A):
    """docs/models.md, Gravity: point mass + J2."""
    x, y, z = r
    rn2 = x * x + y * y + z * z
    rn = math.sqrt(rn2)
    k = 1.5 * j2 * (re * re / rn2)
    zz = z * z / rn2
    c = -gm / (rn2 * rn)
    return np.array([c * x * (1 + k * (1 - 5 * zz)), c * y * (1 + k * (1 - 5 * zz)), c * z * (1 + k * (3 - 5 * zz))])


def rz(theta, r):
    """Rz(theta): turn a vector by +theta about z (docs/models.md, Frames)."""
    c, s = math.cos(theta), math.sin(theta)
    return np.array([c * r[0] - s * r[1], s * r[0] + c * r[1], r[2]])


# --------------------------------------------------------------------------- gravity kernel
@pytest.mark.kernels
def test_gravity_kernel_matches_models_md():
    rng = np.random.default_rng(7)
    pts = rng.normal(size=(50, 3))
    pts *= (WGS84_A + rng.uniform(-10e3, 5000e3, 50))[:, None] / np.linalg.norm(pts, axis=1, keepdims=True)
    for r in pts:
        got = np.array(_kernels.gravity(r[0], r[1], r[2], WGS84_ROT_J2.kernel_params))
        exp = reference_gravity(r)
        err = np.linalg.norm(got - exp) / np.linalg.norm(exp)
        assert err < GRAVITY_REL_TOL, f"gravity at {r}: expected {exp}, got {got} (rel {err:.2e})"


# --------------------------------------------------------------------------- DOP853 reference
def dop853_reference(r0_ecef, v0_ecef):
    """Inertial-frame integration (docs/models.md, The Earth) with a terminal event at geodetic altitude 0."""
    v0_in = v0_ecef + np.cross([0.0, 0.0, OMEGA], r0_ecef)  # v_inertial = v_ecef + omega z x r at t = 0

    def rhs(t, s):
        return np.concatenate([s[3:], reference_gravity(s[:3])])

    def altitude(t, s):
        return float(frames.ecef_to_geodetic(WGS84_ROT_J2, rz(-OMEGA * t, s[:3]))[2])

    altitude.terminal = True
    altitude.direction = -1
    sol = solve_ivp(rhs, (0.0, freeflight.MAX_FLIGHT_S), np.concatenate([r0_ecef, v0_in]), method="DOP853",
                    rtol=REF_RTOL, atol=REF_ATOL, events=altitude, dense_output=True)
    assert sol.status == 1 and sol.t_events[0].size == 1, f"reference: expected one impact event, got {sol.message}"
    t_imp = sol.t_events[0][0]

    def ecef_at(t):
        return rz(-OMEGA * t, sol.sol(t)[:3])

    ts = np.linspace(0.0, t_imp, 401)
    alts = np.array([altitude(t, sol.sol(t)) for t in ts])
    i = int(np.argmax(alts))
    m = minimize_scalar(lambda t: -altitude(t, sol.sol(t)), bounds=(ts[max(i - 1, 0)], ts[min(i + 1, 400)]),
                        method="bounded", options={"xatol": 1e-7})
    return dict(t_imp=t_imp, r_imp=ecef_at(t_imp), t_apo=m.x, alt_apo=-m.fun, ecef_at=ecef_at)


@pytest.fixture(scope="module", params=range(len(CASES)), ids=CASE_IDS)
def j2_case(request):
    r0, v0 = burnout_state(WGS84_ROT_J2, CASES[request.param])
    return r0, v0, dop853_reference(r0, v0)


@pytest.mark.kernels
def test_default_step_impact_matches_dop853(j2_case):
    r0, v0, ref = j2_case
    nodes, t_imp, _, _ = fly_nodes(WGS84_ROT_J2, r0, v0)
    r_imp = nodes[-1, 1:4]
    d = np.linalg.norm(r_imp - ref["r_imp"])
    assert abs(t_imp - ref["t_imp"]) < IMPACT_TIME_TOL_S, f"impact time: expected {ref['t_imp']:.5f} s, got {t_imp:.5f} s"
    assert d < IMPACT_POS_TOL_M, f"impact position: expected {ref['r_imp']}, got {r_imp} ({d:.3f} m apart)"
    assert abs(nodes[-1, 0] - t_imp) < 1e-9, f"last node time: expected the impact {t_imp}, got {nodes[-1, 0]}"
    alt = float(frames.ecef_to_geodetic(WGS84_ROT_J2, r_imp)[2])
    assert abs(alt) < 1e-3, f"impact altitude: expected 0 m, got {alt} m"


@pytest.mark.kernels
def test_default_step_apogee_matches_dop853(j2_case):
    r0, v0, ref = j2_case
    _, _, t_apo, alt_apo = fly_nodes(WGS84_ROT_J2, r0, v0)
    assert abs(alt_apo - ref["alt_apo"]) < APOGEE_ALT_TOL_M, (
        f"apogee altitude: expected {ref['alt_apo']:.3f} m, got {alt_apo:.3f} m")
    assert abs(t_apo - ref["t_apo"]) < APOGEE_TIME_TOL_S, f"apogee time: expected {ref['t_apo']:.5f} s, got {t_apo:.5f} s"


@pytest.mark.kernels
def test_default_step_nodes_and_state_at_match_dop853(j2_case):
    r0, v0, ref = j2_case
    nodes, t_imp, _, _ = fly_nodes(WGS84_ROT_J2, r0, v0)
    steps = np.diff(nodes[:-1, 0])
    assert np.allclose(steps, freeflight.DEFAULT_STEP_S), f"node spacing: expected {freeflight.DEFAULT_STEP_S} s"
    err = np.array([np.linalg.norm(n[1:4] - ref["ecef_at"](n[0])) for n in nodes])
    assert err.max() < NODE_POS_TOL_M, f"nodes vs DOP853: worst {err.max():.3f} m at t = {nodes[err.argmax(), 0]} s"
    # state_at_batch at times between the nodes
    taus = np.linspace(7.3, t_imp - 1.0, 9)
    n = taus.size
    out, min_alt = freeflight.state_at_batch(np.repeat(r0[None], n, 0), np.repeat(v0[None], n, 0), taus,
                                             WGS84_ROT_J2.kernel_params, freeflight.DEFAULT_STEP_S)
    err = np.array([np.linalg.norm(out[i, :3] - ref["ecef_at"](taus[i])) for i in range(n)])
    assert err.max() < NODE_POS_TOL_M, f"state_at vs DOP853: worst {err.max():.3f} m at tau = {taus[err.argmax()]} s"
    assert (min_alt > 0).all(), f"least node altitude before impact: expected > 0, got {min_alt}"


@pytest.mark.kernels
def test_impact_batch_agrees_with_trajectory_batch():
    r0 = np.array([burnout_state(WGS84_ROT_J2, c)[0] for c in CASES])
    v0 = np.array([burnout_state(WGS84_ROT_J2, c)[1] for c in CASES])
    status, tau, rimp = freeflight.impact_batch(r0, v0, WGS84_ROT_J2.kernel_params, freeflight.DEFAULT_STEP_S,
                                                freeflight.MAX_FLIGHT_S)
    assert (status == freeflight.OK).all(), f"status: expected all OK, got {status}"
    for i in range(len(CASES)):
        nodes, t_imp, _, _ = fly_nodes(WGS84_ROT_J2, r0[i], v0[i])
        assert tau[i] == t_imp, f"case {i} impact time: trajectory_batch {t_imp}, impact_batch {tau[i]}"
        assert np.array_equal(rimp[i], nodes[-1, 1:4]), f"case {i} impact: {nodes[-1, 1:4]} vs {rimp[i]}"


@pytest.mark.kernels
def test_escape_reports_no_impact():
    """A hyperbolic flight never comes back: status NO_IMPACT, NaN time and position (freeflight docstring)."""
    r0 = frames.geodetic_to_ecef(WGS84_ROT_J2, 10.0, 10.0, 200e3)
    v0 = 12000.0 * frames.direction_enu_to_ecef(10.0, 10.0, 0.0, math.radians(80.0))  # above escape speed
    status, tau, rimp = freeflight.impact_batch(r0[None], v0[None], WGS84_ROT_J2.kernel_params,
                                                freeflight.DEFAULT_STEP_S, freeflight.MAX_FLIGHT_S)
    assert status[0] == freeflight.NO_IMPACT, f"status: expected NO_IMPACT ({freeflight.NO_IMPACT}), got {status[0]}"
    assert np.isnan(tau[0]) and np.isnan(rimp[0]).all(), f"expected NaN impact, got tau={tau[0]}, r={rimp[0]}"


# --------------------------------------------------------------------------- invariants
def _energy(nodes, gm=GM):
    r, v = nodes[:, 1:4], nodes[:, 4:7]
    return 0.5 * (v * v).sum(-1) - gm / np.linalg.norm(r, axis=-1)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_energy_and_angular_momentum_point_mass_sphere(case):
    """Non-rotating point mass: specific energy v^2/2 - mu/r and angular momentum r x v are constant
    (ECEF = inertial here)."""
    r0, v0 = burnout_state(SPHERE_FIXED, case)
    nodes, _, _, _ = fly_nodes(SPHERE_FIXED, r0, v0)
    e = _energy(nodes)
    rel = np.abs(e / e[0] - 1.0)
    assert rel.max() < ENERGY_REL_TOL_DEFAULT_STEP, (
        f"energy at the default step: expected {e[0]:.6f} J/kg to within {ENERGY_REL_TOL_DEFAULT_STEP:g}, "
        f"worst {e[rel.argmax()]:.6f} (rel {rel.max():.2e}) at t = {nodes[rel.argmax(), 0]} s")
    h = np.cross(nodes[:, 1:4], nodes[:, 4:7])
    hrel = np.linalg.norm(h - h[0], axis=-1) / np.linalg.norm(h[0])
    assert hrel.max() < ANGULAR_MOMENTUM_REL_TOL, f"angular momentum: worst relative change {hrel.max():.2e}"
    fine, _, _, _ = fly_nodes(SPHERE_FIXED, r0, v0, step=FINE_STEP_S)
    ef = _energy(fine)
    relf = np.abs(ef / ef[0] - 1.0)
    assert relf.max() < ENERGY_REL_TOL_FINE_STEP, (
        f"energy at a {FINE_STEP_S} s step: expected within {ENERGY_REL_TOL_FINE_STEP:g}, worst rel {relf.max():.2e}")


def test_rk4_is_fourth_order():
    """Halving the step divides the energy error by about 2^4 (classical RK4)."""
    r0, v0 = burnout_state(SPHERE_FIXED, CASES[1])
    errs = []
    for h in (20.0, 10.0, 5.0):
        e = _energy(fly_nodes(SPHERE_FIXED, r0, v0, step=h)[0])
        errs.append(np.abs(e / e[0] - 1.0).max())
    for a, b in zip(errs, errs[1:]):
        assert RK4_ORDER_RATIO[0] < a / b < RK4_ORDER_RATIO[1], (
            f"error ratio on halving the step: expected about 16, got {a / b:.2f} (errors {errs})")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_jacobi_integral_rotating_j2(case):
    """Rotating frame, axisymmetric steady potential: C = v_ecef^2/2 + U - (omega^2 / 2)(x^2 + y^2) is constant,
    U = -mu/r + mu J2 Re^2 (3 z^2/r^2 - 1) / (2 r^3) (the potential of the gravity in docs/models.md, Gravity)."""
    r0, v0 = burnout_state(WGS84_ROT_J2, case)
    nodes, _, _, _ = fly_nodes(WGS84_ROT_J2, r0, v0)
    r, v = nodes[:, 1:4], nodes[:, 4:7]
    rn = np.linalg.norm(r, axis=-1)
    u = -GM / rn + GM * J2 * WGS84_A**2 * (3.0 * r[:, 2] ** 2 / rn**2 - 1.0) / (2.0 * rn**3)
    c = 0.5 * (v * v).sum(-1) + u - 0.5 * OMEGA**2 * (r[:, 0] ** 2 + r[:, 1] ** 2)
    rel = np.abs(c / c[0] - 1.0)
    assert rel.max() < ENERGY_REL_TOL_DEFAULT_STEP, (
        f"Jacobi integral: expected {c[0]:.6f} to within {ENERGY_REL_TOL_DEFAULT_STEP:g}, worst rel {rel.max():.2e}")


# --------------------------------------------------------------------------- rotation: closed-form Kepler
def kepler_impact(r0_in, v0_in, r_e=SPHERE_R):
    """Point-mass flight from an inertial state to radius r_e (descending): (time s, inertial position).
    Range equation (Bate, Mueller & White 1971, ch. 6, generalised to r_b != r_e) and Kepler's equation."""
    rb, v = np.linalg.norm(r0_in), np.linalg.norm(v0_in)
    phi = math.asin(float(r0_in @ v0_in) / (rb * v))
    q = v * v * rb / GM
    c = math.cos(phi)

    def f(th):
        return (1.0 - math.cos(th)) / (q * c * c) + math.cos(phi + th) / c - rb / r_e

    grid = np.linspace(1e-7, 2.0 * math.pi - 1e-7, 40001)
    fs = (1.0 - np.cos(grid)) / (q * c * c) + np.cos(phi + grid) / c - rb / r_e
    k = np.flatnonzero((fs[:-1] < 0.0) & (fs[1:] >= 0.0))[0]
    theta = brentq(f, grid[k], grid[k + 1], xtol=1e-15)
    a = rb / (2.0 - q)
    e = math.sqrt(1.0 + q * (q - 2.0) * c * c)
    nu0 = math.atan2(q * math.sin(phi) * c, q * c * c - 1.0)

    def mean_anomaly(nu):
        big_e = (2.0 * math.atan2(math.sqrt(1 - e) * math.sin(nu / 2), math.sqrt(1 + e) * math.cos(nu / 2))) % (
            2 * math.pi)
        return big_e - e * math.sin(big_e)

    tof = (mean_anomaly(nu0 + theta) - mean_anomaly(nu0)) / math.sqrt(GM / a**3)
    u0 = r0_in / rb
    hh = np.cross(r0_in, v0_in)
    t0 = np.cross(hh / np.linalg.norm(hh), u0)
    return tof, r_e * (math.cos(theta) * u0 + math.sin(theta) * t0)


ROTATION_CASES = [c for c in CASES]
MIN_ROTATION_EFFECT_M = 50e3  # every case flies >= 20 min: the Earth turns >= 5 deg under it


@pytest.mark.parametrize("case", ROTATION_CASES, ids=CASE_IDS)
def test_rotation_on_vs_off_matches_kepler(case):
    """Same Earth-relative burnout state on the sphere with and without rotation. With rotation the inertial
    velocity gains omega z x r and the Earth turns by omega t under the flight (docs/models.md, Frames): both
    impacts, and so their difference, follow from Kepler in the inertial frame."""
    r0, v0 = burnout_state(SPHERE_ROT, case)
    # without rotation
    nodes_off, t_off, _, _ = fly_nodes(SPHERE_FIXED, r0, v0)
    tof_off, r_off = kepler_impact(r0, v0)
    # with rotation
    nodes_on, t_on, _, _ = fly_nodes(SPHERE_ROT, r0, v0)
    tof_on, r_on_in = kepler_impact(r0, v0 + np.cross([0.0, 0.0, OMEGA], r0))
    r_on = rz(-OMEGA * tof_on, r_on_in)  # r_ecef = Rz(-omega t) r_inertial
    for what, t, tk, r, rk in (("off", t_off, tof_off, nodes_off[-1, 1:4], r_off),
                               ("on", t_on, tof_on, nodes_on[-1, 1:4], r_on)):
        assert abs(t - tk) < KEPLER_TIME_TOL_S, f"rotation {what}: impact time expected {tk:.4f} s, got {t:.4f} s"
        d = np.linalg.norm(r - rk)
        assert d < KEPLER_POS_TOL_M, f"rotation {what}: impact expected {rk}, got {r} ({d:.3f} m apart)"
    shift = np.linalg.norm(nodes_on[-1, 1:4] - nodes_off[-1, 1:4])
    expected_shift = np.linalg.norm(r_on - r_off)
    assert abs(shift - expected_shift) < 2 * KEPLER_POS_TOL_M, (
        f"rotation effect on the impact: expected {expected_shift / 1e3:.3f} km, got {shift / 1e3:.3f} km")
    # order of magnitude: the ground turns by omega * tof * R cos(lat) ~ hundreds of km
    assert shift > MIN_ROTATION_EFFECT_M, f"rotation effect: expected > {MIN_ROTATION_EFFECT_M / 1e3} km, got {shift / 1e3:.1f} km"


def test_rotation_eastward_equator_gains_range():
    """Flying east from the equator, rotation adds omega R = 465 m/s (docs/sources.md, Earth rotation) to the inertial
    speed, and the target moves away at the same rate: the flight lasts longer and lands further east in ECEF."""
    r0, v0 = burnout_state(SPHERE_ROT, CASES[1])
    _, t_off, _, _ = fly_nodes(SPHERE_FIXED, r0, v0)
    nodes_on, t_on, _, _ = fly_nodes(SPHERE_ROT, r0, v0)
    gain_speed = OMEGA * np.linalg.norm(r0)
    assert abs(OMEGA * SPHERE_R - 464.6) < 0.5, (
        f"omega R: expected 465 m/s (docs/sources.md, Earth rotation), got {OMEGA * SPHERE_R}")
    assert gain_speed > 460.0, f"eastward gain: expected > 460 m/s, got {gain_speed}"
    assert t_on > t_off, f"flight time: expected longer with rotation, got {t_on:.1f} s vs {t_off:.1f} s"
    lon_off = float(frames.ecef_to_geodetic(SPHERE_FIXED, fly_nodes(SPHERE_FIXED, r0, v0)[0][-1, 1:4])[1])
    lon_on = float(frames.ecef_to_geodetic(SPHERE_ROT, nodes_on[-1, 1:4])[1])
    assert lon_on > lon_off, f"impact longitude: expected further east with rotation, got {lon_on} <= {lon_off}"


# --------------------------------------------------------------------------- node arrays sized by a flight-time bound
@pytest.mark.parametrize("earth", [WGS84_ROT_J2, SPHERE_FIXED, SPHERE_ROT],
                         ids=["wgs84-rot-j2", "sphere", "sphere-rot"])
def test_flight_time_bound_exceeds_every_flight_by_little(earth):
    """threat/trajectory.py sizes the node arrays of a batch by `flight_time_bound_s`: at least each flight's time
    (else the batch is flown once more), and not much more (2 % + 60 s over the Kepler time: memory)."""
    from shieldlab.threat.trajectory import FLIGHT_BOUND_REL, FLIGHT_BOUND_S, flight_time_bound_s

    r0 = np.array([burnout_state(earth, c)[0] for c in CASES])
    v0 = np.array([burnout_state(earth, c)[1] for c in CASES])
    bound = flight_time_bound_s(earth, r0, v0)
    for i in range(len(CASES)):
        _, t_imp, _, _ = fly_nodes(earth, r0[i], v0[i])
        assert t_imp <= bound[i] <= t_imp * (1.0 + 2 * FLIGHT_BOUND_REL) + 2 * FLIGHT_BOUND_S, (CASE_IDS[i], t_imp,
                                                                                                 bound[i])
    escape_v = 12000.0 * frames.direction_enu_to_ecef(10.0, 10.0, 0.0, math.radians(80.0))
    assert np.isinf(flight_time_bound_s(earth, r0[:1], escape_v[None]))[0], "no bound for a flight that escapes"


def test_a_bound_that_falls_short_costs_a_second_flight_not_the_nodes(monkeypatch):
    """Where the flight-time bound falls short (a node array would fill up), `fly` sizes the arrays by the impact
    times instead: the same threats, node for node."""
    from shieldlab.threat import trajectory
    from shieldlab.threat.trajectory import ThreatBatch, fly

    n = len(CASES)
    lat, lon = np.array([c[0] for c in CASES]), np.array([c[1] for c in CASES])
    batch = ThreatBatch(WGS84_ROT_J2, np.zeros(n), lat, lon, np.zeros(n), np.array([c[5] for c in CASES]),
                        np.full(n, 150.0), np.full(n, 300e3), np.full(n, 150e3), np.array([c[3] for c in CASES]),
                        np.radians([c[4] for c in CASES]))
    good = fly(batch)
    for i in range(n):  # trajectory_batch pads each flight's node array with NaN after its last node
        k = good.node_count[i]
        assert np.isnan(good.nodes[i, k:]).all() and np.isfinite(good.nodes[i, :k]).all()
    monkeypatch.setattr(trajectory, "flight_time_bound_s", lambda earth, r, v: np.full(len(r), 100.0))
    short = fly(batch)
    assert np.array_equal(short.node_count, good.node_count)
    k = int(good.node_count.max())
    np.testing.assert_array_equal(short.nodes[:, :k], good.nodes[:, :k])
    np.testing.assert_array_equal(short.impact_time_s, good.impact_time_s)
    np.testing.assert_array_equal(short.apogee_altitude_m, good.apogee_altitude_m)
