"""Note-app formats: Xournal++ .xopp / Xournal .xoj, reMarkable v6 .rm, CSV of points."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from handwriting.errors import InkFormatError
from handwriting.formats import detect_format, read_inks, write_ink, xournal
from handwriting.ink import P, Ink
from handwriting.formats.page import PAGE, PENS, PT_PER_UNIT, is_timed, page_of

NOTES = Path(__file__).parent.parent / "datasets" / "samples" / "notes"


# -- Xournal++ ----------------------------------------------------------------------------


def test_xopp_pages_are_items_with_every_layer_and_only_pen_strokes():
    pages = read_inks(NOTES / "page.xopp")
    assert detect_format(NOTES / "page.xopp") == "xournal"
    assert len(pages) == 2
    first, second = pages
    assert first.meta[PAGE] == (0.0, 0.0, 595.27559, 841.88976) and second.meta[PAGE][3] == 420.0
    colors = {color for _, color in first.meta[PENS]}
    assert colors == {"#000000ff", "#3333ccff"}  # both layers; the yellow highlighter is left out
    assert len(first.meta[PENS]) == first.num_strokes
    ys = first.points()[:, 1]
    assert ys.min() > 60 and ys.max() < 260  # three lines of writing, nothing from the image at y 300
    assert not any(len(s) == 2 and s[0, 0] == 50 for s in first.strokes)  # nor the highlighter
    assert not first.has_pressure and second.has_pressure
    assert np.nanmax(second.points()[:, P]) <= 1.0 + 1e-9  # pressure = per-point width / pen width
    assert not is_timed(first) and all(np.isfinite(s[:, 2]).all() for s in first.strokes)


def test_xoj_plain_xml_with_colour_names_and_an_eraser():
    (ink,) = read_inks(NOTES / "old.xoj")
    assert {color for _, color in ink.meta[PENS]} == {"#3333ccff"}  # "blue"; the eraser stroke is skipped
    assert ink.meta[PAGE][2:] == (612.0, 792.0)


def test_xopp_round_trip_keeps_points_pages_pens_and_pressure(tmp_path):
    pages = read_inks(NOTES / "page.xopp")
    write_ink(pages, tmp_path / "copy.xopp")
    assert (tmp_path / "copy.xopp").read_bytes()[:2] == b"\x1f\x8b"
    again = read_inks(tmp_path / "copy.xopp")
    for a, b in zip(pages, again):
        assert a.same_as(b, atol=1e-4)  # times are made up the same way on both sides
        assert a.meta[PAGE] == pytest.approx(b.meta[PAGE], abs=1e-4)
        assert a.meta[PENS] == b.meta[PENS]


def test_writing_ink_without_a_page_fits_it_on_a_page_and_doubles_single_points(tmp_path):
    ink = Ink.from_strokes([[[1000, 2000], [9000, 2500]], [[5000, 3000]]])  # whiteboard units, a dot
    write_ink(ink, tmp_path / "wide.xoj")
    (back,) = read_inks(tmp_path / "wide.xoj")
    page = page_of(ink)
    assert back.meta[PAGE][2:] == pytest.approx(page.size_pt, abs=1e-3)
    assert page.size_pt[0] == pytest.approx(595.0)  # scaled down to A4 width
    assert [len(s) for s in back.strokes] == [2, 2]
    x, y = page.to_pt(5000, 3000)
    assert back.strokes[1][0, :2] == pytest.approx([x, y], abs=1e-3)


@pytest.mark.parametrize("body, message", [
    (b"<xournal><page width='10' height='10'><layer><stroke tool='pen' width='1'>1 2 3</stroke></layer></page></xournal>",
     "page 1, layer 1, stroke 1: 3 coordinates"),
    (b"<xournal><page width='10' height='10'><layer><stroke width='1'>1 2 x 4</stroke></layer></page></xournal>",
     "not a number: 'x'"),
    (b"<xournal><page width='10'><layer/></page></xournal>", "page 1 height: not a number: None"),
    (b"<xournal></xournal>", "no <page>"),
    (b"<ink><trace>1 2</trace></ink>", "not <xournal>"),
])
def test_bad_xournal_files_get_one_clear_line(tmp_path, body, message):
    path = tmp_path / "bad.xopp"
    path.write_bytes(gzip.compress(body))
    with pytest.raises(InkFormatError) as err:
        read_inks(path, "xournal")
    assert str(err.value).startswith(str(path)) and message in str(err.value)


def test_gzip_bomb_and_cut_gzip_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDWRITING_MAX_INFLATE_RATIO", "1000000")
    monkeypatch.setenv("HANDWRITING_MAX_INFLATED_MB", "1")
    bomb = tmp_path / "bomb.xopp"
    bomb.write_bytes(gzip.compress(b"<xournal>" + b" " * (3 << 20) + b"</xournal>"))
    assert bomb.stat().st_size < 10_000
    with pytest.raises(InkFormatError, match="decompresses to over 1 MB"):
        read_inks(bomb)
    cut = tmp_path / "cut.xopp"
    cut.write_bytes((NOTES / "page.xopp").read_bytes()[:3000])
    with pytest.raises(InkFormatError, match="cut short"):
        read_inks(cut)


def test_text_layer_is_added_once_and_xournal_reads_past_it(tmp_path):
    root = xournal.load_document(NOTES / "page.xopp")
    for _ in range(2):
        xournal.add_text_layer(root, [[("hello", 60.0, 80.0, 14.0)], [("page", 40.0, 60.0, 12.0)]])
    xournal.save_document(root, tmp_path / "a.xopp")
    root = xournal.load_document(tmp_path / "a.xopp")
    layers = [[layer.get("name") for layer in page.iter("layer")] for page in root.iter("page")]
    assert layers == [[None, "second", xournal.TEXT_LAYER], [None, xournal.TEXT_LAYER]]
    texts = [t.text for t in root.iter("text")]
    assert texts == ["typed, not written", "hello", "page"]
    assert [i.num_points for i in read_inks(tmp_path / "a.xopp")] == [i.num_points for i in read_inks(NOTES / "page.xopp")]


# -- reMarkable ---------------------------------------------------------------------------


def test_remarkable_page_visible_pen_lines_only():
    pytest.importorskip("rmscene", reason="rmscene not installed (pip install 'handwriting[remarkable]')")
    (ink,) = read_inks(NOTES / "page.rm")
    assert detect_format(NOTES / "page.rm") == "remarkable"
    ys = ink.points()[:, 1]
    assert 200 < ys.min() and ys.max() < 600  # two written lines; the hidden layer's line (y 616-730) is left out
    assert not any(s[0, 0] == -520 for s in ink.strokes)  # nor the highlighter
    assert len(ink.meta[PENS]) == ink.num_strokes and ink.meta[PENS][0] == (2.0, "#000000ff")
    assert ink.meta[PT_PER_UNIT] == pytest.approx(72 / 226)
    left, top, width, height = ink.meta[PAGE]
    assert (left, top, width, height) == (-702.0, 0.0, 1404.0, 1872.0)
    pressure = ink.points()[:, P]
    assert set(np.round(pressure * 255).astype(int)) == {100, 200}
    assert not is_timed(ink)


def test_remarkable_without_rmscene_or_of_an_old_version_says_what_to_do(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_rmscene(name, *args, **kwargs):
        if name.startswith("rmscene"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_rmscene)
    with pytest.raises(InkFormatError, match=r"pip install 'handwriting\[remarkable\]'"):
        read_inks(NOTES / "page.rm")
    old = tmp_path / "v5.rm"
    old.write_bytes(b"reMarkable .lines file, version=5          " + bytes(100))
    with pytest.raises(InkFormatError, match="only version 6"):
        read_inks(old)


# -- CSV ----------------------------------------------------------------------------------


def test_csv_with_and_without_header_read_the_same_strokes():
    (named,) = read_inks(NOTES / "points.csv")
    (plain,) = read_inks(NOTES / "points-noheader.csv")
    assert named.num_strokes == plain.num_strokes > 5
    assert all(np.allclose(a[:, :2], b[:, :2]) for a, b in zip(named.strokes, plain.strokes))
    assert is_timed(named) and not is_timed(plain)
    assert named.strokes[1][0, 2] == pytest.approx(10.0 * len(named.strokes[0]))


@pytest.mark.parametrize("text, strokes, times", [
    ("X;Y;Time_s;Pressure\n0;0;0.5;0.2\n1;1;0.6;0.3\n\n5;5;0.9;0.1\n", [2, 1], [500.0, 600.0, 900.0]),
    ("stroke_id,x,y,extra\na,0,0,q\na,1,1,q\nb,2,2,q\n", [2, 1], None),
    ("0,0\n1,1\n\n2,2\n", [2, 1], None),
    ("0 ,0,7\n1,1,7\n2,2,8\n", [2, 1], None),
])
def test_csv_variants(tmp_path, text, strokes, times):
    path = tmp_path / "ink.csv"
    path.write_text(text)
    (ink,) = read_inks(path)
    assert [len(s) for s in ink.strokes] == strokes
    if times:
        assert list(ink.points()[:, 2]) == times
        assert ink.has_pressure


@pytest.mark.parametrize("text, message", [
    ("a,b\n1,2\n", "the header has no x or y column"),
    ("1,2,3,4,5\n", "5 columns without a header"),
    ("x,y\n1,2\n3,oops\n", "line 3: y: not a finite number: 'oops'"),
    ("x,y,t\n1,2\n", "line 2: 2 fields, expected at least 3"),
    ("x,y\n", "no points"),
    ("", "empty file"),
])
def test_bad_csv_gets_one_clear_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InkFormatError, match=message):
        read_inks(path)
