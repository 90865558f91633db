"""CTC training of the BiLSTM over length-bucketed batches, with augmentation, validation and checkpoints.

One process:   handwriting train --data prep/iamondb prep/unipen --out runs/base
Resume:        handwriting train --resume runs/base/last.pt --data ... --out runs/base
DDP on CPU:    torchrun --nproc_per_node 2 -m handwriting.cli train --data ... --out ...
               (gloo on CPU, nccl on GPU; each process takes every N-th batch)

Checkpoints (`last.pt` every few minutes and each epoch, `best.pt` on a new best
validation CER) are written atomically, so a kill at any moment leaves a readable one.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import random
import sys
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from handwriting.alphabet import Alphabet
from handwriting.atomic import atomic_write, atomic_write_bytes
from handwriting.training.augment import augment
from handwriting.recognition.decode import greedy
from handwriting.errors import HandwritingError
from handwriting.ink import Ink
from handwriting.jsonsafe import dumps
from handwriting.metrics import ErrorCounts
from handwriting.training.model import BiLSTMCTC, ModelConfig
from handwriting.recognition.preprocess import PreprocessConfig, feature_names, featurize
from handwriting.shards import read_split
from handwriting.shutdown import exit_if_signalled
from handwriting.training.train_options import DEFAULT_STEP, TrainOptions
from handwriting.training.widen import widened

if TYPE_CHECKING:
    from handwriting.recognition.modelfile import ModelFile

__all__ = ["TrainOptions", "train", "training_step", "load_checkpoint", "load_base", "checkpoint_of_model", "origin_of", "model_from_checkpoint",
           "evaluate_model", "InkDataset"]


# An augmented variant may be this many times longer than its ink (counted as at least
# MIN_FRAMES frames); beyond that (a dot whose writing height collapses once a few of its
# points are dropped, jittered into a thousand frames) the ink is used as it is.
MAX_AUGMENTED_GROWTH, MIN_FRAMES = 4, 25


class InkDataset(torch.utils.data.Dataset):
    """Labelled inks -> (features, targets); augmented afresh each epoch when `augment` is on."""

    def __init__(self, inks: list[Ink], alphabet: Alphabet, config: PreprocessConfig, augment: bool, seed: int,
                 style: float = 0.0):
        self.inks, self.alphabet, self.config, self.augment, self.seed = inks, alphabet, config, augment, seed
        self.style = style
        self.epoch = 0
        self.lengths = np.array([len(featurize(ink, config)) for ink in tqdm(inks, desc="measuring", disable=None, leave=False)])

    def __len__(self) -> int:
        return len(self.inks)

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the items where `mask` is true."""
        self.inks = [ink for ink, k in zip(self.inks, mask) if k]
        self.lengths = self.lengths[mask]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        ink = self.inks[index]
        features = self._augmented_features(index) if self.augment else None
        if features is None:
            features = featurize(ink, self.config).features
        return torch.from_numpy(features), torch.tensor(self.alphabet.encode(ink.label or ""), dtype=torch.long)

    def _augmented_features(self, index: int) -> np.ndarray | None:
        """The features of this epoch's variant of item `index`; None when the variant is far
        longer than its ink (it would overrun its batch's frame budget)."""
        variant = augment(self.inks[index], np.random.default_rng([self.seed, self.epoch, index]), self.style)
        features = featurize(variant, self.config).features
        return None if len(features) > MAX_AUGMENTED_GROWTH * max(int(self.lengths[index]), MIN_FRAMES) else features


