"""The bundled catalog of open-literature entries (shieldlab.catalog), its use by name in scenario files
(shieldlab.scenario.load) and the `shieldlab catalog` command."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from doc_pointers import DEVELOPER_FILE, page_headings, unknown_headings
from shieldlab import catalog
from shieldlab.api import ScenarioError, engage, load_scenario, load_scenario_text
from shieldlab.scenario.load import scenario_from_dict
from shieldlab.scenario.model import Point, Scenario

TAGS = {"R-H", "R-M", "R-L", "C", "U", "A"}
ROOT = Path(__file__).resolve().parents[1]
SPHERE_R_KM = 6371.0  # the sphere of the check distances, docs/sources.md "Coordinates"


def raw_files() -> dict[str, dict]:
    base = resources.files("shieldlab").joinpath("data/catalog")
    return {kind: tomllib.loads(base.joinpath(f"{kind}.toml").read_text(encoding="utf-8")) for kind in catalog.KINDS}


def great_circle_km(a: Point, b: Point) -> float:
    p1, l1, p2, l2 = map(math.radians, (a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg))
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((l2 - l1) / 2) ** 2
    return 2 * SPHERE_R_KM * math.asin(math.sqrt(h))


def place(name: str) -> Point:
    return catalog.get("places", name).model


# ---- the data ----------------------------------------------------------------------------------------------------


def test_bundled_catalog_is_sound() -> None:
    assert catalog.validate() == []


def test_every_entry_has_source_confidence_and_note() -> None:
    files = raw_files()
    for kind, data in files.items():
        assert data["version"] == catalog.catalog_version() == "2026.12.1"
        assert data["meta"]["kind"] == kind and data["meta"]["description"].strip()
        assert data[kind], kind
        for name, entry in data[kind].items():
            where = f"{kind}.{name}"
            assert isinstance(entry.get("source"), str) and entry["source"].strip(), where
            assert isinstance(entry.get("note"), str) and entry["note"].strip(), where
            assert entry.get("confidence") in TAGS, where
            assert set(entry.get("key_confidence", {}).values()) <= TAGS, where
            assert all(isinstance(t, str) and t.strip() for t in entry.get("key_source", {}).values()), where
            assert isinstance(entry.get("assumption", False), bool), where
    # and the loaded entries are exactly the files' entries, each with its model object
    for kind in catalog.KINDS:
        assert catalog.names(kind) == tuple(files[kind][kind])
        assert all(e.model is not None for e in catalog.entries(kind))


def test_coordinates_in_range() -> None:
    for entry in catalog.entries("places"):
        p = entry.model
        assert -90.0 <= p.lat_deg <= 90.0 and -180.0 < p.lon_deg <= 180.0, entry.name
        assert 0.0 <= p.alt_m < 9000.0, entry.name
        assert p.name == entry.name
    for entry in catalog.entries("radars"):
        assert entry.model.at == place(entry.values["site"])


@pytest.mark.parametrize(("kind", "names"), [
    ("places", "kozelsk tatishchevo teykovo yoshkar-ola vypolzovo uzhur dombarovsky novosibirsk barnaul irkutsk "
               "nizhny-tagil semnan shahroud tabriz sohae tonghae redzikowo deveselu fort-greely vandenberg "
               "washington new-york boston chicago seattle los-angeles denver london paris berlin warsaw rome moscow "
               "fort-drum camp-ethan-allen nas-portsmouth-sere camp-ravenna kurecik fylingdales thule gabala"),
    ("missiles", "icbm-solid icbm-liquid irbm-liquid mrbm"),
    ("interceptors", "sm3-ia sm3-ib sm3-iia sm3-iib gbi-3stage gbi-2stage-mda gbi-2stage-postol thaad"),
    ("radars", "fylingdales thule clear beale cape-cod cobra-dane cavalier tpy2-kurecik armavir lekhtusi balkhash "
               "gantsevichi gabala"),
])
def test_expected_entries_present(kind: str, names: str) -> None:
    missing = set(names.split()) - set(catalog.names(kind))
    assert not missing


def test_honest_confidence_where_the_literature_has_none() -> None:
    # coordinates of the candidate East-coast GBI sites are not from the literature
    for name in ("fort-drum", "camp-ethan-allen", "nas-portsmouth-sere", "camp-ravenna", "gabala"):
        assert catalog.get("places", name).confidence == "U"
    # unpublished numbers are tagged as assumptions or unverified, never as literature values
    assert catalog.get("interceptors", "thaad").confidence_of("burnout_speed") == "A"
    assert catalog.get("interceptors", "sm3-iia").confidence_of("burnout_speed") == "U"
    assert catalog.get("interceptors", "sm3-iib").confidence_of("burnout_speed") == "R-M"
    assert catalog.get("interceptors", "sm3-iib").confidence_of("burn_time") == "A"
    assert catalog.get("interceptors", "gbi-3stage").confidence == "C"
    assert catalog.get("radars", "tpy2-kurecik").confidence_of("max_range") == "A"
    assert catalog.get("radars", "gabala").confidence == "U"
    for entry in catalog.entries("missiles"):
        assert entry.assumption and entry.confidence == "A"
    assert catalog.get("missiles", "icbm-solid").confidence_of("burn_time") == "R-M"
    cobra = catalog.get("radars", "cobra-dane")  # an official USAF figure for the range; the rest the tracker table
    assert cobra.confidence == "R-M" and cobra.confidence_of("azimuth") == cobra.confidence_of("min_elevation") == "R-L"


def test_key_numbers() -> None:
    speeds = {e.name: e.model.burnout_speed_m_s for e in catalog.entries("interceptors")}
    assert speeds["sm3-iib"] == 5500.0 and speeds["sm3-iia"] == 4500.0 and speeds["sm3-ib"] == 3000.0
    assert speeds["gbi-3stage"] == 6300.0
    assert speeds["gbi-2stage-mda"] == 5400.0 and speeds["gbi-2stage-postol"] >= 7700.0
    assert catalog.get("interceptors", "sm3-iia").model.max_altitude_m == 1_000_000.0
    # APS Boost-Phase Intercept study (2003), "about 170 s" for a solid ICBM (IEEE Spectrum, Mar 2005; docs/sources.md
    # "Boost durations and range classes"): the cited source's number (catalog versions before 2026.12.1 had 180 s)
    assert catalog.get("missiles", "icbm-solid").model.burn_time_s == 170.0
    assert 250.0 <= catalog.get("missiles", "icbm-liquid").model.burn_time_s <= 300.0
    kurecik = place("kurecik")
    assert kurecik.alt_m == 2085.0
    gabala = catalog.get("radars", "gabala").model
    assert gabala.max_range_m == 6_000_000.0 and (gabala.at.lat_deg, gabala.at.lon_deg) == (40.87, 47.79)


# docs/sources.md "Coordinates" [C]: great-circle distances on a 6371 km sphere with the catalog's coordinates
DISTANCES_KM = [
    ("kozelsk", "washington", 7869), ("kozelsk", "new-york", 7555), ("tatishchevo", "washington", 8508),
    ("teykovo", "new-york", 7563), ("vypolzovo", "boston", 6893), ("dombarovsky", "chicago", 9233),
    ("uzhur", "seattle", 8184), ("semnan", "washington", 10354), ("semnan", "new-york", 10035),
    ("semnan", "london", 4605), ("semnan", "warsaw", 3206), ("semnan", "rome", 3641),
    ("sohae", "seattle", 8273), ("sohae", "los-angeles", 9579), ("sohae", "washington", 11002),
    ("redzikowo", "kozelsk", 1225), ("redzikowo", "vypolzovo", 1096), ("redzikowo", "teykovo", 1484),
    ("deveselu", "tatishchevo", 1780), ("kurecik", "semnan", 1475), ("redzikowo", "semnan", 3541),
    ("deveselu", "semnan", 2693),
]


@pytest.mark.parametrize(("a", "b", "km"), DISTANCES_KM)
def test_literature_distances(a: str, b: str, km: float) -> None:
    assert great_circle_km(place(a), place(b)) == pytest.approx(km, abs=10.0)


@pytest.mark.parametrize(("coverage", "sector"), [
    ((347, 227), (107, 120)),   # Cape Cod
    ((126, 6), (246, 120)),     # Beale
    ((184, 64), (304, 120)),    # Clear
    ((297, 177), (57, 120)),    # Thule
    ((259, 19), (319, 60)),     # Cobra Dane, low face
    ((298, 78), (8, 70)),       # Cavalier
    ((0, 360), (180, 180)),     # Fylingdales: all round (the centre does not matter)
    ((10, 50), (30, 20)),       # no wrap
])
def test_sector_from_coverage(coverage: tuple[float, float], sector: tuple[float, float]) -> None:
    center, half = catalog.sector_from_coverage(*coverage)
    assert half == pytest.approx(sector[1])
    if half < 180:
        assert center == pytest.approx(sector[0])


def test_radar_sectors_match_their_coverage() -> None:
    checked = 0
    for entry in catalog.entries("radars"):
        if "az_coverage" in entry.extra:
            center, half = catalog.sector_from_coverage(*entry.extra["az_coverage"])
            assert entry.model.sector.half_width_deg == pytest.approx(half), entry.name
            if half < 180:
                assert entry.model.sector.center_deg == pytest.approx(center), entry.name
            checked += 1
    assert checked == 7
    assert catalog.get("radars", "cape-cod").model.sector.center_deg == 107.0


MILE_M = 1609.344  # the international mile (NIST SP 811)


def test_sourced_keys_carry_their_own_source_and_confidence() -> None:
    """Every sensitivity / interceptor-shaping key of every entry has its own citation and tag (raw files and the
    loaded entries agree); the missile cross-sections are there, as assumptions."""
    assert set(catalog.SOURCED_KEYS) == {
        "rcs", "rcs_boost", "reference_range", "reference_rcs", "track_formation", "min_launch_elevation",
        "energy_management"}
    files = raw_files()
    given = 0
    for kind, data in files.items():
        for name, raw in data[kind].items():
            entry = catalog.get(kind, name)
            for key in catalog.SOURCED_KEYS:
                if key not in raw:
                    continue
                given += 1
                assert raw["key_source"][key].strip() and raw["key_confidence"][key] in TAGS, (kind, name, key)
                assert entry.source_of(key) == raw["key_source"][key] != entry.source
                assert f"{key}: {raw['key_source'][key]}" in entry.citation
    assert given >= 2 * len(files["missiles"]["missiles"])
    for entry in catalog.entries("missiles"):
        # assumptions [A], inside the working ranges (re-entry vehicles 0.01-0.1 m2, boosters ~10 m2 or more)
        assert entry.confidence_of("rcs") == entry.confidence_of("rcs_boost") == "A", entry.name
        assert "Assumption" in entry.source_of("rcs") and "Assumption" in entry.source_of("rcs_boost")
        assert 0.01 <= entry.model.rcs_m2 <= 0.1 and entry.model.boost_rcs_m2 >= 10.0, entry.name
        assert entry.model.rcs_m2 == 0.1 and entry.model.rcs_boost_m2 == 10.0
        assert set(entry.assumed_keys()) >= {"rcs", "rcs_boost"}


def test_radar_notes_say_what_their_range_is() -> None:
    """No open source retrieved states a detection range at a stated cross-section: no catalog radar has a reference
    range (nothing invented), and each radar's note says so; each note says what kind of range max_range is."""
    for entry in catalog.entries("radars"):
        radar = entry.model
        if radar.reference_range_m is None:
            assert "no reference range" in entry.note.lower() or "no reference_range" in entry.note.lower(), entry.name
            assert radar.range_m(0.01) == radar.range_m(10.0) == radar.max_range_m, entry.name
        else:  # a reference range must be the source's, with its own citation and tag (see the test above)
            assert "reference_range" in entry.key_source and "reference_rcs" in entry.key_source, entry.name
        note = entry.note.lower()
        assert "not a warhead detection range" in note or "not published" in note, entry.name


