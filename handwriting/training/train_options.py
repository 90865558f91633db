"""`TrainOptions` and `FinetuneOptions`: every setting of a training or fine-tuning run, its
default and its help, in one place (the `train` and `finetune` commands' options are
generated from these fields, and the app reads the fine-tuning defaults here; no torch needed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from handwriting.options import (float_range, fraction, nonnegative_int, one_of, option, output_file, positive_float,
                                 positive_int)
from handwriting.recognition.preprocess import FRAME_KINDS

__all__ = ["TrainOptions", "FinetuneOptions", "DEFAULT_STEP"]

# a new network's resampling step, in writing heights, by its kind of frames: point frames
# about 7 a character; curves fitted to points this close together
DEFAULT_STEP = {"points": 0.2, "curves": 0.04}


@dataclass
class TrainOptions:
    data: list[str] = option(help="shard folders made by `handwriting prepare`")
    out: str = option(help="run folder for checkpoints and history.json")
    epochs: int = option(100, positive_int)
    minutes: float | None = option(None, positive_float, "stop (with a checkpoint) after this much wall time")
    batch_frames: int = option(3000, positive_int, "frames per batch (longest x count)")
    lr: float = option(1.5e-3, positive_float, "peak learning rate")
    lr_decay: float = option(1.0, positive_float, "multiply the learning rate by this after every epoch (on top of "
                                                  "halving on a plateau)")
    warmup_steps: int = option(200, positive_int, "steps of linear learning-rate warm-up")
    patience: int = option(3, positive_int, "epochs without a better validation CER before the rate is halved")
    hidden: int = option(96, positive_int, "LSTM units per direction (more than an --init network's widens it, "
                                                 "its outputs unchanged)")
    layers: int = option(3, positive_int, "bidirectional LSTM layers")
    dropout: float = option(0.2, float_range(0, 1, high_open=True), "dropout between layers")
    step: float | None = option(None, positive_float, "resampling step, fraction of the writing height (default: "
                                                     "the --init or --resume network's own, else "
                                                     f"{DEFAULT_STEP['points']} for point frames, "
                                                     f"{DEFAULT_STEP['curves']} for curves; a step other than an "
                                                     "--init network's retrains it at that rate)")
    frames: str | None = option(None, one_of(*FRAME_KINDS), "what a frame is: a resampled point, or a Bézier curve "
                                                           "fitted to the points (default: the --init or --resume "
                                                           "network's own, else points)")
    tolerance: float | None = option(None, positive_float, "curve frames: writing heights a curve may stray from the "
                                                           "points it stands for (default: the --init or --resume "
                                                           "network's own, else 0.02; another than an --init "
                                                           "network's retrains it at that cut)")
    augment: bool = option(True, help="random affine and speed changes of the training inks")
    style: float = option(0.0, float_range(0), "strength of writer-style distortions on top of --augment: uneven "
                                               "letter widths, strokes placed a little off, a wandering baseline "
                                               "(1: the designed amounts; 0: none)")
    seed: int = option(0, nonnegative_int)
    resume: str | None = option(None, help="checkpoint to continue from (weights, optimizer, schedule)")
    init: str | None = option(None, help="checkpoint whose weights start a new run (fine-tuning)")
    max_train: int | None = option(None, positive_int, "use at most this many training inks")
    max_val: int | None = option(None, positive_int, "validate on at most this many inks of each data folder")
    max_frames: int | None = option(None, positive_int, "train only on items of at most this many frames (curriculum)")
    workers: int = option(1, nonnegative_int, "data-loading processes")
    clip: float = option(5.0, positive_float, "gradient norm clipping")
    checkpoint_minutes: float = option(10.0, positive_float, "minutes between mid-epoch checkpoints")
    keep_epochs: int = option(5, nonnegative_int, "weights after each of the last N epochs kept as epoch-N.pt "
                                                  "(for `handwriting export` to average)")
    weights: dict[str, float] = field(default_factory=dict)  # sampling weight per data folder name (`--weight`)
    threads: int = option(1, positive_int, "torch threads per process (on a few shared cores more threads thrash)")
    bf16: bool = option(False, help="compute the network in bfloat16 (torch autocast; weights, gradients' sums and the "
                                    "optimizer stay float32): on a CPU with AMX about 1.3x the frames per second; "
                                    "validation stays float32")


@dataclass
class FinetuneOptions:
    data: list[str] = option(help="labelled ink files or folders (e.g. collected in the app)")
    out: str = option(parse=output_file, help="the adapted .onnx model to write")
    base: str | None = option(None, help="model to start from (default: the shipped model)")
    epochs: int = option(40, positive_int)
    minutes: float | None = option(10.0, positive_float, "time limit")
    holdout: float = option(0.25, fraction, "share of inks held back to check progress")
    seed: int = option(0, nonnegative_int)
    lr: float = option(3e-4, positive_float, "learning rate")
    mix: float = option(1.0, float_range(0.0, 1.0, low_open=True),
                        "share of the fine-tuned weights in the adapted model, the rest the starting model's "
                        "(WiSE-FT; 1: the fine-tuned weights alone)")
