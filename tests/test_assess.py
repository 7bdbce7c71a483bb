"""`shieldlab assess`: fitting a missile type to a flight test and its reach (docs/models.md, Assessing a missile
from a flight test; Assessment: numerical methods).

Synthetic truth: a flight of a known type with known free parameters is flown, its apogee, flight time and ground
range become the observations, and the fit must give the parameters back with residuals of about zero.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from shieldlab import catalog
from shieldlab.api import AssessResult, ScenarioError, assess, load_scenario_text
from shieldlab.assess import flights
from shieldlab.assess.run import SWEEP_AZIMUTHS_DEG
from shieldlab.earth import geodesic
from shieldlab.earth.model import Earth
from shieldlab.scenario.model import EarthSpec
from shieldlab.threat import staged

# tolerances of the recovered parameters (docs/models.md, How the models are validated: Assessment tests)
KICK_TOL_DEG = 0.002
PAYLOAD_TOL_KG = 1.0
SPEED_TOL_M_S = 0.5
GAMMA_TOL_DEG = 0.002
RESIDUAL_TOL_SIGMA = 0.01
PLACE_MARGIN = 0.02  # places nearer the contour than this fraction of the reach are not compared (interpolation)

EARTH = Earth.from_spec(EarthSpec())
STAGED_TYPE = "hwasong-14-class"
STAGED_FROM = "mupyong-ni"
STAGED_AZ_DEG, STAGED_KICK_DEG, STAGED_PAYLOAD_KG = 83.0, 0.5, 650.0
BO_T_S, BO_H_M, BO_D_M = 180.0, 200e3, 350e3
BO_FROM = "sohae"
BO_AZ_DEG, BO_SPEED_M_S, BO_GAMMA_DEG = 90.0, 6500.0, 65.0


def _staged_truth():
    mt = catalog.get("missiles", STAGED_TYPE).model
    vehicle = staged.StagedVehicles.from_types([mt])
    obs, _ = flights.staged_flights(EARTH, vehicle, catalog.get("places", STAGED_FROM).model, STAGED_AZ_DEG,
                                    STAGED_KICK_DEG, STAGED_PAYLOAD_KG)
    return float(obs.apogee_m[0]), float(obs.flight_time_s[0]), float(obs.ground_range_m[0])


def _burnout_truth():
    obs = flights.burnout_flights(EARTH, catalog.get("places", BO_FROM).model, BO_AZ_DEG, BO_T_S, BO_H_M, BO_D_M,
                                  BO_SPEED_M_S, BO_GAMMA_DEG)
    return float(obs.apogee_m[0]), float(obs.flight_time_s[0]), float(obs.ground_range_m[0])


def _burnout_impact():
    obs = flights.burnout_flights(EARTH, catalog.get("places", BO_FROM).model, BO_AZ_DEG, BO_T_S, BO_H_M, BO_D_M,
                                  BO_SPEED_M_S, BO_GAMMA_DEG)
    return float(obs.impact_lat_deg[0]), float(obs.impact_lon_deg[0])


BURNOUT_TYPE = f"""
[missiles.test-burnout]
burn_time = {BO_T_S}
burnout_altitude = {BO_H_M}
burnout_range = {BO_D_M}
"""


def _table(name, missile, place, az, obs, extra=""):
    a, t, r = obs
    return (f'[[assessments]]\nname = "{name}"\nmissile = "{missile}"\nfrom = "{place}"\nazimuth = {az}\n'
            f"observed = {{ apogee = {a!r}, flight_time = {t!r}, ground_range = {r!r} }}\n{extra}\n")


@pytest.fixture(scope="module")
def result() -> AssessResult:
    text = ('name = "synthetic"\n' + BURNOUT_TYPE
            + _table("staged", STAGED_TYPE, STAGED_FROM, STAGED_AZ_DEG, _staged_truth(), 'payloads = ["900 kg"]')
            + _table("impossible", "test-burnout", BO_FROM, BO_AZ_DEG, (100e3, 3600.0, 500e3))
            + _table("burnout", "test-burnout", BO_FROM, BO_AZ_DEG, _burnout_truth())
            + _table("aimed", "test-burnout", BO_FROM, BO_AZ_DEG, _burnout_truth()).replace(
                f"azimuth = {BO_AZ_DEG}", "to = {{ lat = {!r}, lon = {!r} }}".format(*_burnout_impact())))
    return assess(load_scenario_text(text, "synthetic.toml"))


def test_staged_fit_recovers_kick_and_payload(result) -> None:
    a = result["staged"]
    assert a.error is None and a.model == "staged"
    assert [f.kind for f in a.fits] == ["staged", "burnout-equivalent"]
    fit = a.fit("staged")
    assert abs(fit.parameter("kick") - STAGED_KICK_DEG) <= KICK_TOL_DEG
    assert abs(fit.parameter("payload_mass") - STAGED_PAYLOAD_KG) <= PAYLOAD_TOL_KG
    assert all(abs(o.residual_sigma) <= RESIDUAL_TOL_SIGMA for o in fit.observations)
    assert fit.unique


def test_staged_ranges(result) -> None:
    """The fitted payload's range along the azimuth is that of staged.max_range; a heavier payload flies less far;
    the burnout fit of the same burnout state re-aims the lofted test's slower burnout, so flies less far too
    (docs/models.md, Assessing a missile from a flight test: Two fits of a staged type)."""
    a = result["staged"]
    fit, eq = a.fit("staged"), a.fit("burnout-equivalent")
    mt = catalog.get("missiles", STAGED_TYPE).model
    veh = staged.StagedVehicles.from_types([mt]).with_payload(fit.parameter("payload_mass"))
    p = catalog.get("places", STAGED_FROM).model
    direct, _ = staged.max_range(EARTH, veh, p.lat_deg, p.lon_deg, 0.0, STAGED_AZ_DEG)
    assert fit.max_range_m == pytest.approx(float(direct[0]), rel=0.01)  # staged.max_range stops at 1e-3 deg
    (payload, heavier), = fit.payload_ranges
    assert payload == 900.0 and heavier < fit.max_range_m
    assert eq.max_range_m < fit.max_range_m
    # the burnout equivalent keeps the staged flight's burnout and reproduces the same test
    assert dict(eq.fixed)["burn_time"] == pytest.approx(dict(fit.burnout)["burn_time"])
    assert eq.parameter("burnout_speed") == pytest.approx(dict(fit.burnout)["burnout_speed"], rel=0.01)


def test_burnout_fit_recovers_speed_and_gamma(result) -> None:
    a = result["burnout"]
    assert a.error is None and [f.kind for f in a.fits] == ["burnout"]
    fit = a.fits[0]
    assert abs(fit.parameter("burnout_speed") - BO_SPEED_M_S) <= SPEED_TOL_M_S
    assert abs(fit.parameter("gamma") - BO_GAMMA_DEG) <= GAMMA_TOL_DEG
    assert all(abs(o.residual_sigma) <= RESIDUAL_TOL_SIGMA for o in fit.observations)
    assert fit.unique and fit.minima[0].reproduces


def test_an_observed_impact_point_gives_the_launch_azimuth(result) -> None:
    """With `to`, the launch azimuth is turned until the model's impact lies in the observed direction (docs/models.md,
    Assessment: numerical methods): the truth's azimuth and parameters come back."""
    a = result["aimed"]
    assert a.error is None and a.spec.azimuth_deg is None
    assert abs(a.azimuth_deg - BO_AZ_DEG) <= 0.02  # the turn is corrected to 0.01 deg
    fit = a.fits[0]
    assert abs(fit.parameter("burnout_speed") - BO_SPEED_M_S) <= SPEED_TOL_M_S
    assert abs(fit.parameter("gamma") - BO_GAMMA_DEG) <= GAMMA_TOL_DEG


