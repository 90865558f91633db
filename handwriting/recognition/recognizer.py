"""`Recognizer`: ink in, text out, through onnxruntime only (torch is never imported here).

    from handwriting import Recognizer, read_inks
    rec = Recognizer()                      # the shipped model from models/
    result = rec.recognize(read_inks("note.inkml")[0])
    result.text, result.alternatives, result.words[0].strokes

Every character knows the frames it was read from, and through them its strokes,
points and bounding box; words likewise. A page is split into text lines by where its
strokes lie (`handwriting.recognition.layout`), each line is read on its own (its strokes in reading
order) and the readings are joined with newlines in reading order; `Recognition.lines`
keeps each line's text, box, strokes and words. `recognize_batch` pads many lines into
one session call (the graph's LSTMs take `sequence_lens`, so padding changes nothing).
`PageReader` keeps the readings of a page's lines while it is being written, so that an
update reads again only the lines whose strokes changed. A model that names a second
network (`handwriting.recognition.ensemble`) reads every line with both.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from handwriting.errors import ModelError
from handwriting.recognition.decode import (DEFAULT_BEAM, INSERTION_BONUS, LM_WEIGHT, OOV_PENALTY, Hypothesis,
                                            beam_search, greedy)
from handwriting.recognition.ensemble import PROPOSALS, mixed, rescored
from handwriting.ink import Ink
from handwriting.recognition.layout import TextLine, find_lines, group_boxes, updated_lines
from handwriting.recognition.lm import LanguageModel, load_language_model
from handwriting.recognition.modelfile import ModelFile, default_model_path, load_model_file
from handwriting.recognition.modes import (Reading, WritingGuide, allowed_classes, character_scores, lm_context,
                                           ranked_characters, read_character, restrict)
from handwriting.recognition.preprocess import Frames, featurize
from handwriting.recognition.temperature import flattened, several_words

__all__ = ["Recognizer", "Recognition", "CharSpan", "WordSpan", "LineSpan", "Alternative", "PageReader"]

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class CharSpan:
    """A recognised character: emitted at `frame`, read from frames [start, end)."""

    char: str
    frame: int
    start: int
    end: int
    strokes: tuple[int, ...]
    points: np.ndarray
    bbox: Box | None


@dataclass(frozen=True)
class WordSpan:
    """A recognised word: characters [first_char, last_char] and the strokes written for it."""

    text: str
    first_char: int
    last_char: int
    start: int
    end: int
    strokes: tuple[int, ...]
    bbox: Box | None
    alternatives: tuple[str, ...] = ()  # other readings of the same frames, when asked for


@dataclass(frozen=True)
class LineSpan:
    """A text line of the ink: its reading, box, strokes (in reading order) and recognised words."""

    text: str
    bbox: Box | None
    strokes: tuple[int, ...]
    words: tuple[WordSpan, ...]

    def to_dict(self) -> dict:
        return {"text": self.text, "bbox": self.bbox, "strokes": list(self.strokes), "words": [_word_dict(w) for w in self.words]}


@dataclass(frozen=True)
class Alternative:
    text: str
    score: float


@dataclass(frozen=True)
class Recognition:
    text: str
    alternatives: list[Alternative]
    characters: list[CharSpan]
    words: list[WordSpan]
    log_probs: np.ndarray
    frames: Frames
    hidden: list[np.ndarray] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    lines: list[LineSpan] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready summary (text, alternatives, words and lines with strokes and boxes)."""
        return {
            "text": self.text,
            "alternatives": [{"text": a.text, "score": round(a.score, 4)} for a in self.alternatives],
            "words": [_word_dict(w) for w in self.words],
            "lines": [line.to_dict() for line in self.lines],
        }


def _word_dict(word: WordSpan) -> dict:
    return {"text": word.text, "strokes": list(word.strokes), "bbox": word.bbox, "alternatives": list(word.alternatives)}


