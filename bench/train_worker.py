"""One process of the training-throughput benchmark: timed CTC training steps on real-length batches.

    python -m bench.train_worker --data data/prep/iamondb --out /tmp/r.json
    python -m torch.distributed.run --nproc_per_node 2 -m bench.train_worker ...   # DDP, gloo

A step is what `handwriting train` does per batch: BiLSTMCTC forward, CTC loss,
backward, gradient clipping and an Adam step (under DDP the gradients are all-reduced
in backward). Network size and batch size default to `handwriting train`'s
(`TrainOptions`). Batches are the real inks of a shard split, bucketed by length to
`--batch-frames` (longest x count) as in training, featurised beforehand without
augmentation, so only the network's work is timed. Each process takes every N-th
batch, as in training; rank 0 writes per step the frames of all processes and the
slowest process's time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from dataclasses import fields
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from handwriting.alphabet import Alphabet
from handwriting.training.model import BiLSTMCTC, ModelConfig
from handwriting.recognition.preprocess import FEATURE_NAMES, PreprocessConfig
from handwriting.shards import read_shard
from handwriting.training.train import InkDataset, TrainOptions, bucketed_batches, collate, training_step
from handwriting.training.train_options import DEFAULT_STEP

__all__ = ["TRAINING_DEFAULTS", "main"]

TRAINING_DEFAULTS = {f.name: f.default for f in fields(TrainOptions)}

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def _batches(shard: Path, inks: int, batch_frames: int, step: float, rank: int, world: int, count: int) -> list[Batch]:
    """`count` collated batches for this process (cycling if the shard has fewer)."""
    alphabet = Alphabet()
    usable = [i for i in read_shard(shard) if i.label and alphabet.covers(i.label) and i.num_points > 1][:inks]
    dataset = InkDataset(usable, alphabet, PreprocessConfig(step=step), augment=False, seed=0)
    mine = bucketed_batches(dataset.lengths, batch_frames, random.Random(0))[rank::world]
    return [collate([dataset[i] for i in mine[k % len(mine)]]) for k in range(count)]


def _timed_steps(net: nn.Module, model: BiLSTMCTC, batches: list[Batch], warmup: int,
                 max_seconds: float | None = None, bf16: bool = False) -> tuple[list[int], list[float]]:
    """Frames and seconds of every step after the first `warmup`; with `max_seconds`, no new
    step starts once the steps so far took that long (one process only: DDP ranks must agree)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    frames, seconds = [], []
    for k, batch in enumerate(batches):
        start = time.perf_counter()
        training_step(net, optimizer, ctc, batch, TRAINING_DEFAULTS["clip"], bf16)
        if k >= warmup:
            seconds.append(time.perf_counter() - start)
            frames.append(int(batch[1].sum()))
        if max_seconds is not None and seconds and sum(seconds) > max_seconds:
            break
    return frames, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a folder of prepared shards")
    parser.add_argument("--split", default="val", help="shard split to read (val is smaller to load)")
    parser.add_argument("--inks", type=int, default=400)
    for name in ("batch_frames", "hidden", "layers", "dropout"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(TRAINING_DEFAULTS[name]),
                            default=TRAINING_DEFAULTS[name], help="as `handwriting train`")
    parser.add_argument("--step", type=float, default=DEFAULT_STEP["points"], help="as `handwriting train` (point frames)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, help="start no new step after this long (one process only)")
    parser.add_argument("--bf16", action="store_true", help="as `handwriting train --bf16`")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        dist.init_process_group("gloo")
    rank = dist.get_rank() if world > 1 else 0
    batches = _batches(Path(args.data) / f"{args.split}.npz", args.inks, args.batch_frames, args.step, rank, world,
                       args.warmup + args.steps)
    config = ModelConfig(len(FEATURE_NAMES), Alphabet().num_classes, args.hidden, args.layers, args.dropout)
    model = BiLSTMCTC(config)
    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    frames, seconds = _timed_steps(net, model, batches, args.warmup, args.max_seconds if world == 1 else None, args.bf16)
    frames_t, seconds_t = torch.tensor(frames, dtype=torch.float64), torch.tensor(seconds, dtype=torch.float64)
    if world > 1:
        dist.all_reduce(frames_t, op=dist.ReduceOp.SUM)
        dist.all_reduce(seconds_t, op=dist.ReduceOp.MAX)
        dist.destroy_process_group()
    if rank == 0:
        Path(args.out).write_text(json.dumps({
            "processes": world, "threads": args.threads, "hidden": args.hidden, "layers": args.layers,
            "batch_frames": args.batch_frames, "bf16": args.bf16, "frames": frames_t.tolist(), "seconds": seconds_t.tolist()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