def bucketed_batches(lengths: np.ndarray, max_frames: int, rng: random.Random) -> list[list[int]]:
    """Indices grouped by similar length so that (longest x count) <= max_frames; batches shuffled."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        longest_if_added = max(longest, int(lengths[i]), 1)
        if current and longest_if_added * (len(current) + 1) > max_frames:
            batches.append(current)
            current, longest_if_added = [], max(int(lengths[i]), 1)
        current.append(i)
        longest = longest_if_added
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def collate(items: list[tuple[torch.Tensor, torch.Tensor]]):
    features = nn.utils.rnn.pad_sequence([f for f, _ in items], batch_first=True)
    input_lengths = torch.tensor([len(f) for f, _ in items])
    targets = torch.cat([t for _, t in items])
    target_lengths = torch.tensor([len(t) for _, t in items])
    return features, input_lengths, targets, target_lengths


CHECKPOINT_KEYS = {"model": dict, "model_config": dict, "alphabet": str, "preprocess": dict}


def load_checkpoint(path: str | Path, resume: bool = False) -> dict:
    """A checkpoint written by `train`, unpickled with tensors and plain containers only
    (`weights_only=True`: a file whose pickle names any other object is refused, never run).
    Raises HandwritingError naming the file unless it holds the keys training and export need."""
    if not Path(path).is_file():
        raise HandwritingError(f"{path}: checkpoint not found (or not a regular file)")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols it then refuses anyway
            warnings.simplefilter("ignore")
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = [line for line in str(exc).splitlines() if "GLOBAL" in line or "global" in line]
        detail = f" ({found[0].strip()[:160]})" if found else ""
        raise HandwritingError(f"{path}: refused: not a plain weights checkpoint{detail}") from None
    except Exception as exc:  # torch raises many types for files that are not checkpoints
        first_line = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise HandwritingError(f"{path}: not a readable checkpoint ({first_line})") from None
    keys = {**CHECKPOINT_KEYS, **({"optimizer": dict, "state": dict} if resume else {})}
    if not isinstance(checkpoint, dict):
        raise HandwritingError(f"{path}: not a checkpoint of `handwriting train` (holds a {type(checkpoint).__name__})")
    wrong = [k for k, kind in keys.items() if not isinstance(checkpoint.get(k), kind)]
    if wrong:
        raise HandwritingError(f"{path}: not a checkpoint of `handwriting train` (missing or wrong: {', '.join(wrong)})")
    return checkpoint


def load_base(path: str | Path) -> dict:
    """Weights to start from: a training checkpoint, or any exported ONNX model (rebuilt as torch)."""
    if Path(path).suffix.lower() != ".onnx":
        return load_checkpoint(path)
    from handwriting.recognition.modelfile import load_model_file

    return checkpoint_of_model(load_model_file(path))


def checkpoint_of_model(model: ModelFile) -> dict:
    """An exported model's network rebuilt as a checkpoint's weights and settings (torch), with the
    metadata that stays with the network when it is written again (its character prior, temperature
    and second network)."""
    from handwriting.recognition.character_prior import METADATA_KEY as PRIOR
    from handwriting.recognition.ensemble import METADATA_KEY as ENSEMBLE
    from handwriting.recognition.temperature import METADATA_KEY as TEMPERATURE
    from handwriting.training.onnx_graph import state_from_onnx

    state = {k: torch.from_numpy(v.copy()) for k, v in state_from_onnx(model.proto).items()}
    kept = {key: model.metadata[key] for key in (PRIOR, TEMPERATURE, ENSEMBLE) if key in model.metadata}
    return {"model": state, "model_config": model.config, "alphabet": model.alphabet.chars,
            "preprocess": model.preprocess.to_dict(), "training": model.training, "kept_metadata": kept}


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def origin_of(base: dict, path: str | Path) -> dict:
    """Where a run started from `base` (read from `path`) comes from: the file, how many epochs
    and with what best validation CER it had been trained, and where that came from in turn."""
    state = _mapping(base.get("state"))
    training = _mapping(base.get("training"))  # an exported model
    origin = {"from": Path(path).name, "epochs": state.get("epoch", training.get("epochs")),
              "best_cer": state.get("best_cer")}
    earlier = state.get("started_from", training.get("started_from"))
    return {**origin, "started_from": earlier} if isinstance(earlier, dict) else origin


def averaged_checkpoint(paths: list[str]) -> dict:
    """One checkpoint whose weights are the mean of those of `paths` (checkpoints of one run:
    the same network, alphabet and preprocessing), the rest that of the last. Averaging the
    last epochs' weights smooths out where the last steps happened to land."""
    checkpoints = [load_checkpoint(path) for path in paths]
    last = checkpoints[-1]
    for path, checkpoint in zip(paths, checkpoints):
        differs = [k for k in ("model_config", "alphabet", "preprocess") if checkpoint[k] != last[k]]
        if differs or checkpoint["model"].keys() != last["model"].keys():
            raise HandwritingError(f"{path}: cannot be averaged with {paths[-1]} (other {', '.join(differs) or 'weights'})")
    model = {name: torch.stack([c["model"][name].double() for c in checkpoints]).mean(0).to(tensor.dtype)
             for name, tensor in last["model"].items()}
    return {**last, "model": model, "averaged": [_soup_entry(path, c) for path, c in zip(paths, checkpoints)]}


