"""`shieldlab serve`: an interactive local web map over the Python API (FastAPI).

Endpoints (every error is JSON ``{"errors": [message, ...]}`` with a 4xx status):

    GET  /                         the page (static/index.html)
    GET  /static/...               the page's JS/CSS and the vendored Leaflet 1.9.4
    GET  /data/<name>.geojson      the bundled Natural Earth base map (shieldlab/data/natural_earth)
    GET  /api/examples             [{name, file, title, has_coverage, n_threats, source, error}]
    GET  /api/examples/{name}      that scenario's TOML text
    POST /api/scenario             the parameters the side panel edits (values from the file)
    POST /api/engage               the `engage --json` document + "tracks" (ground tracks, detection points)
                                   + "reason_text" (each reason's explanation, shieldlab.api.Reason)
    POST /api/geometry             GeoJSON: radar coverage outlines (rings / sector wedges), radar and battery sites
    POST /api/coverage             the [coverage] run, compact (per launch, aim point, battery), synchronous,
                                   with "reason_text" as for /api/engage
    POST /api/coverage/jobs        the same as a background job: 202 {"job", "state", "total_pairs"}
    GET  /api/coverage/jobs/{id}   {"state": queued|running|done|error, "done_pairs", "total_pairs", "result"|"errors"}

POST bodies: ``{"scenario_toml": "...", "filename": "x.toml", "overrides": {...}}`` (overrides:
shieldlab.web.overrides; geometry also takes "ref_altitudes_km": [300, 1000]). The TOML is checked by the
same loader as the command line (load_scenario_text), so messages name the file, table and key.

Limits: request bodies over MAX_BODY_BYTES -> 413; more than MAX_THREATS threats (engage) or MAX_PAIRS
pairs (coverage) -> 422; more than MAX_JOBS coverage jobs queued or running -> 429. Computations run in
worker threads (the event loop stays free); coverage jobs run one at a time on their own thread and
report progress per chunk.
"""

from __future__ import annotations

import math
import re
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from shieldlab.web.overrides import OverrideError, apply_overrides

MAX_BODY_BYTES = 256 * 1024
MAX_THREATS = 50
MAX_PAIRS = 5_000
MAX_JOBS = 2          # coverage jobs queued or running at once
KEEP_JOBS = 16        # finished jobs kept for polling
MAX_REF_ALTITUDES = 4

