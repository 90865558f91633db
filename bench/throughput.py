"""Batch throughput of `handwriting recognize` over real lines, --jobs 1 and 2, process start included.

Each run is a fresh `python -m handwriting.cli recognize FILES... --jobs N` (wall time
from spawn to exit, as a user would see it), interleaved round by round with the other
settings. A run on a single file gives the fixed cost (interpreter, imports, model
load, worker start); lines/s without it is the steady rate. Memory (largest process
and sampled sum over the process tree) comes from the same runs (`bench.processes`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.data import line_files
from bench.processes import ProcessRun, run_process
from bench.timing import rotations, summarize

__all__ = ["recognize_command", "batch_throughput", "DECODER_OPTIONS"]

DECODER_OPTIONS = {"greedy": ["--no-lm"], "beam_lm": ["--lm", "{lm}", "--beam", "16"]}


def recognize_command(files: list[Path], model: str, lm: str, jobs: int, decoder: str) -> list[str]:
    options = [o.format(lm=lm) for o in DECODER_OPTIONS[decoder]]
    return [sys.executable, "-m", "handwriting.cli", "recognize", *map(str, files), "--model", model, *options,
            "--jobs", str(jobs), "--format", "jsonl"]


def _checked(run: ProcessRun, expected_lines: int) -> ProcessRun:
    produced = run.stdout.count("\n")
    if run.returncode != 0 or produced != expected_lines:
        raise RuntimeError(f"{run.command}: exit {run.returncode}, {produced} of {expected_lines} lines\n{run.stderr[-2000:]}")
    return run


def batch_throughput(model: str, lm: str, data: str, lines: int, jobs: list[int], rounds: dict[str, int]) -> dict:
    """Per decoder (with its number of rounds) and jobs: lines/s over `lines` files and over one file
    (start-up), with CPU time and memory."""
    files = line_files(data, lines)
    settings = {f"{decoder}/jobs_{n}/{count}": (decoder, n, count)
                for decoder in rounds for n in jobs for count in (len(files), 1)}
    runs: dict[str, list[ProcessRun]] = {key: [] for key in settings}
    due = {key: rounds[decoder] for key, (decoder, _, _) in settings.items()}
    for _, key in rotations(list(settings), due):
        decoder, n, count = settings[key]
        runs[key].append(_checked(run_process(recognize_command(files[:count], model, lm, n, decoder)), count))
    out: dict = {"lines": len(files), "rounds": rounds, "settings": {}}
    for decoder in rounds:
        for n in jobs:
            full, single = runs[f"{decoder}/jobs_{n}/{len(files)}"], runs[f"{decoder}/jobs_{n}/1"]
            out["settings"][f"{decoder}/jobs_{n}"] = _summary(full, single, len(files))
    return out


def _summary(full: list[ProcessRun], single: list[ProcessRun], lines: int) -> dict:
    startup = summarize([r.wall_s for r in single])
    return {
        "lines_per_s": summarize([lines / r.wall_s for r in full], 1),
        "wall_s": summarize([r.wall_s for r in full]),
        "startup_s": startup,
        "steady_lines_per_s": summarize([(lines - 1) / max(r.wall_s - startup["median"], 1e-3) for r in full], 1),
        "cpu_s": summarize([r.cpu_s for r in full]),
        "max_rss_mib": max(r.max_rss_mib for r in full),
        "tree_rss_mib": max((r.tree_rss_mib or 0.0) for r in full) or None,
    }
