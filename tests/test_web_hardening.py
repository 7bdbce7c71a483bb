"""The web server's hardening (`shieldlab serve`, shieldlab.web.app and shieldlab.web.serving): every answer
that is not a success is JSON, whatever went wrong; bodies are JSON objects with known keys only; the heavy
work runs on a bounded queue so that a shared server stays responsive.

The queue tests block the computation with a test double (an Event) to make "running" and "waiting" exact;
the soak test at the end runs real coverage requests against a `shieldlab serve` process on 127.0.0.1.
All traffic stays on the loopback interface or in-process; every loop is bounded in count and time.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from shieldlab.web import app as webapp  # noqa: E402
from shieldlab.web.app import create_app  # noqa: E402
from shieldlab.web.overrides import OverrideError, apply_overrides  # noqa: E402
from shieldlab.web.serving import WorkQueue  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ENGAGE_TOML = (EXAMPLES / "kozelsk-washington.toml").read_text(encoding="utf-8")
COVERAGE_TOML = (EXAMPLES / "coverage-us-east.toml").read_text(encoding="utf-8")
POSTS = ("/api/scenario", "/api/engage", "/api/geometry", "/api/coverage", "/api/coverage/jobs")
LOOPBACK = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(examples_dir=EXAMPLES), base_url=LOOPBACK) as c:
        yield c


def errors_of(r) -> list[str]:
    """The messages of a JSON error answer (and the checks every error answer must pass)."""
    assert r.headers["content-type"].startswith("application/json"), (r.status_code, r.headers, r.text[:300])
    doc = r.json()
    assert set(doc) == {"errors"} and doc["errors"] and all(isinstance(m, str) and m for m in doc["errors"]), doc
    assert "Traceback" not in r.text and 'File "' not in r.text
    return doc["errors"]


# ------------------------------------------------------------------------------ unexpected failures (item 2)
def test_deeply_nested_toml_is_a_json_4xx_on_every_endpoint(client):
    # issue 11 item 2: 5,000 nested arrays (10 KB) raised RecursionError in the TOML parser -> 500 text/plain
    deep = "a = " + "[" * 5000 + "]" * 5000 + "\n"
    assert len(deep) > 10_000
    for path in POSTS:
        r = client.post(path, json={"scenario_toml": deep, "filename": "deep.toml"})
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])
        assert "deep.toml" in errors_of(r)[0], path


def test_an_unexpected_exception_is_a_json_500_with_a_reference_and_no_traceback(monkeypatch, caplog):
    def broken(scenario):
        raise ZeroDivisionError("secret detail /home/operator/x")

    monkeypatch.setattr(webapp, "compute_engage", broken)
    with TestClient(create_app(examples_dir=EXAMPLES), base_url=LOOPBACK, raise_server_exceptions=False) as c:
        with caplog.at_level(logging.ERROR, logger="shieldlab.web"):
            r = c.post("/api/engage", json={"scenario_toml": ENGAGE_TOML})
        assert r.status_code == 500
        (msg,) = errors_of(r)
        assert "ZeroDivisionError" in msg and "secret" not in r.text and "/home" not in r.text
        ref = re.search(r"reference ([0-9a-f]{12})", msg).group(1)
        # the operator finds the traceback in the log under the reference the client was given
        logged = [rec for rec in caplog.records if ref in rec.getMessage()]
        assert logged and logged[0].exc_info and logged[0].exc_info[0] is ZeroDivisionError
        assert c.get("/api/examples").status_code == 200  # and the server goes on


def test_a_failed_coverage_job_reports_the_kind_not_the_details(monkeypatch):
    def broken(scenario, progress=None):
        raise ValueError("secret detail /home/operator/x")

    monkeypatch.setattr(webapp, "compute_coverage", broken)
    with TestClient(create_app(examples_dir=EXAMPLES), base_url=LOOPBACK) as c:
        jid = c.post("/api/coverage/jobs", json={"scenario_toml": COVERAGE_TOML}).json()["job"]
        for _ in range(200):
            st = c.get(f"/api/coverage/jobs/{jid}").json()
            if st["state"] == "error":
                break
            time.sleep(0.05)
    assert st["state"] == "error"
    assert "ValueError" in st["errors"][0] and "reference" in st["errors"][0] and "secret" not in st["errors"][0]


def test_huge_numbers_in_overrides_are_422_not_500(client):
    # JSON integers have any size; float() of 10**400 overflowed inside the override check
    for overrides, key in (({"trajectory": {"gamma_deg": 10**400}}, "gamma_deg"),
                           ({"interceptors": {"sm3-iia": {"burnout_speed_km_s": -(10**400)}}}, "burnout_speed_km_s")):
        r = client.post("/api/engage", json={"scenario_toml": ENGAGE_TOML, "overrides": overrides})
        assert r.status_code == 422, r.text[:200]
        assert key in errors_of(r)[0]


def test_apply_overrides_refuses_numbers_beyond_float_range():
    from shieldlab.api import load_scenario_text

    sc = load_scenario_text(ENGAGE_TOML)
    with pytest.raises(OverrideError, match="gamma_deg"):
        apply_overrides(sc, {"trajectory": {"gamma_deg": 10**400}})
    with pytest.raises(OverrideError, match="gamma_deg"):
        apply_overrides(sc, {"trajectory": {"gamma_deg": float("nan")}})
    assert apply_overrides(sc, {"trajectory": {"gamma_deg": 20}}).threats[0].trajectory.gamma_deg == 20.0


def test_text_that_is_not_utf8_in_an_error_message_is_escaped_not_a_500(client):
    # a lone surrogate (valid as a JSON escape, not encodable as UTF-8) quoted back in an error message
    body = b'{"scenario_toml": %s, "overrides": {"batteries": {"\\ud800x": {}}}}' % json.dumps(ENGAGE_TOML).encode()
    r = client.post("/api/engage", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert "\ud800x" in errors_of(r)[0] and "no such name" in errors_of(r)[0]


def test_deeply_nested_json_bodies_are_json_errors(client):
    for depth in (50, 5000):
        body = b'{"scenario_toml": "x", "overrides": {"a": ' + b"[" * depth + b"]" * depth + b"}}"
        r = client.post("/api/engage", content=body, headers={"content-type": "application/json"})
        assert r.status_code in (400, 422), (depth, r.status_code)
        assert "nested" in errors_of(r)[0]


# ------------------------------------------------------------------------------ JSON everywhere (item 18)
def test_a_bad_host_header_is_a_json_400():
    app = create_app(examples_dir=EXAMPLES, allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        assert c.get("/api/examples").status_code == 200
        assert c.get("/api/examples", headers={"host": "LOCALHOST:8000"}).status_code == 200
        for host in ("attacker.example", "attacker.example:8000", "127.0.0.1.attacker.example", "127.0.0.1:80x",
                     "127.0.0.1:8000@attacker.example", "", "[::1]"):
            r = c.get("/api/examples", headers={"host": host})
            assert r.status_code == 400, host
            assert "Host" in errors_of(r)[0] and "127.0.0.1, localhost" in errors_of(r)[0]
        r = c.post("/api/engage", json={"scenario_toml": ENGAGE_TOML}, headers={"host": "attacker.example"})
        assert r.status_code == 400 and errors_of(r)


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                   "application/json; charset=latin-1", "application/vnd.api+json", "json"])
def test_a_body_that_is_not_declared_json_is_415(client, ctype):
    headers = {} if ctype is None else {"content-type": ctype}
    for path in POSTS:
        r = client.post(path, content=json.dumps({"scenario_toml": ENGAGE_TOML}).encode(), headers=headers)
        assert r.status_code == 415, (path, ctype, r.status_code)
        assert "application/json" in errors_of(r)[0]
        assert r.headers["accept-post"] == "application/json"


def test_json_content_type_variants_are_accepted(client):
    for ctype in ("application/json", "Application/JSON", "application/json; charset=utf-8",
                  'application/json;charset="UTF-8"'):
        r = client.post("/api/scenario", content=json.dumps({"scenario_toml": ENGAGE_TOML}).encode(),
                        headers={"content-type": ctype})
        assert r.status_code == 200, (ctype, r.text[:200])


@pytest.mark.parametrize("path", POSTS)
def test_unknown_body_keys_are_refused(client, path):
    toml = COVERAGE_TOML if "coverage" in path else ENGAGE_TOML
    r = client.post(path, json={"scenario_toml": toml, "scenario_tmol": "typo"})
    assert r.status_code == 422
    (msg,) = errors_of(r)
    assert "scenario_tmol" in msg and "unknown key" in msg and "scenario_toml, filename, overrides" in msg
    if path != "/api/geometry":  # only the geometry takes reference altitudes
        r = client.post(path, json={"scenario_toml": toml, "ref_altitudes_km": [300]})
        assert r.status_code == 422 and "ref_altitudes_km" in errors_of(r)[0]


def test_wrong_json_types_are_422_not_coerced(client):
    for body, word in (({"scenario_toml": 5}, "scenario_toml"), ({"scenario_toml": ENGAGE_TOML, "filename": 5},
                                                                   "filename"),
                       ({"scenario_toml": ENGAGE_TOML, "overrides": []}, "overrides"),
                       ([ENGAGE_TOML], "JSON object"), ("x", "JSON object"), (None, "JSON object")):
        r = client.post("/api/engage", content=json.dumps(body).encode(), headers={"content-type": "application/json"})
        assert r.status_code == 422, body
        assert word in errors_of(r)[0]
    r = client.post("/api/geometry", json={"scenario_toml": ENGAGE_TOML, "ref_altitudes_km": ["300"]})
    assert r.status_code == 422 and "ref_altitudes_km" in errors_of(r)[0]
    r = client.post("/api/engage", content=b"", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "empty" in errors_of(r)[0]


@pytest.mark.parametrize("method, path, status", [
    ("DELETE", "/api/engage", 405), ("PUT", "/api/examples", 405), ("PATCH", "/api/coverage", 405),
    ("OPTIONS", "/api/engage", 405), ("GET", "/api/engage", 405), ("POST", "/api/examples", 405),
    ("POST", "/static/app.js", 405), ("GET", "/api/nope", 404), ("POST", "/api/nope", 404),
    ("GET", "/api/examples/", 404), ("GET", "/api/coverage/jobs/" + "x" * 500, 404),
])
def test_methods_and_paths_that_do_not_exist_are_json(client, method, path, status):
    r = client.request(method, path)
    assert r.status_code == status
    assert errors_of(r)


# ------------------------------------------------------------------------------ bounded work (item 10)
class Blocked:
    """A stand-in for the coverage computation that waits until released, counting its calls."""

    def __init__(self):
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, scenario, progress=None):
        self.calls += 1
        assert self.release.wait(60), "never released"
        return {"blocked": True}


def _wait_for(predicate, timeout_s=30.0):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_heavy_requests_queue_up_to_a_limit_then_503_and_light_ones_stay_fast(monkeypatch):
    blocked = Blocked()
    monkeypatch.setattr(webapp, "compute_coverage", blocked)
    app = create_app(examples_dir=EXAMPLES, heavy_workers=1, heavy_queue=1)
    body = {"scenario_toml": COVERAGE_TOML}
    with TestClient(app, base_url=LOOPBACK) as c, ThreadPoolExecutor(2) as pool:
        c.get("/api/examples")  # the listing is read (and cached) once
        health = lambda: c.get("/api/health").json()["heavy"]  # noqa: E731
        first = pool.submit(c.post, "/api/coverage", json=body)
        assert _wait_for(lambda: health()["running"] == 1)
        second = pool.submit(c.post, "/api/coverage", json=body)
        assert _wait_for(lambda: health()["waiting"] == 1)
        assert health() == {"workers": 1, "queue": 1, "running": 1, "waiting": 1}
        # the queue is full: more heavy work is refused at once, with a time to come back
        for path, toml in (("/api/coverage", COVERAGE_TOML), ("/api/engage", ENGAGE_TOML)):
            t0 = time.monotonic()
            r = c.post(path, json={"scenario_toml": toml})
            assert r.status_code == 503 and time.monotonic() - t0 < 2.0
            assert "busy" in errors_of(r)[0] and int(r.headers["retry-after"]) == webapp.RETRY_AFTER_S
        # a big geometry is heavy work too; a small one is light and is answered
        r = c.post("/api/geometry", json={"scenario_toml": ENGAGE_TOML, "ref_altitudes_km": [100, 300, 1000, 2000]})
        assert r.status_code == 503
        t0 = time.monotonic()
        assert c.post("/api/geometry", json={"scenario_toml": ENGAGE_TOML, "ref_altitudes_km": [300]}
                      ).status_code == 200
        assert c.get("/api/examples").status_code == 200
        assert c.post("/api/scenario", json={"scenario_toml": COVERAGE_TOML}).status_code == 200
        assert c.get("/static/app.js").status_code == 200
        assert time.monotonic() - t0 < 5.0
        assert blocked.calls == 1
        blocked.release.set()
        assert first.result(60).json() == {"blocked": True} and second.result(60).json() == {"blocked": True}
        assert blocked.calls == 2
        assert health() == {"workers": 1, "queue": 1, "running": 0, "waiting": 0}
        # and capacity is back
        assert c.post("/api/coverage", json=body).status_code == 200


def test_the_job_cap_is_429_with_retry_after(monkeypatch):
    blocked = Blocked()
    monkeypatch.setattr(webapp, "compute_coverage", blocked)
    with TestClient(create_app(examples_dir=EXAMPLES), base_url=LOOPBACK) as c:
        for _ in range(webapp.MAX_JOBS):
            assert c.post("/api/coverage/jobs", json={"scenario_toml": COVERAGE_TOML}).status_code == 202
        r = c.post("/api/coverage/jobs", json={"scenario_toml": COVERAGE_TOML})
        assert r.status_code == 429 and int(r.headers["retry-after"]) == webapp.RETRY_AFTER_S and errors_of(r)
        blocked.release.set()


def test_geometry_outlines_are_limited(client):
    radars = "".join(f'\n[[sensors]]\nname = "r{i}"\nat = {{ lat = {i % 80}, lon = {i} }}\nmax_range = "3000 km"\n'
                     for i in range(webapp.MAX_OUTLINES // 4 + 1))
    r = client.post("/api/geometry", json={"scenario_toml": ENGAGE_TOML + radars,
                                           "ref_altitudes_km": [100, 300, 1000, 2000]})
    assert r.status_code == 422 and f"at most {webapp.MAX_OUTLINES}" in errors_of(r)[0]


def test_work_queue_sets_stop_at_shutdown_and_refuses_afterwards():
    import asyncio

    from shieldlab.web.serving import WebError

    q = WorkQueue("test", workers=1, queue=0)
    started, stop = threading.Event(), threading.Event()

    def work():
        started.set()
        return stop.wait(30)

    async def main():
        task = asyncio.ensure_future(q.run(work, stop=stop))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 30)
        with pytest.raises(WebError) as full:
            await q.run(work)
        assert full.value.status == 503
        q.shutdown()
        assert await task is True  # the running work saw its stop event
        with pytest.raises(WebError, match="stopping"):
            await q.run(work)

    asyncio.run(main())


@contextmanager
def _uvicorn_on_loopback(app):
    """The app served by uvicorn in a thread on a free 127.0.0.1 port: yields its base URL once it has
    started, and stops the server on leaving."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        assert _wait_for(lambda: server.started)
        yield "http://127.0.0.1:%d" % sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(30)


