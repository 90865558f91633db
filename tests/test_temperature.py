"""The posterior temperature: flattening, carrying it in a model, reading with it, fitting it."""

import shutil

import numpy as np
import onnx
import pytest
from onnx import helper

from handwriting.checksum import KEY, seal
from handwriting.cli import main
from handwriting.errors import ModelError
from handwriting.ink import Ink
from handwriting.recognition.modes import Reading
from handwriting.recognition.modelfile import default_model_path, load_model_file, write_metadata
from handwriting.recognition.recognizer import Recognizer
from handwriting.recognition.temperature import METADATA_KEY, Temperature, flattened, several_words
from handwriting.shards import write_shard
from handwriting.training.fit_temperature import fit_temperature, halves, written_items
from handwriting.training.synth import FONTS, synthesize


def test_flattening_renormalises_and_keeps_each_frames_best_class():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=4.0, size=(20, 6))
    log_probs = (logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)).astype(np.float32)
    log_probs[3] = [0.0] + [-np.inf] * 5  # a certain frame stays certain
    for t in (0.5, 1.5, 3.0):
        flat = flattened(log_probs, t)
        assert flat.dtype == np.float32
        assert np.exp(flat).sum(axis=1) == pytest.approx(np.ones(20), abs=1e-5)
        assert (flat.argmax(axis=1) == log_probs.argmax(axis=1)).all()
        assert list(flat[3]) == list(log_probs[3])
    assert flattened(log_probs, 2.0)[0].std() < log_probs[0].std()  # flatter
    assert flattened(log_probs, 1.0) is log_probs


def test_temperatures_round_trip_and_nonsense_is_refused():
    for temperature in (Temperature(1.25, fitted_on={"items": 3}), Temperature(1.25, 0.8)):
        assert Temperature.from_json(temperature.to_json()) == temperature
    assert Temperature(1.25).for_one_word == 1.25 and Temperature(1.25, 0.8).for_one_word == 0.8
    assert Temperature.from_json('{"temperature": 1.5}') == Temperature(1.5)  # written before lone words had their own
    for text in ("nope", "[]", '{"temperature": true}', '{"temperature": "1"}', '{"temperature": NaN}',
                 '{"temperature": 0}', '{"temperature": 100}', '{"temperature": 1, "one_word": 9}',
                 '{"temperature": 1, "one_word": false}'):
        with pytest.raises(ValueError):
            Temperature.from_json(text)


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """The shipped model and its LM with a temperature of 3 in the metadata."""
    model = load_model_file(default_model_path())
    folder = tmp_path_factory.mktemp("warm")
    path = folder / "warm.onnx"
    write_metadata(model.data, {METADATA_KEY: Temperature(3.0, fitted_on={"note": "test"}).to_json()}, str(path))
    shutil.copy(default_model_path().with_suffix(".lm"), folder / "warm.lm")
    return path


def _frames(recognizer: Recognizer, spec: list[dict[str, float]]) -> np.ndarray:
    """Log-probs of one frame per entry of `spec` (character: probability; the rest next to
    nothing), each followed by a blank frame."""
    rows = []
    for probs in spec:
        for chars in (probs, {"": 1.0}):
            row = np.full(recognizer.alphabet.num_classes, 1e-9)
            for char, p in chars.items():
                row[recognizer.alphabet.encode(char)[0] if char else 0] = p
            rows.append(np.log(row / row.sum()))
    return np.array(rows, np.float32)


def test_the_beam_reads_a_warm_model_with_more_say_for_the_lm(warm):
    hot, cold = Recognizer(warm), Recognizer(warm, temperature=1.0)
    assert (hot.temperature, cold.temperature) == (3.0, 1.0)
    assert load_model_file(warm).temperature == Temperature(3.0, fitted_on={"note": "test"})
    # the network is all but sure of "tbe": read as it is, the LM cannot outweigh it
    log_probs = _frames(hot, [{"t": 1.0}, {"b": 0.9999, "h": 0.0001}, {"e": 1.0}])
    read = {r.temperature: r.alphabet.decode(r.decode(log_probs, 32)[0].ids) for r in (hot, cold)}
    assert read == {1.0: "tbe", 3.0: "the"}
    greedy = Recognizer(warm, lm=None)  # the best path of a frame stays the best
    assert greedy.alphabet.decode(greedy.decode(log_probs)[0].ids) == "tbe"


