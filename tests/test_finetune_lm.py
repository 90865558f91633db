"""An adapted model gets the starting model's language model beside it, and decodes with it."""

import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")

from handwriting.training.finetune import copy_language_model  # noqa: E402
from handwriting.recognition.recognizer import Recognizer  # noqa: E402

MODELS = Path(__file__).resolve().parents[1] / "models"


def test_language_model_copied_beside_the_adapted_model(tmp_path):
    base = tmp_path / "base" / "handwriting-en.onnx"
    base.parent.mkdir()
    shutil.copy(MODELS / "handwriting-en.onnx", base)
    shutil.copy(MODELS / "handwriting-en.lm", base.with_suffix(".lm"))
    out = tmp_path / "me.onnx"
    shutil.copy(base, out)  # stands for the adapted model written by finetune
    assert Recognizer(out).lm is None
    assert copy_language_model(base, out) == tmp_path / "me.lm"
    assert (tmp_path / "me.lm").read_bytes() == base.with_suffix(".lm").read_bytes()
    assert Recognizer(out).lm is not None


def test_no_language_model_to_copy(tmp_path):
    base = tmp_path / "bare.onnx"
    shutil.copy(MODELS / "handwriting-en.onnx", base)
    assert copy_language_model(base, tmp_path / "me.onnx") is None
    assert not (tmp_path / "me.lm").exists()
    assert copy_language_model(MODELS / "handwriting-en.onnx", MODELS / "handwriting-en.onnx") is None
