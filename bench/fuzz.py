"""Fuzz campaign: thousands of damaged files per format, and bombs, through the readers.

    nice -n 10 python -m bench.fuzz --per-format 10000 --out bench/fuzz.json

Every file is read by `read_items` in a child process whose address space is capped
(`--memory-mb`, RLIMIT_AS) and watched by the parent (`--timeout` seconds per file: a
child that does not answer in time is killed and the file counted as a hang, then a new
child goes on with the next file). An outcome is `ok` (inks or item errors), `refused`
(a HandwritingError, the project's error for bad input), `crash` (any other exception,
or a reader crash that `read_items` wrapped as "unreadable (...)"), `memory`
(MemoryError under the cap) or `hang`. The peak resident memory of each read is measured
(VmHWM, reset before every file). A sample of the damaged files then goes through
`handwriting recognize` (exit status, tracebacks, strict JSON). Damage comes from
tests/test_fuzz.py's `mutate` plus re-encodings (UTF-16/32), gzip wrapping and
repetition of whole files.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing as mp
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "datasets" / "samples"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from handwriting.errors import HandwritingError  # noqa: E402
from handwriting.formats import jsonink, read_items  # noqa: E402
from handwriting.ink import Ink  # noqa: E402
from handwriting.shards import write_shard  # noqa: E402
from test_fuzz import mutate  # noqa: E402  (the unit tests' mutator; needs pytest)

FORMATS = ("inkml", "iamondb", "unipen", "json", "shard", "xournal", "csv", "remarkable")


def seeds(folder: Path) -> dict[str, list[Path]]:
    """Valid files of every format under `folder` (UNIPEN with its corpus, so includes resolve)."""
    shutil.copytree(FIXTURES, folder / "fixtures")
    fx = folder / "fixtures"
    lines = [ink for p in sorted((fx / "iamondb" / "lineStrokes").rglob("*.xml")) for ink in read_items(p)]
    jsonink.write(lines, folder / "lines.ndjson")
    jsonink.write(lines[:1], folder / "line.json")
    write_shard(lines + [Ink.from_strokes([[[0, 0, 0], [1, 2, 10]]], label="x")], folder / "train.npz")
    plain = folder / "plain.xoj"
    plain.write_bytes(gzip.decompress((fx / "notes" / "page.xopp").read_bytes()))
    found = {
        "inkml": sorted((fx / "inkml").glob("*.inkml")),
        "iamondb": sorted((fx / "iamondb" / "lineStrokes").rglob("*.xml")),
        "unipen": [p for p in sorted((fx / "unipen" / "data").rglob("*.dat")) if _reads(p)],
        "json": [folder / "lines.ndjson", folder / "line.json"],
        "shard": [folder / "train.npz"],
        "xournal": [fx / "notes" / "page.xopp", fx / "notes" / "old.xoj", plain],
        "csv": sorted((fx / "notes").glob("*.csv")),
        "remarkable": [fx / "notes" / "page.rm"],
    }
    return {name: files for name, files in found.items() if files}


def _reads(path: Path) -> bool:
    try:
        return any(isinstance(i, Ink) for i in read_items(path))
    except HandwritingError:
        return False


def damage(data: bytes, rng: random.Random) -> bytes:
    """One kind of damage: most from the unit tests' mutator, some whole-file re-encodings."""
    kind = rng.random()
    if kind < 0.85:
        return mutate(data, rng)
    if kind < 0.90:
        text = data.decode("utf-8", "replace")
        return text.encode(rng.choice(["utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "utf-32"]))
    if kind < 0.95:
        return gzip.compress(mutate(data, rng), mtime=0)
    return data * rng.choice([2, 10, 100])


# -- the bounded child ------------------------------------------------------------------
def _peak_reset() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _classify(path: str) -> tuple[str, str]:
    try:
        items = read_items(path)
    except MemoryError:
        return "memory", "MemoryError"
    except HandwritingError as exc:
        text = str(exc)
        return ("crash" if "unreadable (" in text else "refused"), text[:300]
    except Exception as exc:  # noqa: BLE001 - counting them is the point
        return "crash", f"{type(exc).__name__}: {str(exc)[:300]}"
    wrapped = [str(i) for i in items if isinstance(i, HandwritingError) and "unreadable (" in str(i)]
    return ("crash", wrapped[0][:300]) if wrapped else ("ok", f"{len(items)} items")


def _child(conn, paths: list[str], memory_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    for i, path in enumerate(paths):
        _peak_reset()
        started = time.perf_counter()
        outcome, detail = _classify(path)
        conn.send((i, outcome, detail, time.perf_counter() - started, _peak_kb()))
    conn.close()


def run_bounded(paths: list[str], timeout: float, memory_mb: int) -> list[dict]:
    """Outcome, seconds and peak KB of reading every path, each in a capped and watched child."""
    results: list[dict] = []
    context = mp.get_context("fork")
    while len(results) < len(paths):
        parent, child = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(child, paths[len(results):], memory_mb), daemon=True)
        process.start()
        child.close()
        while len(results) < len(paths):
            if not parent.poll(timeout):
                process.kill()
                results.append({"path": paths[len(results)], "outcome": "hang",
                                "detail": f"no answer in {timeout} s", "seconds": timeout, "peak_kb": None})
                break
            try:
                _, outcome, detail, seconds, peak = parent.recv()
            except EOFError:  # the child died (killed by the kernel, a signal, a crash in C)
                results.append({"path": paths[len(results)], "outcome": "crash",
                                "detail": f"reader process died (exit {process.exitcode})", "seconds": None,
                                "peak_kb": None})
                break
            results.append({"path": paths[len(results)], "outcome": outcome,
                            "detail": detail, "seconds": seconds, "peak_kb": peak})
        process.join(5)
        parent.close()
    return results


# -- bombs ------------------------------------------------------------------------------
def bombs(folder: Path) -> dict[str, Path]:
    """One file per class of bomb, each small on disk."""
    out: dict[str, Path] = {}
    entity = "x" * 1_000_000
    xml = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE ink [<!ENTITY a "' + entity + '">]>'
           '<ink xmlns="http://www.w3.org/2003/InkML"><annotation type="truth">' + "&a;" * 90 +
           "</annotation><trace>0 0, 1 1</trace></ink>")
    for codec in ("utf-16-le", "utf-16-be", "utf-32-le"):
        out[f"xml entities, {codec} without BOM"] = _write(folder / f"entities-{codec}.inkml", xml.encode(codec))
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        member = io.BytesIO()
        np.save(member, np.zeros((256 * 2**20 // 12, 3), np.float32))
        archive.writestr("points.npy", member.getvalue())
        for name, value in (("stroke_ends", np.array([1])), ("sample_ends", np.array([1])), ("meta", np.array("[{}]"))):
            member = io.BytesIO()
            np.save(member, value)
            archive.writestr(f"{name}.npy", member.getvalue())
    out["npz of 256 MB of zeros"] = _write(folder / "zeros.npz", buffer.getvalue())
    xopp = b'<?xml version="1.0"?><xournal><page width="1" height="1"><layer>' + b" " * (512 * 2**20)
    out["xopp gzip of 512 MB"] = _write(folder / "bomb.xopp", gzip.compress(xopp + b"</layer></page></xournal>", 9))
    fan = folder / "fan"
    fan.mkdir()
    for level in range(8, 0, -1):
        body = ".COORD X Y\n.PEN_DOWN\n1 2\n3 4\n.PEN_UP\n" if level == 8 else f".INCLUDE l{level + 1}.dat\n" * 10
        (fan / f"l{level}.dat").write_text(body)
    out["UNIPEN includes, 10 per file, 8 deep"] = _write(fan / "top.dat",
                                                          b".INCLUDE l1.dat\n" * 10 + b'.SEGMENT CHARACTER 0 ? "a"\n')
    points = ",".join(f"[{i % 977},{i % 613}]" for i in range(1_200_000))
    out["JSON ink of 1.2M points"] = _write(folder / "million.json", ('{"strokes": [[' + points + "]]}").encode())
    out["JSON nested 100,000 deep"] = _write(folder / "deep.json", b"[" * 100_000 + b"]" * 100_000)
    fifo = folder / "fifo.inkml"
    os.mkfifo(fifo)
    out["FIFO"] = fifo
    zero = folder / "zero.json"
    zero.symlink_to("/dev/zero")
    out["link to /dev/zero"] = zero
    return out


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- recognize on a sample ---------------------------------------------------------------
def recognize_sample(files: list[Path], folder: Path, timeout: float) -> dict:
    """`handwriting recognize` over damaged files: exit status, tracebacks, JSON validity, time."""
    folder.mkdir()
    for i, path in enumerate(files):
        shutil.copy(path, folder / f"{i:05d}{path.suffix}")
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "handwriting.cli", "recognize", *sorted(map(str, folder.iterdir())),
                          "--format", "jsonl", "--no-lm"], capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "OMP_NUM_THREADS": "1"}, cwd=ROOT)
    records, invalid = [], 0
    for line in run.stdout.splitlines():
        try:
            records.append(json.loads(line, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c))))
        except ValueError:
            invalid += 1
    return {"files": len(files), "exit_status": run.returncode, "seconds": round(time.perf_counter() - started, 1),
            "records": len(records), "records_with_error": sum(r["error"] is not None for r in records),
            "invalid_json_lines": invalid, "tracebacks": run.stderr.count("Traceback"),
            "unreadable_crashes": sum("unreadable (" in (r["error"] or "") for r in records)}


