"""Exact-output check for speed-ups of preprocessing and decoding: before and after must be bit-identical.

    python -m bench.exactness --model M --lm L --data D --save /tmp/before.json   # old code
    python -m bench.exactness --model M --lm L --data D --check /tmp/before.json  # new code

For each of `--lines` real lines (whole, and joined/cut to 1,000 points) it records a
hash of the frames (features, point and stroke indices, positions) and of the network
output, and every hypothesis (class ids, emission frames, score as its exact repr) of
greedy decoding, beam search without LM, beam search with the LM, and beam search with
the LM over "aligned" log-probs: the network's output pushed towards the line's own
transcription spread evenly over the frames, peaky like a well-trained model's, so that
long prefixes, merges and repeated characters are exercised as well.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from bench.data import IAMONDB, load_lines, sized_inks
from handwriting.recognition.decode import Hypothesis, beam_search, greedy
from handwriting.ink import Ink
from handwriting.recognition.modelfile import default_model_path
from handwriting.recognition.preprocess import featurize
from handwriting.recognition.recognizer import Recognizer

__all__ = ["fingerprints", "compare", "main"]

ALIGN_BIAS = 6.0


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _hyps(hyps: list[Hypothesis]) -> list:
    return [[list(h.ids), list(h.frames), repr(h.score)] for h in hyps]


def _aligned(log_probs: np.ndarray, ids: list[int]) -> np.ndarray:
    """log_softmax(log_probs + bias), the bias on `ids` spread evenly, each over a few frames."""
    steps = len(log_probs)
    ids = ids[: steps // 2]
    z = log_probs.astype(np.float64).copy()
    width = max(1, steps // (2 * max(len(ids), 1)))
    for k, c in enumerate(ids):
        start = k * steps // len(ids)
        z[start:start + width, c] += ALIGN_BIAS
    z -= z.max(axis=1, keepdims=True)
    return (z - np.log(np.exp(z).sum(axis=1, keepdims=True))).astype(np.float32)


def _fingerprint(recognizer: Recognizer, ink: Ink) -> dict:
    frames = featurize(ink, recognizer.model.preprocess)
    log_probs = recognizer.run([frames])[0][0]
    alphabet, lm = recognizer.alphabet, recognizer.lm
    label = "".join(c for c in ink.label or "" if alphabet.covers(c))
    with_lm = dict(lm=lm, lm_weight=recognizer.lm_weight, insertion_bonus=recognizer.insertion_bonus,
                   n_best=recognizer.num_alternatives)
    return {
        "points": ink.num_points,
        "frames": _digest(frames.features, frames.point_index, frames.stroke_index, frames.xy),
        "log_probs": _digest(log_probs),
        "greedy": _hyps([greedy(log_probs)]),
        "beam": _hyps(beam_search(log_probs, alphabet, 8)),
        "beam_lm": _hyps(beam_search(log_probs, alphabet, 16, **with_lm)),
        "beam_lm_aligned": _hyps(beam_search(_aligned(log_probs, alphabet.encode(label)), alphabet, 16, **with_lm)),
    }


def fingerprints(model: str, lm: str, data: str | Path, lines: int) -> list[dict]:
    """Fingerprints of `lines` whole lines and as many 1,000-point inks."""
    recognizer = Recognizer(model, lm=lm)
    whole = load_lines(data, lines)
    return [_fingerprint(recognizer, ink) for ink in whole + sized_inks(whole, 1000, lines)]


def compare(before: list[dict], after: list[dict]) -> list[str]:
    """One line per differing item and field; empty when identical."""
    if len(before) != len(after):
        return [f"{len(before)} items before, {len(after)} after"]
    return [f"item {i}: {key} differs" for i, (b, a) in enumerate(zip(before, after)) for key in b if b[key] != a.get(key)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(default_model_path()))
    parser.add_argument("--lm", default="auto", help="character LM (default: the .lm beside the model)")
    parser.add_argument("--data", default=str(IAMONDB), help="IAM-OnDB root (lineStrokes/**.xml)")
    parser.add_argument("--lines", type=int, default=50)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--save", help="write the fingerprints here")
    action.add_argument("--check", help="compare against fingerprints saved earlier")
    args = parser.parse_args(argv)
    prints = fingerprints(args.model, args.lm, args.data, args.lines)
    if args.save:
        Path(args.save).write_text(json.dumps(prints) + "\n")
        print(f"saved {len(prints)} fingerprints to {args.save}")
        return 0
    differences = compare(json.loads(Path(args.check).read_text()), prints)
    if differences:
        print(f"{len(differences)} differences, first ones:", *differences[:10], sep="\n")
    else:
        print(f"identical: {len(prints)} inks, all fields")
    return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
