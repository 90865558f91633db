"""Online handwriting recognition: pen trajectories in, text out.

    from handwriting import Recognizer, read_inks
    result = Recognizer().recognize(read_inks("note.inkml")[0])

The library has no Qt dependency; torch is needed only for training. The names below are
imported when first used, so `import handwriting` stays light (no onnxruntime, no torch).
Importing it sets BLAS to one thread unless the environment says otherwise: the
matrices here are small, and idle BLAS threads spinning beside a busy process made
recognition 1.6x and the explain engine 12x slower on 2 cores (see `bench/`).
"""

import importlib
import os
from typing import TYPE_CHECKING, Any

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from handwriting.errors import HandwritingError, InkFormatError, ModelError  # noqa: E402
from handwriting.ink import Ink  # noqa: E402

if TYPE_CHECKING:
    from handwriting.formats import read_inks, write_ink
    from handwriting.recognition.modes import Reading, WritingGuide
    from handwriting.recognition.recognizer import PageReader, Recognition, Recognizer

_LAZY = {"read_inks": "handwriting.formats", "write_ink": "handwriting.formats", "Reading": "handwriting.recognition.modes",
         "WritingGuide": "handwriting.recognition.modes", "PageReader": "handwriting.recognition.recognizer", "Recognition": "handwriting.recognition.recognizer",
         "Recognizer": "handwriting.recognition.recognizer"}

__all__ = ["HandwritingError", "Ink", "InkFormatError", "ModelError", "PageReader", "Reading", "Recognition", "Recognizer",
           "WritingGuide", "read_inks", "write_ink", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'handwriting' has no attribute {name!r}")
