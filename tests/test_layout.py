"""Page layout by geometry: lines found by where the strokes lie, whatever order they were written in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handwriting.formats import read_inks
from handwriting.ink import Ink
from handwriting.recognition.layout import find_lines, updated_lines

pytest.importorskip("HersheyFonts")
from handwriting.training.synth import synthesize  # noqa: E402

FORM = Path(__file__).parent.parent / "datasets" / "samples" / "iamondb" / "lineStrokes" / "a01" / "a01-001"
SPACING = 45.0  # font units between lines (a capital is about 21 high, descenders reach about 9 below the line)


def written(text: str, x: float = 0.0, y: float = 0.0) -> list[np.ndarray]:
    """The strokes of `text` in the script font, moved to (x, y)."""
    return [s + [x, y, 0.0, 0.0] for s in synthesize(text).strokes]


def page(*parts: list[np.ndarray]) -> Ink:
    """An ink of the stroke lists `parts` in the given order, times running on from part to part."""
    strokes, clock = [], 0.0
    for part in parts:
        for s in part:
            s = s.copy()
            s[:, 2] = clock + (s[:, 2] - part[0][0, 2])
            strokes.append(s)
        clock = strokes[-1][-1, 2] + 500.0
    return Ink(tuple(strokes))


def ids(strokes: list[np.ndarray], ink: Ink) -> list[int]:
    """Indices in `ink` of the given strokes (found by their points)."""
    found = []
    for s in strokes:
        found += [k for k, t in enumerate(ink.strokes) if t.shape == s.shape and np.allclose(t[:, :2], s[:, :2])]
    return found


TEXT = ("Tuesday we met the quick", "brown fox jumping over", "the lazy dog again")


def test_a_single_line_is_one_line_in_writing_order():
    ink = page(written(TEXT[0]))
    lines = find_lines(ink)
    assert len(lines) == 1 and lines[0].strokes == tuple(range(ink.num_strokes))


@pytest.mark.parametrize("text", ["The Tall Fox jumped", "Eight Fine Things"])
def test_capitals_bars_over_their_letters_do_not_make_a_second_line(text):
    # a T's or F's bar lies over letters a little lower: one line, not a line above another
    assert len(find_lines(synthesize(text, "timesr"))) == 1


def segment(start: tuple[float, float], end: tuple[float, float], points: int = 8) -> np.ndarray:
    """A straight stroke from `start` to `end`."""
    t = np.linspace(0.0, 1.0, points)[:, None]
    xy = np.array(start) + (np.array(end) - np.array(start)) * t
    return np.column_stack([xy, 50.0 * t, np.zeros(points)])


@pytest.mark.parametrize("rest", ["im", "ames", "im on"])
def test_a_capitals_bar_written_high_over_one_word_is_not_a_line(rest):
    # a J's stem and its wide bar just above it, then small letters (x-height 9): the only
    # pieces one above the other are the bar and its stem, no measure of a line spacing
    stem, bar = segment((8, -5.4), (8, 9)), segment((0, -10.4), (30, -5.6))
    assert len(find_lines(page([stem, bar], written(rest, 12, 0)))) == 1


# shapes traced (7 points a stroke) from lone words and capitals of held-out writers, cut in two before
WRITTEN_APART = {
    "T": [[(46, 10), (44, 24), (32, 59), (29, 75), (29, 83)], [(0, 8), (5, 8), (24, 7), (57, 5), (84, 0), (100, 3)]],
    "I": [[(50, 11), (49, 14), (46, 31), (46, 44), (47, 60), (48, 77), (47, 83)],
          [(0, 92), (16, 91), (42, 87), (79, 83), (100, 82)], [(9, 11), (14, 7), (26, 3), (47, 0), (57, 0), (69, 1), (79, 4)]],
    "Trier": [[(25, 10), (24, 14), (25, 16), (25, 24), (26, 30), (25, 32), (25, 34)],
              [(4, 10), (0, 5), (0, 2), (4, 0), (17, 0), (27, 2), (38, 3)],
              [(49, 28), (45, 37), (45, 37), (46, 31), (47, 24), (48, 24), (54, 26)],
              [(61, 26), (58, 30), (66, 31), (70, 27), (67, 29), (69, 32), (76, 30)],
              [(68, 14), (67, 13), (67, 13), (67, 13), (67, 14), (68, 15), (70, 16)],
              [(78, 24), (78, 28), (80, 34), (80, 33), (80, 28), (84, 25), (100, 24)]],
}


# lone words of held-out writers (traced likewise), cut in two before: a mark or a hook written
# apart from the word, and no letter under another letter to measure a line spacing by
MARKED_APART = {
    "'can": [[(7, 0), (5, 2), (2, 5), (0, 8)], [(24, 33), (20, 34), (17, 35), (15, 37), (14, 43), (19, 48), (23, 48)],
             [(68, 34), (60, 36), (52, 45), (60, 49), (67, 47), (72, 42), (72, 38)],
             [(81, 34), (83, 41), (83, 50), (82, 50), (89, 43), (99, 46), (99, 51)], [(68, 34), (67, 36), (68, 38), (68, 42), (70, 47)]],
    "in": [[(12, 41), (10, 33), (8, 35), (7, 40), (10, 61), (15, 86), (15, 91)], [(1, 15), (0, 9), (0, 4), (2, 0)],
           [(51, 73), (47, 85), (47, 84), (59, 77), (73, 71), (88, 75), (100, 81)]],
    "'em": [[(0, 0), (1, 2), (1, 7), (2, 12)], [(20, 47), (31, 43), (38, 35), (32, 33), (26, 39), (27, 53), (37, 56)],
            [(58, 44), (60, 52), (71, 44), (79, 52), (83, 50), (93, 44), (100, 57)]],
    '"even': [[(1, 2), (1, 2), (1, 4), (0, 7), (0, 10), (0, 14), (1, 15)], [(16, 0), (14, 2), (13, 3), (13, 6), (13, 8)],
              [(18, 41), (19, 41), (26, 40), (29, 36), (22, 38), (19, 44), (25, 47)],
              [(38, 38), (39, 43), (43, 47), (49, 48), (51, 46), (55, 40), (57, 36)],
              [(65, 38), (78, 33), (69, 38), (81, 40), (82, 36), (88, 39), (100, 41)]],
    "car?": [[(10, 34), (8, 34), (6, 34), (1, 37), (0, 42), (2, 45), (10, 47)],
             [(35, 34), (29, 37), (27, 45), (33, 44), (38, 39), (41, 44), (44, 48)],
             [(53, 38), (54, 44), (55, 49), (55, 48), (56, 42), (59, 36), (65, 36)],
             [(75, 1), (76, 0), (89, 6), (98, 12), (98, 21), (90, 32), (93, 41)], [(98, 66)]],
}


def traced(strokes: list[list[tuple[int, int]]]) -> Ink:
    """An ink of the traced strokes (points in whole units)."""
    return Ink.from_strokes([[(float(x), float(y)) for x, y in stroke] for stroke in strokes])


@pytest.mark.parametrize("text", WRITTEN_APART)
def test_a_capitals_bar_written_apart_from_its_stem_is_not_a_line(text):
    # the bar, longer than the letters are tall, sets the typical piece height, and the stem
    # under it looks a line spacing away; the bar is a line of one piece much less tall than
    # the stem it nearly touches
    ink = traced(WRITTEN_APART[text])
    assert [line.strokes for line in find_lines(ink)] == [tuple(range(ink.num_strokes))]


@pytest.mark.parametrize("text", MARKED_APART)
def test_a_mark_written_apart_from_a_lone_word_is_not_a_line(text):
    # quotes or an i-dot far above, a question mark's hook beside: in an ink with no letter
    # under another, a line of a piece or two beside the word's line is part of it
    ink = traced(MARKED_APART[text])
    assert [len(line.strokes) for line in find_lines(ink)] == [ink.num_strokes]


@pytest.mark.parametrize("where", ["under", "below left", "above right"])
def test_a_short_line_beside_a_lone_word_stays_a_line(where):
    # no letter lies under another (only small letters under the word, or none), but the short
    # line is no mark of the word's: joined and read left to right they would mix or change places
    word = written("yes")
    width = max(s[:, 0].max() for s in word)
    x, y = {"under": (-40.0, 41.0), "below left": (-200.0, SPACING), "above right": (width + 60, -SPACING)}[where]
    short = written("ok a", x, y)
    ink = page(word, short)
    expected = [ids(word, ink), ids(short, ink)]
    assert [list(line.strokes) for line in find_lines(ink)] == (expected[::-1] if where == "above right" else expected)


def loop(x: float, y: float, radius: float) -> np.ndarray:
    """A closed loop of `radius` around (x, y)."""
    t = np.linspace(0.0, 2 * np.pi, 12)[:, None]
    return np.column_stack([x + radius * np.cos(t), y + radius * np.sin(t), 10.0 * t, np.zeros((12, 1))])


@pytest.mark.parametrize("strokes", [
    [loop(5, 0, 1.5), loop(5, 20, 1.5)],  # a colon's dots, far apart for their size
    [segment((0, 74), (0, 100)), segment((5, 0), (11, 11), 4)],  # an i, its dot a tick far above the stem
    [loop(5, 0, 6), loop(5, 14, 7)],  # an 8 written as two loops
], ids=[":", "i", "8"])
def test_a_lone_character_of_pieces_one_over_another_is_one_line(strokes):
    assert [line.strokes for line in find_lines(page(strokes))] == [tuple(range(len(strokes)))]


def test_a_short_last_line_under_its_paragraph_stays_a_line():
    # lines set close (the descenders of one line reach near the next one's ascenders), the
    # last one a single short word: it is less tall than the line above it but a line
    spacing = 30.0
    rows = [written(TEXT[0]), written(TEXT[1], 0, spacing), written("it.", 0, 2 * spacing)]
    assert len(find_lines(page(*rows))) == 3


def test_quotes_high_before_the_words_of_a_line_do_not_cut_it_in_two():
    left = written("screamed at him.")
    ys = np.concatenate([s[:, 1] for s in left])
    height = np.ptp(ys)
    x = max(s[:, 0].max() for s in left) + 2.5 * height
    quotes = [segment((x + dx, ys.min() - 1.2 * height), (x + dx, ys.min() - 0.6 * height), 4) for dx in (0, 0.4 * height)]
    lines = find_lines(page(left, quotes, written("No pink!", x + 1.2 * height, 0)))
    assert len(lines) == 1


def test_a_rising_line_is_one_line():
    ink = page(written(" ".join(TEXT))).transformed(np.array([[1.0, 0.0], [-0.08, 1.0]]))  # rises 8 % to the right
    assert len(find_lines(ink)) == 1


def test_lines_written_in_any_order_are_found_in_their_places():
    rows = [written(text, 0, SPACING * n) for n, text in enumerate(TEXT)]
    in_order, shuffled = page(*rows), page(rows[2], rows[0], rows[1])
    assert [line.strokes for line in find_lines(in_order)] == [tuple(ids(row, in_order)) for row in rows]
    assert [line.strokes for line in find_lines(shuffled)] == [tuple(ids(row, shuffled)) for row in rows]


def test_a_word_added_later_reads_in_its_place():
    before, word, after = written("the quick"), written("brown", 125), written("fox", 222)
    ink = page(before + after, written(TEXT[2], 0, SPACING), word)  # "brown" written last, into the gap
    first = find_lines(ink)[0]
    assert first.strokes == tuple(ids(before + word + after, ink))
    assert [g.strokes for g in first.words][2] == tuple(ids(word, ink))


def test_a_margin_note_is_a_block_of_its_own_read_after_the_text():
    rows = [written(text, 0, SPACING * n) for n, text in enumerate(TEXT)]
    right = max(float(s[:, 0].max()) for row in rows for s in row)
    note = written("see me", right + 120, SPACING * 0.6)
    ink = page(rows[0], note, rows[1], rows[2])
    lines = find_lines(ink)
    assert [line.strokes for line in lines] == [tuple(ids(part, ink)) for part in (*rows, note)]


def test_dots_written_at_the_end_stay_with_their_letters():
    strokes = written("it is in this city")
    dots = [k for k, s in enumerate(strokes) if np.ptp(s[:, 0]) < 2 and np.ptp(s[:, 1]) < 2]
    assert len(dots) == 5
    late = [s for k, s in enumerate(strokes) if k not in dots] + [strokes[k] for k in dots]
    ink = page(late, written(TEXT[1], 0, SPACING))
    lines = find_lines(ink)
    assert len(lines) == 2 and set(lines[0].strokes) == set(ids(strokes, ink))
    for word in lines[0].words:  # every dot sits in the word holding the letter under it
        for k in word.strokes:
            if np.ptp(ink.strokes[k][:, 0]) < 2:
                x = ink.strokes[k][0, 0]
                assert word.bbox[0] <= x <= word.bbox[2]
    first = lines[0].words[0]  # "it": stem, t, then the dot written at the end, in writing order
    assert first.strokes == tuple(sorted(ids([strokes[k] for k in range(dots[1]) if k not in dots] + [strokes[0]], ink)))


def test_lines_that_overlap_by_their_descenders_stay_apart():
    first, second = read_inks(FORM / "a01-001z-01.xml")[0], read_inks(FORM / "a01-001z-02.xml")[0]
    assert first.bounds()[3] > second.bounds()[1] - 200  # descenders reach down to the next line's ascenders
    lines = find_lines(Ink(second.strokes + first.strokes))
    assert [set(line.strokes) for line in lines] == [set(range(second.num_strokes, second.num_strokes + first.num_strokes)),
                                                      set(range(second.num_strokes))]


def test_words_and_lines_have_boxes_around_their_strokes():
    ink = page(*[written(text, 0, SPACING * n) for n, text in enumerate(TEXT)])
    for line in find_lines(ink):
        assert sorted(line.strokes) == sorted(k for w in line.words for k in w.strokes)
        assert len(line.words) == len(TEXT[0].split()) or len(line.words) >= 3
        for box, strokes in [(line.bbox, line.strokes)] + [(w.bbox, w.strokes) for w in line.words]:
            points = np.concatenate([ink.strokes[k] for k in strokes])
            assert box == pytest.approx((points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()))


def test_an_empty_ink_has_no_lines_and_a_dot_is_a_line():
    assert find_lines(Ink(())) == []
    assert [line.strokes for line in find_lines(Ink.from_strokes([[[3.0, 4.0]]]))] == [(0,)]


def test_bars_one_over_another_are_one_line_as_an_equals_sign():
    equals = Ink.from_strokes([[[0, 0], [30, 1]], [[2, 15], [31, 14]]])
    assert [line.strokes for line in find_lines(equals)] == [(0, 1)]
    far_apart = Ink.from_strokes([[[0, 0], [30, 1]], [[2, 60], [31, 59]]])  # taller than wide: two rules
    assert len(find_lines(far_apart)) == 2


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4)), min_size=1, max_size=12), min_size=1, max_size=40))
def test_every_stroke_is_in_exactly_one_line_and_word(strokes):
    ink = Ink.from_strokes(strokes)
    lines = find_lines(ink)
    assert sorted(k for line in lines for k in line.strokes) == list(range(ink.num_strokes))
    assert all(line.strokes == tuple(k for word in line.words for k in word.strokes) for line in lines)


def test_a_page_being_written_is_laid_out_again_only_where_the_pen_is():
    rows = [written(text, 0, SPACING * n) for n, text in enumerate(TEXT)]
    ink = page(*rows)
    lines = find_lines(ink)
    last = ink.strokes[-1]
    shorter = Ink(ink.strokes[:-1] + (last[: len(last) // 2],))
    assert updated_lines(shorter, find_lines(shorter), ink) == lines  # the last stroke grew, in its line
    below = ink.strokes + tuple(written("next", 0, 3 * SPACING))
    assert updated_lines(ink, lines, Ink(below)) == find_lines(Ink(below))  # a new line: laid out again
    assert len(updated_lines(ink, lines, Ink(below))) == 4