def test_one_word_is_read_with_its_own_temperature_and_several_words_with_the_other(warm, tmp_path, capsys):
    path = tmp_path / "split.onnx"
    write_metadata(load_model_file(warm).data, {METADATA_KEY: Temperature(3.0, 1.0).to_json()}, str(path))
    shutil.copy(warm.with_suffix(".lm"), path.with_suffix(".lm"))
    recognizer = Recognizer(path)
    assert (recognizer.temperature, recognizer.one_word_temperature) == (3.0, 1.0)
    tbe = [{"t": 1.0}, {"b": 0.9999, "h": 0.0001}, {"e": 1.0}]
    line = _frames(recognizer, [{"i": 1.0}, {"n": 1.0}, {" ": 1.0}, *tbe])

    def read(log_probs: np.ndarray, mode: str = "text") -> str:
        return recognizer.alphabet.decode(recognizer.decode(log_probs, 32, reading=Reading(mode))[0].ids)

    assert read(line) == "in the"  # several words: flattened by 3, the LM has its say
    assert read(_frames(recognizer, tbe)) == "tbe" == read(_frames(recognizer, tbe), "word")  # one word: as it is
    assert Recognizer(path, temperature=2.0).one_word_temperature == 2.0  # the caller's is for both
    assert main(["info", str(path)]) == 0 and "beam temperature 3 (1 for one word)" in capsys.readouterr().out
    assert several_words(line, recognizer.alphabet) and not several_words(_frames(recognizer, [{" ": 1.0}, *tbe]), recognizer.alphabet)


def test_a_damaged_temperature_is_one_clear_error(warm, tmp_path):
    proto = onnx.load(str(warm))
    props = {p.key: p.value for p in proto.metadata_props if p.key != KEY}
    props[METADATA_KEY] = '{"temperature": -1}'
    helper.set_model_props(proto, props)
    path = tmp_path / "damaged.onnx"
    path.write_bytes(seal(proto.SerializeToString()))
    with pytest.raises(ModelError, match=r"damaged\.onnx.*damaged posterior_temperature in the metadata"):
        load_model_file(path)


def test_writing_the_model_again_keeps_its_temperature(warm, tmp_path):
    out = tmp_path / "again.onnx"
    assert main(["export", str(warm), "--out", str(out)]) == 0
    assert load_model_file(out).temperature == Temperature(3.0, fitted_on={"note": "test"})


def test_info_and_the_command_line_name_the_temperature(warm, capsys, tmp_path):
    assert main(["info", str(warm)]) == 0
    assert "beam temperature 3" in capsys.readouterr().out
    ink = tmp_path / "the.json"
    ink.write_text('{"strokes": [[[0, 0], [10, 20], [20, 0]]]}')
    with pytest.raises(SystemExit) as exit_:
        main(["recognize", str(ink), "--model", str(warm), "--temperature", "0"])
    assert exit_.value.code == 2 and "--temperature: 0 is out of range" in capsys.readouterr().err


def _words(count: int, seed: int) -> list[Ink]:
    rng = np.random.default_rng(seed)
    words = ["the", "and", "hand", "line", "note", "ink", "pen", "read"]
    inks = []
    for i in range(count):
        ink = synthesize(words[i % len(words)], font=FONTS[i % 3], rng=rng)
        inks.append(Ink(ink.strokes, ink.label, f"w{i % 4}"))
    return inks


def test_written_items_are_lines_and_lone_words_and_characters_halved_by_position():
    strokes = _words(1, 1)[0].strokes
    inks = _words(10, 0) + [Ink(strokes, "a", "w0"), Ink(strokes, None, "w0"), Ink(strokes, "in the", "w0"), Ink(strokes, " ", "w0")]
    lines, written = written_items(inks)
    assert lines == [inks[12]] and written == inks[:11]
    fit_on, check_on = halves(written, 3)
    assert len(fit_on) == len(check_on) == 3
    assert all(written.index(i) % 2 == 1 for i in fit_on) and all(written.index(i) % 2 == 0 for i in check_on)


