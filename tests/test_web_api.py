"""The web app's HTTP API (`shieldlab serve`, shieldlab.web.app) through FastAPI's TestClient, and the pure
override function (shieldlab.web.overrides).

Error answers are JSON {"errors": [messages]} with a 4xx status; scenario messages come from the same loader
as the command line, so they name the file, table and key.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402
from scenarios import battery as battery_entry  # noqa: E402
from scenarios import header, interceptor, missile, places, radar, replace_once, table  # noqa: E402
from scenarios import threat as threat_entry  # noqa: E402

from shieldlab.api import engage, load_scenario, load_scenario_text  # noqa: E402
from shieldlab.earth import frames, geodesic  # noqa: E402
from shieldlab.earth.model import Earth  # noqa: E402
from shieldlab.sensors.radar import RadarGeometry  # noqa: E402
from shieldlab.web import app as webapp  # noqa: E402
from shieldlab.web.app import create_app  # noqa: E402
from shieldlab.web.geo import coverage_outline_m  # noqa: E402
from shieldlab.web.overrides import OverrideError, apply_overrides  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# an ICBM that a launch-cued battery in Poland can engage, and a track-cued one that cannot (tests/scenarios.py)
BASE = (header("web-check") + places("kozelsk", "washington", "redzikowo", "fylingdales", "thule")
        + missile("icbm", "180 s", "200 km", "350 km", "7.0 km/s")
        + missile("nospeed", "180 s", "200 km", "350 km", burnout_speed=None)
        + interceptor("iib", "60 s", "5.5 km/s", "100 km", "1500 km")
        + radar("fylingdales", "fylingdales", "4820 km", "3 deg")
        + radar("thule", "thule", "5555 km", "3 deg", azimuth={"center": "57 deg", "half_width": "120 deg"})
        + battery_entry("poland-launch", "redzikowo", "iib", cue="launch")
        + battery_entry("poland-track", "redzikowo", "iib", cue="track"))
SCENARIO = BASE + threat_entry("k-w", "icbm", "kozelsk", "washington")
COVERAGE = BASE + table("coverage", missile="icbm", from_=["kozelsk"],
                        to={"lat": [36, 40], "lon": [-80, -72], "step": "4 deg"})


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(examples_dir=EXAMPLES)) as c:
        yield c


def post(client, path, toml=SCENARIO, **kw):
    return client.post(path, json={"scenario_toml": toml, "filename": "web-check.toml", **kw})


def battery(doc, name, threat=0):
    return next(e for e in doc["threats"][threat]["engagements"] if e["battery"] == name)


# ------------------------------------------------------------------------------------------ examples
def test_examples_listing_and_text(client):
    r = client.get("/api/examples")
    assert r.status_code == 200
    listing = {e["name"]: e for e in r.json()}
    files = sorted(p.stem for p in EXAMPLES.glob("*.toml"))
    assert sorted(listing) == files
    for e in listing.values():
        assert set(e) >= {"name", "file", "has_coverage", "n_threats", "title", "error"}
        assert e["file"] == e["name"] + ".toml"
    assert listing["coverage-us-east"]["has_coverage"] is True
    assert listing["kozelsk-washington"]["has_coverage"] is False
    assert listing["kozelsk-washington"]["n_threats"] >= 1
    text = client.get("/api/examples/kozelsk-washington")
    assert text.status_code == 200
    assert text.text == (EXAMPLES / "kozelsk-washington.toml").read_text(encoding="utf-8")


def test_initial_file_is_offered_first(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(SCENARIO, encoding="utf-8")
    with TestClient(create_app(initial_scenario_path=f, examples_dir=EXAMPLES)) as c:
        listing = c.get("/api/examples").json()
        assert listing[0]["name"] == "mine" and listing[0]["source"] == "file"
        assert c.get("/api/examples/mine").text == SCENARIO


# ------------------------------------------------------------------------------------------ engage
def test_engage_example_returns_document_and_tracks(client):
    toml = client.get("/api/examples/kozelsk-washington").text
    r = post(client, "/api/engage", toml)
    assert r.status_code == 200, r.text
    doc = r.json()
    ref = engage(load_scenario(EXAMPLES / "kozelsk-washington.toml")).to_document()
    assert {k: v for k, v in doc.items() if k not in ("tracks", "reason_text")}.keys() == ref.keys()
    # the page's texts come from the one vocabulary (shieldlab.api.Reason)
    assert doc["reason_text"]["timeline"] == "reachable, but not in time" and len(doc["reason_text"]) == 5
    assert [t["name"] for t in doc["threats"]] == [t["name"] for t in ref["threats"]]
    for got, want in zip(doc["threats"], ref["threats"]):
        assert got["impact"]["time_s"] == pytest.approx(want["impact"]["time_s"])
        assert [e["feasible"] for e in got["engagements"]] == [e["feasible"] for e in want["engagements"]]
    assert len(doc["tracks"]) == len(doc["threats"])
    for threat, track in zip(doc["threats"], doc["tracks"]):
        assert track["threat"] == threat["name"]
        pts = track["points"]
        t = np.array([p["time_s"] for p in pts])
        assert np.all(np.diff(t) > 0) and np.diff(t).max() <= 20.0 + 1e-6
        assert t[0] == pytest.approx(threat["launch"]["time_s"], abs=0.01)
        assert t[-1] == pytest.approx(threat["impact"]["time_s"], abs=0.01)
        phases = [p["phase"] for p in pts]
        assert phases[0] == "powered" and phases[-1] == "free"
        assert phases == sorted(phases, key=lambda s: s != "powered")  # powered, then free flight
        assert pts[0]["lat_deg"] == pytest.approx(threat["launch"]["lat_deg"], abs=1e-3)
        assert pts[-1]["lat_deg"] == pytest.approx(threat["impact"]["lat_deg"], abs=1e-3)
        assert (pts[-1]["lon_deg"] - threat["impact"]["lon_deg"]) % 360 == pytest.approx(0, abs=1e-3)
        assert pts[-1]["altitude_km"] == pytest.approx(0, abs=0.01)
        assert max(p["altitude_km"] for p in pts) == pytest.approx(threat["apogee"]["altitude_km"], rel=0.01)
        seen = {d["sensor"]: d["time_s"] for d in threat["detections"] if d["time_s"] is not None}
        assert {d["sensor"]: d["time_s"] for d in track["detections"]} == pytest.approx(seen, abs=0.01)


def test_engage_tracks_are_continuous_across_the_antimeridian(client):
    toml = replace_once(replace_once(SCENARIO, 'washington = { lat = 38.9072, lon = -77.0369 }',
                                     'washington = { lat = 21.3, lon = -157.8 }'),
                        'kozelsk = { lat = 54.035, lon = 36.013 }', 'kozelsk = { lat = 43.1, lon = 131.9 }')
    track = post(client, "/api/engage", toml).json()["tracks"][0]["points"]
    lon = np.array([p["lon_deg"] for p in track])
    assert np.abs(np.diff(lon)).max() < 10.0
    assert lon[-1] == pytest.approx(-157.8 + 360.0, abs=0.01)


def test_bad_toml_is_a_422_naming_the_key(client):
    r = post(client, "/api/engage", SCENARIO.replace('launch_delay = "60 s"', 'launch_delay = "-5 s"', 1))
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert len(errors) == 1
    assert "web-check.toml" in errors[0] and "launch_delay" in errors[0] and "poland-launch" in errors[0]
    r = post(client, "/api/engage", "name = \n")
    assert r.status_code == 422 and "TOML syntax error" in r.json()["errors"][0]
    r = post(client, "/api/engage", SCENARIO + "\nbogus_key = 1\n")
    assert r.status_code == 422 and "bogus_key" in " ".join(r.json()["errors"])


def test_malformed_requests_are_json_errors(client):
    r = client.post("/api/engage", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"]
    r = client.post("/api/engage", json={"overrides": {}})
    assert r.status_code == 422 and "scenario_toml" in r.json()["errors"][0]
    r = client.post("/api/engage", content=b'{"scenario_toml": "x"}', headers={"content-type": "text/plain"})
    assert r.status_code == 415  # only JSON bodies (no cross-site "simple" form posts): unsupported media type


def test_oversize_body_is_413(client):
    big = "#" + "x" * (webapp.MAX_BODY_BYTES + 10) + "\n" + SCENARIO
    r = post(client, "/api/engage", big)
    assert r.status_code == 413 and "larger than" in r.json()["errors"][0]

    def chunks():  # streamed, without a Content-Length
        yield b'{"scenario_toml": "'
        for _ in range(webapp.MAX_BODY_BYTES // 1000 + 2):
            yield b"x" * 1000
        yield b'"}'

    r = client.post("/api/engage", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_too_many_threats_is_422(client):
    toml = SCENARIO + "".join(threat_entry(f"k-w-{i}", "icbm", "kozelsk", "washington")
                              for i in range(webapp.MAX_THREATS))
    assert len(load_scenario_text(toml).threats) == webapp.MAX_THREATS + 1
    r = post(client, "/api/engage", toml)
    assert r.status_code == 422
    assert f"at most {webapp.MAX_THREATS}" in r.json()["errors"][0]


# ------------------------------------------------------------------------------------------ overrides
def test_overrides_change_results(client):
    base = post(client, "/api/engage").json()
    first = battery(base, "poland-launch")["first_intercept"]
    assert first is not None
    assert battery(base, "poland-track")["feasible"] is False

    fast = post(client, "/api/engage", overrides={"interceptors": {"iib": {"burnout_speed_km_s": 7.5}}}).json()
    assert battery(fast, "poland-launch")["first_intercept"]["time_s"] <= first["time_s"] + 1e-6

    late = post(client, "/api/engage", overrides={"batteries": {"poland-launch": {"launch_delay_s": 5000}}}).json()
    e = battery(late, "poland-launch")
    assert e["feasible"] is False and e["reason"] == "timeline"
    assert e["earliest_launch_s"] == pytest.approx(5000.0)

    cued = post(client, "/api/engage", overrides={"batteries": {"poland-track": {"cue": "launch"}}}).json()
    assert battery(cued, "poland-track")["first_intercept"]["time_s"] == pytest.approx(first["time_s"], abs=0.05)

    blind = post(client, "/api/engage", overrides={"sensors": {"fylingdales": {"max_range_km": 1.0},
                                                               "thule": {"max_range_km": 1.0}}}).json()
    assert blind["threats"][0]["track_time_s"] is None
    assert battery(blind, "poland-track")["reason"] == "not-detected"

    lofted = post(client, "/api/engage", overrides={"trajectory": "lofted"}).json()
    assert lofted["threats"][0]["apogee"]["altitude_km"] > base["threats"][0]["apogee"]["altitude_km"] + 100
    gamma = post(client, "/api/engage", overrides={"threats": {"k-w": {"trajectory": {"gamma_deg": 20}}}}).json()
    assert gamma["threats"][0]["burnout"]["gamma_deg"] == pytest.approx(20.0)


@pytest.mark.parametrize("overrides, words", [
    ({"interceptors": {"iib": {"burnout_speed_km_s": -1}}}, ["burnout_speed_km_s", "-1"]),
    ({"interceptors": {"iib": {"burnout_speed_km_s": "fast"}}}, ["burnout_speed_km_s", "'fast'"]),
    ({"interceptors": {"nope": {"burnout_speed_km_s": 5}}}, ["nope", "no such name", "iib"]),
    ({"batteries": {"poland-launch": {"cue": "radio"}}}, ["cue", "'radio'"]),
    ({"batteries": {"poland-launch": {"launch_delay": 5}}}, ["launch_delay", "unknown key"]),
    ({"sensors": {"thule": {"max_range_km": 0}}}, ["max_range_km", "greater than 0"]),
    ({"trajectory": "sideways"}, ["trajectory", "'sideways'", "min-energy"]),
    ({"trajectory": {"gamma_deg": 95}}, ["gamma_deg", "95"]),
    ({"colour": "red"}, ["colour", "unknown key"]),
])
def test_bad_overrides_are_422(client, overrides, words):
    r = post(client, "/api/engage", overrides=overrides)
    assert r.status_code == 422
    text = " ".join(r.json()["errors"])
    for w in words:
        assert w in text


def test_apply_overrides_is_pure_and_checks_everything():
    sc = load_scenario_text(SCENARIO)
    out = apply_overrides(sc, {"interceptors": {"iib": {"burnout_speed_km_s": 6}},
                               "batteries": {"poland-track": {"launch_delay_s": 0, "cue": "launch"}},
                               "sensors": {"thule": {"max_range_km": 3000}}})
    assert sc.interceptors["iib"].burnout_speed_m_s == 5500.0  # the input is untouched
    assert out.interceptors["iib"].burnout_speed_m_s == 6000.0
    assert out.batteries[1].launch_delay_s == 0.0 and out.batteries[1].cue == "launch"
    assert out.batteries[0] == sc.batteries[0]
    assert out.sensors[1].max_range_m == 3e6 and out.sensors[1].sector == sc.sensors[1].sector
    assert apply_overrides(sc, None) is sc and apply_overrides(sc, {}) is sc
    # every problem is reported, and nothing is applied when any is wrong
    with pytest.raises(OverrideError) as e:
        apply_overrides(sc, {"batteries": {"poland-track": {"launch_delay_s": -1}, "x": {}}, "sensors": []})
    assert len(e.value.messages) == 3
    # a lofted trajectory needs the missile's burnout speed
    nospeed = load_scenario_text(replace_once(SCENARIO, 'missile = "icbm"', 'missile = "nospeed"'))
    with pytest.raises(OverrideError, match="burnout_speed"):
        apply_overrides(nospeed, {"trajectory": "lofted"})
    assert apply_overrides(nospeed, {"trajectory": "min-energy"}).threats[0].trajectory.mode == "min-energy"
    unaimed = load_scenario_text(replace_once(SCENARIO, 'to = "washington"', 'azimuth = "300 deg"\ngamma = "30 deg"'))
    assert apply_overrides(unaimed, {"trajectory": "lofted"}).threats[0].trajectory == unaimed.threats[0].trajectory
    with pytest.raises(OverrideError, match="unaimed"):
        apply_overrides(unaimed, {"threats": {"k-w": {"trajectory": "lofted"}}})


# ------------------------------------------------------------------------------------------ coverage
def test_coverage_sync_and_job_agree_with_the_api(client):
    from shieldlab.api import coverage

    r = post(client, "/api/coverage", COVERAGE)
    assert r.status_code == 200, r.text
    cov = r.json()
    assert cov["batteries"] == ["poland-launch", "poland-track"]
    assert [p["name"] for p in cov["launch"]] == ["kozelsk"]
    assert cov["grid"]["step_deg"] == 4.0 and cov["n_pairs"] == 2 * 3
    want = coverage(load_scenario_text(COVERAGE)).engagements.feasible.reshape(1, 6, 2)
    assert cov["feasible"] == want.tolist()
    assert any(any(row) for row in cov["feasible"][0])
    for a in range(6):
        for j in range(2):
            assert (cov["first_intercept_s"][0][a][j] is not None) == cov["feasible"][0][a][j]
            assert (cov["reason"][0][a][j] == "ok") == cov["feasible"][0][a][j]

    job = post(client, "/api/coverage/jobs", COVERAGE)
    assert job.status_code == 202
    jid = job.json()["job"]
    for _ in range(600):
        st = client.get(f"/api/coverage/jobs/{jid}").json()
        assert st["state"] in ("queued", "running", "done")
        assert 0 <= st["done_pairs"] <= st["total_pairs"] == 6
        if st["state"] == "done":
            break
        import time

        time.sleep(0.1)
    assert st["state"] == "done" and st["done_pairs"] == 6
    assert st["result"]["feasible"] == cov["feasible"]
    assert client.get("/api/coverage/jobs/nope").status_code == 404


def test_coverage_limits(client):
    r = post(client, "/api/coverage", SCENARIO)
    assert r.status_code == 422 and "[coverage]" in r.json()["errors"][0]
    big = replace_once(COVERAGE, 'step = "4 deg"', 'step = "0.05 deg"')
    r = post(client, "/api/coverage/jobs", big)
    assert r.status_code == 422 and f"at most {webapp.MAX_PAIRS}" in r.json()["errors"][0]


# ------------------------------------------------------------------------------------------ geometry
def test_geometry_outlines_sit_on_the_visibility_boundary(client):
    r = post(client, "/api/geometry", ref_altitudes_km=[300])
    assert r.status_code == 200
    fc = r.json()
    kinds = [f["properties"]["kind"] for f in fc["features"]]
    assert kinds.count("radar-coverage") == 2 and kinds.count("radar") == 2 and kinds.count("battery") == 2
    cov = {f["properties"]["name"]: f for f in fc["features"] if f["properties"]["kind"] == "radar-coverage"}
    assert cov["fylingdales"]["properties"]["shape"] == "ring"
    assert cov["thule"]["properties"]["shape"] == "wedge"

    sc = load_scenario_text(SCENARIO)
    earth = Earth.from_spec(sc.earth)
    fyl = sc.sensors[0]
    az = np.arange(0.0, 360.0, 30.0)
    d = coverage_outline_m(earth, fyl, az, 300e3)
    rg = RadarGeometry(earth, fyl)
    for scale, seen in ((0.999, True), (1.001, False)):
        lat, lon, _ = geodesic.direct(earth, fyl.at.lat_deg, fyl.at.lon_deg, az, d * scale)
        vis = rg.sees(frames.geodetic_to_ecef(earth, lat, lon, np.full(az.shape, 300e3)))
        assert np.all(vis == seen)
    # the elevation mask, not the 4820 km range, limits a 300 km target: the ring is much smaller
    assert 1000e3 < d.max() < 2500e3
    # the wedge spans the sector: its two straight edges start at the site
    ring = cov["thule"]["geometry"]["coordinates"][0]
    assert ring[0] == pytest.approx([sc.sensors[1].at.lon_deg, sc.sensors[1].at.lat_deg], abs=1e-3)
    # higher targets are seen farther
    two = post(client, "/api/geometry", ref_altitudes_km=[300, 1000]).json()
    rng = {(f["properties"]["name"], f["properties"]["ref_altitude_km"]): f["properties"]["max_ground_range_km"]
           for f in two["features"] if f["properties"]["kind"] == "radar-coverage"}
    assert rng[("fylingdales", 1000.0)] > rng[("fylingdales", 300.0)]
    # a shorter radar range shrinks the high outline
    short = post(client, "/api/geometry", ref_altitudes_km=[1000],
                 overrides={"sensors": {"fylingdales": {"max_range_km": 1500}}}).json()
    f = next(f for f in short["features"] if f["properties"].get("name") == "fylingdales"
             and f["properties"]["kind"] == "radar-coverage")
    assert f["properties"]["max_ground_range_km"] < 1500
    r = post(client, "/api/geometry", ref_altitudes_km=[-5])
    assert r.status_code == 422


def test_polar_outline_is_closed_along_the_pole(client):
    fc = post(client, "/api/geometry", ref_altitudes_km=[1000]).json()
    ring = next(f for f in fc["features"] if f["properties"].get("name") == "thule"
                and f["properties"]["kind"] == "radar-coverage")["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1]
    assert any(p[1] == 90.0 for p in ring)  # the wedge contains the North Pole
    lon = np.array([p[0] for p in ring])
    lat = np.array([p[1] for p in ring])
    off_pole = (lat[1:] != 90.0) | (lat[:-1] != 90.0)
    assert np.abs(np.diff(lon))[off_pole].max() <= 180.0  # continuous longitudes, but along the pole
    assert np.ptp(lon) == pytest.approx(360.0)


def test_scenario_summary(client):
    sm = post(client, "/api/scenario").json()
    assert sm["name"] == "web-check"
    assert sm["interceptors"] == [{"name": "iib", "burnout_speed_km_s": 5.5, "burn_time_s": 60.0}]
    assert [b["cue"] for b in sm["batteries"]] == ["launch", "track"]
    assert sm["coverage"] is None
    assert post(client, "/api/scenario", COVERAGE).json()["coverage"]["n_pairs"] == 6


# ------------------------------------------------------------------------------------------ static files
def test_page_and_static_files(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    html = r.text
    assert "/static/vendor/leaflet/leaflet.js" in html and "/static/app.js" in html
    assert "default-src 'self'" in r.headers["content-security-policy"]
    for name in ("app.js", "app.css", "vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css",
                 "vendor/leaflet/images/marker-icon.png"):
        assert client.get(f"/static/{name}").status_code == 200, name
    geo = client.get("/data/ne_110m_countries.geojson")
    assert geo.status_code == 200 and geo.json()["type"] == "FeatureCollection"
    # the page's own files load nothing from elsewhere
    for text in (html, client.get("/static/app.js").text, client.get("/static/app.css").text):
        for bad in ("src=\"http", "href=\"http", "url(http", "@import", "fetch(\"http", "fonts.googleapis"):
            assert bad not in text


@pytest.mark.parametrize("path", [
    "/static/%2e%2e/app.py",
    "/static/%2e%2e/%2e%2e/cli.py",
    "/static/..%2fapp.py",
    "/static/%2e%2e%2f%2e%2e%2fcli.py",
    "/static/vendor/%2e%2e/%2e%2e/app.py",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/data/..%2f..%2fcli.py",
    "/data/%2e%2e%2fnatural_earth%2fREADME.md",
    "/data/%2fetc%2fpasswd",
    "/data/README.md",
    "/api/examples/..%2f..%2fpyproject",
    "/api/examples/%2e%2e",
    "/api/examples/%2fetc%2fpasswd",
    "/api/examples/..%2fsrc%2fshieldlab%2fweb%2fapp",
])
def test_path_traversal_is_404(client, path):
    r = client.get(path)
    assert r.status_code == 404, (path, r.status_code)
    assert r.json()["errors"]
    assert "import" not in r.text and "root:" not in r.text


def test_loopback_host_check():
    app = create_app(examples_dir=EXAMPLES, allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        assert c.get("/api/examples").status_code == 200
    with TestClient(app, base_url="http://attacker.example") as c:
        assert c.get("/api/examples").status_code == 400


def test_concurrent_requests_agree(client):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as ex:
        docs = list(ex.map(lambda _: post(client, "/api/engage").json(), range(4)))
    firsts = [battery(d, "poland-launch")["first_intercept"]["time_s"] for d in docs]
    assert max(firsts) - min(firsts) == 0.0
    assert all(math.isfinite(f) for f in firsts)


def test_threat_out_of_reach_is_data_not_an_error(client):
    # a lofted trajectory flies at the missile's burnout speed, far too slow for an ICBM range
    toml = replace_once(replace_once(SCENARIO, 'burnout_speed = "7.0 km/s"', 'burnout_speed = "3.0 km/s"'),
                        'to = "washington"', 'to = "washington"\ntrajectory = "lofted"')
    r = post(client, "/api/engage", toml)
    assert r.status_code == 200
    doc = r.json()
    assert doc["threats"][0]["error"]
    assert doc["tracks"][0] == {"threat": "k-w", "points": [], "detections": []}


# ------------------------------------------------------------------------------------------ the command
def _serve(*args, **kw):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "shieldlab", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def test_serve_command_prints_the_url_and_serves(tmp_path):
    import httpx

    f = tmp_path / "mine.toml"
    f.write_text(SCENARIO, encoding="utf-8")
    proc = _serve(str(f), "--port", "0")
    try:
        line = proc.stdout.readline()  # printed once the port is bound
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, (line, proc.stderr.read() if proc.poll() is not None else "")
        r = httpx.get(url.group(0) + "api/examples", timeout=60)
        assert r.status_code == 200 and r.json()[0]["name"] == "mine"
        # the Host header must be a loopback name (no DNS rebinding)
        r = httpx.get(url.group(0) + "api/examples", headers={"Host": "evil.example"}, timeout=60)
        assert r.status_code == 400
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.mark.parametrize("args, words", [
    (["--host", "0.0.0.0"], ["not a loopback", "--allow-remote"]),
    (["--host", "192.168.1.10", "--port", "0"], ["not a loopback"]),
    (["--port", "70000"], ["--port"]),
    (["missing-file.toml"], ["missing-file.toml", "cannot read"]),
])
def test_serve_command_refuses_bad_arguments(args, words):
    proc = _serve(*args)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert out == ""
    for w in words:
        assert w in err


def test_serve_command_malformed_file_exits_2(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text(SCENARIO.replace('launch_delay = "60 s"', 'launch_delay = "-60 s"', 1), encoding="utf-8")
    proc = _serve(str(f), "--port", "0")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and out == ""
    assert "bad.toml" in err and "launch_delay" in err


# ------------------------------------------------------------------------------------------ margins (issue 12)
def _strict_json(text: str):
    """JSON as the browser reads it: NaN / Infinity are not JSON (json.loads would accept them)."""
    import json

    def refuse(name):
        raise AssertionError(f"non-JSON constant {name} in the answer")

    return json.loads(text, parse_constant=refuse)


def _null_if_nan(x):
    return None if x is None or not math.isfinite(x) else x


MARGIN_KEYS = ("earliest_launch_s", "latest_launch_s", "margin_s")
GEOMETRY_KEYS = ("closing_speed_km_s", "crossing_angle_deg")


def test_engage_answer_carries_the_margins_and_geometry_of_the_engage_json(client):
    """The page's margins, latest launches and intercept geometry (docs/models.md, The latest launch,
    "Intercept geometry") are the `engage --json` document's, to the bit; the answer is strict JSON."""
    r = post(client, "/api/engage")
    assert r.status_code == 200, r.text
    doc = _strict_json(r.text)
    want = engage(load_scenario_text(SCENARIO)).to_document()
    for name in ("poland-launch", "poland-track"):
        got, ref = battery(doc, name), battery(want, name)
        for k in MARGIN_KEYS:
            assert got[k] == _null_if_nan(ref[k]), (name, k)
        for which in ("first_intercept", "last_intercept"):
            if ref[which] is None:
                assert got[which] is None
            else:
                for k in GEOMETRY_KEYS:
                    assert got[which][k] == ref[which][k], (name, which, k)
    # the launch-cued battery engages (margin >= 0); the track-cued one is late (tests/scenarios.py's pair)
    assert battery(doc, "poland-launch")["margin_s"] >= 0.0
    assert battery(doc, "poland-track")["margin_s"] < 0.0


