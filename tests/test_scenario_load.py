"""The scenario loader (shieldlab.scenario.load) and quantity parsing (shieldlab.units)."""

from __future__ import annotations

import math
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shieldlab.errors import MISSING, Problem, ScenarioError
from shieldlab.scenario.load import (MAX_FILE_BYTES, load_scenario, load_scenario_text, read_scenario_text,
                                     scenario_from_dict)
from shieldlab.scenario.model import AimGrid, Scenario
from shieldlab.units import QuantityError, parse_quantity


def _vectors_dir() -> Path:
    """The project's copy of the shared validation vectors (tests/vectors), or $SHIELDLAB_VECTORS."""
    env = os.environ.get("SHIELDLAB_VECTORS")
    return Path(env) if env else Path(__file__).resolve().parent / "vectors"


QUICK_S = 2.0  # a bound on the time of a refusal that must not read, parse or backtrack through much (CI headroom)

VECTORS = _vectors_dir()
VECTOR_FILES = sorted(VECTORS.glob("*/scenario.toml"))

# A small valid scenario that the malformed cases below change one thing in.
BASE = """
name = "base"

[places]
kozelsk = { lat = 54.035, lon = 36.013 }
washington = { lat = 38.9072, lon = -77.0369 }
redzikowo = { lat = 54.4728, lon = 17.1231 }

[missiles.icbm]
burn_time = "180 s"
burnout_altitude = "200 km"
burnout_range = "350 km"
burnout_speed = "7.0 km/s"

[missiles.nospeed]
burn_time = "180 s"
burnout_altitude = "200 km"
burnout_range = "350 km"

[interceptors.sm3]
burn_time = "60 s"
burnout_speed = "5.5 km/s"
min_altitude = "100 km"
max_altitude = "1500 km"

[[sensors]]
name = "fylingdales"
at = { lat = 54.3618, lon = -0.6701 }
max_range = "4800 km"
min_elevation = "3 deg"

[[batteries]]
name = "poland"
at = "redzikowo"
interceptor = "sm3"
launch_delay = "60 s"

[[threats]]
name = "k-w"
missile = "icbm"
from = "kozelsk"
to = "washington"
"""


def write(tmp_path: Path, text: str, name: str = "scen.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[Problem]:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def only_problem(tmp_path: Path, text: str) -> tuple[Problem, str]:
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0], str(problems[0])


# ---- quantities ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "dimension", "expected"),
    [
        ("5.5 km/s", "speed", 5500.0),
        ("10 ft/s", "speed", 3.048),
        ("36 km/h", "speed", 10.0),
        ("4800 km", "length", 4.8e6),
        ("2 nmi", "length", 3704.0),
        ("1 mi", "length", 1609.344),
        ("1000 ft", "length", 304.8),
        ("-2.5e3 m", "length", -2500.0),
        ("180 s", "time", 180.0),
        ("3 min", "time", 180.0),
        ("1.5 h", "time", 5400.0),
        ("3 deg", "angle", 3.0),
        (f"{math.pi} rad", "angle", 180.0),
        (350, "length", 350.0),
        (2.5, "time", 2.5),
        (-7, "angle", -7.0),
    ],
)
def test_parse_quantity(value: object, dimension: str, expected: float) -> None:
    assert parse_quantity(value, dimension) == pytest.approx(expected, rel=1e-12)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "dimension", "fragment"),
    [
        (True, "length", "a length such as"),
        (False, "time", "a time such as"),
        ("5 parsecs", "length", '"parsecs" is not a known unit'),
        ("5 s", "length", '"s" is a unit of time, not of length'),
        ("5 km", "speed", '"km" is a unit of length, not of speed'),
        ("350", "length", "needs a unit"),
        ("fast", "speed", "a speed such as"),
        (float("nan"), "time", "finite"),
        (float("inf"), "length", "finite"),
        ("1e999 km", "length", "finite"),
        ([1, 2], "angle", "an angle such as"),
    ],
)
def test_parse_quantity_rejects(value: object, dimension: str, fragment: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_quantity(value, dimension)  # type: ignore[arg-type]
    assert fragment in info.value.expected
    assert isinstance(info.value, ValueError)


def test_quantity_error_lists_units() -> None:
    with pytest.raises(QuantityError) as info:
        parse_quantity("5 parsecs", "length")
    assert info.value.expected.startswith('a length such as "350 km" or a number of metres (units: m, km, nmi, mi, ft)')


def test_quantity_parsing_is_linear_in_the_length_of_the_text() -> None:
    """A unit with a long run of spaces inside made the quantity pattern backtrack quadratically: "1 k" + 30,000
    spaces + "m" took 8 s (a 10 MB file could hold one of millions). Issue 11: a bound on the time of every load."""
    for text in ("1 k" + " " * 300_000 + "m", "1 k" + " " * 300_000 + "\nm", "1" * 300_000 + " x"):
        started = time.perf_counter()
        with pytest.raises(QuantityError):
            parse_quantity(text, "length")
        assert time.perf_counter() - started < QUICK_S, repr(text[:10])


def test_integer_beyond_any_float_is_a_quantity_error() -> None:
    with pytest.raises(QuantityError) as info:
        parse_quantity(10**400, "time")
    assert "a finite time" in info.value.expected


# ---- shared validation vectors --------------------------------------------------------------------------------


@pytest.mark.skipif(not VECTOR_FILES, reason=f"no validation vectors under {VECTORS}")
@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.parent.name)
def test_every_vector_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.name == path.parent.name
    assert scenario.threats
    assert scenario.source == str(path)


def _vector(name: str) -> Scenario:
    path = VECTORS / name / "scenario.toml"
    if not path.is_file():
        pytest.skip(f"no vector {path}")
    return load_scenario(path)


def test_vector_engagement_europe_values() -> None:
    s = _vector("engagement-europe")
    assert s.earth.model == "wgs84" and s.earth.rotation and s.earth.j2
    irbm = s.missiles["irbm"]
    assert (irbm.burn_time_s, irbm.burnout_altitude_m, irbm.burnout_range_m) == (120.0, 120e3, 150e3)
    assert irbm.burnout_speed_m_s == 5000.0
    fast = s.interceptors["fast"]
    assert (fast.burn_time_s, fast.burnout_speed_m_s) == (60.0, 4500.0)
    assert (fast.min_altitude_m, fast.max_altitude_m, fast.max_flight_time_s) == (100e3, 1200e3, None)
    (radar,) = s.sensors
    assert radar.name == "kurecik" and radar.at.alt_m == 2085.0 and radar.at.name == "kurecik"
    assert radar.max_range_m == 1.8e6 and radar.min_elevation_deg == 1.0 and radar.sector is None
    assert [b.name for b in s.batteries] == ["romania-fast", "poland-fast", "romania-slow"]
    assert s.batteries[0].launch_delay_s == 60.0 and s.batteries[0].cue == "track"
    assert s.batteries[2].interceptor == "slow"
    (threat,) = s.threats
    assert threat.launch.lat_deg == 35.234 and threat.aim is not None and threat.aim.name == "berlin"
    assert threat.trajectory.mode == "min-energy" and threat.launch_time_s == 0.0


def test_vector_radar_detection_sector() -> None:
    s = _vector("radar-detection")
    kurecik = s.sensors[0]
    assert kurecik.sector is not None
    assert (kurecik.sector.center_deg, kurecik.sector.half_width_deg) == (90.0, 60.0)
    assert [r.max_range_m for r in s.sensors] == [1.8e6, 4.8e6, 5.555e6]
    assert s.threats[0].aim is not None and s.threats[0].aim.lon_deg == -0.1278


def test_vector_aim_modes() -> None:
    s = _vector("aim-modes")
    modes = [(t.trajectory.mode, t.trajectory.gamma_deg) for t in s.threats]
    assert modes == [("min-energy", None), ("lofted", None), ("depressed", None), ("gamma", 20.0)]
    assert s.missiles["icbm"].burnout_speed_m_s == 6800.0


def test_vector_unaimed() -> None:
    s = _vector("wgs84-unaimed")
    ne, nw = s.threats
    assert ne.aim is None and (ne.azimuth_deg, ne.gamma_deg) == (40.0, 25.0)
    assert (nw.azimuth_deg, nw.gamma_deg, nw.launch_time_s) == (310.0, 35.0, 120.0)


def test_vector_sphere() -> None:
    s = _vector("kepler-sphere")
    assert (s.earth.model, s.earth.rotation, s.earth.j2) == ("sphere", False, False)
    assert s.threats[0].launch.name is None and s.threats[1].launch.name == "kozelsk"


