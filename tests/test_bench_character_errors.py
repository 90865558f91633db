"""The lone characters' error sorting of `bench.character_errors`."""

from __future__ import annotations

import numpy as np
import pytest

from bench.character_errors import error_kind, size_threshold_share


@pytest.mark.parametrize("label, read, kind", [
    ("S", "S", None), ("S", "s", "case"), ("x", "X", "case"), ("0", "O", "look-alike"), ("o", "0", "look-alike"),
    ("l", "1", "look-alike"), ("I", "|", "look-alike"), ("t", "+", "shape"), ("9", "g", "shape"), ("o", "", "shape"),
])
def test_each_error_is_sorted_by_what_it_confuses(label, read, kind):
    assert error_kind(label, read) == kind


def test_the_size_threshold_share_is_the_best_split_of_the_heights():
    assert size_threshold_share(np.array([0.2, 0.3]), np.array([0.5, 0.6])) == 1.0  # apart: every one right
    assert size_threshold_share(np.array([0.2, 0.6]), np.array([0.5, 0.3])) == 0.75  # one of four on the wrong side
    assert size_threshold_share(np.array([]), np.array([0.5])) == 1.0
