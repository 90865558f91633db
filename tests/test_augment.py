"""Training-time distortions of ink: plausible variants that keep what is written."""

import numpy as np
import pytest

from handwriting.alphabet import Alphabet
from handwriting.ink import Ink
from handwriting.recognition.preprocess import PreprocessConfig, featurize
from handwriting.training.augment import augment
from handwriting.training.train import MAX_AUGMENTED_GROWTH, MIN_FRAMES, InkDataset
from handwriting.training.synth import synthesize


@pytest.fixture(scope="module")
def line():
    return synthesize("minimum wages", font="cursive")


def test_without_style_the_distortions_are_as_before(line):
    plain = augment(line, np.random.default_rng(3))
    assert augment(line, np.random.default_rng(3), style=0.0).same_as(plain)
    assert plain.label == line.label and plain.num_strokes == line.num_strokes


def test_style_changes_letter_widths_and_placement_but_keeps_the_ink_readable(line):
    plain = augment(line, np.random.default_rng(3))
    styled = augment(line, np.random.default_rng(3), style=1.0)
    assert styled.label == line.label and styled.num_strokes == plain.num_strokes
    assert [len(s) for s in styled.strokes] == [len(s) for s in plain.strokes]
    moved = np.abs(styled.points()[:, :2] - plain.points()[:, :2])
    x0, y0, x1, y1 = plain.bounds()
    height = y1 - y0
    assert moved.max() > 0.01 * height  # it does something
    assert moved[:, 1].max() < 0.4 * height  # a baseline wave and an offset, not another line
    sx0, _, sx1, _ = styled.bounds()
    assert 0.7 < (sx1 - sx0) / (x1 - x0) < 1.4  # about as wide in all
    for before, after in zip(plain.strokes, styled.strokes):  # x order kept inside each stroke
        assert np.array_equal(np.argsort(before[:, 0], kind="stable"), np.argsort(after[:, 0], kind="stable"))


def test_stronger_style_moves_more(line):
    def spread(style: float) -> float:
        plain = augment(line, np.random.default_rng(5)).points()[:, :2]
        return float(np.abs(augment(line, np.random.default_rng(5), style=style).points()[:, :2] - plain).mean())

    assert spread(0.5) < spread(2.0)


def test_a_flat_dash_is_distorted_too():
    dash = Ink((np.array([[0.0, 5.0, 0.0], [30.0, 5.0, 50.0]]),), "-")
    styled = augment(dash, np.random.default_rng(0), style=1.0)
    assert np.isfinite(styled.points()[:, :2]).all() and styled.label == "-"


def test_a_resting_dot_never_turns_into_a_long_item_in_training():
    """A dot written with the pen at rest: most of its points on one spot. Dropping a few
    points collapses its writing height and jitter then spreads it over a thousand frames,
    which once filled a 3,000-frame batch 100 times over; such a variant is not used."""
    ys = [-107, -106, -106] + [-104] * 44 + [-101, -101, -98]
    xs = [107] * 47 + [108] * 3
    dot = Ink((np.array([(x, y, i * 5.0) for i, (x, y) in enumerate(zip(xs, ys))], float),), ".")
    config = PreprocessConfig()
    assert max(len(featurize(augment(dot, np.random.default_rng([seed, 0, 0])), config)) for seed in range(120)) > 300
    frames = []
    for seed in range(120):
        dataset = InkDataset([dot], Alphabet(), config, augment=True, seed=seed)
        features, target = dataset[0]
        frames.append(len(features))
        assert target.tolist() == Alphabet().encode(".")
    assert max(frames) <= MAX_AUGMENTED_GROWTH * max(len(featurize(dot, config)), MIN_FRAMES)
    assert len(set(frames)) > 10  # the others are still augmented
