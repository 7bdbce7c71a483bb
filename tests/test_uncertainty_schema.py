"""The `[uncertainty]` table of a scenario file read into Scenario.uncertainty (docs/scenario.md, Uncertainty): each
`vary` entry resolved to a VarySpec (path, SI parameters, allowed range, unit), every bad entry refused with a
message naming the file, the table, the entry and what was expected; and shieldlab.uncertainty.keys, which puts
drawn values into a scenario by path.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from shieldlab.errors import ScenarioError
from shieldlab.scenario import schema
from shieldlab.scenario.load import load_scenario_text, scenario_from_dict
from shieldlab.scenario.model import Point, Scenario, Trajectory, VarySpec
from shieldlab.scenario.parse import CONTROL
from shieldlab.scenario.vary import TRUNCATION_TOLERANCE, targets
from shieldlab.uncertainty.keys import apply, set_path

MALFORMED_EXIT = 2  # docs/scenario.md (its opening): a malformed scenario exits with status 2
EXACT = 0.0  # values converted from the file's units are exact products (5.5 * 1000)
PROBABILITY_TOL = 1e-12  # the truncated mass against scipy's normal distribution

BASE = """
name = "unc"

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

[interceptors.fast]
burn_time = "60 s"
burnout_speed = "5.5 km/s"
min_altitude = "100 km"
max_altitude = "1500 km"

[[sensors]]
name = "radar-a"
at = "redzikowo"
max_range = "4800 km"
azimuth = { center = "90 deg", half_width = "60 deg" }

[[sensors]]
radar = "fylingdales"

[[sensors]]
name = "radar-b"
at = "kozelsk"
max_range = "1000 km"

[[batteries]]
name = "poland"
at = "redzikowo"
interceptor = "fast"
launch_delay = "60 s"

[[threats]]
name = "lofted"
missile = "icbm"
from = "kozelsk"
to = "washington"
trajectory = "lofted"

[[threats]]
name = "staged"
missile = "aps-liquid-icbm"
from = "kozelsk"
to = "washington"
"""


def load(vary: str, extra: str = "", base: str = BASE) -> Scenario:
    return load_scenario_text(f"{base}\n[uncertainty]\n{extra}\nvary = [\n{vary}\n]\n", "unc.toml")


def problems(vary: str, extra: str = "", base: str = BASE) -> list:
    with pytest.raises(ScenarioError) as error:
        load(vary, extra, base)
    for problem in error.value.problems:  # every problem names the file and the table
        assert problem.file == "unc.toml" and problem.table == "uncertainty", problem
    return error.value.problems


def one(vary: str, extra: str = "") -> tuple[str, str]:
    """The one problem of a bad entry: (its key, its text)."""
    found = problems(vary, extra)
    assert len(found) == 1, [str(p) for p in found]
    return found[0].key, str(found[0])


# ---- good files -------------------------------------------------------------------------------------------------


def test_a_scenario_without_the_table_has_no_uncertainty() -> None:
    assert load_scenario_text(BASE, "unc.toml").uncertainty is None


def test_the_contract_example_parses_to_exact_specs_in_si() -> None:
    s = load("""
  { key = "interceptors.fast.burnout_speed", normal = ["5.5 km/s", "0.3 km/s"] },
  { key = "batteries.poland.launch_delay", uniform = ["30 s", "2 min"] },
  { key = "sensors.radar-a.max_range", triangular = ["3000 km", "4000 km", "4800 km"] },
  { key = "batteries.poland.cue", choice = ["track", "launch"], weights = [4, 1] },
