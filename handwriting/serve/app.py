"""The service's routes (Starlette): JSON API, the Google Input Tools shape, the web pad and
the Handwriting Recognition API polyfill.

    GET  /                           the web pad
    GET  /handwriting-recognition.js the WICG Handwriting Recognition API polyfill
    GET  /v1/health                  liveness (no token needed)
    GET  /v1/models                  the model: name, alphabet, network, card summary
    POST /v1/recognize               ink(s) -> text, alternatives, lines, words, characters
    POST /v1/explain                 one ink -> the arrays behind the Graves panel
    POST /request?ime=handwriting    Google Input Tools shape (also /inputtools/request)

Bodies are bounded before parsing (413, read to the end so the client gets the answer
rather than a reset connection); with a token, every route but the static files and
health wants `Authorization: Bearer <token>` (401). Errors are JSON `{"error": "..."}`
(the Google shape: a one-element array). CORS is open, so pages on any origin (and
handwriting.js) can call the service; the token is what guards a non-loopback bind.
"""

from __future__ import annotations

import hmac
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handwriting.serve.google import google_error
from handwriting.serve.pool import WorkerPool
from handwriting.serve.results import dumps
from handwriting.serve.schemas import RequestError

__all__ = ["create_app", "MAX_BODY_BYTES", "STATIC"]

MAX_BODY_BYTES = 4 * 1024 * 1024
DRAIN_LIMIT = 64 * 1024 * 1024  # past this much, an oversize body is not read to its end
STATIC = Path(__file__).parent / "static"
GOOGLE_PATHS = ("/request", "/inputtools/request")
_PAGES = {"/": ("index.html", "text/html; charset=utf-8"), "/pad.js": ("pad.js", "text/javascript; charset=utf-8"),
          "/handwriting-recognition.js": ("handwriting-recognition.js", "text/javascript; charset=utf-8")}


def _json(status: int, body: bytes, headers: dict | None = None) -> Response:
    return Response(body, status, headers, media_type="application/json")


async def _body(request: Request, limit: int) -> bytes:
    """The request body, or RequestError(413) past `limit` bytes."""
    declared = request.headers.get("content-length", "")
    too_big = declared.isdigit() and int(declared) > limit
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > DRAIN_LIMIT:
            break
        if size <= limit and not too_big:
            chunks.append(chunk)
    if too_big or size > limit:
        shown = int(declared) if too_big else size
        raise RequestError(413, f"the body is {shown} bytes, over the {limit} allowed")
    return b"".join(chunks)


def create_app(pool: WorkerPool, token: str | None = None, max_body: int = MAX_BODY_BYTES,
               on_ready: Callable[[], None] | None = None) -> Starlette:
    """The ASGI app over a started `pool`: `on_ready` is called once it serves; the pool is
    closed when the app shuts down."""
    pages = {path: ((STATIC / name).read_bytes(), kind) for path, (name, kind) in _PAGES.items()}

    def authorize(request: Request) -> None:
        if token is None:
            return
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise RequestError(401, "missing or wrong token: send 'Authorization: Bearer <token>'")

    async def page(request: Request) -> Response:
        body, kind = pages[request.url.path]
        return Response(body, media_type=kind, headers={"Cache-Control": "no-cache"})

    async def health(request: Request) -> Response:
        return _json(200, dumps({"status": "ok", "model": pool.model.get("name"), "workers": pool.workers,
                                 "pending": pool.pending, "token_required": token is not None}))

    async def models(request: Request) -> Response:
        authorize(request)
        return _json(200, dumps({"models": [pool.model]}))

    async def work(request: Request, kind: str) -> Response:
        authorize(request)
        status, body = await pool.run(kind, await _body(request, max_body))
        return _json(status, body)

    async def recognize(request: Request) -> Response:
        return await work(request, "recognize")

    async def explain(request: Request) -> Response:
        return await work(request, "explain")

    async def google(request: Request) -> Response:
        ime = request.query_params.get("ime", "handwriting")
        if ime != "handwriting":
            raise RequestError(400, f"ime {ime!r} is not served here; only ime=handwriting")
        return await work(request, "google")

    async def refused(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            status, message = exc.status_code, str(exc.detail)
        else:
            assert isinstance(exc, RequestError)
            status, message = exc.status, exc.message
        headers = {"Retry-After": "1"} if status == 503 else {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if request.url.path in GOOGLE_PATHS and status == 400:
            return _json(200, dumps(google_error(message)))
        return _json(status, dumps(google_error(message) if request.url.path in GOOGLE_PATHS else {"error": message}),
                     headers)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        if on_ready:
            on_ready()
        yield
        pool.close()  # after uvicorn has answered the requests in flight

    routes = [Route(path, page) for path in pages]
    routes += [Route("/v1/health", health), Route("/v1/models", models),
               Route("/v1/recognize", recognize, methods=["POST"]), Route("/v1/explain", explain, methods=["POST"])]
    routes += [Route(path, google, methods=["POST"]) for path in GOOGLE_PATHS]
    cors = Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"],
                      allow_headers=["Authorization", "Content-Type"], max_age=600)
    return Starlette(routes=routes, middleware=[cors], lifespan=lifespan,
                     exception_handlers={RequestError: refused, HTTPException: refused})
