"""The `shieldlab` command run as a user runs it: a subprocess (docs/scenario.md).

Exit status 0 on success (uncomputable threats are data), 2 on a malformed scenario or unusable arguments,
with messages on stderr naming the file, table, key and value, no traceback and nothing on stdout.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scenarios import (EUROPE_PLACES, FAST, IRBM, SEMNAN_BERLIN, battery, header, missile, places, radar,
                       replace_once, threat)

import shieldlab
from shieldlab import constants as C

MALFORMED_EXIT = 2        # docs/scenario.md (its opening): a malformed scenario exits with status 2

# the engagement-europe threat (tests/scenarios.py); one that cannot be computed (a lofted flight of a missile too
# slow for it); a missile type without burnout_speed for a malformed variant
SCENARIO = (header("cli-check") + places(*EUROPE_PLACES) + IRBM
            + missile("slowpoke", "60 s", "50 km", "50 km", "2.0 km/s") + missile("nospeed", burnout_speed=None)
            + FAST + radar("kurecik-radar", "kurecik", "1800 km", "1 deg")
            + battery("romania-battery", "deveselu", "fast") + battery("poland-battery", "redzikowo", "fast")
            + SEMNAN_BERLIN + threat("slowpoke-lofted", "slowpoke", "semnan", "berlin", trajectory="lofted"))
THREATS = ("semnan-berlin", "slowpoke-lofted")
BATTERIES = ("romania-battery", "poland-battery")
SENSORS = ("kurecik-radar",)


@pytest.fixture(scope="module")
def scenario_file(toml_file) -> Path:
    return toml_file(SCENARIO, "cli-check.toml")


@pytest.fixture(scope="module")
def json_run(shieldlab_cli, scenario_file):
    return shieldlab_cli("engage", scenario_file, "--json")


# ---- engage --json ---------------------------------------------------------------------------------------------


def test_engage_json_prints_only_json(json_run):
    assert json_run.returncode == 0, json_run.stderr
    assert "Traceback" not in json_run.stderr, json_run.stderr
    # json.loads rejects anything besides the one document (other than surrounding whitespace)
    doc = json.loads(json_run.stdout)
    assert json_run.stdout.lstrip().startswith("{") and json_run.stdout.rstrip().endswith("}")
    assert set(doc) == {"shieldlab_version", "scenario", "earth", "threats"}, sorted(doc)
    assert doc["shieldlab_version"] == shieldlab.__version__
    assert doc["scenario"] == "cli-check"
    assert doc["earth"] == {"model": "wgs84", "rotation": True, "j2": True}
    assert [t["name"] for t in doc["threats"]] == list(THREATS)
    for t in doc["threats"]:
        assert [d["sensor"] for d in t["detections"]] == list(SENSORS), t["detections"]
        assert [e["battery"] for e in t["engagements"]] == list(BATTERIES), t["engagements"]


THREAT_KEYS = {"name", "error", "launch", "aim", "launch_azimuth_deg", "burnout", "apogee", "impact",
               "ground_range_km", "detections", "track_time_s", "engagements",
               "max_range_km", "kick_deg", "cutoff_s"}  # the last three: staged types only (null otherwise)
COMPUTED = ("launch_azimuth_deg", "burnout", "apogee", "impact", "ground_range_km", "track_time_s")


def test_uncomputable_threat_is_reported_and_others_computed(json_run):
    # docs/scenario.md, `shieldlab engage FILE --json`: a threat that cannot be computed has `error` set to a
    # sentence and the computed fields null;
    # the other threats are still computed and the exit status is still 0
    assert json_run.returncode == 0, json_run.stderr
    good, bad = json.loads(json_run.stdout)["threats"]
    for t in (good, bad):
        assert set(t) == THREAT_KEYS, sorted(t)  # nothing omitted: a missing value is null
    assert isinstance(bad["error"], str) and len(bad["error"].split()) >= 5, bad["error"]
    assert "slowpoke" in bad["error"], f"the error does not name the missile type: {bad['error']!r}"
    for key in COMPUTED:
        assert bad[key] is None, (key, bad[key])
    assert all(d["time_s"] is None for d in bad["detections"]), bad["detections"]
    for e in bad["engagements"]:
        assert e["feasible"] is False and e["first_intercept"] is None and e["last_intercept"] is None, e
    # the launch point and aim are inputs, still reported
    assert bad["launch"]["lat_deg"] == pytest.approx(35.234) and bad["aim"]["lon_deg"] == pytest.approx(13.405)

    assert good["error"] is None
    for key in COMPUTED:
        assert good[key] is not None, (key, good)
    # engagement-europe validation vector: the same threat (apogee 849.6 km, impact 1126.9 s, both batteries ok)
    assert good["apogee"]["altitude_km"] == pytest.approx(849.6, abs=1.0)
    assert good["impact"]["time_s"] == pytest.approx(1126.9, abs=1.0)
    assert [e["feasible"] for e in good["engagements"]] == [True, True], good["engagements"]


# ---- human tables -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [None, "200"], ids=["default-width", "wide"])
def test_human_table_names_every_threat_and_battery(shieldlab_cli, scenario_file, columns):
    proc = shieldlab_cli("engage", scenario_file, columns=columns)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    with pytest.raises(json.JSONDecodeError):
        json.loads(proc.stdout)  # without --json: tables, not JSON
    missing = [n for n in THREATS + BATTERIES if n not in proc.stdout]
    assert not missing, f"the table does not mention {missing}:\n{proc.stdout}"


def test_human_table_shows_each_engagements_margin(shieldlab_cli, scenario_file):
    """The battery table's margin column (issue 12): the JSON's margin_s, "+N s" or "late by N s", "—" when null."""
    from shieldlab.output.table import margin_text

    doc = json.loads(shieldlab_cli("engage", scenario_file, "--json").stdout)
    proc = shieldlab_cli("engage", scenario_file, columns="200")
    assert proc.returncode == 0, proc.stderr
    margins = [e["margin_s"] for t in doc["threats"] if not t["error"] for e in t["engagements"]]
    assert any(m is not None for m in margins)
    for m in margins:
        assert margin_text(m).plain in proc.stdout
    assert "margin: the latest interceptor launch that still intercepts" in proc.stdout


@pytest.mark.parametrize(("margin_s", "text"), [(42.4, "+42 s"), (0.0, "+0.0 s"), (3.26, "+3.3 s"),
                                                (-17.2, "late by 17 s"), (-0.4, "late by 0.4 s"), (None, "—")])
def test_margin_text(margin_s, text):
    from shieldlab.output.table import margin_text

    assert margin_text(margin_s).plain == text


# ---- malformed scenarios -----------------------------------------------------------------------------------------

# (id, old text, new text, table as written in messages, key, value as written in the file (TOML))
MALFORMED = [
    ("latitude-91", "kurecik = { lat = 38.34944,", "kurecik = { lat = 91,", "places.kurecik", "lat", "91"),
    ("negative-burn-time", IRBM, missile("irbm", burn_time="-120 s"), "missiles.irbm", "burn_time", '"-120 s"'),
    ("unknown-key", 'max_altitude = "1200 km"', 'max_altitude = "1200 km"\nmax_altitud = "1300 km"',
     "interceptors.fast", "max_altitud", '"1300 km"'),
    ("missing-place-name", 'at = "redzikowo"', 'at = "redzikovo"', "batteries #2 (poland-battery)", "at",
     '"redzikovo"'),
    ("lofted-without-speed", 'missile = "slowpoke"', 'missile = "nospeed"', "threats #2 (slowpoke-lofted)",
     "missile", '"nospeed"'),
    ("bad-unit", 'max_range = "1800 km"', 'max_range = "1800 furlongs"', "sensors #1 (kurecik-radar)",
     "max_range", '"1800 furlongs"'),
]


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "table"])
@pytest.mark.parametrize(("case", "old", "new", "table", "key", "value"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_scenario_exits_2_with_a_message(shieldlab_cli, tmp_path, case, old, new, table, key, value,
                                                   as_json):
    path = tmp_path / "malformed.toml"
    path.write_text(replace_once(SCENARIO, old, new), encoding="utf-8")
    proc = shieldlab_cli("engage", path, *(["--json"] if as_json else []))
    assert proc.returncode == MALFORMED_EXIT, (case, proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == "", f"{case}: something was written on stdout: {proc.stdout!r}"
    assert "Traceback" not in proc.stderr, proc.stderr
    err = proc.stderr
    assert str(path) in err, f"{case}: stderr does not name the file {path}:\n{err}"
    # the table as the loader writes it, "[missiles.irbm]" (printing it through rich markup once swallowed it)
    assert f"[{table}]" in err, f"{case}: stderr does not name the table [{table}]:\n{err}"
    assert f"'{key}'" in err, f"{case}: stderr does not name the key {key!r}:\n{err}"
    assert value in err, f"{case}: stderr does not show the value {value!r}:\n{err}"


# (file name, its text or None for no file, words stderr must hold besides the file's path)
UNREADABLE = [
    ("syntax.toml", 'name = "x"\n[missiles.irbm\nburn_time = 3\n', ["TOML"]),
    ("does-not-exist.toml", None, []),
]


@pytest.mark.parametrize(("name", "text", "words"), UNREADABLE, ids=["toml-syntax-error", "missing-file"])
def test_unreadable_scenario_exits_2(shieldlab_cli, tmp_path, name, text, words):
    path = tmp_path / name
    if text is not None:
        path.write_text(text, encoding="utf-8")
    proc = shieldlab_cli("engage", path, "--json")
    assert proc.returncode == MALFORMED_EXIT, proc
    assert proc.stdout == "", proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    assert str(path) in proc.stderr, f"stderr does not name the file:\n{proc.stderr}"
    for word in words:
        assert word in proc.stderr, proc.stderr


def test_engage_without_a_file_is_a_usage_error(shieldlab_cli):
    proc = shieldlab_cli("engage")
    assert proc.returncode == MALFORMED_EXIT, proc
    assert proc.stdout == "" and "Traceback" not in proc.stderr, proc


# ---- version ------------------------------------------------------------------------------------------------------


def test_version(shieldlab_cli):
    proc = shieldlab_cli("version")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"shieldlab {shieldlab.__version__}", proc.stdout
    # the model constants of docs/models.md, Shape, rotation and gravity constants, as the code holds them
    for name in ("WGS84_A_M", "WGS84_F", "SPHERE_R_M", "GM_M3_S2", "OMEGA_RAD_S", "J2"):
        assert f"{name} = {getattr(C, name)!r}" in proc.stdout, (name, proc.stdout)
    assert "GM_M3_S2 = 398600441800000.0" in proc.stdout and "OMEGA_RAD_S = 7.292115e-05" in proc.stdout


def test_engage_of_a_scenario_without_threats_is_an_empty_document(shieldlab_cli):
    """A coverage-only scenario has no [[threats]]: engage succeeds with an empty list and says why."""
    src = Path(__file__).resolve().parents[1] / "examples" / "coverage-us-east.toml"
    p = shieldlab_cli("engage", src, "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["threats"] == []
    p = shieldlab_cli("engage", src)
    assert p.returncode == 0 and "no [[threats]]" in p.stdout and "shieldlab coverage" in p.stdout


# ---- staged missile types (docs/scenario.md, Staged missile types; docs/models.md, The staged model) ----------
STAGED_TYPE = """
[missiles.liquid]
model = "staged"
payload_mass = "1000 kg"
diameter = "2.4 m"
stages = [
  { propellant_mass = "50 t", dry_mass = "5 t", burn_time = "150 s", isp = "290 s" },
  { propellant_mass = "12 t", dry_mass = "1.5 t", burn_time = "120 s", isp = "320 s" },
]
"""


def test_staged_threats_are_flown_beside_the_others(shieldlab_cli, toml_file):
    text = (SCENARIO + STAGED_TYPE + threat("staged-shot", "liquid", "semnan", azimuth="300 deg", kick="0.5 deg")
            + threat("crash", "liquid", "semnan", azimuth="300 deg", kick="5 deg"))
    proc = shieldlab_cli("engage", toml_file(text, "staged.toml"), "--json")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    good, _, staged, crash = json.loads(proc.stdout)["threats"]
    assert staged["error"] is None and staged["kick_deg"] == 0.5 and staged["cutoff_s"] is None
    assert staged["burnout"]["time_s"] == pytest.approx(270.0) and staged["max_range_km"] > staged["ground_range_km"]
    # a kick too large for this rocket's thrust: it comes back to the ground before burnout (an error, the run goes on)
    assert "crashed" in crash["error"] and all(crash[key] is None for key in COMPUTED), crash
    # the engagement-europe threat beside it is computed as alone (tests/vectors/engagement-europe)
    assert good["error"] is None and good["apogee"]["altitude_km"] == pytest.approx(849.6, abs=1.0)


def test_coverage_of_a_staged_type(shieldlab_cli, toml_file):
    """Coverage pairs of a staged type are aimed and flown (lofted: a full burn); a fixed kick that does not come
    down at the aim point is an error for that pair, not a crash."""
    for trajectory, ok in (('"lofted"', True), ('{ kick = "5 deg" }', False)):
        text = (header("staged-coverage") + places(*EUROPE_PLACES) + STAGED_TYPE + FAST
                + battery("poland-battery", "redzikowo", "fast")
                + f'\n[coverage]\nmissile = "liquid"\ntrajectory = {trajectory}\nfrom = "semnan"\n'
                  'to = ["berlin", "redzikowo"]\n')
        proc = shieldlab_cli("coverage", toml_file(text, "staged-coverage.toml"), "--json")
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        records = json.loads(proc.stdout)["pairs"]
        assert len(records) == 2
        if ok:
            assert all(r["error"] is None and r["cutoff_s"] is None for r in records), records
        else:
            assert all("with a fixed kick of 5 deg" in r["error"] for r in records), records