def _soup_entry(path: str | Path, checkpoint: dict) -> str | dict:
    """How a soup names one of its checkpoints: the file, or for a soup itself the file and what it is the mean of."""
    parts = checkpoint.get("averaged")
    return {"mean": str(path), "of": parts} if isinstance(parts, list) and parts else str(path)


def model_from_checkpoint(checkpoint: dict, source: str | Path | None = None) -> BiLSTMCTC:
    """The network of a checkpoint (read from the file `source`, named in errors); HandwritingError
    if its shape and weights do not fit together."""
    try:
        config = ModelConfig(**checkpoint["model_config"])
        stored = sum(t.numel() for t in checkpoint["model"].values() if isinstance(t, torch.Tensor))
        if _parameter_count(config) > stored:  # checked before a network of that size is allocated
            raise ValueError(f"the network of {checkpoint['model_config']} needs more weights than the {stored} stored")
        model = BiLSTMCTC(config)
        model.load_state_dict(checkpoint["model"])
    except (TypeError, ValueError, RuntimeError, KeyError) as exc:
        first_line = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        where = f"{source}: " if source is not None else ""
        raise HandwritingError(f"{where}checkpoint weights do not fit its network ({first_line})") from None
    return model


def _parameter_count(config: ModelConfig) -> int:
    """How many numbers the network of `config` holds (ValueError for sizes that are not counts)."""
    sizes = (config.num_features, config.num_classes, config.hidden, config.layers)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in sizes):
        raise ValueError(f"network sizes must be positive integers, got {sizes}")
    h = config.hidden
    count = 2 * config.num_features + 2 * h * config.num_classes + config.num_classes
    for layer in range(config.layers):
        inputs = config.num_features if layer == 0 else 2 * h
        count += 2 * (4 * h * (inputs + h) + 8 * h)
    return count


def _save(path: Path, state: dict) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def evaluate_model(model: BiLSTMCTC, dataset: InkDataset, max_frames: int) -> ErrorCounts:
    """Greedy-decoded CER/WER of `model` on `dataset` (no augmentation)."""
    model.eval()
    counts = ErrorCounts()
    batches = bucketed_batches(dataset.lengths, max_frames, random.Random(0))
    with torch.no_grad():
        for batch in batches:
            features, lengths, _, _ = collate([dataset[i] for i in batch])
            log_probs = model(features, lengths).numpy()
            for row, i in enumerate(batch):
                ids = greedy(log_probs[row, : lengths[row]]).ids
                counts.add(dataset.inks[i].label or "", dataset.alphabet.decode(ids))
    model.train()
    return counts


@dataclass
class CorpusPart:
    """A run of training items from one data folder and its sampling weight."""

    start: int
    stop: int
    weight: float = 1.0


def epoch_indices(parts: list[CorpusPart], seed: int, epoch: int) -> np.ndarray:
    """The training items of one epoch: a fresh sample of each part with weight < 1
    (so that over the epochs every item is seen), whole repeats for weights >= 1."""
    rng = np.random.default_rng([seed, epoch])
    chosen = []
    for part in parts:
        items = np.arange(part.start, part.stop)
        if part.weight < 1:
            items = np.sort(rng.choice(items, round(len(items) * part.weight), replace=False))
        chosen.append(np.tile(items, max(1, round(part.weight))))
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=int)