def test_coverage_answer_carries_margins_equal_to_the_api(client):
    from shieldlab.api import coverage

    r = post(client, "/api/coverage", COVERAGE)
    assert r.status_code == 200, r.text
    cov = _strict_json(r.text)
    eng = coverage(load_scenario_text(COVERAGE)).engagements
    margin = eng.margin_s.reshape(1, 6, 2)
    latest = eng.latest_launch_s.reshape(1, 6, 2)
    closing = eng.first.closing_speed_m_s.reshape(1, 6, 2) * 1e-3
    seen = set()
    for a in range(6):
        for j in range(2):
            m = cov["margin_s"][0][a][j]
            assert (m is None) == (not math.isfinite(margin[0, a, j]))
            if m is not None:
                seen.add(m >= 0)
                assert m == pytest.approx(margin[0, a, j], abs=1e-3)  # rounded to ms for the page
                assert (m >= 0) == cov["feasible"][0][a][j]  # >= 0 exactly when feasible
                assert cov["latest_launch_s"][0][a][j] == pytest.approx(latest[0, a, j], abs=1e-3)
            c = cov["first_closing_speed_km_s"][0][a][j]
            assert (c is None) == (not cov["feasible"][0][a][j])
            if c is not None:
                assert c == pytest.approx(closing[0, a, j], abs=1e-4)
                assert 0.0 <= cov["first_crossing_angle_deg"][0][a][j] <= 180.0
    assert seen == {True, False}, "the grid should hold both a margin and a lateness"


