"""Characters <-> class ids for CTC. Convention: id 0 is the CTC blank; characters start at 1."""

from __future__ import annotations

import string
from dataclasses import dataclass

__all__ = ["Alphabet", "DEFAULT_CHARSET", "BLANK"]

BLANK = 0
DEFAULT_CHARSET = " " + string.digits + string.ascii_lowercase + string.ascii_uppercase + "!\"#$%&'()*+,-./:;<=>?@[]_"


@dataclass(frozen=True)
class Alphabet:
    """An ordered character set; class `i + 1` is `chars[i]`, class 0 the blank."""

    chars: str = DEFAULT_CHARSET

    def __post_init__(self) -> None:
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("alphabet has repeated characters")
        object.__setattr__(self, "_index", {c: i + 1 for i, c in enumerate(self.chars)})

    @property
    def num_classes(self) -> int:
        """Characters plus the blank."""
        return len(self.chars) + 1

    def covers(self, text: str) -> bool:
        return all(c in self._index for c in text)  # type: ignore[attr-defined]

    def unknown(self, text: str) -> set[str]:
        return {c for c in text if c not in self._index}  # type: ignore[attr-defined]

    def encode(self, text: str) -> list[int]:
        """Class ids of `text`; raises KeyError naming the first character outside the alphabet."""
        try:
            return [self._index[c] for c in text]  # type: ignore[attr-defined]
        except KeyError as exc:
            raise KeyError(f"character {exc.args[0]!r} is not in the alphabet") from None

    def decode(self, ids) -> str:
        return "".join(self.chars[i - 1] for i in ids if i != BLANK)
