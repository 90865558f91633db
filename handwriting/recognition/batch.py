"""Batch recognition over many files: items (one per ink in a file), worker processes, results.

Every ink of every file is one item; a file or segment that cannot be read becomes an
item with an error, and the run goes on. Work is split by file across `jobs` processes,
each with its own onnxruntime session; results come back in input order.
"""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np

from handwriting.errors import HandwritingError, InkFormatError
from handwriting.formats import detect_format, expand_paths, read_items
from handwriting.ink import Ink
from handwriting.limits import recognize_problem
from handwriting.recognition.orientation import flip_y, looks_upside_down, surer_flipped
from handwriting.shutdown import die_with_parent, exit_if_signalled

if TYPE_CHECKING:
    from handwriting.recognition.recognizer import Recognizer

__all__ = ["ItemResult", "recognize_files", "iter_items"]

BATCH_SIZE = 16


@dataclass(frozen=True)
class ItemResult:
    path: str
    index: int
    label: str | None
    text: str | None
    alternatives: list[dict]
    words: list[dict]
    error: str | None
    lines: list[dict] = field(default_factory=list)
    warning: str | None = None  # the reading is likely wrong (ink upside down)

    def to_dict(self) -> dict:
        return {"path": self.path, "index": self.index, "label": self.label, "text": self.text,
                "alternatives": self.alternatives, "words": self.words, "error": self.error, "lines": self.lines,
                **({"warning": self.warning} if self.warning else {})}


def iter_items(path: Path) -> Iterator[tuple[int, Ink | InkFormatError]]:
    """(index, ink or its error) for every item of `path`; a file-level failure is item 0."""
    try:
        detect_format(path)
        items = read_items(path)
    except InkFormatError as exc:
        yield 0, exc
        return
    if not items:
        yield 0, InkFormatError(path, None, "holds no ink")
    yield from enumerate(items)


_worker_recognizer = None
_worker_y_up = False


def _init_worker(model: str | None, options: dict, y_up: bool = False) -> None:
    global _worker_recognizer, _worker_y_up
    from handwriting.recognition.recognizer import Recognizer

    _worker_recognizer = Recognizer(model, **options)
    _worker_y_up = y_up


def _init_pool_worker(parent: int, model: str | None, options: dict, y_up: bool) -> None:
    die_with_parent(parent)
    inherited = _worker_recognizer  # the parent's, in a forked worker: its language model is used, not read again
    _init_worker(model, {**options, "lm": inherited.lm} if inherited is not None else options, y_up)


def _recognize_file(path: str) -> list[ItemResult]:
    recognizer = _worker_recognizer
    assert recognizer is not None, "worker not initialised"
    items = list(iter_items(Path(path)))
    results: list[ItemResult | None] = [None] * len(items)
    good = []  # (position, item index, ink) of the inks worth running
    for k, (index, item) in enumerate(items):
        if not isinstance(item, Ink):
            results[k] = ItemResult(path, index, None, None, [], [], str(item))
        elif item.is_empty:
            results[k] = ItemResult(path, index, item.label, None, [], [], f"{path}: item {index}: empty ink")
        elif item.num_points < 2:
            results[k] = ItemResult(path, index, item.label, None, [], [],
                                    f"{path}: item {index}: a single point, too little ink to read")
        elif problem := recognize_problem(item.num_points):
            results[k] = ItemResult(path, index, item.label, None, [], [], f"{path}: item {index}: {problem}")
        else:
            good.append((k, index, flip_y(item) if _worker_y_up else item))
    for start in range(0, len(good), BATCH_SIZE):
        chunk = good[start:start + BATCH_SIZE]
        for (k, index, ink), rec in zip(chunk, recognizer.recognize_batch([ink for _, _, ink in chunk])):
            d = rec.to_dict()
            warning = f"{path}: item {index}: the ink looks upside down (stored y-up?): try --y-up" \
                if not _worker_y_up and _upside_down(recognizer, ink, rec.log_probs) else None
            results[k] = ItemResult(path, index, ink.label, rec.text, d["alternatives"], d["words"], None, d["lines"],
                                    warning)
    return [r for r in results if r is not None]


def _upside_down(recognizer: Recognizer, ink: Ink, log_probs: np.ndarray) -> bool:
    """Whether `ink` (read as `log_probs`) is most likely y-up: its strokes' habits say so and
    the network is surer of it flipped."""
    return looks_upside_down(ink) and surer_flipped(log_probs, recognizer.recognize(flip_y(ink)).log_probs)


def recognize_files(paths: list[str], model: str | None = None, jobs: int = 1, progress: bool = False,
                    y_up: bool = False, **options) -> Iterator[ItemResult]:
    """Results for every item of every file (directories and globs expanded), in input order
    (`y_up`: the files hold y-up ink, flipped before reading)."""
    files = [str(p) for p in expand_paths(paths)]
    if not files:
        raise HandwritingError("no input files")
    from tqdm import tqdm

    bar = tqdm(total=len(files), unit="file", disable=not progress, desc="recognizing")
    jobs = max(1, min(jobs, len(files), os.cpu_count() or 1))
    _init_worker(model, options, y_up)  # loads the model here first, so a bad one fails once, clearly
    if jobs == 1:
        for f in files:
            exit_if_signalled()
            yield from _recognize_file(f)
            bar.update()
    else:
        # leaving the block, even interrupted, killed (SIGTERM) or abandoned, ends the workers at once
        with multiprocessing.Pool(jobs, initializer=_init_pool_worker, initargs=(os.getpid(), model, options, y_up)) as pool:
            for results in pool.imap(_recognize_file, files, chunksize=max(1, len(files) // (jobs * 8))):
                exit_if_signalled()
                yield from results
                bar.update()
    bar.close()
