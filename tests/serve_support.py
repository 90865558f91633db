"""Inks for the service tests: real IAM-OnDB lines from the fixtures, as JSON ink objects."""

from __future__ import annotations

import json
from pathlib import Path

from handwriting.formats import jsonink, read_inks
from handwriting.ink import Ink

__all__ = ["ink_json", "fixture_inks"]

FIXTURES = Path(__file__).parent.parent / "datasets" / "samples"


def ink_json(ink: Ink) -> dict:
    """An ink as a JSON ink object."""
    return json.loads(jsonink.dumps(ink))


def fixture_inks() -> list[Ink]:
    """The two real IAM-OnDB lines among the test fixtures."""
    files = sorted((FIXTURES / "iamondb" / "lineStrokes").rglob("*.xml"))
    return [read_inks(f)[0] for f in files]