""", "samples = 2000\nseed = 1")
    u = s.uncertainty
    assert u is not None and (u.samples, u.seed, u.sensitivity_samples) == (2000, 1, 512)
    speed, delay, radar, cue = u.vary
    burnout = schema.INTERCEPTOR["burnout_speed"].range
    assert speed == VarySpec("interceptors.fast.burnout_speed", ("interceptors", "fast", "burnout_speed_m_s"),
                             "normal", (5500.0, 300.0), low=burnout.lo, high=burnout.hi, truncated=False,
                             unit="km/s")
    assert delay == VarySpec("batteries.poland.launch_delay", ("batteries", "poland", "launch_delay_s"), "uniform",
                             (30.0, 120.0), low=0.0, high=86_400.0, unit="s")
    assert radar.path == ("sensors", "radar-a", "max_range_m") and radar.kind == "triangular"
    assert radar.params == pytest.approx((3.0e6, 4.0e6, 4.8e6), abs=EXACT) and radar.unit == "km"
    assert cue == VarySpec("batteries.poland.cue", ("batteries", "poland", "cue"), "choice", choices=("track", "launch"),
                           weights=(0.8, 0.2))  # weights normalised to sum to 1


def test_defaults_of_the_table() -> None:
    u = load('{ key = "earth.rotation", choice = [true, false] }').uncertainty
    assert u is not None and (u.samples, u.seed, u.sensitivity_samples) == (1000, 0, 512)
    assert u.vary[0].choices == (True, False) and u.vary[0].weights == (0.5, 0.5)


def test_keys_of_catalog_types_stages_sectors_and_points() -> None:
    s = load("""
  { key = "missiles.aps-liquid-icbm.stages.2.isp", uniform = ["300 s", "330 s"] },
  { key = "missiles.aps-liquid-icbm.payload_mass", normal = ["1 t", "100 kg"] },
  { key = "sensors.fylingdales.min_elevation", uniform = ["1 deg", "5 deg"] },
  { key = "sensors.radar-a.azimuth.center", normal = ["90 deg", "2 deg"] },
  { key = "threats.lofted.from", choice = ["kozelsk", "uzhur", { lat = 50, lon = 40 }] },
  { key = "batteries.poland.interceptor", choice = ["fast", "sm3-iia"] },
  { key = "missiles.icbm.rcs", choice = ["-10 dBsm", "1 m2"] },
  { key = "sensors.fylingdales.azimuth.half_width", uniform = ["170 deg", "180 deg"] },
""")
    stage, payload, elevation, center, launch, interceptor, rcs, half = s.uncertainty.vary  # type: ignore[union-attr]
    assert half.path == ("sensors", "fylingdales", "sector", "half_width_deg")  # the catalog radar's sector
    assert stage.path == ("missiles", "aps-liquid-icbm", "stages", 1, "isp_s")  # N = 2 in the file, index 1
    assert stage.params == (300.0, 330.0) and stage.unit == "s"
    assert payload.path == ("missiles", "aps-liquid-icbm", "payload_mass_kg") and payload.params == (1000.0, 100.0)
    assert payload.unit == "t"
    assert elevation.path == ("sensors", "fylingdales", "min_elevation_deg")
    assert center.path == ("sensors", "radar-a", "sector", "center_deg")
    kozelsk = Point(54.035, 36.013, 0.0, "kozelsk")
    assert launch.path == ("threats", "lofted", "launch") and launch.choices[0] == kozelsk
    assert launch.choices[1].name == "uzhur"  # a catalog place, resolved as the loader resolves it
    assert launch.choices[2] == Point(50.0, 40.0, 0.0)
    assert ("places", "uzhur") in s.catalog_refs
    assert interceptor.choices == ("fast", "sm3-iia") and "sm3-iia" in s.interceptors  # a catalog type joins
    assert rcs.choices == pytest.approx((0.1, 1.0), rel=1e-15)


def test_zero_width_distributions_mean_exactly_the_value() -> None:
    s = load("""
  { key = "interceptors.fast.burnout_speed", normal = ["5.5 km/s", 0] },
  { key = "batteries.poland.launch_delay", uniform = ["60 s", "60 s"] },
  { key = "interceptors.fast.burn_time", triangular = ["60 s", "60 s", "60 s"] },
  { key = "batteries.poland.cue", choice = ["launch"] },