# ---- valid files: defaults and normalisation -------------------------------------------------------------


def test_base_scenario_and_defaults(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, BASE))
    assert s.name == "base"
    assert s.earth.model == "wgs84" and s.earth.rotation and s.earth.j2
    assert s.missiles["nospeed"].burnout_speed_m_s is None
    assert s.missiles["icbm"].model == "burnout"
    assert s.interceptors["sm3"].model == "straight-boost"
    assert s.sensors[0].kind == "radar" and s.sensors[0].sector is None
    assert s.batteries[0].at.name == "redzikowo" and s.batteries[0].at.lat_deg == 54.4728
    assert s.coverage is None


def test_minimal_defaults(tmp_path: Path) -> None:
    text = """
[missiles.m]
burn_time = 100
burnout_altitude = 1e5
burnout_range = 0
[interceptors.i]
burn_time = 10
burnout_speed = 3000
[[batteries]]
name = "b"
at = { lat = 0, lon = 0 }
interceptor = "i"
"""
    s = load_scenario_text(text, "my-scen.toml")  # a part of a scenario: a file needs [[threats]] or [coverage]
    assert s.name == "my-scen"
    i = s.interceptors["i"]
    assert i.min_altitude_m == 0.0 and math.isinf(i.max_altitude_m) and i.max_flight_time_s is None
    b = s.batteries[0]
    assert (b.launch_delay_s, b.cue) == (0.0, "track")
    assert s.threats == ()


def test_empty_scenario_loads() -> None:
    s = load_scenario_text("", "empty.toml")
    assert s.name == "empty" and s.threats == () and s.coverage is None


def test_sphere_ignores_j2() -> None:
    s = load_scenario_text('[earth]\nmodel = "sphere"\nj2 = true\n')
    assert s.earth.model == "sphere" and s.earth.j2 is False


def test_angles_are_normalised(tmp_path: Path) -> None:
    text = BASE + """
[[sensors]]
name = "east"
at = { lat = 10, lon = 350, alt = "1 km" }
max_range = "1000 km"
azimuth = { center = "-90 deg", half_width = "180 deg" }

[[threats]]
name = "unaimed"
missile = "icbm"
from = { lat = -10, lon = 190 }
azimuth = "-30 deg"
gamma = "0.5 rad"
launch_time = "-2 min"
"""
    s = load_scenario(write(tmp_path, text))
    east = s.sensors[1]
    assert east.at.lon_deg == pytest.approx(-10.0) and east.at.alt_m == 1000.0
    assert east.sector is not None and east.sector.center_deg == pytest.approx(270.0)
    threat = s.threats[1]
    assert threat.launch.lon_deg == pytest.approx(-170.0)
    assert threat.azimuth_deg == pytest.approx(330.0)
    assert threat.gamma_deg == pytest.approx(math.degrees(0.5))
    assert threat.launch_time_s == -120.0


def test_coverage_grid_and_lists(tmp_path: Path) -> None:
    text = BASE + """
[coverage]
missile = "icbm"
trajectory = { gamma = "30 deg" }
from = ["kozelsk", { lat = 51.5, lon = 45.9 }]
to = { lat = [25, 50], lon = [-125, -65], step = "1 deg" }
"""
    s = load_scenario(write(tmp_path, text))
    cov = s.coverage
    assert cov is not None
    assert [p.name for p in cov.launch] == ["kozelsk", None]
    assert cov.trajectory.mode == "gamma" and cov.trajectory.gamma_deg == 30.0
    assert isinstance(cov.aim, AimGrid)
    assert (cov.aim.lat_min_deg, cov.aim.lat_max_deg, cov.aim.step_deg) == (25.0, 50.0, 1.0)
    assert cov.aim.size == 26 * 61
    assert cov.aim.lat_values()[-1] == 50.0

    text = BASE + '[coverage]\nmissile = "icbm"\nfrom = "kozelsk"\nto = ["washington", { lat = 40, lon = -80 }]\n'
    cov = load_scenario(write(tmp_path, text)).coverage
    assert cov is not None and len(cov.launch) == 1
    assert isinstance(cov.aim, tuple) and [p.name for p in cov.aim] == ["washington", None]


def test_scenario_from_dict() -> None:
    s = scenario_from_dict({"name": "d", "places": {"x": {"lat": 1, "lon": 2}}}, "mem")
    assert s.places["x"].lat_deg == 1.0 and s.places["x"].name == "x"
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"nmae": "d"}, "mem")
    assert "mem: (top level) key 'nmae'" in str(info.value)
    assert "did you mean 'name'?" in str(info.value)


# ---- malformed files: one test per case -----------------------------------------------------------------------


def test_latitude_91(tmp_path: Path) -> None:
    text = BASE.replace("kozelsk = { lat = 54.035", "kozelsk = { lat = 91")
    problem, message = only_problem(tmp_path, text)
    assert (problem.table, problem.key, problem.value) == ("places.kozelsk", "lat", 91)
    assert message == (
        f"{tmp_path / 'scen.toml'}: [places.kozelsk] key 'lat': got 91; "
        "expected a latitude between -90 and 90 deg"
    )


def test_latitude_91_inline(tmp_path: Path) -> None:
    text = BASE.replace('at = { lat = 54.3618, lon = -0.6701 }', 'at = { lat = 91.0, lon = -0.6701 }')
    problem, message = only_problem(tmp_path, text)
    assert (problem.table, problem.key) == ("sensors #1 (fylingdales)", "at.lat")
    assert "[sensors #1 (fylingdales)] key 'at.lat': got 91.0" in message


def test_negative_burn_time(tmp_path: Path) -> None:
    text = BASE.replace('burn_time = "180 s"', 'burn_time = "-5 s"', 1)
    problem, message = only_problem(tmp_path, text)
    assert message == (
        f"{tmp_path / 'scen.toml'}: [missiles.icbm] key 'burn_time': got \"-5 s\"; "
        "expected a time greater than 0 and at most 3,600 s"
    )


def test_unknown_key(tmp_path: Path) -> None:
    text = BASE.replace('burnout_range = "350 km"', 'burnout_rnage = "350 km"', 1)
    problems = problems_of(tmp_path, text)
    messages = [str(p) for p in problems]
    unknown = next(p for p in problems if p.key == "burnout_rnage")
    assert unknown.table == "missiles.icbm" and unknown.value == "350 km"
    assert "did you mean 'burnout_range'?" in str(unknown)
    assert "model, burn_time, burnout_altitude, burnout_range, burnout_speed" in unknown.expected
    # ... and the required key it replaced is missing.
    assert any("[missiles.icbm] key 'burnout_range': missing; expected a length" in m for m in messages)


@pytest.mark.parametrize(
    ("snippet", "table", "key"),
    [
        ('\ncolour = "red"\n', "", "colour"),
        ('\n[earth]\nmodle = "wgs84"\n', "earth", "modle"),
        ('\n[interceptors.x]\nburn_time = 1\nburnout_speed = 1\nthrust = 3\n', "interceptors.x", "thrust"),
        ('\n[[threats]]\nname="u"\nmissile="icbm"\nfrom={ lat=1, lon=2, height=3 }\nto="washington"\n',
         "threats #2 (u)", "from.height"),
        ('\n[[sensors]]\nname="s"\nat="kozelsk"\nmax_range=1\nazimuth={ centre=0, half_width=10 }\n',
         "sensors #2 (s)", "azimuth.centre"),
        ('\n[coverage]\nmissile="icbm"\nfrom="kozelsk"\nto={ lat=[0,1], lon=[0,1], step=1, stride=2 }\n',
         "coverage", "to.stride"),
        ('\n[[batteries]]\nname="c"\nat="kozelsk"\ninterceptor="sm3"\ndelay=3\n', "batteries #2 (c)", "delay"),
    ],
)
def test_unknown_keys_everywhere(tmp_path: Path, snippet: str, table: str, key: str) -> None:
    text = snippet + BASE if not snippet.lstrip().startswith("[") else BASE + snippet
    problems = problems_of(tmp_path, text)
    assert any(p.table == table and p.key == key and "only known keys" in p.expected for p in problems), problems


def test_unknown_place(tmp_path: Path) -> None:
    text = BASE.replace('to = "washington"', 'to = "washingtn"')
    problem, message = only_problem(tmp_path, text)
    assert (problem.table, problem.key, problem.value) == ("threats #1 (k-w)", "to", "washingtn")
    assert "[threats #1 (k-w)] key 'to': got \"washingtn\"" in message
    assert "known: kozelsk, redzikowo, washington" in message


