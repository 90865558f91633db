"""bench.adaptation: the held-out writer's lines are found from the corpus files and split by
form, so that no test line shares a form (a text written in one sitting) with an adaptation line."""

from __future__ import annotations

from pathlib import Path

from bench.adaptation import split_by_form, writer_lines

CORPUS = Path(__file__).parent.parent / "datasets" / "samples" / "iamondb"


def test_writer_lines_come_from_writers_tsv_with_their_labels():
    lines = writer_lines(CORPUS, {"iamondb:10028"})
    assert [p.name for p in lines["iamondb:10028"]] == ["a01-001z-01.xml", "a01-001z-02.xml"]
    assert writer_lines(CORPUS, {"iamondb:99999"}) == {}


def test_split_by_form_keeps_forms_whole():
    lines = [Path(f"{form}-{n:02d}.xml") for form, count in (("a01-001z", 4), ("b02-002z", 3), ("c03-003z", 5))
             for n in range(1, count + 1)]
    adapt, test = split_by_form(lines, 5)
    assert [p.name[:8] for p in adapt] == ["a01-001z"] * 4 + ["b02-002z"] * 3
    assert [p.name[:8] for p in test] == ["c03-003z"] * 5
    assert split_by_form(lines, 1) == (lines[:4], lines[4:])