def test_corrected_values_are_the_sources() -> None:
    # Cobra Dane: "its ability to detect objects about 2,000 miles away" (21st Space Wing PA, 5 Apr 2013)
    cobra = catalog.get("radars", "cobra-dane")
    assert cobra.values["max_range"] == "2000 mi" and cobra.model.max_range_m == pytest.approx(2000 * MILE_M)
    assert "2,000 miles" in cobra.source and "4,200 km" in cobra.note
    # GBI three-stage: 6.3 km/s is the surface-burnout fit; burnout at 300 km gives 5.9-6.0 km/s: not a lower bound
    gbi = catalog.get("interceptors", "gbi-3stage")
    assert "lower-bound" not in gbi.label.lower() and "lower bound" not in gbi.label.lower()
    assert "NOT a lower bound" in gbi.note and "5.9-6.0 km/s" in gbi.note and gbi.model.burnout_speed_m_s == 6300.0
    # Gabala: Russia ended its use from 10 December 2012 (MFA Azerbaijan; Reuters 12 Dec 2012)
    gabala = catalog.get("radars", "gabala")
    assert "10 December 2012" in gabala.note and "hypothetical" in gabala.note and "Dec 2012" in gabala.label
    assert "10 December 2012" in gabala.source and "10 December 2012" in catalog.get("places", "gabala").note
    # Clear and Cape Cod: the numbers are of the radars before their missile-defence upgrades (Clear's planned for
    # 2012-2016, SpaceNews c. 2011; Cape Cod's after 2013)
    clear, cape_cod = catalog.get("radars", "clear"), catalog.get("radars", "cape-cod")
    assert "1998-2000" in clear.note and "BEFORE" in clear.note and "2012-2016" in clear.note
    assert "(1979)" in cape_cod.note and "after 2013" in cape_cod.note
    # 5,555 km is the PAVE PAWS design figure of 3,000 nmi (NRC 1979, p. 1)
    assert catalog.get("radars", "cape-cod").model.max_range_m == pytest.approx(3000 * 1852.0, abs=1000.0)


