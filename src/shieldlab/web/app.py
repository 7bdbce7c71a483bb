"""`shieldlab serve`: an interactive local web map over the Python API (FastAPI).

Endpoints (every error is JSON ``{"errors": [message, ...]}`` with a 4xx or 5xx status):

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
    POST /api/uncertainty          the `uncertainty --json` document of the scenario's [uncertainty] (over its
                                   [[threats]], or its [coverage] pairs with "layout": how the pairs map onto the
                                   coverage's launch and aim points), with at most WEB_SAMPLES samples and
                                   WEB_SENSITIVITY_SAMPLES for the Sobol indices (fewer when the file asks for
                                   fewer); "samples_in_file" and "sensitivity_samples_in_file" say what it asks for
    GET  /api/health               how busy the server is: {"heavy"|"light": {workers, queue, running, waiting},
                                   "jobs": {max_jobs, running, waiting}}

POST bodies: ``{"scenario_toml": "...", "filename": "x.toml", "overrides": {...}}`` (overrides:
shieldlab.web.overrides; geometry also takes "ref_altitudes_km": [300, 1000]); any other key is refused
(422), and the body must be sent as ``Content-Type: application/json`` (415 otherwise). The TOML is checked
by the same loader as the command line (load_scenario_text), so messages name the file, table and key.

Limits: request bodies over MAX_BODY_BYTES -> 413; more than MAX_THREATS threats (engage), MAX_PAIRS pairs
(coverage) or MAX_OUTLINES radar outlines (geometry: radars x reference altitudes), or an uncertainty run of more
than MAX_UNCERTAINTY_EVALUATIONS engagements (after the sample caps) -> 422; more than MAX_JOBS
coverage jobs queued or running -> 429 with Retry-After.

Work queues (a shared server stays responsive under load): the heavy requests (POST /api/engage,
/api/coverage, /api/uncertainty, and /api/geometry with more than LIGHT_OUTLINES outlines) run on HEAVY_WORKERS
threads with at most HEAVY_QUEUE more waiting; beyond that they are answered at once with 503 and Retry-After. The
light work (the example listing, reading scenarios for /api/scenario, small geometries, job submission) runs on
its own LIGHT_WORKERS threads (LIGHT_QUEUE waiting, 503 beyond), so it never waits behind a heavy request;
static files, job polling and /api/health use neither queue. Coverage jobs run one at a time on their own
thread and report progress per chunk. A coverage run whose client has gone, or that is still queued or
running when the server stops, is abandoned (between chunks). The HTTP plumbing (middleware, work queues)
is in shieldlab.web.serving.

Every answer other than a success is JSON ``{"errors": [message, ...]}``: a Host header that is not allowed
(400), malformed or non-JSON bodies, unknown paths and methods, and unexpected failures (500, logged on the
server with its traceback under a reference the answer names; no traceback is sent).
"""

from __future__ import annotations

import logging
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
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from shieldlab.web.overrides import OverrideError, apply_overrides
from shieldlab.web.serving import (BodyLimit, Guard, HostCheck, JsonBodies, JsonResponse, WebError, WorkQueue,
                                     errors_response, json_h11_protocol)

__all__ = ["create_app", "json_h11_protocol", "WebError"]

MAX_BODY_BYTES = 256 * 1024
MAX_THREATS = 50
MAX_PAIRS = 5_000
MAX_JOBS = 2          # coverage jobs queued or running at once
KEEP_JOBS = 16        # finished jobs kept for polling
MAX_REF_ALTITUDES = 4
MAX_OUTLINES = 200    # radar outlines per geometry request (radars x reference altitudes; ~30 ms each)
LIGHT_OUTLINES = 8    # a geometry with at most this many outlines is light work
MAX_OVERRIDE_DEPTH = 8  # nesting of the "overrides" object (its format needs 4 levels)

