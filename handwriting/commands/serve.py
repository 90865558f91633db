"""`handwriting serve [--host H] [--port P] [--workers N] [--model M] [--token T]`: the local HTTP service.

Serves recognition to apps and web pages: a JSON API (/v1/recognize, /v1/explain,
/v1/models, /v1/health), the Google Input Tools handwriting shape (/request?ime=handwriting,
so handwriting.js works by changing its URL), a polyfill of the WICG Handwriting
Recognition API (/handwriting-recognition.js) and a web pad (/). It listens on the
loopback interface unless told otherwise; any other address needs --token (also read from
$HANDWRITING_SERVE_TOKEN), which clients send as 'Authorization: Bearer T'. Needs the
`serve` extra: pip install 'handwriting[serve]'.
"""

from __future__ import annotations

import argparse
import os

from handwriting.commands.recognize import add_model_options, recognizer_options
from handwriting.errors import HandwritingError
from handwriting.options import port, positive_float, positive_int

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="local HTTP service: JSON API, Google Input Tools shape, web pad, polyfill",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=port, default=8765, help="port (default 8765; 0: any free port)")
    p.add_argument("--workers", type=positive_int, default=min(2, os.cpu_count() or 1),
                   help="recognizer processes (default: 2, or 1 on a one-core machine)")
    p.add_argument("--token", default=os.environ.get("HANDWRITING_SERVE_TOKEN"),
                   help="bearer token clients must send (required off loopback)")
    p.add_argument("--timeout", type=positive_float, default=20.0, metavar="S", help="per-request time limit (default 20 s)")
    add_model_options(p)
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        from handwriting.serve.server import ServeOptions, serve
    except ImportError as exc:
        raise HandwritingError(f"serve needs the serve extra: pip install 'handwriting[serve]' ({exc})") from None
    serve(ServeOptions(args.host, args.port, args.workers, args.model, recognizer_options(args), args.token, args.timeout))
    return 0