RADAR_WITH_REFERENCE = """
[radars.test-sensitive]
label = "A test radar with a reference range"
site = "thule"
max_range = "5000 km"
reference_range = "1000 km"
reference_rcs = "-20 dBsm"
track_formation = "20 s"
min_elevation = "3 deg"
source = "test"
confidence = "A"
key_confidence = { reference_range = "A", reference_rcs = "A", track_formation = "A" }
key_source = { reference_range = "test", reference_rcs = "test", track_formation = "test" }
note = "test"
"""


def catalog_with_test_radar(extra: str = RADAR_WITH_REFERENCE) -> tuple[object, list[str]]:
    texts = bundled_texts()
    texts["radars"] += extra
    return catalog._build(texts)


@pytest.mark.parametrize("rcs_m2", [1e-3, 0.01, 0.1, 1.0, 10.0, 100.0, 1e4])
def test_catalog_radar_reference_range_follows_the_fourth_root_law(rcs_m2: float) -> None:
    """docs/models.md, Sensitivity: range against a cross-section: range = reference_range * (sigma /
    reference_rcs)^(1/4), capped by max_range."""
    built, problems = catalog_with_test_radar()
    assert problems == []
    radar = built.entries["radars"]["test-sensitive"].model
    assert radar.reference_range_m == 1_000_000.0 and radar.reference_rcs_m2 == pytest.approx(0.01)
    assert radar.track_formation_s == 20.0 and radar.max_range_m == 5_000_000.0
    expected = min(5_000_000.0, 1_000_000.0 * (rcs_m2 / 0.01) ** 0.25)
    assert radar.range_m(rcs_m2) == pytest.approx(expected, rel=1e-12)
    # one decade of cross-section is 10^(1/4) = 1.778 in range, below the cap
    if rcs_m2 * 10 <= 0.01 * 5 ** 4:
        assert radar.range_m(rcs_m2 * 10) / radar.range_m(rcs_m2) == pytest.approx(10 ** 0.25, rel=1e-12)


def test_catalog_radar_with_only_a_reference_range() -> None:
    extra = RADAR_WITH_REFERENCE.replace('max_range = "5000 km"\n', "")
    built, problems = catalog_with_test_radar(extra)
    assert problems == []
    radar = built.entries["radars"]["test-sensitive"].model
    assert radar.max_range_m == math.inf and radar.range_m(1e4) == pytest.approx(1_000_000.0 * 1e6 ** 0.25)


