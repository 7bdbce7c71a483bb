"""Staged threats through the whole engine (docs/models.md, The staged model; Boost-phase intercepts): aiming
modes, the ascent seen by radars and batteries, the JSON additions, and burnout threats unchanged beside them."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from shieldlab import api
from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.output.jsonout import engage_document
from shieldlab.scenario.parse import parse_scenario
from shieldlab.threat import staged

HIT_M = 100.0  # docs/models.md, Aiming modes: an impact within 100 m of the aim point hits it

# a two-stage liquid ICBM (the shape of the APS 2003 generic liquid ICBM: ~250 s of boost); test data only
BASE = {
    "name": "staged test",
    "places": {"sohae": {"lat": 39.66, "lon": 124.71}, "seattle": {"lat": 47.61, "lon": -122.33},
               "greely": {"lat": 63.97, "lon": -145.73}, "near": {"lat": 40.5, "lon": 126.0}},
    "missiles": {
        "liquid": {"model": "staged", "payload_mass": "1000 kg", "diameter": "2.2 m", "drag_coefficient": 0.3,
                   "vertical_rise": "10 s",
                   "stages": [{"propellant_mass": "40000 kg", "dry_mass": "4000 kg", "burn_time": "150 s",
                               "isp": "290 s"},
                              {"propellant_mass": "10500 kg", "dry_mass": "1500 kg", "burn_time": "100 s",
                               "isp": "315 s"}]},
        "icbm": {"model": "burnout", "burn_time": "180 s", "burnout_altitude": "200 km", "burnout_range": "350 km",
                 "burnout_speed": "7 km/s"},
    },
    "interceptors": {"gbi": {"model": "straight-boost", "burn_time": "120 s", "burnout_speed": "7 km/s",
                             "min_altitude": "100 km"},
                     "fast": {"model": "straight-boost", "burn_time": "40 s", "burnout_speed": "5 km/s"}},
    "sensors": [{"name": "greely-radar", "at": "greely", "max_range": "4000 km"}],
    "batteries": [{"name": "greely", "at": "greely", "interceptor": "gbi", "launch_delay": "60 s"}],
    "threats": [
        {"name": "me", "missile": "liquid", "from": "sohae", "to": "seattle"},
        {"name": "lofted", "missile": "liquid", "from": "sohae", "to": "seattle", "trajectory": "lofted"},
        {"name": "depressed", "missile": "liquid", "from": "sohae", "to": "seattle", "trajectory": "depressed"},
    ],
}


def scenario(**changes):
    data = json.loads(json.dumps(BASE))
    data.update(changes)
    return parse_scenario(data, "staged-test.toml")


@pytest.fixture(scope="module")
def modes():
    return api.engage(scenario())


def test_every_mode_hits_the_aim_point(modes):
    fl = modes.flights
    E = Earth.from_spec(modes.scenario.earth)
    _, miss = geodesic.inverse(E, fl.impact_lat_deg, fl.impact_lon_deg, 47.61, -122.33)
    assert all(e is None for e in fl.error)
    assert np.all(miss <= HIT_M)


def test_mode_ordering(modes):
    """Lofted: the steeper ascent (smaller kick) and the higher apogee; depressed the reverse; the min-energy
    trajectory cuts the last stage off inside its burn (150 s .. 250 s after launch)."""
    fl = modes.flights
    me, lofted, depressed = 0, 1, 2
    assert fl.kick_deg[lofted] < fl.kick_deg[depressed]
    assert fl.apogee_altitude_m[lofted] > fl.apogee_altitude_m[me] > fl.apogee_altitude_m[depressed]
    assert 150.0 < fl.cutoff_s[me] < 250.0
    assert np.isnan(fl.cutoff_s[lofted]) and np.isnan(fl.cutoff_s[depressed])
    # burnout at the cut-off; a full burn's at 250 s
    assert fl.burnout_time_s[me] == pytest.approx(fl.cutoff_s[me], abs=1e-9)
    assert fl.burnout_time_s[lofted] == pytest.approx(250.0, abs=1e-9)


def test_min_energy_cutoff_is_the_least(modes):
    """docs/models.md, The staged model: the least cut-off with an impact at A. A cut-off 1 s earlier reaches
    less far than the aim point over every kick (its maximum range, searched by staged.max_range)."""
    sc, fl = modes.scenario, modes.flights
    E = Earth.from_spec(sc.earth)
    veh = staged.StagedVehicles.from_types([sc.missiles["liquid"]])
    _, d = geodesic.inverse(E, 39.66, 124.71, 47.61, -122.33)
    r_short, _ = staged.max_range(E, veh, 39.66, 124.71, 0.0, fl.launch_azimuth_deg[0], cutoff_s=fl.cutoff_s[0] - 1.0)
    r_same, _ = staged.max_range(E, veh, 39.66, 124.71, 0.0, fl.launch_azimuth_deg[0], cutoff_s=fl.cutoff_s[0])
    assert r_short[0] < d - 10e3
    assert r_same[0] == pytest.approx(d, abs=2e3)  # the kick search's tolerance (staged.KICK_TOL_DEG)


def test_powered_positions_are_the_ascent(modes):
    """Between launch and burnout a staged threat is where its integrated ascent puts it (the nodes of
    staged.fly), not on the burnout model's geodesic rule."""
    th = modes.threats
    sc = modes.scenario
    E = th.earth
    veh = staged.StagedVehicles.from_types([sc.missiles["liquid"]])
    i = 1
    f = staged.fly(E, veh, th.launch_lat_deg[i], th.launch_lon_deg[i], 0.0, th.azimuth0_deg[i], th.kick_deg[i])
    tau = np.array([5.0, 60.0, 149.5, 200.0, 249.0])
    ref = f.position_ecef(np.zeros(tau.size, int), tau)
    got = th.position_ecef(np.full(tau.size, i), th.launch_time_s[i] + tau)
    assert np.max(np.linalg.norm(got - ref, axis=-1)) < 1e-6
    # the altitude at 60 s is that of a rocket low in the atmosphere, not (60/250)^2 of the burnout altitude
    _, _, h = frames.ecef_to_geodetic(E, got[1:2])
    assert 5e3 < h[0] < 60e3


