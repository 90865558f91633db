"""A SHA-256 of a model file in its own ONNX metadata, so that a damaged model is refused.

The digest covers every byte of the serialised ModelProto except the metadata entry that
holds it (`content_sha256`): the graph with its weights, the opset and every other
metadata entry. `seal` appends the entry (protobuf fields may come in any order, and
`onnx` serialises them in field order, so loading and saving keeps the digest valid);
`stored_and_actual` reads it back. No `onnx` import: the top level of the protobuf is
walked by hand, which takes about a millisecond per megabyte.

    python -m handwriting.checksum MODEL.onnx...    # seal models exported before checksums
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

__all__ = ["KEY", "seal", "stored_and_actual", "varint", "protobuf_fields", "metadata_entry"]

KEY = "content_sha256"
_METADATA_FIELD = 14  # ModelProto.metadata_props (StringStringEntryProto: key = 1, value = 2)


def varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated or malformed protobuf")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        shift += 7
        if byte < 0x80:
            return value, pos


def protobuf_fields(data: bytes | memoryview):
    """(field number, start of the field's tag, start of its payload, end) of each top-level field."""
    pos = 0
    while pos < len(data):
        start = pos
        tag, pos = varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            _, end = varint(data, pos)
        elif wire == 1:
            end = pos + 8
        elif wire == 2:
            size, pos = varint(data, pos)
            end = pos + size
        elif wire == 5:
            end = pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if end > len(data) or number == 0:
            raise ValueError("truncated or malformed protobuf")
        yield number, start, pos, end
        pos = end


def metadata_entry(payload: bytes) -> tuple[str | None, str | None]:
    key = value = None
    for number, _, start, end in protobuf_fields(payload):
        text = payload[start:end].decode("utf-8", "replace")
        key, value = (text, value) if number == 1 else (key, text) if number == 2 else (key, value)
    return key, value


def stored_and_actual(data: bytes) -> tuple[str | None, str]:
    """The digest stored in the model (None if it has none) and the digest of its content.
    ValueError if `data` is not a well-formed protobuf."""
    digest = hashlib.sha256()
    stored = None
    for number, start, payload, end in protobuf_fields(data):
        if number == _METADATA_FIELD and data[start] & 7 == 2:
            key, value = metadata_entry(data[payload:end])
            if key == KEY:
                stored = value
                continue
        digest.update(data[start:end])
    return stored, digest.hexdigest()


def _bytes_field(number: int, payload: bytes) -> bytes:
    size, prefix = len(payload), bytearray([number << 3 | 2])
    while True:
        prefix.append((size & 0x7F) | (0x80 if size > 0x7F else 0))
        size >>= 7
        if not size:
            return bytes(prefix) + payload


def seal(data: bytes) -> bytes:
    """`data` (a serialised ONNX model) with its digest stored in its metadata (replaced if present)."""
    kept = b"".join(data[start:end] for number, start, payload, end in protobuf_fields(data)
                    if not (number == _METADATA_FIELD and metadata_entry(data[payload:end])[0] == KEY))
    _, actual = stored_and_actual(kept)
    entry = _bytes_field(1, KEY.encode()) + _bytes_field(2, actual.encode())
    return kept + _bytes_field(_METADATA_FIELD, entry)


def main(paths: list[str]) -> int:
    """Seal each model file in place (atomically); the weights are not touched."""
    from handwriting.atomic import atomic_write_bytes

    for path in paths:
        data = Path(path).read_bytes()
        sealed = seal(data)
        atomic_write_bytes(path, sealed)
        print(f"{path}: {KEY} {stored_and_actual(sealed)[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