def test_scenario_sensor_inherits_the_catalog_sensitivity(monkeypatch: pytest.MonkeyPatch) -> None:
    """`[[sensors]] radar = "NAME"` brings the catalog radar's reference range, cross-section and track formation;
    the entry may override each of them."""
    built, problems = catalog_with_test_radar()
    assert problems == []
    monkeypatch.setattr(catalog, "_catalog", lambda: built)
    text = """
[[sensors]]
radar = "test-sensitive"

[[sensors]]
radar = "test-sensitive"
name = "overridden"
reference_range = "2000 km"
reference_rcs = "1 m2"
track_formation = "5 s"
"""
    inherited, overridden = load_scenario_text(text).sensors
    base = built.entries["radars"]["test-sensitive"].model
    assert inherited == base
    assert (inherited.reference_range_m, inherited.track_formation_s) == (1_000_000.0, 20.0)
    assert inherited.reference_rcs_m2 == pytest.approx(0.01)
    assert overridden.reference_range_m == 2_000_000.0 and overridden.reference_rcs_m2 == 1.0
    assert overridden.track_formation_s == 5.0 and overridden.max_range_m == base.max_range_m
    assert overridden.at == base.at and overridden.sector == base.sector


@pytest.mark.parametrize(("drop", "fragment"), [
    ("key_source", "key 'reference_range': expected its own citation"),
    ("key_confidence", "key 'reference_range': expected its own tag"),
])
def test_sourced_keys_need_their_own_source_and_tag(drop: str, fragment: str) -> None:
    extra = "\n".join(line for line in RADAR_WITH_REFERENCE.splitlines() if not line.startswith(drop))
    problems = catalog_with_test_radar(extra)[1]
    assert any("[radars.test-sensitive]" in p and fragment in p for p in problems), problems


def test_key_source_must_cite_a_key_of_the_entry() -> None:
    extra = RADAR_WITH_REFERENCE.replace('track_formation = "test" }', 'track_formation = "test", rcs = "x" }')
    problems = catalog_with_test_radar(extra)[1]
    assert any("key 'key_source.rcs': not a value key of this entry" in p for p in problems), problems
    extra = RADAR_WITH_REFERENCE.replace('reference_range = "test"', 'reference_range = ""')
    problems = catalog_with_test_radar(extra)[1]
    assert any("key_source.reference_range': got ''" in p for p in problems), problems


# ---- the validator itself ----------------------------------------------------------------------------------------


def bundled_texts() -> dict[str, str]:
    base = resources.files("shieldlab").joinpath("data/catalog")
    return {kind: base.joinpath(f"{kind}.toml").read_text(encoding="utf-8") for kind in catalog.KINDS}


@pytest.mark.parametrize(("kind", "old", "new", "fragment"), [
    ("interceptors", 'confidence = "R-M"\nkey_confidence = { burn_time = "A", min_altitude = "A", max_altitude = "A" }',
     'confidence = "high"\nkey_confidence = { burn_time = "A", min_altitude = "A", max_altitude = "A" }',
     "'confidence'"),
    ("missiles", 'burnout_speed = "4.0 km/s"', 'burnout_speed = "4.0 parsecs"', "burnout_speed"),
    ("radars", 'azimuth = { center = "107 deg", half_width = "120 deg" }',
     'azimuth = { center = "227 deg", half_width = "120 deg" }', "az_coverage"),
    ("radars", 'site = "thule"', 'site = "thul"', "'site'"),
    ("places", 'lat = 54.035', 'lat = 154.035', "kozelsk"),
    ("places", 'lat = 54.035', 'lat = 54.035\nsauce = "x"', "sauce"),
    ("places", 'version = "2026.12.1"', 'version = "2026.12.2"', "different versions"),
    # the bounds of the scenario schema hold for the catalog's values too
    ("places", 'lat = 54.035', 'lat = 54.035\nalt = "-100 km"', "expected an altitude between -0.5 and 100 km"),
    ("interceptors", 'burnout_speed = "5.5 km/s"', 'burnout_speed = "55 km/s"',
     "[interceptors.sm3-iib] key 'burnout_speed': got \"55 km/s\"; expected a speed greater than 0 and at most "
     "11 km/s"),
    ("radars", 'max_range = "5555 km"', 'max_range = "5555000 km"', "at most 40,000 km"),
])
def test_validator_finds_problems(kind: str, old: str, new: str, fragment: str) -> None:
    texts = bundled_texts()
    assert old in texts[kind]
    texts[kind] = texts[kind].replace(old, new, 1)
    problems = catalog.validate(texts)
    assert problems and any(fragment in p for p in problems), problems


def test_validator_requires_source() -> None:
    texts = bundled_texts()
    start = texts["missiles"].index("[missiles.mrbm]")
    line = texts["missiles"].index("source =", start)
    end = texts["missiles"].index("\n", line)
    texts["missiles"] = texts["missiles"][:line] + texts["missiles"][end + 1:]
    problems = catalog.validate(texts)
    assert any("[missiles.mrbm] key 'source'" in p for p in problems), problems


# ---- look-ups ----------------------------------------------------------------------------------------------------