def test_non_finite_numbers_are_null_not_a_500(client, monkeypatch):
    """A NaN or an infinity in an answer used to make the JSON encoder fail (HTTP 500): now null."""
    real = webapp.compute_engage

    def with_nan(sc):
        doc = real(sc)
        doc["threats"][0]["engagements"][0]["margin_s"] = float("nan")
        doc["threats"][0]["engagements"][0]["latest_launch_s"] = float("inf")
        doc["extra"] = [float("-inf"), 1.5]
        return doc

    monkeypatch.setattr(webapp, "compute_engage", with_nan)
    r = post(client, "/api/engage")
    assert r.status_code == 200, r.text
    doc = _strict_json(r.text)
    e = doc["threats"][0]["engagements"][0]
    assert e["margin_s"] is None and e["latest_launch_s"] is None and doc["extra"] == [None, 1.5]
    assert webapp.finite({"a": (float("nan"), 2.0), "b": {"c": float("inf")}, "d": "NaN"}) == \
        {"a": [None, 2.0], "b": {"c": None}, "d": "NaN"}


MARGIN_SAMPLES = [42.4, 0.0, -0.0, 3.26, -17.2, -0.4, None, float("nan"), float("inf"), 42.5, 43.5, 3.25, 3.75,
                  0.05, 9.5, 9.49, 9.45, -9.5, -9.45, 0.25, -0.25, 127.15136467152462, -476.5, 1e6]