# the page may load and fetch from this server only (and data: images, which Leaflet's CSS uses)
CSP = ("default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
       "style-src 'self' 'unsafe-inline'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
DATA_DIR = PACKAGE_DIR.parent / "data" / "natural_earth"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$")


def default_examples_dir() -> Path | None:
    """The repository's examples/ (editable installs and source checkouts); None when absent."""
    d = PACKAGE_DIR.parents[2] / "examples"
    return d if d.is_dir() else None


class WebError(Exception):
    """An error answered as JSON {"errors": messages} with `status`."""

    def __init__(self, status: int, messages):
        self.status = status
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("; ".join(self.messages))


class RunRequest(BaseModel):
    scenario_toml: str = Field(..., description="The scenario, as TOML text (shared/spec/SCENARIO.md).")
    filename: str | None = Field(None, max_length=200, description="Names the scenario in error messages.")
    overrides: dict[str, Any] | None = Field(None, description="Parameter edits (shieldlab.web.overrides).")
    ref_altitudes_km: list[float] | None = Field(
        None, description="geometry only: altitudes of the radar coverage outlines (default 300 and 1000 km).")


class BodyLimit:
    """ASGI middleware: refuse request bodies larger than `limit` bytes with 413, whether announced by
    Content-Length or streamed; the body read here is replayed to the app."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_big = JSONResponse({"errors": [f"the request body is larger than {self.limit // 1024} KB"]},
                               status_code=413)
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    if int(v) > self.limit:
                        return await too_big(scope, receive, send)
                except ValueError:
                    return await JSONResponse({"errors": ["bad Content-Length"]}, status_code=400)(
                        scope, receive, send)
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        chunks, size = [], 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body = msg.get("body", b"")
            size += len(body)
            if size > self.limit:
                return await too_big(scope, receive, send)
            chunks.append(body)
            if not msg.get("more_body", False):
                break
        replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replayed():
            return replay.pop() if replay else await receive()

        return await self.app(scope, replayed, send)


class _Stopped(Exception):
    """Raised from a coverage run's progress callback when the server stops."""


class Job:
    def __init__(self, total: int):
        self.id = uuid.uuid4().hex
        self.state = "queued"
        self.done, self.total = 0, total
        self.result = None
        self.errors: list[str] = []
        self.started = time.monotonic()
        self.finished: float | None = None

    def as_dict(self) -> dict:
        out = {"job": self.id, "state": self.state, "done_pairs": self.done, "total_pairs": self.total,
               "elapsed_s": round((self.finished or time.monotonic()) - self.started, 2)}
        if self.state == "done":
            out["result"] = self.result
        if self.state == "error":
            out["errors"] = self.errors
        return out


class Jobs:
    """Coverage jobs on one worker thread (one at a time: a coverage already uses the cores)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shieldlab-coverage")
        self.closing = False

    def submit(self, scenario, n_pairs: int) -> Job:
        with self.lock:
            active = sum(j.state in ("queued", "running") for j in self.jobs.values())
            if active >= MAX_JOBS:
                raise WebError(429, f"{active} coverage runs are already queued or running; try again when "
                                    "one has finished")
            job = Job(n_pairs)
            self.jobs[job.id] = job
            finished = [k for k, j in self.jobs.items() if j.state in ("done", "error")]
            for k in finished[: max(0, len(self.jobs) - KEEP_JOBS)]:
                del self.jobs[k]
        self.pool.submit(self._run, job, scenario)
        return job

    def _run(self, job: Job, scenario) -> None:
        job.state = "running"

        def progress(done, total):
            job.done = done
            if self.closing:  # the server is stopping: abandon the run between chunks
                raise _Stopped()

        try:
            job.result = compute_coverage(scenario, progress)
            job.done = job.total
            job.state = "done"
        except _Stopped:
            job.errors = ["the server stopped before the coverage run finished"]
            job.state = "error"
        except Exception as e:  # noqa: BLE001 - reported to the page, not swallowed
            job.errors = [f"the coverage run failed: {type(e).__name__}: {e}"]
            job.state = "error"
        finally:
            job.finished = time.monotonic()

    def get(self, job_id: str) -> Job:
        with self.lock:
            job = self.jobs.get(job_id)
        if job is None:
            raise WebError(404, f"no coverage job {job_id!r} (finished jobs are kept for a while only)")
        return job

    def shutdown(self):
        self.closing = True
        self.pool.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------------------------------------- compute
def _scenario(req: RunRequest):
    """Load and check the TOML, then apply the overrides; WebError 422 with every problem otherwise."""
    from shieldlab.api import ScenarioError, load_scenario_text

    filename = Path(req.filename).name if req.filename else "<scenario>"
    try:
        sc = load_scenario_text(req.scenario_toml, filename)
    except ScenarioError as e:
        raise WebError(422, [str(p) for p in e.problems]) from None
    try:
        return apply_overrides(sc, req.overrides)
    except OverrideError as e:
        raise WebError(422, e.messages) from None


def compute_engage(scenario) -> dict:
    from shieldlab.api import engage
    from shieldlab.web.geo import tracks

    res = engage(scenario)
    doc = res.to_document()
    doc["tracks"] = tracks(res)
    doc["reason_text"] = reason_text()
    return doc


def reason_text() -> dict:
    """What the page says for each reason (JSON string -> explanation): the page has no texts of its own."""
    from shieldlab.api import Reason

    return {r.value: r.explanation for r in Reason}


def _n_pairs(scenario) -> int:
    from shieldlab.api import count_pairs

    if scenario.coverage is None:
        raise WebError(422, f"{scenario.source or 'the scenario'}: no [coverage] table; a coverage run needs one "
                            "(missile, from = launch points, to = aim grid or places)")
    n = count_pairs(scenario)
    if n > MAX_PAIRS:
        raise WebError(422, f"the coverage has {n} (launch, aim) pairs; the web page runs at most {MAX_PAIRS} "
                            "per request (use a coarser grid, or `shieldlab coverage` on the command line)")
    return n


def compute_coverage(scenario, progress=None) -> dict:
    from shieldlab.api import coverage
    from shieldlab.web.geo import coverage_compact

    # one process (the server's other requests keep a core); chunks as the command line cuts them
    return {**coverage_compact(coverage(scenario, workers=1, progress=progress)), "reason_text": reason_text()}


# ---------------------------------------------------------------------------------------------- examples
class Examples:
    """Scenario files the page may load: every *.toml directly in examples_dir, plus the command-line file.
    Looked up by name only (a key of this listing), so no request can name any other path."""

    def __init__(self, examples_dir, initial):
        self.dir = Path(examples_dir).resolve() if examples_dir else None
        self.initial = Path(initial).resolve() if initial else None
        self._cache: dict[Path, tuple[float, dict]] = {}

    def files(self) -> OrderedDict[str, tuple[Path, str]]:
        out: OrderedDict[str, tuple[Path, str]] = OrderedDict()
        if self.initial is not None:
            out[self.initial.stem if _NAME.match(self.initial.stem) else "scenario"] = (self.initial, "file")
        if self.dir is not None and self.dir.is_dir():
            for p in sorted(self.dir.glob("*.toml")):
                if p.is_file() and not p.is_symlink() and _NAME.match(p.stem) and p.stem not in out:
                    out[p.stem] = (p, "example")
        return out

    def _describe(self, name: str, path: Path, source: str) -> dict:
        from shieldlab.api import ScenarioError, load_scenario

        try:
            mtime = path.stat().st_mtime
        except OSError:
            mtime = -1.0
        hit = self._cache.get(path)
        if hit and hit[0] == mtime:
            return hit[1]
        entry = {"name": name, "file": path.name, "source": source, "title": None, "has_coverage": False,
                 "n_threats": 0, "error": None}
        try:
            sc = load_scenario(path)
            entry.update(title=sc.name, has_coverage=sc.coverage is not None, n_threats=len(sc.threats))
        except ScenarioError as e:
            entry["error"] = str(e.problems[0]) if e.problems else str(e)
        self._cache[path] = (mtime, entry)
        return entry

    def listing(self) -> list[dict]:
        return [self._describe(n, p, s) for n, (p, s) in self.files().items()]

    def text(self, name: str) -> str:
        files = self.files() if _NAME.match(name) else {}
        if name not in files:
            raise WebError(404, f"no example scenario named {name!r}")
        try:
            return files[name][0].read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise WebError(404, f"cannot read the example {name!r}: {e}") from None


# ---------------------------------------------------------------------------------------------- the app
def create_app(initial_scenario_path=None, examples_dir=None, allowed_hosts=None) -> FastAPI:
    """The web app. `initial_scenario_path`: a scenario file offered first on the page (the FILE of
    `shieldlab serve FILE`); `examples_dir`: where the example scenarios are (default: the repository's
    examples/ when present); `allowed_hosts`: Host header names accepted (None: any; `serve` passes the
    loopback names, which stops DNS-rebinding pages from reaching the server)."""
    jobs = Jobs()

    @asynccontextmanager
    async def lifespan(app):
        yield
        jobs.shutdown()

    app = FastAPI(title="shieldlab", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
                  lifespan=lifespan)
    examples = Examples(default_examples_dir() if examples_dir is None else examples_dir, initial_scenario_path)
    app.state.examples = examples
    app.state.jobs = jobs

    if allowed_hosts:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)

    @app.exception_handler(WebError)
    async def _web_error(request: Request, exc: WebError):
        return JSONResponse({"errors": exc.messages}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404:
            detail = f"not found: {request.url.path}"
        return JSONResponse({"errors": [detail]}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        msgs = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "the request body"
            msgs.append(f"request: {where}: {e.get('msg', 'invalid')}")
        return JSONResponse({"errors": msgs or ["invalid request"]}, status_code=422)

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC_DIR / "index.html",
                            headers={"Cache-Control": "no-cache", "Content-Security-Policy": CSP})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    basemaps = {p.stem: p for p in DATA_DIR.glob("*.geojson")}

    @app.get("/data/{name}", include_in_schema=False)
    async def basemap(name: str):
        stem = name[: -len(".geojson")] if name.endswith(".geojson") else None
        if stem not in basemaps:
            raise WebError(404, f"not found: /data/{name}")
        return FileResponse(basemaps[stem], media_type="application/geo+json",
                            headers={"Cache-Control": "max-age=3600"})

    @app.get("/api/examples")
    async def list_examples():
        return await run_in_threadpool(examples.listing)

    @app.get("/api/examples/{name}")
    async def example_text(name: str):
        return PlainTextResponse(examples.text(name), media_type="text/plain; charset=utf-8")

    @app.post("/api/scenario")
    async def scenario_summary(req: RunRequest):
        from shieldlab.web.geo import summary

        sc = await run_in_threadpool(_scenario, req)
        return summary(sc)

    @app.post("/api/engage")
    async def engage_endpoint(req: RunRequest):
        sc = await run_in_threadpool(_scenario, req)
        if len(sc.threats) > MAX_THREATS:
            raise WebError(422, f"the scenario has {len(sc.threats)} threats; the web page engages at most "
                                f"{MAX_THREATS} per request (use `shieldlab engage` on the command line)")
        return await run_in_threadpool(compute_engage, sc)

    @app.post("/api/geometry")
    async def geometry_endpoint(req: RunRequest):
        from shieldlab.web.geo import DEFAULT_REF_ALTITUDES_KM, geometry

        alts = DEFAULT_REF_ALTITUDES_KM if req.ref_altitudes_km is None else req.ref_altitudes_km
        bad = [h for h in alts if not (math.isfinite(h) and 0.0 <= h <= 5000.0)]
        if bad or len(alts) > MAX_REF_ALTITUDES:
            raise WebError(422, f"ref_altitudes_km: got {alts}; expected at most {MAX_REF_ALTITUDES} altitudes, "
                                "each between 0 and 5000 km")
        sc = await run_in_threadpool(_scenario, req)
        return await run_in_threadpool(geometry, sc, tuple(alts))

    @app.post("/api/coverage")
    async def coverage_endpoint(req: RunRequest):
        sc = await run_in_threadpool(_scenario, req)
        _n_pairs(sc)
        return await run_in_threadpool(compute_coverage, sc)

    @app.post("/api/coverage/jobs", status_code=202)
    async def coverage_job(req: RunRequest):
        sc = await run_in_threadpool(_scenario, req)
        n = _n_pairs(sc)
        return jobs.submit(sc, n).as_dict()

    @app.get("/api/coverage/jobs/{job_id}")
    async def coverage_job_status(job_id: str):
        return jobs.get(job_id).as_dict()

    return app