def test_get_and_unknown_names() -> None:
    assert catalog.get("interceptor", "sm3-iib") is catalog.get("interceptors", "sm3-iib")
    assert catalog.find("places", "atlantis") is None
    with pytest.raises(KeyError) as error:
        catalog.get("radars", "thul")
    assert "did you mean 'thule'" in str(error.value) and "fylingdales" in str(error.value)
    with pytest.raises(catalog.UnknownEntry) as error:
        catalog.entries("warheads")
    assert "places, missiles, interceptors, radars, flight-tests" in str(error.value)


# ---- flight tests (docs/sources.md, Flight tests of 2017) -------------------------------------------------------

# the observations of the 2017 tests as docs/sources.md, Flight tests of 2017 gives them: apogee km, flight time
# min, ground range km, launch place, missile
FLIGHT_TESTS_2017 = {
    "hwasong-14-2017-07-04": (2802.0, 37.0, 933.0, "panghyon", "hwasong-14-class"),
    "hwasong-14-2017-07-28": (3725.0, 47.2, 998.0, "mupyong-ni", "hwasong-14-class"),
    "hwasong-15-2017-11-29": (4475.0, 53.0, 950.0, "pyongsong", "hwasong-15-class"),
}


def test_flight_tests_load_as_assessments() -> None:
    assert catalog.kind_name("flight-test") == "flight-tests"
    assert catalog.names("flight-tests") == tuple(FLIGHT_TESTS_2017)
    for name, (apogee_km, minutes, range_km, place_name, missile) in FLIGHT_TESTS_2017.items():
        entry = catalog.get("flight-tests", name)
        spec = entry.model
        assert spec.name == name and spec.missile == missile and catalog.find("missiles", missile) is not None
        assert spec.launch == place(place_name)
        assert spec.observed_apogee_m == pytest.approx(apogee_km * 1e3)
        assert spec.observed_flight_time_s == pytest.approx(minutes * 60.0)
        assert spec.observed_ground_range_m == pytest.approx(range_km * 1e3)
        assert re.fullmatch(r"2017-\d\d-\d\d", entry.extra["date"])
        assert entry.confidence_of("azimuth") == "C"
    # the uncertainties the sources' spread asks for (the note of each entry), the defaults otherwise
    assert catalog.get("flight-tests", "hwasong-14-2017-07-04").model.flight_time_uncertainty_pct == 5.0
    assert catalog.get("flight-tests", "hwasong-15-2017-11-29").model.ground_range_uncertainty_pct == 3.0
    assert catalog.get("flight-tests", "hwasong-14-2017-07-28").model.apogee_uncertainty_pct == 1.0


@pytest.mark.parametrize("old, new, fragment", [
    ('date = "2017-07-04"', 'date = "4 July 2017"', "key 'date'"),
    ('missile = "hwasong-14-class"', 'missile = "hwasong-14"', "key 'missile'"),
    ('published_max_range = "6700 km"', 'published_max_range = "6700 kg"', "key 'published_max_range'"),
])
def test_validator_checks_flight_tests(old: str, new: str, fragment: str) -> None:
    texts = {kind: resources.files("shieldlab").joinpath(f"data/catalog/{kind}.toml").read_text(encoding="utf-8")
             for kind in catalog.KINDS}
    assert texts["flight-tests"].count(old) >= 1
    texts["flight-tests"] = texts["flight-tests"].replace(old, new, 1)
    problems = catalog.validate(texts)
    assert any(fragment in p and "hwasong-14-2017-07-04" in p for p in problems), problems


def test_an_assessment_takes_a_catalog_flight_test() -> None:
    sc = load_scenario_text('[[assessments]]\ntest = "hwasong-15-2017-11-29"\npayloads = ["1500 kg"]\n\n'
                            '[[assessments]]\ntest = "hwasong-14-2017-07-28"\nname = "other-time"\nto = "sohae"\n'
                            'observed = { apogee = "3725 km", flight_time = "45 min" }\n', "t.toml")
    first, second = sc.assessments
    assert first == dataclasses.replace(catalog.get("flight-tests", "hwasong-15-2017-11-29").model,
                                        payload_masses_kg=(1500.0,))
    assert second.name == "other-time" and second.azimuth_deg is None and second.impact == place("sohae")
    assert second.observed_flight_time_s == 2700.0 and second.observed_ground_range_m is None
    assert ("flight-tests", "hwasong-15-2017-11-29") in sc.catalog_refs
    assert "hwasong-15-class" in sc.missiles
    with pytest.raises(ScenarioError) as error:
        load_scenario_text('[[assessments]]\ntest = "hwasong-15-2017"\n', "t.toml")
    text = str(error.value)
    assert "assessments #1" in text and "'test'" in text and "did you mean 'hwasong-15-2017-11-29'" in text
    with pytest.raises(ScenarioError, match="'test'"):  # without the catalog, names must be defined
        scenario_from_dict({"assessments": [{"test": "hwasong-15-2017-11-29"}]}, "t.toml", use_catalog=False)


def test_citations() -> None:
    lines = catalog.citations([("interceptors", "sm3-iib"), ("places", "kozelsk")])
    assert lines[0].startswith("interceptors/sm3-iib [R-M]: ") and "Arms Control Today" in lines[0]
    assert lines[1].startswith("places/kozelsk [R-L]: ")


# ---- scenarios using the catalog ---------------------------------------------------------------------------------

CATALOG_ONLY = """
name = "catalog only"

[[sensors]]
radar = "fylingdales"

[[batteries]]
name = "poland"
at = "redzikowo"
interceptor = "sm3-iib"
launch_delay = "60 s"

[[threats]]
name = "kozelsk-washington"
missile = "icbm-solid"
from = "kozelsk"
to = "washington"
"""


