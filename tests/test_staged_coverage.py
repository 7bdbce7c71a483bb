"""Coverage pairs of a staged missile (docs/models.md, The staged model; docs/scenario.md, [coverage]): warm-started
aiming (threat/staged_warm.py) whose result for a pair does not depend on the other pairs evaluated with it, and
that reaches the same aim points as aiming each pair on its own."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shieldlab.earth import geodesic
from shieldlab.earth.model import Earth
from shieldlab.scenario.parse import parse_scenario
from shieldlab.threat.build import threats_for_pairs

HIT_M = 100.0  # docs/models.md, Aiming modes: an impact within 100 m of the aim point hits it
# warm and cold solutions of one pair both hit; their min-energy cut-offs differ by the solvers' tolerances
# (kick within ~0.01 deg of the range's maximum, where the range is flat; impact within 10 m)
CUTOFF_TOL_S = 1e-3
MAX_RANGE_TOL_M = 100.0

# the two-stage liquid ICBM of tests/test_staged_engage.py (test data only), from Sohae towards a grid over the
# north-western United States and the Pacific: the far corner lies beyond its reach
DATA = {
    "name": "staged coverage test",
    "places": {"sohae": {"lat": 39.66, "lon": 124.71}, "greely": {"lat": 63.97, "lon": -145.73}},
    "missiles": {
        "liquid": {"model": "staged", "payload_mass": "1000 kg", "diameter": "2.2 m", "drag_coefficient": 0.3,
                   "vertical_rise": "10 s",
                   "stages": [{"propellant_mass": "40000 kg", "dry_mass": "4000 kg", "burn_time": "150 s",
                               "isp": "290 s"},
                              {"propellant_mass": "10500 kg", "dry_mass": "1500 kg", "burn_time": "100 s",
                               "isp": "315 s"}]}},
    "interceptors": {"gbi": {"model": "straight-boost", "burn_time": "120 s", "burnout_speed": "7 km/s",
                             "min_altitude": "100 km"}},
    "sensors": [{"name": "greely-radar", "at": "greely", "max_range": "4000 km"}],
    "batteries": [{"name": "greely", "at": "greely", "interceptor": "gbi", "launch_delay": "60 s"}],
    "coverage": {"missile": "liquid", "trajectory": "min-energy", "from": ["sohae"],
                 "to": {"lat": [40, 48], "lon": [-140, -80], "step": "4 deg"}},
}


@pytest.fixture(scope="module")
def case():
    sc = parse_scenario(json.loads(json.dumps(DATA)), "staged-coverage-test.toml")
    return sc, Earth.from_spec(sc.earth)


FIELDS = ("azimuth0_deg", "kick_deg", "cutoff_s", "impact_lat_deg", "impact_lon_deg", "max_range_m")


@pytest.fixture(scope="module")
def whole(case):
    sc, earth = case
    return threats_for_pairs(sc, earth, np.arange(48))


def test_a_pair_does_not_depend_on_the_chunks(case, whole):
    sc, earth = case
    for chunk in (np.arange(5, 13), np.array([37, 3, 22]), np.arange(30, 48)):
        part = threats_for_pairs(sc, earth, chunk)
        for f in FIELDS:
            np.testing.assert_array_equal(getattr(part, f), getattr(whole, f)[chunk], err_msg=f)
        assert part.error == tuple(whole.error[i] for i in chunk)


def test_warm_pairs_hit_and_agree_with_pairs_aimed_alone(case, whole):
    sc, earth = case
    ok = np.array([e is None for e in whole.error])
    assert 10 < ok.sum() < 48  # most aim points reachable, the far corner not
    _, miss = geodesic.inverse(earth, whole.impact_lat_deg[ok], whole.impact_lon_deg[ok],
                               whole.aim_lat_deg[ok], whole.aim_lon_deg[ok])
    assert np.all(miss <= HIT_M)
    some = np.arange(0, 48, 5)
    cold = threats_for_pairs(sc, earth, some, warm=False)
    assert [e is None for e in cold.error] == list(ok[some])
    good = ok[some]
    np.testing.assert_allclose(cold.cutoff_s[good], whole.cutoff_s[some][good], atol=CUTOFF_TOL_S)
    np.testing.assert_allclose(cold.max_range_m[good], whole.max_range_m[some][good], atol=MAX_RANGE_TOL_M)
