"""Peak memory of a recognizer process: load the model (and LM), recognise real lines one by one.

The suite runs this module as a child (`python -m bench.memory ...`) measured by
`bench.processes.run_process`; the child also reports its own RSS after loading and its
peak (getrusage of itself), so the model's share and the recognition's share show.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path

from bench.processes import run_checked

__all__ = ["recognizer_memory", "main"]


def _rss_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def recognizer_memory(model: str, lm: str, data: str, lines: int) -> dict:
    """Memory of a child process that recognises `lines` real lines with beam search and the LM."""
    command = [sys.executable, "-m", "bench.memory", "--model", model, "--lm", lm, "--data", data,
               "--lines", str(lines)]
    run = run_checked(command)
    return {**json.loads(run.stdout), "max_rss_mib": run.max_rss_mib, "wall_s": run.wall_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--lm", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--lines", type=int, default=100)
    args = parser.parse_args(argv)
    from bench.data import load_lines
    from handwriting.recognition.recognizer import Recognizer

    baseline = _rss_mib()
    recognizer = Recognizer(args.model, lm=args.lm, beam=16)
    loaded = _rss_mib()
    inks = load_lines(args.data, args.lines)
    for ink in inks:
        recognizer.recognize(ink)
    print(json.dumps({"lines": len(inks), "decoder": "beam_lm", "rss_after_imports_mib": round(baseline, 1),
                      "rss_after_load_mib": round(loaded, 1), "rss_at_end_mib": round(_rss_mib(), 1),
                      "self_peak_mib": round(_peak_mib(), 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
