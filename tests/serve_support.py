"""A real `handwriting serve` in a subprocess on a free loopback port, for the service tests and bench."""

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

from handwriting.formats import jsonink, read_inks
from handwriting.ink import Ink

__all__ = ["Server", "start_server", "ink_json", "fixture_inks"]

FIXTURES = Path(__file__).parent / "fixtures"
READY = re.compile(r"handwriting serve: (http://\S+) ")


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then wait for the exit; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def worker_pids(self) -> list[int]:
        """The server's child processes (its recognizer workers)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []


def start_server(*args: str, timeout: float = 120) -> Server:
    """`handwriting serve --port 0 ARGS` started and ready (its health answers)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "handwriting.cli", "serve", "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    server = Server("", process)
    ready = threading.Event()

    def read() -> None:  # keeps draining the output, so the server never blocks on a full pipe
        for line in process.stdout:
            server.output.append(line)
            match = READY.search(line)
            if match:
                server.url = match.group(1)
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the server did not start:\n" + "".join(server.output))
    while True:
        try:
            with urllib.request.urlopen(server.url + "v1/health", timeout=5) as response:
                if json.load(response)["status"] == "ok":
                    return server
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.1)


def ink_json(ink: Ink) -> dict:
    """An ink as a JSON ink object."""
    return json.loads(jsonink.dumps(ink))


def fixture_inks() -> list[Ink]:
    """The two real IAM-OnDB lines among the test fixtures."""
    files = sorted((FIXTURES / "iamondb" / "lineStrokes").rglob("*.xml"))
    return [read_inks(f)[0] for f in files]
