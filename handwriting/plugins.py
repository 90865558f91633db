"""Parts that live outside the library and announce themselves through entry points, so that
`handwriting` never imports them: commands (group `handwriting.commands`: a function that
adds its subcommand to the CLI's subparsers, as the app's `app` command does) and
renderers (group `handwriting.renderers`: the app's offscreen painter of the Graves view).
Installing the package declares the app's; other packages may add their own."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any, Callable

__all__ = ["COMMANDS", "RENDERERS", "plugins", "renderer"]

COMMANDS, RENDERERS = "handwriting.commands", "handwriting.renderers"


def plugins(group: str) -> dict[str, Callable[..., Any]]:
    """The loadable entry points of `group` by name (one whose import fails is left out)."""
    loaded = {point.name: _load(point) for point in sorted(entry_points(group=group), key=lambda p: p.name)}
    return {name: function for name, function in loaded.items() if function is not None}


def renderer(name: str) -> Callable[..., Any] | None:
    """The renderer `name`, or None when none is installed or it cannot be imported (no PyQt6);
    only that one is imported."""
    return next((_load(point) for point in entry_points(group=RENDERERS, name=name)), None)


def _load(point: EntryPoint) -> Callable[..., Any] | None:
    try:
        return point.load()
    except ImportError:
        return None
