"""Preprocessing: invariance to size and position, frames mapped back to points."""

import numpy as np
import pytest

from handwriting.ink import Ink
from handwriting.recognition.preprocess import FEATURE_NAMES, PreprocessConfig, featurize
from handwriting.training.synth import synthesize


def test_features_ignore_size_and_position():
    ink = synthesize("minimum", font="scripts")
    moved = ink.scaled(3.7).translated(-500.0, 1234.0)
    a, b = featurize(ink), featurize(moved)
    assert a.features.shape == b.features.shape and a.features.shape[1] == len(FEATURE_NAMES)
    assert np.allclose(a.features, b.features, atol=1e-4)


def test_frames_point_back_to_their_strokes_and_points():
    ink = synthesize("hi there", font="futural")
    frames = featurize(ink)
    ids = ink.stroke_ids()
    assert np.array_equal(ids[frames.point_index], frames.stroke_index)
    assert frames.features[0, FEATURE_NAMES.index("pen_up")] == 1
    starts = np.flatnonzero(np.diff(frames.stroke_index)) + 1
    assert (frames.features[starts, FEATURE_NAMES.index("pen_up")] == 1).all()
    assert set(frames.stroke_index) == set(range(ink.num_strokes))


def test_resampling_step_sets_the_frame_rate():
    ink = synthesize("handwriting", font="scripts")
    coarse, fine = featurize(ink, PreprocessConfig(step=0.4)), featurize(ink, PreprocessConfig(step=0.1))
    assert 3 < len(fine) / len(coarse) < 5


def test_spikes_are_dropped_and_dots_kept():
    line = np.column_stack([np.linspace(0, 10, 50), np.zeros(50)])
    line[25, 1] = 40.0  # a wild point
    ink = Ink.from_strokes([line, [[5.0, -3.0]]])
    frames = featurize(ink)
    assert 25 not in frames.point_index
    assert frames.stroke_index[-1] == 1


def test_empty_and_invalid_ink():
    assert len(featurize(Ink(()))) == 0
    with pytest.raises(ValueError, match="non-finite"):
        Ink.from_strokes([[[0.0, np.nan]]])
    with pytest.raises(ValueError, match="no points"):
        Ink((np.zeros((0, 2)),))
