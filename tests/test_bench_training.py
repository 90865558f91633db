"""The training-throughput benchmark's worker: timed training steps on real-length batches, in float32 or bfloat16."""

import json

import pytest

pytest.importorskip("torch")

from bench.report import _training  # noqa: E402
from bench.train_worker import main  # noqa: E402
from handwriting.shards import write_shard  # noqa: E402
from handwriting.training.synth import synthesize  # noqa: E402


@pytest.mark.parametrize("bf16", [False, True])
def test_the_worker_times_every_step_after_its_warm_up(tmp_path, bf16):
    write_shard([synthesize(word, font="futural") for word in ("cat", "dog", "sun", "hill")], tmp_path / "val.npz")
    out = tmp_path / "result.json"
    main(["--data", str(tmp_path), "--steps", "3", "--warmup", "1", "--hidden", "8", "--layers", "1",
          "--batch-frames", "400", "--out", str(out)] + (["--bf16"] if bf16 else []))
    result = json.loads(out.read_text())
    assert (result["hidden"], result["layers"], result["bf16"]) == (8, 1, bf16)
    assert len(result["frames"]) == len(result["seconds"]) == 3
    assert all(f > 0 for f in result["frames"]) and all(s > 0 for s in result["seconds"])


def test_the_report_gives_the_bfloat16_speed_up_beside_the_settings():
    setting = {"frames_per_s": {"median": 3000.0, "p10": 2900.0, "p90": 3100.0}, "frames_per_s_per_round": [3000.0],
               "frames_per_step": {"median": 2800.0}, "tree_rss_mib": None}
    table = _training({"steps": 6, "rounds": 1, "hidden": 192, "layers": 5, "batch_frames": 3000,
                       "settings": {"1_process_1_thread": setting, "1_process_1_thread_bf16": setting},
                       "bf16_speedup": {"median": 1.3, "p10": 1.28, "p90": 1.32, "n": 1}})
    assert "| 1 process 1 thread bf16 | 3000" in table
    assert table.endswith("bfloat16 (`--bf16`) over float32, 1 thread: x1.30.")
