"""Load on `handwriting serve`: concurrent clients posting real IAM-OnDB lines, bounded in count and time.

    python -m bench.serve_load                            # writes bench/serve_load.json
    python -m bench.serve_load --requests 500 --clients 4 --config greedy=--no-lm

For each configuration (default: the service as shipped, beam 32 with the LM; and greedy
without the LM) a fresh service is started on a free loopback port with `--workers`
processes; `--clients` threads, each with its own keep-alive HTTP connection, post
`POST /v1/recognize` with lines spread over the corpus, round robin, until `--requests`
answers or `--max-seconds` have passed. Reported: latency percentiles as the clients saw
them, the service's own queue and work times, throughput, errors (any answer but 200
with a text), CER of the answers against the lines' labels, and the resident memory of
the service (server process plus workers) after start-up and after the load.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from bench.data import IAMONDB, load_lines
from bench.machine import describe, load
from handwriting.atomic import atomic_write
from handwriting.formats import jsonink
from handwriting.metrics import error_rates
from handwriting.serve.launch import Service, launch

__all__ = ["run_load", "main"]

CONFIGS = {"beam 32 + LM": [], "greedy": ["--no-lm"]}


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def service_memory(service: Service) -> dict:
    """Resident memory (MiB) of the server process and of its children, and the total."""
    server = _rss_mib(service.process.pid)
    children = [_rss_mib(pid) for pid in service.child_pids()]
    return {"server_mib": round(server, 1), "children_mib": [round(c, 1) for c in children],
            "total_mib": round(server + sum(children), 1)}


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    p = np.percentile(values, [50, 90, 99])
    return {"p50": round(float(p[0]), 1), "p90": round(float(p[1]), 1), "p99": round(float(p[2]), 1),
            "max": round(max(values), 1)}


def run_load(service: Service, bodies: list[bytes], labels: list[str], clients: int, requests: int,
             max_seconds: float) -> dict:
    """`requests` posts of `bodies` by `clients` threads against `service`; latencies and errors."""
    lock = threading.Lock()
    issued = [0]
    records: list[tuple[float, int, dict | None, int]] = []  # latency ms, status, answer, body index
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        with httpx.Client(base_url=service.url, timeout=60) as http:
            while time.monotonic() < deadline:
                with lock:
                    if issued[0] >= requests:
                        return
                    k = issued[0] % len(bodies)
                    issued[0] += 1
                start = time.perf_counter()
                try:
                    answer = http.post("/v1/recognize", content=bodies[k], headers={"Content-Type": "application/json"})
                    status, doc = answer.status_code, answer.json()
                except (httpx.HTTPError, ValueError) as exc:
                    status, doc = 0, {"error": repr(exc)}
                with lock:
                    records.append(((time.perf_counter() - start) * 1e3, status, doc, k))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    good = [(ms, doc, k) for ms, status, doc, k in records if status == 200 and "text" in doc]
    errors = [{"status": status, "answer": str(doc)[:200]} for ms, status, doc, k in records
              if status != 200 or "text" not in doc]
    cer, wer = error_rates([(labels[k], doc["text"]) for _, doc, k in good])
    return {
        "requests": len(records), "ok": len(good), "errors": len(errors), "error_examples": errors[:5],
        "wall_s": round(wall, 2), "throughput_rps": round(len(records) / wall, 2),
        "latency_ms": _percentiles([ms for ms, _, _ in good]),
        "queue_ms": _percentiles([doc["timings_ms"]["queue"] for _, doc, _ in good]),
        "work_ms": _percentiles([doc["timings_ms"]["work"] for _, doc, _ in good]),
        "cer": round(cer, 4), "wer": round(wer, 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(IAMONDB), help="IAM-OnDB root (lineStrokes/**.xml)")
    parser.add_argument("--lines", type=int, default=200, help="distinct lines, spread over the corpus")
    parser.add_argument("--requests", type=int, default=2000, help="requests per configuration")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=600, help="stop a configuration after this long")
    parser.add_argument("--config", action="append", metavar="NAME=ARGS",
                        help="a configuration: its name and `handwriting serve` options (default: beam 32 + LM, greedy)")
    parser.add_argument("--out", default="bench/serve_load.json")
    args = parser.parse_args(argv)
    configs = dict(c.split("=", 1) for c in args.config) if args.config else {k: " ".join(v) for k, v in CONFIGS.items()}
    lines = load_lines(args.data, args.lines)
    bodies = [json.dumps({"ink": json.loads(jsonink.dumps(ink))}).encode() for ink in lines]
    labels = [ink.label or "" for ink in lines]
    report = {"machine": describe(), "load_before": load(), "clients": args.clients, "workers": args.workers,
              "lines": len(lines), "points_per_line": round(float(np.mean([i.num_points for i in lines])), 1),
              "runs": []}
    for name, options in configs.items():
        with launch("--workers", str(args.workers), *options.split()) as service:
            memory_before = service_memory(service)
            result = run_load(service, bodies, labels, args.clients, args.requests, args.max_seconds)
            memory_after = service_memory(service)
        run = {"config": name, "options": options, **result, "memory_before": memory_before,
               "memory_after": memory_after}
        report["runs"].append(run)
        print(f"{name}: {run['requests']} requests, {run['errors']} errors, {run['throughput_rps']} req/s, "
              f"p50 {run['latency_ms'].get('p50')} ms, p99 {run['latency_ms'].get('p99')} ms, "
              f"memory {memory_before['total_mib']} -> {memory_after['total_mib']} MiB", flush=True)
    report["load_after"] = load()
    with atomic_write(args.out) as fh:
        fh.write(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