def summary(results: list[dict]) -> dict:
    counts = Counter(r["outcome"] for r in results)
    peaks = [r for r in results if r["peak_kb"]]
    worst = max(peaks, key=lambda r: r["peak_kb"]) if peaks else None
    slowest = max((r for r in results if r["seconds"] is not None), key=lambda r: r["seconds"], default=None)
    return {"files": len(results), **{k: counts.get(k, 0) for k in ("ok", "refused", "crash", "memory", "hang")},
            "peak_mb_max": round(worst["peak_kb"] / 1024, 1) if worst else None,
            "peak_mb_median": round(float(np.median([r["peak_kb"] for r in peaks])) / 1024, 1) if peaks else None,
            "seconds_max": round(slowest["seconds"], 3) if slowest else None,
            "crashes": [f"{Path(r['path']).name}: {r['detail']}" for r in results
                        if r["outcome"] in ("crash", "memory", "hang")][:20]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-format", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per file before it counts as a hang")
    parser.add_argument("--memory-mb", type=int, default=2048, help="address-space cap of the reading process")
    parser.add_argument("--recognize-sample", type=int, default=100, help="damaged files per format through recognize")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS), help="formats to fuzz")
    parser.add_argument("--no-bombs", dest="bombs", action="store_false", help="skip the bombs")
    parser.add_argument("--out", default="bench/fuzz.json")
    args = parser.parse_args()
    report: dict = {"per_format": args.per_format, "timeout_s": args.timeout, "memory_mb": args.memory_mb,
                    "formats": {}, "bombs": {}, "recognize": {}}
    with tempfile.TemporaryDirectory(prefix="handwriting-fuzz-") as tmp:
        folder = Path(tmp)
        sample: list[Path] = []
        for name, files in seeds(folder).items():
            if name not in args.formats:
                continue
            rng = random.Random(f"{args.seed}-{name}")
            damaged = folder / f"damaged-{name}"
            damaged.mkdir()
            paths = []
            for i in range(args.per_format):
                source = files[i % len(files)]
                # UNIPEN files stay in their corpus folder, so that their includes resolve
                target = (source.parent if name == "unipen" else damaged) / f"fuzz{i:06d}{source.suffix}"
                target.write_bytes(damage(source.read_bytes(), rng))
                paths.append(str(target))
            started = time.perf_counter()
            results = run_bounded(paths, args.timeout, args.memory_mb)
            report["formats"][name] = {**summary(results), "seed_files": len(files),
                                       "wall_s": round(time.perf_counter() - started, 1)}
            print(name, {k: v for k, v in report["formats"][name].items() if k != "crashes"}, flush=True)
            sample += [Path(p) for p in rng.sample(paths, min(args.recognize_sample, len(paths)))]
        report["recognize"] = recognize_sample(sample, folder / "sample", 1800)
        print("recognize", report["recognize"], flush=True)
        (folder / "bombs").mkdir()
        for label, path in (bombs(folder / "bombs") if args.bombs else {}).items():
            (result,) = run_bounded([str(path)], args.timeout, args.memory_mb)
            report["bombs"][label] = {"size_kb": round(os.lstat(path).st_size / 1024, 1) if path.is_file() else 0,
                                      **{k: result[k] for k in ("outcome", "detail", "seconds", "peak_kb")}}
            print(label, report["bombs"][label], flush=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
