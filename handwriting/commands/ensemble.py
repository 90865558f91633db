"""`handwriting ensemble FIRST.onnx SECOND.onnx --out OUT.onnx [--weight W]`: one model that
reads with two networks (`handwriting.recognition.ensemble`): FIRST written again as OUT
naming SECOND, which is copied beside OUT. Readings, their characters' frames, the cell
states and saliency are FIRST's; each network keeps its own temperatures and character
prior (calibrate each before pairing them); the LM is the one beside OUT."""

from __future__ import annotations

import argparse
from pathlib import Path

from handwriting.atomic import atomic_write_bytes
from handwriting.errors import HandwritingError
from handwriting.options import fraction, output_file
from handwriting.recognition.ensemble import DEFAULT_WEIGHT, METADATA_KEY, Ensemble
from handwriting.recognition.modelfile import load_model_file, write_metadata

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ensemble", help="pair two models into one that reads with both networks",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("first", help="the model whose network places the characters and gives cell states and saliency")
    p.add_argument("second", help="the model that reads with it (the same alphabet; copied beside OUT)")
    p.add_argument("--out", required=True, type=output_file, help="the paired model to write (may be FIRST itself)")
    p.add_argument("--weight", type=fraction, default=DEFAULT_WEIGHT,
                   help=f"the first network's share of each reading's score, between 0 and 1 (default {DEFAULT_WEIGHT})")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    first, second = load_model_file(args.first), load_model_file(args.second)
    if second.alphabet.chars != first.alphabet.chars:
        raise HandwritingError(f"{args.second}: reads another alphabet than {args.first}")
    if second.ensemble is not None:
        raise HandwritingError(f"{args.second}: reads with a second network itself; pair single networks")
    out = Path(args.out)
    beside = out.parent / second.path.name
    if beside.resolve() == out.resolve():
        raise HandwritingError(f"{args.out}: would overwrite the second network; write the pair under another name")
    if beside.resolve() != second.path.resolve():
        atomic_write_bytes(beside, second.data)
        print(f"wrote {beside}")
    write_metadata(first.data, {METADATA_KEY: Ensemble(second.path.name, args.weight).to_json()}, out)
    print(f"wrote {out} (reads with {beside.name}, weight {args.weight:g} : {1 - args.weight:g})")
    return 0
