"""`sortby` and `/collections/{id}/sortables` (the sorting class of OGC API - Records 1.0,
which the draft Features part on sorting takes over): what a page may be ordered by.

The sortables are the queryables (one scalar public value each, and the id): anything a
filter may compare, a page may be ordered by. The order itself is `chalicelib.domain.sorting`.
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.domain.errors import InvalidParameter
from chalicelib.domain.sorting import SortKey
from chalicelib.features.queryables import queryables, queryables_document

MAX_KEYS = 5
_TERM = re.compile(r"^([+-]?)([A-Za-z_][A-Za-z0-9_]*)$")


def sortables(collection: str) -> tuple[str, ...]:
    return tuple(queryables(collection))


def parse_sortby(value: str, collection: str) -> tuple[SortKey, ...]:
    """`sortby=-founded,+name`: names with an optional direction, `+` (ascending, the default)
    or `-`. A `+` that arrived unescaped in the query is a space by then, and counts as `+`."""
    allowed = sortables(collection)
    keys: list[SortKey] = []
    terms = value.split(",")
    if len(terms) > MAX_KEYS:
        raise InvalidParameter(f"sortby takes at most {MAX_KEYS} properties", parameter="sortby")
    for term in terms:
        # stripped: a `+` that arrived unescaped is a leading space, and no sign is ascending
        found = _TERM.match(term.strip())
        if not found:
            raise InvalidParameter(
                f"sortby: '{term.strip()}' is not a property name with an optional + or -, "
                "e.g. sortby=-founded,name",
                parameter="sortby",
            )
        sign, name = found.groups()
        if name not in allowed:
            raise InvalidParameter(
                f"sortby: '{name}' is not sortable here; the sortables are: "
                f"{', '.join(sorted(allowed))}",
                parameter="sortby",
            )
        if all(name != k for k, _ in keys):  # a repeated name: its first place counts
            keys.append((name, sign == "-"))
    return tuple(keys)


def sortables_document(base: str, collection: str, title: str) -> dict[str, Any]:
    """`/collections/{id}/sortables`: the sortable properties as a JSON Schema."""
    doc = queryables_document(base, collection, title)
    properties = {k: v for k, v in doc["properties"].items() if k != "geometry"}
    return {
        **doc,
        "$id": f"{base}/collections/{collection}/sortables",
        "title": f"{title}: sortables",
        "description": "The properties sortby may name, each with + (ascending, the default) "
        "or - (descending), e.g. sortby=-founded,name. Missing values come last ascending and "
        "first descending; text sorts in Danish order (æ, ø, å after z), ties by id.",
        "properties": properties,
    }
