"""Every JSON the commands write parses with a strict reader: non-finite numbers are null."""

import json
import math
import shutil
from dataclasses import replace

import numpy as np
import pytest

import handwriting.recognition.recognizer as recognizer_module
from handwriting.cli import main
from handwriting.jsonsafe import dumps, finite
from handwriting.recognition.ensemble import METADATA_KEY as ENSEMBLE
from handwriting.recognition.modelfile import default_model_path, write_metadata


def _strict(text: str) -> list:
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return [json.loads(line, parse_constant=refuse) for line in text.splitlines() if line.strip()]


def test_dumps_replaces_non_finite_numbers_everywhere():
    value = {"a": -math.inf, "b": [1.5, math.nan, (math.inf, 2)], "c": np.array([0.5, np.inf]),
             "d": np.float32("nan"), "e": np.int64(3), "f": "text"}
    assert json.loads(dumps(value)) == {"a": None, "b": [1.5, None, [None, 2]], "c": [0.5, None], "d": None, "e": 3,
                                        "f": "text"}
    assert finite(2.0) == 2.0


def test_recognize_jsonl_is_strict_json(fixtures, capsys, monkeypatch, tmp_path):
    # a prefix a short ink cannot hold ("ii" in two frames) keeps a score of -inf among the alternatives
    # (of one network's search: a pair drops what either network cannot read)
    single = tmp_path / "single.onnx"
    write_metadata(default_model_path().read_bytes(), {}, single, drop=(ENSEMBLE,))
    shutil.copy(default_model_path().with_suffix(".lm"), single.with_suffix(".lm"))
    found_by_beam = recognizer_module.beam_search

    def with_impossible_prefix(*args, **kwargs):
        found = found_by_beam(*args, **kwargs)
        return found + [replace(found[-1], score=-math.inf)]

    monkeypatch.setattr(recognizer_module, "beam_search", with_impossible_prefix)
    main(["recognize", str(fixtures / "inkml" / "definitions.inkml"), str(fixtures / "inkml" / "groups.inkml"),
          "--format", "jsonl", "--model", str(single)])
    records = _strict(capsys.readouterr().out)
    scores = [a["score"] for r in records for a in r["alternatives"]]
    assert records and None in scores and all(s is None or math.isfinite(s) for s in scores)


def test_info_and_eval_json_are_strict(fixtures, capsys):
    main(["info", str(fixtures / "inkml"), str(fixtures / "notes" / "page.xopp"), "--json"])
    records = _strict(capsys.readouterr().out)
    assert any(r["duration_ms"] is None for r in records)
    main(["eval", str(fixtures / "iamondb" / "lineStrokes"), "--json", "--no-lm"])
    assert _strict(capsys.readouterr().out)[-1]["summary"] is True


def test_explain_json_is_strict(fixtures, tmp_path):
    pytest.importorskip("PyQt6")
    out = tmp_path / "view.json"
    assert main(["explain", str(fixtures / "inkml" / "definitions.inkml"), "--out", str(tmp_path / "v.png"),
                 "--json", str(out)]) == 0
    assert _strict(out.read_text())[0]["alternatives"]
