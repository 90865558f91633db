"""What runs inside the service's worker processes: parse, recognise, encode.

Decoding is CPU-bound Python that holds the GIL, so the requests' bodies go as bytes to
worker processes, each holding one `Recognizer` loaded by `init`; a worker parses the
body, runs the model and returns the HTTP status with the encoded JSON answer. The
server process only moves bytes. Workers ignore SIGINT and SIGTERM (the server ends them
once in-flight requests are answered) and exit by themselves if the server dies.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from multiprocessing.sharedctypes import Synchronized

from handwriting.recognition.decode import DEFAULT_BEAM
from handwriting.errors import HandwritingError
from handwriting.recognition.recognizer import Recognizer
from handwriting.serve.google import LANGUAGES, google_answer, google_error, parse_google
from handwriting.serve.results import dumps, recognition_json
from handwriting.serve.schemas import MAX_ALTERNATIVES, MODES, Limits, RequestError, parse_explain, parse_recognize

__all__ = ["init", "handle", "describe"]

PARENT_CHECK_S = 1.0


_recognizer: Recognizer | None = None
_failure = ""  # why the recognizer could not be loaded
_limits = Limits()


def init(model: str | None, options: dict, limits: Limits, loaded: Synchronized) -> None:
    """Process initializer: load the recognizer once, leave signals to the server, watch it;
    count itself in `loaded` when done."""
    global _recognizer, _failure, _limits
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent = os.getppid()
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    _limits = limits
    try:
        _recognizer = Recognizer(model, alternatives=MAX_ALTERNATIVES, **options)
        _recognizer.warm_up()  # the first reading pays for lazy set-up: not a client's
    except HandwritingError as exc:  # reported by `describe`, as text: these exceptions do not pickle
        _failure = str(exc)
    with loaded.get_lock():
        loaded.value += 1


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def describe() -> dict:
    """The loaded model, for `/v1/models` (also proves the worker started), or {"error": why not}."""
    if _failure:
        return {"error": _failure}
    rec = _loaded()
    meta = rec.model.metadata
    card = meta.get("model_card", "").split("\n\n")
    return {"name": rec.name, "alphabet": rec.alphabet.chars, "languages": list(LANGUAGES), "modes": list(MODES),
            "network": rec.model.config, "preprocess": rec.model.preprocess.to_dict(),
            "second_network": {"name": rec.second.path.name, "network": rec.second.config,
                               "preprocess": rec.second.preprocess.to_dict(), "weight": 1 - rec.first_weight}
            if rec.second else None,
            "decoder": {"beam": _beam(rec), "language_model": rec.lm is not None},
            "card": card[1].replace("\n", " ") if len(card) > 1 else "",
            "training": {k: rec.model.training.get("last", {}).get(k) for k in ("epoch", "val_cer", "val_wer")},
            "version": meta.get("handwriting_version"), "pid": os.getpid()}


def _beam(rec: Recognizer) -> int:
    """The beam width `Recognizer.decode` uses (1: greedy)."""
    if rec.beam <= 1 and rec.lm is None:
        return 1
    return rec.beam if rec.beam > 1 else DEFAULT_BEAM


def _loaded() -> Recognizer:
    if _recognizer is None:
        raise RuntimeError("worker not initialised")
    return _recognizer


def handle(kind: str, body: bytes, submitted: float) -> tuple[int, bytes]:
    """(HTTP status, JSON bytes) for a request `body` of `kind` ("recognize", "explain" or "google"),
    submitted at `submitted` (monotonic clock)."""
    start = time.monotonic()
    rec = _loaded()
    try:
        if kind == "google":
            return 200, dumps(_google(rec, body))
        doc = _recognize(rec, body) if kind == "recognize" else _explain(rec, body)
    except (RequestError, HandwritingError) as exc:
        status, message = (exc.status, exc.message) if isinstance(exc, RequestError) else (400, str(exc))
        return (200, dumps(google_error(message))) if kind == "google" else (status, dumps({"error": message}))
    timings = {**doc.get("timings_ms", {}), "queue": (start - submitted) * 1e3, "work": (time.monotonic() - start) * 1e3}
    doc["timings_ms"] = {k: round(v, 2) for k, v in timings.items()}
    return 200, dumps(doc)


def _recognize(rec: Recognizer, body: bytes) -> dict:
    request = parse_recognize(body, rec.alphabet, _limits)
    readings = rec.recognize_batch(request.inks, word_alternatives=request.word_alternatives, mode=request.mode,
                                   context=request.pre_context, guide=request.guide)
    results = [recognition_json(r, ink, request.alternatives) for r, ink in zip(readings, request.inks)]
    doc = {"results": results} if request.batch else results[0]
    return {"model": rec.name, **doc}


def _explain(rec: Recognizer, body: bytes) -> dict:
    from handwriting.recognition.explain import explain  # imports onnx: only for the first explanation

    request = parse_explain(body, _limits)
    recognition = rec.recognize(request.ink, with_hidden=True)
    target = None
    if request.char is not None:
        chars = recognition.characters
        if request.char >= len(chars):
            raise RequestError(400, f'"char" {request.char}: {len(chars)} characters were recognised')
        target = (chars[request.char].frame, rec.alphabet.encode(chars[request.char].char)[0])
    explanation = explain(rec, recognition, target, cells=request.cells, k=request.count,
                          num_points=request.ink.num_points)
    return {"model": rec.name, **recognition_json(recognition, request.ink, rec.num_alternatives),
            **explanation.to_dict()}


def _google(rec: Recognizer, body: bytes) -> list:
    candidates = []
    for request in parse_google(body, rec.alphabet, _limits):
        texts = [a.text for a in rec.recognize(request.ink, context=request.pre_context, guide=request.guide).alternatives
                 if a.text]
        candidates.append(list(dict.fromkeys(texts))[:request.max_results])
    return google_answer(candidates)
