"""End to end: a tiny model learns a small set, exports to ONNX, and recognises through onnxruntime."""

import json
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from handwriting.cli import main  # noqa: E402
from handwriting.errors import HandwritingError, ModelError  # noqa: E402
from handwriting.training.export import PARITY_TOLERANCE, QUANTIZED_AGREEMENT, export, parity  # noqa: E402
from handwriting.formats import write_ink  # noqa: E402
from handwriting.training.model import BiLSTMCTC, ModelConfig  # noqa: E402
from handwriting.training.onnx_graph import build_graph, state_from_onnx  # noqa: E402
from handwriting.commands.info import model_record  # noqa: E402
from handwriting.recognition.explain import explain  # noqa: E402
from handwriting.recognition.modelfile import float_weights  # noqa: E402
from handwriting.recognition.recognizer import Recognizer  # noqa: E402
from handwriting.shards import write_shard  # noqa: E402
from handwriting.training.synth import synthesize  # noqa: E402
from handwriting.training.train import (TrainOptions, averaged_checkpoint, load_checkpoint,  # noqa: E402
                                        model_from_checkpoint, train)
from handwriting.training.train_options import FinetuneOptions  # noqa: E402

WORDS = ["cat", "dog", "sun", "hill", "moon", "tree"]


def _train_tiny(root, **changes) -> tuple[list, dict]:
    """A 2x48 BiLSTM trained under `root` to memorise six synthetic words (seconds on one core)."""
    inks = [synthesize(w, font="futural") for w in WORDS]
    write_shard(inks, root / "data" / "train.npz")
    write_shard(inks, root / "data" / "val.npz")
    options = TrainOptions(data=[str(root / "data")], out=str(root / "run"), epochs=400, hidden=48, layers=2,
                           dropout=0.0, lr=1e-2, warmup_steps=5, patience=1000, augment=False, workers=0, seed=1,
                           **changes)
    return inks, train(options)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    inks, state = _train_tiny(root)
    return root, inks, state


def test_tiny_model_learns_to_near_zero_cer(tiny_run):
    _, _, state = tiny_run
    assert state["history"][0]["val_cer"] > 0.5
    assert state["best_cer"] <= 0.05


def test_tiny_model_learns_in_bfloat16_and_keeps_float32_weights(tmp_path):
    _, state = _train_tiny(tmp_path, bf16=True)
    assert state["best_cer"] <= 0.05
    weights = load_checkpoint(tmp_path / "run" / "best.pt")["model"]
    assert {tensor.dtype for tensor in weights.values()} == {torch.float32}


def test_export_recognizes_what_torch_learned(tiny_run, tmp_path):
    root, inks, _ = tiny_run
    checkpoint = load_checkpoint(root / "run" / "best.pt")
    error = export(model_from_checkpoint(checkpoint), checkpoint["alphabet"], checkpoint["preprocess"],
                   tmp_path / "tiny.onnx", {"note": "test"})
    assert error < PARITY_TOLERANCE
    recognizer = Recognizer(tmp_path / "tiny.onnx", lm=None)
    results = recognizer.recognize_batch(inks)
    texts = [r.text for r in results]
    assert sum(t == w for t, w in zip(texts, WORDS)) >= 5, texts
    one = results[WORDS.index("hill")]
    if one.text == "hill":
        assert [c.char for c in one.characters] == list("hill")
        assert one.words[0].text == "hill" and one.words[0].strokes
        assert all(c.bbox is not None for c in one.characters)
    assert recognizer.recognize(inks[0]).text == texts[0]  # batch and single agree


@pytest.mark.parametrize("length", [1, 2, 2000])
def test_onnx_matches_torch_on_any_length(length):
    torch.manual_seed(length)
    model = BiLSTMCTC(ModelConfig(8, 20, hidden=24, layers=3))
    model.feature_mean.uniform_(-1, 1)
    model.feature_std.uniform_(0.5, 2)
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    proto = build_graph(state, 3, 24, {"model_config": json.dumps(model.config.to_dict())})
    assert parity(model, proto.SerializeToString(), lengths=(length,)) < 1e-4
    back = state_from_onnx(proto)
    assert all(np.array_equal(back[k], state[k]) for k in state)


def test_resume_continues_the_run(tiny_run, tmp_path):
    root, _, _ = tiny_run
    first = TrainOptions(data=[str(root / "data")], out=str(tmp_path), epochs=1, hidden=16, layers=1, workers=0)
    train(first)
    state = train(TrainOptions(**{**first.__dict__, "epochs": 2, "resume": str(tmp_path / "last.pt")}))
    assert state["epoch"] == 2 and len(state["history"]) == 2
    assert state["step"] == 2 * state["history"][0]["step"]
    # resumed without the shape options, the run still records the network it trains
    train(TrainOptions(data=first.data, out=str(tmp_path), epochs=3, workers=0, resume=str(tmp_path / "last.pt")))
    options = load_checkpoint(tmp_path / "last.pt")["options"]
    assert (options["hidden"], options["layers"]) == (16, 1)


