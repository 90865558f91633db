"""Training throughput: frames per second of forward + backward + Adam, one process against DDP with two.

Settings (each a fresh process run of `bench.train_worker`, rounds interleaved):
one process with 1 thread; one process with 2 threads (torch's default on 2 cores),
with OpenMP's default spin-waiting and with OMP_WAIT_POLICY=PASSIVE (spinning threads
fight any other busy process for the cores; that one is measured in one round, from its
first step, until 10 s are spent); two DDP processes (torchrun, gloo) with 1 thread
each, as the training docs run it; and one process with 1 thread computing in bfloat16
(`handwriting train --bf16`).
Per setting: frames/s of every timed step (all processes' frames over the slowest
process's step time) and per round the total frames over the total time; the DDP
and bfloat16 speed-ups are ratios of those per-round totals, paired by round (a ratio against a
setting measured in fewer rounds uses its rounds only).
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.processes import run_checked
from bench.threads import unpinned
from bench.timing import ratio_summary, rotations, summarize

__all__ = ["Setting", "SETTINGS", "ONE_THREAD", "DDP", "BF16", "training_throughput"]


@dataclass(frozen=True)
class Setting:
    """How the worker runs: processes (DDP when > 1), threads and environment, and limits for slow settings."""

    processes: int
    threads: int  # per process
    environment: dict[str, str] = field(default_factory=dict)
    max_rounds: int | None = None  # for a slow setting: measured in fewer rounds
    max_seconds: float | None = None  # and with fewer steps: none starts after this long (one process only)
    warmup: int = 1  # untimed first steps
    bf16: bool = False  # the network computed in bfloat16 (`handwriting train --bf16`)


ONE_THREAD = "1_process_1_thread"
SETTINGS = {
    ONE_THREAD: Setting(1, 1),
    "1_process_1_thread_bf16": Setting(1, 1, bf16=True),
    # OpenMP spin-waiting next to other work can make this one many times slower
    "1_process_2_threads": Setting(1, 2, max_rounds=1, max_seconds=10.0, warmup=0),
    "1_process_2_threads_passive": Setting(1, 2, {"OMP_WAIT_POLICY": "PASSIVE"}),
    "ddp_2_processes_1_thread": Setting(2, 1),
}
DDP = "ddp_2_processes_1_thread"
BF16 = "1_process_1_thread_bf16"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(setting: Setting, data: str, steps: int, out: Path, network: list[str]) -> list[str]:
    worker = ["-m", "bench.train_worker", "--data", data, "--steps", str(steps), "--threads", str(setting.threads),
              "--warmup", str(setting.warmup), "--out", str(out), *network]
    if setting.max_seconds is not None:
        worker += ["--max-seconds", str(setting.max_seconds)]
    if setting.bf16:
        worker.append("--bf16")
    if setting.processes == 1:
        return [sys.executable, *worker]
    return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(setting.processes),
            "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), *worker]


def _run(setting: Setting, data: str, steps: int, network: list[str]) -> dict:
    env = unpinned(OMP_NUM_THREADS=str(setting.threads), **setting.environment)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        run = run_checked(_command(setting, data, steps, out, network), env=env)
        return {**json.loads(out.read_text()), "max_rss_mib": run.max_rss_mib, "tree_rss_mib": run.tree_rss_mib}


def training_throughput(data: str, steps: int, rounds: int, names: list[str] | None = None,
                        hidden: int | None = None, layers: int | None = None) -> dict:
    """Per setting (all, or `names`), frames/s per step and per round; DDP over each one-process
    setting and bfloat16 over float32 on one thread, paired by round. The network is
    `handwriting train`'s default unless `hidden` and `layers` say otherwise."""
    names = names or list(SETTINGS)
    network = [*(["--hidden", str(hidden)] if hidden else []), *(["--layers", str(layers)] if layers else [])]
    runs: dict[str, list[dict]] = {name: [] for name in names}
    due = {name: min(rounds, SETTINGS[name].max_rounds or rounds) for name in names}
    for _, name in rotations(names, due):
        runs[name].append(_run(SETTINGS[name], data, steps, network))
    totals = {name: [sum(run["frames"]) / sum(run["seconds"]) for run in runs[name]] for name in names}
    first = runs[names[0]][0]
    out: dict = {"steps": steps, "rounds": rounds, "hidden": first["hidden"], "layers": first["layers"],
                 "batch_frames": first["batch_frames"], "settings": {}}
    for name in names:
        per_step = [f / s for run in runs[name] for f, s in zip(run["frames"], run["seconds"])]
        out["settings"][name] = {
            "processes": SETTINGS[name].processes, "threads": SETTINGS[name].threads, "bf16": SETTINGS[name].bf16,
            "environment": SETTINGS[name].environment,
            "frames_per_s": summarize(per_step, 1), "frames_per_s_per_round": [round(t, 1) for t in totals[name]],
            "frames_per_step": summarize([f for run in runs[name] for f in run["frames"]], 1),
            "max_rss_mib": max(run["max_rss_mib"] for run in runs[name]),
            "tree_rss_mib": max((run["tree_rss_mib"] or 0.0) for run in runs[name]) or None,
        }
    if DDP in names:
        out["ddp_speedup"] = {f"over_{name}": ratio_summary(totals[DDP], totals[name])
                              for name in names if name not in (DDP, BF16)}
    if BF16 in names and ONE_THREAD in names:
        out["bf16_speedup"] = ratio_summary(totals[BF16], totals[ONE_THREAD])
    return out