def test_page_formats_margins_as_the_text_table(client):
    """static/format.js's marginText gives the Python text (shieldlab.output.margin.margin_str) for the same
    numbers, ties included (Python rounds exact halves to even, toFixed upwards); run under node."""
    import json
    import shutil
    import subprocess

    from shieldlab.output.margin import margin_str

    assert "/static/format.js" in client.get("/").text
    assert client.get("/static/format.js").status_code == 200
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the page's margin formatter is not run")
    js = ROOT / "src" / "shieldlab" / "web" / "static" / "format.js"
    values = [None if v is None else (v if math.isfinite(v) else str(v)) for v in MARGIN_SAMPLES]
    script = ("const f = require(process.argv[1]); const vs = JSON.parse(process.argv[2]);"
              "console.log(JSON.stringify(vs.map((v) => f.marginText(typeof v === 'string' ? Number(v) : v))));")
    out = subprocess.run([node, "-e", script, str(js), json.dumps(values)], capture_output=True, text=True,
                         timeout=60, check=True)
    got = json.loads(out.stdout)
    assert got == [margin_str(v) for v in MARGIN_SAMPLES]
    assert got[:7] == ["+42 s", "+0.0 s", "+0.0 s", "+3.3 s", "late by 17 s", "late by 0.4 s", "—"]


