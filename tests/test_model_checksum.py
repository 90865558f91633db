"""The content digest in a model's metadata: written by export, checked on every load."""

import random
import shutil
import warnings
from pathlib import Path

import pytest

from handwriting.checksum import KEY, stored_and_actual
from handwriting.errors import ModelError
from handwriting.recognition.modelfile import default_model_path, load_model_file

SHIPPED = Path(__file__).resolve().parents[1] / "models" / "handwriting-en.onnx"


def test_shipped_model_is_sealed_and_loads():
    stored, actual = stored_and_actual(SHIPPED.read_bytes())
    assert stored == actual
    assert load_model_file(default_model_path()).metadata[KEY] == actual


def _strip(data: bytes) -> bytes:
    """`data` without its digest entry, as models were exported before digests."""
    from handwriting.checksum import _METADATA_FIELD, metadata_entry, protobuf_fields

    return b"".join(data[start:end] for number, start, payload, end in protobuf_fields(data)
                    if not (number == _METADATA_FIELD and metadata_entry(data[payload:end])[0] == KEY))


def test_single_bit_flips_are_refused(tmp_path):
    data = bytearray(SHIPPED.read_bytes())
    rng = random.Random(0)
    refused = 0
    for trial in range(60):
        damaged = bytearray(data)
        position = rng.randrange(len(damaged))
        damaged[position] ^= 1 << rng.randrange(8)
        path = tmp_path / f"flip{trial}.onnx"
        path.write_bytes(bytes(damaged))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                load_model_file(path)
        except (ModelError, UserWarning):
            refused += 1
    assert refused == 60


def test_model_without_digest_loads_with_a_warning_and_can_be_sealed(tmp_path):
    old = tmp_path / "old.onnx"
    old.write_bytes(_strip(SHIPPED.read_bytes()))
    assert stored_and_actual(old.read_bytes())[0] is None
    with pytest.warns(UserWarning, match="python -m handwriting.checksum"):
        load_model_file(old)
    from handwriting.checksum import main

    assert main([str(old)]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_model_file(old).metadata[KEY] == stored_and_actual(old.read_bytes())[1]


def test_export_writes_the_digest(tmp_path):
    pytest.importorskip("torch")
    from handwriting.cli import main

    shutil.copy(SHIPPED.with_name("handwriting-en-avg.pt"), tmp_path / "c.pt")
    assert main(["export", str(tmp_path / "c.pt"), "--out", str(tmp_path / "m.onnx")]) == 0
    stored, actual = stored_and_actual((tmp_path / "m.onnx").read_bytes())
    assert stored == actual
