"""How the web app answers HTTP, apart from what it computes: every error as JSON, the Host check, the body
size limit, JSON-only request bodies, and bounded work queues that keep a shared server responsive.

All are plain ASGI middleware or small classes, used by :mod:`shieldlab.web.app`:

    Guard       (outermost) an exception escaping a request -> JSON 500 naming a reference; the traceback goes
                to the server's log (logger "shieldlab.web"), never to the client
    HostCheck   a Host header not naming an allowed host -> JSON 400 (no DNS rebinding)
    BodyLimit   a request body over the limit -> JSON 413 (announced or streamed)
    JsonBodies  a POST to the API without Content-Type: application/json (UTF-8) -> JSON 415
    WorkQueue   n threads plus a bounded queue; beyond it -> WebError 503 with Retry-After
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

_HOST = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::[0-9]{1,5})?$")

log = logging.getLogger("shieldlab.web")


class WebError(Exception):
    """An error answered as JSON {"errors": messages} with `status` (and `headers`, e.g. Retry-After)."""

    def __init__(self, status: int, messages, headers: dict[str, str] | None = None):
        self.status = status
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        self.headers = headers
        super().__init__("; ".join(self.messages))


class JsonResponse(JSONResponse):
    """Starlette's JSON (UTF-8, compact, no NaN), except that text which cannot be UTF-8 (a lone surrogate,
    which JSON input may carry as an escape like \\ud800 and an error message may quote) is written as JSON
    escapes instead of failing."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def errors_response(status: int, messages: list[str], headers: dict[str, str] | None = None) -> JsonResponse:
    return JsonResponse({"errors": messages}, status_code=status, headers=headers)


class Guard:
    """ASGI middleware (outermost): an exception escaping a request becomes a JSON 500 that names a reference;
    the traceback goes to the server's log (logger "shieldlab.web") under that reference, never to the client.
    Every answer also carries X-Content-Type-Options: nosniff."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def send_marked(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
                msg = {**msg, "headers": [*msg.get("headers", []), (b"x-content-type-options", b"nosniff")]}
            await send(msg)

        try:
            await self.app(scope, receive, send_marked)
        except Exception as e:  # noqa: BLE001 - answered as JSON and logged with its traceback
            ref = uuid.uuid4().hex[:12]
            log.error("internal error (reference %s) answering %s %s", ref, scope.get("method"),
                      scope.get("path"), exc_info=True)
            if started:
                raise
            await errors_response(500, [f"internal error ({type(e).__name__}); the server's log has the details "
                                        f"under reference {ref}"])(scope, receive, send_marked)


class HostCheck:
    """ASGI middleware: the Host header must name one of `allowed` (a port may follow); otherwise 400 as JSON.
    Stops DNS-rebinding pages from reaching a server on the loopback interface."""

    def __init__(self, app, allowed):
        self.app = app
        self.allowed = frozenset(h.lower() for h in allowed)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or "*" in self.allowed:
            return await self.app(scope, receive, send)
        hosts = [v for k, v in scope.get("headers", []) if k == b"host"]
        m = _HOST.match(hosts[0].decode("latin-1").strip().lower()) if len(hosts) == 1 else None
        if m is None or m.group(1) not in self.allowed:
            said = "no Host header" if not hosts else (
                "more than one Host header" if len(hosts) > 1 else f"Host {hosts[0].decode('latin-1')[:100]!r}")
            msg = f"request: {said}; this server answers to {', '.join(sorted(self.allowed))} only"
            return await errors_response(400, [msg])(scope, receive, send)
        return await self.app(scope, receive, send)


def _content_type_problem(values: list[bytes]) -> str | None:
    """Why a POST body's Content-Type headers are not JSON (UTF-8), or None."""
    if len(values) != 1:
        return (f"request: {'no' if not values else 'more than one'} Content-Type header; send the body as JSON "
                "(Content-Type: application/json)")
    text = values[0].decode("latin-1")
    media, *params = text.split(";")
    if media.strip().lower() != "application/json":
        return f"request: Content-Type {text[:100]!r} is not accepted; send the body as JSON (application/json)"
    for p in params:
        k, _, v = p.partition("=")
        if k.strip().lower() == "charset" and v.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return f"request: Content-Type {text[:100]!r}: JSON bodies are UTF-8"
    return None


class JsonBodies:
    """ASGI middleware: a POST to one of `paths` must declare a JSON body (Content-Type: application/json,
    UTF-8), else 415 before the body is read. Other paths and methods are left to the router (404, 405)."""

    def __init__(self, app, paths):
        self.app, self.paths = app, paths

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("method") == "POST" and scope.get("path") in self.paths:
            problem = _content_type_problem([v for k, v in scope.get("headers", []) if k == b"content-type"])
            if problem:
                return await errors_response(415, [problem], {"Accept-Post": "application/json"})(
                    scope, receive, send)
        return await self.app(scope, receive, send)