# ------------------------------------------------------------------------------------------ staged missile types
# Flown beside burnout threats, with their tracks from the ascent; the edits of the page refuse a fixed gamma for
# them as the file does (docs/scenario.md, Staged missile types).
STAGED = """
[missiles.liquid]
model = "staged"
payload_mass = "1000 kg"
diameter = "2.4 m"
stages = [
  { propellant_mass = "50 t", dry_mass = "5 t", burn_time = "150 s", isp = "290 s" },
  { propellant_mass = "12 t", dry_mass = "1.5 t", burn_time = "120 s", isp = "320 s" },
]
"""
STAGED_SCENARIO = (SCENARIO + STAGED + threat_entry("staged-aimed", "liquid", "kozelsk", "washington")
                   + threat_entry("staged-shot", "liquid", "kozelsk", azimuth="320 deg", kick="0.5 deg"))


def test_staged_threats_are_flown_with_their_tracks(client):
    for overrides in (None, {"trajectory": "lofted"}):
        r = post(client, "/api/engage", toml=STAGED_SCENARIO, overrides=overrides)
        assert r.status_code == 200, r.text
        doc = r.json()
        kw, aimed, shot = doc["threats"]
        assert kw["error"] is None and kw["apogee"] is not None
        for t, track in zip((aimed, shot), doc["tracks"][1:]):
            assert t["error"] is None and t["apogee"] is not None and t["kick_deg"] is not None, t
            pts = track["points"]
            powered = [p for p in pts if p["phase"] == "powered"]
            # the ascent: from the launch point up to the burnout altitude, every point at or before burnout
            assert powered and powered[0]["altitude_km"] == pytest.approx(0.0, abs=0.01)
            assert max(p["time_s"] for p in powered) <= t["burnout"]["time_s"] + 0.01  # times rounded to 10 ms
            assert max(p["altitude_km"] for p in powered) == pytest.approx(t["burnout"]["altitude_km"], rel=0.05)
    for where in ("/api/geometry", "/api/scenario"):
        assert post(client, where, toml=STAGED_SCENARIO).status_code == 200, where


