"""Loading a model file: an onnxruntime session plus the metadata recognition needs; writing
one again with other metadata (`write_metadata`).

A file that is missing, not ONNX, lacks the metadata written by `handwriting.training.export`, or
keeps tensors in other files (external data) raises one `ModelError` naming the file and
what is wrong, the last before onnxruntime opens it. The `onnx` package (slow to
import) is loaded only when something asks for the graph itself (`ModelFile.proto`).
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TypeVar

import numpy as np
import onnxruntime as ort

from handwriting.alphabet import Alphabet
from handwriting.atomic import atomic_write_bytes
from handwriting.checksum import KEY, seal, stored_and_actual
from handwriting.recognition.character_prior import METADATA_KEY as CHARACTER_PRIOR, CharacterPriors
from handwriting.errors import ModelError
from handwriting.recognition.ensemble import METADATA_KEY as ENSEMBLE, Ensemble
from handwriting.recognition.onnx_external import external_tensors
from handwriting.recognition.preprocess import PreprocessConfig, feature_names
from handwriting.recognition.temperature import METADATA_KEY as TEMPERATURE, Temperature

if TYPE_CHECKING:
    import onnx

__all__ = ["ModelFile", "load_model_file", "default_model_path", "float_weights", "write_metadata", "FORMAT_VERSION"]

FORMAT_VERSION = 1
REQUIRED_KEYS = ("format_version", "alphabet", "preprocess", "model_config")
DEFAULT_MODEL_NAME = "handwriting-en.onnx"
_WARNED: set[Path] = set()
T = TypeVar("T")


def default_model_path() -> Path:
    """`$HANDWRITING_MODEL`, else the model shipped in `models/`."""
    env = os.environ.get("HANDWRITING_MODEL")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "models" / DEFAULT_MODEL_NAME


@dataclass(frozen=True)
class ModelFile:
    path: Path
    session: ort.InferenceSession
    alphabet: Alphabet
    preprocess: PreprocessConfig
    config: dict
    metadata: dict[str, str]
    data: bytes = field(repr=False)  # the file as loaded, so that `proto` always matches `session`
    character_prior: CharacterPriors | None = None  # learned by `handwriting calibrate`
    temperature: Temperature | None = None  # fitted by `handwriting calibrate`; None reads the network as it is
    ensemble: Ensemble | None = None  # the second network that reads with this one (`handwriting ensemble`)

    @cached_property
    def proto(self) -> onnx.ModelProto:
        """The ONNX graph with its weights (for the explain engine and for training from a model)."""
        import onnx

        return onnx.load_from_string(self.data)

    @property
    def layers(self) -> int:
        return int(self.config["layers"])

    @property
    def hidden(self) -> int:
        return int(self.config["hidden"])

    @property
    def quantized(self) -> bool:
        """Whether the network computes with int8 weights and activations (`export --quantize`)."""
        return "quantized" in self.metadata

    @property
    def training(self) -> dict:
        """The training summary in the metadata; empty when there is none or it is damaged."""
        try:
            training = json.loads(self.metadata.get("training") or "{}")
        except json.JSONDecodeError:
            return {}
        return training if isinstance(training, dict) else {}


def _check_digest(path: Path, data: bytes) -> None:
    """ModelError unless the content digest in the metadata matches; a model exported before
    digests loads with a warning (`python -m handwriting.checksum MODEL` adds one)."""
    try:
        stored, actual = stored_and_actual(data)
    except ValueError as exc:
        raise ModelError(path, f"not a readable ONNX model ({exc})") from None
    if stored is None:
        if path not in _WARNED:
            _WARNED.add(path)
            warnings.warn(f"{path}: no {KEY} in the model's metadata, so damage to it cannot be detected "
                          f"(add one with: python -m handwriting.checksum {path})", stacklevel=3)
    elif stored != actual:
        raise ModelError(path, f"damaged: its content does not match the {KEY} in its metadata")


def _check_self_contained(path: Path, data: bytes) -> None:
    """ModelError if a tensor of the model is stored as external data (onnxruntime would read
    the file it names, wherever that is)."""
    try:
        external = external_tensors(data)
    except ValueError as exc:
        raise ModelError(path, f"not a readable ONNX model ({exc})") from None
    if external:
        shown = ", ".join(external[:3]) + (f" and {len(external) - 3} more" if len(external) > 3 else "")
        raise ModelError(path, f"refused: tensors stored in other files (external data: {shown}); "
                               "a model must hold its own weights")


def load_model_file(path: str | Path, threads: int | None = None) -> ModelFile:
    path = Path(path)
    if not path.is_file():
        raise ModelError(path, "model file not found")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(path, f"cannot read ({exc.strerror or exc})") from None
    _check_digest(path, data)
    _check_self_contained(path, data)
    try:
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for damaged files and invalid graphs
        raise ModelError(path, f"not a readable ONNX model ({str(exc).splitlines()[0][:200]})") from None
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    missing = [k for k in REQUIRED_KEYS if k not in metadata]
    if missing:
        raise ModelError(path, f"not a handwriting model: metadata lacks {', '.join(missing)}")
    if metadata["format_version"] != str(FORMAT_VERSION):
        raise ModelError(path, f"model format {metadata['format_version']} is not supported (expected {FORMAT_VERSION})")
    try:
        alphabet = Alphabet(metadata["alphabet"])
        preprocess = PreprocessConfig.from_dict(json.loads(metadata["preprocess"]))
        config = json.loads(metadata["model_config"])
    except (ValueError, TypeError) as exc:
        raise ModelError(path, f"damaged metadata ({exc})") from None
    if int(config.get("num_classes", -1)) != alphabet.num_classes:
        raise ModelError(path, "alphabet size does not match the network's output")
    if int(config.get("num_features", -1)) != len(feature_names(preprocess)):
        raise ModelError(path, f"the network reads {config.get('num_features')} features per frame, "
                               f"its {preprocess.frames} frames have {len(feature_names(preprocess))}")
    prior = _entry(path, metadata, CHARACTER_PRIOR, lambda text: CharacterPriors.from_json(text, alphabet.num_classes))
    temperature = _entry(path, metadata, TEMPERATURE, Temperature.from_json)
    ensemble = _entry(path, metadata, ENSEMBLE, Ensemble.from_json)
    return ModelFile(path, session, alphabet, preprocess, config, metadata, data, prior, temperature, ensemble)


def _entry(path: Path, metadata: dict[str, str], key: str, read: Callable[[str], T]) -> T | None:
    """The metadata entry `key` as `read` makes it, None where there is none; ModelError where it is damaged."""
    if key not in metadata:
        return None
    try:
        return read(metadata[key])
    except ValueError as exc:
        raise ModelError(path, f"damaged {key} in the metadata: {exc}") from None


def float_weights(proto: onnx.ModelProto) -> dict[str, np.ndarray]:
    """The graph's initializers by their float names, int8 weights of a quantized model (written by
    `handwriting export --quantize`: `W_<n>`, `R_<n>`, `output_weight` stored as `<name>_quantized`
    with a scale and zero point, the LSTM's transposed to [direction, input, 4 x hidden]) given
    back as the float values the quantized network computes with."""
    from onnx import numpy_helper

    tensors = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    out = {name: value for name, value in tensors.items() if not name.endswith(("_quantized", "_scale", "_zero_point"))}
    for name in tensors:
        if name.endswith("_quantized"):
            base = name.removesuffix("_quantized")
            scale, zero = tensors[base + "_scale"], tensors[base + "_zero_point"]
            q = tensors[name].astype(np.float32) - zero.astype(np.float32).reshape(zero.shape + (1,) * (tensors[name].ndim - zero.ndim))
            value = q * scale.reshape(scale.shape + (1,) * (q.ndim - scale.ndim))
            out[base] = np.swapaxes(value, 1, 2) if value.ndim == 3 else value  # LSTM: back to [direction, 4H, input]
    return out


def write_metadata(model_bytes: bytes, entries: dict[str, str], out: str | Path, drop: tuple[str, ...] = ()) -> None:
    """The model written atomically to `out` with `entries` set in its metadata and the entries
    `drop` names left out (and its digest renewed)."""
    import onnx
    from onnx import helper

    proto = onnx.load_from_string(model_bytes)
    props = {p.key: p.value for p in proto.metadata_props if p.key not in (KEY, *drop)} | entries
    helper.set_model_props(proto, props)
    atomic_write_bytes(out, seal(proto.SerializeToString()))
