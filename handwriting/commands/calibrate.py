"""`handwriting calibrate MODEL --data DIR --out OUT`: fit what the decoder adds to a model's
network, on data the network was not trained on, and write it into a copy of the model.

- the character prior (`handwriting.recognition.character_prior`): what lone characters
  look like to character mode, fitted on the lone characters (items labelled with one
  character) of the prepared folders' training splits and measured on those of their
  validation splits, whose writers it never saw;
- the posterior temperatures (`handwriting.recognition.temperature`): how far the beam
  search flattens the network's readings against the LM beside the model, one for readings
  of several words chosen on the lines at odd positions of the validation splits, one for a
  lone word or character chosen on the lone words and characters at odd positions; each kept
  only if it reads the rest of its kind better than 1 does.

`--fit` picks one of them; the other stays as it was in MODEL. Run it again after
`export` or `train`: both belong to the weights they were fitted with.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from handwriting.errors import HandwritingError
from handwriting.options import int_range, output_file
from handwriting.shards import read_split

if TYPE_CHECKING:
    from handwriting.ink import Ink
    from handwriting.recognition.character_prior import CharacterPriors
    from handwriting.recognition.recognizer import Recognizer
    from handwriting.recognition.temperature import Temperature

__all__ = ["register"]

MIN_CHARACTERS = 200  # fewer cannot say much about some 90 characters
MIN_WRITTEN = 20  # lines, or lone words and characters, to fit a temperature on


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="fit character mode's prior and the beam's temperature on data the network did not learn",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="the .onnx model to calibrate (read with the .lm beside it)")
    p.add_argument("--data", nargs="+", required=True, metavar="DIR", help="folders written by `handwriting prepare`")
    p.add_argument("--out", required=True, type=output_file, help="the calibrated model to write (may be MODEL itself)")
    p.add_argument("--fit", nargs="+", choices=["prior", "temperature"], default=["prior", "temperature"],
                   help="what to fit (default both)")
    p.add_argument("--max-items", type=int_range(MIN_CHARACTERS), default=50_000,
                   help="fit the prior on at most this many lone characters, drawn at random (default 50000)")
    p.add_argument("--max-written", type=int_range(MIN_WRITTEN), default=5_000,
                   help="fit each temperature on at most this many validation lines, or lone words and "
                        "characters, and check it on as many others (default 5000)")
    p.add_argument("--seed", type=int, default=0, help="for the draws (default 0)")
    p.add_argument("--threads", type=int_range(1), default=2, help="onnxruntime threads (default 2)")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        import handwriting.training.calibrate  # noqa: F401  (the fits need torch)
    except ImportError as exc:
        raise HandwritingError(f"calibrate needs torch: pip install 'handwriting[train]' ({exc})") from None
    from handwriting.recognition.character_prior import METADATA_KEY as PRIOR
    from handwriting.recognition.modelfile import write_metadata
    from handwriting.recognition.recognizer import Recognizer
    from handwriting.recognition.temperature import METADATA_KEY as TEMPERATURE

    fits_temperature = "temperature" in args.fit
    recognizer = Recognizer(args.model, threads=args.threads, temperature=1.0, lm="auto" if fits_temperature else None,
                            ensemble=False)  # what is fitted belongs to the model's own network
    validation = _validation(args.data)
    fitted = {}
    if fits_temperature:  # first: it is the one that can find something missing (the LM)
        fitted[TEMPERATURE] = _temperature(recognizer, validation, args).to_json()
    if "prior" in args.fit:
        fitted[PRIOR] = _prior(recognizer, validation, args).to_json()
    write_metadata(recognizer.model.data, fitted, args.out)
    print(f"wrote {args.out}")
    return 0


def _validation(roots: list[str]) -> list[Ink]:
    """The validation items of the folders that have a validation split."""
    return [ink for root in roots if any(Path(root).rglob("val*.npz")) for ink in read_split(root, "val")]


def _prior(recognizer: Recognizer, validation: list[Ink], args: argparse.Namespace) -> CharacterPriors:
    from handwriting.recognition.character_prior import CharacterPriors
    from handwriting.training.calibrate import errors, fit, lone_characters, measure

    train = lone_characters([ink for root in args.data for ink in read_split(root, "train")], recognizer)
    if len(train) < MIN_CHARACTERS:
        raise HandwritingError(f"{', '.join(args.data)}: {len(train)} lone characters in the training split; "
                               f"at least {MIN_CHARACTERS} needed")
    train = random.Random(args.seed).sample(train, min(args.max_items, len(train)))
    held_out = lone_characters(validation, recognizer)
    fitted = measure(recognizer, train, "reading training characters")
    priors = CharacterPriors(fit(fitted, use_guide=True), fit(fitted, use_guide=False), {})
    report = {"characters": len(train), "writers": len({ink.writer for ink in train}),
              "data": [Path(root).name for root in args.data]}
    sets = {"training": fitted} | ({"held-out": measure(recognizer, held_out, "reading held-out characters")} if held_out else {})
    for name, measured in sets.items():
        for use_guide, prior in ((False, priors.without_guide), (True, priors.with_guide)):
            key = f"{name} {'with' if use_guide else 'without'} guide"
            before, after = errors(measured, None, use_guide), errors(measured, prior, use_guide)
            report[key] = {"items": len(measured), "errors_before": before, "errors_after": after}
            print(f"{key:>27}: {len(measured):6d} characters, wrong {before / len(measured):6.2%} -> {after / len(measured):6.2%}")
    return replace(priors, fitted_on=report)


def _temperature(recognizer: Recognizer, validation: list[Ink], args: argparse.Namespace) -> Temperature:
    """The temperature for several words fitted on lines, the one for a lone word or character
    on lone words and characters; where one kind has too few items, the other's serves for both."""
    from handwriting.recognition.temperature import Temperature
    from handwriting.training.fit_temperature import fit_temperature, halves, written_items

    if recognizer.lm is None:
        raise HandwritingError(f"{args.model}: no language model beside it ({Path(args.model).with_suffix('.lm')}); "
                               "the temperature weighs the network against it (or use --fit prior)")
    lines, lone = written_items(validation)
    kinds = {"lines": lines, "lone words and characters": lone}
    fitted = {}
    for what, items in kinds.items():
        if len(items) >= 2 * MIN_WRITTEN:
            fit_on, check_on = halves(items, args.max_written, args.seed)
            fitted[what] = fit_temperature(recognizer, fit_on, check_on, what)
            report = fitted[what].fitted_on
            tried = ", ".join(f"{t} {e}" for t, e in report["errors"].items())
            check = report["check"]
            print(f"temperature {fitted[what].value:g} for {what}: character errors on {len(fit_on)} validation {what} "
                  f"by temperature: {tried}; on {check['items']} others {check['errors_before']} at 1 -> "
                  f"{check['errors_after']} at {report['chosen']:g}")
    if not fitted:
        raise HandwritingError(f"{', '.join(args.data)}: {len(lines)} lines and {len(lone)} lone words and characters in the "
                               f"validation split; at least {2 * MIN_WRITTEN} of one kind needed to fit the temperature")
    several = fitted.get("lines") or fitted["lone words and characters"]
    one = fitted.get("lone words and characters") or several
    return Temperature(several.value, one.value, {what: fit.fitted_on for what, fit in fitted.items()}
                       | {"data": [Path(root).name for root in args.data]})
