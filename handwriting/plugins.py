"""Parts that live outside the library and announce themselves through entry points, so that
`handwriting` never imports them: commands (group `handwriting.commands`: a function that
adds its subcommand to the CLI's subparsers, as the app's `app` command does) and
renderers (group `handwriting.renderers`: the app's offscreen painter of the Graves view).
Installing the package declares the app's; other packages may add their own."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Callable

__all__ = ["COMMANDS", "RENDERERS", "plugins", "renderer"]

COMMANDS, RENDERERS = "handwriting.commands", "handwriting.renderers"


def plugins(group: str) -> dict[str, Callable[..., Any]]:
    """The loadable entry points of `group` by name (one whose import fails is left out)."""
    found = {}
    for point in sorted(entry_points(group=group), key=lambda p: p.name):
        try:
            found[point.name] = point.load()
        except ImportError:
            continue
    return found


def renderer(name: str) -> Callable[..., Any] | None:
    """The renderer `name`, or None when none is installed or it cannot be imported (no PyQt6)."""
    points = [p for p in entry_points(group=RENDERERS) if p.name == name]
    try:
        return points[0].load() if points else None
    except ImportError:
        return None
