"""UNIPEN reader: includes, block numbering, delineations, labels, timing, item errors."""

from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, SHARED_DATASETS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handwriting.errors import InkFormatError
from handwriting.formats import detect_format, read_inks, unipen
from handwriting.ink import Ink

CORPUS = FIXTURES / "unipen"
TST = CORPUS / "data"


def _items(rel: str) -> list:
    return unipen.read_items(TST / rel)


def _by_label(rel: str) -> dict[str, Ink]:
    return {i.label: i for i in _items(rel) if isinstance(i, Ink)}


def _xy(ink: Ink) -> list[list[tuple[float, float]]]:
    return [[(float(x), float(y)) for x, y in s[:, :2]] for s in ink.strokes]


# -- detection and corpus helpers -------------------------------------------------------
def test_sniff_and_suffixes():
    assert unipen.sniff(b".VERSION 1.0\n.INCLUDE a/b.dat\n")
    assert unipen.sniff(b"\n.PEN_DOWN\n1 2\n")
    assert not unipen.sniff(b"<ink><trace>1 2</trace></ink>")
    assert not unipen.sniff(b"text mentioning .SEGMENT mid-line")
    assert {".dat", ".unp", ".unipen"} <= set(unipen.SUFFIXES)
    assert detect_format(TST / "1c" / "tst" / "w1.dat") == "unipen"


def test_corpus_files_and_category():
    files = unipen.corpus_files(CORPUS)
    rel = [f.relative_to(TST).as_posix() for f in files]
    assert sorted(rel) == sorted(p.relative_to(TST).as_posix() for p in TST.rglob("*.dat"))
    # files sharing the path below the category come together
    assert rel.index("6/tst/w1.dat") == rel.index("1c/tst/w1.dat") + 1
    assert unipen.category_of(TST / "1c" / "tst" / "w1.dat") == "1c"
    assert unipen.category_of(CORPUS / "include" / "tst" / "data" / "w1.dat") is None
    with pytest.raises(InkFormatError):
        unipen.corpus_files(CORPUS / "include")


def test_is_placeholder():
    for label in ("", "  ", "XXX", "Word!", "\\@", "jack the wizard XXX", None):
        assert unipen.is_placeholder(label), label
    for label in ("?", "a", "XXXL", "the", "t\\@h\\@e"):
        assert not unipen.is_placeholder(label), label


# -- blocks, delineations, timing ----------------------------------------------------------
def test_nested_includes_and_meta():
    a = _by_label("1c/tst/w1.dat")["a"]
    assert a.writer == "writer1"
    assert a.meta["category"] == "1c" and a.meta["contributor"] == "tst"
    assert a.meta["level"] == "CHARACTER" and a.meta["quality"] == "OK"
    assert a.meta["points_per_second"] == 100.0
    assert a.meta["resolution_dpi"] == pytest.approx((500.0, 508.0))
    assert a.meta["line"] == 3 and a.meta["segment"] == 0 and a.meta["placeholder"] is False


def test_y_is_flipped_and_rate_gives_time():
    a = _by_label("1c/tst/w1.dat")["a"]
    assert _xy(a) == [[(10, -100), (20, -110), (30, -120)]]
    assert a.strokes[0][:, 2].tolist() == [0.0, 10.0, 20.0]
    assert not a.has_pressure


def test_empty_blocks_not_counted_and_pen_up_not_ink():
    inks = _by_label("1c/tst/w1.dat")
    # 0-2 spans block 0, the pen-up block 1 (skipped) and block 2; empty blocks are not numbered
    assert _xy(inks["b"]) == [[(10, -100), (20, -110), (30, -120)], [(40, -100), (50, -90)]]
    assert inks["b"].strokes[1][:, 2].tolist() == [50.0, 60.0]  # pen-up points take time too


def test_lists_and_dt():
    c = _by_label("1c/tst/w1.dat")["c"]
    assert [len(s) for s in c.strokes] == [3, 4, 2]
    assert c.strokes[1][0, 2] == 570.0  # 70 ms of blocks + .DT 500
    assert _xy(c)[2] == [(100, -40), (110, -30)]  # numbers on the .PEN_DOWN line