def test_a_queued_request_whose_client_has_gone_is_dropped(monkeypatch):
    """Through a real server (uvicorn, 127.0.0.1): the client gives up while its request waits; the
    computation is never started, and the queue slot is free again."""
    blocked = Blocked()
    monkeypatch.setattr(webapp, "compute_coverage", blocked)
    app = create_app(examples_dir=EXAMPLES, heavy_workers=1, heavy_queue=1)
    with _uvicorn_on_loopback(app) as url:
        try:
            body = {"scenario_toml": COVERAGE_TOML}
            with ThreadPoolExecutor(1) as pool:
                first = pool.submit(httpx.post, url + "/api/coverage", json=body, timeout=60)
                assert _wait_for(lambda: httpx.get(url + "/api/health").json()["heavy"]["running"] == 1)
                with pytest.raises(httpx.ReadTimeout):
                    httpx.post(url + "/api/coverage", json=body, timeout=1.0)  # waits, then its client gives up
                assert _wait_for(lambda: httpx.get(url + "/api/health").json()["heavy"]["waiting"] == 0, 10)
                blocked.release.set()
                assert first.result(60).status_code == 200
            assert blocked.calls == 1  # the abandoned request never ran
        finally:
            blocked.release.set()


def test_a_running_coverage_whose_client_has_gone_stops_between_chunks(monkeypatch):
    """Through a real server (uvicorn, 127.0.0.1): the client gives up while its coverage runs; the run is
    told to stop at its next progress report (between chunks) and its worker is free again."""
    stopped = threading.Event()

    def spinning(scenario, progress=None):  # reports progress every 10 ms, for at most a minute
        try:
            for i in range(6000):
                progress(i, 6000)
                time.sleep(0.01)
        except Exception:
            stopped.set()
            raise
        return {"finished": True}

    monkeypatch.setattr(webapp, "compute_coverage", spinning)
    app = create_app(examples_dir=EXAMPLES, heavy_workers=1, heavy_queue=0)
    with _uvicorn_on_loopback(app) as url:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(url + "/api/coverage", json={"scenario_toml": COVERAGE_TOML}, timeout=1.0)
        assert stopped.wait(10)
        assert _wait_for(lambda: httpx.get(url + "/api/health").json()["heavy"]["running"] == 0, 10)


