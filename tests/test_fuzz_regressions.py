"""Files that bench/fuzz.py found crashing a reader: each is now one InkFormatError."""

import numpy as np
import pytest

from handwriting.errors import InkFormatError
from handwriting.formats import read_inks
from handwriting.shards import write_shard
from handwriting.ink import Ink


def test_inkml_index_path_of_thousands_of_digits(tmp_path):
    path = tmp_path / "view.inkml"
    path.write_text('<ink xmlns="http://www.w3.org/2003/InkML"><trace xml:id="t">0 0, 1 1</trace>'
                    f'<traceGroup><traceView traceDataRef="#t" from="{"1" * 5000}"/></traceGroup></ink>')
    with pytest.raises(InkFormatError, match="not an index path"):
        read_inks(path)


def test_shard_with_damaged_deflate_stream(tmp_path):
    path = tmp_path / "train.npz"
    write_shard([Ink.from_strokes([np.c_[np.arange(500.0), np.sin(np.arange(500.0))]], label="x")], path)
    data = bytearray(path.read_bytes())
    start = data.index(b"points.npy") + len("points.npy") + 40  # inside the compressed points
    for k in range(start, start + 64):
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))
    with pytest.raises(InkFormatError) as caught:
        read_inks(path)
    assert "unreadable (" not in str(caught.value)


def test_shard_with_unparsable_array_header(tmp_path):
    import zipfile

    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, "
    header += b" " * (63 - len(header) % 64) + b"\n"
    broken = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(24)
    path = tmp_path / "train.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("points.npy", broken)
    with pytest.raises(InkFormatError) as caught:
        read_inks(path)
    assert "unreadable (" not in str(caught.value)
