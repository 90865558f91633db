"""Recognitions and explanations as the service's JSON, with finite numbers only.

Scores can be -inf (a reading the LM rules out) and arrays could hold NaN: every float
that is not finite becomes null, and the encoder refuses NaN outright, so a client
always receives valid JSON. Characters carry, besides strokes and box, the point ranges
they were read from, stroke by stroke (`segments`: `{"stroke", "begin", "end"}`, `end`
exclusive, point indices within the stroke), which the Handwriting Recognition API
polyfill turns into `drawingSegments`.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np

from handwriting.ink import Ink
from handwriting.recognition.recognizer import CharSpan, Recognition

__all__ = ["json_safe", "dumps", "recognition_json", "character_json"]


def json_safe(value: object) -> object:
    """`value` with numpy values made plain, tuples made lists, dataclasses made dicts and
    non-finite floats made None."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def dumps(doc: object) -> bytes:
    """Compact UTF-8 JSON of `doc`; made safe first when it holds anything JSON lacks."""
    try:
        text = json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (ValueError, TypeError):  # a non-finite float, a numpy value, a dataclass...
        text = json.dumps(json_safe(doc), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode()


def character_json(char: CharSpan, index: int, stroke_starts: np.ndarray) -> dict:
    """One recognised character: its place in the text, strokes, box and point ranges per stroke."""
    strokes = np.searchsorted(stroke_starts, char.points, side="right") - 1
    segments = []
    for stroke in np.unique(strokes):
        local = char.points[strokes == stroke] - stroke_starts[stroke]
        segments.append({"stroke": int(stroke), "begin": int(local.min()), "end": int(local.max()) + 1})
    return {"text": char.char, "index": index, "strokes": list(char.strokes), "bbox": char.bbox, "segments": segments}


def recognition_json(recognition: Recognition, ink: Ink, alternatives: int) -> dict:
    """`Recognition.to_dict` (text, alternatives with scores, words, and lines where the
    recognizer has them) cut to `alternatives`, with characters and the recognizer's timings."""
    doc = recognition.to_dict()
    doc["alternatives"] = doc["alternatives"][:alternatives]
    stroke_starts = np.concatenate([[0], np.cumsum([len(s) for s in ink.strokes])[:-1]])
    doc["characters"] = [character_json(c, k, stroke_starts) for k, c in enumerate(recognition.characters)]
    doc["timings_ms"] = {k: round(v, 2) for k, v in recognition.timings_ms.items()}
    return doc