def test_radar_sees_the_ascent():
    """A radar 150 km from the launch point sees the rocket climb over its horizon during the first stage."""
    sc = scenario(sensors=[{"name": "close", "at": "near", "max_range": "3000 km"}],
                  threats=[BASE["threats"][1]])
    res = api.engage(sc)
    t_det = res.detections.time_s[0, 0]
    assert 0.0 < t_det < 150.0
    # at detection the threat is just above the radar's horizon (min_elevation 0)
    th = res.threats
    p = th.position_ecef([0], [t_det])
    E = th.earth
    site = frames.geodetic_to_ecef(E, 40.5, 126.0, 0.0)
    e, n, u = frames.enu_basis(40.5, 126.0)
    el = np.degrees(np.arcsin(((p - site) @ u) / np.linalg.norm(p - site)))
    assert abs(el[0]) < 0.2


def test_boost_phase_battery_intercepts_in_powered_flight():
    """docs/models.md, Boost-phase intercepts: with boost_phase a battery near the launch may intercept before
    burnout; without it its first intercept is at or after burnout."""
    bats = [{"name": "boost", "at": "near", "interceptor": "fast", "cue": "launch", "launch_delay": "30 s",
             "boost_phase": True},
            {"name": "plain", "at": "near", "interceptor": "fast", "cue": "launch", "launch_delay": "30 s"}]
    res = api.engage(scenario(batteries=bats, threats=[BASE["threats"][1]]))
    eng, fl = res.engagements, res.flights
    assert eng.feasible[0, 0]
    assert eng.first.time_s[0, 0] < fl.burnout_time_s[0]
    assert eng.first.time_s[0, 1] >= fl.burnout_time_s[0] - 1e-6 or not eng.feasible[0, 1]
    assert eng.latest_launch_s[0, 0] >= np.nan_to_num(eng.latest_launch_s[0, 1], nan=-np.inf)


