"""`handwriting lm build TEXT... --out lm.lm`: a character n-gram language model and lexicon;
`handwriting lm convert OLD.lm --out NEW.lm`: the same model in the current file layout."""

from __future__ import annotations

import argparse
from pathlib import Path

from handwriting.alphabet import Alphabet
from handwriting.errors import HandwritingError
from handwriting.recognition.lm import MAX_ORDER, SMOOTHING, build_language_model, load_language_model, save_language_model
from handwriting.recognition.modelfile import load_model_file
from handwriting.options import int_range, nonnegative_int, output_file
from handwriting.shards import read_shard
from handwriting.training.lm_text import fortune_lines, wordnet_examples

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lm", help="build a character language model for beam search")
    action = p.add_subparsers(dest="lm_command", required=True, metavar="ACTION")
    b = action.add_parser("build", help="count character n-grams of text files (one line each)")
    b.add_argument("texts", nargs="*", help="plain-text files, one text line per line")
    b.add_argument("--labels", nargs="+", default=[], metavar="SHARD",
                   help="training shards (.npz from `handwriting prepare`) whose multi-word labels are text lines")
    b.add_argument("--words", help="word frequency list: word<TAB>count per line (becomes the lexicon)")
    b.add_argument("--wordfreq", type=nonnegative_int, default=0, metavar="N",
                   help="add the N most frequent English words of the wordfreq package")
    b.add_argument("--fortunes", metavar="FOLDER",
                   help="add the text of the fortune-cookie files in FOLDER (Debian package fortunes: /usr/share/games/fortunes)")
    b.add_argument("--wordnet", metavar="FOLDER",
                   help="add WordNet's example sentences from its data files in FOLDER (Debian package wordnet-base: /usr/share/wordnet)")
    b.add_argument("--order", type=int_range(1, MAX_ORDER), default=7, help=f"n-gram order, 1 to {MAX_ORDER} (default 7)")
    b.add_argument("--smoothing", choices=SMOOTHING, default="kneser-ney")
    b.add_argument("--model", help="take the alphabet from this model (default: the built-in alphabet)")
    b.add_argument("--out", required=True, type=output_file)
    b.set_defaults(run=_build)
    c = action.add_parser("convert", help="rewrite a .lm file (any earlier layout) in the current one")
    c.add_argument("path", help="the .lm file to read")
    c.add_argument("--out", required=True, help="where to write it (may be the same file)")
    c.set_defaults(run=_convert)


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise HandwritingError(f"{path}: cannot read text ({exc})") from None


def _words(args: argparse.Namespace) -> list[tuple[str, float]]:
    words: list[tuple[str, float]] = []
    if args.words:
        for n, line in enumerate(_read_lines(args.words), 1):
            parts = line.split("\t")
            try:
                words.append((parts[0], float(parts[1]) if len(parts) > 1 else 1.0))
            except ValueError:
                raise HandwritingError(f"{args.words}: line {n}: expected word<TAB>count") from None
    if args.wordfreq:
        try:
            from wordfreq import top_n_list, word_frequency
        except ImportError:
            raise HandwritingError("--wordfreq needs the wordfreq package (pip install wordfreq)") from None
        # frequencies scaled so that the commonest word counts about a million
        words += [(w, word_frequency(w, "en") * 2e7) for w in top_n_list("en", args.wordfreq)]
    return words


def _shard_texts(paths: list[str]) -> list[str]:
    """Distinct labels of more than one word (lines and sentences) in training shards."""
    labels = {ink.label for path in paths for ink in read_shard(path) if ink.label and " " in ink.label.strip()}
    return sorted(labels)


def _build(args: argparse.Namespace) -> int:
    alphabet = load_model_file(args.model).alphabet if args.model else Alphabet()
    texts = [line for path in args.texts for line in _read_lines(path)] + _shard_texts(args.labels)
    if args.fortunes:
        texts += fortune_lines(args.fortunes)
    if args.wordnet:
        texts += wordnet_examples(args.wordnet)
    words = _words(args)
    if not texts and not words:
        raise HandwritingError("nothing to build from: give text files, --labels, --fortunes, --wordnet, --words or --wordfreq")
    model = build_language_model(texts, alphabet, args.order, words, smoothing=args.smoothing)
    save_language_model(model, args.out)
    print(f"wrote {args.out}: order {model.order}, {len(model.table)} contexts, {len(model.lexicon)} lexicon words")
    return 0


def _convert(args: argparse.Namespace) -> int:
    model = load_language_model(args.path)
    save_language_model(model, args.out)
    again = load_language_model(args.out)
    if again.counts != model.counts or again.lexicon != model.lexicon or again.order != model.order:
        raise HandwritingError(f"{args.out}: the written model differs from {args.path}")
    print(f"wrote {args.out}: order {model.order}, {len(model.table)} contexts, {len(model.lexicon)} lexicon words")
    return 0
