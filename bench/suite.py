"""The benchmark suite: every section in one run, results and the machine's state in one JSON file.

    .venv/bin/python -m bench [--model M.onnx] [--lm L.lm] [--data data/iamondb] \\
        --out bench/results.json [--quick] [--only live runtimes ...]
    .venv/bin/python -m bench.report bench/results.json      # the Markdown tables

Sections: live-update latency by ink size (greedy, beam + LM, cells + saliency) with
its scaling line and a cProfile of a 1,000-point update; BLAS threads (default against
one) for an update and cells + saliency; onnxruntime against torch
eager; `handwriting recognize` throughput with --jobs 1 and 2; training throughput
(one process against DDP); peak memory of a recognizer process and of batch runs.
The load average and the busy processes are recorded around every section: on a
shared machine compare the ratios measured side by side, not absolute times across
runs; live updates also record CPU time, which is what the wall time would be without
waiting for a core. The suite's own process runs with one BLAS/OpenMP thread
(`bench.threads`); the commands it starts get the user's environment. A full run takes about 5-8 minutes on 2 cores, --quick about 2.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench import machine
from bench.data import IAMONDB, PREP
from bench.threads import PINNED

__all__ = ["Settings", "FULL", "QUICK", "run_suite", "targets", "main"]

SIZES = [250, 500, 1000, 2000]
PROFILE_SIZE = 1000
SECTIONS = ("live", "profile", "blas", "runtimes", "memory", "throughput", "training")


@dataclass(frozen=True)
class Settings:
    """How much of each section to run."""

    lines: int = 60  # real lines that sized inks are cut from
    inks_per_size: int = 5
    live_rounds: int = 12
    profile_repeats: int = 20
    blas_repeats: int = 10
    blas_rounds: int = 2
    runtime_rounds: int = 10
    batch_size: int = 16
    batch_lines: int = 300
    batch_rounds: tuple[tuple[str, int], ...] = (("greedy", 3), ("beam_lm", 1))  # decoder, rounds
    train_steps: int = 10
    train_rounds: int = 2
    memory_lines: int = 100


FULL = Settings()
QUICK = Settings(lines=30, inks_per_size=2, live_rounds=4, profile_repeats=5, blas_repeats=4, blas_rounds=1,
                 runtime_rounds=3, batch_lines=100, batch_rounds=(("greedy", 1),), train_steps=3, train_rounds=1,
                 memory_lines=30)


def _sections(args: argparse.Namespace, s: Settings) -> dict[str, Callable[[dict], dict]]:
    """Each section as a function of the results so far (imports are lazy: torch only where needed)."""
    from bench.data import load_lines

    lines = load_lines(args.data, s.lines)

    def live(_: dict) -> dict:
        from bench.live import live_latency, recognizers, scaling
        result = live_latency(recognizers(args.model, args.lm), lines, SIZES, s.inks_per_size, s.live_rounds)
        return {**result, "scaling": scaling(result)}

    def profile(_: dict) -> dict:
        from bench.live import profile_updates, recognizers
        return profile_updates(recognizers(args.model, args.lm), lines, PROFILE_SIZE, s.profile_repeats)

    def blas(_: dict) -> dict:
        from bench.blas import blas_threads
        return blas_threads(args.model, args.lm, args.data, PROFILE_SIZE, s.blas_repeats, s.blas_rounds)

    def runtimes(_: dict) -> dict:
        from bench.runtimes import compare_runtimes
        return compare_runtimes(args.model, lines, SIZES, s.batch_size, s.runtime_rounds)

    def memory(_: dict) -> dict:
        from bench.memory import recognizer_memory
        return {"recognizer": recognizer_memory(args.model, args.lm, args.data, s.memory_lines)}

    def throughput(done: dict) -> dict:
        from bench.throughput import batch_throughput
        result = batch_throughput(args.model, args.lm, args.data, s.batch_lines, [1, 2], dict(s.batch_rounds))
        if "memory" in done:
            done["memory"]["batch"] = {k: {"max_rss_mib": v["max_rss_mib"], "tree_rss_mib": v["tree_rss_mib"]}
                                       for k, v in result["settings"].items()}
        return result

    def training(_: dict) -> dict:
        from bench.training import training_throughput
        return training_throughput(args.prep, s.train_steps, s.train_rounds)

    return {"live": live, "profile": profile, "blas": blas, "runtimes": runtimes, "memory": memory,
            "throughput": throughput, "training": training}


def _get(results: dict, *path: str) -> float | None:
    node = results
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node  # type: ignore[return-value]


def _target(name: str, goal: str, value: float | None, met: Callable[[float], bool], cpu: float | None = None) -> dict:
    """A target against the measured (wall-clock) value; `cpu`, where given, is the CPU-time counterpart."""
    return {"name": name, "target": goal, "value": value, "met": None if value is None else bool(met(value)),
            "cpu_value": cpu, "met_in_cpu_time": None if cpu is None else bool(met(cpu))}


def _slowest_ratio(results: dict) -> float | None:
    """The smallest median torch/onnxruntime ratio at 1 thread over every size and batch."""
    ratios = [entry["threads_1"]["torch_over_ort"]["median"]
              for size in (_get(results, "runtimes", "sizes") or {}).values() for entry in size.values()]
    return min(ratios) if ratios else None


def targets(results: dict) -> list[dict]:
    """The lead's targets, each with the measured value and whether it is met (None: not measured)."""
    live = ("live", "sizes", "1000")
    return [
        _target("live update, 1,000 points, greedy (median ms)", "<= 16",
                _get(results, *live, "greedy", "total_ms", "median"), lambda v: v <= 16,
                _get(results, *live, "greedy", "cpu_ms", "median")),
        _target("live update, 1,000 points, beam + LM (median ms)", "<= 30",
                _get(results, *live, "beam_lm", "total_ms", "median"), lambda v: v <= 30,
                _get(results, *live, "beam_lm", "cpu_ms", "median")),
        _target("onnxruntime vs torch eager, 1 thread, every size and batch (smallest torch/ort ratio)", ">= 1",
                _slowest_ratio(results), lambda v: v >= 1),
        _target("handwriting recognize --jobs 2, greedy (lines/s)", ">= 100",
                _get(results, "throughput", "settings", "greedy/jobs_2", "lines_per_s", "median"), lambda v: v >= 100),
    ]