def test_catalog_only_scenario_loads_and_engages() -> None:
    sc = load_scenario_text(CATALOG_ONLY, "catalog-only.toml")
    assert sc.places == {}
    assert sc.missiles["icbm-solid"] == catalog.get("missiles", "icbm-solid").model
    assert sc.interceptors["sm3-iib"] == catalog.get("interceptors", "sm3-iib").model
    assert sc.sensors == (catalog.get("radars", "fylingdales").model,)
    assert sc.batteries[0].at == place("redzikowo")
    assert sc.threats[0].launch == place("kozelsk") and sc.threats[0].aim == place("washington")
    assert set(sc.catalog_refs) == {
        ("radars", "fylingdales"), ("places", "fylingdales"), ("places", "redzikowo"),
        ("interceptors", "sm3-iib"), ("missiles", "icbm-solid"), ("places", "kozelsk"), ("places", "washington"),
    }
    assert len(sc.catalog_refs) == len(set(sc.catalog_refs))
    doc = engage(sc).to_document()
    threat = doc["threats"][0]
    assert threat["error"] is None
    assert threat["aim"]["lat_deg"] == pytest.approx(38.91) and threat["aim"]["lon_deg"] == pytest.approx(-77.04)
    assert threat["detections"][0]["sensor"] == "fylingdales" and threat["detections"][0]["time_s"] is not None
    assert threat["engagements"][0]["battery"] == "poland" and isinstance(threat["engagements"][0]["reason"], str)


def test_unaimed_catalog_threat_with_catalog_radar() -> None:
    text = """
[[sensors]]
radar = "tpy2-kurecik"

[[batteries]]
name = "b"
at = "deveselu"
interceptor = "sm3-iia"

[[threats]]
name = "u"
missile = "irbm-liquid"
from = "semnan"
azimuth = "300 deg"
gamma = "35 deg"
"""
    sc = load_scenario_text(text)
    doc = engage(sc).to_document()
    assert doc["threats"][0]["error"] is None and doc["threats"][0]["aim"] is None
    assert 2750 < doc["threats"][0]["ground_range_km"] < 5500  # an IRBM (DoD class, docs/sources.md "Boost durations and range classes")


def test_scenario_definitions_win_over_the_catalog() -> None:
    text = CATALOG_ONLY + """
[places]
washington = { lat = 38.0, lon = -77.0 }

[missiles.icbm-solid]
burn_time = "170 s"
burnout_altitude = "190 km"
burnout_range = "300 km"

[interceptors.sm3-iib]
burn_time = "50 s"
burnout_speed = "4.0 km/s"
"""
    sc = load_scenario_text(text)
    assert sc.threats[0].aim == Point(38.0, -77.0, 0.0, "washington")
    assert sc.missiles["icbm-solid"].burn_time_s == 170.0
    assert sc.interceptors["sm3-iib"].burnout_speed_m_s == 4000.0
    refs = set(sc.catalog_refs)
    assert ("places", "washington") not in refs and ("missiles", "icbm-solid") not in refs
    assert ("interceptors", "sm3-iib") not in refs and ("places", "kozelsk") in refs


def test_catalog_radar_overrides() -> None:
    text = """
[places]
here = { lat = 50, lon = 10 }

[[sensors]]
radar = "thule"
name = "thule-short"
max_range = "3000 km"
azimuth = { center = "0 deg", half_width = "180 deg" }

[[sensors]]
radar = "cape-cod"
at = "here"
min_elevation = "5 deg"

[[sensors]]
radar = "thule"
"""
    sc = load_scenario_text(text)
    short, moved, thule = sc.sensors
    base = catalog.get("radars", "thule").model
    assert short.name == "thule-short" and short.max_range_m == 3_000_000.0 and short.sector.half_width_deg == 180
    assert short.at == base.at and short.min_elevation_deg == base.min_elevation_deg
    assert moved.name == "cape-cod" and moved.at == Point(50.0, 10.0, 0.0, "here") and moved.min_elevation_deg == 5
    assert moved.max_range_m == 5_555_000.0 and moved.sector == catalog.get("radars", "cape-cod").model.sector
    assert thule == base
    assert ("radars", "thule") in sc.catalog_refs and ("places", "thule") in sc.catalog_refs


def test_two_catalog_radars_need_distinct_names() -> None:
    text = '[[sensors]]\nradar = "thule"\n\n[[sensors]]\nradar = "thule"\n'
    with pytest.raises(ScenarioError) as error:
        load_scenario_text(text, "dup.toml")
    (problem,) = error.value.problems
    assert problem.table == "sensors #2 (thule)" and problem.key == "name" and "named after" in problem.expected


def test_bad_override_of_a_catalog_radar() -> None:
    text = '[[sensors]]\nradar = "thule"\nmax_range = "5 parsecs"\nrange = 3\n'
    with pytest.raises(ScenarioError) as error:
        load_scenario_text(text, "bad.toml")
    keys = {p.key for p in error.value.problems}
    assert keys == {"max_range", "range"}


def test_coverage_with_catalog_names() -> None:
    text = """
[coverage]
missile = "icbm-solid"
trajectory = "lofted"
from = ["kozelsk", "teykovo"]
to = ["washington", "new-york"]
"""
    sc = load_scenario_text(text)
    assert sc.coverage.launch == (place("kozelsk"), place("teykovo"))
    assert sc.coverage.aim == (place("washington"), place("new-york"))
    assert "icbm-solid" in sc.missiles


