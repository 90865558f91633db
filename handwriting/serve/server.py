"""Starting the service: checks, the listening socket, the workers, then uvicorn.

A bind beyond the loopback interface needs a token (refused otherwise, before anything
starts). The socket is bound before the workers load, so a busy port fails at once;
port 0 picks a free one, printed on the ready line. SIGTERM or Ctrl+C: uvicorn stops
accepting, answers the requests in flight, then the workers finish and end.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from handwriting.errors import HandwritingError
from handwriting.serve.app import create_app
from handwriting.serve.pool import WorkerPool
from handwriting.serve.schemas import Limits

__all__ = ["ServeOptions", "serve", "is_loopback", "bind"]


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    workers: int = 2
    model: str | None = None
    recognizer: dict | None = None  # Recognizer keyword arguments (beam, lm, lm_weight)
    token: str | None = None
    timeout_s: float = 20.0
    limits: Limits = Limits()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port), or HandwritingError naming why not."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        raise HandwritingError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def serve(options: ServeOptions) -> None:
    import uvicorn  # the `serve` extra: only here, so the rest of the package never needs it

    if not is_loopback(options.host) and not options.token:
        raise HandwritingError(f"--host {options.host} is reachable from other machines: give --token T "
                               "(clients then send 'Authorization: Bearer T')")
    if options.workers < 1:
        raise HandwritingError("--workers must be at least 1")
    sock = bind(options.host, options.port)
    pool = WorkerPool(options.workers, options.model, options.recognizer or {}, options.limits, options.timeout_s)
    try:
        model = pool.start()
    except BaseException:
        sock.close()
        raise
    auth = ", token required (pad: open the address with #token=T)" if options.token else ""
    ready = f"handwriting serve: {_url(sock)} model {model['name']}, {options.workers} workers{auth}"
    app = create_app(pool, options.token, on_ready=lambda: print(ready, flush=True))
    config = uvicorn.Config(app, log_level="info", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=int(options.timeout_s) + 5)
    uvicorn.Server(config).run(sockets=[sock])