""")
    speed, delay, burn, cue = s.uncertainty.vary  # type: ignore[union-attr]
    assert speed.params == (5500.0, 0.0) and not speed.truncated
    assert delay.params == (60.0, 60.0) and burn.params == (60.0, 60.0, 60.0)
    assert cue.choices == ("launch",) and cue.weights == (1.0,)


def test_a_normal_is_truncated_to_the_allowed_range() -> None:
    # a launch delay of mean 20 s, sd 15 s: P(delay < 0) = Phi(-4/3), cut (docs/scenario.md, Uncertainty)
    spec = load('{ key = "batteries.poland.launch_delay", normal = ["20 s", "15 s"] }').uncertainty.vary[0]  # type: ignore[union-attr]
    assert spec.truncated and (spec.low, spec.high) == (0.0, 86_400.0)
    assert norm.cdf(0.0, 20.0, 15.0) > TRUNCATION_TOLERANCE
    # 7 sd from the bound: 1.3e-12 of the mass outside is cut; 7.2 sd: 3e-13, not
    cut = load('{ key = "batteries.poland.launch_delay", normal = ["70 s", "10 s"] }').uncertainty.vary[0]  # type: ignore[union-attr]
    kept = load('{ key = "batteries.poland.launch_delay", normal = ["72 s", "10 s"] }').uncertainty.vary[0]  # type: ignore[union-attr]
    assert norm.cdf(-7.0) > TRUNCATION_TOLERANCE > norm.cdf(-7.2)
    assert cut.truncated and not kept.truncated


def test_truncated_mass_agrees_with_scipy() -> None:
    from shieldlab.scenario.vary import _normal_outside

    for mean, sd, lo, hi in ((20.0, 15.0, 0.0, 86_400.0), (5.0, 3.0, 0.0, 11.0), (45.0, 30.0, 0.0, 89.0)):
        expected = norm.cdf(lo, mean, sd) + norm.sf(hi, mean, sd)
        assert _normal_outside(mean, sd, lo, hi) == pytest.approx(expected, abs=PROBABILITY_TOL)


# ---- bad entries ------------------------------------------------------------------------------------------------


def test_unknown_key_suggests_the_closest() -> None:
    key, text = one('{ key = "interceptors.fast.burnout_sped", normal = ["5.5 km/s", "0.3 km/s"] }')
    assert key == "vary[1].key" and "did you mean 'interceptors.fast.burnout_speed'" in text
    assert "burnout_sped" in text and "min_launch_elevation" in text  # the keys that may vary are listed
    key, text = one('{ key = "interceptor.fast.burnout_speed", normal = ["5.5 km/s", "0.3 km/s"] }')
    assert "did you mean 'interceptors'" in text


def test_unknown_name_suggests_names() -> None:
    key, text = one("""{ key = "earth.rotation", choice = [true] },
                       { key = "batteries.polan.launch_delay", uniform = ["1 s", "2 s"] }""")
    assert key == "vary[2].key" and "did you mean 'poland'" in text and "known: poland" in text


@pytest.mark.parametrize(("entry", "words"), [
    ('{ key = "places.kozelsk.lat", choice = [1] }', "not one of [places]"),
    ('{ key = "threats.lofted.name", choice = ["x"] }', "it has no distribution"),
    ('{ key = "missiles.icbm.model", choice = ["burnout"] }', "the model decides"),
    ('{ key = "coverage.launch_time", uniform = ["1 s", "2 s"] }', "no [coverage] table"),
    ('{ key = "assessments.x.azimuth", uniform = [1, 2] }', "not sampled"),
    ('{ key = "uncertainty.samples", choice = [1] }', "the sampling itself"),
    ('{ key = "sensors.radar-b.azimuth.center", uniform = [1, 2] }', "no azimuth sector"),
    ('{ key = "missiles.aps-liquid-icbm.stages.3.isp", uniform = ["300 s", "310 s"] }', "N from 1 to 2"),
])
def test_keys_that_cannot_vary_are_refused_with_the_reason(entry: str, words: str) -> None:
    key, text = one(entry)
    assert key == "vary[1].key" and words in text


@pytest.mark.parametrize(("entry", "where", "words"), [
    ('{ key = "interceptors.fast.burnout_speed" }', "vary[1]", "exactly one distribution"),
    ('{ key = "interceptors.fast.burnout_speed", normal = ["5.5 km/s", "0.3 km/s"], uniform = [1, 2] }',
     "vary[1].uniform", "gives normal and uniform"),
    ('{ key = "interceptors.fast.burnout_speed", normal = ["5.5 km/s"] }', "vary[1].normal", "[mean, sd]"),
    ('{ key = "interceptors.fast.burnout_speed", triangular = [1, 2] }', "vary[1].triangular",
     "[low, mode, high]"),
    ('{ key = "interceptors.fast.burnout_speed", normal = ["5.5 km/s", "-0.3 km/s"] }', "vary[1].normal",
     "sd at least 0"),
    ('{ key = "interceptors.fast.burnout_speed", normal = ["5.5 km", "0.3 km/s"] }', "vary[1].normal",
     '"km" is a unit of length, not of speed'),
    ('{ key = "missiles.icbm.rcs", normal = ["1 m2", "3 dBsm"] }', "vary[1].normal", "not in a logarithmic unit"),
    ('{ key = "batteries.poland.launch_delay", uniform = ["130 s", "120 s"] }', "vary[1].uniform", "low <= high"),
    ('{ key = "interceptors.fast.burn_time", triangular = ["50 s", "80 s", "70 s"] }', "vary[1].triangular",
     "low <= mode <= high"),
    ('{ key = "batteries.poland.launch_delay", uniform = ["-30 s", "120 s"] }', "vary[1].uniform",
     "within the key's allowed range, between 0 and 86,400 s (-30 s is not)"),
    ('{ key = "interceptors.fast.min_launch_elevation", triangular = ["0 deg", "45 deg", "95 deg"] }',
     "vary[1].triangular", "between 0 and 89 deg (95 deg is not)"),
    ('{ key = "interceptors.fast.burnout_speed", normal = ["12 km/s", "0.1 km/s"] }', "vary[1].normal",
     "the mean within the key's allowed range, greater than 0 and at most 11 km/s"),
    ('{ key = "interceptors.fast.burnout_speed", normal = ["0.1 km/s", "8 km/s"] }', "vary[1].normal",
     "at most half its probability outside"),
    ('{ key = "batteries.poland.cue", choice = ["track", "radar"] }', "vary[1].choice[2]", 'one of "track", "launch"'),
    ('{ key = "batteries.poland.interceptor", choice = ["fast", "fasst"] }', "vary[1].choice[2]",
     "did you mean 'fast'"),
    ('{ key = "threats.lofted.from", choice = ["kozelskk"] }', "vary[1].choice[1]", "did you mean 'kozelsk'"),
    ('{ key = "batteries.poland.boost_phase", choice = ["yes"] }', "vary[1].choice[1]", "true or false"),
    ('{ key = "batteries.poland.launch_delay", choice = ["60 s", "2 days"] }', "vary[1].choice", "a time"),
    ('{ key = "batteries.poland.launch_delay", choice = ["60 s", "25 h"] }', "vary[1].choice",
     "(90,000 s is not)"),
    ('{ key = "batteries.poland.cue", normal = [1, 2] }', "vary[1].normal", "only `choice` may vary it"),
    ('{ key = "batteries.poland.at", uniform = [1, 2] }', "vary[1].uniform", "only `choice` may vary it"),
    ('{ key = "batteries.poland.launch_delay", uniform = ["1 s", "2 s"], weights = [1, 2] }', "vary[1].weights",
     "weights only with `choice`"),
    ('{ key = "batteries.poland.cue", choice = ["track", "launch"], weights = [1] }', "vary[1].weights",
     "a list of 2 weights"),
    ('{ key = "batteries.poland.cue", choice = ["track", "launch"], weights = [0, 0] }', "vary[1].weights",
     "not all 0"),
    ('{ key = "batteries.poland.cue", choice = ["track", "launch"], weights = [1, -1] }', "vary[1].weights",
     "at least 0"),
    ('{ key = "batteries.poland.cue", choice = [] }', "vary[1].choice", "a non-empty list"),
    ('{ key = "batteries.poland.cue", choice = ["track"], sd = 1 }', "vary[1].sd", "only known keys"),
])
def test_bad_entries_are_refused_naming_the_entry(entry: str, where: str, words: str) -> None:
    key, text = one(entry)
    assert key == where, text
    assert words in text, text
    assert "[uncertainty]" in text


def test_a_key_varied_twice_is_refused() -> None:
    key, text = one("""{ key = "batteries.poland.launch_delay", uniform = ["1 s", "2 s"] },
                       { key = "batteries.poland.launch_delay", normal = ["60 s", "1 s"] }""")
    assert key == "vary[2].key" and "vary[1] varies it already" in text


def test_every_drawable_value_keeps_the_rules_between_keys() -> None:
    # min_altitude drawn above max_altitude (docs/scenario.md, Rules between keys)
    key, text = one('{ key = "interceptors.fast.min_altitude", uniform = ["100 km", "1600 km"] }')
    assert key == "vary[1].uniform" and "min_altitude = 1,600 km" in text and "'max_altitude'" in text
    # a lofted threat of a missile type without burnout_speed
    key, text = one('{ key = "threats.lofted.missile", choice = ["icbm", "nospeed"] }')
    assert key == "vary[1].choice" and "lofted trajectory needs" in text and "nospeed" in text
    # a staged type's first stage must lift it: a payload of 100 t is too heavy for its thrust
    key, text = one('{ key = "missiles.aps-liquid-icbm.payload_mass", uniform = ["1 t", "100 t"] }')
    assert "vacuum thrust exceeds the missile's weight" in text
    # the same cut beyond a normal's 8 sd is not reached; within them it is
    assert load('{ key = "interceptors.fast.min_altitude", normal = ["100 km", "10 km"] }').uncertainty
    key, text = one('{ key = "interceptors.fast.min_altitude", normal = ["1000 km", "100 km"] }')
    assert "'max_altitude'" in text


@pytest.mark.parametrize(("extra", "key", "words"), [
    ("samples = 0", "samples", "between 1 and 1,000,000"),
    ("samples = 1_000_001", "samples", "between 1 and 1,000,000"),
    ("samples = 10.5", "samples", "an integer"),
    ("seed = -1", "seed", "at least 0"),
    ("sensitivity_samples = true", "sensitivity_samples", "between 0 and 1,000,000"),
    ("colour = 1", "colour", "only known keys: samples, seed, sensitivity_samples, vary"),
])
def test_bad_table_keys(extra: str, key: str, words: str) -> None:
    found = problems('{ key = "earth.rotation", choice = [true] }', extra)
    assert [p.key for p in found] == [key] and words in str(found[0])


def test_vary_must_be_a_non_empty_list_of_tables() -> None:
    for body, key in (("vary = []", "vary"), ("vary = [1]", "vary[1]"), ("samples = 5", "vary")):
        with pytest.raises(ScenarioError) as error:
            load_scenario_text(f"{BASE}\n[uncertainty]\n{body}\n", "unc.toml")
        assert [p.key for p in error.value.problems] == [key]


def test_a_bad_table_exits_2_from_the_command_line(shieldlab_cli, toml_file) -> None:
    path = toml_file(f'{BASE}\n[uncertainty]\nvary = [{{ key = "batteries.poland.launch_delay", '
                     f'uniform = ["-30 s", "120 s"] }}]\n', "bad-uncertainty.toml")
    run = shieldlab_cli("engage", path)
    assert run.returncode == MALFORMED_EXIT, run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""
    assert "[uncertainty] key 'vary[1].uniform'" in run.stderr and "between 0 and 86,400 s" in run.stderr


# ---- every key that may vary lives where its path says ---------------------------------------------------------

EVERY = BASE + """
[[threats]]
name = "gamma"
missile = "icbm"
from = "kozelsk"
to = "washington"
trajectory = { gamma = "25 deg" }

