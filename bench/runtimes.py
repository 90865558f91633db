"""onnxruntime against torch eager on the same weights and inputs, batch 1 and batched, by ink size.

The torch model is `BiLSTMCTC` rebuilt from the ONNX file (`state_from_onnx`), in eval
mode under `torch.inference_mode()`. Inputs are the frames of real inks of each size;
a batch is that many different inks, padded (with lengths, so padding changes nothing).
Both runtimes are timed with 1 intra-op thread (the Recognizer's setting), and at
batch 1 also with 2 (the latency case; batched runs with 2 threads are left out, as
torch's OpenMP threads can take seconds per call next to another busy process),
interleaved round by round. Ratios are torch time / onnxruntime time of the same round,
so > 1 means onnxruntime is faster. The largest output difference is kept as a check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import onnxruntime as ort
import torch

from bench.data import sized_inks
from bench.timing import interleaved, ratio_summary, summarize
from handwriting.ink import Ink
from handwriting.training.model import BiLSTMCTC, ModelConfig
from handwriting.recognition.modelfile import ModelFile, load_model_file
from handwriting.training.onnx_graph import state_from_onnx
from handwriting.recognition.preprocess import featurize

__all__ = ["torch_model", "compare_runtimes", "THREADS"]

THREADS = (1, 2)
Batch = tuple[np.ndarray, np.ndarray]  # features (B, T, F) float32, lengths (B,) int32


def torch_model(model: ModelFile) -> BiLSTMCTC:
    """The network of `model` as torch eager, weights from its ONNX initializers."""
    config = {k: v for k, v in model.config.items() if k in ModelConfig.__dataclass_fields__}
    net = BiLSTMCTC(ModelConfig(**config))
    net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state_from_onnx(model.proto).items()})
    return net.eval()


def _thread_counts(batch_label: str) -> tuple[int, ...]:
    """Thread counts timed for a batch: all at batch 1, one otherwise."""
    return THREADS if batch_label == "1" else THREADS[:1]


def _padded(model: ModelFile, inks: list[Ink]) -> Batch:
    frames = [featurize(ink, model.preprocess).features for ink in inks]
    lengths = np.array([len(f) for f in frames], np.int32)
    features = np.zeros((len(frames), lengths.max(), frames[0].shape[1]), np.float32)
    for row, f in enumerate(frames):
        features[row, : len(f)] = f
    return features, lengths


def _ort_runner(session: ort.InferenceSession, batch: Batch) -> Callable[[], np.ndarray]:
    feeds = {"features": batch[0], "lengths": batch[1]}
    return lambda: session.run(["log_probs"], feeds)[0]


def _torch_runner(net: BiLSTMCTC, batch: Batch, threads: int) -> Callable[[], np.ndarray]:
    features, lengths = torch.from_numpy(batch[0]), torch.from_numpy(batch[1].astype(np.int64))

    def run() -> np.ndarray:
        torch.set_num_threads(threads)
        with torch.inference_mode():
            return net(features, lengths).numpy()
    return run


def _max_difference(ort_run: Callable[[], np.ndarray], torch_run: Callable[[], np.ndarray], lengths: np.ndarray) -> float:
    a, b = ort_run(), torch_run()
    return float(max(np.abs(a[row, :n] - b[row, :n]).max() for row, n in enumerate(lengths)))


def compare_runtimes(model_path: str | Path, lines: list[Ink], sizes: list[int], batch_size: int, rounds: int) -> dict:
    """Per size and batch (1 and `batch_size`): ms of each runtime and thread count, and the torch/ort ratios."""
    sessions = {n: load_model_file(model_path, threads=n) for n in THREADS}
    net = torch_model(sessions[1])
    tasks: dict[str, Callable[[], object]] = {}
    checks: dict[str, float] = {}
    frames: dict[str, int] = {}
    for size in sizes:
        inks = sized_inks(lines, size, batch_size)
        for label, batch in (("1", _padded(sessions[1], inks[:1])), (str(batch_size), _padded(sessions[1], inks))):
            key = f"{size}/{label}"
            frames[key] = int(batch[1].max())
            for n in _thread_counts(label):
                tasks[f"{key}/ort/{n}"] = _ort_runner(sessions[n].session, batch)
                tasks[f"{key}/torch/{n}"] = _torch_runner(net, batch, n)
            checks[key] = _max_difference(tasks[f"{key}/ort/1"], tasks[f"{key}/torch/1"], batch[1])  # type: ignore[arg-type]
    samples = interleaved(tasks, rounds).wall
    torch.set_num_threads(1)
    out: dict = {"batch_size": batch_size, "rounds": rounds, "threads": list(THREADS), "sizes": {}}
    for key in frames:
        size, label = key.split("/")
        entry = {"frames": frames[key], "max_abs_difference": checks[key]}
        for n in _thread_counts(label):
            ort_ms, torch_ms = samples[f"{key}/ort/{n}"], samples[f"{key}/torch/{n}"]
            entry[f"threads_{n}"] = {"ort_ms": summarize(ort_ms), "torch_ms": summarize(torch_ms),
                                     "torch_over_ort": ratio_summary(torch_ms, ort_ms)}
        out["sizes"].setdefault(size, {})[f"batch_{label}"] = entry
    return out
