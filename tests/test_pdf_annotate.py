"""`handwriting pdf` and `handwriting annotate`: the recognised words come back out of the files.

The PDF is read back with poppler's `pdftotext -bbox` and the annotated note is converted by
Xournal++ itself, when those programs are installed (`apt-get install poppler-utils
xournalpp xvfb`); otherwise those checks are skipped and the files are checked by our reader.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from html import unescape
from pathlib import Path

import pytest

from handwriting.cli import main
from handwriting.formats import read_inks, xournal
from handwriting.formats.page import page_of
from handwriting.recognition.recognizer import Recognizer
from handwriting.recognition.textlayer import placed_words

NOTES = Path(__file__).parent.parent / "datasets" / "samples" / "notes"
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
NEEDS_PDFTOTEXT = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                     reason="pdftotext not installed (apt-get install poppler-utils)")


@pytest.fixture(scope="module")
def expected() -> list[list]:
    """The placed words of each page of page.xopp, as the commands (with --no-lm) find them."""
    recognizer = Recognizer(lm=None)
    return [placed_words(r) for r in recognizer.recognize_batch(read_inks(NOTES / "page.xopp"))]


def pdf_words(pdf: Path) -> list[list[tuple[str, tuple[float, ...]]]]:
    """(word, box in points) per page, by pdftotext -bbox."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [[(unescape(m[4]), tuple(float(v) for v in m[:4])) for m in WORD.findall(page)] for page in html.split("<page ")[1:]]


def inside(box: tuple[float, ...], word, page) -> bool:
    """A text box starts where the word's ink starts and covers its line's height, to 2 points
    (it may reach into the gap before the next word: the space is stretched with the word)."""
    x0, y0 = page.to_pt(word.left, word.top)
    x1, y1 = page.to_pt(word.right, word.bottom)
    return abs(box[0] - x0) <= 2 and x1 - 2 <= box[2] and abs(box[1] - y0) <= 2 and abs(box[3] - y1) <= 2


def test_pdf_has_every_page_and_its_words_over_their_ink(tmp_path, expected, capsys):
    out = tmp_path / "note.pdf"
    assert main(["pdf", str(NOTES / "page.xopp"), "--out", str(out), "--no-lm"]) == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", data)) == 2
    assert "2 pages" in capsys.readouterr().out
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils): text layer not read back")
    pages = read_inks(NOTES / "page.xopp")
    found = pdf_words(out)
    assert len(found) == 2
    for ink, words, boxes in zip(pages, expected, found):
        assert words and Counter(t for t, _ in boxes) == Counter(w.text for w in words)
        by_text = {w.text: w for w in words}
        assert all(inside(box, by_text[text], page_of(ink)) for text, box in boxes)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    lines = [" ".join(w.text for w in words if w.line == n) for words in expected for n in sorted({w.line for w in words})]
    assert [line for line in text.splitlines() if line.strip()] == lines  # copied text: a line per line


@NEEDS_PDFTOTEXT
@pytest.mark.parametrize("name", ["points.csv", "page.rm"])
def test_pdf_of_other_note_formats(tmp_path, name):
    if name.endswith(".rm"):
        pytest.importorskip("rmscene", reason="rmscene not installed (pip install 'handwriting[remarkable]')")
    out = tmp_path / "note.pdf"
    assert main(["pdf", str(NOTES / name), "--out", str(out), "--no-lm"]) == 0
    (words,) = pdf_words(out)
    (ink,) = read_inks(NOTES / name)
    expected = placed_words(Recognizer(lm=None).recognize(ink))
    assert [t for t, _ in words] == [w.text for w in expected] and expected


def test_annotated_note_keeps_the_ink_and_adds_a_text_layer(tmp_path, expected):
    out = tmp_path / "note-text.xopp"
    assert main(["annotate", str(NOTES / "page.xopp"), "--out", str(out), "--no-lm"]) == 0
    before, after = read_inks(NOTES / "page.xopp"), read_inks(out)
    assert all(a.same_as(b) for a, b in zip(before, after)) and len(after) == 2
    root = xournal.load_document(out)
    layers = [[layer for layer in page.iter("layer") if layer.get("name") == xournal.TEXT_LAYER]
              for page in root.iter("page")]
    assert [len(found) for found in layers] == [1, 1]
    texts = [[t.text for t in found[0].iter("text")] for found in layers]
    assert texts == [[w.text for w in words] for words in expected]
    assert main(["annotate", str(out), "--out", str(out), "--no-lm"]) == 0  # again: the layer is replaced
    assert sum(1 for layer in xournal.load_document(out).iter("layer") if layer.get("name") == xournal.TEXT_LAYER) == 2


@NEEDS_PDFTOTEXT
@pytest.mark.skipif(shutil.which("xournalpp") is None or shutil.which("xvfb-run") is None,
                    reason="xournalpp or xvfb-run not installed (apt-get install xournalpp xvfb)")
def test_xournalpp_opens_the_annotated_note_and_exports_its_words(tmp_path, expected):
    note, pdf = tmp_path / "note-text.xopp", tmp_path / "export.pdf"
    assert main(["annotate", str(NOTES / "page.xopp"), "--out", str(note), "--no-lm"]) == 0
    subprocess.run(["xvfb-run", "-a", "xournalpp", f"--create-pdf={pdf}", str(note)], capture_output=True, timeout=120)
    found = pdf_words(pdf)
    assert len(found) == 2
    pages = read_inks(note)
    for ink, words, boxes in zip(pages, expected, found):
        texts = Counter(t for t, _ in boxes)
        texts.subtract(["typed,", "not", "written"] if ink is pages[0] else [])  # the note's own text box
        assert +texts == Counter(w.text for w in words)
        starts = {w.text: page_of(ink).to_pt(w.left, w.top) for w in words}
        assert all(abs(box[0] - starts[t][0]) < 2 and abs(box[1] - starts[t][1]) < 4 for t, box in boxes if t in starts)


@pytest.mark.parametrize("command, file, message", [
    ("annotate", "points.csv", "not a Xournal++ or Xournal file"),
    ("pdf", "missing.xopp", "No such file"),
])
def test_bad_input_is_one_line(tmp_path, capsys, command, file, message):
    assert main([command, str(NOTES / file), "--out", str(tmp_path / "out"), "--no-lm"]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not (tmp_path / "out").exists()