[[threats]]
name = "unaimed"
missile = "icbm"
from = "kozelsk"
azimuth = "320 deg"
gamma = "30 deg"
"""


def _get(obj, path):
    for step in path:
        if isinstance(obj, dict):
            obj = obj[step]
        elif isinstance(obj, tuple):
            obj = obj[step] if isinstance(step, int) else next(x for x in obj if x.name == step)
        else:
            obj = getattr(obj, step)
    return obj


def test_every_target_path_reaches_a_model_attribute() -> None:
    s = load_scenario_text(EVERY, "unc.toml")
    entries = [("missiles", n, None) for n in s.missiles] + [("interceptors", n, None) for n in s.interceptors]
    entries += [(section, e.name, i) for section in ("sensors", "batteries", "threats")
                for i, e in enumerate(getattr(s, section))]
    entries += [("earth", None, None)]
    seen = 0
    for section, name, index in entries:
        for sub, target in targets(s, section, name, index).items():
            parent = _get(s, target.path[:-1])
            field_names = {f.name for f in dataclasses.fields(parent)}
            assert target.path[-1] in field_names, (section, name, sub, target.path)
            seen += 1
    assert seen > 60
    assert targets(s, "threats", "gamma", 2)["trajectory.gamma"].path == ("threats", "gamma", "trajectory", "gamma_deg")
    assert "trajectory.gamma" not in targets(s, "threats", "lofted", 0)


# ---- shieldlab.uncertainty.keys ---------------------------------------------------------------------------------


def test_set_path_replaces_one_value_and_shares_the_rest() -> None:
    s = load_scenario_text(EVERY, "unc.toml")
    t = set_path(s, ("interceptors", "fast", "burnout_speed_m_s"), 5000.0)
    assert t.interceptors["fast"].burnout_speed_m_s == 5000.0
    assert s.interceptors["fast"].burnout_speed_m_s == 5500.0  # the original unchanged
    assert t.missiles is s.missiles and t.sensors is s.sensors and t.threats is s.threats
    u = set_path(s, ("missiles", "aps-liquid-icbm", "stages", 1, "isp_s"), 310.0)
    stages, old = u.missiles["aps-liquid-icbm"].stages, s.missiles["aps-liquid-icbm"].stages
    assert stages[1].isp_s == 310.0 and stages[0] is old[0] and old[1].isp_s != 310.0
    assert u.missiles["icbm"] is s.missiles["icbm"]
    v = set_path(s, ("threats", "gamma", "trajectory", "gamma_deg"), 30.0)
    assert v.threats[2].trajectory == Trajectory("gamma", 30.0) and v.threats[0] is s.threats[0]
    w = set_path(s, ("sensors", "radar-a", "sector", "center_deg"), 95.0)
    assert w.sensors[0].sector.center_deg == 95.0 and w.sensors[1] is s.sensors[1]  # type: ignore[union-attr]


@pytest.mark.parametrize("path", [
    ("interceptors", "slow", "burnout_speed_m_s"),
    ("threats", "nobody", "launch"),
    ("interceptors", "fast", "burnout_speed"),
    ("interceptors", "fast", "boost_rcs"),
    ("missiles", "aps-liquid-icbm", "stages", 5, "isp_s"),
])
def test_set_path_names_a_wrong_step(path: tuple) -> None:
    s = load_scenario_text(BASE, "unc.toml")
    with pytest.raises(KeyError, match=repr(path[-1]) if path[-2] != "stages" else "index 5"):
        set_path(s, path, 1.0)


def test_apply_puts_every_drawn_value_in_place() -> None:
    s = load("""
  { key = "interceptors.fast.burnout_speed", normal = ["5.5 km/s", "0.3 km/s"] },
  { key = "batteries.poland.cue", choice = ["track", "launch"] },
  { key = "threats.lofted.from", choice = ["kozelsk", "washington"] },
  { key = "batteries.poland.interceptor", choice = ["fast", "sm3-iia"] },