def test_web_edits_refuse_a_fixed_gamma_for_staged_threats():
    sc = load_scenario_text(STAGED_SCENARIO, "web-check.toml")
    lofted = apply_overrides(sc, {"trajectory": "lofted"})
    assert [t.trajectory.mode for t in lofted.threats] == ["lofted", "lofted", "min-energy"]  # the last is unaimed
    for overrides, where in (({"trajectory": {"gamma_deg": 20}}, "trajectory"),
                             ({"threats": {"staged-aimed": {"trajectory": {"gamma_deg": 20}}}},
                              "threats.staged-aimed")):
        with pytest.raises(OverrideError) as error:
            apply_overrides(sc, overrides)
        (message,) = error.value.messages
        assert message.startswith(f"overrides: {where}: a fixed gamma is for burnout missile types; missile "
                                  "'liquid' is staged"), message
    assert apply_overrides(sc, {"threats": {"k-w": {"trajectory": {"gamma_deg": 20}}}}).threats[0].trajectory \
        .gamma_deg == 20.0


# ------------------------------------------------------------------------------------------ uncertainty
UNCERTAINTY = """
[uncertainty]
samples = 300
seed = 2
sensitivity_samples = 16
vary = [
  { key = "batteries.poland-launch.launch_delay", uniform = ["0 s", "600 s"] },
  { key = "sensors.fylingdales.max_range", triangular = ["3000 km", "4000 km", "4820 km"] },
]
"""


