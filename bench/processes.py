"""Running a command as a benchmark: wall time, CPU time and memory of its whole process tree.

`os.wait4` gives the resource usage of one child including its waited children (the
workers of `--jobs N`), like `resource.getrusage(RUSAGE_CHILDREN)` narrowed to that
command; ru_maxrss is the peak RSS of the largest single process of the tree. A child
exec'd straight from the suite would start from the suite's own (large) peak, which
Linux carries across exec, so the command runs under a small launcher (this module,
`python -m bench.processes RESULT CMD...`) that spawns it, waits for it and writes the
measurements. The sum over the tree at any moment (main process plus workers,
launcher excluded) is sampled from /proc by the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.threads import unpinned

__all__ = ["ProcessRun", "run_process", "run_checked", "ROOT"]

ROOT = Path(__file__).resolve().parent.parent
PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass(frozen=True)
class ProcessRun:
    command: str
    returncode: int
    wall_s: float
    cpu_s: float  # user + system of the tree
    max_rss_mib: float  # the largest single process of the tree (ru_maxrss)
    tree_rss_mib: float | None  # the largest sampled sum over the tree (None without /proc)
    stdout: str
    stderr: str

    def to_dict(self) -> dict:
        data = asdict(self)
        del data["stdout"], data["stderr"]
        return data


def _parents() -> dict[int, int]:
    """Parent pid of every process (from /proc)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                out[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return out


def _descendants_rss_mib(root: int) -> float:
    """Summed RSS of every descendant of `root` (not `root` itself)."""
    parents = _parents()
    tree: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - tree
        tree |= frontier
    total = 0
    for pid in tree:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total * PAGE_MIB


class _Sampler(threading.Thread):
    """Samples the summed RSS below a process until stopped."""

    def __init__(self, pid: int, interval_s: float):
        super().__init__(daemon=True)
        self.pid, self.interval_s, self.peak = pid, interval_s, 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval_s):
            self.peak = max(self.peak, _descendants_rss_mib(self.pid))


def run_process(command: list[str], env: dict[str, str] | None = None, sample_s: float = 0.1,
                timeout_s: float = 900.0, cwd: Path = ROOT) -> ProcessRun:
    """Run `command` in `cwd` (the repository root, or another checkout's) under the launcher, to the
    end, and measure it. `env` defaults to the user's environment (`bench.threads.unpinned`)."""
    env = unpinned() if env is None else env
    sampling = Path("/proc/self/statm").exists()
    with tempfile.TemporaryDirectory() as tmp:
        result, out_path, err_path = (Path(tmp) / name for name in ("result.json", "stdout", "stderr"))
        with out_path.open("w") as out, err_path.open("w") as err:
            launcher = subprocess.Popen([sys.executable, "-m", "bench.processes", str(result), *command],
                                        stdout=out, stderr=err, env=env, cwd=cwd)
            sampler = _Sampler(launcher.pid, sample_s)
            if sampling:
                sampler.start()
            try:
                launcher.wait(timeout_s)
            finally:
                launcher.kill()
                sampler.done.set()
        measured = json.loads(result.read_text()) if result.exists() else {"returncode": -1, "wall_s": 0.0,
                                                                            "cpu_s": 0.0, "max_rss_mib": 0.0}
        return ProcessRun(" ".join(command[:6]) + (" ..." if len(command) > 6 else ""), **measured,
                          tree_rss_mib=round(sampler.peak, 1) if sampling else None,
                          stdout=out_path.read_text(), stderr=err_path.read_text())


def run_checked(command: list[str], env: dict[str, str] | None = None) -> ProcessRun:
    """`run_process`, raising RuntimeError (with the end of stderr) unless the command succeeds."""
    run = run_process(command, env)
    if run.returncode != 0:
        raise RuntimeError(f"{run.command}: exit {run.returncode}\n{run.stderr[-2000:]}")
    return run


def _launch(result: str, command: list[str]) -> int:
    """Run `command` (output inherited), then write its exit code, wall and CPU time and ru_maxrss to `result`."""
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    Path(result).write_text(json.dumps({
        "returncode": process.returncode, "wall_s": round(wall, 3), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "max_rss_mib": round(usage.ru_maxrss / 1024, 1),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(_launch(sys.argv[1], sys.argv[2:]))
