"""A model whose tensors are stored as external data (files it names, `../` included) is
refused on one line before onnxruntime opens it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.external_data_helper import set_external_data  # noqa: E402

from handwriting.recognition import modelfile  # noqa: E402
from handwriting.checksum import seal  # noqa: E402
from handwriting.cli import main  # noqa: E402
from handwriting.errors import ModelError  # noqa: E402
from handwriting.recognition.onnx_external import external_tensors  # noqa: E402

SHIPPED = Path(__file__).resolve().parents[1] / "models" / "handwriting-en.onnx"
LINE = Path(__file__).parent.parent / "datasets" / "samples" / "notes" / "page.xopp"


def _moved_out(location: str) -> tuple[bytes, str]:
    """The shipped model, sealed, with its first initializer moved to external data at `location`."""
    model = onnx.load(SHIPPED)
    tensor = model.graph.initializer[0]
    set_external_data(tensor, location=location, offset=0, length=len(tensor.raw_data))
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    return seal(model.SerializeToString()), tensor.name


@pytest.fixture
def no_session(monkeypatch) -> list:
    """Records any attempt to open a session (there must be none)."""
    opened: list = []
    monkeypatch.setattr(modelfile.ort, "InferenceSession", lambda *a, **k: opened.append(a) or pytest.fail("opened"))
    return opened


@pytest.mark.parametrize("location", ["../../etc/passwd", "weights.bin", "/etc/passwd"])
def test_initializer_in_another_file_is_refused_before_onnxruntime(tmp_path, no_session, location):
    data, name = _moved_out(location)
    path = tmp_path / "crafted.onnx"
    path.write_bytes(data)
    with pytest.raises(ModelError) as err:
        modelfile.load_model_file(path)
    message = str(err.value)
    assert message.startswith(f"{path}: refused: tensors stored in other files")
    assert f"{name} ({location})" in message and "\n" not in message
    assert no_session == []


def test_recognize_with_such_a_model_is_one_line(tmp_path, capsys):
    data, _ = _moved_out("../../etc/passwd")
    path = tmp_path / "crafted.onnx"
    path.write_bytes(data)
    assert main(["recognize", str(LINE), "--model", str(path), "--no-lm"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "external data" in err and "Traceback" not in err


def _graph_with(tensor_holder: onnx.NodeProto, initializers=()) -> onnx.GraphProto:
    return helper.make_graph([tensor_holder], "g", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
                             list(initializers))


def _external(name: str, location: str) -> onnx.TensorProto:
    tensor = numpy_helper.from_array(np.ones(1, "float32"), name)
    set_external_data(tensor, location=location)
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    return tensor


def test_every_place_a_tensor_can_sit_is_searched():
    constant = helper.make_node("Constant", [], ["y"], value=_external("c", "const.bin"))
    assert external_tensors(helper.make_model(_graph_with(constant)).SerializeToString()) == ["c (const.bin)"]
    # a Constant inside the then-branch of an If node
    inner = _graph_with(helper.make_node("Constant", [], ["y"], value=_external("deep", "../deep.bin")))
    plain = _graph_with(helper.make_node("Constant", [], ["y"], value=numpy_helper.from_array(
        np.ones(1, "float32"))))
    branch = helper.make_node("If", ["cond"], ["y"], then_branch=inner, else_branch=plain)
    model = helper.make_model(_graph_with(branch))
    assert external_tensors(model.SerializeToString()) == ["deep (../deep.bin)"]
    # a sparse initializer's values, and a function's node
    sparse = helper.make_sparse_tensor(_external("values", "v.bin"), numpy_helper.from_array(
        np.zeros(1, "int64"), "indices"), [4])
    graph = _graph_with(helper.make_node("Identity", ["x"], ["y"]))
    graph.sparse_initializer.append(sparse)
    function = helper.make_function("local", "f", [], ["y"], [constant], [helper.make_opsetid("", 17)])
    model = helper.make_model(graph, functions=[function])
    assert sorted(external_tensors(model.SerializeToString())) == ["c (const.bin)", "values (v.bin)"]
    assert external_tensors(SHIPPED.read_bytes()) == []
