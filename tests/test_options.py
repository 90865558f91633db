"""Every numeric and output option is checked by the parser: exit 2 and one line, before any work."""

import pytest

from handwriting.cli import main

BAD = [
    ["recognize", "x.inkml", "--beam", "-1"], ["recognize", "x.inkml", "--jobs", "0"],
    ["recognize", "x.inkml", "--word-alternatives", "-3"], ["recognize", "x.inkml", "--lm-weight", "nan"],
    ["recognize", "x.inkml", "--lm-weight", "inf"], ["recognize", "x.inkml", "--beam", "2.5"],
    ["eval", "x.inkml", "--jobs", "-2"], ["eval", "x.inkml", "--show", "-1"], ["eval", "x.inkml", "--lm-weight", "-inf"],
    ["explain", "x.inkml", "--out", "v.png", "--index", "-1"], ["explain", "x.inkml", "--out", "v.png", "--count", "0"],
    ["explain", "x.inkml", "--out", "v.png", "--char", "-2"],
    ["app", "--speed", "0"], ["app", "--speed", "nan"], ["app", "--index", "-1"],
    ["serve", "--port", "70000"], ["serve", "--workers", "0"], ["serve", "--timeout", "-1"], ["serve", "--beam", "-5"],
    ["prepare", "iamondb", "src", "--out", "o", "--val-fraction", "1.5"],
    ["prepare", "iamondb", "src", "--out", "o", "--seed", "-1"],
    ["train", "--data", "d", "--out", "o", "--epochs", "0"], ["train", "--data", "d", "--out", "o", "--lr", "nan"],
    ["train", "--data", "d", "--out", "o", "--dropout", "1"], ["train", "--data", "d", "--out", "o", "--threads", "0"],
    ["train", "--data", "d", "--out", "o", "--batch-frames", "-1"], ["train", "--data", "d", "--out", "o", "--minutes", "inf"],
    ["train", "--data", "d", "--out", "o", "--frames", "splines"],
    ["finetune", "--data", "d", "--out", "o.onnx", "--holdout", "0"],
    ["finetune", "--data", "d", "--out", "o.onnx", "--minutes", "-1"],
    ["finetune", "--data", "d", "--out", "o.onnx", "--epochs", "0"],
    ["lm", "build", "t.txt", "--out", "x.lm", "--order", "0"], ["lm", "build", "t.txt", "--out", "x.lm", "--wordfreq", "-1"],
    ["pdf", "x.xopp", "--out", "x.pdf", "--beam", "-1"], ["annotate", "x.xopp", "--out", "y.xopp", "--lm-weight", "nan"],
]


@pytest.mark.parametrize("argv", BAD, ids=lambda a: " ".join(a))
def test_bad_numbers_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    err = capsys.readouterr().err
    assert caught.value.code == 2 and err.count("\n") == 1 and "error: argument" in err


@pytest.mark.parametrize("make_argv", [
    lambda d: ["recognize", "x.inkml", "--output", str(d)],
    lambda d: ["explain", "x.inkml", "--out", str(d)],
    lambda d: ["export", "c.pt", "--out", str(d)],
    lambda d: ["finetune", "--data", "x", "--out", str(d)],
    lambda d: ["lm", "build", "t.txt", "--out", str(d)],
    lambda d: ["recognize", "x.inkml", "--output", str(d / "file.txt" / "below.txt")],
])
def test_output_naming_a_folder_is_refused_before_work(tmp_path, capsys, make_argv):
    (tmp_path / "file.txt").write_text("")
    with pytest.raises(SystemExit) as caught:
        main(make_argv(tmp_path))
    assert caught.value.code == 2 and "folder" in capsys.readouterr().err


def test_model_card_that_is_not_utf8(tmp_path, capsys):
    pytest.importorskip("torch")
    card = tmp_path / "card.md"
    card.write_bytes(b"# model\n\xff\n")
    assert main(["export", "models/handwriting-en-avg.pt", "--out", str(tmp_path / "m.onnx"), "--card", str(card)]) == 1
    err = capsys.readouterr().err
    assert "not UTF-8 text (byte 8)" in err and err.count("\n") == 1


def test_the_train_command_takes_its_options_and_defaults_from_train_options():
    from dataclasses import fields

    from handwriting.cli import build_parser
    from handwriting.options import options_from
    from handwriting.training.train_options import TrainOptions

    plain = build_parser().parse_args(["train", "--data", "a", "b", "--out", "run"])
    assert options_from(plain, TrainOptions) == TrainOptions(data=["a", "b"], out="run")  # the same defaults
    assert {f.name for f in fields(TrainOptions)} - set(vars(plain)) == {"weights"}  # given as --weight FOLDER=W
    args = build_parser().parse_args(["train", "--data", "a", "--out", "run", "--no-augment", "--warmup-steps", "50"])
    assert options_from(args, TrainOptions) == TrainOptions(data=["a"], out="run", augment=False, warmup_steps=50)
