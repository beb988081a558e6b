"""Text folding for case-insensitive Danish name search."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case, NFKC-normalised text, so 'ØSTER' finds 'Øster' and ligatures compare equal."""
    return unicodedata.normalize("NFKC", text).casefold().strip()
