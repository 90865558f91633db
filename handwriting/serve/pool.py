"""The worker processes behind the service, seen from the event loop.

`WorkerPool` runs `worker.handle` in N spawned processes (spawn, not fork: the server
has threads), each loading the recognizer once. It bounds the work waiting (past
`max_pending` a request is refused at once with 503, so a burst cannot pile up
unbounded), gives each request `timeout_s` (then 504; a request still queued is
cancelled), and replaces the processes if one dies (that request gets 503).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from handwriting.errors import HandwritingError
from handwriting.serve import worker
from handwriting.serve.schemas import Limits, RequestError

__all__ = ["WorkerPool"]

START_TIMEOUT_S = 120


class WorkerPool:
    def __init__(self, workers: int, model: str | None, options: dict, limits: Limits, timeout_s: float,
                 max_pending: int | None = None):
        self.workers, self.timeout_s = workers, timeout_s
        self.max_pending = max_pending or 16 * workers
        context = multiprocessing.get_context("spawn")
        self._loaded = context.Value("i", 0)
        self._initargs = (model, options, limits, self._loaded)
        self._executor = self._start()
        self.pending = 0
        self.model: dict = {}

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, multiprocessing.get_context("spawn"), initializer=worker.init,
                                   initargs=self._initargs)

    def start(self) -> dict:
        """Start every worker, wait until all have loaded the model, and describe it; a model that
        cannot load raises HandwritingError. (Processes start on demand: one task each, at once.)"""
        try:
            answers = [f.result() for f in [self._executor.submit(worker.describe) for _ in range(self.workers)]]
        except BrokenProcessPool:
            answers = [{"error": "the worker processes stopped while loading the model"}]
        failed = [a["error"] for a in answers if "error" in a]
        if failed:
            self._executor.shutdown(wait=True)
            raise HandwritingError(failed[0])
        deadline = time.monotonic() + START_TIMEOUT_S
        while self._loaded.value < self.workers:
            if time.monotonic() > deadline:
                self._executor.shutdown(wait=False, cancel_futures=True)
                raise HandwritingError(f"the workers did not load the model within {START_TIMEOUT_S} s")
            time.sleep(0.05)
        self.model = {k: v for k, v in answers[0].items() if k != "pid"}
        return self.model

    async def run(self, kind: str, body: bytes) -> tuple[int, bytes]:
        """(status, JSON bytes) of `body` handled by a worker; RequestError for 503/504."""
        if self.pending >= self.max_pending:
            raise RequestError(503, f"busy: {self.pending} requests are waiting; try again shortly")
        self.pending += 1
        executor = self._executor
        try:
            future = executor.submit(worker.handle, kind, body, time.monotonic())
            try:
                return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_s)
            except asyncio.TimeoutError:
                future.cancel()
                raise RequestError(504, f"the request took longer than the service's {self.timeout_s:g} s limit") from None
        except BrokenProcessPool:
            self._replace(executor)
            raise RequestError(503, "a worker process stopped while handling the request; try again") from None
        finally:
            self.pending -= 1

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        if self._executor is broken:
            self._executor = self._start()
            broken.shutdown(wait=False)

    def close(self) -> None:
        """Finish the work handed out and end the workers."""
        self._executor.shutdown(wait=True, cancel_futures=True)
