"""Strict JSON out: non-finite numbers (NaN, ±Infinity, which JSON lacks) become null.

`json.dumps` writes `-Infinity` by default, which most JSON readers refuse; every JSON the
commands print or write goes through `dumps`, which replaces them and then dumps with
`allow_nan=False`, so an invalid document can never be written.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["finite", "dumps"]


def finite(value: Any) -> Any:
    """`value` with every non-finite float (also inside lists, tuples, dicts, numpy arrays) as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite(value.tolist())
    if isinstance(value, np.floating):
        return finite(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return value


def dumps(value: Any, **kwargs) -> str:
    """`json.dumps` of `finite(value)`, refusing any NaN or infinity left."""
    return json.dumps(finite(value), allow_nan=False, **kwargs)
