"""Batch throughput of `handwriting recognize` over real lines, --jobs 1 and 2, process start included.

Each run is a fresh `python -m handwriting.cli recognize FILES... --jobs N` (wall time
from spawn to exit, as a user would see it), interleaved round by round with the other
settings; with `--before TREE` (a checkout of an earlier commit) every setting runs in
that checkout too, side by side, each checkout with its own shipped model and LM:

    python -m bench.throughput --before /tmp/before --out bench/throughput.json
 A run on a single file gives the fixed cost (interpreter, imports, model
load, worker start); lines/s without it is the steady rate. Memory (largest process
and sampled sum over the process tree) comes from the same runs (`bench.processes`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench import machine
from bench.data import IAMONDB, line_files
from bench.processes import ROOT, ProcessRun, run_process
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


def batch_throughput(model: str, lm: str, data: str, lines: int, jobs: list[int], rounds: dict[str, int],
                     trees: dict[str, Path] | None = None) -> dict:
    """Per decoder (with its number of rounds), jobs and checkout (`trees`, default this one): lines/s over
    `lines` files and over one file (start-up), with CPU time and memory."""
    trees = trees or {"": ROOT}
    files = line_files(data, lines)
    settings = {f"{tree}{decoder}/jobs_{n}/{count}": (tree, decoder, n, count)
                for tree in trees for decoder in rounds for n in jobs for count in (len(files), 1)}
    runs: dict[str, list[ProcessRun]] = {key: [] for key in settings}
    for tree in trees:  # each checkout compiles its decoder once, outside the timed runs
        _checked(run_process(recognize_command(files[:1], model, lm, 1, "beam_lm"), cwd=trees[tree]), 1)
    due = {key: rounds[decoder] for key, (_, decoder, _, _) in settings.items()}
    for _, key in rotations(list(settings), due):
        tree, decoder, n, count = settings[key]
        runs[key].append(_checked(run_process(recognize_command(files[:count], model, lm, n, decoder), cwd=trees[tree]),
                                  count))
    out: dict = {"lines": len(files), "rounds": rounds, "settings": {}}
    for tree in trees:
        for decoder in rounds:
            for n in jobs:
                full, single = runs[f"{tree}{decoder}/jobs_{n}/{len(files)}"], runs[f"{tree}{decoder}/jobs_{n}/1"]
                out["settings"][f"{tree}{decoder}/jobs_{n}"] = _summary(full, single, len(files))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="models/handwriting-en.onnx",
                        help="ONNX model; a relative path is each checkout's own (default: its shipped model)")
    parser.add_argument("--lm", default="models/handwriting-en.lm", help="LM, found like --model")
    parser.add_argument("--data", default=str(IAMONDB), help="IAM-OnDB root (lineStrokes/**.xml)")
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", help="a checkout of an earlier commit to run side by side")
    parser.add_argument("--out", default="bench/throughput.json")
    args = parser.parse_args()
    trees = {"new/": ROOT, **({"old/": Path(args.before)} if args.before else {})}
    result = {"machine": machine.describe(), "load": {"start": machine.load()}, "before": args.before,
              **batch_throughput(args.model, args.lm, args.data, args.lines, [1, 2],
                                 {"greedy": args.rounds, "beam_lm": args.rounds}, trees)}
    result["load"]["end"] = machine.load()
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    for name, entry in result["settings"].items():
        print(f"{name}: {entry['lines_per_s']['median']} lines/s, start-up {entry['startup_s']['median']} s, "
              f"CPU {entry['cpu_s']['median']} s")


if __name__ == "__main__":
    main()