class BodyLimit:
    """ASGI middleware: refuse request bodies larger than `limit` bytes with 413, whether announced by
    Content-Length or streamed; the body read here is replayed to the app."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_big = errors_response(413, [f"the request body is larger than {self.limit // 1024} KB"])
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    if int(v) > self.limit:
                        return await too_big(scope, receive, send)
                except ValueError:
                    return await errors_response(400, ["bad Content-Length"])(scope, receive, send)
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


# ---------------------------------------------------------------------------------------------- work queues
class WorkQueue:
    """A thread pool with a bounded queue: `workers` tasks run at once and at most `queue` more wait; a task
    beyond that is refused at once with WebError 503 and Retry-After (never queued without end).

    `run(fn, *args, request=r, stop=e)`: when the client of request r disconnects before fn finishes, a task
    still waiting is dropped and the threading.Event e (if given) is set, so a running fn that checks it can
    stop early; e is also set when the queue shuts down."""

    def __init__(self, name: str, workers: int, queue: int, retry_after_s: int = 10):
        self.name, self.workers, self.queue = name, workers, queue
        self.retry_after = {"Retry-After": str(retry_after_s)}
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"shieldlab-{name}")
        self.lock = threading.Lock()
        self.admitted = self.running = 0
        self.stops: set[threading.Event] = set()
        self.closing = False

    def state(self) -> dict:
        with self.lock:
            return {"workers": self.workers, "queue": self.queue, "running": self.running,
                    "waiting": self.admitted - self.running}

    def _admit(self, stop):
        with self.lock:
            if self.closing:
                raise WebError(503, "the server is stopping", self.retry_after)
            if self.admitted >= self.workers + self.queue:
                raise WebError(503, f"the server is busy ({self.admitted - self.running} {self.name} requests "
                                    f"waiting for {self.workers} workers); try again in "
                                    f"{self.retry_after['Retry-After']} s", self.retry_after)
            self.admitted += 1
            if stop is not None:
                self.stops.add(stop)

    def _task(self, fn, args):
        with self.lock:
            self.running += 1
        try:
            return fn(*args)
        finally:
            with self.lock:
                self.running -= 1

    async def run(self, fn, *args, request: Request | None = None, stop: threading.Event | None = None):
        self._admit(stop)

        def release(_):
            with self.lock:
                self.admitted -= 1
                self.stops.discard(stop)

        try:
            fut = self.pool.submit(self._task, fn, args)
        except RuntimeError:  # the pool has shut down
            release(None)
            raise WebError(503, "the server is stopping", self.retry_after) from None
        fut.add_done_callback(release)
        result = asyncio.wrap_future(fut)
        gone = asyncio.ensure_future(_client_gone(request)) if request is not None else None
        try:
            if gone is not None:
                await asyncio.wait({result, gone}, return_when=asyncio.FIRST_COMPLETED)
                if not result.done():  # the client has gone: drop the task if it waits, ask it to stop if it runs
                    if stop is not None:
                        stop.set()
                    result.cancel()
                    raise WebError(503, "the client disconnected before the answer was ready")
            return await result
        except asyncio.CancelledError:
            if stop is not None:
                stop.set()
            result.cancel()
            raise
        finally:
            if gone is not None:
                gone.cancel()

    def shutdown(self):
        with self.lock:
            self.closing = True
            for s in self.stops:
                s.set()
        self.pool.shutdown(wait=False, cancel_futures=True)


async def _client_gone(request: Request) -> None:
    """Returns when the client of `request` disconnects (its body has been read by then)."""
    while True:
        msg = await request.receive()
        if msg["type"] == "http.disconnect":
            return


def json_h11_protocol():
    """uvicorn's HTTP/1.1 protocol (h11), answering a request it cannot parse (a malformed request line or
    header, a bad Content-Length or chunk, no Host) with a JSON 400 like every other error, instead of
    uvicorn's text/plain; pass it as uvicorn.Config(http=...). None when uvicorn's h11 protocol is missing.

    It overrides `send_400_response`, an internal method of uvicorn's H11Protocol; a uvicorn without it
    sends its own text/plain answer, nothing worse."""
    try:
        import h11
        from uvicorn.protocols.http.h11_impl import H11Protocol
    except ImportError:
        return None

    class JsonH11Protocol(H11Protocol):
        def send_400_response(self, msg: str) -> None:
            body = json.dumps({"errors": ["request: not a valid HTTP/1.1 request (a malformed request line or "
                                          "header, a bad Content-Length or chunk, or no Host header)"]}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                       (b"connection", b"close"), (b"x-content-type-options", b"nosniff")]
            try:
                for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                              h11.Data(data=body), h11.EndOfMessage()):
                    self.transport.write(self.conn.send(event))
            except h11.LocalProtocolError:  # an answer had already begun: nothing more can be said
                pass
            self.transport.close()

    return JsonH11Protocol
