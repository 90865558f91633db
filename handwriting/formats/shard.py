"""Training shards (`.npz` from `handwriting prepare`) read as ink files, so that `recognize`,
`eval` and `info` work directly on prepared splits (`handwriting eval prep/iamondb/val.npz`)."""

from __future__ import annotations

from pathlib import Path

from handwriting.errors import HandwritingError, InkFormatError
from handwriting.ink import Ink
from handwriting.shards import read_shard

__all__ = ["NAME", "SUFFIXES", "sniff", "read"]

NAME = "shard"
SUFFIXES = (".npz",)


def sniff(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04") and b"points.npy" in head


def read(path: str | Path) -> list[Ink]:
    try:
        return read_shard(path)
    except HandwritingError as exc:
        raise InkFormatError(path, None, str(exc).split(": ", 1)[-1]) from None
