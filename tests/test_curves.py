"""Curve frames: Bézier curves that follow the strokes within the tolerance, mapped back to points."""

import json

import numpy as np
import pytest

from handwriting.ink import Ink
from handwriting.recognition import preprocess_kernel
from handwriting.recognition.curves_kernel import UNIT
from handwriting.recognition.modelfile import default_model_path
from handwriting.recognition.preprocess import CURVE_FEATURE_NAMES, PreprocessConfig, featurize
from handwriting.training.synth import synthesize

CURVES = PreprocessConfig(step=0.04, frames="curves")
PEN_UP = CURVE_FEATURE_NAMES.index("pen_up")
SHIPPED = default_model_path()


def _bezier(start, c1, c2, end, u):
    u = u[:, None]
    return (1 - u) ** 3 * start + 3 * u * (1 - u) ** 2 * c1 + 3 * u * u * (1 - u) * c2 + u ** 3 * end


def _resampled(ink: Ink, config: PreprocessConfig) -> np.ndarray:
    points = np.ascontiguousarray(ink.points()[:, :2], np.float64)
    xy, _, _ = preprocess_kernel.resampled(points, ink.stroke_ids().astype(np.int64), config.step, config.deslant,
                                           config.max_slant)
    return xy


def test_each_curve_follows_its_points_within_the_tolerance():
    ink = synthesize("curly letters", font="scripts")
    frames = featurize(ink, CURVES)
    points = _resampled(ink, CURVES)
    start = points[0]
    for k, feature in enumerate(frames.features):
        end = frames.xy[k]
        if feature[PEN_UP] == 0:
            c1, c2 = start + feature[4:6] * UNIT, end + feature[6:8] * UNIT
            curve = _bezier(start, c1, c2, end, np.linspace(0, 1, 200))
            first = int(np.flatnonzero((points == start).all(axis=1))[0])
            last = int(np.flatnonzero((points == end).all(axis=1))[-1])
            covered = points[first:last + 1]
            gaps = np.linalg.norm(covered[:, None] - curve[None], axis=2).min(axis=1)
            assert gaps.max() <= CURVES.tolerance + 0.005
        start = end


def test_a_straight_stroke_is_straight_curves_of_at_most_the_longest_length():
    short = Ink.from_strokes([np.column_stack([np.linspace(0, 6, 60), np.linspace(0, 10, 60)])])  # 1.3 heights long
    frames = featurize(short, CURVES)
    assert len(frames) == 2  # the pen put down, one curve
    chord = frames.xy[1] - frames.xy[0]
    assert np.allclose(frames.features[1, 4:6] * UNIT, chord / 3, atol=1e-3)
    assert np.allclose(frames.features[1, 6:8] * UNIT, -chord / 3, atol=1e-3)
    assert np.allclose(frames.controls[1], [frames.xy[0] + chord / 3, frames.xy[1] - chord / 3], atol=1e-3)
    long = Ink.from_strokes([np.column_stack([np.linspace(0, 30, 60), np.linspace(0, 10, 60)])])  # 3.5 heights
    assert len(featurize(long, CURVES)) == 1 + 3


def test_frames_point_back_to_their_strokes_and_points_with_a_pen_up_frame_between_strokes():
    ink = synthesize("hi there", font="futural")
    frames = featurize(ink, CURVES)
    assert np.array_equal(ink.stroke_ids()[frames.point_index], frames.stroke_index)
    assert (np.diff(frames.point_index) >= 0).all()
    starts = np.flatnonzero(np.diff(frames.stroke_index)) + 1
    assert np.array_equal(np.flatnonzero(frames.features[:, PEN_UP]), np.concatenate([[0], starts]))
    assert set(frames.stroke_index) == set(range(ink.num_strokes))


def test_curves_ignore_size_and_position_and_are_fewer_than_point_frames():
    ink = synthesize("minimum", font="scripts")
    moved = ink.scaled(3.7).translated(-500.0, 1234.0)
    a, b = featurize(ink, CURVES), featurize(moved, CURVES)
    assert a.features.shape == b.features.shape and a.features.shape[1] == len(CURVE_FEATURE_NAMES)
    assert np.allclose(a.features, b.features, atol=1e-3)
    assert len(a) < 0.7 * len(featurize(ink, PreprocessConfig(step=0.2)))


