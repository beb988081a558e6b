"""`sortby`: the order of a selection by its public properties, and where a page of it ends.

Both stores select features in their own index order (CVR number on SQLite, the spatial or
municipality index on DynamoDB), so a sorted answer is made here, once for both: the whole
selection is read, ordered by the keys and then by id (a total order, so pages never overlap),
and the page after the previous one's last position is cut out. The position is the last
feature's key values and id, not an offset, so a write between two pages neither repeats nor
skips a feature that kept its values.

Missing values sort after every value, as in SQL's ascending `NULLS LAST` (and first when
descending). Text sorts as Danish readers expect: case-insensitively, with æ, ø and å after z
in that order, and the exact text breaking ties.
"""

from __future__ import annotations

import bisect
import functools
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import orjson

SortKey = tuple[str, bool]  # (property name, descending)

# æ, ø and å after z, in that order: the three characters that follow "z" in Unicode stand
# for them (ä and ö as æ and ø, as Danish dictionaries file them); other accents are dropped
_DANISH = str.maketrans({"æ": "{", "ä": "{", "ø": "|", "ö": "|", "å": "}"})


@functools.lru_cache(maxsize=65_536)
def _text_key(text: str) -> tuple[str, str]:
    folded = text.casefold().translate(_DANISH)
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    return folded, text


def _value_key(value: Any) -> tuple[bool, Any]:
    """A value's place among the values of one property: missing ones after all others."""
    if value is None:
        return True, 0
    if isinstance(value, str):
        return False, _text_key(value)
    return False, value


def _value(feature: dict[str, Any], name: str) -> Any:
    if name == "id":
        return str(feature["id"])
    return (feature.get("properties") or {}).get(name)


def _compare_values(a: Any, b: Any) -> int:
    """-1, 0 or 1 for two values of one property, in the order `sort_features` gives."""
    ka, kb = _value_key(a), _value_key(b)
    return (ka > kb) - (ka < kb)


def position(feature: dict[str, Any], keys: Sequence[SortKey]) -> list[Any]:
    """Where a feature stands in the order: its key values, then its id."""
    return [*(_value(feature, name) for name, _ in keys), str(feature["id"])]


def _compare_positions(keys: Sequence[SortKey]) -> Callable[[list[Any], list[Any]], int]:
    def compare(a: list[Any], b: list[Any]) -> int:
        for i, (_, descending) in enumerate(keys):
            c = _compare_values(a[i], b[i])
            if c:
                return -c if descending else c
        return (a[-1] > b[-1]) - (a[-1] < b[-1])  # the id: ascending, always

    return compare


def sort_features(features: list[dict[str, Any]], keys: Sequence[SortKey]) -> list[dict[str, Any]]:
    """The features in `keys` order, ties broken by id: one stable sort per key, the last key
    first, each on keys computed once per feature (a descending sort keeps ties in order too,
    and puts the missing values first)."""
    ordered = sorted(features, key=lambda f: str(f["id"]))
    for name, descending in reversed(keys):
        ordered.sort(key=lambda f: _value_key(_value(f, name)), reverse=descending)
    return ordered


def page_after(
    ordered: list[dict[str, Any]], keys: Sequence[SortKey], after: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The page after the encoded position `after` (None: the first), and the position to
    continue from (None on the last page)."""
    start = 0
    if after is not None:
        order = functools.cmp_to_key(_compare_positions(keys))
        start = bisect.bisect_right(
            ordered, order(orjson.loads(after)), key=lambda f: order(position(f, keys))
        )
    page = ordered[start : start + limit]
    more = start + limit < len(ordered)
    onward = orjson.dumps(position(page[-1], keys)).decode() if more and page else None
    return page, onward
