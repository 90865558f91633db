"""`handwriting pdf` and `handwriting annotate` refuse an ink over the limits `recognize` applies
(HANDWRITING_MAX_RECOGNIZE_POINTS) as `recognize` does: exit 1, one line, no output file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from handwriting.cli import main
from handwriting.formats import read_inks, write_ink
from handwriting.ink import Ink
from handwriting.limits import RECOGNIZE_POINTS

NOTES = Path(__file__).parent.parent / "datasets" / "samples" / "notes"


@pytest.fixture(scope="module")
def long_note(tmp_path_factory) -> Path:
    """A two-page .xopp: a short first page, then a page of 100 strokes over the default limit."""
    rng = np.random.default_rng(0)
    per_stroke = RECOGNIZE_POINTS.default // 100 + 10
    strokes = [np.column_stack([np.linspace(0, 500, per_stroke) + rng.normal(0, 0.5, per_stroke),
                                np.full(per_stroke, 20.0 + 5 * k)]) for k in range(100)]
    path = tmp_path_factory.mktemp("long") / "long.xopp"
    write_ink([read_inks(NOTES / "page.xopp")[0], Ink.from_strokes(strokes)], path)
    return path


@pytest.mark.parametrize("command, suffix", [("pdf", ".pdf"), ("annotate", ".xopp")])
def test_ink_over_the_recognize_limit_is_one_line_and_no_output(tmp_path, capsys, long_note, command, suffix):
    assert read_inks(long_note)[1].num_points > RECOGNIZE_POINTS.value()
    out = tmp_path / f"out{suffix}"
    assert main([command, str(long_note), "--out", str(out), "--no-lm"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines == [f"handwriting {command}: {long_note}: item 1: 101,000 points to recognise in one ink, "
                     f"over the limit of 100,000 (set HANDWRITING_MAX_RECOGNIZE_POINTS to raise it)"]
    assert captured.out == "" and list(tmp_path.iterdir()) == []


def test_the_limit_variable_lowers_it_for_pdf_too(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HANDWRITING_MAX_RECOGNIZE_POINTS", "50")
    out = tmp_path / "note.pdf"
    assert main(["pdf", str(NOTES / "page.xopp"), "--out", str(out), "--no-lm"]) == 1
    assert "over the limit of 50 (set HANDWRITING_MAX_RECOGNIZE_POINTS" in capsys.readouterr().err
    assert not out.exists()
