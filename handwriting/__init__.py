"""Online handwriting recognition: pen trajectories in, text out.

The library has no Qt dependency; torch is needed only for training.
Importing it sets BLAS to one thread unless the environment says otherwise: the
matrices here are small, and idle BLAS threads spinning beside a busy process made
recognition 1.6x and the explain engine 12x slower on 2 cores (see `bench/`).
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from handwriting.errors import HandwritingError, InkFormatError, ModelError  # noqa: E402
from handwriting.ink import Ink  # noqa: E402

__all__ = ["HandwritingError", "Ink", "InkFormatError", "ModelError", "__version__"]
__version__ = "0.1.0"
