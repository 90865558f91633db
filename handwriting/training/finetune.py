"""Personal adaptation: fine-tune a model on a few dozen labelled inks of one writer.

Part of the writer's inks is held back; the result is written only if its CER on that
part beats the starting model's, so adaptation can never make recognition worse. With
`mix` below 1 the adapted weights lie between the fine-tuned and the starting ones
(WiSE-FT, Wortsman et al. 2022), keeping more of what the starting model knew. The
starting model's language model is copied beside the adapted one, which then decodes
with it too.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from handwriting.alphabet import Alphabet
from handwriting.atomic import atomic_copy
from handwriting.errors import HandwritingError, InkFormatError
from handwriting.training.export import export
from handwriting.formats import expand_paths, read_inks
from handwriting.ink import Ink
from handwriting.recognition.ensemble import copy_second_network
from handwriting.recognition.modelfile import default_model_path
from handwriting.recognition.preprocess import PreprocessConfig
from handwriting.shutdown import exit_if_signalled
from handwriting.training.train import InkDataset, evaluate_model, load_base, load_checkpoint, model_from_checkpoint, train
from handwriting.training.train_options import FinetuneOptions, TrainOptions

__all__ = ["FinetuneReport", "finetune", "interpolated", "load_labelled", "copy_language_model"]

MIN_INKS = 4


@dataclass(frozen=True)
class FinetuneReport:
    trained_on: int
    held_back: int
    cer_before: float
    cer_after: float
    epochs: int
    written: bool


def load_labelled(paths: list[str]) -> tuple[list[Ink], list[str]]:
    """Labelled inks from files/folders, and one message per file or ink that could not be used."""
    inks, problems = [], []
    for path in expand_paths(paths):
        try:
            found = read_inks(path)
        except InkFormatError as exc:
            problems.append(str(exc))
            continue
        for i, ink in enumerate(found):
            if ink.label and ink.label.strip() and not ink.is_empty:
                inks.append(ink.with_label(ink.label.strip()))
            else:
                problems.append(f"{path}: item {i}: no label or no ink")
    return inks, problems


def finetune(inks: list[Ink], options: FinetuneOptions) -> FinetuneReport:
    """Fine-tune `options.base` (default: the shipped model) on `inks`; writes `options.out`
    only if the held-back CER improves (`options.data` is not read: `inks` are given)."""
    base = Path(options.base) if options.base else default_model_path()
    out, seed = options.out, options.seed
    start = load_base(base)
    alphabet = Alphabet(start["alphabet"])
    usable = [i for i in inks if alphabet.covers(i.label or "")]
    if len(usable) < MIN_INKS:
        raise HandwritingError(f"need at least {MIN_INKS} labelled inks in the model's alphabet, got {len(usable)}")
    rng = random.Random(seed)
    shuffled = rng.sample(usable, len(usable))
    n_hold = max(2, round(len(shuffled) * options.holdout))
    held, training = shuffled[:n_hold], shuffled[n_hold:]
    held_set = InkDataset(held, alphabet, PreprocessConfig.from_dict(start["preprocess"]), False, seed)
    before = evaluate_model(model_from_checkpoint(start, base), held_set, 4000).cer
    with tempfile.TemporaryDirectory(prefix="handwriting-finetune-") as run:
        run_options = TrainOptions(data=[], out=run, init=str(base), epochs=options.epochs, minutes=options.minutes,
                                   lr=options.lr, warmup_steps=1, patience=1000, batch_frames=4000, workers=0, seed=seed)
        state = train(run_options, inks=(training, held))
        best_path = Path(run) / "best.pt"
        if not best_path.exists():
            raise HandwritingError("no fine-tuning epoch finished in the time given")
        best = load_checkpoint(best_path)
    exit_if_signalled()  # told to stop while the run was ending: write nothing
    if options.mix < 1.0:
        best = interpolated(start, best, options.mix)
        after = evaluate_model(model_from_checkpoint(best), held_set, 4000).cer
    else:
        after = float(best["state"]["best_cer"])
    report = FinetuneReport(len(training), len(held), before, after, state["epoch"], after < before)
    if report.written:
        summary = {"finetuned_from": base.name, "inks": len(training), "held_back": n_hold, "mix": options.mix,
                   "held_back_cer_before": before, "held_back_cer_after": after}
        export(model_from_checkpoint(best), best["alphabet"], best["preprocess"], out, summary,
               kept_metadata=start.get("kept_metadata"))
        copy_language_model(base, out)
        copy_second_network(base, start.get("kept_metadata") or {}, out)
    return report


def interpolated(start: dict, tuned: dict, mix: float) -> dict:
    """`tuned` with weights `mix` × its own + (1 - `mix`) × those of `start` (the same network)."""
    if start["model"].keys() != tuned["model"].keys():
        raise HandwritingError("the fine-tuned network does not match the one it started from")
    model = {name: (mix * weight.double() + (1.0 - mix) * start["model"][name].double()).to(weight.dtype)
             for name, weight in tuned["model"].items()}
    return {**tuned, "model": model}


def copy_language_model(base: Path, out: str | Path) -> Path | None:
    """Put the language model beside `base` (same name, `.lm`) beside `out` too, so that the
    adapted model decodes with it as the starting one did; the copy's path, or None without one."""
    return atomic_copy(base.with_suffix(".lm"), Path(out).with_suffix(".lm"))
