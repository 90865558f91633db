"""The line of a page being written: which line holds the newest stroke, and that line's
part of a page's Recognition (what the Graves panel shows and the worker explains).

A page's Recognition joins its lines one after another: line n's frames are
`frames.line_bounds()[n]`, its characters lie between the n-th and (n+1)-th line break,
its strokes are `lines[n].strokes`. `line_part` cuts one line out, renumbered from its
first frame and character; point and stroke numbers stay the page's, so saliency and
marks still land on the page's ink.
"""

from __future__ import annotations

from dataclasses import replace

from handwriting.recognition.recognizer import CharSpan, Recognition, WordSpan

__all__ = ["current_line", "line_part"]


def current_line(recognition: Recognition, stroke: int) -> int:
    """The index of the line that holds `stroke` (the newest one), among the lines that have
    frames; when none holds it, the line with the newest stroke. 0 for a page of one line."""
    bounds = recognition.frames.line_bounds()
    read = [n for n, line in enumerate(recognition.lines) if n < len(bounds) and bounds[n][1] > bounds[n][0]]
    if len(read) <= 1:
        return read[0] if read else 0
    holding = [n for n in read if stroke in recognition.lines[n].strokes]
    if holding:
        return holding[0]
    return max(read, key=lambda n: max(recognition.lines[n].strokes, default=-1))


def line_part(recognition: Recognition, n: int) -> Recognition:
    """Line `n` of a page's recognition as a Recognition of its own (the recognition itself
    when it holds one line). Alternatives are left empty: the page's are for the page."""
    if len(recognition.lines) <= 1:
        return recognition
    start, end = recognition.frames.line_bounds()[n]
    breaks = [k for k, c in enumerate(recognition.characters) if c.char == "\n" and not c.strokes]
    first = breaks[n - 1] + 1 if n > 0 else 0
    last = breaks[n] if n < len(breaks) else len(recognition.characters)
    chars = [CharSpan(c.char, c.frame - start, c.start - start, c.end - start, c.strokes, c.points, c.bbox)
             for c in recognition.characters[first:last]]
    line = recognition.lines[n]
    words = tuple(WordSpan(w.text, w.first_char - first, w.last_char - first, w.start - start, w.end - start,
                           w.strokes, w.bbox, w.alternatives) for w in line.words)
    frames = recognition.frames.part(start, end)
    frames = frames.shifted(-frames.xy[:, 0].min() if len(frames) else 0.0)
    return Recognition(line.text, [], chars, list(words), recognition.log_probs[start:end], frames,
                       [h[start:end] for h in recognition.hidden], {}, [replace(line, words=words)])
