"""The whole update of the live view (`Recognizer.recognize` of one line, as the pad's worker
runs it) in this checkout and in others, side by side:

    python -m bench.update [--before TREE] --out bench/update.json

Inks of 250-2,000 raw points are cut from real IAM-OnDB lines (`bench.data.sized_inks`) and
handed to every checkout as the same arrays. Each round runs one fresh process per checkout
(the order rotating from round to round), one BLAS/OpenMP and one onnxruntime thread, the
shipped model and its LM: after a warm-up it times every ink `--repeats` times with the
final beam (32) and the live beam (6), wall and CPU, and keeps the recognizer's own stage
timings (layout, preprocessing, network, decoding). Reported per size and beam: the medians
over all samples, the stages' medians, and the ratio of the checkouts' CPU medians.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench import machine
from bench.data import IAMONDB, load_lines, sized_inks
from bench.processes import ROOT
from bench.threads import PINNED, unpinned
from bench.timing import rotations, summarize
from handwriting.recognition.decode import DEFAULT_BEAM, LIVE_BEAM

__all__ = ["measure_trees", "main"]

SIZES = (250, 500, 1000, 2000)
BEAMS = {"final": DEFAULT_BEAM, "live": LIVE_BEAM}

_CHILD = """
import json, sys, time
import numpy as np
from handwriting import Ink, Recognizer
arrays = np.load(sys.argv[1])
beams, repeats = json.loads(sys.argv[2]), int(sys.argv[3])
recognizer = Recognizer(threads=1)
recognizer.warm_up()
out = {}
for name in sorted({key.rsplit("/", 1)[0] for key in arrays.files}):
    lengths = arrays[name + "/lengths"]
    ink = Ink(tuple(np.split(arrays[name + "/points"], np.cumsum(lengths)[:-1])))
    for beam, width in beams.items():
        recognizer.recognize(ink, beam=width)
        samples = []
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            result = recognizer.recognize(ink, beam=width)
            samples.append([(time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3, result.timings_ms, result.text])
        out[name + "/" + beam] = samples
print(json.dumps(out))
"""


def _save_inks(inks: dict[str, list], path: Path) -> None:
    """Every ink as its points and stroke lengths, named `size/index`."""
    arrays = {}
    for size, group in inks.items():
        for k, ink in enumerate(group):
            arrays[f"{size}/{k}/points"] = ink.points()
            arrays[f"{size}/{k}/lengths"] = np.array([len(s) for s in ink.strokes])
    np.savez(path, **arrays)


def _run_tree(tree: Path, inks: Path, repeats: int) -> dict:
    command = [sys.executable, "-c", _CHILD, str(inks), json.dumps(BEAMS), str(repeats)]
    done = subprocess.run(command, cwd=tree, env=unpinned(**PINNED, PYTHONPATH=str(tree)), capture_output=True,
                          text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{tree}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_trees(trees: dict[str, Path], data: str, inks_per_size: int, rounds: int, repeats: int) -> dict:
    """Per checkout, size and beam: wall and CPU medians, stage medians; the texts read must agree."""
    lines = load_lines(data, 60)
    inks = {size: sized_inks(lines, size, inks_per_size) for size in SIZES}
    samples: dict[str, dict[str, list]] = {name: {} for name in trees}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "inks.npz"
        _save_inks(inks, path)
        for _, name in rotations(list(trees), rounds):
            for key, runs in _run_tree(trees[name], path, repeats).items():
                samples[name].setdefault(key, []).extend(runs)
    out: dict = {}
    for size in SIZES:
        for beam in BEAMS:
            entry: dict = {}
            for name in trees:
                runs = [run for k in range(inks_per_size) for run in samples[name][f"{size}/{k}/{beam}"]]
                stages = {stage: round(float(np.median([run[2][stage] for run in runs])), 2) for stage in runs[0][2]}
                entry[name] = {"wall_ms": summarize([run[0] for run in runs]), "cpu_ms": summarize([run[1] for run in runs]),
                               "stages_ms": stages}
            texts = {name: [run[3] for k in range(inks_per_size) for run in samples[name][f"{size}/{k}/{beam}"]]
                     for name in trees}
            entry["same_text"] = len({json.dumps(t) for t in texts.values()}) == 1
            if len(trees) == 2:
                old, new = trees
                entry["cpu_ratio"] = round(entry[old]["cpu_ms"]["median"] / entry[new]["cpu_ms"]["median"], 2)
            out.setdefault(str(size), {})[beam] = entry
    return out


def render(result: dict) -> str:
    """A markdown table: CPU median per size and beam for each checkout, and the network's share."""
    trees = result["trees"]
    head = "| points | beam | " + " | ".join(f"{name} ms (network)" for name in trees) + " |"
    rows = [head, "|" + "---|" * (2 + len(trees))]
    for size, beams in result["sizes"].items():
        for beam, entry in beams.items():
            cells = [f"{entry[name]['cpu_ms']['median']:.1f} ({entry[name]['stages_ms']['network']:.1f})" for name in trees]
            rows.append(f"| {size} | {beam} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(IAMONDB), help="IAM-OnDB root (lineStrokes/**.xml)")
    parser.add_argument("--before", help="another checkout to measure beside this one")
    parser.add_argument("--inks", type=int, default=5, help="inks per size")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5, help="timed updates of each ink per round")
    parser.add_argument("--out", default=str(ROOT / "bench" / "update.json"))
    args = parser.parse_args(argv)
    trees = {"before": Path(args.before), "now": ROOT} if args.before else {"now": ROOT}
    start = machine.load()
    sizes = measure_trees(trees, args.data, args.inks, args.rounds, args.repeats)
    result = {"machine": machine.describe(), "load": {"start": start, "end": machine.load()},
              "trees": {name: str(path) for name, path in trees.items()},
              "settings": {"inks": args.inks, "rounds": args.rounds, "repeats": args.repeats, "beams": BEAMS},
              "sizes": sizes}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(render(result))


if __name__ == "__main__":
    main()