class Recognizer:
    """An ONNX model, its decoder settings and optional language model."""

    def __init__(self, model: str | Path | None = None, *, beam: int = 0, lm: str | Path | LanguageModel | None = "auto",
                 lm_weight: float = LM_WEIGHT, insertion_bonus: float = INSERTION_BONUS, alternatives: int = 5, word_alternatives: int = 0,
                 threads: int | None = None, reading: Reading = Reading(), temperature: float | None = None,
                 ensemble: bool = True):
        """`ensemble=False` reads with the model's own network alone, leaving a second one it names unread."""
        path = Path(model) if model is not None else default_model_path()
        self.reading = reading  # how inks are read unless a call says otherwise
        self.model: ModelFile = load_model_file(path, threads)
        self.alphabet = self.model.alphabet
        self.second: ModelFile | None = self._second_network(threads) if ensemble else None
        self.first_weight = self.model.ensemble.weight if self.second and self.model.ensemble else 1.0
        self.beam = beam
        self.lm_weight, self.insertion_bonus, self.num_alternatives = lm_weight, insertion_bonus, alternatives
        self.word_alternatives = word_alternatives
        # how far the beam flattens each network's log-probs, for several words and for one:
        # the caller's (for both), else the model's fitted ones
        self.temperature, self.one_word_temperature = _temperatures(self.model, temperature)
        self.second_temperatures = _temperatures(self.second, temperature) if self.second else (1.0, 1.0)
        if lm == "auto":
            beside = path.with_suffix(".lm")
            lm = load_language_model(beside) if beside.exists() else None
        elif lm is not None and not isinstance(lm, LanguageModel):
            lm = load_language_model(lm)
        self.lm: LanguageModel | None = lm

    @property
    def name(self) -> str:
        return self.model.path.name

    def _second_network(self, threads: int | None) -> ModelFile | None:
        """The second network the model names, beside it (where it is missing, as for the LM beside
        a model, the first reads alone, with a warning); ModelError naming the model if it cannot
        be read with it."""
        entry = self.model.ensemble
        if entry is None:
            return None
        path = self.model.path.parent / entry.file
        if not path.is_file():
            warnings.warn(f"{self.model.path}: its second network {path} is missing: reading with the first alone",
                          stacklevel=3)
            return None
        try:
            second = load_model_file(path, threads)
        except ModelError as exc:
            raise ModelError(self.model.path, f"its second network {exc}") from None
        if second.alphabet.chars != self.alphabet.chars:
            raise ModelError(self.model.path, f"its second network {second.path} reads another alphabet")
        return second

    # -- running the network ---------------------------------------------------------
    def run(self, batch: list[Frames], with_hidden: bool = False, network: ModelFile | None = None
            ) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
        """Log-probs (and per-layer hidden states) for each item of `batch`, in one session call
        of `network` (default: the model's own).
        A quantized model reads each item in a call of its own: its activations are quantized
        with a range taken over the whole call, so in a batch an item's reading would depend on
        its neighbours (and one item a call is faster for it: 3.3 against 3.8 ms a line)."""
        network = network or self.model
        if network.quantized and len(batch) > 1:
            alone = [self.run([item], with_hidden, network) for item in batch]
            return [lp[0] for lp, _ in alone], [h[0] for _, h in alone]
        lengths = np.array([max(len(f), 1) for f in batch], dtype=np.int32)
        width = network.session.get_inputs()[0].shape[2]
        features = np.zeros((len(batch), int(lengths.max()), width), np.float32)
        for row, f in enumerate(batch):
            features[row, : len(f)] = f.features
        names = ["log_probs"] + ([f"hidden_{i}" for i in range(network.layers)] if with_hidden else [])
        outputs = network.session.run(names, {"features": features, "lengths": lengths})
        log_probs = [outputs[0][row, : len(f)] for row, f in enumerate(batch)]
        hidden = [[h[: len(f), row] for h in outputs[1:]] for row, f in enumerate(batch)]
        return log_probs, hidden

    def decode(self, log_probs: np.ndarray, beam: int | None = None, context: str = "",
               n_best: int | None = None, reading: Reading = Reading(), ink: Ink | None = None,
               second: np.ndarray | None = None) -> list[Hypothesis]:
        """The n-best readings of `log_probs` as `reading.mode` says (`context`: text before them;
        `ink`: what was read, which character mode measures); a beam search reads them flattened
        by the temperature for several words or for one (`handwriting.recognition.temperature`).
        `second`: the second network's log-probs of the same ink, read together with them
        (`handwriting.recognition.ensemble`)."""
        n_best = n_best or self.num_alternatives
        # a second network that read no frames leaves the reading to the first
        partner = self.second if second is not None and len(second) else None
        if reading.mode == "character":
            if ink is None:
                raise ValueError("character mode measures the ink it reads: pass `ink`")
            if partner is None or second is None or not len(log_probs):
                return read_character(log_probs, self.alphabet, n_best, ink, reading.guide, self.model.character_prior)
            scores = mixed(character_scores(log_probs, self.alphabet, ink, reading.guide, self.model.character_prior),
                           character_scores(second, self.alphabet, ink, reading.guide, partner.character_prior),
                           self.first_weight)
            return ranked_characters(scores, log_probs, n_best)
        temperatures = (self.temperature, self.one_word_temperature)
        if partner is None or second is None:
            return self._search(log_probs, beam, context, n_best, reading, temperatures)[1]
        proposals = max(n_best, PROPOSALS)
        searched, first_read = self._search(log_probs, beam, context, proposals, reading, temperatures)
        second_searched, second_read = self._search(second, beam, context, proposals, reading, self.second_temperatures)
        lm = self._lm_for(reading)
        language = (lambda ids: self._language_terms(ids, lm_context(context))) if lm is not None else None
        return rescored([h.ids for h in first_read + second_read], searched, second_searched,
                        self.first_weight, n_best, language)

    def _lm_for(self, reading: Reading) -> LanguageModel | None:
        return None if reading.mode == "digits" else self.lm

    def _search(self, log_probs: np.ndarray, beam: int | None, context: str, n_best: int, reading: Reading,
                temperatures: tuple[float, float]) -> tuple[np.ndarray, list[Hypothesis]]:
        """The log-probs a search reads (restricted to the mode's classes; flattened by the
        temperature for several words or for one, for a beam) and its n-best readings."""
        allowed = allowed_classes(reading.mode, self.alphabet)
        lm = self._lm_for(reading)
        beam = self.beam if beam is None else beam
        if beam <= 1 and lm is None:
            searched = restrict(log_probs, allowed)
            return searched, [greedy(searched)]
        several_temperature, one_temperature = temperatures
        several = (reading.mode == "text" and several_temperature != one_temperature  # else either serves
                   and several_words(log_probs, self.alphabet))
        searched = restrict(flattened(log_probs, several_temperature if several else one_temperature), allowed)
        return searched, beam_search(searched, self.alphabet, beam if beam > 1 else DEFAULT_BEAM, lm, self.lm_weight,
                                     self.insertion_bonus, n_best, context=lm_context(context))

    def _language_terms(self, ids: tuple[int, ...], context: str) -> float:
        """What the beam search adds to a whole reading: the LM's log-probability of its
        characters after `context` (weighted), the bonus a character, the cost of each word
        outside the lexicon (as the search tells it: an alphabetic word, punctuation aside)."""
        assert self.lm is not None
        text = self.alphabet.decode(ids)
        log_p = sum(float(self.lm.log_probs(context + text[:i])[c]) for i, c in enumerate(ids))
        with self.lm.lock:  # the search's word states are numbered as they are met
            words = self.lm.states()[1]
            states = [words.start(word) for word in text.split(" ")]  # first: a new state may enlarge `oov`
            outside = int(words.oov[states].sum())
        return self.lm_weight * log_p + self.insertion_bonus * len(ids) - OOV_PENALTY * outside

    def with_word_alternatives(self, recognition: Recognition, n: int = 5) -> Recognition:
        """`recognition` with up to `n` readings per word: the word as read, then the best
        beam-search readings of the word's frames alone, the LM given the text before it."""
        words = []
        for word in recognition.words:
            hyps = self.decode(recognition.log_probs[word.start:word.end], max(self.beam, DEFAULT_BEAM),
                               context=recognition.text[:word.first_char], n_best=2 * n)
            readings = dict.fromkeys([word.text] + [self.alphabet.decode(h.ids).strip() for h in hyps])
            words.append(replace(word, alternatives=tuple(r for r in readings if r)[:n]))
        lines, taken = [], 0
        for line in recognition.lines:
            lines.append(replace(line, words=tuple(words[taken:taken + len(line.words)])))
            taken += len(line.words)
        return replace(recognition, words=words, lines=lines)

    # -- public API ----------------------------------------------------------------------
    def warm_up(self) -> None:
        """Read a small zigzag once, so that the lazy set-up (numba loading the compiled decoder,
        the LM's first states, onnxruntime's first run) is paid now rather than by the first reading."""
        self.recognize(Ink.from_strokes([[[0, 0], [10, 20], [20, 0], [30, 20], [40, 0]]]))

    def recognize(self, ink: Ink, beam: int | None = None, with_hidden: bool = False,
                  word_alternatives: int | None = None, *, mode: str | None = None, context: str | None = None,
                  guide: WritingGuide | None = None, ensemble: bool = True) -> Recognition:
        return self.recognize_batch([ink], beam, with_hidden, word_alternatives, mode=mode, context=context, guide=guide,
                                    ensemble=ensemble)[0]

    def recognize_batch(self, inks: list[Ink], beam: int | None = None, with_hidden: bool = False,
                        word_alternatives: int | None = None, *, mode: str | None = None, context: str | None = None,
                        guide: WritingGuide | None = None, ensemble: bool = True) -> list[Recognition]:
        """Recognitions of `inks`; `word_alternatives` (default: the recognizer's setting) asks
        for that many readings per word (each line's words with the line's text before them).
        `mode` says what is written (`handwriting.recognition.modes`: text, word, character, digits),
        `context` the text before the ink, `guide` the writing guide (default: the recognizer's `reading`).
        `ensemble=False` reads with the model's own network alone where it has a second one:
        half the time, for updates while the pen moves."""
        reading = Reading(mode or self.reading.mode, self.reading.context if context is None else context,
                          guide or self.reading.guide)
        return self._read_pages(inks, beam, with_hidden, word_alternatives, reading=reading, ensemble=ensemble)

    def _read_pages(self, inks: list[Ink], beam: int | None = None, with_hidden: bool = False,
                    word_alternatives: int | None = None, cache: _LineCache | None = None,
                    layouts: list[list[TextLine]] | None = None, reading: Reading = Reading(),
                    ensemble: bool = True) -> list[Recognition]:
        """`recognize_batch`, with the lines' readings taken from and kept in `cache` and the
        lines of each ink given in `layouts`, when given."""
        t0 = time.perf_counter()
        if layouts is None:
            layouts = [[_whole(ink)] if reading.one_line and not ink.is_empty else find_lines(ink) for ink in inks]
        layouts = [lines or [TextLine((), (0.0, 0.0, 0.0, 0.0), ())] for lines in layouts]
        layout_ms = (time.perf_counter() - t0) * 1e3 / max(len(inks), 1)
        per_word = self.word_alternatives if word_alternatives is None else word_alternatives
        later_lines = replace(reading, context="")  # the text before the ink precedes its first line only
        placed = [(ink, line.strokes, reading if n == 0 else later_lines)
                  for ink, layout in zip(inks, layouts) for n, line in enumerate(layout)]
        together = ensemble and self.second is not None
        settings = [_Setting(self._width(beam), per_word, with_hidden, line_reading, together) for _, _, line_reading in placed]
        keys = [_content_key(tuple(ink.strokes[k] for k in strokes)) for ink, strokes, _ in placed] if cache is not None else []
        found = [cache.get(key, s) for key, s in zip(keys, settings)] if cache is not None else [None] * len(placed)
        missing = [k for k, part in enumerate(found) if part is None]
        read = self._read_lines([_line_ink(*placed[k][:2]) for k in missing], [placed[k][2] for k in missing],
                                beam, with_hidden, per_word, together) if missing else []
        fresh = dict(zip(missing, read))
        if cache is not None:
            for k, part in fresh.items():
                cache.put(keys[k], settings[k], part)
        parts = [part if part is not None else fresh[k] for k, part in enumerate(found)]
        results, taken = [], 0
        for ink, layout in zip(inks, layouts):
            span = range(taken, taken + len(layout))
            taken += len(layout)
            timings = {"layout": layout_ms, **{stage: sum(fresh[k].timings_ms[stage] for k in span if k in fresh)
                                               for stage in ("preprocess", "network", "decode")}}
            results.append(_joined_lines(ink, layout, [parts[k] for k in span], self.num_alternatives, with_hidden, timings,
                                         cache.placed if cache is not None else None))
        return results

    def _width(self, beam: int | None) -> int:
        """The beam width `decode` uses for `beam` (1: greedy)."""
        beam = self.beam if beam is None else beam
        return 1 if beam <= 1 and self.lm is None else beam if beam > 1 else DEFAULT_BEAM

    def _read_lines(self, lines: list[Ink], readings: list[Reading], beam: int | None, with_hidden: bool,
                    per_word: int, together: bool = False) -> list[Recognition]:
        """Each line read alone as its reading says (one network call for all, a second for the
        second network when `together`), with `per_word` readings per word."""
        t0 = time.perf_counter()
        second = self.second if together else None
        frames = [featurize(line, self.model.preprocess) for line in lines]
        second_frames = [featurize(line, second.preprocess) for line in lines] if second else []
        t1 = time.perf_counter()
        log_probs, hidden = self.run(frames, with_hidden)
        second_log_probs = self.run(second_frames, network=second)[0] if second else [None] * len(lines)
        t2 = time.perf_counter()
        read = []
        for line, reading, f, lp, h, second_lp in zip(lines, readings, frames, log_probs, hidden, second_log_probs):
            t3 = time.perf_counter()
            hyps = (self.decode(lp, beam, reading.context, reading=reading, ink=line, second=second_lp) if len(f)
                    else [Hypothesis((), (), 0.0)])
            timings = {"preprocess": (t1 - t0) * 1e3 / len(lines), "network": (t2 - t1) * 1e3 / len(lines),
                       "decode": (time.perf_counter() - t3) * 1e3}
            result = self._result(line, f, lp, h, hyps, timings)
            read.append(self.with_word_alternatives(result, per_word) if per_word > 0 else result)
        return read

    def _result(self, ink: Ink, frames: Frames, log_probs: np.ndarray, hidden: list[np.ndarray],
                hyps: list[Hypothesis], timings: dict[str, float]) -> Recognition:
        best = hyps[0]
        text = self.alphabet.decode(best.ids)
        alternatives = [Alternative(self.alphabet.decode(h.ids), h.score) for h in hyps]
        chars = _char_spans(text, best.frames, frames, ink)
        return Recognition(text, alternatives, chars, _word_spans(chars, frames, ink), log_probs, frames, hidden, timings)