# ------------------------------------------------------------------------------ `shieldlab serve` (loopback)
def _serve(log: Path, *args):
    """`shieldlab serve ARGS` in a process (its log in `log`); (process, base URL) once it listens."""
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "shieldlab", "serve", *args], stdout=subprocess.PIPE,
                                stderr=err, text=True)
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(300)
    url = re.search(r"http://127\.0\.0\.1:\d+/", line[0]) if line else None
    if url is None:
        proc.kill()
        proc.wait(60)
        raise AssertionError(f"the server did not start: {line} {log.read_text()[-2000:]}")
    return proc, url.group(0).rstrip("/")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/api/examples", timeout=10).status_code == 200
    except httpx.TransportError:
        return False


def _raw_http(port: int, data: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send raw bytes to 127.0.0.1:port; (status line, headers, body) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    head, _, body = out.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}, body


MALFORMED_HTTP = {
    "not HTTP": b"HELLO\r\n\r\n",
    "no Host (HTTP/1.1)": b"GET /api/examples HTTP/1.1\r\n\r\n",
    "a header without a colon": b"GET /api/examples HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n",
    "two Host headers": b"GET /api/examples HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n",
    "a space in the path": b"GET /api/exa mples HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "bytes that are not ASCII in the path": b"GET /api/\xff\xfe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "a bad Content-Length": b"POST /api/engage HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            b"Content-Length: abc\r\n\r\n{}",
    "two Content-Lengths": b"POST /api/engage HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "a bad chunk": b"POST /api/engage HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "no Host (HTTP/1.0)": b"GET /api/examples HTTP/1.0\r\n\r\n",
    "a Host that is not loopback": b"GET /api/examples HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    "a Host with bytes that are not ASCII": b"GET /api/examples HTTP/1.1\r\nHost: 127.0.0.1\xff\r\n\r\n",
}


