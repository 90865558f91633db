"""A few held-out items of the model card's sets as InkML files, to read with `handwriting recognize`.

`python -m bench.held_out_examples --out examples` writes `lines/` (IAM-OnDB validation lines),
`words/`, `characters/` and `numbers/` (UNIPEN validation words and text lines of digits and
`+-.,:/()%$#` only), drawn with a fixed seed, and prints each file's label, writer and (for
characters) the writer's estimated writing-guide height, the `--guide-height` to read it with.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

from bench.model_card import held_out_sets
from handwriting.formats.inkml import write
from handwriting.ink import Ink

__all__ = ["examples"]

NUMBER = re.compile(r"[0-9 +\-.,:/()%$#]*[0-9][0-9 +\-.,:/()%$#]+")


def examples(sets: dict[str, list[Ink]], count: int, seed: int) -> dict[str, list[Ink]]:
    """`count` items of each kind, drawn with `seed` from the model card's `sets`."""
    numbers = [ink for ink in sets["UNIPEN words"] + sets["UNIPEN text lines"] if NUMBER.fullmatch(ink.label or "")]
    kinds = {"lines": sets["IAM-OnDB lines"], "words": sets["UNIPEN words"],
             "characters": sets["UNIPEN single characters"], "numbers": numbers}
    return {kind: random.Random(seed).sample(items, count) for kind, items in kinds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prep", type=Path, default=Path("data/prep"), help="shards from `handwriting prepare`")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    sets, guides = held_out_sets(args.prep)
    for kind, inks in examples(sets, args.count, args.seed).items():
        (args.out / kind).mkdir(parents=True, exist_ok=True)
        for i, ink in enumerate(inks, 1):
            path = args.out / kind / f"{i}.inkml"
            write([ink], path)
            guide = guides.get(ink.writer or "") if kind == "characters" else None
            print(f"{path}  {ink.label!r}  {ink.writer}" + (f"  guide {guide.line_height:g}" if guide else ""))


if __name__ == "__main__":
    main()