def test_point_delineation_is_inclusive():
    d = _by_label("1c/tst/w1.dat")["d"]
    assert _xy(d) == [[(70, -70), (80, -60), (90, -50)], [(100, -40)]]
    assert [s[0, 2] for s in d.strokes] == [0.0, 30.0]


def test_start_set_restarts_numbering():
    inks = _by_label("1c/tst/w1.dat")
    assert _xy(inks["x"]) == [[(1, -2), (3, -4)]]
    assert _xy(inks["y"]) == [[(5, -6)]]
    assert inks["x"].writer == "writer2"


def test_bad_blocks_are_item_errors_and_unlabelled_segments_skipped():
    items = _items("1c/tst/w1.dat")
    assert [i.label if isinstance(i, Ink) else "ERR" for i in items] == ["a", "b", "c", "d", "ERR", "ERR", "x", "y"]
    missing, pen_up_only = items[4], items[5]
    assert missing.where == 7 and "block 9 does not exist" in missing.reason
    assert "w1.dat" in str(missing)
    assert "no pen-down" in pen_up_only.reason


def test_t_and_p_channels():
    ink = _by_label("7/tst/timed.dat")["it"]
    assert [s[:, 2].tolist() for s in ink.strokes] == [[0.0, 15.0], [100.0, 115.0]]
    assert [s[:, 3].tolist() for s in ink.strokes] == [[10.0, 20.0], [30.0, 40.0]]
    assert ink.meta["points_per_second"] is None


# -- labels -------------------------------------------------------------------------------------
def test_labels_escapes_and_placeholders():
    inks = _by_label("6/tst/w1.dat")
    assert set(inks) == {"XXX", 'say "hi" \\o/', "t\\@h\\@e", "\\@", "two lines", "?", "Word!"}
    flagged = {label for label, ink in inks.items() if ink.meta["placeholder"]}
    assert flagged == {"XXX", "\\@", "Word!"}
    assert inks["XXX"].meta["level"] == "WORD" and inks["XXX"].num_strokes == 4


def test_contributor_sample_with_included_header():
    inks = unipen.read(TST / "1c" / "pri" / "pri0" / "159.3.dat")
    assert [i.label for i in inks] == ["a", "c"]
    assert inks[0].writer == "159" and inks[0].num_points == 55
    assert inks[0].meta["resolution_dpi"] == pytest.approx((1016.0, 1016.0))
    assert inks[0].duration_ms == pytest.approx(54 * 1000 / 135)


# -- failures -----------------------------------------------------------------------------------
def test_missing_include_is_an_item_error():
    items = _items("8/tst/missing.dat")
    assert len(items) == 2 and all(isinstance(i, InkFormatError) for i in items)
    assert items[0].where == 4 and "tst/data/gone.dat" in items[0].reason
    with pytest.raises(InkFormatError, match="gone.dat"):
        unipen.read(TST / "8" / "tst" / "missing.dat")
    with pytest.raises(InkFormatError, match="gone.dat"):
        read_inks(TST / "8" / "tst" / "missing.dat")


def test_include_cycle_is_reported():
    (item,) = _items("2/tst/cycle.dat")
    assert isinstance(item, InkFormatError) and "include cycle" in item.reason


def test_include_depth_is_limited(tmp_path: Path):
    depth = unipen.MAX_INCLUDE_DEPTH + 2
    for k in range(depth):
        (tmp_path / f"f{k}.inc").write_text(f".INCLUDE f{k + 1}.inc\n")
    (tmp_path / f"f{depth}.inc").write_text(".COORD X Y\n.PEN_DOWN\n1 2\n")
    (tmp_path / "top.unp").write_text('.INCLUDE f0.inc\n.SEGMENT WORD 0 ? "w"\n')
    (item,) = unipen.read_items(tmp_path / "top.unp")
    assert isinstance(item, InkFormatError) and "nested deeper" in item.reason


def test_unreadable_file_raises(tmp_path: Path):
    with pytest.raises(InkFormatError):
        unipen.read_items(tmp_path / "absent.dat")
    with pytest.raises(InkFormatError):
        unipen.read(tmp_path)