""")
    specs = s.uncertainty.vary  # type: ignore[union-attr]
    drawn = apply(s, specs, (5100.0, "launch", specs[2].choices[1], "sm3-iia"))
    assert drawn.interceptors["fast"].burnout_speed_m_s == 5100.0
    assert drawn.batteries[0].cue == "launch" and drawn.batteries[0].interceptor == "sm3-iia"
    assert drawn.threats[0].launch.name == "washington" and drawn.threats[1] is s.threats[1]
    assert "sm3-iia" in drawn.interceptors  # the drawn type is there to fly
    same = apply(s, (), ())
    assert same is s
    with pytest.raises(ValueError, match="2 values for 4 varied keys"):
        apply(s, specs, (1.0, 2.0))
    assert math.isfinite(drawn.interceptors["fast"].burn_time_s)


@pytest.mark.parametrize("entry", [
    '{ key = "missiles.aps-liquid-icbm.drag_coefficient", uniform = [0.1, 1e400] }',
    '{ key = "missiles.aps-liquid-icbm.drag_coefficient", uniform = [0.1, 1%s] }' % ("0" * 400),
    '{ key = "batteries.poland.cue", choice = ["track", "launch"], weights = [1, 1%s] }' % ("0" * 400),
    '{ key = "batteries.poland.cue", choice = ["track", "launch"], weights = [1, nan] }',
    '{ key = "batteries.poland.interceptor", choice = [["fast"]] }',
    '{ key = "threats.lofted.missile", choice = [{ name = "icbm" }] }',
    '{ key = 5, normal = [1, 2] }',
    '{ key = "threats.lofted.trajectory", choice = [[1]] }',
])
def test_odd_values_are_refused_not_crashed_on(entry: str) -> None:
    found = problems(entry)
    assert found and all(p.key.startswith("vary[1]") for p in found), [str(p) for p in found]


# ---- any entry is read or refused cleanly ------------------------------------------------------------------------

FUZZ_KEYS = ("interceptors.fast.burnout_speed", "batteries.poland.launch_delay", "batteries.poland.cue",
             "batteries.poland.interceptor", "threats.lofted.from", "threats.lofted.trajectory", "earth.model",
             "missiles.aps-liquid-icbm.stages.1.isp", "missiles.aps-liquid-icbm.drag_coefficient",
             "sensors.radar-a.azimuth.center", "threats.lofted.missile", "missiles.icbm.rcs")
_SCALAR = st.one_of(
    st.integers(-10**30, 10**30), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.sampled_from(["5 km/s", "-3 s", "0.1 m2", "-10 dBsm", "1e400 m", "track", "fast", "kozelsk", "lofted",
                     "x\u001b[31m", "", "200 km", "3 deg", "1 t"]),
)
_VALUE = st.recursive(_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.sampled_from(["gamma", "lat", "lon"]),
                                                                        inner, max_size=2)), max_leaves=6)


@settings(max_examples=150, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(key=st.one_of(st.sampled_from(FUZZ_KEYS), st.text(max_size=40)),
       kinds=st.lists(st.sampled_from(["normal", "uniform", "triangular", "choice", "weights"]), max_size=3,
                      unique=True),
       values=st.lists(_VALUE, min_size=3, max_size=3))
def test_any_entry_is_read_or_refused_cleanly(key: str, kinds: list[str], values: list) -> None:
    data = tomllib.loads(BASE)
    data["uncertainty"] = {"vary": [{"key": key, **dict(zip(kinds, values))}]}
    try:
        scenario = scenario_from_dict(data, "unc.toml")
    except ScenarioError as error:
        for problem in error.problems:
            assert problem.file == "unc.toml"
            assert not CONTROL.search(str(problem)), str(problem)
        return
    assert scenario.uncertainty is not None and len(scenario.uncertainty.vary) == 1


def test_coverage_earth_numbers_and_fixed_trajectory_angles() -> None:
    base = EVERY + """
