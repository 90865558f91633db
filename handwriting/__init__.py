"""Online handwriting recognition: pen trajectories in, text out.

The library has no Qt dependency; torch is needed only for training.
"""

from handwriting.errors import HandwritingError, InkFormatError, ModelError
from handwriting.ink import Ink

__all__ = ["HandwritingError", "Ink", "InkFormatError", "ModelError", "__version__"]
__version__ = "0.1.0"