def test_missile_without_speed_lofted(tmp_path: Path) -> None:
    text = BASE + """
[[threats]]
name = "lofted"
missile = "nospeed"
from = "kozelsk"
to = "washington"
trajectory = "lofted"
"""
    problem, message = only_problem(tmp_path, text)
    assert problem.table == "threats #2 (lofted)" and problem.value == "nospeed"
    assert "burnout_speed" in message and "[missiles.nospeed]" in message and "lofted" in message


def test_missile_without_speed_is_fine_for_min_energy_and_gamma(tmp_path: Path) -> None:
    text = BASE + """
[[threats]]
name = "me"
missile = "nospeed"
from = "kozelsk"
to = "washington"

[[threats]]
name = "g"
missile = "nospeed"
from = "kozelsk"
to = "washington"
trajectory = { gamma = "30 deg" }
"""
    assert len(load_scenario(write(tmp_path, text)).threats) == 3


def test_missile_without_speed_unaimed(tmp_path: Path) -> None:
    text = BASE + """
[[threats]]
name = "free"
missile = "nospeed"
from = "kozelsk"
azimuth = "90 deg"
gamma = "30 deg"
"""
    problem, message = only_problem(tmp_path, text)
    assert problem.table == "threats #2 (free)"
    assert "burnout_speed" in message and "nospeed" in message and "unaimed" in message


def test_missile_without_speed_coverage(tmp_path: Path) -> None:
    text = BASE + '[coverage]\nmissile = "nospeed"\ntrajectory = "depressed"\nfrom = "kozelsk"\nto = ["washington"]\n'
    problem, message = only_problem(tmp_path, text)
    assert problem.table == "coverage" and "burnout_speed" in message and "nospeed" in message


def test_bad_unit(tmp_path: Path) -> None:
    text = BASE.replace('max_range = "4800 km"', 'max_range = "5 parsecs"')
    problem, message = only_problem(tmp_path, text)
    assert (problem.table, problem.key, problem.value) == ("sensors #1 (fylingdales)", "max_range", "5 parsecs")
    assert '"parsecs" is not a known unit' in message
    assert "units: m, km, nmi, mi, ft" in message


def test_wrong_dimension(tmp_path: Path) -> None:
    text = BASE.replace('burnout_altitude = "200 km"', 'burnout_altitude = "5 s"', 1)
    problem, message = only_problem(tmp_path, text)
    assert (problem.table, problem.key, problem.value) == ("missiles.icbm", "burnout_altitude", "5 s")
    assert '"s" is a unit of time, not of length' in message


def test_bool_is_not_a_number(tmp_path: Path) -> None:
    text = BASE.replace('launch_delay = "60 s"', "launch_delay = true")
    problem, message = only_problem(tmp_path, text)
    assert problem.key == "launch_delay" and "got true" in message and "a time such as" in message


def test_bad_cue(tmp_path: Path) -> None:
    text = BASE.replace('launch_delay = "60 s"', 'launch_delay = "60 s"\ncue = "telepathy"')
    problem, message = only_problem(tmp_path, text)
    assert (problem.table, problem.key, problem.value) == ("batteries #1 (poland)", "cue", "telepathy")
    assert message.endswith('got "telepathy"; expected one of "track", "launch"')


def test_unknown_interceptor(tmp_path: Path) -> None:
    text = BASE.replace('interceptor = "sm3"', 'interceptor = "gbi"')
    problem, message = only_problem(tmp_path, text)
    assert (problem.table, problem.key, problem.value) == ("batteries #1 (poland)", "interceptor", "gbi")
    assert "[interceptors] (known: sm3)" in message


def test_unknown_missile(tmp_path: Path) -> None:
    text = BASE.replace('missile = "icbm"', 'missile = "scud"')
    problem, message = only_problem(tmp_path, text)
    assert problem.key == "missile" and "known: icbm, nospeed" in message


@pytest.mark.parametrize("section", ["sensors", "batteries", "threats"])
def test_duplicate_names(tmp_path: Path, section: str) -> None:
    extra = {
        "sensors": '[[sensors]]\nname = "fylingdales"\nat = "kozelsk"\nmax_range = "1 km"\n',
        "batteries": '[[batteries]]\nname = "poland"\nat = "kozelsk"\ninterceptor = "sm3"\n',
        "threats": '[[threats]]\nname = "k-w"\nmissile = "icbm"\nfrom = "kozelsk"\nto = "washington"\n',
    }[section]
    problem, message = only_problem(tmp_path, BASE + extra)
    assert problem.table.startswith(f"{section} #2") and problem.key == "name"
    assert f"{section} #1" in message and "not used by another" in message


def test_both_to_and_azimuth(tmp_path: Path) -> None:
    text = BASE.replace('to = "washington"', 'to = "washington"\nazimuth = "10 deg"')
    problem, message = only_problem(tmp_path, text)
    assert (problem.table, problem.key, problem.value) == ("threats #1 (k-w)", "azimuth", "10 deg")
    assert "not both" in message


def test_neither_to_nor_azimuth(tmp_path: Path) -> None:
    problem, message = only_problem(tmp_path, BASE.replace('to = "washington"', ""))
    assert problem.key == "to" and problem.value is MISSING and "key 'to': missing" in message


def test_unaimed_with_trajectory(tmp_path: Path) -> None:
    text = BASE.replace('to = "washington"', 'azimuth = 10\ngamma = 20\ntrajectory = "lofted"')
    problem, _ = only_problem(tmp_path, text)
    assert problem.key == "trajectory"


def test_gamma_95(tmp_path: Path) -> None:
    text = BASE.replace('to = "washington"', 'azimuth = "10 deg"\ngamma = "95 deg"')
    problem, message = only_problem(tmp_path, text)
    assert (problem.table, problem.key, problem.value) == ("threats #1 (k-w)", "gamma", "95 deg")
    assert "strictly between 0 and 90 deg" in message


def test_trajectory_gamma_95(tmp_path: Path) -> None:
    text = BASE.replace('to = "washington"', 'to = "washington"\ntrajectory = { gamma = "95 deg" }')
    problem, message = only_problem(tmp_path, text)
    assert problem.key == "trajectory.gamma" and "got \"95 deg\"" in message


def test_bad_trajectory(tmp_path: Path) -> None:
    text = BASE.replace('to = "washington"', 'to = "washington"\ntrajectory = "ballistic"')
    problem, message = only_problem(tmp_path, text)
    assert problem.key == "trajectory" and '"min-energy", "lofted", "depressed"' in message


def test_max_altitude_below_min(tmp_path: Path) -> None:
    text = BASE.replace('max_altitude = "1500 km"', 'max_altitude = "50 km"')
    problem, message = only_problem(tmp_path, text)
    assert problem.key == "max_altitude" and "greater than min_altitude" in message


def test_sector_and_elevation_bounds(tmp_path: Path) -> None:
    text = BASE.replace('min_elevation = "3 deg"', 'min_elevation = "90 deg"\nazimuth = { center = 0, half_width = 0 }')
    keys = {p.key for p in problems_of(tmp_path, text)}
    assert keys == {"min_elevation", "azimuth.half_width"}


def test_coverage_grid_too_large(tmp_path: Path) -> None:
    text = BASE + '[coverage]\nmissile="icbm"\nfrom="kozelsk"\nto={ lat=[-90,90], lon=[-180,180], step="0.01 deg" }\n'
    problem, message = only_problem(tmp_path, text)
    assert problem.key == "to.step" and "1,000,000" in message


def test_coverage_bad_lists(tmp_path: Path) -> None:
    text = BASE + '[coverage]\nmissile="icbm"\nfrom=[]\nto={ lat=[50, 25], lon=[0, 1], step=0 }\n'
    keys = {p.key for p in problems_of(tmp_path, text)}
    assert keys == {"from", "to.lat", "to.step"}


def test_wrong_types(tmp_path: Path) -> None:
    text = BASE.replace('name = "base"', 'name = 3\nthreats_ = 1') + '[earth]\nrotation = "yes"\n'
    problems = problems_of(tmp_path, text)
    found = {(p.table, p.key) for p in problems}
    assert {("", "name"), ("", "threats_"), ("earth", "rotation")} <= found


def test_toml_syntax_error(tmp_path: Path) -> None:
    problem, message = only_problem(tmp_path, BASE.replace("[missiles.icbm]", "[missiles.icbm"))
    assert problem.file == str(tmp_path / "scen.toml")
    assert message.startswith(f"{tmp_path / 'scen.toml'}: TOML syntax error:")
    assert "(at line 9, column 15)" in message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nope.toml")
    assert "nope.toml: cannot read the file" in str(info.value)


