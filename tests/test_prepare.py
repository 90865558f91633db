"""`prepare` on a small IAM-OnDB corpus: filtering with reasons, shards and summary written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from handwriting.training.prepare import prepare
from handwriting.shards import read_split

FIXTURE = Path(__file__).parent.parent / "datasets" / "samples" / "iamondb"


def _corpus(tmp_path: Path, second_line: str | None = None) -> Path:
    root = tmp_path / "iamondb"
    shutil.copytree(FIXTURE, root)
    if second_line is not None:
        ascii_file = root / "ascii" / "a01" / "a01-001" / "a01-001z.txt"
        ascii_file.write_text(ascii_file.read_text(encoding="latin-1").replace("came home. The rain stopped", second_line),
                              encoding="latin-1")
    return root


def test_both_lines_kept_with_labels_and_summary(tmp_path):
    summary = prepare("iamondb", _corpus(tmp_path), tmp_path / "prep", val_fraction=0.5)
    assert summary["kept"] == 2 and summary["dropped"] == {}
    inks = read_split(tmp_path / "prep", "train") + read_split(tmp_path / "prep", "val")
    assert sorted(i.label for i in inks) == ["Yesterday, the young doctor", "came home. The rain stopped"]
    assert json.loads((tmp_path / "prep" / "summary.json").read_text())["kept"] == 2


def test_crossed_out_words_are_dropped_with_their_reason(tmp_path):
    summary = prepare("iamondb", _corpus(tmp_path, "came home. # rain stopped"), tmp_path / "prep", val_fraction=0.5)
    assert summary["kept"] == 1
    assert summary["dropped"] == {"crossed-out words (#)": 1}
