"""`handwriting explain`: the Graves rows as a PNG (painted offscreen by the app's code) and JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PyQt6.QtGui import QImage

from handwriting.cli import main
from handwriting.formats import read_inks

LINE = Path(__file__).parent.parent / "datasets" / "samples" / "iamondb" / "lineStrokes" / "a01" / "a01-001" / "a01-001z-02.xml"


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A small untrained network, exported as training exports models."""
    torch = pytest.importorskip("torch")
    from handwriting.alphabet import DEFAULT_CHARSET, Alphabet
    from handwriting.training.export import export
    from handwriting.training.model import BiLSTMCTC, ModelConfig
    from handwriting.recognition.preprocess import FEATURE_NAMES, PreprocessConfig

    torch.manual_seed(1)
    network = BiLSTMCTC(ModelConfig(len(FEATURE_NAMES), Alphabet(DEFAULT_CHARSET).num_classes, hidden=16, layers=2))
    path = tmp_path_factory.mktemp("model") / "small.onnx"
    export(network, DEFAULT_CHARSET, PreprocessConfig().to_dict(), path)
    return path


def test_explain_writes_the_picture_and_the_arrays(model, tmp_path, capsys):
    png, out = tmp_path / "view.png", tmp_path / "view.json"
    assert main(["explain", str(LINE), "--model", str(model), "--out", str(png), "--json", str(out),
                 "--size", "900x400", "--count", "12"]) == 0
    assert "wrote" in capsys.readouterr().out
    image = QImage(str(png))
    assert (image.width(), image.height()) == (900, 400)
    assert len({image.pixel(x, y) for x in range(150, 900, 5) for y in range(0, 400, 5)}) > 30, "rows are painted"
    record = json.loads(out.read_text())
    frames = len(record["features"])
    ink = read_inks(LINE)[0]
    assert record["model"] == model.name and isinstance(record["text"], str)
    assert len(record["cells"]) == 12 and all(len(c["values"]) == frames for c in record["cells"])
    assert len(record["saliency"]) == frames and len(record["saliency"][0]) == len(record["feature_names"])
    assert len(record["point_saliency"]) == ink.num_points
    assert len(record["emissions"]) == len(record["text"])


def test_char_picks_the_explained_character(model, tmp_path, capsys):
    png, out = tmp_path / "view.png", tmp_path / "view.json"
    assert main(["explain", str(LINE), "--model", str(model), "--out", str(png), "--json", str(out)]) == 0
    emissions = json.loads(out.read_text())["emissions"]
    code = main(["explain", str(LINE), "--model", str(model), "--out", str(png), "--json", str(out), "--char", "0"])
    if emissions:
        assert code == 0 and json.loads(out.read_text())["target"]["frame"] == emissions[0]["frame"]
    else:
        assert code == 1
    capsys.readouterr()
    assert main(["explain", str(LINE), "--model", str(model), "--out", str(png), "--char", "100000"]) == 1
    assert "--char 100000" in capsys.readouterr().err


def test_bad_inputs_are_one_line_errors(model, tmp_path, capsys):
    png = tmp_path / "view.png"
    assert main(["explain", str(LINE), "--model", str(model), "--out", str(png), "--index", "3"]) == 1
    assert "holds 1 inks" in capsys.readouterr().err
    assert main(["explain", str(LINE), "--model", str(tmp_path / "none.onnx"), "--out", str(png)]) == 1
    assert "model file not found" in capsys.readouterr().err
    assert not png.exists()


def test_the_library_and_cli_do_not_import_qt():
    # the app's command registers itself (app.command), but its window and Qt load only when it runs
    code = ("import sys, handwriting.cli as c; c.build_parser(); "
            "sys.exit(any(m.startswith('PyQt6') or m.startswith('app.') and m != 'app.command' for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def _without_qt(args: list[str]) -> subprocess.CompletedProcess:
    """`handwriting ARGS` in a process where PyQt6 cannot be imported."""
    code = ("import sys; sys.modules['PyQt6'] = None\n"
            "from handwriting.cli import main\n"
            "status = main(sys.argv[1:])\n"
            "print('loaded:', ' '.join(m for m in sys.modules if m == 'app' or m.startswith('app.')))\n"
            "sys.exit(status)")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


def test_explain_json_needs_neither_qt_nor_the_app(model, tmp_path):
    out = tmp_path / "view.json"
    done = _without_qt(["explain", str(LINE), "--model", str(model), "--json", str(out)])
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split("loaded:")[1].split()) <= {"app", "app.command"}  # only the app's registration
    record = json.loads(out.read_text())
    assert len(record["saliency"]) == len(record["log_probs"]) > 0


def test_explain_picture_without_qt_is_one_clear_line(model, tmp_path):
    done = _without_qt(["explain", str(LINE), "--model", str(model), "--out", str(tmp_path / "v.png")])
    assert done.returncode == 1 and not (tmp_path / "v.png").exists()
    assert done.stderr.count("\n") == 1 and "painter" in done.stderr and "Traceback" not in done.stderr


def test_explain_with_nothing_to_write_says_so(model):
    assert main(["explain", str(LINE), "--model", str(model)]) == 1
