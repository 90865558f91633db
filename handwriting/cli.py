"""The `handwriting` command: one subcommand per module in `handwriting.commands`, and those
that other packages register under the `handwriting.commands` entry point (the app's `app`).

Exit codes: 0 success, 1 some input or step failed (reported), 2 bad usage.
Every `HandwritingError` reaches the user as one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from handwriting.errors import HandwritingError
from handwriting.plugins import COMMANDS as PLUGIN_COMMANDS
from handwriting.plugins import plugins
from handwriting.shutdown import exit_if_signalled, exit_on_signals

__all__ = ["main", "build_parser"]

COMMANDS = ["info", "recognize", "eval", "explain", "serve", "prepare", "train", "export", "calibrate", "ensemble", "finetune", "lm", "pdf", "annotate"]


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (the full usage is one --help away); exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="handwriting", description="Offline online-handwriting recognizer.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"handwriting.commands.{name}").register(sub)
    for register in plugins(PLUGIN_COMMANDS).values():
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not getattr(args, "handles_signals", False):
        exit_on_signals()  # SIGTERM cleans up temporary files and folders as Ctrl+C does
    try:
        return int(args.run(args) or 0)
    except HandwritingError as exc:
        print(f"handwriting {args.command}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        exit_if_signalled()  # a signal's SystemExit that C code (numba loading a kernel) re-raised as SystemError
        raise


if __name__ == "__main__":
    sys.exit(main())