def weighted_groups(inks: list[Ink], folder: str, weights: dict[str, float]) -> list[tuple[float, list[Ink]]]:
    """The training inks of one data folder grouped by sampling weight: a `folder/level` key
    (e.g. `unipen/character`, the level as `prepare` stored it) weighs that level's items,
    `folder` the rest (1 when absent). A level key that no item of the folder has (a typo)
    is an error rather than a weight that silently does nothing."""
    default = weights.get(folder, 1.0)
    groups: dict[float, list[Ink]] = {}
    levels = set()
    for ink in inks:
        level = str(ink.meta.get("level", "")).lower()
        levels.add(level)
        groups.setdefault(weights.get(f"{folder}/{level}", default), []).append(ink)
    unmatched = sorted(k for k in weights if k.startswith(f"{folder}/") and k.split("/", 1)[1] not in levels)
    if unmatched:
        found = ", ".join(sorted(level for level in levels if level)) or "none"
        raise HandwritingError(f"--weight {unmatched[0]}: no training item of {folder} has that level (its levels: {found})")
    return list(groups.items())


def _load_inks(options: TrainOptions, alphabet: Alphabet) -> tuple[list[Ink], list[Ink], list[CorpusPart]]:
    def usable(inks: list[Ink]) -> list[Ink]:
        return [i for i in inks if i.label and alphabet.covers(i.label) and i.num_points > 1]

    train_inks: list[Ink] = []
    val_inks: list[Ink] = []
    parts = []
    for root in options.data:
        for weight, group in weighted_groups(usable(read_split(root, "train")), Path(root).name, options.weights):
            parts.append(CorpusPart(len(train_inks), len(train_inks) + len(group), weight))
            train_inks += group
        val_part = usable(read_split(root, "val"))
        if options.max_val:  # per folder, so that every corpus is watched
            val_part = random.Random(options.seed).sample(val_part, min(options.max_val, len(val_part)))
        val_inks += val_part
    if options.max_train:
        train_inks = random.Random(options.seed).sample(train_inks, min(options.max_train, len(train_inks)))
        parts = [CorpusPart(0, len(train_inks))]
    return train_inks, val_inks, parts


def _preprocess(base: dict | None, options: TrainOptions, resuming: bool) -> PreprocessConfig:
    """The run's preprocessing: a new network's of `options.frames` (default points) at
    `options.step` (default DEFAULT_STEP for its frames) and, for curves, `options.tolerance`;
    a base network's own, at `options.step` and `options.tolerance` when given (the network
    then learns that frame rate), except that a resumed run keeps the frames it was trained on."""
    own = PreprocessConfig.from_dict(base["preprocess"]) if base else None
    frames = options.frames or (own.frames if own else "points")
    if options.tolerance is not None and frames != "curves":
        raise HandwritingError(f"--tolerance {options.tolerance}: only curve frames have a tolerance")
    if own is None:
        return PreprocessConfig(step=options.step or DEFAULT_STEP[frames], frames=frames,
                                tolerance=options.tolerance or PreprocessConfig.tolerance)
    if options.frames not in (None, own.frames):
        raise HandwritingError(f"--frames {options.frames}: the network started from reads {own.frames} frames")
    asked = replace(own, step=options.step or own.step, tolerance=options.tolerance or own.tolerance)
    if resuming and asked.step != own.step:
        raise HandwritingError(f"--step {asked.step}: the run resumed resamples at step {own.step}")
    if resuming and asked.tolerance != own.tolerance:
        raise HandwritingError(f"--tolerance {asked.tolerance}: the run resumed cuts curves at {own.tolerance}")
    return asked


