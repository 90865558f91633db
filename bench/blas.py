"""BLAS/OpenMP threads and latency: one live update and cells + saliency, default threads against one.

numpy's OpenBLAS starts one thread per core and spin-waits between calls; next to
another busy process on 2 cores that costs far more than it gains, and the spinning
also slows onnxruntime in the same process. Each setting runs in a fresh child
process (thread counts are fixed when numpy loads): the user's environment as is, and
with OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=1; child runs alternate, round by round.

    python -m bench.blas --child --model M --lm L --data D   # one child: JSON of medians
"""

from __future__ import annotations

import argparse
import json
import sys

from bench.processes import run_checked
from bench.threads import unpinned
from bench.timing import rotations, summarize

__all__ = ["SETTINGS", "blas_threads", "main"]

SETTINGS = {"default": {}, "one_thread": {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}}
TASKS = ("recognize", "cells", "saliency", "explain")


def _child(model: str, lm: str, data: str, size: int, repeats: int) -> dict:
    from bench.bench_explain import explain_tasks
    from bench.data import load_lines, sized_inks
    from bench.live import recognizers
    from bench.timing import interleaved

    ink = sized_inks(load_lines(data, 10), size, 1)[0]
    tasks = explain_tasks(recognizers(model, lm)["greedy"], ink)
    timings = interleaved({name: tasks[name] for name in TASKS}, repeats)
    return {name: {"ms": summarize(timings.wall[name])["median"], "cpu_ms": summarize(timings.cpu[name])["median"]}
            for name in TASKS}


def blas_threads(model: str, lm: str, data: str, size: int, repeats: int, rounds: int) -> dict:
    """Per setting and task, the medians of each child run; ratios default / one thread, paired by round."""
    runs: dict[str, list[dict]] = {name: [] for name in SETTINGS}
    for _, name in rotations(list(SETTINGS), rounds):
        command = [sys.executable, "-m", "bench.blas", "--child", "--model", model, "--lm", lm, "--data", data,
                   "--size", str(size), "--repeats", str(repeats)]
        runs[name].append(json.loads(run_checked(command, env=unpinned(**SETTINGS[name])).stdout))
    out: dict = {"points": size, "repeats": repeats, "rounds": rounds, "settings": {}}
    for name, results in runs.items():
        out["settings"][name] = {task: summarize([r[task]["ms"] for r in results]) for task in TASKS}
    out["default_over_one_thread"] = {
        task: summarize([d[task]["ms"] / o[task]["ms"] for d, o in zip(runs["default"], runs["one_thread"])], 2)
        for task in TASKS}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--lm", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    print(json.dumps(_child(args.model, args.lm, args.data, args.size, args.repeats)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
