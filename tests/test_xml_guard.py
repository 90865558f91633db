"""Entity declarations are refused whatever the document's encoding: the fast path without
defusedxml is taken only for ASCII-compatible bytes that would show a DOCTYPE literally."""

import pytest

from handwriting.errors import InkFormatError
from handwriting.formats import read_inks
from handwriting.formats._common import parse_xml

BOMB = ('<?xml version="1.0" encoding="{enc}"?>\n<!DOCTYPE ink [<!ENTITY a "{big}">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        '<ink xmlns="http://www.w3.org/2003/InkML"><annotation type="truth">&b;&b;&b;&b;&b;&b;&b;&b;&b;</annotation>'
        '<trace>0 0, 1 1, 2 2</trace></ink>')
PLAIN = ('<?xml version="1.0" encoding="{enc}"?>\n<ink xmlns="http://www.w3.org/2003/InkML">'
         '<annotation type="truth">ok</annotation><trace>0 0, 1 1, 2 2</trace></ink>')

ENCODINGS = [  # (declared name, Python codec, byte-order mark)
    ("UTF-16", "utf-16-le", b""), ("UTF-16", "utf-16-be", b""), ("UTF-16", "utf-16-le", b"\xff\xfe"),
    ("UTF-16", "utf-16-be", b"\xfe\xff"), ("UTF-32", "utf-32-le", b""), ("UTF-32", "utf-32-be", b""),
    ("UTF-32", "utf-32-le", b"\xff\xfe\x00\x00"), ("UTF-8", "utf-8", b"\xef\xbb\xbf"), ("UTF-8", "utf-8", b""),
]


@pytest.mark.parametrize("declared,codec,bom", ENCODINGS)
def test_entities_refused_in_every_encoding(tmp_path, declared, codec, bom):
    data = bom + BOMB.format(enc=declared, big="x" * 1000).encode(codec)
    assert b"<!DOCTYPE" not in data or codec == "utf-8"  # the bytes hide the DOCTYPE in UTF-16/32
    with pytest.raises(InkFormatError, match="unsafe XML refused|malformed XML|encoding"):
        parse_xml(data, "bomb.inkml")
    path = tmp_path / "bomb.inkml"
    path.write_bytes(data)
    with pytest.raises(InkFormatError):
        read_inks(path)


@pytest.mark.parametrize("declared,codec,bom", [e for e in ENCODINGS if "32" not in e[0]])
def test_documents_without_entities_read_in_every_encoding(tmp_path, declared, codec, bom):
    path = tmp_path / "plain.inkml"
    path.write_bytes(bom + PLAIN.format(enc=declared).encode(codec))
    (ink,) = read_inks(path)
    assert ink.label == "ok" and ink.num_points == 3


def test_declared_non_ascii_encoding_goes_through_the_guard():
    data = BOMB.format(enc="UTF-7", big="x").encode("ascii").replace(b"<!DOCTYPE", b"+ADw-!DOCTYPE")
    with pytest.raises(InkFormatError):
        parse_xml(data, "utf7.inkml")
