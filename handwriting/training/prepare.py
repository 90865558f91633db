"""Corpus preparation: raw corpora (folders or their .tar.gz/.tar.xz archives) -> training shards.

Each corpus yields labelled inks; `prepare` filters them (placeholder labels, characters
outside the alphabet, crossed-out text, duplicates, empty ink), splits them by writer
(no writer in both splits) and writes `train.npz`, `val.npz` and `summary.json`.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import random
import tarfile
import tempfile
import zlib
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from tqdm import tqdm

from handwriting.alphabet import Alphabet
from handwriting.atomic import atomic_write
from handwriting.errors import HandwritingError, InkFormatError
from handwriting.formats import expand_paths, read_items
from handwriting.formats import unipen as unipen_format
from handwriting.formats.iamondb import normalize_transcription
from handwriting.ink import Ink
from handwriting.limits import ARCHIVE_FILES, EXTRACT_MB, MB
from handwriting.shards import write_shard
from handwriting.shutdown import exit_if_signalled

__all__ = ["CORPORA", "prepare", "corpus_root"]

Item = Ink | InkFormatError


def _iamondb_files(root: Path) -> list[Path]:
    return sorted((root / "lineStrokes").rglob("*.xml"))


def _inkml_files(root: Path) -> list[Path]:
    return expand_paths([root])


def _find_root(path: Path, marker: Callable[[Path], bool]) -> Path:
    for candidate in [path, *sorted(p for p in path.rglob("*") if p.is_dir())]:
        if marker(candidate):
            return candidate
    raise HandwritingError(f"{path}: corpus folder not found inside")


CORPORA: dict[str, tuple[Callable[[Path], bool], Callable[[Path], list[Path]]]] = {
    "iamondb": (lambda p: (p / "lineStrokes").is_dir(), _iamondb_files),
    "unipen": (lambda p: (p / "data").is_dir() and (p / "include").is_dir(), lambda p: unipen_format.corpus_files(p)),
    "inkml": (lambda p: True, _inkml_files),
}


@contextmanager
def corpus_root(source: str | Path, corpus: str) -> Iterator[Path]:
    """The corpus folder for `source`: the folder itself, or an archive extracted to a temporary folder."""
    source = Path(source)
    marker = CORPORA[corpus][0]
    if source.is_dir():
        yield _find_root(source, marker)
        return
    if not source.is_file() or not tarfile.is_tarfile(source):
        raise HandwritingError(f"{source}: neither a corpus folder nor a .tar archive")
    with tempfile.TemporaryDirectory(prefix="handwriting-corpus-") as tmp:
        _extract(source, Path(tmp))
        writers = source.parent / source.name.split("-")[0].split(".")[0] / "writers.tsv"
        root = _find_root(Path(tmp), marker)
        if writers.is_file() and not (root / "writers.tsv").exists():
            (root / "writers.tsv").write_bytes(writers.read_bytes())
        yield root


def _extract(source: Path, folder: Path) -> None:
    """Extract the archive `source` into `folder`: members the "data" filter refuses (links out,
    devices, absolute paths) and archives past ARCHIVE_FILES or EXTRACT_MB are one clear error."""
    member = None
    try:
        with tarfile.open(source) as tar:
            members = tar.getmembers()
            size = sum(m.size for m in members if m.isreg())
            if len(members) > ARCHIVE_FILES.value():
                raise HandwritingError(f"{source}: {ARCHIVE_FILES.exceeded(f'{len(members):,}')}")
            if size > EXTRACT_MB.value() * MB:
                raise HandwritingError(f"{source}: {EXTRACT_MB.exceeded(f'{size / MB:,.0f}')}")
            for member in tqdm(members, desc=f"extracting {source.name}", unit="file", disable=None):
                exit_if_signalled()
                tar.extract(member, folder, filter="data")
    except tarfile.FilterError as exc:
        raise HandwritingError(f"{source}: member {exc.tarinfo.name!r} refused ({exc})") from None
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        where = f" at member {member.name!r}" if member is not None else ""
        raise HandwritingError(f"{source}: damaged or unreadable archive{where} ({exc})") from None


def prepare(
    corpus: str,
    source: str | Path,
    out: str | Path,
    alphabet: Alphabet = Alphabet(),
    val_fraction: float = 0.1,
    seed: int = 0,
    levels: tuple[str, ...] = ("CHARACTER", "WORD", "TEXT", "LINE", "SENTENCE"),
) -> dict:
    """Read a whole corpus, filter, split writer-disjoint and write shards; returns the summary."""
    if corpus not in CORPORA:
        raise HandwritingError(f"unknown corpus {corpus!r}; known: {', '.join(CORPORA)}")
    out = Path(out)
    kept: list[Ink] = []
    dropped: Counter[str] = Counter()
    errors: list[str] = []
    seen: set[bytes] = set()
    with corpus_root(source, corpus) as root:
        files = CORPORA[corpus][1](root)
        if not files:
            raise HandwritingError(f"{source}: no {corpus} files found")
        for path in tqdm(files, desc=f"reading {corpus}", unit="file", disable=None):
            exit_if_signalled()
            for item in _items(path):
                reason = _drop_reason(item, corpus, alphabet, levels, seen)
                if reason is None and isinstance(item, Ink):  # (errors always have a reason)
                    kept.append(_tag(item, corpus, path, root))
                else:
                    dropped[reason or "unreadable"] += 1
                    if isinstance(item, InkFormatError):
                        errors.append(str(item))
    if not kept:
        raise HandwritingError(f"{source}: no usable labelled inks ({dict(dropped)})")
    train, val = _split_by_writer(kept, val_fraction, seed)
    out.mkdir(parents=True, exist_ok=True)
    write_shard(train, out / "train.npz")
    write_shard(val, out / "val.npz")
    summary = {
        "corpus": corpus,
        "source": str(source),
        "kept": len(kept),
        "train": len(train),
        "val": len(val),
        "train_writers": len({i.writer for i in train}),
        "val_writers": sorted({i.writer or "" for i in val}),
        "dropped": dict(dropped.most_common()),
        "errors": errors,
        "alphabet": alphabet.chars,
    }
    with atomic_write(out / "summary.json") as fh:
        json.dump(summary, fh, indent=1)
    return summary


def _items(path: Path) -> list[Item]:
    try:
        return read_items(path)
    except InkFormatError as exc:
        return [exc]


def _drop_reason(item: Item, corpus: str, alphabet: Alphabet, levels: tuple[str, ...], seen: set[bytes]) -> str | None:
    if isinstance(item, InkFormatError):
        return "unreadable (" + item.reason.split(":")[0][:60] + ")"
    label = training_label(item.label or "")
    if not label.strip():
        return "no label"
    if item.meta.get("placeholder"):
        return "placeholder label"
    level = item.meta.get("level")
    if level is not None and str(level).upper() not in levels:
        return f"level {level}"
    if corpus == "iamondb" and "#" in label:  # IAM-OnDB transcribes crossed-out words as '#'
        return "crossed-out words (#)"
    if not alphabet.covers(label):
        return "characters outside the alphabet"
    if item.num_points < 2:
        return "too few points"
    digest = hashlib.blake2b(label.encode(), digest_size=16)
    for stroke in item.strokes:
        digest.update(stroke[:, :2].astype("float32").tobytes())
    key = digest.digest()
    if key in seen:
        return "duplicate"
    seen.add(key)
    return None


def _tag(ink: Ink, corpus: str, path: Path, root: Path) -> Ink:
    meta = {k: v for k, v in ink.meta.items() if isinstance(v, (str, int, float, bool)) or v is None}
    meta["corpus"] = corpus
    meta["source"] = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    writer = ink.writer or path.parent.name
    return Ink(ink.strokes, training_label(ink.label or ""), f"{corpus}:{writer}", meta)


def training_label(label: str) -> str:
    """The text a recognizer should output: UNIPEN's ligature marks (`\\@`) removed and the
    corpora's tokenised punctuation (`year , I`, `wasn ' t`) joined as written."""
    return normalize_transcription(label.replace("\\@", ""))


def _split_by_writer(inks: list[Ink], val_fraction: float, seed: int) -> tuple[list[Ink], list[Ink]]:
    writers = sorted({ink.writer or "" for ink in inks})
    rng = random.Random(seed)
    rng.shuffle(writers)
    n_val = max(1, round(len(writers) * val_fraction)) if len(writers) > 1 and val_fraction > 0 else 0
    val_writers = set(writers[:n_val])
    return [i for i in inks if i.writer not in val_writers], [i for i in inks if i.writer in val_writers]
