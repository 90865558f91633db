"""What the numbers were measured on: CPU, cores, memory, library versions, date, and the load.

The load matters on shared machines: `load()` gives os.getloadavg() and the other
processes that were busy at that moment (share of one core over a short window).
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

__all__ = ["describe", "load", "busy_processes"]

PACKAGES = ("numpy", "onnxruntime", "onnx", "torch")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe() -> dict:
    """The machine and software, for the JSON header."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        **{package: _version(package) for package in PACKAGES},
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _cpu_ticks() -> dict[int, tuple[int, str]]:
    """CPU ticks (user + system) and command line of every readable process."""
    ticks = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        ticks[int(entry.name)] = (int(fields[11]) + int(fields[12]), command)
    return ticks


def busy_processes(window_s: float = 0.5, threshold: float = 0.2) -> list[dict]:
    """Other processes using more than `threshold` of a core over `window_s` seconds."""
    if not Path("/proc/self/stat").exists():
        return []
    before = _cpu_ticks()
    time.sleep(window_s)
    after = _cpu_ticks()
    hz = os.sysconf("SC_CLK_TCK")
    busy = []
    for pid, (ticks, command) in after.items():
        share = (ticks - before.get(pid, (ticks, ""))[0]) / hz / window_s
        if share >= threshold and pid != os.getpid():
            busy.append({"pid": pid, "cpu": round(share, 2), "command": command[:120]})
    return sorted(busy, key=lambda p: -p["cpu"])


def load() -> dict:
    """The load average (1, 5, 15 min) and the busy processes right now."""
    return {"loadavg": [round(x, 2) for x in os.getloadavg()], "busy": busy_processes()}
