"""The `.lm` file layout: arrays read back exactly, the former JSON layout still read, damage refused."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from handwriting.alphabet import Alphabet
from handwriting.cli import main
from handwriting.errors import HandwritingError
from handwriting.recognition.lm import build_language_model, load_language_model, save_language_model
from handwriting.recognition.lmfile import MAGIC

ALPHABET = Alphabet()
TEXT = ["the cat ate the hen", "a cod, a den; \"the\" end", "It was the 3rd (or 4th) day"] * 8


@pytest.fixture
def model():
    return build_language_model(TEXT, ALPHABET, order=4, words=[("den", 0.4), ("cat", 3.0), ("don't", 1.0)])


def _json_file(path, model):
    data = {"alphabet": model.alphabet.chars, "order": model.order, "counts": model.counts,
            "lexicon": sorted(model.lexicon), "smoothing": model.smoothing, "discount": model.discount}
    path.write_bytes(gzip.compress(json.dumps(data).encode()))
    return path


def test_round_trip_keeps_counts_lexicon_and_estimates(tmp_path, model):
    save_language_model(model, tmp_path / "m.lm")
    assert gzip.decompress((tmp_path / "m.lm").read_bytes()).startswith(MAGIC)
    again = load_language_model(tmp_path / "m.lm")
    assert again.counts == model.counts and again.lexicon == model.lexicon
    assert [list(again.counts[h].items()) for h in model.counts] == [list(t.items()) for t in model.counts.values()]
    for context in ("", "the c", "zzz", "It was the 3", "\"th"):
        assert (again.log_probs(context) == model.log_probs(context)).all(), context
    assert again.is_prefix("do") and again.is_word("Don't") and not again.is_word("dont")


def test_former_json_layout_is_read_and_converted(tmp_path, model, capsys):
    old = _json_file(tmp_path / "old.lm", model)
    assert load_language_model(old).counts == model.counts
    assert main(["lm", "convert", str(old), "--out", str(tmp_path / "new.lm")]) == 0
    assert "order 4" in capsys.readouterr().out
    new = load_language_model(tmp_path / "new.lm")
    assert new.counts == model.counts and new.lexicon == model.lexicon and new.discount == model.discount


def _damaged(header: object, arrays: bytes) -> bytes:
    return gzip.compress(MAGIC + json.dumps(header).encode() + b"\n" + arrays)


@pytest.mark.parametrize("damage", ["cut", "unsorted", "bad_starts", "negative", "dtype", "order", "extra", "header"])
def test_damaged_files_are_one_clear_error(tmp_path, model, damage):
    save_language_model(model, tmp_path / "m.lm")
    data = gzip.decompress((tmp_path / "m.lm").read_bytes())
    end = data.index(b"\n", len(MAGIC))
    header, body = json.loads(data[len(MAGIC):end]), bytearray(data[end + 1:])
    specs = {name: (dtype, length) for name, dtype, length in header["arrays"]}
    starts_len = specs["starts"][1] * 8
    if damage == "cut":
        body = body[:-5]
    elif damage == "unsorted":  # the first two contexts swapped
        at = starts_len + specs["values"][1] * 8 + specs["chars"][1] * 4
        item = np.dtype(specs["contexts"][0]).itemsize
        body[at:at + 2 * item] = body[at + item:at + 2 * item] + body[at:at + item]
    elif damage == "bad_starts":
        body[8:16] = np.int64(10**9).tobytes()
    elif damage == "negative":
        body[starts_len:starts_len + 8] = np.float64(-1.0).tobytes()
    elif damage == "dtype":
        header["arrays"][0][1] = "<f8"
    elif damage == "order":
        header["order"] = 0
    elif damage == "extra":
        body += b"\0" * 8
    elif damage == "header":
        header = ["not", "an", "object"]
    (tmp_path / "bad.lm").write_bytes(_damaged(header, bytes(body)))
    with pytest.raises(HandwritingError, match="bad.lm: not a readable language model"):
        load_language_model(tmp_path / "bad.lm")


def test_orders_past_the_integer_contexts_are_refused_naming_the_file(tmp_path, model):
    with pytest.raises(HandwritingError, match="order 10: orders 1 to 9"):
        build_language_model(TEXT, ALPHABET, order=10)
    path = _json_file(tmp_path / "deep.lm", model)
    data = json.loads(gzip.decompress(path.read_bytes()))
    path.write_bytes(gzip.compress(json.dumps({**data, "order": 12}).encode()))
    with pytest.raises(HandwritingError, match=r"deep\.lm: language model of order 12"):
        load_language_model(path)
    with pytest.raises(SystemExit):
        main(["lm", "build", str(tmp_path / "t.txt"), "--order", "10", "--out", str(tmp_path / "x.lm")])


def test_a_character_outside_the_alphabet_matches_no_context(model):
    """The context after "catö" has no counts of its own: its estimate is that of the empty context
    after an unknown character, never that of a context the counts hold."""
    unknown = model.log_probs("the catö")
    assert np.isfinite(unknown[1:]).all()
    assert not (unknown == model.log_probs("the cat")).all()
    assert (unknown == model.log_probs("zzzö")).all()  # nothing after an unknown character was counted
