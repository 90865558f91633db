"""Sampling weights of training data: per data folder and per level of its items (`--weight`)."""

import numpy as np
import pytest

pytest.importorskip("torch")

from handwriting.cli import main  # noqa: E402
from handwriting.errors import HandwritingError  # noqa: E402
from handwriting.ink import Ink  # noqa: E402
from handwriting.training.train import CorpusPart, epoch_indices, weighted_groups  # noqa: E402


def _ink(label: str, level: str | None) -> Ink:
    stroke = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 0.01]])
    return Ink((stroke,), label, "w", {"level": level} if level else {})


def test_levels_weighed_apart_from_the_rest_of_their_folder():
    inks = [_ink("a", "CHARACTER"), _ink("cat", "WORD"), _ink("b", "CHARACTER"), _ink("a cat", "TEXT")]
    groups = dict(weighted_groups(inks, "unipen", {"unipen": 0.5, "unipen/character": 2.0}))
    assert [i.label for i in groups[2.0]] == ["a", "b"]
    assert [i.label for i in groups[0.5]] == ["cat", "a cat"]


def test_without_level_keys_a_folder_is_one_group_in_its_order():
    inks = [_ink("a", "CHARACTER"), _ink("cat", "WORD"), _ink("line", None)]
    assert weighted_groups(inks, "iamondb", {"unipen/character": 2.0}) == [(1.0, inks)]
    assert weighted_groups(inks, "unipen", {"unipen": 0.3}) == [(0.3, inks)]


def test_a_level_the_folder_does_not_have_is_an_error():
    inks = [_ink("a", "CHARACTER"), _ink("cat", "WORD")]
    with pytest.raises(HandwritingError, match=r"--weight unipen/charcter: no training item of unipen has that "
                                               r"level \(its levels: character, word\)"):
        weighted_groups(inks, "unipen", {"unipen/charcter": 2.0})
    with pytest.raises(HandwritingError, match=r"its levels: none"):
        weighted_groups([_ink("line", None)], "iamondb", {"iamondb/character": 2.0})


def test_epoch_draws_a_fresh_share_below_one_and_whole_repeats_above():
    parts = [CorpusPart(0, 100, 0.5), CorpusPart(100, 110, 2.0)]
    first, second = epoch_indices(parts, seed=0, epoch=1), epoch_indices(parts, seed=0, epoch=2)
    assert np.sum(first < 100) == 50 and len(set(first[first < 100])) == 50
    assert set(first[first < 100]) != set(second[second < 100])  # another half each epoch
    assert np.bincount(first[first >= 100] - 100).tolist() == [2] * 10


@pytest.mark.parametrize("weight, message", [
    ("unipen=half", "--weight expects FOLDER=NUMBER or FOLDER/LEVEL=NUMBER"),
    ("unipn/character=1", "--weight unipn/character: no data folder of that name in --data"),
])
def test_bad_weights_are_one_clear_error(tmp_path, capsys, weight, message):
    code = main(["train", "--data", str(tmp_path / "unipen"), "--out", str(tmp_path / "run"), "--weight", weight])
    assert code != 0
    assert message in capsys.readouterr().err
