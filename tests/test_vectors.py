"""Validation vectors (tests/vectors/, copied from the reference implementation's validation vectors) through the
Python API and the CLI.

The comparison reproduces the reference implementation's own checker exactly: same tolerances (docs/models.md,
Validation vectors), same keys, same position metric (great-circle distance on R = 6371.0088 km), azimuths
compared modulo 360 deg, `feasible` compared exactly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from shieldlab.api import engage, load_scenario

VECTORS_DIR = Path(__file__).resolve().parent / "vectors"
VECTORS = sorted(p.name for p in VECTORS_DIR.iterdir() if (p / "expected.json").is_file())

# Tolerances: the table of docs/models.md, Validation vectors (= the reference checker's), in the key's unit.
TIME_TOL_S = 1.0  # burnout, impact, detections, track, earliest launch
APOGEE_TIME_TOL_S = 3.0
FIRST_INTERCEPT_TOL_S = 3.0
POSITION_TOL_KM = 1.0  # impact and burnout positions
ALTITUDE_TOL_KM = 1.0
GROUND_RANGE_TOL_KM = 1.0
SPEED_TOL_KM_S = 0.003  # 3 m/s
GAMMA_TOL_DEG = 0.15
AZIMUTH_TOL_DEG = 0.05  # launch and burnout azimuths
# second release (docs/models.md, Track formation; Intercept geometry; The latest launch), compared where
# expected.json has them (docs/models.md, Validation vectors)
TRACK_TOL_S = 1.0  # per-sensor track time `track_s`
LATEST_LAUNCH_TOL_S = 3.0  # latest launch and margin
LAST_INTERCEPT_TOL_S = 3.0
CLOSING_SPEED_TOL_KM_S = 0.05
CROSSING_ANGLE_TOL_DEG = 1.0

TOL = {
    "time_s": TIME_TOL_S, "altitude_km": ALTITUDE_TOL_KM, "speed_km_s": SPEED_TOL_KM_S, "gamma_deg": GAMMA_TOL_DEG,
    "azimuth_deg": AZIMUTH_TOL_DEG, "launch_azimuth_deg": AZIMUTH_TOL_DEG, "ground_range_km": GROUND_RANGE_TOL_KM,
    "track_time_s": TIME_TOL_S, "earliest_launch_s": TIME_TOL_S, "first_intercept_time_s": FIRST_INTERCEPT_TOL_S,
    "apogee.time_s": APOGEE_TIME_TOL_S, "position_km": POSITION_TOL_KM,
    # second release (compared only where expected.json has them)
    "track_s": TRACK_TOL_S,
    "latest_launch_s": LATEST_LAUNCH_TOL_S, "margin_s": LATEST_LAUNCH_TOL_S,
    "last_intercept_time_s": LAST_INTERCEPT_TOL_S,
    "closing_speed_km_s": CLOSING_SPEED_TOL_KM_S, "crossing_angle_deg": CROSSING_ANGLE_TOL_DEG,
}


# The radius the reference checker measures position differences with (IUGG mean radius, km).
CHECK_RADIUS_KM = 6371.0088


def _dist_km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return CHECK_RADIUS_KM * math.acos(max(-1.0, min(1.0, c)))


def _angle_diff(a, b):
    return abs((a - b + 180.0) % 360.0 - 180.0)


def compare_threat(name: str, exp: dict, got: dict) -> list[str]:
    """Mismatches of one threat record against its expected values, as the reference checker's compare()."""
    fails: list[str] = []

    def num(path, e, g, tol):
        if e is None or g is None:
            if (e is None) != (g is None):
                fails.append(f"{name}: {path}: expected {e}, got {g}")
            return
        d = _angle_diff(e, g) if path.endswith("azimuth_deg") else abs(e - g)
        if not d <= tol:
            fails.append(f"{name}: {path}: expected {e:.9g}, got {g:.9g} (off by {d:.3g}, tolerance {tol})")

    if got.get("error"):
        return [f"{name}: threat reported an error: {got['error']}"]
    num("launch_azimuth_deg", exp["launch_azimuth_deg"], got.get("launch_azimuth_deg"), TOL["launch_azimuth_deg"])
    for part in ("burnout", "apogee", "impact"):
        e, g = exp[part], got.get(part) or {}
        for k, v in e.items():
            if k in ("lat_deg", "lon_deg"):
                continue
            num(f"{part}.{k}", v, g.get(k), TOL.get(f"{part}.{k}", TOL[k]))
        if part == "apogee":
            continue
        if g.get("lat_deg") is None:
            fails.append(f"{name}: {part} position missing")
            continue
        d = _dist_km(e["lat_deg"], e["lon_deg"], g["lat_deg"], g["lon_deg"])
        if d > TOL["position_km"]:
            fails.append(f"{name}: {part} position: expected ({e['lat_deg']:.6f}, {e['lon_deg']:.6f}), got "
                         f"({g['lat_deg']:.6f}, {g['lon_deg']:.6f}), off by {d:.3g} km "
                         f"(tolerance {TOL['position_km']} km)")
    num("ground_range_km", exp["ground_range_km"], got.get("ground_range_km"), TOL["ground_range_km"])
    dets = {d["sensor"]: d["time_s"] for d in got.get("detections", [])}
    for s, t in exp["detections"].items():
        if s not in dets:
            fails.append(f"{name}: detection by {s} missing")
        else:
            num(f"detections[{s}]", t, dets[s], TOL["time_s"])
    if "tracks" in exp:  # second-release vectors: each sensor's track time, beside its detection
        trks = {d["sensor"]: d.get("track_s") for d in got.get("detections", [])}
        for s, t in exp["tracks"].items():
            if s in trks:  # a missing sensor is reported by the detections above
                num(f"detections[{s}].track_s", t, trks[s], TOL["track_s"])
    num("track_time_s", exp["track_time_s"], got.get("track_time_s"), TOL["track_time_s"])
    engs = {e["battery"]: e for e in got.get("engagements", [])}
    for b, e in exp.get("engagements", {}).items():
        g = engs.get(b)
        if g is None:
            fails.append(f"{name}: engagement by {b} missing")
            continue
        if bool(g.get("feasible")) != e["feasible"]:
            fails.append(f"{name}: {b}: feasible expected {e['feasible']}, got {g.get('feasible')}")
            continue
        num(f"{b}.earliest_launch_s", e["earliest_launch_s"], g.get("earliest_launch_s"), TOL["earliest_launch_s"])
        fi = g.get("first_intercept") or {}
        num(f"{b}.first_intercept.time_s", e["first_intercept_time_s"], fi.get("time_s"),
            TOL["first_intercept_time_s"])
        for k in ("latest_launch_s", "margin_s"):
            if k in e:
                num(f"{b}.{k}", e[k], g.get(k), TOL[k])
        for part in ("first_intercept", "last_intercept"):
            ep, gp = e.get(part), g.get(part) or {}
            if not ep:
                continue
            if part == "last_intercept":
                num(f"{b}.last_intercept.time_s", ep["time_s"], gp.get("time_s"), TOL["last_intercept_time_s"])
            for k in ("closing_speed_km_s", "crossing_angle_deg"):
                if k in ep:
                    num(f"{b}.{part}.{k}", ep[k], gp.get(k), TOL[k])
    return fails


