"""Live reading at page scale: updating the reading while the last line of a page is written.

Pages of 1, 5, 10 and 25 text lines are stacked from held-out IAM-OnDB forms (each form
below the one before, lines in their places). The line being written is the last one:
an update is the page with that line cut after 1/8, 2/8, ... of its points, as the pad
sees it while the pen moves (stroke arrays, made an `Ink` in the timed call, as the
app's worker gets them). Each update is read two ways, interleaved: by a
`PageReader` (lines whose strokes did not change keep their readings; it read the
previous update just before) and by `Recognizer.recognize` (every line read again).
Decoding is the live one: beam 6 with the language model, one onnxruntime thread.

    python -m bench.page_live --out bench/page_live.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.machine import describe
from bench.pages import add_form_options, held_out_forms, saved
from bench.timing import summarize, time_ms
from handwriting.recognition.decode import LIVE_BEAM
from handwriting.formats import read_inks
from handwriting.ink import Y, Ink
from handwriting.recognition.recognizer import PageReader, Recognizer

__all__ = ["stacked_lines", "main"]

SIZES = (1, 5, 10, 25)
STEPS = 8  # updates per page: the last line cut after 1/8 ... 8/8 of its points
FORM_GAP = 1.5  # line spacings between two stacked forms


def stacked_lines(forms: dict[str, list[Path]], first: int, count: int) -> list[Ink]:
    """`count` lines of the forms from the `first` on, each form moved below the one before."""
    names = sorted(forms)
    lines: list[Ink] = []
    bottom = None
    k = first
    while len(lines) < count:
        form = [read_inks(p)[0] for p in forms[names[k % len(names)]]]
        k += 1
        top = min(line.bounds()[1] for line in form)
        mids = [float(np.median(line.points()[:, Y])) for line in form]
        spacing = float(np.median(np.diff(mids))) if len(mids) > 1 else 500.0
        shift = 0.0 if bottom is None else bottom + FORM_GAP * spacing - top
        form = [line.translated(0.0, shift) for line in form]
        bottom = max(line.bounds()[3] for line in form)
        lines += form[: count - len(lines)]
    return lines


def _updates(lines: list[Ink]) -> list[tuple[np.ndarray, ...]]:
    """The page while its last line is written, as the pad sends it (stroke arrays): that line
    cut after 1/STEPS, 2/STEPS, ... of its points."""
    done = tuple(s for line in lines[:-1] for s in line.strokes)
    last = lines[-1]
    return [tuple(s.copy() for s in done + last.prefix(max(1, round(last.num_points * k / STEPS))).strokes)
            for k in range(1, STEPS + 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_form_options(parser)
    parser.add_argument("--model", help="ONNX model (default: the shipped one)")
    parser.add_argument("--pages", type=int, default=3, help="pages per size (each starting at another form)")
    parser.add_argument("--out", type=Path, default=Path("bench/page_live.json"))
    args = parser.parse_args(argv)

    forms, _ = held_out_forms(args.data, args.writers)
    recognizer = Recognizer(args.model, beam=LIVE_BEAM, threads=1)
    results = {}
    for size in SIZES:
        samples: dict[str, list[float]] = {"reader": [], "reader_cpu": [], "all_lines": [], "all_lines_cpu": [], "layout": []}
        lines_found = []
        for page in range(args.pages):
            updates = _updates(stacked_lines(forms, page * 7, size))
            reader = PageReader(recognizer)
            reader.read(Ink(updates[0]))  # the lines written before, read once
            recognizer.recognize(Ink(updates[0]))
            for n, strokes in enumerate(updates[1:]):
                runs = [("reader", lambda s=strokes: reader.read(Ink(s))),
                        ("all_lines", lambda s=strokes: recognizer.recognize(Ink(s)))]
                for name, run in runs if n % 2 else runs[::-1]:
                    wall, cpu = time_ms(run)
                    samples[name].append(wall)
                    samples[f"{name}_cpu"].append(cpu)
                result = reader.read(Ink(strokes))
                samples["layout"].append(result.timings_ms["layout"])
                lines_found.append(len(result.lines))
        results[size] = {name: summarize(values) for name, values in samples.items()}
        results[size]["lines_found"] = sorted(set(lines_found))
        print(f"{size} lines: reader {results[size]['reader']['median']:.1f} ms (CPU {results[size]['reader_cpu']['median']:.1f}), "
              f"all lines {results[size]['all_lines']['median']:.1f} ms, layout {results[size]['layout']['median']:.1f} ms", flush=True)
    summary = {"machine": describe(), "beam": LIVE_BEAM, "lm": recognizer.lm is not None, "steps": STEPS,
               "pages_per_size": args.pages, "sizes": results}
    return saved(summary, args.out, report(summary))


def report(summary: dict) -> str:
    """The README table."""
    rows = ["| lines on the page | PageReader (median ms) | CPU | every line read again | layout |", "|---|---|---|---|---|"]
    for size, r in summary["sizes"].items():
        rows.append(f"| {size} | {r['reader']['median']:.1f} ({r['reader']['p10']:.1f}-{r['reader']['p90']:.1f}) | "
                    f"{r['reader_cpu']['median']:.1f} | {r['all_lines']['median']:.1f} | {r['layout']['median']:.1f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main())
