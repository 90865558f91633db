"""Request bodies of the service: strict JSON, ink in the JSON ink schema, and the options.

`POST /v1/recognize` takes one ink or a batch, each an object of the JSON ink schema
(`handwriting.formats.jsonink`: `{"strokes": [[[x, y, t, pressure], ...], ...]}`), and options:

    {"ink": {...}} or {"inks": [{...}, ...]},
    "mode": "text", "pre_context": "text before the ink", "writing_guide": {"width": W, "height": H},
    "alternatives": 5, "word_alternatives": 0

`POST /v1/explain` takes one `ink` and `char` (which recognised character to explain, default
the last), `cells` ("active" or "variable") and `count`. Anything a client can get wrong
raises `RequestError` with its HTTP status (400, or 413 past a limit) and one line naming
the place and the problem; unknown keys are refused too, so a misspelt option is not
silently ignored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from handwriting.alphabet import Alphabet
from handwriting.errors import InkFormatError
from handwriting.formats.jsonink import _ink  # the JSON ink schema's own validation
from handwriting.ink import Ink
from handwriting.recognition.modes import MODES, WritingGuide

__all__ = ["RequestError", "Limits", "RecognizeRequest", "ExplainRequest", "MODES", "MAX_ALTERNATIVES", "MAX_CONTEXT",
           "parse_json", "parse_ink", "parse_recognize", "parse_explain", "check_context", "integer", "positive_number",
           "writing_guide"]

MAX_ALTERNATIVES = 10
MAX_CONTEXT = 1000


class RequestError(Exception):
    """A request the service refuses: HTTP `status` and a one-line `message`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Limits:
    """What one request may hold (bodies are bounded before parsing, by the app)."""

    max_points: int = 100_000
    max_inks: int = 64


@dataclass(frozen=True)
class RecognizeRequest:
    inks: list[Ink]
    batch: bool  # "inks" (answer {"results": [...]}) rather than "ink"
    mode: str = "text"
    pre_context: str = ""
    alternatives: int = 5
    word_alternatives: int = 0
    guide: WritingGuide | None = None


@dataclass(frozen=True)
class ExplainRequest:
    ink: Ink
    char: int | None = None
    cells: str = "active"
    count: int = 16


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON accepts")


def parse_json(body: bytes) -> object:
    """The JSON document of `body`; integers become floats, as JSON ink reads them."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RequestError(400, f"body is not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text, parse_int=float, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise RequestError(400, f"body is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:
        raise RequestError(400, f"body is not JSON ink: {exc}") from None
    except RecursionError:
        raise RequestError(400, "body is not JSON ink: nested too deeply") from None


def _object(doc: object, allowed: set[str], what: str) -> dict:
    if not isinstance(doc, dict):
        raise RequestError(400, f"{what} must be a JSON object")
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise RequestError(400, f"{what}: unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")
    return doc


def integer(value: object, name: str, low: int, high: int) -> int:
    """`value` as an int in [low, high], or RequestError naming `name`."""
    if type(value) is not float or not value.is_integer() or not low <= value <= high:
        raise RequestError(400, f'"{name}" must be a whole number from {low} to {high}')
    return int(value)


def positive_number(value: object, name: str) -> float:
    if type(value) is not float or not (value > 0 and math.isfinite(value)):
        raise RequestError(400, f'"{name}" must be a positive number')
    return value


def _text(value: object, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise RequestError(400, f'"{name}" must be a string')
    if len(value) > limit:
        raise RequestError(400, f'"{name}" is {len(value)} characters long, over the {limit} allowed')
    return value


def check_context(text: str, alphabet: Alphabet) -> str:
    """`text` if the model knows all its characters; else RequestError naming the others."""
    unknown = alphabet.unknown(text)
    if unknown:
        shown = ", ".join(repr(c) for c in sorted(unknown)[:5])
        raise RequestError(400, f'"pre_context" holds characters the model does not know: {shown}')
    return text


def parse_ink(doc: object, where: str, limits: Limits, budget: int | None = None) -> Ink:
    """One ink of the JSON ink schema; empty inks and more than `budget` points are refused."""
    budget = limits.max_points if budget is None else budget
    if isinstance(doc, dict) and isinstance(doc.get("strokes"), list):
        points = sum(len(s) for s in doc["strokes"] if isinstance(s, list))
        if points > budget:
            raise RequestError(413, f"{where}: too many points (the limit is {limits.max_points} per request)")
    try:
        ink = _ink(doc, None, where)
    except InkFormatError as exc:
        raise RequestError(400, str(exc)) from None
    if ink.is_empty:
        raise RequestError(400, f"{where}: the ink has no strokes")
    return ink


def writing_guide(height: object, where: str) -> WritingGuide | None:
    """The guide of a writing area `height` high (one line of writing: its height tells a
    small character from a large one in character mode), or None when not given."""
    return None if height is None else WritingGuide(positive_number(height, where))


def _writing_guide(value: object) -> WritingGuide | None:
    guide = _object(value, {"width", "height"}, '"writing_guide"')
    if "width" in guide:
        positive_number(guide["width"], "writing_guide.width")
    return writing_guide(guide.get("height"), "writing_guide.height")


def parse_recognize(body: bytes, alphabet: Alphabet, limits: Limits) -> RecognizeRequest:
    doc = _object(parse_json(body), {"ink", "inks", "mode", "pre_context", "writing_guide", "alternatives",
                                     "word_alternatives"}, "the request")
    if ("ink" in doc) == ("inks" in doc):
        raise RequestError(400, 'the request needs either "ink" (one ink) or "inks" (a list of inks)')
    if "inks" in doc:
        items = doc["inks"]
        if not isinstance(items, list) or not items:
            raise RequestError(400, '"inks" must be a non-empty list of inks')
        if len(items) > limits.max_inks:
            raise RequestError(413, f'"inks" holds {len(items)} inks, over the {limits.max_inks} allowed')
    else:
        items = [doc["ink"]]
    inks, left = [], limits.max_points
    for n, item in enumerate(items):
        inks.append(parse_ink(item, f"inks[{n}]" if "inks" in doc else "ink", limits, left))
        left -= inks[-1].num_points
    mode = doc.get("mode", "text")
    if mode not in MODES:
        raise RequestError(400, f'"mode" {mode!r} is not supported; supported: {", ".join(MODES)}')
    guide = _writing_guide(doc["writing_guide"]) if "writing_guide" in doc else None
    context = check_context(_text(doc.get("pre_context", ""), "pre_context", MAX_CONTEXT), alphabet)
    return RecognizeRequest(inks, "inks" in doc, mode, context,
                            integer(doc.get("alternatives", 5.0), "alternatives", 1, MAX_ALTERNATIVES),
                            integer(doc.get("word_alternatives", 0.0), "word_alternatives", 0, MAX_ALTERNATIVES), guide)


def parse_explain(body: bytes, limits: Limits) -> ExplainRequest:
    doc = _object(parse_json(body), {"ink", "char", "cells", "count"}, "the request")
    if "ink" not in doc:
        raise RequestError(400, 'the request needs "ink"')
    cells = doc.get("cells", "active")
    if cells not in ("active", "variable"):
        raise RequestError(400, '"cells" must be "active" or "variable"')
    char = None if doc.get("char") is None else integer(doc["char"], "char", 0, limits.max_points)
    return ExplainRequest(parse_ink(doc["ink"], "ink", limits), char, cells, integer(doc.get("count", 16.0), "count", 1, 64))