[coverage]
missile = "icbm"
from = "kozelsk"
to = ["washington"]
trajectory = { gamma = "30 deg" }
"""
    s = load("""
  { key = "coverage.launch_time", uniform = ["0 s", "10 min"] },
  { key = "coverage.trajectory.gamma", triangular = ["20 deg", "30 deg", "40 deg"] },
  { key = "coverage.missile", choice = ["icbm", "icbm-liquid"] },
  { key = "earth.model", choice = ["wgs84", "sphere"], weights = [3, 1] },
  { key = "missiles.aps-liquid-icbm.drag_coefficient", normal = [0.3, 0.05] },
  { key = "threats.gamma.trajectory.gamma", normal = ["25 deg", "1 deg"] },
  { key = "threats.unaimed.azimuth", uniform = ["310 deg", "330 deg"] },
""", base=base)
    launch, gamma, missile, model, drag, threat_gamma, azimuth = s.uncertainty.vary  # type: ignore[union-attr]
    assert launch.path == ("coverage", "launch_time_s") and launch.params == (0.0, 600.0)
    assert gamma.path == ("coverage", "trajectory", "gamma_deg") and gamma.unit == "deg"
    assert (gamma.low, gamma.high) == (0.0, 90.0)  # the open range 0 < gamma < 90 deg
    assert missile.choices == ("icbm", "icbm-liquid") and "icbm-liquid" in s.missiles
    assert model.path == ("earth", "model") and model.weights == (0.75, 0.25)
    assert drag.path == ("missiles", "aps-liquid-icbm", "drag_coefficient") and drag.unit is None
    # 6 sd above the range's 0: Phi(-6) = 9.9e-10 of the probability is cut
    assert (drag.low, drag.high) == (0.0, 5.0) and drag.truncated and norm.cdf(-6.0) > TRUNCATION_TOLERANCE
    assert threat_gamma.path == ("threats", "gamma", "trajectory", "gamma_deg")
    assert azimuth.path == ("threats", "unaimed", "azimuth_deg")
    # a fixed-gamma key of a trajectory without one is refused, naming why
    key, text = one('{ key = "threats.lofted.trajectory.gamma", uniform = ["20 deg", "30 deg"] }')
    assert key == "vary[1].key" and "has no fixed gamma" in text