def _feature_statistics(dataset: InkDataset, count: int = 2000) -> tuple[torch.Tensor, torch.Tensor]:
    picks = np.random.default_rng(0).choice(len(dataset.inks), min(count, len(dataset.inks)), replace=False)
    features = np.concatenate([featurize(dataset.inks[i], dataset.config).features for i in picks])
    mean, std = features.mean(axis=0), features.std(axis=0)
    pen_up = feature_names(dataset.config).index("pen_up")
    mean[pen_up], std[pen_up] = 0.0, 1.0  # keep the binary pen-up flag as it is
    return torch.from_numpy(mean), torch.from_numpy(np.maximum(std, 1e-3))


def training_step(net: nn.Module, optimizer: torch.optim.Optimizer, ctc: nn.CTCLoss,
                  batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], clip: float,
                  bf16: bool = False) -> float:
    """One batch (features, lengths, targets, target lengths): the forward pass (in bfloat16
    under autocast with `bf16`), CTC loss, backward, gradient clipping and an optimizer
    step; returns the loss."""
    features, lengths, targets, target_lengths = batch
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        log_probs = net(features, lengths)
    loss = ctc(log_probs.float().transpose(0, 1), targets, lengths, target_lengths)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(net.parameters(), clip)
    optimizer.step()
    return loss.item()


