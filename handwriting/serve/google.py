"""The Google Input Tools handwriting shape, so clients written for it (handwriting.js and
many web pages) work by pointing them at this service.

Request (`POST /request?ime=handwriting`, also under `/inputtools/request`):

    {"options": "enable_pre_space", "requests": [{"writing_guide": {"writing_area_width": W,
     "writing_area_height": H}, "ink": [[[x...], [y...], [t...]], ...], "language": "en",
     "pre_context": "", "max_num_results": 10}]}

Answer: `["SUCCESS", [["<id>", ["candidate", ...], [], {"is_html_escaped": false}], ...]]`, one
entry per request; a refused request is a one-element array naming the problem, sent with
HTTP 200 as that service does (handwriting.js turns it into an Error). Keys this service
does not use (`options`, `app_version`, `device`, `max_completions`...) are accepted.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from handwriting.alphabet import Alphabet
from handwriting.ink import Ink
from handwriting.recognition.modes import WritingGuide
from handwriting.serve.schemas import (MAX_ALTERNATIVES, MAX_CONTEXT, Limits, RequestError, check_context, integer,
                                       parse_ink, parse_json, positive_number, writing_guide)

__all__ = ["GoogleRequest", "parse_google", "google_answer", "google_error", "LANGUAGES"]

LANGUAGES = ("en",)  # the shipped model reads English


@dataclass(frozen=True)
class GoogleRequest:
    ink: Ink
    pre_context: str
    max_results: int
    guide: WritingGuide | None = None


def _strokes(ink: object, where: str) -> dict:
    """[[xs, ys, ts?], ...] as a JSON ink object ({"strokes": [[[x, y, t], ...], ...]})."""
    if not isinstance(ink, list):
        raise RequestError(400, f"{where}: must be a list of strokes [[x...], [y...], [t...]]")
    strokes = []
    for n, stroke in enumerate(ink):
        ok = isinstance(stroke, list) and len(stroke) in (2, 3) and all(isinstance(a, list) for a in stroke)
        if not ok or len({len(a) for a in stroke}) != 1:
            raise RequestError(400, f"{where}, stroke {n + 1}: must be [[x...], [y...]] or [[x...], [y...], [t...]] "
                                    "of equal lengths")
        strokes.append([list(p) for p in zip(*stroke)])
    return {"strokes": strokes}


def _language(value: object, where: str) -> None:
    if not isinstance(value, str) or value.replace("_", "-").split("-")[0].lower() not in LANGUAGES:
        raise RequestError(400, f"{where}: language {value!r} is not supported; supported: {', '.join(LANGUAGES)}")


def parse_google(body: bytes, alphabet: Alphabet, limits: Limits) -> list[GoogleRequest]:
    doc = parse_json(body)
    if not isinstance(doc, dict) or not isinstance(doc.get("requests"), list) or not doc["requests"]:
        raise RequestError(400, 'expected an object with a non-empty "requests" list')
    if len(doc["requests"]) > limits.max_inks:
        raise RequestError(413, f'"requests" holds {len(doc["requests"])} requests, over the {limits.max_inks} allowed')
    out, left = [], limits.max_points
    for n, request in enumerate(doc["requests"]):
        where = f"requests[{n}]"
        if not isinstance(request, dict):
            raise RequestError(400, f"{where}: must be an object")
        _language(request.get("language", "en"), where)
        guide = request.get("writing_guide") or {}
        if not isinstance(guide, dict):
            raise RequestError(400, f"{where}: writing_guide must be an object")
        for key in ("writing_area_width", "writing_area_height"):
            if guide.get(key) is not None:
                positive_number(guide[key], f"{where}.writing_guide.{key}")
        context = request.get("pre_context") or ""
        if not isinstance(context, str) or len(context) > MAX_CONTEXT:
            raise RequestError(400, f"{where}: pre_context must be a string of at most {MAX_CONTEXT} characters")
        count = request.get("max_num_results")
        count = MAX_ALTERNATIVES if count is None else integer(count, f"{where}.max_num_results", 1, MAX_ALTERNATIVES)
        ink = parse_ink(_strokes(request.get("ink"), f"{where}.ink"), f"{where}.ink", limits, left)
        left -= ink.num_points
        out.append(GoogleRequest(ink, check_context(context, alphabet), count,
                                 writing_guide(guide.get("writing_area_height"), f"{where}.writing_guide.writing_area_height")))
    return out


def google_answer(candidates: list[list[str]]) -> list:
    """The SUCCESS answer for the candidate lists of the requests, in order."""
    return ["SUCCESS", [[secrets.token_hex(8), texts, [], {"is_html_escaped": False}] for texts in candidates]]


def google_error(message: str) -> list:
    """A refused request, as a one-element array."""
    return [f"FAILED_TO_PARSE_REQUEST_BODY: {message}"]
