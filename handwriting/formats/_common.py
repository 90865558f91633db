"""Shared helpers for the format readers and writers: bounded file and text reading, safe XML parsing,
number formatting."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, fromstring

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from handwriting.errors import InkFormatError
from handwriting.limits import FILE_MB, MB, check_regular

__all__ = ["read_limited", "read_text", "parse_xml", "local_name", "to_float", "format_number"]


def read_limited(path: str | Path, limit: int | None = None) -> bytes:
    """The bytes of `path`, or InkFormatError if it is missing, not a regular file, or larger
    than `limit` bytes (default: the HANDWRITING_MAX_FILE_MB limit)."""
    p = Path(path)
    size = check_regular(p).st_size
    cap = FILE_MB.value() * MB if limit is None else limit
    if size > cap:
        raise InkFormatError(p, None, f"file is {size / 1e6:.0f} MB, over the {cap / 1e6:.0f} MB limit")
    try:
        with p.open("rb") as fh:
            data = fh.read(size + 1)  # (a buffer of the file's size, not of the limit)
            if len(data) > size:  # growing while read: cut off at the limit all the same
                data += fh.read(cap + 1 - len(data))
    except OSError as exc:
        raise InkFormatError(p, None, exc.strerror or str(exc)) from None
    if len(data) > cap:
        raise InkFormatError(p, None, f"grew past the {cap / 1e6:.0f} MB limit while read")
    return data


def read_text(path: str | Path, limit: int | None = None) -> str:
    """The UTF-8 text of `path` (a byte-order mark dropped), or InkFormatError."""
    data = read_limited(path, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InkFormatError(path, None, f"not UTF-8 text (byte {exc.start})") from None


def parse_xml(data: bytes, path: str | Path) -> Element:
    """Parse XML with entity expansion and external references forbidden.

    A document in an ASCII-compatible encoding without a DOCTYPE cannot declare entities,
    so it goes to the C parser directly (a third faster); anything else (UTF-16 or UTF-32
    with or without a byte-order mark, any other declared encoding, a DOCTYPE) goes through
    defusedxml, which refuses entity declarations and external references.
    """
    try:
        if _plain_ascii_compatible(data):
            return fromstring(data)
        return SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise InkFormatError(path, line, f"malformed XML ({exc.msg if hasattr(exc, 'msg') else exc})") from None
    except DefusedXmlException as exc:
        raise InkFormatError(path, None, f"unsafe XML refused ({type(exc).__name__})") from None
    except (ValueError, LookupError, RecursionError) as exc:  # LookupError: an unknown encoding
        raise InkFormatError(path, None, f"malformed XML ({exc})") from None


_ASCII_COMPATIBLE = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso8859-1"}
_DECLARATION = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")


def _plain_ascii_compatible(data: bytes) -> bool:
    """True when `data` is XML whose bytes would show a DOCTYPE literally and has none:
    it starts with an ASCII `<` followed by an ASCII byte (no UTF-16/32, no byte-order
    mark other than UTF-8's), declares no encoding outside a few ASCII supersets, and
    holds no `<!DOCTYPE`."""
    head = (data[3:] if data.startswith(b"\xef\xbb\xbf") else data).lstrip(b" \t\r\n")
    if len(head) < 2 or head[0] != ord("<") or not 0 < head[1] < 0x80:
        return False
    declared = _DECLARATION.match(head)
    if declared and declared.group(1).decode("ascii", "replace").strip().lower() not in _ASCII_COMPATIBLE:
        return False
    return b"<!DOCTYPE" not in data


def local_name(tag: str) -> str:
    """Tag without its `{namespace}`."""
    return tag.rsplit("}", 1)[-1]


def to_float(text: str | None, path: str | Path, where: str) -> float:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InkFormatError(path, where, f"not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InkFormatError(path, where, f"not a finite number: {text!r}")
    return value


def format_number(value: float) -> str:
    """The shortest text that reads back as the same float: `3` for 3.0, else `repr`."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text