def test_an_impossible_test_is_an_error_and_the_rest_goes_on(result) -> None:
    a = result["impossible"]
    assert a.fits == () and "reproduce the test" in a.error and "sigma" in a.error and "km/s" in a.error
    assert result["burnout"].error is None  # assessed after it


def test_rotation_makes_the_reach_longer_east_than_west(result) -> None:
    for name in ("burnout", "staged"):
        reach = result[name].fits[0].reach
        r = dict(zip(reach.azimuths_deg, reach.max_range_m))
        assert r[90.0] > r[270.0], name
        assert reach.greatest[0] >= r[90.0] and reach.least[0] <= r[270.0]
        assert reach.azimuths_deg == tuple(SWEEP_AZIMUTHS_DEG)


def test_places_within_reach_agree_with_flights_along_their_azimuths(result) -> None:
    fit = result["burnout"].fits[0]
    launch = catalog.get("places", BO_FROM).model
    places = [e.model for e in catalog.entries("places") if e.name != BO_FROM]
    plat = np.array([p.lat_deg for p in places])
    plon = np.array([p.lon_deg for p in places])
    az_p, d_p = geodesic.inverse(EARTH, np.full(plat.size, launch.lat_deg), np.full(plat.size, launch.lon_deg),
                                 plat, plon)
    v = fit.parameter("burnout_speed")
    az = np.array(az_p, float)
    for _ in range(3):  # the launch azimuth whose maximum-range flight ends in the place's direction
        _, reach, end = flights.burnout_max_range(EARTH, launch, az, BO_T_S, BO_H_M, BO_D_M, v)
        a_end, _ = geodesic.inverse(EARTH, np.full(az.size, launch.lat_deg), np.full(az.size, launch.lon_deg),
                                    end.impact_lat_deg, end.impact_lon_deg)
        az = az + ((az_p - a_end + 180.0) % 360.0 - 180.0)
    listed = {p.name for p in fit.reach.places}
    clear = np.abs(d_p - reach) > PLACE_MARGIN * reach
    assert clear.sum() >= 20
    for p, d, r, ok in zip(places, d_p, reach, clear):
        if ok:
            assert (p.name in listed) == (d <= r), (p.name, d, r)
    assert listed and len(listed) < len(places)  # some in reach, some not: the check can fail


