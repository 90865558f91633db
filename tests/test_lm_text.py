"""Text for the LM from Debian's fortune-cookie files and WordNet's glosses, and `lm build` reading them."""

from __future__ import annotations

import os

import pytest

from handwriting.cli import main
from handwriting.errors import HandwritingError
from handwriting.recognition.lm import load_language_model
from handwriting.training.lm_text import fortune_lines, wordnet_examples

COOKIES = """The early bird catches the worm,
but the second mouse gets the cheese.
\t\t-- Steven Wright
%
  (\\_/)   ( o.o )   > ^ <   ###
%
A _\x08b_\x08o_\x08l_\x08d claim needs bold proof.
%
Short.
"""
WORDNET_HEADER = "  1 This software and database is being provided to you by Princeton University.  \n"
WORDNET_ENTRIES = {
    "data.noun": '00001740 03 n 01 entity 0 000 | that which is perceived to exist; "the cat sat on the mat"; "no"\n',
    "data.verb": '00001740 29 v 01 breathe 0 000 | draw air into the lungs; "she breathed deeply before the dive"\n',
    "data.adj": "00001740 00 a 01 able 0 000 | having the means to do something\n",
    "data.adv": '00001837 02 r 01 a_cappella 0 000 | without music; "they performed it a cappella"\n',
}


@pytest.fixture
def fortunes(tmp_path):
    folder = tmp_path / "fortunes"
    folder.mkdir()
    (folder / "sayings").write_text(COOKIES, encoding="utf-8")
    (folder / "sayings.dat").write_bytes(b"\x00\x00\x00\x02\xff\xfe")  # strfile's index
    os.symlink(folder / "sayings", folder / "sayings.u8")
    return folder


@pytest.fixture
def wordnet(tmp_path):
    folder = tmp_path / "wordnet"
    folder.mkdir()
    for name, entries in WORDNET_ENTRIES.items():
        (folder / name).write_text(WORDNET_HEADER + entries, encoding="utf-8")
    return folder


def test_cookie_lines_are_kept_and_art_attributions_overstrikes_and_short_lines_dropped(fortunes):
    assert fortune_lines(fortunes) == ["The early bird catches the worm,", "but the second mouse gets the cheese.",
                                       "A bold claim needs bold proof."]


def test_wordnet_gives_the_quoted_examples_of_its_glosses(wordnet):
    assert wordnet_examples(wordnet) == ["the cat sat on the mat", "she breathed deeply before the dive",
                                         "they performed it a cappella"]


def test_missing_or_empty_folders_are_named(tmp_path, wordnet):
    with pytest.raises(HandwritingError, match=r"nowhere: not a folder of fortune-cookie files"):
        fortune_lines(tmp_path / "nowhere")
    with pytest.raises(HandwritingError, match=r"empty: no fortune-cookie files in it"):
        (tmp_path / "empty").mkdir()
        fortune_lines(tmp_path / "empty")
    (wordnet / "data.adv").unlink()
    with pytest.raises(HandwritingError, match=r"wordnet: no WordNet data\.adv in it"):
        wordnet_examples(wordnet)


def test_lm_build_counts_both_texts(tmp_path, fortunes, wordnet, capsys):
    out = tmp_path / "en.lm"
    assert main(["lm", "build", "--fortunes", str(fortunes), "--wordnet", str(wordnet), "--order", "4",
                 "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    counts = load_language_model(out).counts
    assert counts[" bo"] == {"l": 2.0} and set(counts["ed "]) == {"d", "i"}  # "bold" of the cookies; "breathed deeply", "performed it" of WordNet
    assert main(["lm", "build", "--fortunes", str(tmp_path / "nowhere"), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "nowhere: not a folder of fortune-cookie files" in err and err.count("\n") == 1