@pytest.mark.parametrize(
    "body, reason",
    [
        ('.COORD X Y\n.PEN_DOWN\n1 2\n3 x\n.SEGMENT WORD 0 ? "w"\n', "not a number"),
        ('.COORD X Y T\n.PEN_DOWN\n1 2\n3 4\n.SEGMENT WORD 0 ? "w"\n', "do not make points"),
        ('.COORD X Y\n.PEN_DOWN\n1 2\n.SEGMENT WORD 0:5 ? "w"\n', "fewer than"),
        ('.COORD X Y\n.PEN_DOWN\n1 2\n.SEGMENT WORD 2-1 ? "w"\n', "backwards"),
        ('.COORD X Y\n.PEN_DOWN\n1 2\n.SEGMENT WORD 0 ? "w\n', "unterminated"),
        ('.COORD X Y\n.PEN_DOWN\n1 2\n.SEGMENT WORD ? ? "w"\n', "no block delineation"),
        ('.COORD X Y\n.PEN_DOWN\n1 2\n.SEGMENT WORD 0-a ? "w"\n', "bad delineation"),
        ('.COORD X Y\n.PEN_DOWN\n1 inf\n.SEGMENT WORD 0 ? "w"\n', "non-finite"),
    ],
)
def test_malformed_segments_are_item_errors(tmp_path: Path, body: str, reason: str):
    (tmp_path / "x.unp").write_text(body)
    (item,) = unipen.read_items(tmp_path / "x.unp")
    assert isinstance(item, InkFormatError) and reason in item.reason
    assert item.where == body.count("\n", 0, body.index(".SEGMENT")) + 1


def test_pen_data_without_segments_reads_as_one_ink(tmp_path: Path):
    (tmp_path / "x.unp").write_text(".COORD X Y\n.POINTS_PER_SECOND 50\n.PEN_DOWN\n1 2\n3 4\n.PEN_UP\n.PEN_DOWN\n5 6\n")
    (ink,) = unipen.read(tmp_path / "x.unp")
    assert ink.label is None and _xy(ink) == [[(1, -2), (3, -4)], [(5, -6)]]
    assert ink.strokes[1][0, 2] == 40.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400) | st.lists(st.sampled_from(
    [b".PEN_DOWN\n", b".PEN_UP\n", b"1 2\n", b"3 4 5\n", b"-1e400 7\n", b".COORD X Y T\n", b".COORD Q\n",
     b".START_SET\n", b".DT 9\n", b".INCLUDE nowhere.dat\n", b".INCLUDE x.unp\n", b'.SEGMENT W 0 ? "a"\n',
     b'.SEGMENT W 0:1-1:99,3 OK "\\"b\\\\"\n', b".SEGMENT W 99999999999999999999 ?\n", b"\xff\x00\r\n"]),
    max_size=30).map(b"".join))
def test_any_bytes_give_items_or_inkformaterror(tmp_path: Path, data: bytes):
    path = tmp_path / "x.unp"
    path.write_bytes(data)
    try:
        items = unipen.read(path)
    except InkFormatError:
        return
    assert all(isinstance(i, Ink) for i in items)


# -- the real corpus, when present -----------------------------------------------------------
def _real_corpus() -> Path | None:
    for root in (SHARED_DATASETS / "unipen", Path(__file__).resolve().parents[2] / "data" / "unipen"):
        if (root / "data").is_dir() and (root / "include").is_dir():
            return root
    return None


def test_real_corpus_file():
    root = _real_corpus()
    if root is None:
        pytest.skip("no extracted UNIPEN corpus (data/ + include/) found")
    path = root / "data" / "1a" / "pri" / "pri0" / "159.3.dat"
    if not path.is_file():
        path = unipen.corpus_files(root)[0]
    inks = unipen.read(path)
    assert inks and all(i.label is not None and i.num_points > 0 for i in inks)
    assert inks[0].meta["category"] == unipen.category_of(path)
    assert np.isfinite(inks[0].points()[:, :3]).all()