def test_uncertainty_answer_is_the_documents_with_the_pages_sample_cap(client):
    """POST /api/uncertainty: the `uncertainty --json` document of the scenario run with at most WEB_SAMPLES
    samples (the file asks for 300): the same numbers as shieldlab.api.uncertainty with that many (the same file
    and seed give the same numbers: docs/models.md, Uncertainty), as strict JSON (null, never NaN)."""
    from dataclasses import replace

    from shieldlab.api import uncertainty

    r = post(client, "/api/uncertainty", SCENARIO + UNCERTAINTY)
    assert r.status_code == 200, r.text
    doc = _strict_json(r.text)
    assert doc["samples"] == webapp.WEB_SAMPLES == 200 and doc["samples_in_file"] == 300
    assert doc["sensitivity_samples"] == 16 and doc["layout"] is None
    sc = load_scenario_text(SCENARIO + UNCERTAINTY)
    want = uncertainty(replace(sc, uncertainty=replace(sc.uncertainty, samples=200))).to_document()
    got = {b["battery"]: b for b in doc["threats"][0]["batteries"]}
    for b in want["threats"][0]["batteries"]:
        g = got[b["battery"]]
        assert g["probability"] == b["probability"] and g["probability_interval"] == b["probability_interval"]
        assert g["deciding"] == b["deciding"]
    # the launch-cued battery's delay decides its intercept; the track-cued one is late whatever the varied values
    # (tests/scenarios.py's pair: its margin does not vary, so its indices are null, not NaN)
    assert 0.0 < got["poland-launch"]["probability"] < 1.0
    assert got["poland-launch"]["deciding"] == "batteries.poland-launch.launch_delay"
    assert got["poland-track"]["probability"] == 0.0 and got["poland-track"]["sensitivity"][0]["total"] is None


def test_uncertainty_over_coverage_pairs_maps_onto_the_coverage(client):
    r = post(client, "/api/uncertainty", COVERAGE + UNCERTAINTY.replace("samples = 300", "samples = 20"))
    assert r.status_code == 200, r.text
    doc = _strict_json(r.text)
    assert doc["samples"] == 20 and len(doc["pairs"]) == 6
    assert doc["layout"]["launch"] == ["kozelsk"] and doc["layout"]["n_aim"] == 6
    cov = _strict_json(post(client, "/api/coverage", COVERAGE).text)
    assert doc["layout"]["aim"] == cov["aim"]


def test_uncertainty_refusals(client, monkeypatch):
    r = post(client, "/api/uncertainty", SCENARIO)
    assert r.status_code == 422 and "[uncertainty] table" in " ".join(r.json()["errors"])
    monkeypatch.setattr(webapp, "MAX_UNCERTAINTY_EVALUATIONS", 100)
    r = post(client, "/api/uncertainty", SCENARIO + UNCERTAINTY)
    assert r.status_code == 422 and "at most 100" in " ".join(r.json()["errors"])