def test_an_epoch_cut_short_by_the_time_limit_does_not_count_towards_patience(tiny_run, tmp_path):
    root, _, _ = tiny_run
    before = load_checkpoint(root / "run" / "last.pt", resume=True)["state"]
    state = train(TrainOptions(data=[str(root / "data")], out=str(tmp_path), epochs=before["epoch"] + 1, patience=1,
                               minutes=1e-9, augment=False, workers=0, resume=str(root / "run" / "last.pt")))
    assert state["history"][-1]["complete"] is False and state["epoch"] == before["epoch"]
    assert state["lr"] == before["lr"]


def test_the_last_epochs_are_kept_and_export_averages_them(tiny_run, tmp_path, capsys):
    root, inks, _ = tiny_run
    kept = sorted((root / "run").glob("epoch-*.pt"), key=lambda p: int(p.stem.split("-")[1]))
    assert [p.name for p in kept] == [f"epoch-{n}.pt" for n in range(396, 401)]  # the last 5 of 400
    assert "optimizer" not in load_checkpoint(kept[0])  # weights only: a third of a full checkpoint
    averaged = averaged_checkpoint([str(p) for p in kept])
    for name, tensor in averaged["model"].items():
        stacked = torch.stack([load_checkpoint(p)["model"][name].double() for p in kept])
        assert torch.allclose(tensor.double(), stacked.mean(0), atol=1e-6), name
    assert main(["export", *map(str, kept), "--out", str(tmp_path / "mean.onnx")]) == 0
    recognizer = Recognizer(tmp_path / "mean.onnx", lm=None)
    assert json.loads(recognizer.model.metadata["training"])["averaged"] == [str(p) for p in kept]
    texts = [r.text for r in recognizer.recognize_batch(inks)]
    assert sum(t == w for t, w in zip(texts, WORDS)) >= 5, texts
    # a soup of a soup and a checkpoint records what the inner soup is the mean of, and counts through it
    torch.save(averaged, tmp_path / "soup.pt")
    assert main(["export", str(tmp_path / "soup.pt"), str(kept[0]), "--out", str(tmp_path / "soups.onnx")]) == 0
    record = model_record(tmp_path / "soups.onnx")
    assert json.loads(Recognizer(tmp_path / "soups.onnx", lm=None).model.metadata["training"])["averaged"] == [
        {"mean": str(tmp_path / "soup.pt"), "of": [str(p) for p in kept]}, str(kept[0])]
    assert record["averaged_checkpoints"] == 6 and record["averaged_runs"] == 1
    # checkpoints of two runs: info counts the runs and leaves out the training summary of only the last one
    (tmp_path / "second-run").mkdir()
    shutil.copy(kept[0], tmp_path / "second-run" / "epoch-1.pt")
    assert main(["export", str(tmp_path / "soup.pt"), str(tmp_path / "second-run" / "epoch-1.pt"),
                 "--out", str(tmp_path / "runs.onnx")]) == 0
    capsys.readouterr()
    assert main(["info", str(tmp_path / "runs.onnx")]) == 0
    out = capsys.readouterr().out
    assert "mean of 6 checkpoints of 2 runs" in out and "trained" not in out
    other = load_checkpoint(kept[0])
    torch.save({**other, "alphabet": other["alphabet"][::-1]}, tmp_path / "other.pt")
    capsys.readouterr()
    assert main(["export", str(tmp_path / "other.pt"), str(kept[-1]), "--out", str(tmp_path / "x.onnx")]) == 1
    assert "other.pt: cannot be averaged with" in capsys.readouterr().err and not (tmp_path / "x.onnx").exists()


def test_a_quantized_export_is_smaller_and_reads_the_same_words(tiny_run, tmp_path):
    root, inks, _ = tiny_run
    best = str(root / "run" / "best.pt")
    assert main(["export", best, "--out", str(tmp_path / "f.onnx")]) == 0
    assert main(["export", best, "--out", str(tmp_path / "q.onnx"), "--quantize"]) == 0
    full, small = Recognizer(tmp_path / "f.onnx", lm=None), Recognizer(tmp_path / "q.onnx", lm=None)
    assert small.model.metadata["quantized"] == "int8" and "quantized" not in full.model.metadata
    assert float(small.model.metadata["quantized_agreement"]) >= QUANTIZED_AGREEMENT
    assert (tmp_path / "q.onnx").stat().st_size < 0.6 * (tmp_path / "f.onnx").stat().st_size
    batch = small.recognize_batch(inks)
    texts = [r.text for r in batch]
    assert sum(t == w for t, w in zip(texts, WORDS)) >= 5, texts
    for ink, in_batch in zip(inks, batch):  # int8 activations: a line's range is its own, whatever the batch
        assert np.array_equal(small.recognize(ink).log_probs, in_batch.log_probs)
    exact, stored = float_weights(full.model.proto), float_weights(small.model.proto)
    assert exact.keys() == stored.keys()
    for name, value in exact.items():  # int8: within half a step of 1/127 of the largest weight
        assert np.abs(stored[name] - value).max() <= np.abs(value).max() / 127 * 0.51 + 1e-7, name
    x = explain(small, inks[0], k=3)  # cells and saliency from the int8 weights, as stored
    assert x.cells[0].shape[1:] == (2, 48) and np.isfinite(x.saliency).all()


