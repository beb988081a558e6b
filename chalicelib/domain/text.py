"""Text folding for case-insensitive, Danish-spelling-insensitive search."""

from __future__ import annotations

import re
import unicodedata


def fold(text: str) -> str:
    """Lower-case, NFKC-normalised text, so 'ØSTER' finds 'Øster' and ligatures compare equal."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "ae", "ö": "o", "ü": "u"})
_DOUBLES = re.compile(r"aa|oe")
_SPACE = re.compile(r"\s+")


def search_fold(text: str) -> str:
    """The form names are searched in: case, accents and the common Danish spellings folded
    together, so 'Aabenraa' finds 'Åbenrå', 'Toemrer' and 'tomrer' find 'Tømrer', 'Naestved'
    finds 'Næstved'. Both the text and the query are folded the same way."""
    text = fold(text).translate(_LETTERS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _DOUBLES.sub(lambda m: m.group(0)[0], text)
    return _SPACE.sub(" ", text)