def run_suite(args: argparse.Namespace) -> dict:
    settings = QUICK if args.quick else FULL
    started = time.perf_counter()
    from handwriting.recognition.modelfile import load_model_file

    model = load_model_file(args.model)
    results: dict = {
        "suite": {"model": args.model, "model_config": model.config, "quantized": model.metadata.get("quantized"),
                  "lm": args.lm, "data": args.data, "prep": args.prep, "quick": args.quick, "settings": settings.__dict__,
                  "threads": {k: os.environ.get(k) for k in PINNED}},
        "machine": machine.describe(),
        "load": {"start": machine.load()},
    }
    sections = _sections(args, settings)
    for name in args.only or SECTIONS:
        print(f"[bench] {name} ...", flush=True)
        before = time.perf_counter()
        results[name] = sections[name](results)
        results["load"][name] = {**machine.load(), "seconds": round(time.perf_counter() - before, 1)}
    results["targets"] = targets(results)
    results["duration_s"] = round(time.perf_counter() - started, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="ONNX model to time (default: the shipped model, or $HANDWRITING_MODEL)")
    parser.add_argument("--lm", help="character LM for beam search (default: the .lm beside the model)")
    parser.add_argument("--data", default=str(IAMONDB), help="IAM-OnDB root (lineStrokes/**.xml)")
    parser.add_argument("--prep", default=str(PREP / "iamondb"), help="prepared shards for training throughput")
    parser.add_argument("--out", default="bench/results.json")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and lines (about 2 minutes)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    args = parser.parse_args(argv)
    from handwriting.recognition.modelfile import default_model_path

    args.model = args.model or str(default_model_path())
    args.lm = args.lm or str(Path(args.model).with_suffix(".lm"))
    results = run_suite(args)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    from bench.report import render
    print(render(results))
    print(f"\nwrote {args.out} ({results['duration_s']} s)")
    return 0
