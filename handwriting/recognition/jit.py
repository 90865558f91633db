"""What the compiled kernels share: numba's `njit` cached on disk, and numpy's pairwise sum.

The machine code is cached where numba finds a writable folder: NUMBA_CACHE_DIR if set,
else the package's `__pycache__`, else the user's cache folder (~/.cache/numba on Linux);
with none, every process compiles the kernels again (seconds) and a warning says so.
"""

from __future__ import annotations

import warnings
from typing import Callable, Literal

from numba import njit

__all__ = ["compiled", "pairwise_sum"]

_CACHED = [True]  # False once numba found no folder to cache in


def compiled(inline: Literal["never", "always"] = "never") -> Callable[[Callable], Callable]:
    """numba's njit, cached on disk where numba finds a folder to write to (see the module docstring)."""
    def compile_(function: Callable) -> Callable:
        if _CACHED[0]:
            try:
                return njit(cache=True, inline=inline)(function)
            except RuntimeError as exc:  # numba: "cannot cache function ...: no locator available"
                _CACHED[0] = False
                warnings.warn(f"the recognizer's kernels are compiled in every process ({exc}; set NUMBA_CACHE_DIR "
                              "to a writable folder)", RuntimeWarning, stacklevel=2)
        return njit(inline=inline)(function)

    return compile_


@compiled()
def pairwise_sum(a, n):
    """numpy's pairwise sum of a[:n] (blocks of 128, eight partial sums), so that the result is numpy's to the bit."""
    if n < 8:
        total = 0.0
        for i in range(n):
            total += a[i]
        return total
    if n <= 128:
        r = a[:8].copy()
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] += a[i + j]
            i += 8
        total = (r[0] + r[1]) + (r[2] + r[3]) + ((r[4] + r[5]) + (r[6] + r[7]))
        for j in range(i, n):
            total += a[j]
        return total
    half = n // 2
    half -= half % 8
    return pairwise_sum(a, half) + pairwise_sum(a[half:], n - half)