def _temperatures(model: ModelFile, temperature: float | None) -> tuple[float, float]:
    """The temperatures for several words and for one: `temperature` for both, else the model's fitted ones (else 1)."""
    if temperature is not None:
        return temperature, temperature
    fitted = model.temperature
    return (fitted.value, fitted.for_one_word) if fitted else (1.0, 1.0)


def _whole(ink: Ink) -> TextLine:
    """All of a (non-empty) ink as one line, strokes in writing order."""
    return TextLine(tuple(range(ink.num_strokes)), ink.bounds(), ())


def _split(values: np.ndarray, cuts: np.ndarray) -> list[np.ndarray]:
    """`values` cut before each index of `cuts` (as np.split, without its cost per piece)."""
    bounds = [0, *cuts.tolist(), len(values)]
    return [values[a:b] for a, b in zip(bounds, bounds[1:])]


def _distinct(values: np.ndarray, owner: np.ndarray, n: int) -> list[np.ndarray]:
    """The distinct `values` of each of `n` owners (`owner`: non-decreasing), ascending."""
    order = np.lexsort((values, owner))
    ranked, owners = values[order], owner[order]
    first = np.ones(len(order), bool)
    first[1:] = (ranked[1:] != ranked[:-1]) | (owners[1:] != owners[:-1])
    return _split(ranked[first], np.searchsorted(owners[first], np.arange(1, n)))


