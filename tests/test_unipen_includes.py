"""UNIPEN `.INCLUDE` stays inside the corpus, and chains of includes are bounded in depth and count."""

import time
from pathlib import Path

from handwriting.cli import main
from handwriting.errors import InkFormatError
from handwriting.formats import read_items
from handwriting.ink import Ink

PEN = ".COORD X Y\n.PEN_DOWN\n 10 100\n 20 110\n 30 120\n.PEN_UP\n"
SECRET = ".COMMENT SECRET-TEXT-1234\n" + PEN


def _corpus(root: Path) -> Path:
    (root / "include" / "me").mkdir(parents=True)
    (root / "data" / "1a" / "me").mkdir(parents=True)
    (root / "include" / "me" / "pen.dat").write_text(PEN)
    return root


def _errors(items: list) -> list[str]:
    return [str(i) for i in items if isinstance(i, InkFormatError)]


def test_include_outside_the_corpus_is_refused(tmp_path, capsys):
    root = _corpus(tmp_path / "corpus")
    (tmp_path / "secret.dat").write_text(SECRET)
    data = root / "data" / "1a" / "me" / "x.dat"
    data.write_text('.INCLUDE ../../../../secret.dat\n.SEGMENT CHARACTER 0 ? "a"\n')
    items = read_items(data)
    assert not any(isinstance(i, Ink) for i in items)
    assert "outside the corpus folder" in " ".join(_errors(items))
    main(["info", str(data), "--json"])
    main(["recognize", str(data), "--format", "jsonl", "--no-lm"])
    captured = capsys.readouterr()
    assert "SECRET-TEXT" not in captured.out + captured.err and "outside the corpus" in captured.out


def test_include_inside_the_corpus_is_read(tmp_path):
    root = _corpus(tmp_path / "corpus")
    data = root / "data" / "1a" / "me" / "x.dat"
    data.write_text('.INCLUDE me/pen.dat\n.SEGMENT CHARACTER 0 ? "a"\n')
    (ink,) = read_items(data)
    assert ink.label == "a" and ink.num_points == 3


def test_symlink_out_of_the_corpus_is_refused(tmp_path):
    root = _corpus(tmp_path / "corpus")
    (tmp_path / "secret.dat").write_text(SECRET)
    (root / "include" / "me" / "link.dat").symlink_to(tmp_path / "secret.dat")
    data = root / "data" / "1a" / "me" / "x.dat"
    data.write_text('.INCLUDE me/link.dat\n.SEGMENT CHARACTER 0 ? "a"\n')
    assert "outside the corpus folder" in " ".join(_errors(read_items(data)))


def test_file_outside_a_corpus_includes_only_below_its_folder(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "pen.dat").write_text(SECRET)
    (tmp_path / "a" / "pen.dat").write_text(PEN)
    outside = tmp_path / "a" / "out.dat"
    outside.write_text('.INCLUDE ../b/pen.dat\n.SEGMENT CHARACTER 0 ? "a"\n')
    assert "outside the corpus folder" in " ".join(_errors(read_items(outside)))
    beside = tmp_path / "a" / "in.dat"
    beside.write_text('.INCLUDE pen.dat\n.SEGMENT CHARACTER 0 ? "a"\n')
    assert read_items(beside)[0].num_points == 3


def _fan_out(folder: Path, width: int, depth: int) -> Path:
    """Files that each include the next level `width` times, `depth` levels deep (width**depth includes)."""
    for level in range(depth, 0, -1):
        body = PEN if level == depth else "".join(f".INCLUDE l{level + 1}.dat\n" for _ in range(width))
        (folder / f"l{level}.dat").write_text(body)
    top = folder / "top.dat"
    top.write_text(".INCLUDE l1.dat\n" * width + '.SEGMENT CHARACTER 0 ? "a"\n')
    return top


def test_include_fan_out_is_bounded(tmp_path, monkeypatch):
    top = _fan_out(tmp_path, 10, 8)  # 10**8 includes unbounded, about 1.7 KB of files
    assert sum(f.stat().st_size for f in tmp_path.iterdir()) < 2000
    started = time.perf_counter()
    items = read_items(top)
    assert time.perf_counter() - started < 10
    assert "HANDWRITING_MAX_INCLUDES" in " ".join(_errors(items))
    monkeypatch.setenv("HANDWRITING_MAX_INCLUDES", "100000")
    (tmp_path / "small").mkdir()
    small = _fan_out(tmp_path / "small", 4, 4)
    assert not _errors(read_items(small))  # 340 includes fit under a raised limit


def test_include_depth_is_bounded(tmp_path):
    top = _fan_out(tmp_path, 1, 12)
    assert "deeper than" in " ".join(_errors(read_items(top)))