def test_requests_that_are_not_valid_http_get_json_400_from_the_server(tmp_path):
    """`shieldlab serve` on 127.0.0.1, raw bytes on a socket: what uvicorn cannot parse is answered with JSON
    like everything else (uvicorn's own answer is text/plain)."""
    proc, url = _serve(tmp_path / "serve.log", "--port", "0", "--examples", str(EXAMPLES))
    port = int(url.rsplit(":", 1)[1])
    try:
        assert _wait_for(lambda: _answers(url), 120)
        for what, data in MALFORMED_HTTP.items():
            status, headers, body = _raw_http(port, data)
            assert status.startswith("HTTP/1.1 400"), (what, status)
            assert headers["content-type"].startswith("application/json"), (what, headers, body[:100])
            doc = json.loads(body)
            assert list(doc) == ["errors"] and doc["errors"][0].startswith("request: "), (what, doc)
    finally:
        proc.terminate()
        proc.wait(60)


SOAK_CLIENTS = 40          # concurrent coverage requests, as in issue 11 (there: 4,712 pairs each)
SOAK_DEADLINE_S = 240.0    # the whole load phase, hard bound
EXAMPLES_WITHIN_S = 1.0


def _peak_rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def test_soak_the_server_stays_responsive_while_coverage_requests_queue(tmp_path):
    """40 concurrent POST /api/coverage (the 378-pair example) against `shieldlab serve` on 127.0.0.1, while
    GET /api/examples is polled: the examples answer within 1 s throughout, the heavy queue takes
    HEAVY_WORKERS + HEAVY_QUEUE requests and refuses the rest at once with 503 + Retry-After, the answers
    that ran agree, and the server's peak memory stays bounded."""
    proc, url = _serve(tmp_path / "serve.log", "--port", "0", "--examples", str(EXAMPLES))
    try:
        assert _wait_for(lambda: _answers(url), 120)
        with httpx.Client(base_url=url, timeout=120) as c:
            assert c.get("/api/examples").status_code == 200
            t0 = time.monotonic()
            warm = c.post("/api/coverage", json={"scenario_toml": COVERAGE_TOML})  # loads the compiled kernels
            assert warm.status_code == 200, warm.text[:300]
            single_s = time.monotonic() - t0
        rss_before = _peak_rss_mb(proc.pid)

        start = threading.Barrier(SOAK_CLIENTS + 1)

        def one_request(_):
            with httpx.Client(base_url=url, timeout=SOAK_DEADLINE_S) as cc:
                start.wait(60)
                return cc.post("/api/coverage", json={"scenario_toml": COVERAGE_TOML})

        latencies, seen_waiting = [], 0
        with ThreadPoolExecutor(SOAK_CLIENTS) as pool, httpx.Client(base_url=url, timeout=30) as poll:
            futures = [pool.submit(one_request, i) for i in range(SOAK_CLIENTS)]
            start.wait(60)
            t_load = time.monotonic()
            while not all(f.done() for f in futures) and time.monotonic() - t_load < SOAK_DEADLINE_S:
                t0 = time.monotonic()
                r = poll.get("/api/examples")
                latencies.append(time.monotonic() - t0)
                assert r.status_code == 200
                health = poll.get("/api/health")
                if health.status_code == 200:
                    seen_waiting = max(seen_waiting, health.json()["heavy"]["waiting"])
                time.sleep(0.1)
            load_s = time.monotonic() - t_load
            answers = [f.result(SOAK_DEADLINE_S) for f in futures]
        rss_after = _peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(60)

    ok = [a for a in answers if a.status_code == 200]
    busy = [a for a in answers if a.status_code == 503]
    capacity = webapp.HEAVY_WORKERS + webapp.HEAVY_QUEUE
    summary = (f"{len(ok)} computed, {len(busy)} refused; single run {single_s:.1f} s, load phase {load_s:.1f} s; "
               f"/api/examples: {len(latencies)} polls, max {max(latencies):.2f} s; queue waiting max {seen_waiting}; "
               f"peak RSS {rss_before} -> {rss_after} MB")
    print(summary)
    assert len(ok) + len(busy) == SOAK_CLIENTS, [a.status_code for a in answers]
    assert len(ok) >= capacity and busy, summary
    assert seen_waiting >= 1, summary  # the examples were polled while coverage requests queued
    assert len(latencies) >= 5 and max(latencies) < EXAMPLES_WITHIN_S, summary
    for a in busy:
        assert int(a.headers["retry-after"]) > 0 and "busy" in errors_of(a)[0]
    assert all(a.json()["feasible"] == warm.json()["feasible"] for a in ok)
    if rss_after is not None:
        assert rss_after < 1024, summary  # issue 11: 1.6 GB for 40 concurrent coverage requests
