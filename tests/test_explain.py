"""`handwriting.recognition.explain`: numpy cell states and saliency agree with torch on the same weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from onnx import numpy_helper

torch = pytest.importorskip("torch")

from handwriting.alphabet import Alphabet  # noqa: E402
from handwriting.recognition.explain import explain, point_saliency, select_cells, unroll  # noqa: E402
from handwriting.training.export import export  # noqa: E402
from handwriting.formats import read_inks  # noqa: E402
from handwriting.training.model import BiLSTMCTC, ModelConfig  # noqa: E402
from handwriting.training.onnx_graph import state_from_onnx  # noqa: E402
from handwriting.recognition.preprocess import FEATURE_NAMES, Frames, PreprocessConfig  # noqa: E402
from handwriting.recognition.recognizer import Recognizer  # noqa: E402

LAYERS, HIDDEN = 3, 16
LENGTHS = (1, 2, 50, 2000)
CELL_TOLERANCE = 1e-5
SALIENCY_TOLERANCE = 1e-4  # relative to the largest gradient


@pytest.fixture(scope="module")
def recognizer(tmp_path_factory) -> Recognizer:
    """A small random model whose gates saturate, exported as the recognizer reads models."""
    torch.manual_seed(0)
    alphabet = Alphabet("abcdefg ")
    model = BiLSTMCTC(ModelConfig(len(FEATURE_NAMES), alphabet.num_classes, HIDDEN, LAYERS))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.startswith("output."):
                p.mul_(2.0)  # saturating gates
        model.feature_mean.normal_()
        model.feature_std.uniform_(0.5, 2.0)
    path = tmp_path_factory.mktemp("model") / "tiny.onnx"
    export(model, alphabet.chars, PreprocessConfig().to_dict(), path)
    return Recognizer(path, lm=None)


@pytest.fixture(scope="module")
def onnx_weights(recognizer: Recognizer) -> dict[str, torch.Tensor]:
    return {t.name: torch.tensor(numpy_helper.to_array(t), dtype=torch.float64) for t in recognizer.model.proto.graph.initializer}


@pytest.fixture(scope="module")
def state(recognizer: Recognizer) -> dict[str, torch.Tensor]:
    return {k: torch.tensor(v, dtype=torch.float64) for k, v in state_from_onnx(recognizer.model.proto).items()}


def run_network(recognizer: Recognizer, features: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Log-probs and hidden states from onnxruntime, as the recognizer gets them."""
    n = len(features)
    frames = Frames(features, np.arange(n), np.zeros(n, int), np.zeros((n, 2)))
    log_probs, hidden = recognizer.run([frames], with_hidden=True)
    return log_probs[0], hidden[0]


