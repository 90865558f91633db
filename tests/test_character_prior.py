"""The character prior: measures of a lone character, its terms, fitting them, and carrying them in a model."""

import json

import numpy as np
import onnx
import pytest
from onnx import helper

from handwriting.checksum import KEY, seal
from handwriting.cli import main
from handwriting.errors import ModelError
from handwriting.ink import Ink
from handwriting.recognition.character_prior import (GEOMETRY, METADATA_KEY, CharacterPrior, CharacterPriors,
                                                     estimated_guides, geometry)
from handwriting.recognition.modelfile import default_model_path, load_model_file, write_metadata
from handwriting.recognition.modes import WritingGuide
from handwriting.recognition.recognizer import Recognizer
from handwriting.shards import write_shard
from handwriting.training.calibrate import Measured, errors, fit
from handwriting.training.synth import FONTS, synthesize

K = len(GEOMETRY)


def _box(width: float, height: float, strokes: int = 1, writer: str | None = None) -> Ink:
    line = np.array([[0.0, 0.0, 0.0], [width, height, 10.0]])
    return Ink(tuple(line + [0.0, 0.0, 20.0 * i] for i in range(strokes)), writer=writer)


def test_geometry_measures_size_against_the_guide_shape_and_strokes():
    tall, wide = _box(2.0, 10.0, strokes=2), _box(10.0, 2.0, strokes=5)
    guided = geometry(tall, WritingGuide(20.0))
    assert guided[0] == pytest.approx(np.log(0.5)) and guided[1] == pytest.approx(np.log(0.5) ** 2)
    assert guided[2] < 0 < geometry(wide, None)[2]  # narrower than high, then wider
    assert list(guided[4:]) == [0, 1, 0, 0] and list(geometry(wide, None)[4:]) == [0, 0, 0, 1]
    assert list(geometry(tall, None)[:2]) == [0.0, 0.0]  # no guide, no size
    dot = geometry(_box(0.0, 0.0), WritingGuide(20.0))
    assert np.isfinite(dot).all()  # a dot has a size and a shape too


def test_guides_are_twice_each_writers_median_height():
    inks = [_box(1, h, writer=w) for w, h in [("a", 4), ("a", 6), ("a", 50), ("b", 10)]]
    guides = estimated_guides(inks)
    assert guides["a"].line_height == pytest.approx(12.0) and guides["b"].line_height == pytest.approx(20.0)


def _prior(classes: int, seed: int = 0) -> CharacterPrior:
    rng = np.random.default_rng(seed)
    return CharacterPrior(1.2, rng.normal(size=classes), rng.normal(size=(classes, K)))


def test_prior_scores_are_log_probabilities_and_keep_ruled_out_classes_out():
    prior = _prior(5)
    single = np.array([-np.inf, -1.0, -3.0, -np.inf, -0.5])
    scores = prior.scores(single, np.ones(K))
    assert np.exp(scores[np.isfinite(scores)]).sum() == pytest.approx(1.0)
    assert np.isinf(scores[[0, 3]]).all()


def test_priors_round_trip_through_json_and_damage_is_refused():
    priors = CharacterPriors(_prior(6, 1), _prior(6, 2), {"characters": 3})
    again = CharacterPriors.from_json(priors.to_json(), 6)
    assert np.allclose(again.with_guide.weights, priors.with_guide.weights, atol=1e-5)
    assert again.fitted_on == {"characters": 3}
    data = json.loads(priors.to_json())
    for damaged in ("{", json.dumps({**data, "geometry": ["height"]}), priors.to_json().replace("1.2", "NaN", 1)):
        with pytest.raises(ValueError):
            CharacterPriors.from_json(damaged, 6)
    with pytest.raises(ValueError, match="expected 7"):
        CharacterPriors.from_json(priors.to_json(), 7)