def test_json_additions_and_burnout_threats_unchanged():
    mixed = scenario(threats=[BASE["threats"][1], {"name": "b", "missile": "icbm", "from": "sohae", "to": "seattle"}])
    alone = scenario(threats=[{"name": "b", "missile": "icbm", "from": "sohae", "to": "seattle"}])
    doc_m = engage_document(api.engage(mixed))
    doc_a = engage_document(api.engage(alone))
    st, bm = doc_m["threats"]
    assert st["max_range_km"] > st["ground_range_km"] > 8000
    assert st["kick_deg"] > 0 and st["cutoff_s"] is None
    assert bm["max_range_km"] is None and bm["kick_deg"] is None and bm["cutoff_s"] is None
    assert bm == doc_a["threats"][0]


def test_out_of_reach_is_an_error_for_that_threat():
    far = {"name": "far", "missile": "liquid", "from": "sohae", "to": {"lat": -40.0, "lon": -60.0}}
    sc = scenario(threats=[far, BASE["threats"][1]])
    res = api.engage(sc)
    assert "beyond the missile's maximum range" in res.flights.error[0]
    assert res.flights.error[1] is None


def test_boost_window_reaches_burnout():
    """The ascent's window ends in the band at burnout: a battery that can still intercept there has its last
    ascent intercept at the burnout time exactly, and (with no launch delay) its first one before it. The
    ascent and free-flight windows join without a gap: the whole-flight first intercept is the ascent's."""
    from shieldlab.engagement import window
    from shieldlab.engagement.engage import battery_flyout
    from shieldlab.threat.trajectory import ascent_view

    bats = [{"name": "boost", "at": "near", "interceptor": "fast", "cue": "launch", "launch_delay": "0 s",
             "boost_phase": True}]
    res = api.engage(scenario(batteries=bats, threats=[BASE["threats"][1]]))
    th, sc = res.threats, res.scenario
    asc = window.evaluate(ascent_view(th), battery_flyout(sc, th.earth, sc.batteries[0]), np.zeros(1))
    assert asc.feasible[0]
    assert asc.last.time_s[0] == pytest.approx(th.burnout_time_s[0], abs=1e-9)
    assert asc.first.time_s[0] < th.burnout_time_s[0]
    assert res.engagements.first.time_s[0, 0] == pytest.approx(asc.first.time_s[0], abs=1e-9)


def test_free_flight_samples_end_exactly_at_the_end():
    """The last sample of a path is its end time exactly (tb + ns dt passes it by a rounding for about a fifth
    of random paths, which left that sample without a position; an ascent ends in the band at burnout)."""
    from shieldlab.engagement.scan import SAMPLE_S
    from shieldlab.threat._kernels import sample_free_flights

    res = api.engage(scenario(threats=[BASE["threats"][1]]))
    th = res.threats
    rng = np.random.default_rng(1)
    k = 200
    tb = rng.uniform(0.0, 500.0, k)
    ti = tb + rng.uniform(100.0, 1500.0, k)
    # the paths are those of threat 0 shifted in time; only the sample times are checked here
    nodes = np.repeat(th.nodes[:1], k, axis=0)
    count = np.repeat(th.node_count[:1], k)
    m = int(np.ceil((ti - tb).max() / SAMPLE_S)) + 2
    times, _, _ = sample_free_flights(nodes, count, th.step_s, np.arange(k, dtype=np.int64), tb, ti,
                                      np.full(k, np.nan), SAMPLE_S, m, th.earth.kernel_params)
    last = times[np.arange(k), np.sum(np.isfinite(times), axis=1) - 1]
    assert np.array_equal(last, ti)