def test_json_document(result) -> None:
    doc = result.to_document()
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text) == doc
    assert list(doc) == ["shieldlab_version", "scenario", "source", "earth", "assessments"]
    names = [a["name"] for a in doc["assessments"]]
    assert names == ["staged", "impossible", "burnout", "aimed"]
    st = doc["assessments"][0]
    assert st["observed"]["apogee_km"] == pytest.approx(_staged_truth()[0] / 1e3)
    fit = st["fits"][0]
    assert set(fit) >= {"kind", "parameters", "fixed", "burnout", "observations", "unique", "minima",
                        "max_range_km", "max_range_kick_deg", "payload_ranges", "reach"}
    assert fit["parameters"]["payload_mass_kg"] == pytest.approx(STAGED_PAYLOAD_KG, abs=PAYLOAD_TOL_KG)
    assert len(fit["reach"]["azimuths"]) == 72
    assert [o["observation"] for o in fit["observations"]] == ["apogee", "flight_time", "ground_range"]
    assert doc["assessments"][1]["error"] and doc["assessments"][1]["fits"] == []
    assert "assessments" in repr(result)


def test_a_scenario_without_assessments_is_refused() -> None:
    with pytest.raises(ScenarioError, match="assessments"):
        assess(load_scenario_text('[[threats]]\nname = "t"\nmissile = "icbm-solid"\nfrom = "kozelsk"\n'
                                  'to = "washington"\n', "none.toml"))


# ---- the command ---------------------------------------------------------------------------------------------------

BURNOUT_FILE = 'name = "cli-assess"\n' + BURNOUT_TYPE + _table("burnout", "test-burnout", BO_FROM, BO_AZ_DEG,
                                                               tuple(round(x) for x in _burnout_truth()))


@pytest.mark.parametrize("text, args, fragment", [
    ('name = "x"\n[[threats]]\nname = "t"\nmissile = "icbm-solid"\nfrom = "kozelsk"\nto = "washington"\n', (),
     "assessments"),
    ('[[assessments]]\ntest = "hwasong-15-2017-11-2"\n', (), "'hwasong-15-2017-11-29'"),
    ('[[assessments]]\ntest = "hwasong-15-2017-11-29"\npayloads = ["-1 kg"]\n', (), "payloads"),
    (BURNOUT_FILE, ("--out", "reach.txt"), "unknown output format"),
])
def test_bad_input_exits_2(shieldlab_cli, toml_file, tmp_path, text, args, fragment) -> None:
    path = toml_file(text, "bad.toml")
    args = tuple(str(tmp_path / a) if a.endswith(".txt") else a for a in args)
    run = shieldlab_cli("assess", path, *args)
    assert run.returncode == 2, run.stderr
    assert fragment in run.stderr and "Traceback" not in run.stderr and run.stdout == ""


def test_out_files_and_json(shieldlab_cli, toml_file, tmp_path) -> None:
    import matplotlib.image

    path = toml_file(BURNOUT_FILE, "ok.toml")
    png, gj = tmp_path / "reach.png", tmp_path / "reach.geojson"
    run = shieldlab_cli("assess", path, "--json", "--out", png, "--out", gj)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["assessments"][0]["error"] is None
    image = matplotlib.image.imread(png)
    assert image.ndim == 3 and image.shape[0] > 300
    fc = json.loads(gj.read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection"
    kinds = [f["properties"]["kind"] for f in fc["features"]]
    assert "launch" in kinds and "reach" in kinds
    reach = next(f for f in fc["features"] if f["properties"]["kind"] == "reach")
    assert reach["geometry"]["type"] == "MultiLineString"
    points = [pt for line in reach["geometry"]["coordinates"] for pt in line]
    assert len(points) >= 72
    assert all(-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0 for x, y in points)
    assert reach["properties"]["greatest_max_range_km"] == pytest.approx(
        doc["assessments"][0]["fits"][0]["reach"]["greatest"]["max_range_km"])
    table = shieldlab_cli("assess", path, columns="160")
    assert table.returncode == 0 and "burnout fit" in table.stdout and "unique" in table.stdout
    assert math.isfinite(doc["assessments"][0]["fits"][0]["max_range_km"])