def test_several_problems_reported_together(tmp_path: Path) -> None:
    text = (
        BASE.replace("kozelsk = { lat = 54.035", "kozelsk = { lat = 91")
        .replace('burn_time = "180 s"', 'burn_time = "-5 s"', 1)
        .replace('interceptor = "sm3"', 'interceptor = "gbi"')
        .replace('max_range = "4800 km"', 'max_range = "5 s"')
    )
    problems = problems_of(tmp_path, text)
    where = [(p.table, p.key) for p in problems]
    assert where == [
        ("places.kozelsk", "lat"),
        ("missiles.icbm", "burn_time"),
        ("sensors #1 (fylingdales)", "max_range"),
        ("batteries #1 (poland)", "interceptor"),
    ]
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    lines = str(info.value).splitlines()
    assert len(lines) == 4 and all(line.startswith(f"{tmp_path / 'scen.toml'}: [") for line in lines)


# ---- hardening (issue 11): files and text no loader may fail on ------------------------------------------------

COVERAGE = '[coverage]\nmissile = "icbm"\n'


def only_file_problem(path: Path) -> str:
    """The one problem about the whole file (no table, no key) that loading `path` raises, as a message."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    problems = info.value.problems
    assert len(problems) == 1 and problems[0].table == "" and problems[0].key == "", "\n".join(map(str, problems))
    assert problems[0].file == os.fspath(path)
    return str(problems[0])


@pytest.mark.parametrize("opening,closing", [("[", "]"), ("{ b = ", " }")], ids=["arrays", "inline-tables"])
def test_deep_nesting_is_a_scenario_error(tmp_path: Path, opening: str, closing: str) -> None:
    """Item 2: `a = [[[…]]]` 5,000 deep (10 kB) raised RecursionError (a 500 through the web)."""
    text = "a = " + opening * 5000 + "1" + closing * 5000 + "\n"
    message = only_file_problem(write(tmp_path, text))
    assert "nested too deeply" in message and "expected the scenario's tables and values" in message
    with pytest.raises(ScenarioError, match="nested too deeply"):
        load_scenario_text(text, "deep.toml")


def test_deep_nesting_through_the_web_is_a_422() -> None:
    """Item 2 through `POST /api/engage`: a JSON error naming the problem, not a 500 text/plain."""
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from shieldlab.web.app import create_app

    text = "a = " + "[" * 5000 + "]" * 5000 + "\n"
    with TestClient(create_app()) as client:
        response = client.post("/api/engage", json={"scenario_toml": text, "filename": "deep.toml"})
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/json")
    (message,) = response.json()["errors"]
    assert message.startswith("deep.toml: values nested too deeply")


def test_integer_of_5000_digits_is_a_scenario_error(tmp_path: Path) -> None:
    """tomllib's int() raises ValueError beyond sys.get_int_max_str_digits() (4,300): it escaped as such."""
    message = only_file_problem(write(tmp_path, BASE.replace('burn_time = "180 s"', "burn_time = " + "9" * 5000, 1)))
    assert f"an integer too long to read (more than {sys.get_int_max_str_digits():,} digits)" in message


def test_integer_beyond_any_float_in_a_file(tmp_path: Path) -> None:
    """A 400-digit integer made float() raise OverflowError out of the loader."""
    problem, message = only_problem(tmp_path, BASE.replace('burn_time = "180 s"', "burn_time = " + "9" * 400, 1))
    assert (problem.table, problem.key) == ("missiles.icbm", "burn_time") and "a finite time" in message


def test_grid_step_so_small_the_count_overflows(tmp_path: Path) -> None:
    """A step of 5e-324 deg made the aim-point count infinite: math.floor raised OverflowError."""
    text = BASE + COVERAGE + 'from = "kozelsk"\nto = { lat = [0, 10], lon = [0, 10], step = 5e-324 }\n'
    problem, message = only_problem(tmp_path, text)
    assert problem.key == "to.step" and "at most 1,000,000 aim points (this one gives more than 10^308" in message
    text = BASE + COVERAGE + 'from = "kozelsk"\nto = { lat = [0, 10], lon = [0, 10], step = 1e-300 }\n'
    problem, message = only_problem(tmp_path, text)
    assert problem.key == "to.step" and "(this one gives 1e+301 × 1e+301)" in message


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_dev_zero_is_refused_without_reading() -> None:
    """Item 7: `engage /dev/zero` grew to 4 GB in 10 s."""
    started = time.perf_counter()
    message = only_file_problem(Path("/dev/zero"))
    assert time.perf_counter() - started < QUICK_S
    assert message == ("/dev/zero: cannot read it: it is a character device; expected a scenario file: a regular "
                       "file of at most 10,000,000 bytes (10 MB)")


def test_directory_is_refused(tmp_path: Path) -> None:
    assert "cannot read it: it is a directory; expected a scenario file" in only_file_problem(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_is_refused_without_opening(tmp_path: Path) -> None:
    """Opening a pipe with no writer waits for ever: it is refused from its status alone."""
    pipe = tmp_path / "scen.toml"
    os.mkfifo(pipe)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    started = time.perf_counter()
    assert "cannot read it: it is a pipe" in only_file_problem(pipe)
    assert time.perf_counter() - started < QUICK_S


def test_file_above_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    """Item 7: a 50 MB scenario took 78 s and 2.1 GB. The limit is 10 MB; the file here is sparse (no disk used)."""
    assert MAX_FILE_BYTES == 10_000_000
    big = write(tmp_path, BASE)
    with big.open("r+b") as file:
        file.truncate(MAX_FILE_BYTES + 1)
    started = time.perf_counter()
    message = only_file_problem(big)
    assert time.perf_counter() - started < QUICK_S
    assert "the file is too large (10,000,001 bytes); expected a scenario file: a regular file of at most " \
           "10,000,000 bytes (10 MB)" in message


def test_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    """The limit refuses only what is above it: a file of exactly MAX_FILE_BYTES (padded with a comment) loads."""
    text = BASE + "#"
    path = write(tmp_path, text + "x" * (MAX_FILE_BYTES - len(text.encode()) - 1) + "\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert load_scenario(path).threats[0].name == "k-w"


@pytest.mark.parametrize(
    ("from_", "to", "key", "why"),
    [
        ('["kozelsk", "kozelsk"]', '["washington"]', "from #2", "from #1 is the same place"),
        ('["kozelsk", { lat = 54.035, lon = 36.013 }]', '["washington"]', "from #2",
         "from #1 (kozelsk) is at the same latitude, longitude and altitude"),
        ('"kozelsk"', '["washington", "redzikowo", "washington"]', "to #3", "to #1 is the same place"),
        ('"kozelsk"', '[{ lat = 10, lon = 190 }, { lat = 10, lon = -170, alt = "1 km" }]', "to #2",
         "to #1 is at the same latitude and longitude"),
    ],
    ids=["launch-name", "launch-coordinates", "aim-name", "aim-coordinates-wrapped"],
)
def test_repeated_coverage_points_are_refused(tmp_path: Path, from_: str, to: str, key: str, why: str) -> None:
    """Item 14: repeated launch or aim points were accepted and gave duplicate rows; refused like duplicate names."""
    problem, message = only_problem(tmp_path, BASE + COVERAGE + f"from = {from_}\nto = {to}\n")
    assert (problem.table, problem.key) == ("coverage", key)
    assert f"not already in the list ({why}); each is listed once" in message


def test_launch_points_differing_in_altitude_are_distinct(tmp_path: Path) -> None:
    """Launch altitude changes the flight, so two launches differing only there are two rows; aim altitude does not."""
    text = BASE + COVERAGE + 'from = [{ lat = 1, lon = 2 }, { lat = 1, lon = 2, alt = "1 km" }]\nto = ["washington"]\n'
    cov = load_scenario(write(tmp_path, text)).coverage
    assert cov is not None and [p.alt_m for p in cov.launch] == [0.0, 1000.0]


def test_utf8_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    """Item 15: a UTF-8 BOM gave "TOML syntax error at line 1, column 1"."""
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode("utf-8"))
    assert load_scenario(path) == load_scenario(write(tmp_path, BASE, "bom.toml"))
    assert load_scenario_text("\ufeff" + BASE).threats == load_scenario_text(BASE).threats


def test_report_lists_the_own_numbers_of_a_file_with_a_byte_order_mark() -> None:
    """Item 15 beyond the loader: the report's "Assumptions and sources" lists the numbers the file gives itself."""
    from shieldlab.report.build import own_numbers

    text = (Path(__file__).resolve().parents[1] / "examples" / "kozelsk-washington.toml").read_text(encoding="utf-8")
    assert len(own_numbers(text)) > 10
    assert own_numbers("\ufeff" + text) == own_numbers(text)


def test_read_scenario_text_reads_as_the_loader_does(tmp_path: Path) -> None:
    """The text for whatever shows or reads the file again (report, web): BOM skipped, the same refusals."""
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode("utf-8"))
    assert read_scenario_text(path) == BASE
    with pytest.raises(ScenarioError, match="cannot read it: it is a directory"):
        read_scenario_text(tmp_path)
    path.write_bytes(BASE.encode("utf-16"))
    with pytest.raises(ScenarioError, match="UTF-16"):
        read_scenario_text(path)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_and_utf32_files_say_their_encoding(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "wide.toml"
    path.write_bytes(BASE.encode(encoding))  # Python writes the byte-order mark
    message = only_file_problem(path)
    name = encoding.upper()
    assert f"the file is {name} text (it starts with a {name} byte-order mark); expected a TOML file in UTF-8" \
        in message


def test_invalid_utf8_names_byte_and_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(BASE.replace('name = "base"', 'name = "Kürecik"').encode("latin-1"))
    message = only_file_problem(path)
    assert "the file is not UTF-8 text (byte 0xfc at line 2, column 10); expected a TOML file in UTF-8" in message


NOTHING_TO_COMPUTE = "the file has no [[threats]], no [coverage] and no [[assessments]] table: nothing to compute"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the file is empty"),
        ("\n  \n\t\n", "the file is empty"),
        ("\ufeff", "the file is empty"),
        ("# a comment\n\n# another\n", "the file holds only comments"),
        (BASE.split("[[threats]]")[0], NOTHING_TO_COMPUTE),
        ('name = "x"\nthreats = []\n', NOTHING_TO_COMPUTE),
    ],
    ids=["empty", "blank", "bom-only", "comments", "no-threats-no-coverage", "empty-threats-array"],
)
def test_file_with_nothing_to_compute_is_refused(tmp_path: Path, text: str, reason: str) -> None:
    """Item 16: an empty or comment-only file loaded (engage printed "no [[threats]]" and exited 0)."""
    message = only_file_problem(write(tmp_path, text))
    assert message == (f"{tmp_path / 'scen.toml'}: {reason}; expected at least one [[threats]] table (the threats "
                       "`shieldlab engage` flies) or a [coverage] table (the launch and aim points `shieldlab "
                       "coverage` flies) or an [[assessments]] table (the flight tests `shieldlab assess` reads), "
                       "with the missile types, sensors and batteries they use (docs/scenario.md)")