def reference_states(weights: dict[str, torch.Tensor], features: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per layer hidden (T, 2H) and cell states (T, 2, H) of a step-by-step float64 torch LSTM.

    Weights are the graph's own (ONNX `LSTM` layout: gates i, o, f, c; input then recurrent bias).
    """
    x = (torch.from_numpy(features).double() - weights["feature_mean"]) / weights["feature_std"]
    hiddens, cells = [], []
    for layer in range(LAYERS):
        h_dirs, c_dirs = [], []
        for d, order in enumerate((range(len(x)), reversed(range(len(x))))):
            w, r = weights[f"W_{layer}"][d], weights[f"R_{layer}"][d]
            bias = sum(weights[f"B_{layer}"][d].chunk(2))
            h = c = torch.zeros(HIDDEN, dtype=torch.float64)
            hs, cs = [None] * len(x), [None] * len(x)
            for t in order:
                i, o, f, g = (x[t] @ w.T + h @ r.T + bias).chunk(4)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                hs[t], cs[t] = h, c
            h_dirs.append(torch.stack(hs))
            c_dirs.append(torch.stack(cs))
        x = torch.cat(h_dirs, dim=1)
        hiddens.append(x.numpy())
        cells.append(torch.stack(c_dirs, dim=1).numpy())
    return hiddens, cells


def reference_saliency(state: dict[str, torch.Tensor], features: np.ndarray,
                       targets: list[tuple[int, int]]) -> list[np.ndarray]:
    """d log p(class | frame) / d features per target, by torch autograd through `BiLSTMCTC` in float64."""
    model = BiLSTMCTC(ModelConfig(len(FEATURE_NAMES), len(state["output.bias"]), HIDDEN, LAYERS)).double().eval()
    model.load_state_dict(state)
    x = torch.from_numpy(features).double()[None].requires_grad_()
    log_probs = model(x)[0]
    return [torch.autograd.grad(log_probs[t, c], x, retain_graph=True)[0][0].numpy() for t, c in targets]


def random_features(length: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(length, len(FEATURE_NAMES))).astype(np.float32)


@pytest.mark.parametrize("length", LENGTHS)
def test_cell_states_match_a_step_by_step_lstm(recognizer, onnx_weights, length: int) -> None:
    features = random_features(length, length)
    _, hidden = run_network(recognizer, features)
    ref_hidden, ref_cells = reference_states(onnx_weights, features)
    cells = unroll(recognizer.model, features, hidden).cells
    assert len(cells) == LAYERS
    for layer in range(LAYERS):
        assert np.abs(hidden[layer] - ref_hidden[layer]).max() < 1e-5  # the reference is the graph's LSTM
        assert cells[layer].shape == (length, 2, HIDDEN)
        assert np.abs(cells[layer] - ref_cells[layer]).max() < CELL_TOLERANCE


@pytest.mark.parametrize("length", LENGTHS)
def test_saliency_matches_autograd(recognizer, state, length: int) -> None:
    features = random_features(length, 100 + length)
    _, hidden = run_network(recognizer, features)
    unrolled = unroll(recognizer.model, features, hidden)
    classes = recognizer.alphabet.num_classes
    frames = sorted({0, length // 2, length - 1})  # at the ends, one direction alone carries the gradient
    targets = [(frame, (3 * k + length) % classes) for k, frame in enumerate(frames)]
    for target, expected in zip(targets, reference_saliency(state, features, targets)):
        got = unrolled.saliency(target)
        assert got.shape == (length, len(FEATURE_NAMES))
        assert np.abs(got - expected).max() < SALIENCY_TOLERANCE * np.abs(expected).max()


def test_saliency_rejects_targets_outside_the_output(recognizer) -> None:
    features = random_features(5, 0)
    unrolled = unroll(recognizer.model, features, run_network(recognizer, features)[1])
    for target in ((5, 1), (0, recognizer.alphabet.num_classes), (-1, 1)):
        with pytest.raises(ValueError):
            unrolled.saliency(target)


def test_explain_an_ink(recognizer, fixtures: Path) -> None:
    ink = read_inks(fixtures / "iamondb" / "lineStrokes" / "a01" / "a01-001" / "a01-001z-01.xml")[0]
    x = explain(recognizer, ink, k=5)
    recognition = x.recognition
    steps = len(recognition.frames)
    frame, cls = x.target
    if recognition.characters:
        assert frame == recognition.characters[-1].frame and x.target_char == recognition.characters[-1].char
    else:
        assert frame == steps - 1 and cls == int(recognition.log_probs[-1, 1:].argmax()) + 1
    assert [c.shape for c in x.cells] == [(steps, 2, HIDDEN)] * LAYERS
    assert x.point_saliency.shape == (ink.num_points,) and (x.point_saliency >= 0).all()
    assert len(x.shown) == 5
    data = json.loads(json.dumps(x.to_dict()))
    assert len(data["cells"]) == 5 and len(data["cells"][0]["values"]) == steps
    assert len(data["saliency"]) == steps and len(data["point_saliency"]) == ink.num_points
    assert data["target"] == {"frame": frame, "class": cls, "char": x.target_char}

    plain = recognizer.recognize(ink)  # no hidden states: explain runs the network once more
    again = explain(recognizer, plain, x.target, cells=[0, 7], num_points=ink.num_points)
    np.testing.assert_allclose(again.saliency, x.saliency, rtol=1e-6, atol=1e-9)
    assert again.shown.tolist() == [0, 7] and x.cell_id(7 + HIDDEN) == (0, 1, 7)


def test_select_cells() -> None:
    steps = np.arange(10.0)[:, None]
    layer = np.zeros((10, 2, 3))
    layer[:, 0, 1] = 5.0  # most active, constant
    layer[:, 1, 2] = steps[:, 0] - 4.5  # most variable
    assert select_cells([layer, layer * 0.1], "active", k=2).tolist() == [1, 5]
    assert select_cells([layer, layer * 0.1], "variable", k=1).tolist() == [5]
    assert select_cells([layer], [5, 0]).tolist() == [5, 0]
    with pytest.raises(ValueError):
        select_cells([layer], [6])
    with pytest.raises(ValueError):
        select_cells([layer], "loud")


def test_point_saliency_follows_the_frames() -> None:
    saliency = np.zeros((3, len(FEATURE_NAMES)))
    saliency[:, 0], saliency[:, 1], saliency[:, 2] = [3.0, 1.0, 2.0], [4.0, 0.0, 0.0], 100.0  # pen_up is ignored
    # frames come from points 0, 0 and 3; points 1, 2 lie on the way to frame 2, point 4 after the last frame
    got = point_saliency(saliency, np.array([0, 0, 3]), 5)
    np.testing.assert_allclose(got, [np.sqrt(26.0), 2.0, 2.0, 2.0, 2.0])
