"""Event-loop stalls of the pad while an ink is written on it, with every core kept busy.

    python -m bench.app_stall                       # this checkout, writes bench/app_stall.json
    python -m bench.app_stall --code /tmp/old .     # two checkouts side by side, rounds interleaved

The load generator is `--load` processes (default: one per core) each running
`python -c 'while 1: pass'`, started before the first round and ended after the last.
Each round is a fresh app process (offscreen Qt, the shipped model, its language model)
that replays an IAM-OnDB line onto the pad in its recorded timing (`--speed`) through
the pad's pen API, exactly as live input, while a 2 ms precise timer records every gap
between event-loop turns. A gap is the time the GUI thread could not react: waiting for
the model (a worker thread holding the GIL), for painting, or for a core. Reported per
round: the longest gap, the 99th percentile, the GUI thread's own CPU time within the
longest gap and the most it used between two ticks (the part of a gap that no load
and no lock explains), the longest gap less the time the GUI thread was runnable but
waiting for a core (Linux schedstat: what is left is the app's own doing, its work
and its waits for the GIL, whatever else the machine runs), how many results and
explanations were
shown during the writing, and the CPU time the app's process used meanwhile (all its
threads: with the model in a thread, that includes the model); over the rounds, the
median and worst of the longest gaps.
`--code DIR` imports `app/` and `handwriting/` from DIR (another checkout, e.g. an older
commit unpacked with `git archive`), so that two versions are measured under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from bench.data import IAMONDB

__all__ = ["LOAD_COMMAND", "measure", "main"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INK = IAMONDB / "lineStrokes" / "a06" / "a06-373" / "a06-373z-02.xml"
LOAD_COMMAND = [sys.executable, "-c", "while 1: pass"]
TICK_MS = 2
SETTLE_S = 1.0  # quiet time after the model loads, before the writing starts
TIMEOUT_S = 120.0


def _core_wait_reader():
    """A function giving the seconds this thread has spent runnable but waiting for a core
    (Linux schedstat), or None where that is not available."""
    path = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")
    if not path.exists():
        return None
    return lambda: int(path.read_text().split()[1]) / 1e9


def measure(ink_path: Path, speed: float) -> dict:
    """One round in this process: replay the ink on a fresh window and time the event loop."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication

    from app.window import MainWindow
    from handwriting.formats import read_inks
    from handwriting.recognition.modelfile import default_model_path

    ink = read_inks(ink_path)[0]
    app = QApplication.instance() or QApplication(["bench"])
    window = MainWindow(default_model_path())
    window.show()
    loaded: list[str] = []
    window.service.modelLoaded.connect(loaded.append)
    clock = QElapsedTimer()
    clock.start()
    while not loaded and clock.elapsed() < TIMEOUT_S * 1e3:
        QTest.qWait(20)
    QTest.qWait(int(SETTLE_S * 1e3))
    shown, explained, ticks = [], [], []
    window.resultShown.connect(shown.append)
    window.explanationShown.connect(explained.append)
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    core_wait = _core_wait_reader()
    timer.timeout.connect(lambda: ticks.append((time.perf_counter(), time.thread_time(),
                                                core_wait() if core_wait else 0.0)))
    written = QEventLoop()
    replayer = window.replay(ink, speed)
    replayer.finished.connect(written.quit)
    QTimer.singleShot(int(TIMEOUT_S * 1e3), written.quit)
    cpu = time.process_time()
    timer.start()
    written.exec()
    timer.stop()
    cpu = time.process_time() - cpu
    gaps, busy, waiting = (np.diff(np.array(ticks), axis=0) * 1e3).T
    own = gaps - waiting  # the gap less the time the GUI thread waited for a core
    results, explanations = len(shown), len(explained)
    while not window.service.is_idle() and clock.elapsed() < TIMEOUT_S * 1e3:
        QTest.qWait(20)
    window.close()
    return {"longest_gap_ms": round(float(gaps.max()), 1), "p99_gap_ms": round(float(np.percentile(gaps, 99)), 1),
            "longest_5_gaps_ms": [round(float(g), 1) for g in np.sort(gaps)[-5:][::-1]],
            "gui_thread_cpu_in_longest_gap_ms": round(float(busy[np.argmax(gaps)]), 1),
            "core_wait_in_longest_gap_ms": round(float(waiting[np.argmax(gaps)]), 1) if core_wait else None,
            "longest_gap_less_core_wait_ms": round(float(own.max()), 1) if core_wait else None,
            "longest_gui_thread_cpu_between_ticks_ms": round(float(busy.max()), 1),
            "ticks": len(ticks), "results_while_writing": results, "explanations_while_writing": explanations,
            "writing_s": round(float(ticks[-1][0] - ticks[0][0]), 2), "gui_process_cpu_s": round(cpu, 2),
            "points": ink.num_points}