def test_nothing_to_compute_comes_after_the_files_other_problems(tmp_path: Path) -> None:
    """A misspelt [[threat]] is named, and so is the missing [[threats]] it was meant to be."""
    text = BASE.replace("[[threats]]", "[[threat]]")
    problems = problems_of(tmp_path, text)
    assert [(p.table, p.key) for p in problems] == [("", "threat"), ("", "")]
    assert "did you mean 'threats'?" in str(problems[0]) and "no [[threats]]" in str(problems[1])


def test_coverage_only_file_still_loads(tmp_path: Path) -> None:
    """Item 16's limit: a file with [coverage] and no [[threats]] is a valid scenario (for `coverage`)."""
    text = BASE.split("[[threats]]")[0] + COVERAGE + 'from = "kozelsk"\nto = ["washington"]\n'
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.threats == () and scenario.coverage is not None


def test_cli_engage_of_an_empty_file_exits_2_saying_what_a_scenario_needs(tmp_path: Path) -> None:
    """Item 16 as the user meets it: `shieldlab engage empty.toml` exits 2 with the message, nothing on stdout."""
    path = write(tmp_path, "# nothing yet\n", "empty.toml")
    proc = subprocess.run([sys.executable, "-m", "shieldlab", "engage", str(path), "--json"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert "empty.toml: the file holds only comments; expected at least one [[threats]] table" in proc.stderr


@pytest.mark.parametrize("name", ["a\x00b", "\x1b[2J", "line\nbreak", "tab\there", "x\u2028y", "c1\x85"])
def test_names_with_control_characters_are_refused(tmp_path: Path, name: str) -> None:
    """Names reach terminals, HTML and CSV: control characters in one are refused, and escaped in the message."""
    escaped = name.encode("unicode_escape").decode("ascii").replace("\\x", "\\u00").replace("\\t", "\\u0009") \
        .replace("\\n", "\\u000a")
    problem, message = only_problem(tmp_path, BASE.replace('name = "k-w"', f"name = {json_string(name)}"))
    assert problem.key == "name" and problem.table == f"threats #1 ({escaped})"
    assert "without control characters" in message
    assert not any(ch in message for ch in name if not ch.isprintable() or ch in "\u2028\u2029")
    problem, message = only_problem(tmp_path, BASE.replace("[missiles.nospeed]", f"[missiles.{json_string(name)}]"))
    assert problem.table == "missiles" and problem.key == escaped and "a missile type with a name without" in message


def test_long_names_are_cut_in_messages(tmp_path: Path) -> None:
    name = "n" * 10_000
    text = BASE.replace('name = "k-w"', f'name = "{name}"').replace('to = "washington"', 'to = "nowhere"')
    problem, message = only_problem(tmp_path, text)
    assert problem.table == "threats #1 (" + "n" * 67 + "…" and len(message) < 2000


def json_string(text: str) -> str:
    """`text` as a TOML basic string (JSON's escapes are TOML's, for the control characters used here)."""
    import json

    return json.dumps(text)


# ---- second-release keys of issue 12: radar sensitivity, track formation, launch floor, energy management --------


def test_cross_sections_and_sensitivity_keys_load(tmp_path: Path) -> None:
    text = (BASE.replace('burnout_speed = "7.0 km/s"', 'burnout_speed = "7.0 km/s"\nrcs = "-13 dBsm"\n'
                         'rcs_boost = "10 m2"', 1)
            .replace('max_range = "4800 km"', 'reference_range = "1000 km"\nreference_rcs = "-10 dBsm"\n'
                     'track_formation = "20 s"')
            .replace('max_altitude = "1500 km"', 'max_altitude = "1500 km"\nmin_launch_elevation = "5 deg"\n'
                     'energy_management = true'))
    scenario = load_scenario(write(tmp_path, text))
    icbm, radar, sm3 = scenario.missiles["icbm"], scenario.sensors[0], scenario.interceptors["sm3"]
    assert icbm.rcs_m2 == pytest.approx(10 ** -1.3, rel=1e-12) and icbm.boost_rcs_m2 == 10.0
    assert scenario.missiles["nospeed"].rcs_m2 == 1.0 and scenario.missiles["nospeed"].boost_rcs_m2 == 1.0
    assert radar.max_range_m == math.inf and radar.reference_range_m == 1.0e6
    assert radar.reference_rcs_m2 == pytest.approx(0.1, rel=1e-12) and radar.track_formation_s == 20.0
    assert (sm3.min_launch_elevation_deg, sm3.energy_management) == (5.0, True)
    # the fourth-root law (docs/models.md, Sensitivity: range against a cross-section): 0.1 m2 at 1000 km ->
    # 1 m2 at 1000 * 10^(1/4) km, 10 m2 at 1000 * 10^(1/2)
    assert radar.range_m(1.0) == pytest.approx(1.0e6 * 10 ** 0.25, rel=1e-12)
    assert radar.range_m(10.0) == pytest.approx(1.0e6 * 10 ** 0.5, rel=1e-12)
    capped = load_scenario(write(tmp_path, text.replace('track_formation = "20 s"', 'max_range = "2000 km"'),
                                 "capped.toml")).sensors[0]
    assert capped.range_m(10.0) == 2.0e6 and capped.range_m(0.1) == pytest.approx(1.0e6, rel=1e-12)


@pytest.mark.parametrize(
    ("old", "new", "table", "key", "expected"),
    [
        ('burnout_speed = "7.0 km/s"', 'burnout_speed = "7.0 km/s"\nrcs = "0 m2"', "missiles.icbm", "rcs",
         "a radar cross-section greater than 0 and at most 10,000 m2"),
        ('burnout_speed = "7.0 km/s"', 'burnout_speed = "7.0 km/s"\nrcs_boost = -1', "missiles.icbm", "rcs_boost",
         "a radar cross-section greater than 0 and at most 10,000 m2"),
        ('burnout_speed = "7.0 km/s"', 'burnout_speed = "7.0 km/s"\nrcs = "0.1 km"', "missiles.icbm", "rcs",
         '"km" is a unit of length, not of area'),
        ('max_range = "4800 km"', 'reference_rcs = "1 m2"', "sensors #1 (fylingdales)", "max_range",
         "a range: `max_range`, `reference_range` or both"),
        ('max_range = "4800 km"', 'max_range = "4800 km"\ntrack_formation = "-1 s"', "sensors #1 (fylingdales)",
         "track_formation", "a track-formation time between 0 and 3,600 s"),
        ('max_altitude = "1500 km"', 'max_altitude = "1500 km"\nmin_launch_elevation = "90 deg"',
         "interceptors.sm3", "min_launch_elevation", "a launch elevation between 0 and 89 deg"),
        ('max_altitude = "1500 km"', 'max_altitude = "1500 km"\nmin_launch_elevation = "-1 deg"',
         "interceptors.sm3", "min_launch_elevation", "a launch elevation between 0 and 89 deg"),
        ('max_altitude = "1500 km"', 'max_altitude = "1500 km"\nenergy_management = "yes"',
         "interceptors.sm3", "energy_management", "true or false"),
    ],
)
def test_second_release_keys_refused(tmp_path: Path, old: str, new: str, table: str, key: str,
                                     expected: str) -> None:
    """Issue 12's bad input: a zero or negative cross-section, a radar with no range at all, a negative track
    formation, a launch floor outside 0-89 deg: each a problem naming the table and key, with the bound."""
    problem, message = only_problem(tmp_path, BASE.replace(old, new, 1))
    assert (problem.table, problem.key) == (table, key), message
    assert expected in message, message


def test_second_release_keys_refused_on_the_command_line(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace('max_range = "4800 km"', 'reference_range = "0 km"'))
    proc = subprocess.run([sys.executable, "-m", "shieldlab", "engage", str(path), "--json"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "key 'reference_range': got \"0 km\"; expected a length greater than 0 and at most 40,000 km" in proc.stderr


# ---- staged missile types, kick angles, boost-phase batteries and flight tests (docs/scenario.md, Staged missile
# types; Flight tests) ------------------------------------------------------------------------------------------


def _staged_base() -> dict:
    """A scenario with a staged type (the example of docs/scenario.md, Staged missile types), a burnout type, a
    boost-phase battery, staged threats aimed and unaimed, and a flight test."""
    return {
        "places": {"sohae": {"lat": 39.66, "lon": 124.705}, "tgt": {"lat": 40.0, "lon": 140.0}},
        "missiles": {
            "liquid": {"model": "staged", "payload_mass": "1000 kg", "diameter": "2.4 m", "drag_coefficient": 0.3,
                       "vertical_rise": "10 s", "reentry_ballistic_coefficient": "3000 kg/m2",
                       "stages": [{"propellant_mass": "50 t", "dry_mass": "5 t", "burn_time": "150 s",
                                   "isp": "290 s"},
                                  {"propellant_mass": "12 t", "dry_mass": "1.5 t", "burn_time": "120 s",
                                   "isp": "320 s", "coast": "5 s"}]},
            "icbm": {"burn_time": "180 s", "burnout_altitude": "200 km", "burnout_range": "350 km",
                     "burnout_speed": "7 km/s"},
        },
        "interceptors": {"i": {"burn_time": "60 s", "burnout_speed": "5 km/s"}},
        "batteries": [{"name": "boost", "at": "tgt", "interceptor": "i", "boost_phase": True},
                      {"name": "plain", "at": "tgt", "interceptor": "i"}],
        "threats": [
            {"name": "shot", "missile": "liquid", "from": "sohae", "azimuth": "90 deg", "kick": "3 deg"},
            {"name": "aimed", "missile": "liquid", "from": "sohae", "to": "tgt", "trajectory": {"kick": "4 deg"}},
            {"name": "lofted", "missile": "liquid", "from": "sohae", "to": "tgt", "trajectory": "lofted"},
            {"name": "burnout", "missile": "icbm", "from": "sohae", "to": "tgt"},
        ],
        "assessments": [{"name": "test", "missile": "liquid", "from": "sohae", "azimuth": "90 deg",
                         "observed": {"apogee": "4475 km", "flight_time": "53 min", "ground_range": "950 km"},
                         "payloads": ["1000 kg", "1.5 t"]}],
    }


def _staged_problems(change) -> list[Problem]:
    data = _staged_base()
    change(data)
    with pytest.raises(ScenarioError) as error:
        scenario_from_dict(data, "st.toml", use_catalog=False)
    return error.value.problems


def _staged_problem(change) -> Problem:
    (problem,) = _staged_problems(change)
    return problem


def test_staged_type_threats_batteries_and_assessments_load() -> None:
    from shieldlab.scenario.model import G0_M_S2, StagedMissileType

    sc = scenario_from_dict(_staged_base(), "st.toml", use_catalog=False)
    m = sc.missiles["liquid"]
    assert isinstance(m, StagedMissileType) and m.model == "staged"
    assert (m.payload_mass_kg, m.diameter_m, m.drag_coefficient, m.vertical_rise_s) == (1000.0, 2.4, 0.3, 10.0)
    assert m.reentry_ballistic_coefficient_kg_m2 == 3000.0
    assert [(s.propellant_mass_kg, s.dry_mass_kg, s.burn_time_s, s.isp_s, s.coast_s) for s in m.stages] == [
        (50e3, 5e3, 150.0, 290.0, 0.0), (12e3, 1.5e3, 120.0, 320.0, 5.0)]
    # vacuum thrust isp g0 m_prop / t_b (docs/scenario.md, Staged missile types): 290 * 9.80665 * 50000 / 150
    assert m.stages[0].thrust_n == pytest.approx(290 * G0_M_S2 * 50e3 / 150, rel=1e-12)
    assert m.liftoff_mass_kg == 69_500.0
    shot, aimed, lofted, burnout = sc.threats
    assert (shot.aim, shot.azimuth_deg, shot.kick_deg, shot.gamma_deg) == (None, 90.0, 3.0, None)
    assert (aimed.trajectory.mode, aimed.trajectory.kick_deg, aimed.trajectory.gamma_deg) == ("kick", 4.0, None)
    assert aimed.trajectory.label() == "kick=4 deg"
    assert lofted.trajectory.mode == "lofted" and burnout.trajectory.mode == "min-energy"
    assert [b.boost_phase for b in sc.batteries] == [True, False]
    (a,) = sc.assessments
    assert (a.name, a.missile, a.azimuth_deg, a.impact) == ("test", "liquid", 90.0, None)
    assert (a.observed_apogee_m, a.observed_flight_time_s, a.observed_ground_range_m) == (4475e3, 3180.0, 950e3)
    # the default uncertainties: 1 %, 1 %, 2 % (docs/scenario.md, Flight tests)
    assert (a.apogee_uncertainty_pct, a.flight_time_uncertainty_pct, a.ground_range_uncertainty_pct) == (1, 1, 2)
    assert a.payload_masses_kg == (1000.0, 1500.0)


def test_staged_defaults_and_units() -> None:
    data = _staged_base()
    for key in ("drag_coefficient", "vertical_rise", "reentry_ballistic_coefficient"):
        del data["missiles"]["liquid"][key]
    data["missiles"]["liquid"]["payload_mass"] = "2204.62262 lb"
    sc = scenario_from_dict(data, "st.toml", use_catalog=False)
    m = sc.missiles["liquid"]
    assert (m.drag_coefficient, m.vertical_rise_s, m.reentry_ballistic_coefficient_kg_m2) == (0.3, 10.0, None)
    assert m.payload_mass_kg == pytest.approx(1000.0, abs=1e-3)  # 1 lb = 0.45359237 kg exactly
    # the default re-entry ballistic coefficient m_p / (C_D A), A = pi d^2 / 4
    assert m.ballistic_coefficient_kg_m2 == pytest.approx(1000.0 / (0.3 * math.pi * 2.4**2 / 4), rel=1e-6)


def test_mass_ballistic_coefficient_and_percentage_units() -> None:
    assert parse_quantity("50 t", "mass") == 50_000.0
    assert parse_quantity("1 lb", "mass") == 0.45359237
    assert parse_quantity(1000, "mass") == 1000.0
    assert parse_quantity("3000 kg/m2", "ballistic coefficient") == 3000.0
    assert parse_quantity("2 %", "percentage") == 2.0
    with pytest.raises(QuantityError, match='"km" is a unit of length, not of mass'):
        parse_quantity("5 km", "mass")


@pytest.mark.parametrize(("change", "key", "value", "expected"), [
    (lambda d: d["missiles"]["liquid"]["stages"][1].update(isp="600 s"), "stages[2].isp", "600 s",
     "a specific impulse between 50 and 500 s"),
    (lambda d: d["missiles"]["liquid"]["stages"][1].update(isp="30 s"), "stages[2].isp", "30 s",
     "a specific impulse between 50 and 500 s"),
    (lambda d: d["missiles"]["liquid"]["stages"][1].update(dry_mass="0 t"), "stages[2].dry_mass", "0 t",
     "a mass greater than 0 and at most 10,000 t"),
    (lambda d: d["missiles"]["liquid"]["stages"][0].update(propellant_mass="-50 t"), "stages[1].propellant_mass",
     "-50 t", "a mass greater than 0 and at most 10,000 t"),
    (lambda d: d["missiles"]["liquid"]["stages"][1].update(burn_time="0 s"), "stages[2].burn_time", "0 s",
     "a time greater than 0 and at most 3,600 s"),
    (lambda d: d["missiles"]["liquid"]["stages"][1].update(coast="-1 s"), "stages[2].coast", "-1 s",
     "a coast time between 0 and 3,600 s"),
    (lambda d: d["missiles"]["liquid"].update(payload_mass="-1 kg"), "payload_mass", "-1 kg",
     "a mass greater than 0 and at most 10,000 t"),
    (lambda d: d["missiles"]["liquid"].update(diameter="0 m"), "diameter", "0 m",
     "a diameter greater than 0 and at most 50 m"),
    (lambda d: d["missiles"]["liquid"].update(vertical_rise="0 s"), "vertical_rise", "0 s",
     "a vertical-rise time greater than 0 and at most 600 s"),
    (lambda d: d["missiles"]["liquid"].update(drag_coefficient=0), "drag_coefficient", 0,
     "a drag coefficient (a bare number) greater than 0 and at most 5"),
    (lambda d: d["missiles"]["liquid"].update(drag_coefficient="0.3"), "drag_coefficient", "0.3",
     "a drag coefficient (a bare number) greater than 0 and at most 5"),
    (lambda d: d["missiles"]["liquid"].update(reentry_ballistic_coefficient="3000 kg"),
     "reentry_ballistic_coefficient", "3000 kg", '"kg" is a unit of mass, not of ballistic coefficient'),
    (lambda d: d["missiles"]["liquid"].update(stages=[]), "stages", [],
     "a non-empty list of stages in firing order, each an inline table"),
    (lambda d: d["missiles"]["liquid"].update(stages="two"), "stages", "two",
     "a non-empty list of stages in firing order, each an inline table"),
    (lambda d: d["missiles"]["liquid"]["stages"].append("third"), "stages[3]", "third",
     "a stage: an inline table { propellant_mass, dry_mass, burn_time, isp, coast }"),
    (lambda d: d["missiles"]["liquid"]["stages"][0].update(coast="2 s"), "stages[1].coast", "2 s",
     "no coast before the first stage (0 s): the missile stands on the ground until it ignites"),
    (lambda d: d["missiles"]["liquid"]["stages"][1].update(ips="300 s"), "stages[2].ips", "300 s",
     "(did you mean 'isp'?)"),
])
def test_bad_staged_types_name_the_key_and_value(change, key, value, expected) -> None:
    problem = _staged_problem(change)
    assert (problem.file, problem.table, problem.key, problem.value) == ("st.toml", "missiles.liquid", key, value)
    assert expected in problem.expected, str(problem)
    assert str(problem).startswith(f"st.toml: [missiles.liquid] key '{key}': got ")


def test_missing_stage_keys_are_named() -> None:
    problems = _staged_problems(lambda d: d["missiles"]["liquid"]["stages"][1].pop("isp"))
    assert [(p.key, p.value) for p in problems] == [("stages[2].isp", MISSING)]
    problems = _staged_problems(lambda d: d["missiles"]["liquid"].pop("stages"))
    assert [(p.key, p.value) for p in problems] == [("stages", MISSING)]


def test_first_stage_that_cannot_lift_the_missile_is_refused_with_both_numbers() -> None:
    # 400 s burn: thrust 290 * 9.80665 * 50,000 / 400 = 355.5 kN; lift-off weight 69,500 kg * 9.80665 = 681.6 kN
    problem = _staged_problem(lambda d: d["missiles"]["liquid"]["stages"][0].update(burn_time="400 s"))
    assert (problem.table, problem.key) == ("missiles.liquid", "stages[1]")
    assert problem.value["burn_time"] == "400 s"
    assert "thrust 355 kN < lift-off weight 682 kN" in problem.expected, problem.expected
    # the same stage over 150 s lifts it: 948 kN (the base loads, above)


@pytest.mark.parametrize(("model", "key", "value", "other"), [
    ("liquid", "burn_time", "180 s", "burnout"),
    ("liquid", "burnout_speed", "7 km/s", "burnout"),
    ("liquid", "burnout_range", "350 km", "burnout"),
    ("icbm", "stages", [], "staged"),
    ("icbm", "payload_mass", "1 t", "staged"),
    ("icbm", "drag_coefficient", 0.3, "staged"),
])
def test_keys_of_the_other_missile_model_are_named(model: str, key: str, value, other: str) -> None:
    problem = _staged_problem(lambda d: d["missiles"][model].update({key: value}))
    assert (problem.table, problem.key, problem.value) == (f"missiles.{model}", key, value)
    own = "staged" if other == "burnout" else "burnout"
    assert f'no {key} in a missile type of model = "{own}"' in problem.expected
    assert f'{key} is a key of model = "{other}"' in problem.expected, problem.expected


def test_unknown_model_is_named() -> None:
    problem = _staged_problem(lambda d: d["missiles"]["liquid"].update(model="stage"))
    assert (problem.key, problem.value) == ("model", "stage")
    assert problem.expected == 'one of "burnout", "staged"'


@pytest.mark.parametrize(("change", "table", "key", "value", "expected"), [
    (lambda d: d["threats"][0].update(gamma="20 deg"), "threats #1 (shot)", "gamma", "20 deg",
     'no gamma for missile \'liquid\' (model = "staged"): an unaimed threat of a staged type gives `azimuth` and '
     "`kick`"),
    (lambda d: d["threats"][0].pop("kick"), "threats #1 (shot)", "kick", MISSING,
     "a kick angle between 0 and 90 deg"),
    (lambda d: d["threats"][0].update(kick="95 deg"), "threats #1 (shot)", "kick", "95 deg",
     "a kick angle between 0 and 90 deg"),
    (lambda d: d["threats"][0].update(kick="-1 deg"), "threats #1 (shot)", "kick", "-1 deg",
     "a kick angle between 0 and 90 deg"),
    (lambda d: d["threats"][1].update(trajectory={"gamma": "20 deg"}), "threats #2 (aimed)", "trajectory.gamma",
     "20 deg", 'a fixed trajectory of a staged type is { kick = "3 deg" } with 0 ≤ kick ≤ 90 deg'),
    (lambda d: d["threats"][1].update(trajectory={"kick": "91 deg"}), "threats #2 (aimed)", "trajectory.kick",
     "91 deg", "a kick angle between 0 and 90 deg"),
    (lambda d: d["threats"][1].update(trajectory={}), "threats #2 (aimed)", "trajectory", {},
     '"min-energy", "lofted", "depressed" or { kick = "3 deg" } with 0 ≤ kick ≤ 90 deg'),
    (lambda d: d["threats"][1].update(trajectory="gamma"), "threats #2 (aimed)", "trajectory", "gamma",
     '"min-energy", "lofted", "depressed" or { kick = "3 deg" } with 0 ≤ kick ≤ 90 deg'),
    (lambda d: d["threats"][1].update(kick="3 deg"), "threats #2 (aimed)", "kick", "3 deg",
     "no kick in an aimed threat: give either `to` (and optionally `trajectory`) or `azimuth` and `kick` (unaimed)"),
    (lambda d: d["threats"][3].update(trajectory={"kick": "3 deg"}), "threats #4 (burnout)", "trajectory.kick",
     "3 deg", 'no kick for missile \'icbm\' (model = "burnout"): a fixed trajectory of a burnout type is '
     '{ gamma = "25 deg" } with 0 < gamma < 90 deg'),
    (lambda d: d["threats"].append({"name": "u", "missile": "icbm", "from": "sohae", "azimuth": 9, "kick": 3,
                                    "gamma": 20}),
     "threats #5 (u)", "kick", 3, "an unaimed threat of a burnout type gives `azimuth` and `gamma`"),
    (lambda d: d["batteries"][0].update(boost_phase="yes"), "batteries #1 (boost)", "boost_phase", "yes",
     "true or false"),
])
def test_kick_and_gamma_belong_to_their_missile_model(change, table, key, value, expected) -> None:
    problem = _staged_problem(change)
    assert (problem.table, problem.key, problem.value) == (table, key, value)
    assert expected in problem.expected, problem.expected


def test_unaimed_staged_threat_without_azimuth_or_kick_is_told_both() -> None:
    def change(d):
        del d["threats"][0]["azimuth"], d["threats"][0]["kick"]
    problem = _staged_problem(change)
    assert (problem.table, problem.key) == ("threats #1 (shot)", "to")
    assert "or `azimuth` and `kick` for an unaimed threat" in problem.expected


def test_staged_threats_need_no_burnout_speed_and_boost_phase_is_accepted_for_burnout_threats() -> None:
    """lofted and unaimed staged threats fly at their own full burn (no burnout_speed); a boost-phase battery with
    only burnout threats loads (they simply have no boost-phase window)."""
    data = _staged_base()
    data["threats"] = [t for t in data["threats"] if t["missile"] == "icbm"]
    sc = scenario_from_dict(data, "st.toml", use_catalog=False)
    assert sc.batteries[0].boost_phase and all(sc.missiles[t.missile].model == "burnout" for t in sc.threats)


@pytest.mark.parametrize(("trajectory", "mode", "kick"), [
    ("lofted", "lofted", None), ("depressed", "depressed", None), ("min-energy", "min-energy", None),
    ({"kick": "5 deg"}, "kick", 5.0),
])
def test_coverage_of_a_staged_type(trajectory, mode: str, kick) -> None:
    data = _staged_base()
    data["coverage"] = {"missile": "liquid", "from": "sohae", "to": ["tgt"], "trajectory": trajectory}
    cov = scenario_from_dict(data, "st.toml", use_catalog=False).coverage
    assert (cov.trajectory.mode, cov.trajectory.kick_deg, cov.trajectory.gamma_deg) == (mode, kick, None)


@pytest.mark.parametrize(("missile", "trajectory", "key"), [
    ("liquid", {"gamma": "20 deg"}, "trajectory.gamma"), ("icbm", {"kick": "20 deg"}, "trajectory.kick"),
])
def test_coverage_trajectory_belongs_to_its_missile_model(missile: str, trajectory, key: str) -> None:
    problem = _staged_problem(lambda d: d.update(coverage={"missile": missile, "from": "sohae", "to": ["tgt"],
                                                           "trajectory": trajectory}))
    assert (problem.table, problem.key, problem.value) == ("coverage", key, "20 deg")


@pytest.mark.parametrize(("change", "key", "value", "expected"), [
    (lambda a: a.update(to="tgt"), "to", "tgt", "either `azimuth` (the launch azimuth) or `to` (the observed impact "
     "point), not both"),
    (lambda a: a.pop("azimuth"), "azimuth", MISSING, "a launch azimuth `azimuth`"),
    (lambda a: a["observed"].pop("apogee"), "observed.apogee", MISSING, "an apogee altitude greater than 0"),
    (lambda a: a["observed"].pop("flight_time"), "observed.flight_time", MISSING, "a flight time greater than 0"),
    (lambda a: a.pop("observed"), "observed", MISSING,
     "an inline table observed = { apogee, flight_time, ground_range }"),
    (lambda a: a["observed"].update(ground_range="30000 km"), "observed.ground_range", "30000 km",
     "a ground range greater than 0 and at most 20,040 km"),
    (lambda a: a["observed"].update(apogee="-5 km"), "observed.apogee", "-5 km",
     "an apogee altitude greater than 0 and at most 40,000 km"),
    (lambda a: a["observed"].update(groundrange="950 km"), "observed.groundrange", "950 km",
     "(did you mean 'ground_range'?)"),
    (lambda a: a.update(uncertainty={"apogee": "0 %"}), "uncertainty.apogee", "0 %",
     "an uncertainty greater than 0 and at most 100 %"),
    (lambda a: a.update(uncertainty={"flight_time": "1 s"}), "uncertainty.flight_time", "1 s",
     '"s" is a unit of time, not of percentage'),
    (lambda a: a.update(payloads=[]), "payloads", [], "a non-empty list of payload masses each greater than 0"),
    (lambda a: a.update(payloads=["1 t", "-2 t"]), "payloads[2]", "-2 t",
     "a payload mass greater than 0 and at most 10,000 t"),
    (lambda a: a.update(missile="icbm"), "payloads", ["1000 kg", "1.5 t"],
     'no payloads for missile \'icbm\' (model = "burnout"): other payloads apply to staged types only'),
    (lambda a: a.update(missile="icbn"), "missile", "icbn", "(did you mean 'icbm'?)"),
])
def test_bad_assessments_name_the_key_and_value(change, key: str, value, expected: str) -> None:
    problem = _staged_problem(lambda d: change(d["assessments"][0]))
    assert (problem.table, problem.key, problem.value) == ("assessments #1 (test)", key, value)
    assert expected in problem.expected, problem.expected


def test_assessment_of_a_burnout_type_aimed_at_its_impact_point() -> None:
    data = _staged_base()
    data["assessments"] = [{"name": "b", "missile": "icbm", "from": "sohae", "to": "tgt",
                            "observed": {"apogee": "1000 km", "flight_time": "30 min"},
                            "uncertainty": {"apogee": "3 %"}}]
    (a,) = scenario_from_dict(data, "st.toml", use_catalog=False).assessments
    assert (a.azimuth_deg, a.impact.name, a.observed_ground_range_m, a.payload_masses_kg) == (None, "tgt", None, ())
    assert (a.apogee_uncertainty_pct, a.flight_time_uncertainty_pct, a.ground_range_uncertainty_pct) == (3, 1, 2)


def test_file_with_only_assessments_loads(tmp_path: Path) -> None:
    text = """
[missiles.liquid]
model = "staged"
payload_mass = "1000 kg"
diameter = "2.4 m"
stages = [{ propellant_mass = "50 t", dry_mass = "5 t", burn_time = "150 s", isp = "290 s" }]

[[assessments]]
name = "t"
missile = "liquid"
from = { lat = 39.66, lon = 124.705 }
azimuth = "90 deg"
observed = { apogee = "4475 km", flight_time = "53 min" }
"""
    sc = load_scenario(write(tmp_path, text))
    assert (sc.threats, sc.batteries, sc.coverage, len(sc.assessments)) == ((), (), None, 1)


def test_staged_catalog_types_are_read_like_the_files() -> None:
    """A staged type that comes from a catalog takes kicks, not gammas, exactly as the file's own."""
    from types import SimpleNamespace

    from shieldlab.scenario.parse import parse_missile, parse_scenario

    staged = parse_missile("cat-liquid", _staged_base()["missiles"]["liquid"], file="catalog.toml")
    entry = SimpleNamespace(model=staged, values={})
    lookup = SimpleNamespace(find=lambda kind, name: entry if (kind, name) == ("missiles", "cat-liquid") else None,
                             names=lambda kind: ("cat-liquid",) if kind == "missiles" else ())
    data = _staged_base()
    data["threats"] = [{"name": "c", "missile": "cat-liquid", "from": "sohae", "azimuth": 90, "kick": 2}]
    sc = parse_scenario(data, "st.toml", catalog=lookup)
    assert sc.missiles["cat-liquid"] is staged and sc.threats[0].kick_deg == 2.0
    data["threats"] = [{"name": "c", "missile": "cat-liquid", "from": "sohae", "azimuth": 90, "gamma": 2}]
    with pytest.raises(ScenarioError) as error:
        parse_scenario(data, "st.toml", catalog=lookup)
    assert [(p.key, p.value) for p in error.value.problems] == [("gamma", 2), ("kick", MISSING)]
    assert "model = \"staged\"" in error.value.problems[0].expected


@pytest.mark.parametrize("model", [[], {}, 3, True])
def test_a_missile_model_that_is_not_a_string_is_named(model) -> None:
    problem = _staged_problem(lambda d: d["missiles"]["liquid"].update(model=model))
    assert (problem.table, problem.key, problem.value) == ("missiles.liquid", "model", model)
