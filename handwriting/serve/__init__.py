"""`handwriting serve`: the recognizer as a local HTTP service.

Modules: `schemas` (request bodies and their checks), `google` (the Google Input Tools
shape), `results` (answers as JSON with finite numbers only), `worker` (what runs in the
worker processes), `pool` (those processes, from the event loop), `app` (the routes),
`server` (checks, socket, uvicorn), `launch` (a service in a subprocess, for scripts) and `static/` (the web pad and the Handwriting
Recognition API polyfill). Only `app` and `server` need the `serve` extra (starlette,
uvicorn).
"""

__all__: list[str] = []