@pytest.mark.parametrize(("old", "new", "key", "kind", "known", "hint"), [
    ('to = "washington"', 'to = "washingtn"', "to", "places", "none are defined in [places]", "washington"),
    ('missile = "icbm-solid"', 'missile = "icbm-solidd"', "missile", "missiles", "none are defined", "icbm-solid"),
    ('interceptor = "sm3-iib"', 'interceptor = "sm3-iic"', "interceptor", "interceptors", "none are defined",
     "sm3-iib"),
    ('radar = "fylingdales"', 'radar = "fylingdale"', "radar", "radars", "", "fylingdales"),
])
def test_unknown_names_mention_the_catalog(old, new, key, kind, known, hint) -> None:
    with pytest.raises(ScenarioError) as error:
        load_scenario_text(CATALOG_ONLY.replace(old, new), "unknown.toml")
    (problem,) = error.value.problems
    message = str(problem)
    assert problem.key == key and message.startswith("unknown.toml: [")
    assert f"`shieldlab catalog {kind}`" in message and known in message and f"did you mean '{hint}'" in message


def test_unknown_place_lists_the_scenarios_places() -> None:
    text = CATALOG_ONLY.replace('to = "washington"', 'to = "atlantis"') + "\n[places]\nhome = { lat = 1, lon = 2 }\n"
    with pytest.raises(ScenarioError) as error:
        load_scenario_text(text, "u.toml")
    assert "known: home" in str(error.value) and "shieldlab catalog places" in str(error.value)


def test_without_the_catalog_names_must_be_defined() -> None:
    data = tomllib.loads(CATALOG_ONLY)
    with pytest.raises(ScenarioError) as error:
        scenario_from_dict(data, "no-catalog.toml", use_catalog=False)
    keys = {p.key for p in error.value.problems}
    assert {"radar", "at", "interceptor", "missile", "from", "to"} <= keys
    assert "shieldlab catalog" not in str(error.value)


def test_files_without_catalog_names_are_unchanged() -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "kozelsk-washington.toml"
    if not example.is_file():
        pytest.skip("examples/kozelsk-washington.toml not present")
    sc = load_scenario(example)
    assert sc.catalog_refs == ()
    assert Scenario("by hand").catalog_refs == ()


# ---- the command -------------------------------------------------------------------------------------------------


def test_cli_catalog_lists_kinds(shieldlab_cli) -> None:
    result = shieldlab_cli("catalog")
    assert result.returncode == 0, result.stderr
    assert "2026.12.1" in result.stdout
    for kind in catalog.KINDS:
        assert kind in result.stdout
    assert str(len(catalog.entries("places"))) in result.stdout


def test_cli_catalog_kind(shieldlab_cli) -> None:
    result = shieldlab_cli("catalog", "interceptors")
    assert result.returncode == 0, result.stderr
    for name in catalog.names("interceptors"):
        assert name in result.stdout
    assert "5.5 km/s" in result.stdout and "R-M" in result.stdout


def test_cli_catalog_entry(shieldlab_cli) -> None:
    result = shieldlab_cli("catalog", "interceptors", "sm3-iib")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())  # rich wraps long lines
    assert "5.5 km/s" in out and "Arms Control Today" in out and "R-M" in out and "note:" in out
    assert 'interceptor = "sm3-iib"' in out


def test_cli_catalog_entry_shows_key_sources(shieldlab_cli) -> None:
    result = shieldlab_cli("catalog", "missiles", "icbm-solid")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "source of rcs:" in out and "source of rcs_boost:" in out and "170 s" in out and "0.1 m2" in out
    doc = json.loads(shieldlab_cli("catalog", "missiles", "icbm-solid", "--json").stdout)
    assert set(doc["key_source"]) == {"rcs", "rcs_boost"} and doc["key_confidence"]["rcs"] == "A"


def test_cli_catalog_json(shieldlab_cli) -> None:
    doc = json.loads(shieldlab_cli("catalog", "radars", "cape-cod", "--json").stdout)
    assert doc["catalog_version"] == "2026.12.1" and doc["max_range"] == "5555 km" and doc["key_source"] == {}
    assert doc["azimuth"] == {"center": "107 deg", "half_width": "120 deg"} and doc["confidence"] == "R-L"
    kinds = json.loads(shieldlab_cli("catalog", "--json").stdout)["kinds"]
    assert {k: v["count"] for k, v in kinds.items()} == {k: len(catalog.entries(k)) for k in catalog.KINDS}


