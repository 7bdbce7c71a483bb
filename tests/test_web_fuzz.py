"""Property-based fuzzing of the web API (`shieldlab serve`) with hypothesis, in-process through the ASGI app
(FastAPI's TestClient; no network).

What is fuzzed, against every endpoint:
  * bodies that are any JSON value (nulls, booleans, huge integers, NaN and infinities, unicode and lone
    surrogates, nested lists and objects) and request objects with the known keys holding wrong types or
    random values, unknown keys, and overrides drawn from the override vocabulary (real names, keys and
    values mixed with wrong ones), over a real scenario whose TOML is kept, mutated (text inserted, cut,
    values replaced, 5,000-deep arrays) or replaced by random text;
  * raw bodies of random bytes (not UTF-8, not JSON) under random or odd Content-Types;
  * odd methods, paths, Host headers (against an app that checks the Host, as `shieldlab serve` does) and
    Content-Types.

Properties, for every response: the status is below 500 (a 503 would be allowed with Retry-After, but
requests here come one at a time); every error (status >= 400) is JSON {"errors": [non-empty strings]} with
no traceback; every success is JSON, except the page, its static files, the base map and an example's TOML
text; every answer comes within REQUEST_WITHIN_S (15 s; the slowest, real computations, take about 0.5 s).

Cases per run: 650 requests: any JSON body 30 per endpoint (150), request objects 40 per endpoint (200),
raw bytes 100, methods / paths / headers 100, Host headers 100. Hypothesis is derandomized (the same cases in
every run, in CI and here; no example database). It runs in about 30-60 s on a 2-core machine.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fastapi.testclient import TestClient  # noqa: E402

from shieldlab.web.app import create_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ENGAGE_TOML = (EXAMPLES / "kozelsk-washington.toml").read_text(encoding="utf-8")
COVERAGE_TOML = ENGAGE_TOML + """
[coverage]
missile = "icbm-solid"
from = ["kozelsk"]
to = { lat = [36, 40], lon = [-80, -72], step = "4 deg" }
"""
# cases per run (every case is one request): 5 x 30 + 5 x 40 + 3 x 100 = 650
ANY_JSON_PER_ENDPOINT = 30
REQUESTS_PER_ENDPOINT = 40
EXAMPLES_PER_PROPERTY = 100   # raw bytes, methods / paths / headers, Host headers
REQUEST_WITHIN_S = 15.0
FUZZ = settings(max_examples=EXAMPLES_PER_PROPERTY, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

POSTS = ["/api/scenario", "/api/engage", "/api/geometry", "/api/coverage", "/api/coverage/jobs"]
GETS = ["/", "/static/app.js", "/static/app.css", "/static/vendor/leaflet/leaflet.js",
        "/data/ne_110m_countries.geojson", "/api/examples", "/api/examples/kozelsk-washington", "/api/health",
        "/api/coverage/jobs/nope", "/api/openapi.json"]
FILES = ("/static/", "/data/", "/api/examples/")  # (and "/"): successes that are files, not JSON
NAMES = {"interceptors": ["sm3-iia", "sm3-iib"], "batteries": ["poland-iib", "poland-iia", "romania-iia"],
         "sensors": ["fylingdales", "thule", "kurecik"], "threats": ["kozelsk-washington"]}
KEYS = {"interceptors": ["burnout_speed_km_s"], "batteries": ["launch_delay_s", "cue"],
        "sensors": ["max_range_km"], "threats": ["trajectory"]}
WORDS = ["launch", "track", "lofted", "min-energy", "depressed", "gamma", "", "\x00", "\ud800", "é" * 3]

# ---------------------------------------------------------------------------------------------- strategies
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**300, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20), st.sampled_from(WORDS))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
numbers = st.one_of(st.floats(min_value=-1e6, max_value=1e6), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=10**300, max_value=10**400))
VALID = {"burnout_speed_km_s": (1.0, 10.0), "launch_delay_s": (0.0, 600.0), "max_range_km": (100.0, 6000.0),
         "gamma_deg": (5.0, 85.0), "cue": ["launch", "track"], "trajectory": ["min-energy", "lofted", "depressed"]}


def value_for(key: str):
    """Half the time a value the key accepts, else anything (wrong types, out of range, huge, NaN, ...)."""
    ok = VALID.get(key)
    if isinstance(ok, tuple):
        good = st.floats(*ok)
    elif ok:
        good = st.sampled_from(ok) | (st.fixed_dictionaries({"gamma_deg": value_for("gamma_deg")})
                                     if key == "trajectory" else st.nothing())
    else:
        good = st.nothing()
    return st.one_of(good, good, numbers, st.sampled_from(WORDS), json_values)


@st.composite
def overrides(draw):
    out = {}
    for section in draw(st.lists(st.sampled_from([*NAMES, "trajectory", "colour"]), max_size=3, unique=True)):
        if section in NAMES:
            names = draw(st.lists(st.sampled_from([*NAMES[section], "nope"]), max_size=2, unique=True))
            out[section] = {}
            for n in names:
                keys = draw(st.lists(st.sampled_from([*KEYS[section], "bogus"]), max_size=2, unique=True))
                out[section][n] = {k: draw(value_for(k)) for k in keys} if draw(st.integers(0, 7)) else draw(
                    json_values)
        else:
            out[section] = draw(value_for(section))
    return out


@st.composite
def toml_texts(draw):
    base = draw(st.sampled_from([ENGAGE_TOML, COVERAGE_TOML]))
    kind = draw(st.sampled_from(["as-is", "deep", "insert", "cut", "value", "random", "as-is"]))
    at = draw(st.integers(0, len(base)))
    if kind == "insert":
        return base[:at] + draw(st.text(max_size=30)) + base[at:]
    if kind == "cut":
        return base[:at] + base[at + draw(st.integers(1, 200)):]
    if kind == "value":  # one quantity replaced by something else
        return base.replace('"60 s"', draw(st.sampled_from(['"-5 s"', '"1e400 s"', "60", '"60 parsecs"', "[]",
                                                               '"nan s"', '"inf km"', "{}"])), 1)
    if kind == "random":
        return draw(st.text(max_size=200))
    if kind == "deep":
        n = draw(st.sampled_from([5000, 900, 10]))
        return base + "\ndeep = " + "[" * n + "]" * n + "\n"
    return base


@st.composite
def request_objects(draw):
    """Mostly well-formed requests (a TOML text, often overrides), with now and then a key of the wrong type,
    an odd filename, reference altitudes or an unknown key, so that most reach the loader and the
    computation rather than stopping at the first check."""
    body = {"scenario_toml": draw(toml_texts())}
    if draw(st.booleans()):
        body["overrides"] = draw(overrides())
    if draw(st.integers(0, 3)) == 0:
        body["ref_altitudes_km"] = draw(st.lists(st.floats(0, 5000) | numbers, max_size=6))
    if draw(st.integers(0, 5)) == 0:
        body["filename"] = draw(st.sampled_from(["x.toml", "../../etc/passwd", "a" * 300, "\ud800.toml", ""]))
    if draw(st.integers(0, 5)) == 0:  # a known key holding any JSON value
        body[draw(st.sampled_from(sorted(body)))] = draw(json_values)
    if draw(st.integers(0, 7)) == 0:  # an unknown key
        body[draw(st.text(max_size=8))] = draw(json_values)
    return body


content_types = st.one_of(
    st.sampled_from(["application/json", "application/json; charset=utf-8", "application/json; charset=latin-1",
                     "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                     "application/vnd.api+json", "APPLICATION/JSON", "application/json;;", "", "*/*"]),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40))
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "FOO"])
paths = st.one_of(st.sampled_from(POSTS + GETS), st.builds(
    lambda p, s: p + s, st.sampled_from(POSTS + GETS + ["/api/", "/data/", "/static/"]),
    st.text(alphabet="abc./%2e%2f?#&=~_-", max_size=20)))


# ---------------------------------------------------------------------------------------------- checks
@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(examples_dir=EXAMPLES), base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture(scope="module")
def host_checked():
    app = create_app(examples_dir=EXAMPLES, allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        yield c


def timed(client, method, path, **kw):
    t0 = time.monotonic()
    r = client.request(method, path, **kw)
    took = time.monotonic() - t0
    assert took < REQUEST_WITHIN_S, (method, path, took)
    return r


def check(r, method: str, path: str):
    """The properties every answer has (see the module text)."""
    where = (method, path, r.status_code, r.text[:300])
    event(f"{method} {path if path in POSTS + GETS else '(other path)'} -> {r.status_code}")
    assert r.status_code < 500 or (r.status_code == 503 and "retry-after" in r.headers), where
    assert "Traceback" not in r.text and 'File "/' not in r.text, where
    ctype = r.headers.get("content-type", "")
    is_file = path.split("?")[0] == "/" or path.startswith(FILES)
    if r.status_code >= 400 or not is_file:
        assert ctype.startswith("application/json"), where
        if method != "HEAD" and r.status_code not in (204, 304):
            doc = r.json()
            if r.status_code >= 400:
                assert set(doc) == {"errors"} and doc["errors"], where
                assert all(isinstance(m, str) and m for m in doc["errors"]), where


# ---------------------------------------------------------------------------------------------- properties
@pytest.mark.parametrize("path", POSTS)
@settings(FUZZ, max_examples=ANY_JSON_PER_ENDPOINT)
@given(body=json_values)
def test_any_json_body(client, path, body):
    r = timed(client, "POST", path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    check(r, "POST", path)
    assert r.status_code in (400, 415, 422) or isinstance(body, dict), r.status_code


@pytest.mark.parametrize("path", POSTS)
@settings(FUZZ, max_examples=REQUESTS_PER_ENDPOINT)
@given(body=request_objects())
def test_request_objects_with_random_keys_and_values(client, path, body):
    r = timed(client, "POST", path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    check(r, "POST", path)
    known = {"scenario_toml", "filename", "overrides"} | ({"ref_altitudes_km"} if path == "/api/geometry" else set())
    if set(body) - known:
        assert r.status_code == 422  # unknown keys are refused


@FUZZ
@given(path=st.sampled_from(POSTS), raw=st.binary(max_size=300), ctype=content_types)
def test_raw_bytes_and_content_types(client, path, raw, ctype):
    r = timed(client, "POST", path, content=raw, headers={"content-type": ctype})
    check(r, "POST", path)
    assert r.status_code != 200 or raw.strip().startswith(b"{")
    if ctype.split(";")[0].strip().lower() != "application/json":
        assert r.status_code == 415, (ctype, r.status_code)  # only JSON bodies


@FUZZ
@given(method=methods, path=paths, ctype=content_types, body=st.none() | st.binary(max_size=64))
def test_methods_paths_and_headers(client, method, path, ctype, body):
    r = timed(client, method, path, content=body, headers={"content-type": ctype})
    check(r, method, path)


@FUZZ
@given(host=st.one_of(st.sampled_from(["127.0.0.1", "localhost:8000", "LOCALHOST", "127.0.0.1:", "127.0.0.1:99999",
                                       "[::1]:8000", "evil.example", "127.0.0.1.evil.example", " 127.0.0.1",
                                       "127.0.0.1:8000, evil.example", ""]), header_text),
       path=st.sampled_from(GETS + POSTS))
def test_host_headers(host_checked, host, path):
    method = "POST" if path in POSTS else "GET"
    r = timed(host_checked, method, path, json={"scenario_toml": ENGAGE_TOML} if method == "POST" else None,
              headers={"host": host})
    check(r, method, path)
    name = host.strip().lower().rsplit(":", 1)[0] if not host.strip().startswith("[") else host
    if name not in ("127.0.0.1", "localhost"):
        assert r.status_code == 400 and "Host" in r.json()["errors"][0], (host, r.status_code)