def test_recognize_cli_reports_bad_files_and_keeps_good_ones(tiny_run, tmp_path, capsys):
    root, inks, _ = tiny_run
    checkpoint = load_checkpoint(root / "run" / "best.pt")
    model_path = tmp_path / "tiny.onnx"
    export(model_from_checkpoint(checkpoint), checkpoint["alphabet"], checkpoint["preprocess"], model_path)
    write_ink(inks[0], tmp_path / "good.inkml")
    write_ink(inks[1:3], tmp_path / "two.json")
    (tmp_path / "broken.inkml").write_text("<ink><trace>1 2, 3</trace>")
    (tmp_path / "empty.json").write_text("")
    out = tmp_path / "results.jsonl"
    code = main(["recognize", str(tmp_path), "--model", str(model_path), "--format", "jsonl", "--output", str(out),
                 "--word-alternatives", "3"])
    assert code == 1
    records = [json.loads(line) for line in out.read_text().splitlines()]
    for word in (w for r in records for w in r["words"]):
        assert word["alternatives"][0] == word["text"] and len(set(word["alternatives"])) == len(word["alternatives"]) <= 3
    assert {tuple(sorted(r)) for r in records} == {("alternatives", "error", "index", "label", "lines", "path", "text", "words")}
    good = [r for r in records if r["error"] is None]
    bad = [r for r in records if r["error"] is not None]
    assert len(good) == 3 and [r["index"] for r in good if r["path"].endswith("two.json")] == [0, 1]
    assert {r["path"].rsplit("/", 1)[-1] for r in bad} == {"broken.inkml", "empty.json"}
    assert all("broken.inkml" in r["error"] or "empty.json" in r["error"] for r in bad)
    assert sum(r["text"] == r["label"] for r in good) >= 2
    assert main(["eval", str(tmp_path / "two.json"), "--model", str(model_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["summary"] and summary["cer"] <= 0.34


def test_damaged_models_fail_with_one_clear_error(tmp_path):
    missing = tmp_path / "none.onnx"
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00not onnx at all" * 10)
    for path, reason in ((missing, "not found"), (garbage, "ONNX")):
        with pytest.raises(ModelError, match=reason):
            Recognizer(path)
    assert main(["recognize", str(tmp_path), "--model", str(garbage)]) == 1


def test_finetune_adapts_to_a_new_hand_and_refuses_to_get_worse(tiny_run, tmp_path):
    from handwriting.training.finetune import finetune, load_labelled

    root, _, _ = tiny_run
    checkpoint = load_checkpoint(root / "run" / "best.pt")
    base = tmp_path / "tiny.onnx"
    export(model_from_checkpoint(checkpoint), checkpoint["alphabet"], checkpoint["preprocess"], base)
    rng = np.random.default_rng(3)
    new_hand = [synthesize(w, font="scripts", rng=rng) for w in WORDS for _ in range(2)]
    write_ink(new_hand, tmp_path / "mine.inkml")
    inks, problems = load_labelled([str(tmp_path / "mine.inkml")])
    assert len(inks) == 12 and not problems
    same = FinetuneOptions(data=[], out=str(tmp_path / "same.onnx"), base=str(base), epochs=1, minutes=None, lr=0.0)
    unchanged = finetune(inks, same)
    assert not unchanged.written and not (tmp_path / "same.onnx").exists()
    report = finetune(inks, FinetuneOptions(data=[], out=str(tmp_path / "mine.onnx"), base=str(base), epochs=60, minutes=1.0,
                                            lr=3e-3))
    assert report.held_back == 3 and report.trained_on == 9
    assert report.written and report.cer_after < report.cer_before
    assert Recognizer(tmp_path / "mine.onnx", lm=None).model.training["held_back_cer_after"] == report.cer_after


def test_finetune_mix_puts_the_weights_between_the_start_and_the_fine_tuned_ones():
    import torch

    from handwriting.training.finetune import interpolated

    start = {"model": {"w": torch.zeros(3), "b": torch.ones(2)}, "alphabet": "ab"}
    tuned = {"model": {"w": torch.full((3,), 4.0), "b": torch.full((2,), 3.0)}, "alphabet": "ab", "state": {}}
    mixed = interpolated(start, tuned, 0.25)
    assert torch.equal(mixed["model"]["w"], torch.full((3,), 1.0)) and torch.equal(mixed["model"]["b"], torch.full((2,), 1.5))
    assert mixed["state"] is tuned["state"] and torch.equal(tuned["model"]["w"], torch.full((3,), 4.0))
    with pytest.raises(HandwritingError, match="does not match"):
        interpolated({"model": {"w": torch.zeros(3)}}, tuned, 0.5)


def test_an_exported_model_is_written_again_as_int8_with_its_card_and_history(tiny_run, tmp_path):
    root, inks, _ = tiny_run
    card = tmp_path / "card.md"
    card.write_text("# tiny model\n")
    assert main(["export", str(root / "run" / "best.pt"), "--out", str(tmp_path / "f.onnx"), "--card", str(card)]) == 0
    assert main(["export", str(tmp_path / "f.onnx"), "--out", str(tmp_path / "q.onnx"), "--quantize"]) == 0
    full, small = Recognizer(tmp_path / "f.onnx", lm=None), Recognizer(tmp_path / "q.onnx", lm=None)
    assert small.model.metadata["quantized"] == "int8" and small.model.metadata["model_card"] == "# tiny model\n"
    assert small.model.training == {**full.model.training, "written_again_from": "f.onnx"}
    texts = [r.text for r in small.recognize_batch(inks)]
    assert sum(t == w for t, w in zip(texts, WORDS)) >= 5, texts


def test_a_run_started_from_others_records_where_it_came_from(tiny_run, tmp_path, capsys):
    root, _, _ = tiny_run
    best = load_checkpoint(root / "run" / "best.pt")["state"]
    first = TrainOptions(data=[str(root / "data")], out=str(tmp_path / "a"), epochs=1, workers=0,
                         init=str(root / "run" / "best.pt"))
    origin = train(first)["started_from"]
    assert origin == {"from": "best.pt", "epochs": best["epoch"], "best_cer": best["best_cer"]}
    second = train(TrainOptions(**{**first.__dict__, "out": str(tmp_path / "b"), "init": str(tmp_path / "a" / "last.pt")}))
    assert second["started_from"]["from"] == "last.pt" and second["started_from"]["started_from"] == origin
    assert main(["export", str(tmp_path / "b" / "last.pt"), "--out", str(tmp_path / "b.onnx")]) == 0
    capsys.readouterr()
    assert main(["info", str(tmp_path / "b.onnx")]) == 0
    assert f"trained 1 epoch (validation CER" in capsys.readouterr().out
    # the summary names both earlier runs: the first's epochs and the tiny run's
    assert main(["info", "--json", str(tmp_path / "b.onnx")]) == 0
    runs = json.loads(capsys.readouterr().out)["earlier_runs"]
    assert runs == [{"from": "last.pt", "epochs": 1}, {"from": "best.pt", "epochs": best["epoch"]}]
    # an exported model as the start: its training summary carries the lineage on
    third = train(TrainOptions(**{**first.__dict__, "out": str(tmp_path / "c"), "init": str(tmp_path / "b.onnx")}))
    assert third["started_from"] == {"from": "b.onnx", "epochs": 1, "best_cer": None, "started_from": second["started_from"]}


def test_a_model_with_a_damaged_training_summary_still_loads_and_exports(tiny_run, tmp_path, capsys):
    import onnx

    from handwriting.checksum import KEY, seal
    from handwriting.recognition.modelfile import load_model_file

    root, inks, _ = tiny_run
    assert main(["export", str(root / "run" / "best.pt"), "--out", str(tmp_path / "f.onnx")]) == 0
    proto = onnx.load(str(tmp_path / "f.onnx"))
    props = {p.key: p.value for p in proto.metadata_props if p.key != KEY}
    for damaged in ("{not json", "[1, 2]"):
        del proto.metadata_props[:]
        onnx.helper.set_model_props(proto, {**props, "training": damaged})
        (tmp_path / "d.onnx").write_bytes(seal(proto.SerializeToString()))
        assert load_model_file(tmp_path / "d.onnx").training == {}
        capsys.readouterr()
        assert main(["info", str(tmp_path / "d.onnx")]) == 0
        assert "trained" not in capsys.readouterr().out
        assert main(["export", str(tmp_path / "d.onnx"), "--out", str(tmp_path / "again.onnx")]) == 0
        assert load_model_file(tmp_path / "again.onnx").training == {"written_again_from": "d.onnx"}