@pytest.mark.parametrize(("args", "fragment"), [
    (("catalog", "warheads"), "unknown catalog kind 'warheads'"),
    (("catalog", "interceptors", "sm3-iic"), "did you mean 'sm3-iib'"),
])
def test_cli_catalog_unknown_exits_2(shieldlab_cli, args, fragment) -> None:
    result = shieldlab_cli(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert fragment in " ".join(result.stderr.split()) and "Traceback" not in result.stderr


def test_cli_engage_unknown_catalog_name_exits_2(shieldlab_cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(CATALOG_ONLY.replace('from = "kozelsk"', 'from = "kozelskk"'), encoding="utf-8")
    result = shieldlab_cli("engage", str(path), "--json")
    assert result.returncode == 2 and result.stdout == ""
    err = " ".join(result.stderr.split())
    assert "bad.toml" in err and "key 'from'" in err and "shieldlab catalog places" in err
    assert "did you mean 'kozelsk'" in err


# ---- what the catalog, the examples and the docs point a reader to ------------------------------------------------
# The project's texts cite the publications and the project's own pages (docs/sources.md, docs/models.md), never the
# developers' working files, which users do not receive.
DEVELOPER_FILES = DEVELOPER_FILE
# "docs/sources.md, Interceptors" / "docs/models.md, Launch floor and energy management": a page and one of its headings
POINTER = re.compile(r"docs/(sources|models)\.md,\s")  # a pointer broken after the comma is caught too


def _user_facing_texts() -> dict[str, str]:
    """Every text a user receives that may cite a source: the catalog files (comments, descriptions, sources, notes),
    the catalog module, the example scenarios and notebook, the docs pages and the README."""
    base = resources.files("shieldlab").joinpath("data/catalog")
    texts = {f"catalog/{kind}.toml": base.joinpath(f"{kind}.toml").read_text(encoding="utf-8") for kind in catalog.KINDS}
    texts["src/shieldlab/catalog.py"] = (ROOT / "src" / "shieldlab" / "catalog.py").read_text(encoding="utf-8")
    for path in [*sorted((ROOT / "examples").rglob("*.toml")), ROOT / "examples" / "tutorial.ipynb",
                 *sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        texts[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    return texts


def _bad_pointers(text: str) -> list[str]:
    """The "docs/PAGE.md, HEADING" pointers of a text whose HEADING is not a heading of that page."""
    return unknown_headings(text, POINTER, {page: page_headings(page) for page in ("sources", "models")})


def test_nothing_points_to_the_developers_files() -> None:
    texts = _user_facing_texts()
    assert len([n for n in texts if n.startswith("examples/case-studies/")]) >= 8 and "docs/sources.md" in texts
    hits = [f"{name}: {m.group(0)!r} at character {m.start()}" for name, text in texts.items()
            for m in DEVELOPER_FILES.finditer(text)]
    assert not hits, ("these texts point users to files they do not receive; cite the publication and "
                      "docs/sources.md or docs/models.md by heading instead:\n" + "\n".join(hits))


def test_source_pointers_name_headings_that_exist() -> None:
    texts = _user_facing_texts()
    bad = [f"{name}: {b}" for name, text in texts.items() for b in _bad_pointers(text)]
    assert not bad, "pointers to headings that do not exist:\n" + "\n".join(bad)
    # every kind of the catalog cites docs/sources.md by heading, and so do the examples
    for kind in catalog.KINDS:
        assert POINTER.search(texts[f"catalog/{kind}.toml"]), kind
    assert POINTER.search(texts["examples/kozelsk-washington.toml"])
    # the catalog's entries themselves (as `shieldlab catalog` shows them) carry pointers
    cited = [e for kind in catalog.KINDS for e in catalog.entries(kind) if "docs/sources.md, " in e.citation + e.note]
    assert len(cited) >= 60, len(cited)


def test_pointer_check_finds_a_wrong_heading() -> None:
    assert _bad_pointers("see docs/sources.md, Interceptors.") == []
    assert _bad_pointers("see docs/models.md, Launch floor and energy management)") == []
    assert len(_bad_pointers("see docs/sources.md, Interceptor types; docs/models.md, Radar")) == 2
    assert len(_bad_pointers("docs/sources.md, Radarsx")) == 1
    assert len(_bad_pointers("(docs/sources.md,\n# Radars)")) == 1  # broken across comment lines
    assert DEVELOPER_FILES.search("see LITERATURE" ".md 2.1") and DEVELOPER_FILES.search(".." "/shared" "/spec/")
    assert not DEVELOPER_FILES.search("docs/models.md, Radars; docs/scenario.md")


# ---- staged entries: checked by the scenario file's rules, as a file's [missiles.NAME] --------------------------

STAGED_ENTRY = '''
[missiles.test-staged]
label = "A staged test entry"
model = "staged"
payload_mass = "1000 kg"
diameter = "2.4 m"
stages = [
  { propellant_mass = "50 t", dry_mass = "5 t", burn_time = "150 s", isp = "290 s" },
  { propellant_mass = "12 t", dry_mass = "1.5 t", burn_time = "120 s", isp = "320 s", coast = "5 s" },
]
source = "test data"
confidence = "A"
note = "test data"
'''


def test_a_staged_catalog_entry_is_checked_and_built() -> None:
    from shieldlab.scenario.model import StagedMissileType

    texts = bundled_texts()
    texts["missiles"] += STAGED_ENTRY
    built, problems = catalog._build(texts)
    assert problems == []
    model = built.entries["missiles"]["test-staged"].model
    assert isinstance(model, StagedMissileType) and [s.isp_s for s in model.stages] == [290.0, 320.0]
    assert model.liftoff_mass_kg == 69_500.0  # 1 t payload, 55 t and 13.5 t stages


@pytest.mark.parametrize(("old", "new", "fragment"), [
    ('isp = "320 s"', 'isp = "620 s"',
     "[missiles.test-staged] key 'stages[2].isp': got \"620 s\"; expected a specific impulse between 50 and 500 s"),
    ('burn_time = "150 s"', 'burn_time = "400 s"', "thrust 355 kN < lift-off weight 682 kN"),
    ('diameter = "2.4 m"', 'diameter = "2.4 m"\nburn_time = "180 s"', 'burn_time is a key of model = "burnout"'),
])
def test_a_bad_staged_catalog_entry_is_named(old: str, new: str, fragment: str) -> None:
    texts = bundled_texts()
    texts["missiles"] += STAGED_ENTRY.replace(old, new, 1)
    problems = catalog.validate(texts)
    assert any(fragment in p for p in problems), problems
