"""Beam search + LM, a former decoder against the current one, side by side.

    .venv/bin/python -m bench.decoder [--model M.onnx] [--lm L.lm] [--data data/iamondb] \\
        [--before TREE] --out bench/decoder.json [--quick]

The former decoder is `TREE/handwriting/recognition/decode.py` with `--before TREE` (a checkout of an
earlier commit: `git worktree add /tmp/before HEAD~1`; it runs with this checkout's kernels
and LM, so their interface must not have changed), else the pure-Python one kept as
`tests/reference_decoder.py`. Sections, each measured old and new in interleaved rounds
in this one process (one BLAS/OpenMP thread, one onnxruntime thread):
- updates: `Recognizer.recognize` of real inks of 250-2,000 points (as a live update does:
  preprocessing, network, decoding, characters and words mapped back) with the final
  beam (32) and the live beam (6), the LM cache warm, and the decoding alone;
- cold: the decoding of whole real lines with a freshly loaded LM (as a batch worker
  starts), beam 16 as `handwriting recognize` runs in the throughput section;
- huge: decoding alone (network run once) of one long line of 2,500-10,000 strokes, to
  show the cost per frame staying flat (the former decoder is timed once per size);
- startup: fresh processes timing the import of the decoder and its first and second
  beam search of a real line: the compiled kernel with an empty cache (compiling),
  then with the cache it wrote, and the former decoder.
Every decoding is checked to give the same text old and new.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench.threads import pin

pin()  # before numpy

import numpy as np  # noqa: E402

from bench import machine  # noqa: E402
from bench.data import IAMONDB, load_lines, long_ink, sized_inks  # noqa: E402
from bench.timing import interleaved, summarize, time_ms  # noqa: E402
from handwriting.recognition.decode import DEFAULT_BEAM, LIVE_BEAM, Hypothesis, beam_search  # noqa: E402
from handwriting.ink import Ink  # noqa: E402
from handwriting.recognition.lm import LanguageModel, load_language_model  # noqa: E402
from handwriting.recognition.preprocess import featurize  # noqa: E402
from handwriting.recognition import recognizer as recognizer_module  # noqa: E402
from handwriting.recognition.recognizer import Recognizer  # noqa: E402

TESTS = Path(__file__).resolve().parents[1] / "tests"

__all__ = ["Settings", "run", "render", "main"]

SIZES = [250, 500, 1000, 2000]
BEAMS = {"final": DEFAULT_BEAM, "live": LIVE_BEAM}
NAMES = ("old", "new")
DECODERS: dict[str, Callable[..., list[Hypothesis]]] = {}  # by NAMES, set by `main`
COLD_BEAM = 16
STARTUP_ROUNDS = 3


@dataclass(frozen=True)
class Settings:
    lines: int = 60
    inks_per_size: int = 5
    rounds: int = 10
    cold_lines: int = 40
    huge_strokes: tuple[int, ...] = (2500, 5000, 10000)
    huge_rounds: int = 3
    startup_rounds: int = 3


QUICK = Settings(lines=30, inks_per_size=2, rounds=3, cold_lines=15, huge_strokes=(1000, 2000), huge_rounds=1,
                 startup_rounds=1)


def former_decoder(tree: str | None) -> Callable[..., list[Hypothesis]]:
    """`beam_search` of `tree`/handwriting/recognition/decode.py (its own module, the rest of the package this one's),
    or of tests/reference_decoder.py without a tree."""
    path = Path(tree) / "handwriting" / "recognition" / "decode.py" if tree else TESTS / "reference_decoder.py"
    if not path.is_file():
        raise SystemExit(f"{path}: no such file")
    sys.path.insert(0, str(TESTS))
    spec = importlib.util.spec_from_file_location("former_decode", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.beam_search


class _FormerRecognizer(Recognizer):
    """A recognizer decoding with the former beam search: the recognizer module's `beam_search`,
    swapped for the duration of `decode` (everything else the current code path)."""

    def decode(self, *args, **kwargs) -> list[Hypothesis]:  # type: ignore[no-untyped-def]
        recognizer_module.beam_search = DECODERS["old"]
        try:
            return super().decode(*args, **kwargs)
        finally:
            recognizer_module.beam_search = beam_search


def _log_probs(recognizer: Recognizer, ink: Ink) -> np.ndarray:
    return recognizer.run([featurize(ink, recognizer.model.preprocess)])[0][0]


def _texts_agree(recognizer: Recognizer, lps: list[np.ndarray], beam: int) -> bool:
    lm = recognizer.lm
    return all(beam_search(lp, recognizer.alphabet, beam, lm)[0].ids
               == DECODERS["old"](lp, recognizer.alphabet, beam, lm)[0].ids for lp in lps)


def updates(model: str, lm: LanguageModel, lines: list[Ink], s: Settings) -> dict:
    """Per size and beam: whole-update and decoding-only times, old and new."""
    recognizers = {"old": _FormerRecognizer(model, lm=lm, threads=1), "new": Recognizer(model, lm=lm, threads=1)}
    tasks: dict[str, Callable[[], object]] = {}
    sizes: dict = {}
    for size in SIZES:
        inks = sized_inks(lines, size, s.inks_per_size)
        lps = [_log_probs(recognizers["new"], ink) for ink in inks]
        sizes[str(size)] = {"frames": int(np.median([len(lp) for lp in lps])),
                            "same_text": {b: _texts_agree(recognizers["new"], lps, width) for b, width in BEAMS.items()}}
        for beam, width in BEAMS.items():
            for name, recognizer in recognizers.items():
                for j, (ink, lp) in enumerate(zip(inks, lps)):
                    tasks[f"{size}/{beam}/{name}/update/{j}"] = (lambda r=recognizer, i=ink, w=width: r.recognize(i, beam=w))
                    tasks[f"{size}/{beam}/{name}/decode/{j}"] = (lambda f=DECODERS[name], lp=lp, w=width:
                                                                 f(lp, lm.alphabet, w, lm))
    timings = interleaved(tasks, s.rounds, warmup=1)
    for size in SIZES:
        for beam in BEAMS:
            entry = {}
            for name in DECODERS:
                for part in ("update", "decode"):
                    keys = [f"{size}/{beam}/{name}/{part}/{j}" for j in range(s.inks_per_size)]
                    entry[f"{name}_{part}_ms"] = summarize([t for k in keys for t in timings.wall[k]])
                    entry[f"{name}_{part}_cpu_ms"] = summarize([t for k in keys for t in timings.cpu[k]])
            entry["decode_speedup"] = round(entry["old_decode_cpu_ms"]["median"] / entry["new_decode_cpu_ms"]["median"], 2)
            sizes[str(size)][beam] = entry
    return {"inks_per_size": s.inks_per_size, "rounds": s.rounds, "sizes": sizes}


def cold(model: str, lm_path: str, lines: list[Ink], count: int) -> dict:
    """Decoding `count` whole lines once with a freshly loaded LM, old then new (each its own LM)."""
    recognizer = Recognizer(model, lm=None, threads=1)
    lps = [_log_probs(recognizer, ink) for ink in lines[:count]]
    out: dict = {"lines": len(lps), "beam": COLD_BEAM, "frames": int(sum(len(lp) for lp in lps))}
    for name, decode in DECODERS.items():
        start = time.perf_counter()
        lm = load_language_model(lm_path)
        load_ms = (time.perf_counter() - start) * 1e3
        wall, cpu = zip(*[time_ms(lambda lp=lp: decode(lp, lm.alphabet, COLD_BEAM, lm)) for lp in lps])
        out[name] = {"lm_load_ms": round(load_ms, 1), "decode_ms_per_line": round(float(np.mean(wall)), 2),
                     "decode_cpu_ms_per_line": round(float(np.mean(cpu)), 2)}
    return out


def huge(model: str, lm: LanguageModel, lines: list[Ink], s: Settings) -> dict:
    """Decoding alone of one long line per stroke count: ms and ms per 1,000 frames, old (once) and new."""
    recognizer = Recognizer(model, lm=lm, threads=1)
    out: dict = {"beam": DEFAULT_BEAM, "inks": {}}
    for strokes in s.huge_strokes:
        ink = long_ink(lines, strokes)
        lp = _log_probs(recognizer, ink)
        new = [time_ms(lambda: beam_search(lp, lm.alphabet, DEFAULT_BEAM, lm)) for _ in range(s.huge_rounds + 1)][1:]
        old_ms, old_cpu = time_ms(lambda: DECODERS["old"](lp, lm.alphabet, DEFAULT_BEAM, lm))
        new_cpu = float(np.median([c for _, c in new]))
        out["inks"][str(strokes)] = {"points": ink.num_points, "frames": len(lp), "old_ms": round(old_ms, 1),
                                     "old_cpu_ms": round(old_cpu, 1), "new_ms": summarize([w for w, _ in new], 1),
                                     "new_cpu_ms": round(new_cpu, 1),
                                     "old_cpu_ms_per_1000_frames": round(old_cpu / len(lp) * 1e3, 2),
                                     "new_cpu_ms_per_1000_frames": round(new_cpu / len(lp) * 1e3, 2)}
    return out


_STARTUP = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
marks = [(time.perf_counter(), time.process_time())]
import numpy as np
from handwriting.recognition.decode import beam_search
from handwriting.recognition.lm import load_language_model
marks.append((time.perf_counter(), time.process_time()))
lm, lp = load_language_model(sys.argv[3]), np.load(sys.argv[2])
for _ in range(2):
    marks.append((time.perf_counter(), time.process_time()))
    text = lm.alphabet.decode(beam_search(lp, lm.alphabet, int(sys.argv[4]), lm)[0].ids)
    marks.append((time.perf_counter(), time.process_time()))
spans = [(marks[1], marks[0]), (marks[3], marks[2]), (marks[5], marks[4])]
print(json.dumps({"text": text, **{name: [round((a[0] - b[0]) * 1e3, 1), round((a[1] - b[1]) * 1e3, 1)]
                                   for name, (a, b) in zip(("import", "first", "second"), spans)}}))
"""


def startup(model: str, lm_path: str, lines: list[Ink], before: str | None, rounds: int) -> dict:
    """Fresh processes: import, first and second beam search (beam 32) of a 1,000-point line, wall and CPU ms:
    the current decoder compiling into an empty cache, then loading that cache, and the former decoder."""
    recognizer = Recognizer(model, lm=None, threads=1)
    trees = {"new": str(Path(__file__).resolve().parents[1])}
    if before:
        trees["old"] = before
    out: dict = {"beam": DEFAULT_BEAM, "rounds": rounds}
    with tempfile.TemporaryDirectory() as folder:
        lp_path = str(Path(folder) / "line.npy")
        np.save(lp_path, _log_probs(recognizer, sized_inks(lines, 1000, 1)[0]))
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(folder) / "cache")}

        def once(tree: str) -> dict:
            done = subprocess.run([sys.executable, "-c", _STARTUP, tree, lp_path, lm_path, str(DEFAULT_BEAM)],
                                  capture_output=True, text=True, env=env, check=True)
            return json.loads(done.stdout)

        runs = {"new_cold": [once(trees["new"])]}
        for r in range(rounds):
            for name, tree in trees.items():
                runs.setdefault(f"{name}_warm" if name == "new" else name, []).append(once(tree))
    for name, samples in runs.items():
        out[name] = {part: {"ms": float(np.median([s[part][0] for s in samples])),
                            "cpu_ms": float(np.median([s[part][1] for s in samples]))}
                     for part in ("import", "first", "second")}
    out["same_text"] = len({s["text"] for samples in runs.values() for s in samples}) == 1
    return out


