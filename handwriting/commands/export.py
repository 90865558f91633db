"""`handwriting export CKPT --out model.onnx`: a checkpoint as one self-describing ONNX file."""

from __future__ import annotations

import argparse

from handwriting.errors import HandwritingError

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a training checkpoint to ONNX (checked against torch)")
    p.add_argument("checkpoint", help="a .pt checkpoint written by `handwriting train`")
    p.add_argument("--out", required=True, help="the .onnx file to write")
    p.add_argument("--card", help="a text/markdown file to embed as the model card")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        from handwriting.export import export
        from handwriting.train import load_checkpoint, model_from_checkpoint
    except ImportError as exc:
        raise HandwritingError(f"export needs torch: pip install 'handwriting[train]' ({exc})") from None
    checkpoint = load_checkpoint(args.checkpoint)
    card = open(args.card, encoding="utf-8").read() if args.card else ""
    history = checkpoint.get("state", {}).get("history", [])
    training = {"epochs": checkpoint.get("state", {}).get("epoch"), "last": history[-1] if history else None,
                "options": checkpoint.get("options")}
    error = export(model_from_checkpoint(checkpoint), checkpoint["alphabet"], checkpoint["preprocess"], args.out,
                   training, card)
    print(f"wrote {args.out} (torch/onnxruntime max |diff| {error:.1e})")
    return 0
