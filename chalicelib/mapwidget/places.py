"""`/places?q=…`: where the widget's "Gå til et sted" goes, and the towns it names without one.

Two sources, both read on the server so no token reaches a browser:
- the towns: the postcode districts of the shipped reference data (name or number, each with
  a point inside it), always at hand, also in the demo and without a geocoder;
- the addresses: Gsearch (Dataforsyningen's address search, the geocoder the refresh uses),
  when one is configured; its house numbers, in the asked municipality when one is given.
A geocoder that cannot answer now costs the addresses only: the towns still come, and the
answer says it is not complete. The answer is GeoJSON points, best first.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.domain.errors import InvalidParameter
from chalicelib.domain.reference import postcode_places
from chalicelib.domain.text import search_fold
from chalicelib.web import params as P
from chalicelib.web.http import etag_of, ok

if TYPE_CHECKING:
    from chalicelib.web.http import HttpRequest, HttpResponse

GEOJSON = "application/geo+json"
LIMIT_DEFAULT, LIMIT_MAX = 8, 20
MAX_AGE = 3600


@lru_cache(maxsize=1)
def _folded_names() -> tuple[str, ...]:
    """The districts' names as a search reads them, folded once per process."""
    return tuple(search_fold(name) for _, name, *_ in postcode_places())


def _towns(q: str, code: str | None, limit: int) -> list[dict[str, Any]]:
    """Postcode districts whose number starts with q, or whose name has a word starting
    with it (folded: "nykobing" finds "Nykøbing F"); names that start with it first."""
    folded = search_fold(q)
    hits: list[tuple[int, str, dict[str, Any]]] = []
    for (postcode, name, lon, lat, codes), name_folded in zip(
        postcode_places(), _folded_names(), strict=True
    ):
        if code is not None and code not in codes:
            continue
        words = name_folded.split()
        if postcode.startswith(q.strip()):
            rank = 0
        elif name_folded.startswith(folded):
            rank = 1
        elif any(w.startswith(folded) for w in words):
            rank = 2
        else:
            continue
        hits.append((rank, name, _point(f"{postcode} {name}", lon, lat, "town", postcode)))
    hits.sort(key=lambda h: (h[0], h[1]))
    return [h[2] for h in hits[:limit]]


def _point(name: str, lon: float, lat: float, kind: str, postcode: str | None) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": {"name": name, "kind": kind, "postcode": postcode},
    }


def _addresses(req: HttpRequest, q: str, code: str | None, limit: int) -> list[dict[str, Any]]:
    from chalicelib.intake.cvr.jobs import geocoder

    service = geocoder(req.settings)
    if service is None:
        return []
    try:
        found = service.suggest(q, code, limit)
    finally:
        service.close()
    return [_point(text, lon, lat, "address", postcode) for text, lon, lat, postcode in found]


def places(req: HttpRequest) -> HttpResponse:
    values = P.single_values(req.params, ("q", "municipality", "limit"))
    q = (values.get("q") or "").strip()
    if not 2 <= len(q) <= 100:
        raise InvalidParameter(
            "q is 2 to 100 characters: a town, a postcode or an address", parameter="q"
        )
    code = P.parse_municipality(values["municipality"]) if "municipality" in values else None
    limit = LIMIT_DEFAULT
    if "limit" in values:
        text = values["limit"]
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= LIMIT_MAX:
            raise InvalidParameter(f"limit is 1 to {LIMIT_MAX}", parameter="limit")
        limit = int(text)
    towns = _towns(q, code, limit)
    addresses: list[dict[str, Any]] = []
    complete = True
    if req.settings.geocoder_url and any(c.isalpha() for c in q):
        from chalicelib.intake.geocode import GeocoderUnavailable

        try:
            addresses = _addresses(req, q, code, limit)
        except GeocoderUnavailable:
            complete = False  # the towns still come; the answer says it is not all
    # "Langgade 12" is an address; "Stege" a town: what it looks like comes first
    looks_like_address = any(c.isdigit() for c in q) and any(c.isalpha() for c in q)
    features = (addresses + towns) if looks_like_address else (towns + addresses)
    body = orjson.dumps(
        {"type": "FeatureCollection", "features": features[:limit], "complete": complete}
    )
    max_age = MAX_AGE if complete else 60
    return ok(req, body, GEOJSON, etag=etag_of(body), max_age=max_age)
