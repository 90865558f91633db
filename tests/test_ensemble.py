"""Two networks reading together: the CTC kernels, the model entry, `Recognizer` and `handwriting ensemble`."""

import itertools
import json
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from handwriting.alphabet import BLANK
from handwriting.cli import main
from handwriting.errors import ModelError
from handwriting.formats import read_inks
from handwriting.recognition.ctc_kernel import alignment, log_likelihood
from handwriting.recognition.ensemble import METADATA_KEY, Ensemble, mixed, rescored
from handwriting.recognition.modelfile import default_model_path, load_model_file, write_metadata
from handwriting.recognition.modes import WritingGuide
from handwriting.recognition.recognizer import PageReader, Recognizer
from handwriting.training.synth import synthesize


def _random_case(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    frames, classes = int(rng.integers(1, 8)), int(rng.integers(2, 5))
    log_probs = torch.log_softmax(torch.randn(frames, classes, dtype=torch.float64) * 2, 1).numpy()
    labels = rng.integers(1, classes, int(rng.integers(0, 4))).astype(np.int64)
    return log_probs, labels


def test_the_log_likelihood_is_torchs_ctc_on_any_label():
    rng = np.random.default_rng(0)
    for _ in range(300):
        log_probs, labels = _random_case(rng)
        ours = log_likelihood(log_probs, labels)
        theirs = -F.ctc_loss(torch.from_numpy(log_probs)[:, None], torch.from_numpy(labels)[None],
                             torch.tensor([len(log_probs)]), torch.tensor([len(labels)]), reduction="sum").item()
        assert ours == pytest.approx(theirs, abs=1e-9) or (np.isneginf(ours) and np.isinf(theirs))
        assert log_likelihood(log_probs.astype(np.float32), labels) == pytest.approx(ours, abs=1e-4)


def test_the_alignment_is_the_most_probable_path_of_the_label():
    rng = np.random.default_rng(1)
    for _ in range(200):
        log_probs, labels = _random_case(rng)
        best, emitted = -np.inf, [-1] * len(labels)
        for path in itertools.product(range(log_probs.shape[1]), repeat=len(log_probs)):
            starts = [t for t, c in enumerate(path) if c != BLANK and (t == 0 or path[t - 1] != c)]
            if [path[t] for t in starts] == labels.tolist():
                score = sum(log_probs[t, c] for t, c in enumerate(path))
                if score > best:
                    best, emitted = score, starts
        assert alignment(log_probs, labels).tolist() == emitted


def test_rescoring_weighs_both_networks_and_places_the_winner_on_the_first():
    # the first network slightly prefers "1", the second strongly "2": at equal weight "2" wins
    first = np.log(np.array([[0.1, 0.5, 0.4], [0.8, 0.1, 0.1]]))
    second = np.log(np.array([[0.1, 0.1, 0.8], [0.8, 0.1, 0.1]]))
    best = rescored([(1,), (2,)], first, second, 0.5, 2)
    assert [h.ids for h in best] == [(2,), (1,)] and best[0].frames == (0,)
    assert rescored([(1,), (2,)], first, second, 0.95, 1)[0].ids == (1,)
    assert rescored([(1,), (2,)], first, second, 0.5, 1, language=lambda ids: 5.0 * (ids == (1,)))[0].ids == (1,)
    assert [h.ids for h in rescored([(1, 1, 1)], first, second, 0.5, 1)] == []  # no path of 2 frames fits
    assert mixed(np.array([0.0, -np.inf, -2.0]), np.array([-1.0, -1.0, -np.inf]), 0.5).tolist() == [-0.5, -np.inf, -np.inf]


@pytest.mark.parametrize("entry", ['{"file": "../x.onnx", "weight": 0.5}', '{"file": "a/b.onnx", "weight": 0.5}',
                                   '{"file": "", "weight": 0.5}', '{"file": "b.onnx", "weight": 1}',
                                   '{"file": "b.onnx", "weight": 0}', '{"file": "b.onnx"}', "[1, 2]", "not json"])
def test_a_damaged_entry_is_refused(entry):
    with pytest.raises(ValueError):
        Ensemble.from_json(entry)


def test_an_entry_reads_back_as_written():
    assert Ensemble.from_json(Ensemble("curves.onnx", 0.7).to_json()) == Ensemble("curves.onnx", 0.7)


@pytest.fixture(scope="module")
def self_pair(tmp_path_factory):
    """The default model's (first) network paired with a copy of itself: two networks that read alike."""
    folder = tmp_path_factory.mktemp("pair")
    write_metadata(default_model_path().read_bytes(), {}, folder / "twin.onnx", drop=(METADATA_KEY,))
    shutil.copy(default_model_path().with_suffix(".lm"), folder / "pair.lm")
    assert main(["ensemble", str(default_model_path()), str(folder / "twin.onnx"), "--out", str(folder / "pair.onnx"),
                 "--weight", "0.5"]) == 0
    return folder / "pair.onnx"


@pytest.fixture(scope="module")
def written():
    inks = [synthesize(text, font="futural") for text in ("hello world", "seven", "42")]
    return inks + [synthesize(c, font="scripts") for c in "aQx"]


@pytest.mark.parametrize("mode", ["text", "word", "digits", "character"])
def test_a_network_paired_with_itself_reads_as_it_reads_alone(self_pair, written, mode):
    alone, pair = Recognizer(lm=None, ensemble=False), Recognizer(self_pair, lm=None)
    assert pair.second is not None and alone.second is None
    guide = WritingGuide(200.0) if mode == "character" else None
    for ink in written:
        a, b = alone.recognize(ink, mode=mode, guide=guide), pair.recognize(ink, mode=mode, guide=guide)
        assert b.text == a.text
        assert [c.frame for c in b.characters] == [c.frame for c in a.characters]
        if mode == "character":
            assert [x.text for x in b.alternatives] == [x.text for x in a.alternatives]
            assert [x.score for x in b.alternatives] == pytest.approx([x.score for x in a.alternatives], abs=1e-6)


def test_with_the_lm_the_pair_picks_among_the_networks_readings(self_pair, written):
    alone, pair = Recognizer(beam=32, alternatives=8, ensemble=False), Recognizer(self_pair, beam=32, alternatives=8)
    for ink in written[:3]:
        proposals = {a.text for a in alone.recognize(ink).alternatives}
        reading = pair.recognize(ink, with_hidden=True)
        assert reading.text in proposals
        assert [h.shape[-1] for h in reading.hidden] == [2 * pair.model.hidden] * pair.model.layers
        frames = [c.frame for c in reading.characters]
        assert frames == sorted(frames) and all(0 <= f < len(reading.frames) for f in frames)


def test_ensemble_false_reads_with_the_first_network_alone(self_pair):
    assert Recognizer(self_pair, ensemble=False).second is None


def test_without_its_second_network_a_model_reads_alone_and_says_so(self_pair, tmp_path):
    shutil.copy(self_pair, tmp_path / "pair.onnx")
    with pytest.warns(UserWarning, match=r"pair\.onnx: its second network .*twin\.onnx is missing"):
        assert Recognizer(tmp_path / "pair.onnx").second is None
    (tmp_path / "twin.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match=r"pair\.onnx: its second network .*twin\.onnx: "):
        Recognizer(tmp_path / "pair.onnx")


def test_a_second_network_with_another_alphabet_is_refused(self_pair, tmp_path):
    first = load_model_file(self_pair)
    chars = first.alphabet.chars
    shutil.copy(self_pair, tmp_path / "pair.onnx")
    write_metadata(load_model_file(self_pair.parent / "twin.onnx").data, {"alphabet": chars[1] + chars[0] + chars[2:]},
                   tmp_path / "twin.onnx")
    with pytest.raises(ModelError, match="reads another alphabet"):
        Recognizer(tmp_path / "pair.onnx")
    assert main(["ensemble", str(self_pair), str(tmp_path / "twin.onnx"), "--out", str(tmp_path / "x.onnx")]) == 1


def test_a_damaged_entry_in_a_model_is_one_model_error(tmp_path):
    write_metadata(default_model_path().read_bytes(), {METADATA_KEY: '{"file": "../../etc/passwd", "weight": 0.5}'},
                   tmp_path / "m.onnx")
    with pytest.raises(ModelError, match="damaged ensemble"):
        load_model_file(tmp_path / "m.onnx")


def test_the_command_refuses_a_pair_as_second_network_and_a_name_clash(self_pair, tmp_path, capsys):
    assert main(["ensemble", str(default_model_path()), str(self_pair), "--out", str(tmp_path / "x.onnx")]) == 1
    assert "reads with a second network itself" in capsys.readouterr().err
    shutil.copy(self_pair.parent / "twin.onnx", tmp_path / "twin.onnx")
    assert main(["ensemble", str(default_model_path()), str(tmp_path / "twin.onnx"), "--out", str(tmp_path / "twin.onnx")]) == 1
    assert "would overwrite the second network" in capsys.readouterr().err


def test_info_and_a_model_written_again_elsewhere_keep_the_second_network(self_pair, tmp_path, capsys):
    assert main(["info", str(self_pair), "--json"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert (record["second_network"], record["first_weight"]) == ("twin.onnx", 0.5)
    assert main(["export", str(self_pair), "--out", str(tmp_path / "again.onnx"), "--quantize"]) == 0
    assert (tmp_path / "twin.onnx").is_file()
    assert Recognizer(tmp_path / "again.onnx", lm=None).second is not None


def test_a_real_page_reads_with_both_networks(self_pair, fixtures):
    ink = read_inks(next((fixtures / "iamondb" / "lineStrokes").rglob("*.xml")))[0]
    pair = Recognizer(self_pair, beam=8)
    reading = pair.recognize(ink)
    assert reading.text in {a.text for a in Recognizer(beam=8, alternatives=8, ensemble=False).recognize(ink).alternatives}
    assert reading.timings_ms["network"] > 0


def test_live_updates_read_with_the_first_network_and_the_page_keeps_readings_of_both(self_pair, written, monkeypatch):
    pair = Recognizer(self_pair, lm=None)
    calls = []
    run = pair.run
    monkeypatch.setattr(pair, "run", lambda batch, with_hidden=False, network=None: calls.append(network) or run(
        batch, with_hidden, network))
    assert pair.recognize(written[0], ensemble=False).text == Recognizer(lm=None, ensemble=False).recognize(written[0]).text
    assert calls == [None]
    page, ink = PageReader(pair), written[0]
    calls.clear()
    page.read(ink, ensemble=False)
    page.read(ink)  # pen-up: the live reading does not serve it
    page.read(ink, ensemble=False)  # the reading of both serves the next live update
    assert calls == [None, None, pair.second]


def test_the_lexicon_cost_of_a_rescored_reading_is_the_searchs(self_pair):
    pair = Recognizer(self_pair)
    many = " ".join(f"zq{i}x" for i in range(40)) + " the 42 qzx"  # new word states: the tables grow meanwhile
    ids = tuple(pair.alphabet.encode(many))
    log_p = sum(float(pair.lm.log_probs(many[:i])[c]) for i, c in enumerate(ids))
    outside = 1  # "qzx": the "zq<n>x" words are not alphabetic, "the" and "42" are not out of the lexicon
    assert pair._language_terms(ids, "") == pytest.approx(0.45 * log_p + len(ids) - 4.0 * outside)


def test_a_second_network_that_read_no_frames_leaves_the_reading_to_the_first(self_pair):
    pair = Recognizer(self_pair, lm=None)
    log_probs = np.log(np.full((3, pair.alphabet.num_classes), 1.0 / pair.alphabet.num_classes))
    nothing = np.zeros((0, pair.alphabet.num_classes), np.float32)
    assert pair.decode(log_probs, second=nothing) == pair.decode(log_probs)
