"""Refusing ONNX models whose tensors live in other files ("external data").

A tensor stored as external data names a file (`location`, any relative path, `../` included)
that onnxruntime reads when it opens the model: a model from elsewhere could make it read
files beside it or outside its folder. Models written by `handwriting.training.export` keep every
weight inside, so any tensor marked external is refused before onnxruntime sees the file.

The protobuf is walked by hand (no `onnx` import, which costs seconds): every place a
TensorProto can sit — graph initializers, sparse initializers, tensors in node attributes
(Constant values), subgraphs (If, Loop, Scan), functions and training graphs.
"""

from __future__ import annotations

from handwriting.checksum import metadata_entry, varint
from handwriting.checksum import protobuf_fields as fields  # the protobuf walk of the digest

__all__ = ["external_tensors"]

_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL
# message -> {field number: message type of that field}, for the fields that can lead to a tensor
_SCHEMA: dict[str, dict[int, str]] = {
    "model": {7: "graph", 20: "training", 25: "function"},
    "training": {1: "graph", 2: "graph"},
    "function": {7: "node"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
}
_TENSOR_NAME, _TENSOR_EXTERNAL_DATA, _TENSOR_LOCATION = 8, 13, 14
_MAX_DEPTH = 64


def external_tensors(data: bytes) -> list[str]:
    """'name (location)' of every tensor of the serialised ModelProto `data` stored as external
    data; ValueError if `data` is not a well-formed protobuf or nests past 64 levels."""
    found: list[str] = []
    _walk(memoryview(data), "model", found, 0)
    return found


def _walk(data: memoryview, kind: str, found: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError("graphs nested too deep")
    if kind == "tensor":
        _tensor(data, found)
        return
    children = _SCHEMA[kind]
    for number, start, payload, end in fields(data):
        if number in children and data[start] & 7 == 2:
            _walk(data[payload:end], children[number], found, depth + 1)


def _tensor(data: memoryview, found: list[str]) -> None:
    name, location, external = "", "", False
    for number, start, payload, end in fields(data):
        wire = data[start] & 7
        if number == _TENSOR_NAME and wire == 2:
            name = bytes(data[payload:end]).decode("utf-8", "replace")
        elif number == _TENSOR_LOCATION and wire == 0:
            external = external or varint(data, payload)[0] == _EXTERNAL
        elif number == _TENSOR_EXTERNAL_DATA and wire == 2:
            external = True
            key, value = metadata_entry(bytes(data[payload:end]))
            location = value if key == "location" and value else location
    if external:
        found.append(f"{name or '(unnamed)'} ({location or 'no location'})")

