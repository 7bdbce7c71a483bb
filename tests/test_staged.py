"""The staged threat model (docs/models.md, The staged model): the compiled ascent and free flight of
shieldlab.threat.staged against closed forms (Tsiolkovsky's rocket equation; vertical ascent in uniform gravity)
and against an independent DOP853 integration of the same equations (tests/staged_reference.py), and its
behaviour: cut-off, crash, node conventions, maximum range.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from staged_reference import fly_reference

from shieldlab.earth import frames
from shieldlab.earth.model import Earth
from shieldlab.scenario.model import EarthSpec, Stage, StagedMissileType
from shieldlab.threat import staged

G0 = 9.80665  # standard gravity of the specific impulse
WGS84 = Earth.from_spec(EarthSpec("wgs84", rotation=True, j2=True))
# gravity off (GM = 0), no rotation: only the thrust acts (Earth is a frozen dataclass of plain floats)
NO_GRAVITY = Earth("wgs84", WGS84.a_m, WGS84.f, 0.0, 0.0, 0.0)
NO_ROTATION = Earth.from_spec(EarthSpec("wgs84", rotation=False, j2=False))

# the two-stage liquid vehicle of the scenario format's example (docs/scenario.md): 1000 kg payload, 2.4 m
LIQUID = StagedMissileType("liquid", 1000.0, 2.4, (Stage(50e3, 5e3, 150.0, 290.0),
                                                  Stage(12e3, 1.5e3, 120.0, 320.0, coast_s=5.0)))
# a single-stage short-range missile (Scud-B class masses) and a single-stage medium-range one
SRBM = StagedMissileType("srbm", 1000.0, 0.88, (Stage(3700.0, 1200.0, 62.0, 230.0),),
                         reentry_ballistic_coefficient_kg_m2=2000.0)
MRBM = StagedMissileType("mrbm", 1000.0, 1.5, (Stage(20000.0, 2500.0, 110.0, 250.0),))
SOHAE = (39.66, 124.70)

# Tsiolkovsky with gravity, drag and rotation off: RK4 integrates the thrust acceleration, a function of time only,
# with Simpson's error, ~1e-12 of the speed at a 0.5 s step
TSIOLKOVSKY_REL_TOL = 1e-9
# vertical ascent in uniform gravity against the closed form
VERTICAL_ALT_TOL_M = 1e-4
VERTICAL_SPEED_TOL_M_S = 1e-6
VERTICAL_LATERAL_TOL_M = 1e-4
# against DOP853 (rtol 1e-10, atol 1e-6) of the same equations; measured at the default steps (0.5 s powered, 0.5 s
# substeps in the atmosphere): 2.2 m / 0.03 m/s at burnout and 65 m at the impact 11,800 km away for the liquid
# vehicle (error ~ step^4: 0.14 m / 0.002 m/s at 0.25 s); 0.014 m / 0.0007 m/s and 0.4 m for the short-range one
BURNOUT_POS_TOL_M = 100.0
BURNOUT_SPEED_TOL_M_S = 1.0
LIQUID_IMPACT_TOL_M = 1000.0
SRBM_IMPACT_TOL_M = 10.0
IMPACT_TIME_TOL_S = 0.1
# Hermite interpolation of the 1 s powered nodes against nodes every 0.5 s of the same integration (the same RK4
# steps): away from the kick's velocity jump
HERMITE_POS_TOL_M = 1.0
RANGE_TOL_M = 1.0  # max_range's golden-section result vs a sampled kick (the search's own kick tolerance is 1e-3 deg)


def _stages(t: StagedMissileType):
    return [(s.propellant_mass_kg, s.dry_mass_kg, s.burn_time_s, s.isp_s, s.coast_s) for s in t.stages]


def _vehicle(t: StagedMissileType, **changes) -> staged.StagedVehicles:
    v = staged.StagedVehicles.from_types([t])
    if not changes:
        return v
    fields = {f: getattr(v, f) for f in v.__dataclass_fields__}
    fields.update({k: np.broadcast_to(np.asarray(x, float), fields[k].shape).copy() for k, x in changes.items()})
    return staged.StagedVehicles(**fields)


def test_tsiolkovsky_two_stages_with_coast():
    """Gravity, drag and rotation off: the burnout speed is sum isp g0 ln(m0/mf) over the stages (Tsiolkovsky), the
    dry mass of stage 1 dropped before the coast, whatever the kick (the thrust stays along the velocity)."""
    v = _vehicle(LIQUID, drag_coefficient=0.0, ballistic_coefficient_kg_m2=np.inf)
    f = staged.fly(NO_GRAVITY, v, 40.0, 125.0, 0.0, [90.0, 45.0], [0.0, 5.0], want_nodes=False, max_flight_s=100.0)
    m0 = LIQUID.liftoff_mass_kg
    expect = 0.0
    for s in LIQUID.stages:
        expect += s.isp_s * G0 * math.log(m0 / (m0 - s.propellant_mass_kg))
        m0 -= s.propellant_mass_kg + s.dry_mass_kg
    assert expect == pytest.approx(9130.77, abs=0.01)  # 2843.9 ln(69.5/19.5) + 3138.1 ln(14.5/2.5) m/s
    assert np.all(f.status == staged.NO_IMPACT)  # no gravity: it never comes down
    np.testing.assert_allclose(f.burnout_speed_m_s, expect, rtol=TSIOLKOVSKY_REL_TOL)
    np.testing.assert_allclose(f.burnout_time_s, 275.0, rtol=0, atol=1e-12)


@pytest.mark.kernels
def test_vertical_ascent_in_uniform_gravity():
    """Kick 0, no drag, no rotation, uniform gravity g along the launch point's down: the altitude along the launch
    up is h(t) = c (t + (m/mdot) ln(m/m0)) - g t^2/2 and the speed c ln(m0/m) - g t, c = isp g0, m = m0 - mdot t
    (the rocket equation with gravity, integrated in closed form); after burnout it falls back (an impact)."""
    g = 9.8
    v = _vehicle(SRBM, drag_coefficient=0.0, ballistic_coefficient_kg_m2=np.inf)
    f = staged.fly(NO_ROTATION, v, 30.0, 40.0, 0.0, 10.0, 0.0, uniform_gravity_m_s2=g)
    assert f.status[0] == staged.OK
    st = SRBM.stages[0]
    m0, mdot, c = SRBM.liftoff_mass_kg, st.mass_rate_kg_s, st.isp_s * G0
    nodes = f.powered_nodes[0, :f.powered_node_count[0]]
    t = nodes[:, 0]
    np.testing.assert_array_equal(t, np.arange(63.0))  # 0, 1, ..., 62 (burnout on the grid)
    m = m0 - mdot * t
    h = c * (t + m / mdot * np.log(m / m0)) - 0.5 * g * t**2
    speed = c * np.log(m0 / m) - g * t
    r_l = frames.geodetic_to_ecef(NO_ROTATION, 30.0, 40.0, 0.0)
    up = frames.enu_basis(30.0, 40.0)[2]
    d = nodes[:, 1:4] - r_l
    along = d @ up
    np.testing.assert_allclose(along, h, rtol=0, atol=VERTICAL_ALT_TOL_M)
    np.testing.assert_allclose(np.linalg.norm(d - along[:, None] * up, axis=1), 0.0, atol=VERTICAL_LATERAL_TOL_M)
    np.testing.assert_allclose(nodes[:, 4:] @ up, speed, rtol=0, atol=VERTICAL_SPEED_TOL_M_S)
    # free fall from burnout at constant g: back at the launch altitude after v/g + sqrt(v^2 + 2 g h)/g
    hb, vb = h[-1], speed[-1]
    t_fall = (vb + math.sqrt(vb * vb + 2 * g * hb)) / g
    assert f.impact_time_s[0] == pytest.approx(62.0 + t_fall, abs=1e-6)
    assert f.apogee_altitude_m[0] == pytest.approx(hb + vb * vb / (2 * g), abs=1e-3)


def _check_against_reference(t: StagedMissileType, kick: float, impact_tol_m: float):
    ref = fly_reference(WGS84, WGS84.gm_m3_s2, WGS84.j2, WGS84.omega_rad_s, _stages(t), t.payload_mass_kg,
                        t.drag_coefficient * t.reference_area_m2, t.vertical_rise_s, t.ballistic_coefficient_kg_m2,
                        *SOHAE, 90.0, kick)
    f = staged.fly(WGS84, staged.StagedVehicles.from_types([t]), *SOHAE, 0.0, 90.0, kick)
    assert f.status[0] == staged.OK
    assert f.burnout_time_s[0] == ref["burnout_t"]
    assert np.linalg.norm(f.burnout_r_ecef[0] - ref["burnout_r"]) < BURNOUT_POS_TOL_M
    assert abs(f.burnout_speed_m_s[0] - np.linalg.norm(ref["burnout_v"])) < BURNOUT_SPEED_TOL_M_S
    assert np.linalg.norm(f.burnout_v_ecef[0] - ref["burnout_v"]) < BURNOUT_SPEED_TOL_M_S
    assert np.linalg.norm(f.impact_r_ecef[0] - ref["impact_r"]) < impact_tol_m
    assert f.impact_time_s[0] == pytest.approx(ref["impact_t"], abs=IMPACT_TIME_TOL_S)
    return f


def test_liquid_two_stage_against_dop853():
    """The scenario example's two-stage liquid vehicle, rotation and J2 on, kick 0.5 deg east from Sohae: an ICBM
    flight of 11,800 km (this weak booster's gravity turn is very sensitive: 1 deg of kick already flattens it into
    a near-orbit)."""
    f = _check_against_reference(LIQUID, 0.5, LIQUID_IMPACT_TOL_M)
    assert 11.0e6 < f.ground_range_m[0] < 12.5e6


@pytest.mark.kernels
def test_short_range_against_dop853():
    """A single-stage short-range flight (kick 20 deg) whose apogee (65 km) and whole flight stay inside the
    atmosphere: drag in every step, the re-entry substeps, the apogee found inside a substep."""
    f = _check_against_reference(SRBM, 20.0, SRBM_IMPACT_TOL_M)
    assert 200e3 < f.ground_range_m[0] < 300e3
    assert 50e3 < f.apogee_altitude_m[0] < 80e3


def test_node_conventions_and_hermite():
    """Powered nodes every second from launch, the burnout state last; free-flight nodes every step_s from burnout,
    the impact last; interpolated powered positions between the 1 s nodes agree with nodes every 0.5 s."""
    kicks = [0.5, 0.37]
    cut = [np.nan, 262.3]
    v = staged.StagedVehicles.from_types([LIQUID])
    f = staged.fly(WGS84, v, *SOHAE, 0.0, 90.0, kicks, cut)
    assert np.all(f.status == staged.OK)
    for i in range(2):
        p = f.powered_nodes[i, :f.powered_node_count[i]]
        t_bo = f.burnout_time_s[i]
        assert t_bo == (275.0 if i == 0 else 262.3)
        whole = np.arange(0.0, t_bo, 1.0)
        expect_t = whole if whole[-1] == t_bo else np.r_[whole, t_bo]
        np.testing.assert_array_equal(p[:, 0], expect_t)
        np.testing.assert_array_equal(p[-1, 1:4], f.burnout_r_ecef[i])
        q = f.nodes[i, :f.node_count[i]]
        assert q[0, 0] == t_bo
        np.testing.assert_array_equal(q[0, 1:], p[-1, 1:])
        np.testing.assert_allclose(np.diff(q[:-1, 0]), f.step_s, rtol=0, atol=1e-9)
        assert q[-1, 0] == f.impact_time_s[i]
        np.testing.assert_array_equal(q[-1, 1:4], f.impact_r_ecef[i])
        _, _, alt = frames.ecef_to_geodetic(WGS84, q[-1, 1:4])
        assert abs(alt) < 1e-3
    fine = staged.fly(WGS84, v, *SOHAE, 0.0, 90.0, kicks, cut, node_step_s=0.5)
    for i in range(2):
        pf = fine.powered_nodes[i, :fine.powered_node_count[i]]
        half = pf[(pf[:, 0] % 1.0 == 0.5) & (pf[:, 0] > 11.0)]  # away from the kick at 10 s
        got = f.position_ecef(np.full(len(half), i), half[:, 0])
        assert np.max(np.linalg.norm(got - half[:, 1:4], axis=1)) < HERMITE_POS_TOL_M
    # the same integration: the shared node times carry the same states
    np.testing.assert_allclose(fine.powered_nodes[0, ::2][:f.powered_node_count[0] - 1, 1:4],
                               f.powered_nodes[0, :f.powered_node_count[0] - 1, 1:4], rtol=0, atol=1e-6)


def test_cutoff_reduces_the_burnout_speed():
    """Thrust termination of the last stage at t_c: the earlier, the slower at burnout (strictly), and t_c at or
    after the end of the full burn is the full burn."""
    v = staged.StagedVehicles.from_types([LIQUID])
    cut = np.array([160.0, 180.0, 200.0, 220.0, 240.0, 260.0, 274.0, 275.0, 400.0, np.nan])
    f = staged.fly(WGS84, v, *SOHAE, 0.0, 90.0, 0.5, cut, want_nodes=False)
    speed = f.burnout_speed_m_s
    assert np.all(np.diff(speed[:8]) > 0)
    np.testing.assert_array_equal(f.burnout_time_s, np.minimum(np.nan_to_num(cut, nan=275.0), 275.0))
    assert speed[7] == speed[8] == speed[9]


@pytest.mark.kernels
def test_too_large_a_kick_crashes():
    """The liquid vehicle (lift-off thrust/weight 1.39) kicked by 10 deg falls back before burnout: status
    CRASHED, its burnout and impact NaN, no exception; the same vehicle kicked 0.3 deg flies."""
    v = staged.StagedVehicles.from_types([LIQUID])
    f = staged.fly(WGS84, v, *SOHAE, 0.0, 90.0, [10.0, 0.3], want_nodes=False)
    assert f.status.tolist() == [staged.CRASHED, staged.OK]
    assert np.isnan(f.burnout_time_s[0]) and np.isnan(f.impact_time_s[0]) and np.isnan(f.ground_range_m[0])
    assert np.isfinite(f.ground_range_m[1])


def test_max_range_beats_sampled_kicks_and_depends_on_the_azimuth():
    """max_range: at least the range of every sampled kick (a crash is no candidate), and east (with the Earth's
    rotation) differs from west."""
    v = staged.StagedVehicles.from_types([MRBM])
    rng, kick = staged.max_range(WGS84, v, *SOHAE, 0.0, [90.0, 270.0])
    kicks = np.linspace(1.0, 40.0, 40)
    for j, az in enumerate((90.0, 270.0)):
        f = staged.fly(WGS84, v, *SOHAE, 0.0, az, kicks, want_nodes=False)
        sampled = np.where(f.status == staged.OK, f.ground_range_m, -np.inf)
        assert rng[j] >= sampled.max() - RANGE_TOL_M
        again = staged.fly(WGS84, v, *SOHAE, 0.0, az, kick[j], want_nodes=False)
        assert again.ground_range_m[0] == pytest.approx(rng[j], abs=RANGE_TOL_M)
    assert 1000e3 < rng[1] < rng[0] < 3000e3
    assert rng[0] - rng[1] > 20e3  # the Earth's rotation helps eastward launches


def test_bad_vehicles_are_refused():
    bad = StagedMissileType("bad", 1000.0, 1.0, (Stage(1000.0, 100.0, 0.0, 250.0),))
    with pytest.raises(ValueError, match="burn time"):
        staged.StagedVehicles.from_types([bad])
    coast_first = StagedMissileType("c", 1000.0, 1.0, (Stage(1000.0, 100.0, 10.0, 250.0, coast_s=3.0),))
    with pytest.raises(ValueError, match="first stage"):
        staged.StagedVehicles.from_types([coast_first])
    with pytest.raises(ValueError, match="kick"):
        staged.fly(WGS84, staged.StagedVehicles.from_types([SRBM]), 0.0, 0.0, 0.0, 90.0, 95.0)
    with pytest.raises(ValueError, match="cut-off"):
        staged.fly(WGS84, staged.StagedVehicles.from_types([SRBM]), 0.0, 0.0, 0.0, 90.0, 5.0, 0.0)


def test_vehicles_of_different_stage_counts_fly_together():
    """Stages padded to the longest type: a batch of a one-stage and a two-stage type gives, number for number,
    what each gives alone."""
    both = staged.fly(WGS84, staged.StagedVehicles.from_types([SRBM, LIQUID]), *SOHAE, 0.0, [45.0, 90.0], [20.0, 0.5])
    for i, t in enumerate((SRBM, LIQUID)):
        alone = staged.fly(WGS84, staged.StagedVehicles.from_types([t]), *SOHAE, 0.0, [45.0, 90.0][i],
                           [20.0, 0.5][i])
        assert both.impact_time_s[i] == alone.impact_time_s[0]
        np.testing.assert_array_equal(both.impact_r_ecef[i], alone.impact_r_ecef[0])
        np.testing.assert_array_equal(both.powered_nodes[i, :both.powered_node_count[i]],
                                      alone.powered_nodes[0, :alone.powered_node_count[0]])


def test_free_flights_longer_than_the_first_node_capacity(monkeypatch):
    """Flights whose free flight needs more nodes than first allotted are flown again with room: the same nodes."""
    v = staged.StagedVehicles.from_types([LIQUID, SRBM])
    args = (WGS84, v, *SOHAE, 0.0, 90.0, [0.5, 20.0])
    full = staged.fly(*args)
    monkeypatch.setattr(staged, "FREE_NODES_GUESS_S", 400.0)
    short = staged.fly(*args)
    np.testing.assert_array_equal(short.node_count, full.node_count)
    assert full.node_count[0] > 400.0 // full.step_s + 3 > full.node_count[1]  # only the first is flown again
    np.testing.assert_array_equal(short.nodes, full.nodes)


# the radial altitude of the drag's density (threat/_staged_kernels.py, its bound's derivation): above the geodetic
# altitude by at most (1 / cos(d) - 1) h + (h d)^2 / (2 rho), d = e2 / (2 sqrt(1 - e2)), rho = b^2 / a
RADIAL_ALT_BOUND_M = 0.5  # at the atmosphere's top (86 km)


def test_radial_altitude_of_the_density_is_within_its_bound():
    from shieldlab.threat._staged_kernels import radial_altitude

    a, e2 = WGS84.a_m, WGS84.e2
    b = a * math.sqrt(1.0 - e2)
    d = e2 / (2.0 * math.sqrt(1.0 - e2))
    lat = np.linspace(-90.0, 90.0, 721)
    for h in (0.0, 1e3, 11e3, 40e3, 86e3):
        r = frames.geodetic_to_ecef(WGS84, lat, 0.0 * lat + 37.0, h)
        hr = np.array([radial_altitude(x, y, z, WGS84.kernel_params) for x, y, z in r])
        bound = (1.0 / math.cos(d) - 1.0) * h + (h * d) ** 2 / (2.0 * b * b / a) + 1e-6
        assert np.all(hr - h >= -1e-6)
        assert np.max(hr - h) <= bound
        if h > 0:
            assert np.max(hr - h) >= 0.5 * bound  # the bound is nearly reached at 45 deg (not a loose one)
    assert (1.0 / math.cos(d) - 1.0) * 86e3 + (86e3 * d) ** 2 / (2.0 * b * b / a) < RADIAL_ALT_BOUND_M
