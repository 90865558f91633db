"""Training under torchrun: two gloo processes share the batches with no code change."""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")

from handwriting.shards import write_shard  # noqa: E402
from handwriting.training.synth import synthesize  # noqa: E402


def test_two_gloo_processes_train_together(tmp_path):
    inks = [synthesize(w, font=f) for w in ("one", "two", "three", "four") for f in ("futural", "scripts")]
    write_shard(inks, tmp_path / "data" / "train.npz")
    write_shard(inks[:2], tmp_path / "data" / "val.npz")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",  # any free port
           "-m", "handwriting.cli", "train", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"),
           "--epochs", "2", "--hidden", "16", "--layers", "1", "--batch-frames", "400", "--workers", "0"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[1]["step"] > history[0]["step"] > 0
    assert (tmp_path / "run" / "last.pt").exists()
