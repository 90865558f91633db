"""A `handwriting serve` in a subprocess, started and ready: for scripts, benchmarks and tests.

    with launch("--workers", "2") as service:   # port 0: a free loopback port
        service.url                             # "http://127.0.0.1:PORT/"
    # on leaving: service.stop(), SIGTERM (requests in flight are answered first)
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from handwriting.errors import HandwritingError

__all__ = ["Service", "launch"]

READY = re.compile(r"handwriting serve: (http://\S+) ")


@dataclass
class Service:
    url: str
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)  # its stdout and stderr lines so far

    def __enter__(self) -> "Service":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then wait for the exit; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def child_pids(self) -> list[int]:
        """The server's child processes (its workers), on Linux: those started by any of its threads."""
        tasks = Path(f"/proc/{self.process.pid}/task")
        pids: list[int] = []
        for children in tasks.glob("*/children"):
            try:
                pids += [int(p) for p in children.read_text().split()]
            except OSError:  # a thread that ended meanwhile
                continue
        return pids


def launch(*args: str, timeout: float = 120) -> Service:
    """`handwriting serve --port 0 ARGS` in a subprocess, returned once its health answers."""
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "handwriting.cli", "serve", "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    service = Service("", process)
    ready = threading.Event()

    def read() -> None:  # drains the output for the service's whole life, so it never blocks on the pipe
        assert process.stdout is not None  # (stdout=PIPE)
        for line in process.stdout:
            service.output.append(line)
            match = READY.search(line)
            if match:
                service.url = match.group(1)
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise HandwritingError("the service did not start: " + "".join(service.output[-5:]).strip())
    while True:
        try:
            with urllib.request.urlopen(service.url + "v1/health", timeout=5) as response:
                if json.load(response)["status"] == "ok":
                    return service
        except OSError:
            if time.monotonic() > deadline:
                service.stop()
                raise HandwritingError(f"the service at {service.url} does not answer") from None
            time.sleep(0.1)