def _boxes(points: np.ndarray, labels: np.ndarray, n: int) -> list[Box | None]:
    """The box around the points of each of `n` labels (-1: no label), None for a label with no points."""
    own = labels >= 0
    extent = group_boxes(np.hstack([points[own, :2], points[own, :2]]), labels[own], n)
    return [tuple(box) if box[0] <= box[2] else None for box in extent.tolist()]  # type: ignore[misc]


def _char_spans(text: str, emissions: tuple[int, ...], frames: Frames, ink: Ink) -> list[CharSpan]:
    """Each character owns the frames closer to its emission than to its neighbours'."""
    if not text:
        return []
    emitted = np.asarray(emissions)
    starts = np.concatenate([[0], (emitted[:-1] + emitted[1:] + 1) // 2])
    ends = np.append(starts[1:], len(frames))
    owner = np.repeat(np.arange(len(text)), ends - starts)
    boxes = _boxes(ink.points()[frames.point_index], owner, len(text))
    points, strokes = _distinct(frames.point_index, owner, len(text)), _distinct(frames.stroke_index, owner, len(text))
    return [CharSpan(char, frame, start, end, tuple(stroke_ids.tolist()), idx, box if char != " " else None)
            for char, frame, start, end, stroke_ids, idx, box
            in zip(text, emissions, starts.tolist(), ends.tolist(), strokes, points, boxes)]


def _word_spans(chars: list[CharSpan], frames: Frames, ink: Ink) -> list[WordSpan]:
    """Words split at spaces; every stroke goes to the word holding most of its frames."""
    groups: list[list[int]] = []
    for k, c in enumerate(chars):
        if c.char == " ":
            groups.append([])
        elif not groups:
            groups.append([k])
        else:
            groups[-1].append(k)
    groups = [g for g in groups if g]
    if not groups:
        return []
    owner = np.full(len(frames), -1)
    for w, g in enumerate(groups):
        owner[chars[g[0]].start: chars[g[-1]].end] = w
    point_strokes = ink.stroke_ids()
    voted = owner >= 0
    size = int(max(frames.stroke_index.max(), point_strokes.max(initial=0))) + 1
    tally = np.bincount(frames.stroke_index[voted] * len(groups) + owner[voted], minlength=size * len(groups))
    tally = tally.reshape(size, len(groups))  # votes per (stroke, word); ties go to the first word
    word_of_stroke = np.where(tally.any(axis=1), tally.argmax(axis=1), -1)
    boxes = _boxes(ink.points(), word_of_stroke[point_strokes], len(groups))
    by_word = np.argsort(word_of_stroke, kind="stable")
    strokes = _split(by_word, np.searchsorted(word_of_stroke[by_word], np.arange(len(groups) + 1)))[1:]
    return [WordSpan("".join(chars[k].char for k in g), g[0], g[-1], chars[g[0]].start, chars[g[-1]].end,
                     tuple(strokes[w].tolist()), boxes[w]) for w, g in enumerate(groups)]


LINE_GAP = 1.0  # writing heights between lines laid side by side in `Frames.xy`


def _line_ink(ink: Ink, strokes: tuple[int, ...]) -> Ink:
    if _whole_in_order(strokes, ink.num_strokes):
        return ink
    return Ink(tuple(ink.strokes[k] for k in strokes), writer=ink.writer)


def _whole_in_order(strokes: tuple[int, ...], count: int) -> bool:
    """Whether a line's `strokes` are all `count` strokes of its ink, in writing order (its
    own numbering is the ink's)."""
    return len(strokes) == count and strokes == tuple(range(count))


def _content_key(strokes: tuple[np.ndarray, ...]) -> bytes:
    """A digest of a line's pen positions and stroke lengths: what its reading depends on."""
    digest = hashlib.blake2b(np.array([len(s) for s in strokes], np.int64).tobytes(), digest_size=16)
    if strokes:
        digest.update(np.concatenate(strokes)[:, :2].tobytes())
    return digest.digest()


def _mapped(strokes: tuple[int, ...], stroke_map: list[int]) -> tuple[int, ...]:
    return tuple(sorted(stroke_map[s] for s in strokes))


def _placed(part: Recognition, line: TextLine, point_starts: np.ndarray, frame_start: int, char0: int
            ) -> tuple[list[CharSpan], list[WordSpan], np.ndarray, np.ndarray]:
    """A line's characters and words numbered in the whole ink, and its frames' points and strokes."""
    if frame_start == 0 and char0 == 0 and _whole_in_order(line.strokes, len(point_starts) - 1):
        return part.characters, part.words, part.frames.point_index, part.frames.stroke_index
    stroke_map = np.asarray(line.strokes, int)
    strokes = stroke_map.tolist()
    lengths = point_starts[stroke_map + 1] - point_starts[stroke_map]
    point_map = np.repeat(point_starts[stroke_map] - (np.cumsum(lengths) - lengths), lengths) + np.arange(lengths.sum())
    chars = [CharSpan(c.char, c.frame + frame_start, c.start + frame_start, c.end + frame_start,  # not `replace`: 5x faster
                      _mapped(c.strokes, strokes), point_map[c.points], c.bbox) for c in part.characters]
    words = [WordSpan(w.text, w.first_char + char0, w.last_char + char0, w.start + frame_start, w.end + frame_start,
                      _mapped(w.strokes, strokes), w.bbox, w.alternatives) for w in part.words]
    return chars, words, point_map[part.frames.point_index], stroke_map[part.frames.stroke_index]


def _joined_lines(ink: Ink, layout: list[TextLine], parts: list[Recognition], num_alternatives: int, with_hidden: bool,
                  timings: dict[str, float], memo: dict | None = None) -> Recognition:
    """One Recognition for `ink` from the readings of its lines (in reading order): texts joined
    by newlines; frames, characters and words numbered over the whole ink, strokes and points
    mapped back from each line's own numbering to the ink's. `memo` keeps each line so placed
    for the next call (a line in the same place with the same reading is not placed again)."""
    point_starts = np.concatenate([[0], np.cumsum([len(s) for s in ink.strokes])]).astype(int)
    chars: list[CharSpan] = []
    words: list[WordSpan] = []
    lines: list[LineSpan] = []
    frames: list[Frames] = []
    starts: list[int] = []
    used: dict = {}
    frame_start, shift = 0, 0.0
    for n, (line, part) in enumerate(zip(layout, parts)):
        starts.append(frame_start)
        if n:
            chars.append(CharSpan("\n", frame_start - 1, frame_start - 1, frame_start, (), np.zeros(0, int), None))
        char0 = len(chars)
        key = (line.strokes, frame_start, char0, point_starts[list(line.strokes)].tobytes())
        known = memo.get(key) if memo is not None else None
        placed = known[1] if known is not None and known[0] is part else _placed(part, line, point_starts, frame_start, char0)
        used[key] = (part, placed)
        line_chars, mine, point_index, stroke_index = placed
        chars += line_chars
        words += mine
        lines.append(LineSpan(part.text, line.bbox if line.strokes else None, line.strokes, tuple(mine)))
        f = part.frames
        frames.append(replace(f.shifted(shift), point_index=point_index, stroke_index=stroke_index, line_starts=(0,)))
        shift += (float(f.xy[:, 0].max()) if len(f) else 0.0) + LINE_GAP
        frame_start += len(f)
    if memo is not None:
        memo.clear()
        memo.update(used)
    controls = [f.controls for f in frames if f.controls is not None]
    joined = Frames(np.concatenate([f.features for f in frames]), np.concatenate([f.point_index for f in frames]),
                    np.concatenate([f.stroke_index for f in frames]), np.concatenate([f.xy for f in frames]), tuple(starts),
                    np.concatenate(controls) if len(controls) == len(frames) and controls else None)
    hidden = [np.concatenate(layer) for layer in zip(*(p.hidden for p in parts))] if with_hidden else []
    return Recognition("\n".join(p.text for p in parts), _joined_alternatives(parts, num_alternatives), chars, words,
                       np.concatenate([p.log_probs for p in parts]), joined, hidden, timings, lines)


def _joined_alternatives(parts: list[Recognition], count: int) -> list[Alternative]:
    """The best reading of every line, then the texts with one line read otherwise, by score."""
    best = [p.alternatives[0] if p.alternatives else Alternative(p.text, 0.0) for p in parts]
    texts = [a.text for a in best]
    total = sum(a.score for a in best)
    options = [Alternative("\n".join(texts[:n] + [other.text] + texts[n + 1:]), total - best[n].score + other.score)
               for n, part in enumerate(parts) for other in part.alternatives[1:]]
    options.sort(key=lambda a: -a.score)
    return [Alternative("\n".join(texts), total)] + options[:max(count - 1, 0)]


@dataclass(frozen=True)
class _Setting:
    """How a line was read: beam width (1: greedy), readings per word, hidden states kept, both networks."""

    width: int
    per_word: int
    hidden: bool
    reading: Reading = Reading()
    together: bool = False

    def covers(self, wanted: "_Setting") -> bool:
        """Whether a reading made so serves a request for `wanted` (a wider beam serves a narrower
        one, a reading of both networks one of the first alone)."""
        return (self.width >= wanted.width and self.per_word >= wanted.per_word and (self.hidden or not wanted.hidden)
                and self.reading == wanted.reading and (self.together or not wanted.together))


class _LineCache:
    """Readings of lines by content digest, the least recently used dropped beyond `size`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[bytes, tuple[_Setting, Recognition]] = OrderedDict()
        self.placed: dict = {}  # the lines of the page read last, numbered in its ink (see `_joined_lines`)

    def get(self, key: bytes, wanted: _Setting) -> Recognition | None:
        entry = self._entries.get(key)
        if entry is None or not entry[0].covers(wanted):
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: bytes, setting: _Setting, reading: Recognition) -> None:
        self._entries[key] = (setting, reading)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class PageReader:
    """Reads a page again and again while it is written: a line whose strokes are unchanged
    keeps its reading (kept by the content of its strokes, the `size` most recent lines),
    so an update reads again only the lines that changed. A line read before with a wider
    beam, more word readings or hidden states keeps that reading for narrower requests (an
    untouched line keeps its final reading while the next one is written)."""

    def __init__(self, recognizer: Recognizer, size: int = 256) -> None:
        self.recognizer = recognizer
        self._cache = _LineCache(size)
        self._last: tuple[Ink, list[TextLine]] | None = None

    def read(self, ink: Ink, beam: int | None = None, with_hidden: bool = False,
             word_alternatives: int | None = None, ensemble: bool = True) -> Recognition:
        """As `Recognizer.recognize`, reusing the readings of unchanged lines (and, while the
        pen only adds to the line it is in, the layout of the other lines)."""
        t0 = time.perf_counter()
        lines = updated_lines(*self._last, ink) if self._last is not None else find_lines(ink)
        layout_ms = (time.perf_counter() - t0) * 1e3
        self._last = (ink, lines)
        result = self.recognizer._read_pages([ink], beam, with_hidden, word_alternatives, self._cache, [lines],
                                             ensemble=ensemble)[0]
        return replace(result, timings_ms={**result.timings_ms, "layout": layout_ms})

    @property
    def cached_lines(self) -> int:
        return len(self._cache)