def train(options: TrainOptions, inks: tuple[list[Ink], list[Ink]] | None = None) -> dict:
    """Train (or resume, or fine-tune from `init`) and return the final state summary.

    `inks` (train, validation) replaces reading shards from `options.data`."""
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    main_process = rank == 0
    torch.manual_seed(options.seed)
    if options.threads:
        torch.set_num_threads(options.threads)
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)

    resumed = load_checkpoint(options.resume, resume=True) if options.resume else None
    base = resumed or (load_base(options.init) if options.init else None)
    alphabet = Alphabet(base["alphabet"]) if base else Alphabet()
    preprocess = _preprocess(base, options, resumed is not None)
    options = replace(options, step=preprocess.step, frames=preprocess.frames,  # as its checkpoints record them
                      tolerance=preprocess.tolerance if preprocess.frames == "curves" else None)
    if inks is None:
        train_inks, val_inks, parts = _load_inks(options, alphabet)
    else:
        (train_inks, val_inks), parts = inks, [CorpusPart(0, len(inks[0]))]
    if not train_inks:
        raise HandwritingError("no usable training inks in " + ", ".join(options.data))
    train_set = InkDataset(train_inks, alphabet, preprocess, options.augment, options.seed, options.style)
    if options.max_frames:  # curriculum: short items first (they leave the CTC blank plateau sooner)
        train_set.keep(train_set.lengths <= options.max_frames)
        parts = [CorpusPart(0, len(train_set))]
    val_set = InkDataset(val_inks, alphabet, preprocess, False, options.seed)

    if base:
        model = model_from_checkpoint(base, options.resume or options.init)  # checks the weights fit their network before any widening
        if not resumed and options.hidden > model.config.hidden:  # more units asked for: grown, the same outputs
            model = model_from_checkpoint(widened(base, options.hidden))
        # the network's shape is the checkpoint's (or the widened one's): record that, not the options' defaults
        options = replace(options, hidden=model.config.hidden, layers=model.config.layers, dropout=model.config.dropout)
    else:
        config = ModelConfig(len(feature_names(preprocess)), alphabet.num_classes, options.hidden, options.layers, options.dropout)
        model = BiLSTMCTC(config)
        model.feature_mean, model.feature_std = _feature_statistics(train_set)
    net = nn.parallel.DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.Adam(model.parameters(), lr=options.lr)
    state: dict[str, Any] = {"epoch": 0, "step": 0, "epoch_batches": 0, "lr": options.lr, "best_cer": math.inf, "stale": 0, "history": []}
    if resumed:
        optimizer.load_state_dict(resumed["optimizer"])
        state.update(resumed["state"])
    elif base and options.init:
        state["started_from"] = origin_of(base, options.init)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)

    def checkpoint(name: str, with_optimizer: bool = True) -> None:
        if main_process:
            _save(out / name, {
                "model": model.state_dict(), "model_config": model.config.to_dict(), "state": state,
                "alphabet": alphabet.chars, "preprocess": preprocess.to_dict(), "options": asdict(options),
                **({"optimizer": optimizer.state_dict()} if with_optimizer else {}),
            })

    started = time.monotonic()
    last_save = started
    out_of_time = False
    while state["epoch"] < options.epochs and not out_of_time:
        train_set.epoch = state["epoch"]
        items = epoch_indices(parts, options.seed, state["epoch"])
        batches = bucketed_batches(train_set.lengths[items], options.batch_frames, random.Random(options.seed * 1000 + state["epoch"]))
        batches = [[int(items[i]) for i in batch] for batch in batches[rank::world][: len(batches) // world]]
        batches = batches[state.get("epoch_batches", 0):]  # a resumed epoch goes on where its checkpoint was taken
        loader = torch.utils.data.DataLoader(
            train_set, batch_sampler=batches, collate_fn=collate, num_workers=options.workers,
        )
        bar = tqdm(loader, desc=f"epoch {state['epoch'] + 1}", unit="batch", disable=not main_process,
                   mininterval=1 if sys.stderr.isatty() else 60)
        losses, frames, tick = [], 0, time.monotonic()
        for features, input_lengths, targets, target_lengths in bar:
            exit_if_signalled()
            lr = state["lr"] * min(1.0, (state["step"] + 1) / options.warmup_steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
            losses.append(training_step(net, optimizer, ctc, (features, input_lengths, targets, target_lengths),
                                        options.clip, options.bf16))
            state["step"] += 1
            state["epoch_batches"] = state.get("epoch_batches", 0) + 1
            frames += int(input_lengths.sum())
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", fps=f"{frames / (time.monotonic() - tick):.0f}", lr=f"{lr:.1e}", refresh=False)
            if time.monotonic() - last_save > options.checkpoint_minutes * 60:
                checkpoint("last.pt")
                last_save = time.monotonic()
            if options.minutes and time.monotonic() - started > options.minutes * 60:
                out_of_time = True
                break
        if out_of_time and not losses:
            break
        counts = evaluate_model(model, val_set, options.batch_frames) if main_process and val_inks else None
        cer = counts.cer if counts else float(np.mean(losses))
        if distributed:  # every process follows rank 0's validation, so schedules stay identical
            shared = torch.tensor([cer], dtype=torch.float64)
            dist.broadcast(shared, src=0)
            cer = float(shared)
        record = {
            "epoch": state["epoch"] + 1, "step": state["step"], "loss": float(np.mean(losses)), "lr": state["lr"],
            "val_cer": counts.cer if counts else None, "val_wer": counts.wer if counts else None,
            "frames_per_s": frames / (time.monotonic() - tick), "complete": not out_of_time,
        }
        if not out_of_time:
            state["epoch"] += 1
            state["epoch_batches"] = 0
            state["lr"] *= options.lr_decay
        state["history"].append(record)
        if cer < state["best_cer"]:
            state["best_cer"], state["stale"] = cer, 0
            checkpoint("best.pt")
        elif not out_of_time:  # an epoch cut short by --minutes is no evidence of a plateau
            state["stale"] += 1
            if state["stale"] >= options.patience:
                state["lr"] *= 0.5
                state["stale"] = 0
        checkpoint("last.pt")
        if not out_of_time and options.keep_epochs and main_process:
            checkpoint(f"epoch-{state['epoch']}.pt", with_optimizer=False)
            (out / f"epoch-{state['epoch'] - options.keep_epochs}.pt").unlink(missing_ok=True)
        last_save = time.monotonic()
        if main_process:
            tqdm.write(dumps(record))
            with atomic_write(out / "history.json") as fh:
                fh.write(dumps(state["history"], indent=1))
    if distributed:
        dist.destroy_process_group()
    return state