WEB_SAMPLES = 200     # an uncertainty run on the page: at most this many samples ...
WEB_SENSITIVITY_SAMPLES = 64  # ... and this Saltelli base N (the file's own when smaller)
MAX_UNCERTAINTY_EVALUATIONS = 200_000  # engagements (samples x threats or pairs) per uncertainty request

HEAVY_WORKERS = 2     # engage / coverage / large geometry requests computed at once ...
HEAVY_QUEUE = 4       # ... and waiting for a worker; more are refused with 503
LIGHT_WORKERS = 4     # example listing, reading scenarios, small geometries, job submission ...
LIGHT_QUEUE = 28      # ... and waiting; more are refused with 503
RETRY_AFTER_S = 10    # the Retry-After of a 503 (busy) or 429 (too many jobs)

# the page may load and fetch from this server only (and data: images, which Leaflet's CSS uses)
CSP = ("default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
       "style-src 'self' 'unsafe-inline'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
DATA_DIR = PACKAGE_DIR.parent / "data" / "natural_earth"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$")

log = logging.getLogger("shieldlab.web")


def default_examples_dir() -> Path | None:
    """The repository's examples/ (editable installs and source checkouts); None when absent."""
    d = PACKAGE_DIR.parents[2] / "examples"
    return d if d.is_dir() else None


def _depth(value: Any, limit: int) -> int:
    """How deeply `value` (parsed JSON) nests lists and objects, counted up to limit + 1 (no recursion)."""
    level, deepest = [(value, 1)], 0
    while level:
        v, d = level.pop()
        if isinstance(v, (dict, list)):
            deepest = max(deepest, d)
            if deepest > limit:
                break
            level.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return deepest


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    scenario_toml: str = Field(..., description="The scenario, as TOML text (docs/scenario.md).")
    filename: str | None = Field(None, max_length=200, description="Names the scenario in error messages.")
    overrides: dict[str, Any] | None = Field(None, description="Parameter edits (shieldlab.web.overrides).")

    @field_validator("overrides", mode="before")
    @classmethod
    def _shallow(cls, v):
        if _depth(v, MAX_OVERRIDE_DEPTH) > MAX_OVERRIDE_DEPTH:
            raise ValueError(f"nested deeper than {MAX_OVERRIDE_DEPTH} levels (the overrides need 4)")
        return v


class GeometryRequest(RunRequest):
    ref_altitudes_km: list[float] | None = Field(
        None, description="Altitudes of the radar coverage outlines (default 300 and 1000 km).")


class _Stopped(Exception):
    """Raised from a coverage run's progress callback when it should stop (server stopping, client gone)."""


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

    def state(self) -> dict:
        with self.lock:
            states = [j.state for j in self.jobs.values()]
        return {"max_jobs": MAX_JOBS, "running": states.count("running"), "waiting": states.count("queued")}

    def submit(self, scenario, n_pairs: int) -> Job:
        with self.lock:
            active = sum(j.state in ("queued", "running") for j in self.jobs.values())
            if active >= MAX_JOBS:
                raise WebError(429, f"{active} coverage runs are already queued or running; try again when "
                                    "one has finished", {"Retry-After": str(RETRY_AFTER_S)})
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
        except Exception as e:  # noqa: BLE001 - reported to the page (no traceback) and logged
            ref = uuid.uuid4().hex[:12]
            log.error("coverage job %s failed (reference %s)", job.id, ref, exc_info=True)
            job.errors = [f"the coverage run failed ({type(e).__name__}); the server's log has the details under "
                          f"reference {ref}"]
            job.state = "error"
        finally:
            job.finished = time.monotonic()

    def get(self, job_id: str) -> Job:
        with self.lock:
            job = self.jobs.get(job_id)
        if job is None:
            raise WebError(404, f"no coverage job {job_id[:100]!r} (finished jobs are kept for a while only)")
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
    except RecursionError:  # the request's TOML nests arrays or tables deeper than the parser can follow
        raise WebError(422, f"{filename}: the TOML is nested too deeply to read") from None
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


def finite(doc):
    """The document with every float that is not finite (NaN, ±inf) as None: JSON has no such numbers, and
    the page reads null as "none" (no margin, no latest launch)."""
    if isinstance(doc, float):
        return doc if math.isfinite(doc) else None
    if isinstance(doc, dict):
        return {k: finite(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [finite(v) for v in doc]
    return doc


def _json(doc) -> JsonResponse:
    """The answer, encoded here (on a worker thread) so that a large document does not hold up the event loop.
    Non-finite floats become null (:func:`finite`)."""
    return JsonResponse(finite(jsonable_encoder(doc)))


def _engage_answer(req: RunRequest) -> JsonResponse:
    sc = _scenario(req)
    if len(sc.threats) > MAX_THREATS:
        raise WebError(422, f"the scenario has {len(sc.threats)} threats; the web page engages at most "
                            f"{MAX_THREATS} per request (use `shieldlab engage` on the command line)")
    return _json(compute_engage(sc))


def _coverage_answer(req: RunRequest, stop: threading.Event) -> JsonResponse:
    sc = _scenario(req)
    _n_pairs(sc)

    def progress(done, total):
        if stop.is_set():
            raise _Stopped()

    try:
        return _json(compute_coverage(sc, progress))
    except _Stopped:
        raise WebError(503, "the coverage run was abandoned (the client has gone or the server is stopping)",
                       {"Retry-After": str(RETRY_AFTER_S)}) from None


def compute_uncertainty(scenario, progress=None) -> dict:
    """The uncertainty document of the scenario's [uncertainty] with the page's sample caps (WEB_SAMPLES,
    WEB_SENSITIVITY_SAMPLES); for a run over [coverage] pairs with "layout" (shieldlab.web.geo)."""
    from dataclasses import replace

    from shieldlab.api import ScenarioError, require_uncertainty, uncertainty
    from shieldlab.output.uncertaintyfiles import evaluations
    from shieldlab.web.geo import uncertainty_layout

    try:
        require_uncertainty(scenario)
    except ScenarioError as e:
        raise WebError(422, [str(p) for p in e.problems]) from None
    u = scenario.uncertainty
    if not u.vary:
        raise WebError(422, f"{scenario.source or 'the scenario'}: [uncertainty] varies nothing (vary = [])")
    capped = replace(scenario, uncertainty=replace(u, samples=min(u.samples, WEB_SAMPLES),
                                                   sensitivity_samples=min(u.sensitivity_samples,
                                                                           WEB_SENSITIVITY_SAMPLES)))
    n = evaluations(capped)
    if n > MAX_UNCERTAINTY_EVALUATIONS:
        raise WebError(422, f"the uncertainty run needs {n:,} engagements even with {capped.uncertainty.samples} "
                            f"samples; the web page runs at most {MAX_UNCERTAINTY_EVALUATIONS:,} per request (use "
                            "fewer threats or a coarser [coverage], or `shieldlab uncertainty` on the command line)")
    res = uncertainty(capped, workers=1, progress=progress)
    doc = res.to_document()
    doc["samples_in_file"] = u.samples
    doc["sensitivity_samples_in_file"] = u.sensitivity_samples
    doc["layout"] = uncertainty_layout(res)
    return doc


def _uncertainty_answer(req: RunRequest, stop: threading.Event) -> JsonResponse:
    sc = _scenario(req)

    def progress(done, total):
        if stop.is_set():
            raise _Stopped()

    try:
        return _json(compute_uncertainty(sc, progress))
    except _Stopped:
        raise WebError(503, "the uncertainty run was abandoned (the client has gone or the server is stopping)",
                       {"Retry-After": str(RETRY_AFTER_S)}) from None


def _scenario_pairs(req: RunRequest):
    sc = _scenario(req)
    return sc, _n_pairs(sc)


def _summary_answer(req: RunRequest) -> JsonResponse:
    from shieldlab.web.geo import summary

    return _json(summary(_scenario(req)))


def _geometry_answer(scenario, alts: tuple[float, ...]) -> JsonResponse:
    from shieldlab.web.geo import geometry

    return _json(geometry(scenario, alts))


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
            raise WebError(404, f"no example scenario named {name[:100]!r}")
        try:
            return files[name][0].read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise WebError(404, f"cannot read the example {name!r}: {e}") from None


# ---------------------------------------------------------------------------------------------- errors
_BODY_KEYS = {"/api/geometry": list(GeometryRequest.model_fields)}


def _validation_messages(request: Request, exc: RequestValidationError) -> list[str]:
    msgs = []
    for e in exc.errors():
        loc = [str(x) for x in e.get("loc", ())]
        if loc[:1] == ["body"]:
            loc = loc[1:]
        where = ".".join(loc) or "the request body"
        kind = e.get("type")
        if kind == "json_invalid":
            error = (e.get("ctx") or {}).get("error", "JSON decode error")
            msgs.append(f"request: the body is not valid JSON: {error} (at character {loc[0] if loc else '?'})")
        elif kind == "extra_forbidden":
            keys = _BODY_KEYS.get(request.url.path, list(RunRequest.model_fields))
            msgs.append(f"request: {where}: unknown key; the body takes {', '.join(keys)}")
        elif not loc and kind == "missing":
            msgs.append('request: the body is empty; send a JSON object {"scenario_toml": ..., ...}')
        elif not loc:
            msgs.append('request: the body must be a JSON object {"scenario_toml": ..., ...}')
        else:
            msgs.append(f"request: {where}: {e.get('msg', 'invalid')}")
    return msgs or ["request: invalid"]


def _body_parse_message(exc: Exception) -> str:
    cause = exc.__cause__
    if isinstance(cause, RecursionError):
        return "request: the body is not usable JSON: nested too deeply"
    if isinstance(cause, UnicodeDecodeError):
        return "request: the body is not UTF-8 text"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "request: the body is not usable JSON: a number has too many digits"
    return "request: the body is not valid JSON"


# ---------------------------------------------------------------------------------------------- the app
def create_app(initial_scenario_path=None, examples_dir=None, allowed_hosts=None, *,
               heavy_workers: int = HEAVY_WORKERS, heavy_queue: int = HEAVY_QUEUE) -> FastAPI:
    """The web app. `initial_scenario_path`: a scenario file offered first on the page (the FILE of
    `shieldlab serve FILE`); `examples_dir`: where the example scenarios are (default: the repository's
    examples/ when present); `allowed_hosts`: Host header names accepted (None: any; `serve` passes the
    loopback names, which stops DNS-rebinding pages from reaching the server); `heavy_workers`,
    `heavy_queue`: the heavy work queue (see the module text)."""
    jobs = Jobs()
    heavy = WorkQueue("heavy", heavy_workers, heavy_queue, RETRY_AFTER_S)
    light = WorkQueue("light", LIGHT_WORKERS, LIGHT_QUEUE, RETRY_AFTER_S)

    @asynccontextmanager
    async def lifespan(app):
        yield
        jobs.shutdown()
        heavy.shutdown()
        light.shutdown()

    app = FastAPI(title="shieldlab", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
                  lifespan=lifespan, default_response_class=JsonResponse, redirect_slashes=False)
    examples = Examples(default_examples_dir() if examples_dir is None else examples_dir, initial_scenario_path)
    app.state.examples = examples
    app.state.jobs = jobs
    app.state.queues = {"heavy": heavy, "light": light}

    post_paths: set[str] = set()  # filled below, once the routes exist
    app.add_middleware(JsonBodies, paths=post_paths)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    if allowed_hosts:
        app.add_middleware(HostCheck, allowed=list(allowed_hosts))
    app.add_middleware(Guard)  # the last added runs first

    @app.exception_handler(WebError)
    async def _web_error(request: Request, exc: WebError):
        return errors_response(exc.status, exc.messages, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404:
            detail = f"not found: {request.url.path[:200]}"
        elif exc.status_code == 405:
            allow = (exc.headers or {}).get("Allow", "")
            detail = f"method {request.method[:20]} is not allowed on {request.url.path[:200]}" + (
                f" (allowed: {allow})" if allow else "")
        elif exc.status_code == 400 and exc.__cause__ is not None:
            detail = _body_parse_message(exc)
        return errors_response(exc.status_code, [detail], exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return errors_response(422, _validation_messages(request, exc))

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
            raise WebError(404, f"not found: /data/{name[:100]}")
        return FileResponse(basemaps[stem], media_type="application/geo+json",
                            headers={"Cache-Control": "max-age=3600"})

    @app.get("/api/health")
    async def health():
        """How busy the server is: the work queues (running, waiting, capacity) and the coverage jobs."""
        return {"heavy": heavy.state(), "light": light.state(), "jobs": jobs.state()}

    @app.get("/api/examples")
    async def list_examples():
        return await light.run(examples.listing)

    @app.get("/api/examples/{name}")
    async def example_text(name: str):
        text = await light.run(examples.text, name)
        return PlainTextResponse(text, media_type="text/plain; charset=utf-8")

    @app.post("/api/scenario")
    async def scenario_summary(req: RunRequest):
        return await light.run(_summary_answer, req)

    @app.post("/api/engage")
    async def engage_endpoint(req: RunRequest, request: Request):
        return await heavy.run(_engage_answer, req, request=request)

    @app.post("/api/geometry")
    async def geometry_endpoint(req: GeometryRequest, request: Request):
        from shieldlab.web.geo import DEFAULT_REF_ALTITUDES_KM

        alts = DEFAULT_REF_ALTITUDES_KM if req.ref_altitudes_km is None else req.ref_altitudes_km
        bad = [h for h in alts if not (math.isfinite(h) and 0.0 <= h <= 5000.0)]
        if bad or len(alts) > MAX_REF_ALTITUDES:
            raise WebError(422, f"ref_altitudes_km: got {list(alts)[:MAX_REF_ALTITUDES + 1]}; expected at most "
                                f"{MAX_REF_ALTITUDES} altitudes, each between 0 and 5000 km")
        sc = await light.run(_scenario, req)
        n = len(sc.sensors) * len(alts)
        if n > MAX_OUTLINES:
            raise WebError(422, f"the geometry has {len(sc.sensors)} radars x {len(alts)} altitudes = {n} outlines; "
                                f"the web page draws at most {MAX_OUTLINES} per request")
        queue = light if n <= LIGHT_OUTLINES else heavy
        return await queue.run(_geometry_answer, sc, tuple(alts), request=request)

    @app.post("/api/coverage")
    async def coverage_endpoint(req: RunRequest, request: Request):
        stop = threading.Event()
        return await heavy.run(_coverage_answer, req, stop, request=request, stop=stop)

    @app.post("/api/uncertainty")
    async def uncertainty_endpoint(req: RunRequest, request: Request):
        stop = threading.Event()
        return await heavy.run(_uncertainty_answer, req, stop, request=request, stop=stop)

    @app.post("/api/coverage/jobs", status_code=202)
    async def coverage_job(req: RunRequest):
        sc, n = await light.run(_scenario_pairs, req)
        return jobs.submit(sc, n).as_dict()

    @app.get("/api/coverage/jobs/{job_id}")
    async def coverage_job_status(job_id: str):
        return _json(jobs.get(job_id).as_dict())

    post_paths.update(r.path for r in app.routes if "POST" in (getattr(r, "methods", None) or ()))
    return app