def test_dots_and_empty_ink():
    frames = featurize(Ink.from_strokes([[[0.0, 0.0], [10.0, 0.0]], [[5.0, 8.0]]]), CURVES)
    assert frames.stroke_index.tolist() == [0, 0, 1, 1]  # the start, the stroke, the move in the air, the dot
    assert frames.features[:, PEN_UP].tolist() == [1, 0, 1, 0]
    assert frames.features[3, CURVE_FEATURE_NAMES.index("length")] == 0
    empty = featurize(Ink(()), CURVES)
    assert empty.features.shape == (0, len(CURVE_FEATURE_NAMES))


def test_an_unknown_kind_of_frames_is_refused():
    with pytest.raises(ValueError, match="unknown kind of frames 'splines'"):
        PreprocessConfig.from_dict({"step": 0.2, "frames": "splines"})


def test_a_curve_model_is_exported_read_and_explained_as_a_point_model_is(tmp_path):
    torch = pytest.importorskip("torch")
    from handwriting.alphabet import Alphabet
    from handwriting.recognition.explain import explain
    from handwriting.recognition.modelfile import ModelError
    from handwriting.recognition.recognizer import Recognizer
    from handwriting.training.export import export
    from handwriting.training.model import BiLSTMCTC, ModelConfig

    torch.manual_seed(0)
    alphabet = Alphabet("abcdefg ")
    path = tmp_path / "curves.onnx"
    export(BiLSTMCTC(ModelConfig(len(CURVE_FEATURE_NAMES), alphabet.num_classes, 8, 2)), alphabet.chars,
           CURVES.to_dict(), path, quantize=True)
    recognizer = Recognizer(path, lm=None)
    assert recognizer.model.preprocess == CURVES
    ink = synthesize("bad cafe", font="scripts")
    recognition = recognizer.recognize(ink, with_hidden=True)
    assert len(recognition.frames) == len(featurize(ink, CURVES))
    assert explain(recognizer, recognition).to_dict()["feature_names"] == list(CURVE_FEATURE_NAMES)
    above = synthesize("a bad cafe", font="scripts")
    below = synthesize("faced a bag", font="scripts").translated(0.0, 3 * float(np.ptp(above.points()[:, 1])))
    page = recognizer.recognize(Ink(above.strokes + below.strokes)).frames  # two lines, laid side by side
    assert len(page.line_starts) == 2 and page.controls.shape == (len(page), 2, 2)
    second = slice(page.line_starts[1], None)
    assert page.controls[second, :, 0].min() > page.xy[second, 0].min() - 0.5  # moved with their line
    with pytest.raises(ModelError, match="reads 9 features per frame, the preprocessing makes 8"):
        export(BiLSTMCTC(ModelConfig(9, alphabet.num_classes, 8, 1)), alphabet.chars, PreprocessConfig().to_dict(),
               tmp_path / "mismatched.onnx")
    assert not (tmp_path / "mismatched.onnx").exists()


def test_a_model_whose_network_does_not_read_its_frames_is_refused(tmp_path):
    pytest.importorskip("torch")
    import onnx

    from handwriting.checksum import seal
    from handwriting.recognition.modelfile import ModelError
    from handwriting.recognition.recognizer import Recognizer

    model = onnx.load(SHIPPED)
    for prop in model.metadata_props:
        if prop.key == "preprocess":
            prop.value = json.dumps({**json.loads(prop.value), "frames": "curves"})
    path = tmp_path / "mislabelled.onnx"
    path.write_bytes(seal(model.SerializeToString()))
    with pytest.raises(ModelError, match="reads 8 features per frame, its curves frames have 9"):
        Recognizer(path, lm=None)


def test_the_writing_row_draws_each_curve_the_pen_drew_into_its_frame():
    from handwriting.recognition.graves_view import GravesView, writing_path

    xy = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    controls = np.array([[[0.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [2.0, 0.0]]])
    view = GravesView(np.zeros(3), (), xy, np.array([False, True, False]), controls)
    path, frame_of = writing_path(view, samples=8)
    assert frame_of.tolist() == [0] + [1] * 8 + [2]  # frame 2 is a move in the air: its end only
    assert np.allclose(path[8], xy[1]) and np.allclose(path[9], xy[2])
    assert np.isclose(path[4, 1], 0.75)  # half way along the arch: 3/4 of its control points' height
    points, frames = writing_path(GravesView(np.zeros(3), (), xy, np.ones(3, bool)))
    assert points is xy and frames.tolist() == [0, 1, 2]  # point frames are drawn as they are