def compare_document(vector: str, expected: dict, doc: dict) -> list[str]:
    threats = {t["name"]: t for t in doc.get("threats", [])}
    fails = []
    for name, e in expected["threats"].items():
        if name not in threats:
            fails.append(f"{vector}/{name}: threat missing from output")
        else:
            fails += compare_threat(f"{vector}/{name}", e, threats[name])
    return fails


def _expected(vector: str) -> dict:
    return json.loads((VECTORS_DIR / vector / "expected.json").read_text())


@pytest.fixture(scope="module")
def api_documents():
    """The API document of every vector, computed once (the comparator self-test reuses one)."""
    cache: dict = {}

    def get(vector):
        if vector not in cache:
            res = engage(load_scenario(VECTORS_DIR / vector / "scenario.toml"))
            cache[vector] = json.loads(json.dumps(res.to_document()))  # must be plain JSON
        return cache[vector]

    return get


def test_vectors_present():
    # the validation vectors this project carries, the second release's too
    expected = {"aim-modes", "engagement-europe", "kepler-sphere", "radar-detection", "wgs84-unaimed",
                "radar-sensitivity", "energy-management"}
    assert expected <= set(VECTORS), f"expected vectors {sorted(expected)}, found {VECTORS}"


@pytest.mark.parametrize("vector", VECTORS)
def test_vector_api(vector, api_documents):
    expected = _expected(vector)
    doc = api_documents(vector)
    assert doc["scenario"] == expected["scenario"], f"scenario name: expected {expected['scenario']}, got {doc['scenario']}"
    got_names = [t["name"] for t in doc["threats"]]
    assert sorted(got_names) == sorted(expected["threats"]), f"threats: expected {sorted(expected['threats'])}, got {got_names}"
    fails = compare_document(vector, expected, doc)
    assert not fails, "\n".join(fails)