def test_fitting_keeps_the_temperature_with_the_fewest_errors_nearest_one(monkeypatch):
    from handwriting.training import fit_temperature as fitting

    recognizer = Recognizer(default_model_path(), temperature=1.0)
    errors = {1.0: 10, 1.25: 8, 1.5: 8, 2.0: 9, 0.8: 12, 1.125: 9, 1.375: 8}
    read: list[float] = []
    monkeypatch.setattr(fitting, "errors_at", lambda r, items, t, progress=None: read.append(t) or errors[t])
    fitted = fit_temperature(recognizer, _words(4, 0), _words(2, 1))
    assert fitted.value == 1.25  # 1.25, 1.375 and 1.5 tie: the nearest to 1
    assert sorted(read[5:7]) == [1.125, 1.375]  # the halfway points beside the best of the grid
    assert fitted.fitted_on["errors"]["1.375"] == 8 and fitted.fitted_on["check"] == {
        "items": 2, "errors_before": 10, "errors_after": 8}
    assert recognizer.temperature == 1.0
    checked = {1.0: 8, 1.25: 9}  # the checking half (two items) reads better at 1: the fit was chance
    monkeypatch.setattr(fitting, "errors_at", lambda r, items, t, progress=None: (checked if len(items) == 2 else errors)[t])
    unconfirmed = fit_temperature(recognizer, _words(4, 0), _words(2, 1))
    assert unconfirmed.value == 1.0 and unconfirmed.fitted_on["chosen"] == 1.25


def test_a_temperature_of_one_reads_the_checking_items_once(monkeypatch):
    from handwriting.training import fit_temperature as fitting

    checked = _words(2, 1)
    read: list[tuple[float, int]] = []
    def errors_at(recognizer, items, t, progress=None):
        read.append((t, len(items)))
        return 5 if t == 1.0 else 9

    monkeypatch.setattr(fitting, "errors_at", errors_at)
    fitted = fit_temperature(Recognizer(default_model_path(), temperature=1.0), _words(4, 0), checked)
    assert fitted.value == 1.0 and fitted.fitted_on["check"] == {"items": 2, "errors_before": 5, "errors_after": 5}
    assert read.count((1.0, 2)) == 1


def test_calibrate_fits_the_temperature_on_validation_words(tmp_path, capsys):
    prep = tmp_path / "prep"
    write_shard(_words(48, 1), prep / "val.npz")
    out = tmp_path / "cal.onnx"
    assert main(["calibrate", str(default_model_path()), "--data", str(prep), "--out", str(out), "--fit", "temperature"]) == 0
    printed = capsys.readouterr().out
    assert "for lone words and characters: character errors on 24 validation lone words and characters by temperature: 0.8 " \
        in printed and f"wrote {out}" in printed
    model = load_model_file(out)  # no lines: the words' temperature serves for both
    fitted = model.temperature.fitted_on
    assert fitted["lone words and characters"]["items"] == 24 and fitted["data"] == ["prep"] and "lines" not in fitted
    assert model.temperature.one_word == model.temperature.value
    assert model.character_prior.fitted_on == load_model_file(default_model_path()).character_prior.fitted_on  # kept
    alone = tmp_path / "alone.onnx"
    shutil.copy(default_model_path(), alone)
    assert main(["calibrate", str(alone), "--data", str(prep), "--out", str(out), "--fit", "temperature"]) == 1
    assert "alone.onnx: no language model beside it" in capsys.readouterr().err
    write_shard(_words(30, 2), prep / "val.npz")
    assert main(["calibrate", str(default_model_path()), "--data", str(prep), "--out", str(out), "--fit", "temperature"]) == 1
    assert "0 lines and 30 lone words and characters in the validation split; at least 40 of one kind needed" \
        in capsys.readouterr().err
