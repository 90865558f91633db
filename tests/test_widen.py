"""Widening a trained network: the same outputs with more units, and training grows from there."""

import pytest

torch = pytest.importorskip("torch")

from handwriting.errors import HandwritingError  # noqa: E402
from handwriting.shards import write_shard  # noqa: E402
from handwriting.training.model import BiLSTMCTC, ModelConfig  # noqa: E402
from handwriting.training.synth import synthesize  # noqa: E402
from handwriting.training.train import TrainOptions, load_checkpoint, model_from_checkpoint, train  # noqa: E402
from handwriting.training.widen import widened  # noqa: E402


def _checkpoint(hidden: int = 12, layers: int = 3) -> dict:
    torch.manual_seed(0)
    model = BiLSTMCTC(ModelConfig(num_features=8, num_classes=7, hidden=hidden, layers=layers))
    with torch.no_grad():  # a trained network has no zero weights; make sure every weight matters
        for parameter in model.parameters():
            parameter.normal_(0, 0.5)
        model.feature_mean.normal_()
    return {"model": model.state_dict(), "model_config": model.config.to_dict(), "alphabet": "abcdef", "preprocess": {}}


def test_a_widened_network_computes_exactly_what_it_did():
    checkpoint = _checkpoint()
    wide = widened(checkpoint, 20)
    assert wide["model_config"]["hidden"] == 20 and checkpoint["model_config"]["hidden"] == 12
    before, after = model_from_checkpoint(checkpoint).eval(), model_from_checkpoint(wide).eval()
    features, lengths = torch.randn(3, 40, 8), torch.tensor([40, 25, 7])
    with torch.no_grad():
        expected, got = before(features, lengths), after(features, lengths)
    for row, length in enumerate(lengths):  # padding frames are not outputs
        torch.testing.assert_close(got[row, :length], expected[row, :length], rtol=0, atol=1e-5)
    assert sum(p.numel() for p in after.parameters()) > 2 * sum(p.numel() for p in before.parameters())


def test_the_new_units_are_random_and_the_same_for_every_run():
    first, second = widened(_checkpoint(), 20), widened(_checkpoint(), 20)
    for name, tensor in first["model"].items():
        assert torch.equal(tensor, second["model"][name]), name  # two seeds of one run start alike
    hidden_weights = first["model"]["layers.1.fw.weight_hh_l0"]
    assert hidden_weights[12:20].abs().min() > 0  # a new unit's input gate reads every unit
    assert hidden_weights[:12, 12:].abs().max() == 0  # the old units do not read the new ones
    assert first["model"]["output.weight"][:, 12:20].abs().max() == 0


def test_a_network_is_not_narrowed():
    checkpoint = _checkpoint()
    assert widened(checkpoint, 12) is checkpoint
    with pytest.raises(HandwritingError, match="cannot narrow"):
        widened(checkpoint, 8)


def test_train_widens_a_smaller_start_and_keeps_training(tmp_path):
    inks = [synthesize(word, font="futural") for word in ("cat", "dog")]
    for split in ("train", "val"):
        write_shard(inks, tmp_path / "data" / f"{split}.npz")
    options = TrainOptions(data=[str(tmp_path / "data")], out=str(tmp_path / "small"), epochs=1, hidden=16, layers=2,
                           augment=False, workers=0)
    train(options)
    grown = train(TrainOptions(**{**options.__dict__, "out": str(tmp_path / "wide"), "hidden": 24,
                                  "init": str(tmp_path / "small" / "last.pt")}))
    checkpoint = load_checkpoint(tmp_path / "wide" / "last.pt")
    assert checkpoint["model_config"]["hidden"] == 24 and checkpoint["options"]["hidden"] == 24
    assert grown["started_from"]["from"] == "last.pt"
    # a default --hidden smaller than the start keeps the start's width
    kept = TrainOptions(**{**options.__dict__, "out": str(tmp_path / "kept"), "hidden": 8,
                           "init": str(tmp_path / "wide" / "last.pt")})
    train(kept)
    assert load_checkpoint(tmp_path / "kept" / "last.pt")["model_config"]["hidden"] == 24


def test_a_damaged_start_is_refused_before_it_is_widened(tmp_path):
    checkpoint = _checkpoint(hidden=12, layers=2)
    del checkpoint["model"]["layers.1.bw.weight_hh_l0"]
    torch.save(checkpoint, tmp_path / "damaged.pt")
    inks = [synthesize("bead", font="futural")]  # letters of the checkpoint's alphabet
    for split in ("train", "val"):
        write_shard(inks, tmp_path / "data" / f"{split}.npz")
    options = TrainOptions(data=[str(tmp_path / "data")], out=str(tmp_path / "run"), epochs=1, hidden=20, layers=2,
                           workers=0, init=str(tmp_path / "damaged.pt"))
    with pytest.raises(HandwritingError, match=r"damaged\.pt: checkpoint weights do not fit"):
        train(options)