def test_fitting_learns_what_size_says_when_the_network_cannot_tell():
    """Two classes the network scores alike ('o' and 'O'); one is small, the other large."""
    rng = np.random.default_rng(0)
    n = 400
    labels = rng.integers(1, 3, n)
    size = np.where(labels == 1, np.log(0.3), np.log(0.7)) + rng.normal(0, 0.1, n)
    scores = np.column_stack([np.full(n, -np.inf), np.full(n, -0.7), np.full(n, -0.7) + rng.normal(0, 0.01, n)])
    measures = np.zeros((n, K))
    measures[:, 0], measures[:, 1], measures[:, 4] = size, size**2, 1.0
    unguided = measures.copy()
    unguided[:, :2] = 0.0
    measured = Measured(scores, measures, unguided, np.zeros_like(scores), labels)
    with_guide, without_guide = fit(measured, use_guide=True), fit(measured, use_guide=False)
    assert errors(measured, with_guide, True) < 0.05 * n < 0.3 * n < errors(measured, None, True)
    assert errors(measured, without_guide, False) > 0.3 * n  # without the guide, size is unknown


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """The shipped model with a prior that reads every lone character as 'x'."""
    model = load_model_file(default_model_path())
    classes = model.alphabet.num_classes
    bias = np.zeros(classes)
    bias[model.alphabet.encode("x")[0]] = 1e3
    prior = CharacterPrior(1.0, bias, np.zeros((classes, K)))
    path = tmp_path_factory.mktemp("calibrated") / "x.onnx"
    write_metadata(model.data, {METADATA_KEY: CharacterPriors(prior, prior, {"note": "test"}).to_json()}, str(path))
    return path


def test_a_calibrated_model_reads_characters_through_its_prior(calibrated):
    ink = synthesize("a", font="futural")
    assert Recognizer(lm=None).recognize(ink, mode="character").text != "x"
    recognizer = Recognizer(calibrated, lm=None)
    assert recognizer.model.character_prior.fitted_on == {"note": "test"}
    assert recognizer.recognize(ink, mode="character").text == "x"
    assert recognizer.recognize(ink, mode="character", guide=WritingGuide(100.0)).text == "x"
    assert recognizer.recognize(ink).text != "x"  # text mode is left alone


def test_a_damaged_prior_is_one_clear_error(calibrated, tmp_path):
    model = load_model_file(calibrated)
    proto = onnx.load_from_string(model.data)
    props = {p.key: p.value for p in proto.metadata_props if p.key != KEY}
    props[METADATA_KEY] = props[METADATA_KEY].replace('"scale": 1.0', '"scale": "big"')
    helper.set_model_props(proto, props)
    path = tmp_path / "damaged.onnx"
    path.write_bytes(seal(proto.SerializeToString()))
    with pytest.raises(ModelError, match="damaged character_prior in the metadata"):
        load_model_file(path)


def test_writing_the_model_again_keeps_its_prior(calibrated, tmp_path):
    out = tmp_path / "again.onnx"
    assert main(["export", str(calibrated), "--out", str(out)]) == 0
    assert load_model_file(out).character_prior.fitted_on == {"note": "test"}


def _lone_characters(count: int, seed: int) -> list[Ink]:
    """Characters written alike at two sizes, by four writers."""
    rng = np.random.default_rng(seed)
    chars = "oOxXcCsS"
    inks = []
    for i in range(count):
        char = chars[i % len(chars)]
        ink = synthesize(char.lower(), font=FONTS[i % 3], rng=rng).scaled(2.0 if char.isupper() else 1.0)
        inks.append(Ink(ink.strokes, char, f"w{i % 4}"))
    return inks


def test_calibrate_cli_fits_measures_and_writes(tmp_path, capsys):
    prep = tmp_path / "prep"
    write_shard(_lone_characters(240, 0), prep / "train.npz")
    write_shard(_lone_characters(48, 1), prep / "val.npz")
    out = tmp_path / "cal.onnx"
    assert main(["calibrate", str(default_model_path()), "--data", str(prep), "--out", str(out), "--fit", "prior"]) == 0
    printed = capsys.readouterr().out
    assert "held-out with guide:     48 characters" in printed and f"wrote {out}" in printed
    fitted_on = load_model_file(out).character_prior.fitted_on
    assert fitted_on["characters"] == 240 and fitted_on["writers"] == 4
    report = fitted_on["held-out with guide"]
    assert report["errors_after"] <= report["errors_before"]
    write_shard(_lone_characters(20, 2), prep / "train.npz")
    assert main(["calibrate", str(default_model_path()), "--data", str(prep), "--out", str(out), "--fit", "prior"]) == 1
    assert "20 lone characters in the training split; at least 200 needed" in capsys.readouterr().err
