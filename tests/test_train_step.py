"""The resampling step and kind of frames of a training run: a new network's, a start's own, or a new frame
rate for a start."""

import pytest

torch = pytest.importorskip("torch")

from handwriting.errors import HandwritingError  # noqa: E402
from handwriting.shards import write_shard  # noqa: E402
from handwriting.training.synth import synthesize  # noqa: E402
from handwriting.training.train import TrainOptions, load_checkpoint, train  # noqa: E402
from handwriting.training.train_options import DEFAULT_STEP  # noqa: E402


@pytest.fixture
def options(tmp_path) -> TrainOptions:
    inks = [synthesize(word, font="futural") for word in ("cat", "dog")]
    for split in ("train", "val"):
        write_shard(inks, tmp_path / "data" / f"{split}.npz")
    return TrainOptions(data=[str(tmp_path / "data")], out=str(tmp_path / "first"), epochs=1, hidden=8, layers=1,
                        augment=False, workers=0)


def _step(run: str) -> float:
    checkpoint = load_checkpoint(f"{run}/last.pt")
    assert checkpoint["options"]["step"] == checkpoint["preprocess"]["step"]  # the run records the step it used
    return checkpoint["preprocess"]["step"]


def test_a_new_network_resamples_at_the_default_step_or_the_one_asked_for(options, tmp_path):
    train(options)
    assert _step(options.out) == DEFAULT_STEP["points"]
    coarse = TrainOptions(**{**options.__dict__, "out": str(tmp_path / "coarse"), "step": 0.3})
    train(coarse)
    assert _step(coarse.out) == 0.3


def test_a_start_keeps_its_step_unless_another_is_asked_for(options, tmp_path):
    train(TrainOptions(**{**options.__dict__, "step": 0.25}))
    start = f"{options.out}/last.pt"
    kept = TrainOptions(**{**options.__dict__, "out": str(tmp_path / "kept"), "init": start})
    train(kept)
    assert _step(kept.out) == 0.25
    retimed = TrainOptions(**{**options.__dict__, "out": str(tmp_path / "retimed"), "init": start, "step": 0.35})
    train(retimed)
    assert _step(retimed.out) == 0.35


def test_a_resumed_run_keeps_the_step_it_was_trained_at(options):
    train(TrainOptions(**{**options.__dict__, "step": 0.25}))
    again = {**options.__dict__, "epochs": 2, "resume": f"{options.out}/last.pt"}
    with pytest.raises(HandwritingError, match="resamples at step 0.25"):
        train(TrainOptions(**{**again, "step": 0.3}))
    train(TrainOptions(**{**again, "step": 0.25}))  # the run's own step, as its first command gave it
    assert _step(options.out) == 0.25


def test_a_new_network_reads_curves_when_asked_and_a_start_keeps_its_kind(options, tmp_path):
    train(TrainOptions(**{**options.__dict__, "frames": "curves"}))
    checkpoint = load_checkpoint(f"{options.out}/last.pt")
    assert checkpoint["preprocess"]["frames"] == checkpoint["options"]["frames"] == "curves"
    assert checkpoint["preprocess"]["step"] == DEFAULT_STEP["curves"]
    assert checkpoint["model_config"]["num_features"] == 9
    start = f"{options.out}/last.pt"
    kept = TrainOptions(**{**options.__dict__, "out": str(tmp_path / "kept"), "init": start})
    train(kept)
    assert load_checkpoint(f"{kept.out}/last.pt")["preprocess"]["frames"] == "curves"
    with pytest.raises(HandwritingError, match="reads curves frames"):
        train(TrainOptions(**{**kept.__dict__, "out": str(tmp_path / "other"), "frames": "points"}))


def test_a_curve_start_is_recut_at_the_tolerance_asked_for_but_a_resumed_run_keeps_its_own(options, tmp_path):
    with pytest.raises(HandwritingError, match="only curve frames have a tolerance"):
        train(TrainOptions(**{**options.__dict__, "tolerance": 0.01}))
    train(TrainOptions(**{**options.__dict__, "frames": "curves"}))
    start = f"{options.out}/last.pt"
    assert load_checkpoint(start)["preprocess"]["tolerance"] == load_checkpoint(start)["options"]["tolerance"] == 0.02
    finer = TrainOptions(**{**options.__dict__, "out": str(tmp_path / "finer"), "init": start, "tolerance": 0.01})
    train(finer)
    checkpoint = load_checkpoint(f"{finer.out}/last.pt")
    assert checkpoint["preprocess"]["tolerance"] == checkpoint["options"]["tolerance"] == 0.01
    with pytest.raises(HandwritingError, match="cuts curves at 0.01"):
        train(TrainOptions(**{**finer.__dict__, "init": None, "epochs": 2, "resume": f"{finer.out}/last.pt",
                              "tolerance": 0.02}))
