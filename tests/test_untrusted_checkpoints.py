"""No loader runs code from a file: checkpoints, shards and models whose pickle would run a
command are refused with one clear line, and the command never runs."""

import os
import pickle
import zipfile

import numpy as np
import pytest

from handwriting.cli import main
from handwriting.errors import HandwritingError, InkFormatError

torch = pytest.importorskip("torch")

from handwriting.training.train import load_base, load_checkpoint, model_from_checkpoint  # noqa: E402


class _RunsCommand:
    """Unpickling this runs a shell command that creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _evil_files(tmp_path):
    marker = tmp_path / "MARKER"
    payload = {"model": _RunsCommand(marker), "model_config": {}, "alphabet": "ab", "preprocess": {}}
    files = {"zip": tmp_path / "zip.pt", "legacy": tmp_path / "legacy.pt", "raw": tmp_path / "raw.pt"}
    torch.save(payload, files["zip"])
    torch.save(payload, files["legacy"], _use_new_zipfile_serialization=False)
    files["raw"].write_bytes(pickle.dumps(payload, protocol=2))
    return marker, files


@pytest.fixture
def evil(tmp_path):
    return _evil_files(tmp_path)


@pytest.mark.parametrize("kind", ["zip", "legacy", "raw"])
@pytest.mark.parametrize("loader", [load_checkpoint, load_base, lambda p: load_checkpoint(p, resume=True)])
def test_loaders_refuse_code_in_checkpoints(evil, kind, loader):
    marker, files = evil
    with pytest.raises(HandwritingError, match="refused|not a readable checkpoint") as caught:
        loader(files[kind])
    assert str(files[kind]) in str(caught.value) and "\n" not in str(caught.value)
    assert not marker.exists()


def _one_line_refusal(capsys, argv, marker, path):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(path) in err and "Traceback" not in err
    assert not marker.exists()
    return err


@pytest.mark.parametrize("kind", ["zip", "legacy", "raw"])
def test_commands_refuse_code_in_checkpoints(evil, kind, tmp_path, capsys):
    marker, files = evil
    path = files[kind]
    (tmp_path / "data").mkdir()
    commands = [
        ["export", str(path), "--out", str(tmp_path / "out.onnx")],
        ["train", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--init", str(path)],
        ["train", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--resume", str(path)],
        ["finetune", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "me.onnx"), "--base", str(path)],
    ]
    for argv in commands:
        _one_line_refusal(capsys, argv, marker, path)
    assert not (tmp_path / "out.onnx").exists() and not (tmp_path / "me.onnx").exists()


def test_model_loader_refuses_a_pickle(evil, capsys):
    marker, files = evil
    onnx_named = files["zip"].with_suffix(".onnx")
    onnx_named.write_bytes(files["raw"].read_bytes())
    with pytest.raises(HandwritingError):
        load_base(onnx_named)
    ink = files["zip"].parent / "ink.json"
    ink.write_text('{"strokes": [[[0, 0], [1, 1]]]}')
    assert main(["recognize", str(ink), "--model", str(onnx_named)]) == 1
    assert "not a readable ONNX model" in capsys.readouterr().err
    assert not marker.exists()


def test_shard_with_pickled_object_array_is_refused(tmp_path, capsys):
    marker = tmp_path / "MARKER"
    shard = tmp_path / "evil.npz"
    objects = np.array([_RunsCommand(marker)], dtype=object)
    np.savez(shard, points=np.zeros((2, 3), np.float32), stroke_ends=np.array([2]), sample_ends=np.array([1]),
             meta=objects)
    assert zipfile.is_zipfile(shard)
    from handwriting.formats import read_inks

    with pytest.raises(InkFormatError):
        read_inks(shard)
    assert main(["info", str(shard)]) == 1
    assert "Traceback" not in capsys.readouterr().err
    assert not marker.exists()


def test_checkpoint_missing_keys_or_wrong_sizes(tmp_path, capsys):
    path = tmp_path / "partial.pt"
    torch.save({"model": {}, "alphabet": "ab"}, path)
    err = _one_line_refusal(capsys, ["export", str(path), "--out", str(tmp_path / "x.onnx")], tmp_path / "none", path)
    assert "model_config" in err and "preprocess" in err
    huge = {"model": {"w": torch.zeros(3)}, "model_config": {"num_features": 8, "num_classes": 80, "hidden": 10**7},
            "alphabet": "ab", "preprocess": {}}
    with pytest.raises(HandwritingError, match="needs more weights"):
        model_from_checkpoint(huge)  # refused before a network of 10^7 cells is allocated
    too_big = tmp_path / "too-big.pt"
    torch.save(huge, too_big)
    err = _one_line_refusal(capsys, ["export", str(too_big), "--out", str(tmp_path / "x.onnx")], tmp_path / "none", too_big)
    assert "do not fit its network" in err
    png = tmp_path / "picture.pt"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    _one_line_refusal(capsys, ["export", str(png), "--out", str(tmp_path / "x.onnx")], tmp_path / "none", png)