@pytest.mark.parametrize("vector", VECTORS)
def test_vector_cli(shieldlab_cli, vector):
    """`python -m shieldlab engage FILE --json`: exit 0, one JSON document on stdout, same tolerances."""
    p = shieldlab_cli("engage", VECTORS_DIR / vector / "scenario.toml", "--json")
    assert p.returncode == 0, f"exit status: expected 0, got {p.returncode}; stderr: {p.stderr[-500:]}"
    # docs/scenario.md, `shieldlab engage FILE --json`: stdout holds the JSON document and nothing else
    doc = json.loads(p.stdout)
    fails = compare_document(vector, _expected(vector), doc)
    assert not fails, "\n".join(fails)


def test_comparator_detects_mismatches(api_documents):
    """The comparator above must fail on values just outside each tolerance (and pass just inside)."""
    vector = "engagement-europe"
    expected = _expected(vector)
    doc = api_documents(vector)
    assert compare_document(vector, expected, doc) == []
    name = "semnan-berlin"

    def perturbed(edit):
        d = json.loads(json.dumps(doc))
        t = next(t for t in d["threats"] if t["name"] == name)
        edit(t)
        return compare_document(vector, expected, d)

    e = expected["threats"][name]
    # set values exactly at expected +- 1.5 x tolerance: must be reported
    cases = {
        "impact.time_s": lambda t: t["impact"].__setitem__("time_s", e["impact"]["time_s"] + 1.5 * TIME_TOL_S),
        "apogee.time_s": lambda t: t["apogee"].__setitem__("time_s", e["apogee"]["time_s"] - 1.5 * APOGEE_TIME_TOL_S),
        "burnout.speed_km_s": lambda t: t["burnout"].__setitem__(
            "speed_km_s", e["burnout"]["speed_km_s"] + 1.5 * SPEED_TOL_KM_S),
        "burnout.gamma_deg": lambda t: t["burnout"].__setitem__(
            "gamma_deg", e["burnout"]["gamma_deg"] + 1.5 * GAMMA_TOL_DEG),
        "launch_azimuth_deg": lambda t: t.__setitem__(
            "launch_azimuth_deg", e["launch_azimuth_deg"] + 1.5 * AZIMUTH_TOL_DEG),
        "impact position": lambda t: t["impact"].__setitem__(
            "lat_deg", e["impact"]["lat_deg"] + math.degrees(1.5 * POSITION_TOL_KM / CHECK_RADIUS_KM)),
        "ground_range_km": lambda t: t.__setitem__("ground_range_km", e["ground_range_km"] - 1.5 * GROUND_RANGE_TOL_KM),
        "detections[kurecik]": lambda t: t["detections"][0].__setitem__("time_s", None),
        "romania-slow: feasible": lambda t: t["engagements"][2].__setitem__("feasible", True),
        "romania-fast.first_intercept.time_s": lambda t: t["engagements"][0]["first_intercept"].__setitem__(
            "time_s", e["engagements"]["romania-fast"]["first_intercept_time_s"] + 1.5 * FIRST_INTERCEPT_TOL_S),
        "error": lambda t: t.__setitem__("error", "out of reach"),
    }
    for key, edit in cases.items():
        fails = perturbed(edit)
        assert any(key in f for f in fails), f"perturbing {key}: expected a reported mismatch, got {fails}"
    # the second-release fields, on the energy-management vector (battery k9, no energy management)
    vector = "energy-management"
    expected = _expected(vector)
    doc = api_documents(vector)
    assert compare_document(vector, expected, doc) == []
    name = "semnan-berlin"
    e = expected["threats"][name]["engagements"]["k9"]
    k9 = [b["battery"] for b in next(t for t in doc["threats"] if t["name"] == name)["engagements"]].index("k9")

    def edit_k9(edit):
        def apply(t):
            edit(t["engagements"][k9])
        return apply

    cases = {
        "k9.latest_launch_s": edit_k9(lambda b: b.__setitem__(
            "latest_launch_s", e["latest_launch_s"] + 1.5 * LATEST_LAUNCH_TOL_S)),
        "k9.margin_s": edit_k9(lambda b: b.__setitem__("margin_s", None)),
        "k9.last_intercept.time_s": edit_k9(lambda b: b["last_intercept"].__setitem__(
            "time_s", e["last_intercept"]["time_s"] - 1.5 * LAST_INTERCEPT_TOL_S)),
        "k9.first_intercept.closing_speed_km_s": edit_k9(lambda b: b["first_intercept"].__setitem__(
            "closing_speed_km_s", e["first_intercept"]["closing_speed_km_s"] + 1.5 * CLOSING_SPEED_TOL_KM_S)),
        "k9.last_intercept.crossing_angle_deg": edit_k9(lambda b: b["last_intercept"].__setitem__(
            "crossing_angle_deg", e["last_intercept"]["crossing_angle_deg"] - 1.5 * CROSSING_ANGLE_TOL_DEG)),
    }
    for key, edit in cases.items():
        fails = perturbed(edit)
        assert any(key in f for f in fails), f"perturbing {key}: expected a reported mismatch, got {fails}"
    # an azimuth 359.99 vs 0.01 is 0.02 deg apart: within tolerance (the reference checker compares modulo 360)
    assert _angle_diff(359.99, 0.01) == pytest.approx(0.02, abs=1e-9)


def test_comparator_detects_track_mismatches(api_documents):
    """The per-sensor track times (`tracks` of the second-release vectors) are compared: a track time moved
    by 1.5 x its tolerance, or missing, is reported; one moved by half of it is not."""
    vector, name = "radar-sensitivity", "semnan-unaimed"
    expected = _expected(vector)
    doc = api_documents(vector)
    assert compare_document(vector, expected, doc) == []
    e = expected["threats"][name]["tracks"]

    def perturbed(sensor, value):
        d = json.loads(json.dumps(doc))
        t = next(t for t in d["threats"] if t["name"] == name)
        next(x for x in t["detections"] if x["sensor"] == sensor)["track_s"] = value
        return compare_document(vector, expected, d)

    key = "detections[romania].track_s"
    assert any(key in f for f in perturbed("romania", e["romania"] + 1.5 * TRACK_TOL_S))
    assert any(key in f for f in perturbed("romania", None))
    assert perturbed("romania", e["romania"] - 0.5 * TRACK_TOL_S) == []