def run(args: argparse.Namespace) -> dict:
    s = QUICK if args.quick else Settings()
    started = time.perf_counter()
    lm = load_language_model(args.lm)
    lines = load_lines(args.data, s.lines)
    results: dict = {"suite": {"model": args.model, "lm": args.lm, "data": args.data, "settings": s.__dict__,
                               "old": args.before or "tests/reference_decoder.py"},
                     "machine": machine.describe(), "load": {"start": machine.load()}}
    for name, section in (("updates", lambda: updates(args.model, lm, lines, s)),
                          ("cold", lambda: cold(args.model, args.lm, lines, s.cold_lines)),
                          ("huge", lambda: huge(args.model, lm, lines, s)),
                          ("startup", lambda: startup(args.model, args.lm, lines, args.before, s.startup_rounds))):
        print(f"[bench.decoder] {name} ...", flush=True)
        results[name] = section()
        results["load"][name] = machine.load()
        results["duration_s"] = round(time.perf_counter() - started, 1)
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n")  # each section as soon as it is done
    return results


def render(results: dict) -> str:
    """Markdown tables: updates and decoding by size and beam, cold decoding, huge inks."""
    loads = [v["loadavg"][0] for v in results["load"].values()]
    out = [f"{results['machine']['cpu']}, {results['machine']['cores']} cores; load average (1 min) "
           f"{min(loads):.2f}-{max(loads):.2f}; {results['machine']['date']}. Median ms, median CPU ms in brackets.",
           "", "| points | frames | beam | update old | update new | decode old | decode new | decode speed-up (CPU) |",
           "|---|---|---|---|---|---|---|---|"]
    for size, entry in results["updates"]["sizes"].items():
        for beam in BEAMS:
            e = entry[beam]
            cells = [f"{e[f'{n}_{p}_ms']['median']:.1f} [{e[f'{n}_{p}_cpu_ms']['median']:.1f}]"
                     for p in ("update", "decode") for n in NAMES]
            width = f"{beam} ({BEAMS[beam]})"
            out.append(f"| {size} | {entry['frames']} | {width} | " + " | ".join(cells) + f" | x{e['decode_speedup']} |")
    c = results["cold"]
    out += ["", f"Cold LM (loaded afresh), {c['lines']} whole lines ({c['frames']} frames), beam {c['beam']}:", "",
            "| decoder | LM load ms | decode ms per line | CPU ms per line |", "|---|---|---|---|"]
    out += [f"| {n} | {c[n]['lm_load_ms']:.0f} | {c[n]['decode_ms_per_line']:.1f} | {c[n]['decode_cpu_ms_per_line']:.1f} |"
            for n in NAMES]
    h = results["huge"]
    out += ["", f"One long line, decoding alone (beam {h['beam']}), CPU ms and CPU ms per 1,000 frames:", "",
            "| strokes | points | frames | old | old per 1k frames | new | new per 1k frames |", "|---|---|---|---|---|---|---|"]
    out += [f"| {k} | {e['points']} | {e['frames']} | {e['old_cpu_ms']:.0f} | {e['old_cpu_ms_per_1000_frames']:.1f} | "
            f"{e['new_cpu_ms']:.0f} | {e['new_cpu_ms_per_1000_frames']:.1f} |" for k, e in h["inks"].items()]
    if "startup" in results:
        st = results["startup"]
        out += ["", f"Fresh processes (median of {st['rounds']}; new cold: once, into an empty cache), beam {st['beam']}, "
                "a 1,000-point line: ms [CPU ms]:", "",
                "| decoder | import | first search | second search |", "|---|---|---|---|"]
        out += [f"| {name.replace('_', ' ')} | " + " | ".join(f"{e[p]['ms']:.0f} [{e[p]['cpu_ms']:.0f}]" if p != "second"
                                                              else f"{e[p]['ms']:.1f} [{e[p]['cpu_ms']:.1f}]"
                                                              for p in ("import", "first", "second")) + " |"
                for name, e in st.items() if isinstance(e, dict)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.decoder", description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="ONNX model (default: the shipped model)")
    parser.add_argument("--lm", help="character LM (default: the .lm beside the model)")
    parser.add_argument("--data", default=str(IAMONDB), help="IAM-OnDB root (lineStrokes/**.xml)")
    parser.add_argument("--out", default="bench/decoder.json")
    parser.add_argument("--quick", action="store_true", help="fewer inks and rounds, smaller huge inks")
    parser.add_argument("--before", metavar="TREE", help="source tree of the former decoder (default: tests/reference_decoder.py)")
    parser.add_argument("--render", metavar="JSON", help="only print the tables of an earlier run")
    args = parser.parse_args(argv)
    if args.render:
        print(render(json.loads(Path(args.render).read_text())))
        return 0
    from handwriting.recognition.modelfile import default_model_path

    args.model = args.model or str(default_model_path())
    args.lm = args.lm or str(Path(args.model).with_suffix(".lm"))
    DECODERS.update(old=former_decoder(args.before), new=beam_search)
    results = run(args)
    print(render(results))
    print(f"\nwrote {args.out} ({results['duration_s']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
