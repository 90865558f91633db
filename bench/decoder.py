"""Beam search + LM, the former decoder (tests/reference_decoder.py) against the current one, side by side.

    .venv/bin/python -m bench.decoder [--model M.onnx] [--lm L.lm] --data /work/data/iamondb \\
        --out bench/decoder.json [--quick]

Sections, each measured old and new in interleaved rounds in this one process (one
BLAS/OpenMP thread, one onnxruntime thread):
- updates: `Recognizer.recognize` of real inks of 250-2,000 points (as a live update does:
  preprocessing, network, decoding, characters and words mapped back) with the final
  beam (32) and the live beam (6), the LM cache warm, and the decoding alone;
- cold: the decoding of whole real lines with a freshly loaded LM (as a batch worker
  starts), beam 16 as `handwriting recognize` runs in the throughput section;
- huge: decoding alone (network run once) of one long line of 2,500-10,000 strokes, to
  show the cost per frame staying flat (the former decoder is timed once per size).
Every decoding is checked to give the same text old and new.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench.threads import pin

pin()  # before numpy

import numpy as np  # noqa: E402

from bench import machine  # noqa: E402
from bench.data import load_lines, long_ink, sized_inks  # noqa: E402
from bench.timing import interleaved, summarize, time_ms  # noqa: E402
from handwriting.decode import DEFAULT_BEAM, LIVE_BEAM, Hypothesis, beam_search  # noqa: E402
from handwriting.ink import Ink  # noqa: E402
from handwriting.lm import LanguageModel, load_language_model  # noqa: E402
from handwriting.preprocess import featurize  # noqa: E402
from handwriting.recognizer import Recognizer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import reference_decoder  # noqa: E402

__all__ = ["Settings", "run", "render", "main"]

SIZES = [250, 500, 1000, 2000]
BEAMS = {"final": DEFAULT_BEAM, "live": LIVE_BEAM}
DECODERS = {"old": reference_decoder.beam_search, "new": beam_search}
COLD_BEAM = 16


@dataclass(frozen=True)
class Settings:
    lines: int = 60
    inks_per_size: int = 5
    rounds: int = 10
    cold_lines: int = 40
    huge_strokes: tuple[int, ...] = (2500, 5000, 10000)
    huge_rounds: int = 3


QUICK = Settings(lines=30, inks_per_size=2, rounds=3, cold_lines=15, huge_strokes=(1000, 2000), huge_rounds=1)


class _FormerRecognizer(Recognizer):
    """A recognizer decoding with the former beam search."""

    def decode(self, log_probs: np.ndarray, beam: int | None = None, context: str = "",
               n_best: int | None = None) -> list[Hypothesis]:
        return reference_decoder.beam_search(log_probs, self.alphabet, beam or DEFAULT_BEAM, self.lm, self.lm_weight,
                                             self.insertion_bonus, n_best or self.num_alternatives, context=context)


def _log_probs(recognizer: Recognizer, ink: Ink) -> np.ndarray:
    return recognizer.run([featurize(ink, recognizer.model.preprocess)])[0][0]


def _texts_agree(recognizer: Recognizer, lps: list[np.ndarray], beam: int) -> bool:
    lm = recognizer.lm
    return all(beam_search(lp, recognizer.alphabet, beam, lm)[0].ids
               == reference_decoder.beam_search(lp, recognizer.alphabet, beam, lm)[0].ids for lp in lps)


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
        old_ms, old_cpu = time_ms(lambda: reference_decoder.beam_search(lp, lm.alphabet, DEFAULT_BEAM, lm))
        new_cpu = float(np.median([c for _, c in new]))
        out["inks"][str(strokes)] = {"points": ink.num_points, "frames": len(lp), "old_ms": round(old_ms, 1),
                                     "old_cpu_ms": round(old_cpu, 1), "new_ms": summarize([w for w, _ in new], 1),
                                     "new_cpu_ms": round(new_cpu, 1),
                                     "old_cpu_ms_per_1000_frames": round(old_cpu / len(lp) * 1e3, 2),
                                     "new_cpu_ms_per_1000_frames": round(new_cpu / len(lp) * 1e3, 2)}
    return out


def run(args: argparse.Namespace) -> dict:
    s = QUICK if args.quick else Settings()
    started = time.perf_counter()
    lm = load_language_model(args.lm)
    lines = load_lines(args.data, s.lines)
    results: dict = {"suite": {"model": args.model, "lm": args.lm, "data": args.data, "settings": s.__dict__},
                     "machine": machine.describe(), "load": {"start": machine.load()}}
    for name, section in (("updates", lambda: updates(args.model, lm, lines, s)),
                          ("cold", lambda: cold(args.model, args.lm, lines, s.cold_lines)),
                          ("huge", lambda: huge(args.model, lm, lines, s))):
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
                     for p in ("update", "decode") for n in DECODERS]
            width = f"{beam} ({BEAMS[beam]})"
            out.append(f"| {size} | {entry['frames']} | {width} | " + " | ".join(cells) + f" | x{e['decode_speedup']} |")
    c = results["cold"]
    out += ["", f"Cold LM (loaded afresh), {c['lines']} whole lines ({c['frames']} frames), beam {c['beam']}:", "",
            "| decoder | LM load ms | decode ms per line | CPU ms per line |", "|---|---|---|---|"]
    out += [f"| {n} | {c[n]['lm_load_ms']:.0f} | {c[n]['decode_ms_per_line']:.1f} | {c[n]['decode_cpu_ms_per_line']:.1f} |"
            for n in DECODERS]
    h = results["huge"]
    out += ["", f"One long line, decoding alone (beam {h['beam']}), CPU ms and CPU ms per 1,000 frames:", "",
            "| strokes | points | frames | old | old per 1k frames | new | new per 1k frames |", "|---|---|---|---|---|---|---|"]
    out += [f"| {k} | {e['points']} | {e['frames']} | {e['old_cpu_ms']:.0f} | {e['old_cpu_ms_per_1000_frames']:.1f} | "
            f"{e['new_cpu_ms']:.0f} | {e['new_cpu_ms_per_1000_frames']:.1f} |" for k, e in h["inks"].items()]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.decoder", description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="ONNX model (default: the shipped model)")
    parser.add_argument("--lm", help="character LM (default: the .lm beside the model)")
    parser.add_argument("--data", default="/work/data/iamondb", help="IAM-OnDB root (lineStrokes/**.xml)")
    parser.add_argument("--out", default="bench/decoder.json")
    parser.add_argument("--quick", action="store_true", help="fewer inks and rounds, smaller huge inks")
    parser.add_argument("--render", metavar="JSON", help="only print the tables of an earlier run")
    args = parser.parse_args(argv)
    if args.render:
        print(render(json.loads(Path(args.render).read_text())))
        return 0
    from handwriting.modelfile import default_model_path

    args.model = args.model or str(default_model_path())
    args.lm = args.lm or str(Path(args.model).with_suffix(".lm"))
    results = run(args)
    print(render(results))
    print(f"\nwrote {args.out} ({results['duration_s']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
