"""Markdown tables from the suite's results.json, to paste into the README.

    .venv/bin/python -m bench.report [bench/results.json]

Times are "median (p10-p90)" over the repeats; sections missing from the JSON are skipped.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable, Iterable

__all__ = ["render", "main"]

Row = list[str]


def _spread(summary: dict | None, digits: int = 1) -> str:
    if not summary:
        return "-"
    return f"{summary['median']:.{digits}f} ({summary['p10']:.{digits}f}-{summary['p90']:.{digits}f})"


def _median(summary: dict | None, digits: int = 1) -> str:
    return "-" if not summary else f"{summary['median']:.{digits}f}"


def _table(header: Row, rows: Iterable[Row]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _machine(results: dict) -> str:
    m, start = results["machine"], results["load"]["start"]
    busy = ", ".join(f"{p['command'].split()[0].rsplit('/', 1)[-1]} {' '.join(p['command'].split()[1:3])} "
                     f"({p['cpu']:.1f} cores)" for p in start["busy"][:3]) or "none"
    loads = [v["loadavg"][0] for v in results["load"].values() if isinstance(v, dict) and "loadavg" in v]
    model = results["suite"].get("model_config", {})
    weights = ", weights int8" if results["suite"].get("quantized") else ""
    shape = f" ({model['layers']}x{model['hidden']} BiLSTM{weights})" if model else ""
    return (f"Model `{Path(results['suite']['model']).name}`{shape}, LM `{Path(results['suite']['lm']).name}`. "
            f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; Python {m['python']}, onnxruntime "
            f"{m['onnxruntime']}, torch {m['torch']}, numpy {m['numpy']}; {m['date']}. Load average (1 min) "
            f"{min(loads):.2f}-{max(loads):.2f} during the run; busy at the start: {busy}.")


def _live(live: dict) -> str:
    rows = []
    for size, e in live["sizes"].items():
        rows.append([size, str(e["frames"]), _spread(e["greedy"]["total_ms"]), _median(e["greedy"]["cpu_ms"]),
                     _spread(e["beam_lm"]["total_ms"]), _median(e["beam_lm"]["cpu_ms"]),
                     _spread(e["explain"]["cells_ms"]), _spread(e["explain"]["saliency_ms"])])
    table = _table(["points", "frames", "greedy", "greedy CPU", "beam + LM", "beam CPU", "cells", "saliency"], rows)
    stages = []
    for size, e in live["sizes"].items():
        for name in ("greedy", "beam_lm"):
            d = e[name]
            stages.append([size, name, _median(d["preprocess_ms"]), _median(d["network_ms"]), _median(d["decode_ms"]),
                           _median(d["total_ms"])])
    fits = "; ".join(f"{name}: {f['ms_per_1000_points']:.1f} ms per 1,000 points + {f['intercept_ms']:.1f} ms "
                     f"(R² {f['r2']:.2f})" for name, f in live["scaling"].items())
    return (f"### Live update latency (ms)\n\nInk changed -> text ready (`Recognizer.recognize`, 1 thread), "
            f"{live['inks_per_size']} real inks per size x {live['rounds']} interleaved rounds; cells and saliency "
            f"(`handwriting.recognition.explain`) on top, first ink. CPU: median CPU time of the same calls (the wall time "
            f"without waiting for a core).\n\n{table}\n\nStages (median ms):\n\n"
            + _table(["points", "decoder", "preprocess", "network", "decode", "total"], stages)
            + f"\n\nScaling (line through the per-ink medians): {fits}.")


def _profile(profile: dict) -> str:
    parts = ("preprocess", "network", "decode", "spans", "other")
    rows = [[name, f"{p['profiled_ms_per_update']:.1f}", *(f"{100 * p['share'][k]:.0f}%" for k in parts)]
            for name, p in profile.items()]
    tops = "\n".join(f"- {name}: " + ", ".join(f"`{t['function']}` {100 * t['self_share']:.0f}%"
                                                for t in p["top_self_time"][:5]) for name, p in profile.items())
    points = next(iter(profile.values()))["points"]
    return (f"### Where the time goes ({points}-point update, cProfile)\n\n"
            + _table(["decoder", "profiled ms", *parts], rows) + f"\n\nBusiest functions (self time):\n\n{tops}")


def _blas(blas: dict) -> str:
    settings = list(blas["settings"])
    tasks = list(blas["default_over_one_thread"])
    rows = [[task, *(_median(blas["settings"][name][task]) for name in settings),
             _spread(blas["default_over_one_thread"][task], 2)] for task in tasks]
    return (f"### BLAS threads ({blas['points']}-point ink, ms, fresh process per setting, {blas['rounds']} rounds)\n\n"
            + _table(["step", *(name.replace("_", " ") for name in settings), "default / one"], rows))


def _runtimes(rt: dict) -> str:
    rows = []
    for size, batches in rt["sizes"].items():
        for batch, e in batches.items():
            cells = []
            for n in rt["threads"]:
                t = e.get(f"threads_{n}")
                cells += [_spread(t["ort_ms"]), _spread(t["torch_ms"]), _spread(t["torch_over_ort"], 2)] if t else ["-"] * 3
            rows.append([size, batch.removeprefix("batch_"), str(e["frames"]), *cells, f"{e['max_abs_difference']:.0e}"])
    header = ["points", "batch", "frames"]
    for n in rt["threads"]:
        header += [f"ort {n}t", f"torch {n}t", f"torch/ort {n}t"]
    return (f"### onnxruntime vs torch eager (ms, same weights and inputs)\n\n"
            f"{rt['rounds']} interleaved rounds; torch/ort > 1: onnxruntime faster. Max abs diff: of the "
            f"log-probs (for an int8 model torch runs the stored weights in float32 while onnxruntime also "
            f"quantizes the activations: up to about 1).\n\n"
            + _table(header + ["max abs diff"], rows))


def _throughput(tp: dict) -> str:
    rows = []
    for key, e in tp["settings"].items():
        decoder, jobs = key.split("/")
        rows.append([decoder, jobs.removeprefix("jobs_"), _spread(e["lines_per_s"]), _spread(e["wall_s"], 2),
                     _median(e["startup_s"], 2), _median(e["steady_lines_per_s"]), _median(e["cpu_s"]),
                     f"{e['max_rss_mib']:.0f}", f"{e['tree_rss_mib']:.0f}" if e["tree_rss_mib"] else "-"])
    return (f"### Batch throughput: `handwriting recognize`, {tp['lines']} real lines, process start included\n\n"
            + _table(["decoder", "jobs", "lines/s", "wall s", "start-up s", "lines/s w/o start-up", "CPU s",
                      "largest process MiB", "all processes MiB"], rows))


def _training(tr: dict) -> str:
    rows = [[name.replace("_", " "), _spread(e["frames_per_s"], 0), ", ".join(f"{v:.0f}" for v in e["frames_per_s_per_round"]),
             _median(e["frames_per_step"], 0), f"{e['tree_rss_mib']:.0f}" if e["tree_rss_mib"] else "-"]
            for name, e in tr["settings"].items()]
    speedups = "; ".join(f"{k.removeprefix('over_').replace('_', ' ')}: x{_median(v, 2)}" for k, v in tr.get("ddp_speedup", {}).items())
    notes = ([f"DDP (2 processes) speed-up over {speedups}."] if speedups else []) + (
        [f"bfloat16 (`--bf16`) over float32, 1 thread: x{_median(tr['bf16_speedup'], 2)}."] if "bf16_speedup" in tr else [])
    shape, frames = f"{tr.get('layers', '?')}x{tr.get('hidden', '?')}", tr.get("batch_frames", "?")
    return (f"### Training throughput (BiLSTMCTC {shape}, CTC, Adam; frames/s)\n\n"
            f"Up to {tr['steps']} timed steps x {tr['rounds']} rounds per setting, real-length batches of <= "
            f"{frames} frames (longest x count).\n\n"
            + _table(["setting", "per step", "per round", "frames/step", "memory MiB"], rows)
            + "".join(f"\n\n{note}" for note in notes))


def _memory(mem: dict) -> str:
    r = mem["recognizer"]
    text = (f"### Memory\n\nRecognizer process (beam + LM, {r['lines']} lines): {r['rss_after_imports_mib']:.0f} MiB "
            f"after imports, {r['rss_after_load_mib']:.0f} MiB with model and LM, peak {r['max_rss_mib']:.0f} MiB.")
    if "batch" in mem:
        text += " Batch runs (peak of the largest process / of all processes together): " + "; ".join(
            f"{k}: {v['max_rss_mib']:.0f} / {v['tree_rss_mib'] or 0:.0f} MiB" for k, v in mem["batch"].items()) + "."
    return text


def _targets(targets: list[dict]) -> str:
    def verdict(t: dict) -> str:
        return "not measured" if t["met"] is None else ("met" if t["met"] else "**missed**")

    def cpu(t: dict) -> str:
        if t.get("cpu_value") is None:
            return "-"
        return f"{t['cpu_value']:.2f} ({'met' if t['met_in_cpu_time'] else 'missed'})"

    rows = [[t["name"], t["target"], "-" if t["value"] is None else f"{t['value']:.2f}", verdict(t), cpu(t)]
            for t in targets]
    return "### Targets\n\n" + _table(["target", "goal", "measured", "", "in CPU time"], rows)


SECTIONS: dict[str, Callable[[dict], str]] = {
    "live": _live, "profile": _profile, "blas": _blas, "runtimes": _runtimes, "throughput": _throughput, "training": _training,
    "memory": _memory,
}


def render(results: dict) -> str:
    """The Markdown for every section present in `results`."""
    parts = ["## Benchmarks", _machine(results)]
    if results.get("targets"):
        parts.append(_targets(results["targets"]))
    parts += [render_section(results[name]) for name, render_section in SECTIONS.items() if name in results]
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", default="bench/results.json")
    args = parser.parse_args(argv)
    print(render(json.loads(Path(args.results).read_text())), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
