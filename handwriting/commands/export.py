"""`handwriting export CKPT [CKPT...] --out model.onnx`: a checkpoint (or the mean of several
checkpoints' weights) as one self-describing ONNX file; `handwriting export model.onnx --out
small.onnx --quantize`: an exported model written again (its int8 version, its card replaced)."""

from __future__ import annotations

import argparse
from pathlib import Path

from handwriting.errors import HandwritingError
from handwriting.options import output_file
from handwriting.recognition.ensemble import copy_second_network
from handwriting.recognition.preprocess import PreprocessConfig

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a training checkpoint to ONNX (checked against torch)")
    p.add_argument("checkpoint", nargs="+", help="a .pt checkpoint written by `handwriting train`; several (e.g. "
                                                 "the run's epoch-N.pt) are averaged, the last one's settings kept; "
                                                 "or one exported .onnx model, written again")
    p.add_argument("--out", required=True, type=output_file, help="the .onnx file to write")
    p.add_argument("--card", help="a text/markdown file to embed as the model card")
    p.add_argument("--quantize", action="store_true", help="store the weights of the LSTMs after the first and of "
                                                            "the output layer as int8: a third of the size and 1.5-1.7x "
                                                            "faster on a CPU, readings a little less exact")
    p.set_defaults(run=_run)


def _card(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise HandwritingError(f"{path}: the model card is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise HandwritingError(f"{path}: cannot read the model card ({exc.strerror or exc})") from None


def _run(args: argparse.Namespace) -> int:
    try:
        from handwriting.training.export import export
        from handwriting.training.train import model_from_checkpoint
    except ImportError as exc:
        raise HandwritingError(f"export needs torch: pip install 'handwriting[train]' ({exc})") from None
    name = args.checkpoint[-1]
    checkpoint, training, card = _source(args.checkpoint)
    card = _card(args.card) if args.card else card
    try:
        PreprocessConfig.from_dict(checkpoint["preprocess"])
    except (TypeError, ValueError) as exc:
        raise HandwritingError(f"{name}: damaged preprocessing settings ({exc})") from None
    model = model_from_checkpoint(checkpoint, name)
    try:
        error = export(model, checkpoint["alphabet"], checkpoint["preprocess"], args.out, training, card, args.quantize,
                       checkpoint.get("kept_metadata"))
    except (TypeError, ValueError, KeyError) as exc:  # settings of the wrong kind in a damaged checkpoint
        raise HandwritingError(f"{name}: cannot be exported ({exc})") from None
    print(f"wrote {args.out} (torch/onnxruntime max |diff| {error:.1e}{', weights int8' if args.quantize else ''})")
    second = copy_second_network(name, checkpoint.get("kept_metadata") or {}, args.out)
    if second:
        print(f"wrote {second} (the second network it reads with)")
    return 0


def _source(paths: list[str]) -> tuple[dict, dict, str]:
    """What to export: the checkpoint (one, or the mean of several; an exported model rebuilt as
    one), the training summary for the metadata, and the model card it already has."""
    from handwriting.training.train import averaged_checkpoint, checkpoint_of_model, load_checkpoint

    name = paths[-1]
    if len(paths) == 1 and Path(name).suffix.lower() == ".onnx":
        from handwriting.recognition.modelfile import load_model_file

        model = load_model_file(name)
        summary = {**model.training, "written_again_from": Path(name).name}
        return checkpoint_of_model(model), summary, model.metadata.get("model_card", "")
    checkpoint = load_checkpoint(name) if len(paths) == 1 else averaged_checkpoint(paths)
    state = checkpoint["state"] if isinstance(checkpoint.get("state"), dict) else {}
    history = state["history"] if isinstance(state.get("history"), list) else []
    training = {"epochs": state.get("epoch"), "last": history[-1] if history else None, "options": checkpoint.get("options"),
                **({"averaged": checkpoint["averaged"]} if "averaged" in checkpoint else {}),
                **({"started_from": state["started_from"]} if isinstance(state.get("started_from"), dict) else {})}
    return checkpoint, training, ""
