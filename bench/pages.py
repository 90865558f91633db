"""Page benchmark: whole IAM-OnDB forms of held-out writers read as pages, lines found by layout.

A form's line files share the whiteboard's coordinates and clock, so all its lines
together are the page as written. The writers are split as `handwriting prepare` splits
them (`writers.tsv`, validation fraction 0.1, seed 0): only the held-out writers' forms
are read. Each page is read under three conditions:

- `writing`: the lines in the order they were written;
- `shuffled`: whole lines written in another order (a fixed random permutation per
  page; each line keeps its place, its strokes and its own timing, the clock runs on in
  the new order);
- `no_time`: the page saved as a Xournal++ file and read back (PDF points, no time stamps).

Per condition: page CER and WER (references: the lines' transcriptions joined by line
breaks; a line break counts as a space) and the pages whose line count is right.

    python -m bench.pages --out bench/pages.json
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from bench.data import IAMONDB
from bench.machine import describe
from handwriting.recognition.decode import DEFAULT_BEAM
from handwriting.formats import read_inks, xournal
from handwriting.ink import T, Ink
from handwriting.metrics import ErrorCounts
from handwriting.training.prepare import _split_by_writer, training_label
from handwriting.recognition.recognizer import Recognizer

__all__ = ["add_form_options", "held_out_forms", "page_conditions", "saved", "main"]

CONDITIONS = ("writing", "shuffled", "no_time")
LINE_PAUSE_MS = 1000.0  # the clock between two lines written one after the other, when shuffled


def add_form_options(parser: argparse.ArgumentParser) -> None:
    """The options that say where the IAM-OnDB forms and their writers are (`held_out_forms`)."""
    parser.add_argument("--data", type=Path, default=IAMONDB, help="IAM-OnDB folder (lineStrokes/, ascii/)")
    parser.add_argument("--writers", type=Path, default=IAMONDB / "writers.tsv", help="form -> writer table")


def held_out_forms(data: Path, writers_tsv: Path, val_fraction: float = 0.1, seed: int = 0
                   ) -> tuple[dict[str, list[Path]], set[str]]:
    """Line files of every form of the held-out writers, by form, lines in order; and the writers."""
    with open(writers_tsv, newline="") as fh:
        writer_of = {row["form"]: row["writer"] for row in csv.DictReader(fh, delimiter="\t")}
    forms: dict[str, list[Path]] = {}
    for path in sorted((data / "lineStrokes").rglob("*.xml")):
        forms.setdefault(path.stem.rsplit("-", 1)[0], []).append(path)
    tagged = [SimpleNamespace(writer=f"iamondb:{writer_of[form]}", form=form) for form in forms if form in writer_of]
    _, held_out = _split_by_writer(tagged, val_fraction, seed)
    return {item.form: forms[item.form] for item in held_out}, {item.writer for item in held_out}


def _joined(lines: list[Ink]) -> Ink:
    return Ink(tuple(s for line in lines for s in line.strokes))


def _shuffled(lines: list[Ink], rng: random.Random) -> Ink:
    """The lines written in another order: each line's strokes and timing kept, the clock running on."""
    order = list(range(len(lines)))
    while len(lines) > 1 and order == sorted(order):
        rng.shuffle(order)
    strokes, clock = [], 0.0
    for k in order:
        start = lines[k].strokes[0][0, T]
        for s in lines[k].strokes:
            s = s.copy()
            s[:, T] += clock - start
            strokes.append(s)
        clock = strokes[-1][-1, T] + LINE_PAUSE_MS
    return Ink(tuple(strokes))


def _untimed(page: Ink, folder: Path) -> Ink:
    """The page saved as a Xournal++ file and read back: PDF points, no time stamps."""
    path = folder / "page.xopp"
    xournal.write([page], path)
    return xournal.read(path)[0]


def page_conditions(lines: list[Ink], rng: random.Random, folder: Path) -> dict[str, Ink]:
    page = _joined(lines)
    return {"writing": page, "shuffled": _shuffled(lines, rng), "no_time": _untimed(page, folder)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_form_options(parser)
    parser.add_argument("--model", help="ONNX model (default: the shipped one)")
    parser.add_argument("--lm", default="auto", help="language model (default: the one beside the model)")
    parser.add_argument("--beam", type=int, default=DEFAULT_BEAM)
    parser.add_argument("--limit", type=int, default=0, help="read only the first N pages")
    parser.add_argument("--seed", type=int, default=0, help="seed of the line orders of the shuffled pages")
    parser.add_argument("--out", type=Path, default=Path("bench/pages.json"))
    args = parser.parse_args(argv)

    forms, writers = held_out_forms(args.data, args.writers)
    names = sorted(forms)[: args.limit or None]
    recognizer = Recognizer(args.model, beam=args.beam, lm=args.lm)
    rng = random.Random(args.seed)
    counts = {c: ErrorCounts() for c in CONDITIONS}
    right = {c: 0 for c in CONDITIONS}
    seconds = {c: 0.0 for c in CONDITIONS}
    per_page = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, form in enumerate(names):
            lines = [read_inks(path)[0] for path in forms[form]]
            reference = "\n".join(training_label(line.label or "") for line in lines)
            row = {"form": form, "lines": len(lines)}
            for condition, ink in page_conditions(lines, rng, Path(tmp)).items():
                t0 = time.perf_counter()
                result = recognizer.recognize(ink)
                seconds[condition] += time.perf_counter() - t0
                ce, we = counts[condition].add(reference, result.text)
                right[condition] += len(result.lines) == len(lines)
                row[condition] = {"char_errors": ce, "word_errors": we, "lines_found": len(result.lines)}
            per_page.append(row)
            print(f"{n + 1}/{len(names)} {form}: " + ", ".join(f"{c} {counts[c].cer:.2%} ({right[c]} right)" for c in CONDITIONS),
                  flush=True)
    summary = {
        "machine": describe(), "model": recognizer.name, "beam": args.beam, "lm": recognizer.lm is not None,
        "pages": len(names), "lines": sum(r["lines"] for r in per_page),
        "writers": len(writers),
        "conditions": {c: {"cer": counts[c].cer, "wer": counts[c].wer, "right_line_count": right[c],
                           "chars": counts[c].chars, "seconds": round(seconds[c], 1)} for c in CONDITIONS},
        "per_page": per_page,
    }
    return saved(summary, args.out, report(summary))


def saved(summary: dict, out: Path, table: str) -> int:
    """Write `summary` as JSON to `out`, print the README `table`; the exit code."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1))
    print(table)
    return 0


def report(summary: dict) -> str:
    """The README table."""
    rows = ["| condition | page CER | page WER | right line count |", "|---|---|---|---|"]
    names = {"writing": "lines in writing order", "shuffled": "lines written in another order", "no_time": "no time stamps (Xournal++ file)"}
    for c, r in summary["conditions"].items():
        rows.append(f"| {names[c]} | {r['cer']:.2%} | {r['wer']:.1%} | {r['right_line_count']} / {summary['pages']} |")
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main())