def _round(code: Path, ink: Path, speed: float) -> dict:
    """One round in a fresh process importing from `code`."""
    from handwriting.recognition.modelfile import default_model_path

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(code), str(ROOT)]), QT_QPA_PLATFORM="offscreen",
               OMP_NUM_THREADS="1", HANDWRITING_MODEL=str(default_model_path()))
    done = subprocess.run([sys.executable, "-m", "bench.app_stall", "--child", "--ink", str(ink), "--speed",
                           str(speed)], cwd=code, env=env, capture_output=True, text=True, timeout=TIMEOUT_S * 2)
    if done.returncode != 0:
        raise RuntimeError(f"round in {code} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _summary(rounds: list[dict]) -> dict:
    longest = [r["longest_gap_ms"] for r in rounds]
    own = [r["longest_gap_less_core_wait_ms"] for r in rounds if r["longest_gap_less_core_wait_ms"] is not None]
    return {"longest_gap_ms_median": float(np.median(longest)), "longest_gap_ms_worst": max(longest),
            "longest_gap_less_core_wait_ms_worst": max(own) if own else None,
            "p99_gap_ms_median": float(np.median([r["p99_gap_ms"] for r in rounds])), "rounds": rounds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.app_stall", description=__doc__.splitlines()[0])
    parser.add_argument("--code", nargs="+", type=Path, default=[ROOT], help="checkouts to measure (default: this one)")
    parser.add_argument("--ink", type=Path, default=DEFAULT_INK)
    parser.add_argument("--speed", type=float, default=1.0, help="replay speed (1: as written)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load", type=int, default=os.cpu_count() or 1, help="busy-loop processes (0: none)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "app_stall.json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.ink, args.speed)))
        return 0
    if not args.ink.is_file():
        print(f"python -m bench.app_stall: {args.ink}: no such ink (pass --ink)", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that the load generator is ended too
    load = [subprocess.Popen(LOAD_COMMAND) for _ in range(args.load)]
    try:
        rounds: dict[str, list[dict]] = {str(code.resolve()): [] for code in args.code}
        for r in range(args.rounds):
            order = list(rounds)[r % len(rounds):] + list(rounds)[:r % len(rounds)]
            for code in order:
                rounds[code].append(_round(Path(code), args.ink, args.speed))
                print(f"round {r + 1} {code}: {rounds[code][-1]}", file=sys.stderr)
    finally:
        for process in load:
            process.kill()
            process.wait()
    result = {"ink": str(args.ink), "speed": args.speed, "tick_ms": TICK_MS, "cores": os.cpu_count(),
              "load": f"{args.load} x {' '.join(LOAD_COMMAND[1:])!r}", "loadavg_after": os.getloadavg(),
              "checkouts": {code: _summary(rs) for code, rs in rounds.items()}}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({code: {k: v for k, v in s.items() if k != "rounds"} for code, s in result["checkouts"].items()},
                     indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
