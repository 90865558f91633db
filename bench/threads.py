"""Thread settings: the suite pins its own process to 1 BLAS/OpenMP thread; commands it runs get the user's.

On a 2-core machine shared with other work, multi-threaded OpenBLAS and OpenMP
spin-wait for their threads and lose many times over (see the suite's `blas` section
and the training settings), and their spinning threads slow every other measurement
in the process. So the suite, like the tests' conftest, runs with one thread each and
passive waiting, set before numpy or torch are imported (`pin`, called by
`python -m bench`). Values the user set already are kept. Commands run as
subprocesses (`handwriting recognize`, training, memory) get `USER_ENVIRONMENT`, the
environment as it was before pinning, unless a section says otherwise.
"""

from __future__ import annotations

import os

__all__ = ["PINNED", "USER_ENVIRONMENT", "pin", "unpinned"]

PINNED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
USER_ENVIRONMENT = dict(os.environ)


def pin() -> dict[str, str]:
    """Set the PINNED variables that the user did not set; the values now in force."""
    for key, value in PINNED.items():
        os.environ.setdefault(key, value)
    return {key: os.environ[key] for key in PINNED}


def unpinned(**extra: str) -> dict[str, str]:
    """The user's environment (as before `pin`) plus `extra`."""
    return {**USER_ENVIRONMENT, **extra}
