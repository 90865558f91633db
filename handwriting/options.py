"""argparse `type=` functions for every numeric and output option: a bad value is a usage
error (exit 2, one line) before any work starts."""

from __future__ import annotations

import argparse
import math
from dataclasses import MISSING, field, fields
from pathlib import Path
from typing import Any, Callable

__all__ = ["int_range", "float_range", "positive_int", "nonnegative_int", "finite_float", "positive_float",
           "fraction", "port", "one_of", "output_file", "option", "add_options", "options_from"]


def int_range(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """A whole number within [low, high] (either end open when None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        _check(value, text, low, high, True, True)
        return value

    parse.__name__ = "whole number"  # argparse names the type in its messages
    return parse


def float_range(low: float | None = None, high: float | None = None, low_open: bool = False,
                high_open: bool = False) -> Callable[[str], float]:
    """A finite number within low..high (each end included unless `*_open`)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        _check(value, text, low, high, not low_open, not high_open)
        return value

    parse.__name__ = "number"
    return parse


def _check(value: float, text: str, low: float | None, high: float | None, low_in: bool, high_in: bool) -> None:
    too_low = low is not None and (value < low if low_in else value <= low)
    too_high = high is not None and (value > high if high_in else value >= high)
    if not (too_low or too_high):
        return
    if low is not None and high is not None:
        span = f"in {'[' if low_in else '('}{low:g}, {high:g}{']' if high_in else ')'}"
    elif low is not None:
        span = f"at least {low:g}" if low_in else f"above {low:g}"
    else:
        span = f"at most {high:g}" if high_in else f"below {high:g}"
    raise argparse.ArgumentTypeError(f"{text} is out of range: must be {span}")


positive_int = int_range(1)
nonnegative_int = int_range(0)
finite_float = float_range()
positive_float = float_range(0, low_open=True)
fraction = float_range(0, 1, low_open=True, high_open=True)
port = int_range(0, 65535)


def one_of(*choices: str) -> Callable[[str], str]:
    """One of `choices`, as written."""

    def parse(text: str) -> str:
        if text not in choices:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(choices)}")
        return text

    parse.__name__ = "choice"
    return parse


def output_file(text: str) -> str:
    """A file to write: refused when it names a folder or lies in a folder that cannot exist."""
    path = Path(text)
    if not text or path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder, not a file")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise argparse.ArgumentTypeError(f"{text!r}: {parent} is not a folder")
            break
    return text


def option(default: Any = MISSING, parse: Callable[[str], Any] | None = None, help: str | None = None) -> Any:
    """A dataclass field that is also a command-line option: `--name-with-dashes`, parsed by
    `parse`; no default: a required option (a list field takes one or more values); a bool
    field that defaults to true: `--no-name`."""
    return field(default=default, metadata={"parse": parse, "help": help})


def add_options(parser: argparse.ArgumentParser, options: type, skip: tuple[str, ...] = ()) -> None:
    """The options of the dataclass `options` fields made by `option`, except `skip`."""
    for f in fields(options):
        if "help" not in f.metadata or f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata["help"]
        if f.default is True:
            parser.add_argument("--no-" + flag[2:], dest=f.name, action="store_false", help=f"no {help_text}")
        elif f.default is False:
            parser.add_argument(flag, action="store_true", help=help_text)
        elif f.default is MISSING:
            plural = str(f.type).startswith("list")
            parser.add_argument(flag, required=True, nargs="+" if plural else None, type=f.metadata["parse"],
                                help=help_text)
        else:
            shown = "" if f.default is None else f" (default {f.default})"
            parser.add_argument(flag, type=f.metadata["parse"], default=f.default, help=(help_text or "") + shown)


def options_from(args: argparse.Namespace, options: type, **given: Any) -> Any:
    """The dataclass `options` from parsed `args` (the fields they hold) and `given` values."""
    names = {f.name for f in fields(options)}
    return options(**{name: value for name, value in vars(args).items() if name in names}, **given)
