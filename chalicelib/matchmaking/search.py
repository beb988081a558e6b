"""Supplier search: local businesses by industry, words, place and size.

Candidates come from the store's own indexes (a viewport around the point, a municipality, or
an industry), so a search never reads the whole register; they are then filtered and ranked
here: by distance when a point is given, else by how well the words match (name before
industry text, word starts before substrings). Words are matched Danish-spelling-insensitively
(`text.search_fold`: aa/å, oe/ø, ae/æ, accents, case). Only public, active businesses are
candidates, so hidden and ceased businesses are never suggested.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib import DATA_DIR
from chalicelib.domain.errors import InvalidParameter
from chalicelib.domain.geo import in_denmark
from chalicelib.domain.industry import english_industry_text
from chalicelib.domain.models import NO_SIZE_GROUP
from chalicelib.domain.text import search_fold
from chalicelib.matchmaking.nearby import distance_km
from chalicelib.store import FeatureQuery, iter_public_pages
from chalicelib.web import params as P
from chalicelib.web.cursor import Cursor, decode_cursor, selection_digest
from chalicelib.web.http import HttpRequest, HttpResponse, etag_of, negotiate, ok, with_query

if TYPE_CHECKING:
    from chalicelib.store import Store

LIMIT_DEFAULT, LIMIT_MAX = 20, 100
RADIUS_DEFAULT_KM, RADIUS_MAX_KM = 10.0, 100.0
MAX_CANDIDATES = 50_000  # a search reads at most this many features from the store
_PARAMS = ("industry", "q", "point", "municipality", "radius", "size", "limit", "cursor", "f")
GEOJSON = "application/geo+json"


@dataclass(frozen=True)
class SearchParams:
    industries: tuple[str, ...] = ()
    q: str | None = None
    point: tuple[float, float] | None = None
    municipality: str | None = None
    radius_km: float | None = None
    sizes: tuple[str, ...] = ()
    limit: int = LIMIT_DEFAULT

    def selection(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "limit" and v not in (None, ())}


def parse(values: dict[str, str]) -> SearchParams:
    """The search parameters of a request; each problem is a 400 naming its parameter."""
    industries = tuple(
        P.parse_industry(part.strip())
        for part in values.get("industry", "").split(",")
        if part.strip()
    )
    if len(industries) > 20:
        raise InvalidParameter("industry takes at most 20 codes or sections", parameter="industry")
    q = P.parse_text(values["q"]) if "q" in values else None
    point = _parse_point(values["point"]) if "point" in values else None
    municipality = (
        P.parse_municipality(values["municipality"]) if "municipality" in values else None
    )
    radius = None
    if "radius" in values:
        if point is None:
            raise InvalidParameter("radius needs a point", parameter="radius")
        try:
            radius = P.ascii_float(values["radius"])
        except ValueError:
            radius = math.nan
        if not 0 < radius <= RADIUS_MAX_KM:
            raise InvalidParameter(
                f"radius must be a number of kilometres above 0 and at most {RADIUS_MAX_KM:g}",
                parameter="radius",
            )
    elif point is not None:
        radius = RADIUS_DEFAULT_KM
    sizes = P.parse_size(values["size"]) if values.get("size", "").strip() else ()
    if not (industries or point or municipality):
        raise InvalidParameter(
            "say where or what: give a point, a municipality or an industry (q alone would "
            "read the whole register)",
            parameter="point" if q else "industry",
        )
    limit = P.parse_limit(values.get("limit")) if "limit" in values else LIMIT_DEFAULT
    return SearchParams(
        industries=industries,
        q=q,
        point=point,
        municipality=municipality,
        radius_km=radius,
        sizes=tuple(dict.fromkeys(sizes)),
        limit=min(limit, LIMIT_MAX),
    )


def _parse_point(value: str) -> tuple[float, float]:
    parts = value.split(",")
    try:
        lon, lat = (P.ascii_float(p.strip()) for p in parts)
    except ValueError:
        raise InvalidParameter(
            "point must be 'longitude,latitude' in WGS84, e.g. 11.87,54.77", parameter="point"
        ) from None
    if not in_denmark(lon, lat):
        raise InvalidParameter("point must lie in Denmark", parameter="point")
    return (lon, lat)


def radius_bbox(point: tuple[float, float], km: float) -> tuple[float, float, float, float]:
    """The box around a circle (a little larger: the exact test follows)."""
    lon, lat = point
    dlat = km / 110.574 * 1.01
    dlon = km / (111.320 * math.cos(math.radians(lat))) * 1.01
    return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def candidates(store: Store, p: SearchParams) -> list[dict[str, Any]]:
    """Public, active features from the store's indexes (deduplicated)."""
    single = p.industries[0] if len(p.industries) == 1 else None
    queries: list[FeatureQuery] = []
    if p.point is not None:
        assert p.radius_km is not None
        bbox = radius_bbox(p.point, p.radius_km)
        queries.append(
            FeatureQuery(bbox=bbox, municipality=p.municipality, industry=single, status="active")
        )
    elif p.municipality is not None:
        queries.append(FeatureQuery(municipality=p.municipality, industry=single, status="active"))
    else:
        queries += [FeatureQuery(industry=i, status="active") for i in p.industries]
    seen: dict[str, dict[str, Any]] = {}
    for query in queries:
        if len(seen) >= MAX_CANDIDATES:
            break
        for page in iter_public_pages(store, "businesses", query, page_size=5000):
            for raw in page:
                f = orjson.loads(raw)
                seen.setdefault(f["id"], f)
            if len(seen) >= MAX_CANDIDATES:
                break
    return list(seen.values())


def _industry_matches(props: dict[str, Any], industries: tuple[str, ...]) -> bool:
    if not industries:
        return True
    code = props.get("industry_code") or ""
    section = props.get("industry_section")
    return any(section == i if i.isalpha() else code.startswith(i) for i in industries)


TERMS = DATA_DIR / "search_terms.toml"


@lru_cache(maxsize=1)
def _terms() -> tuple[dict[str, frozenset[str]], tuple[str, ...]]:
    """Trade words -> the NACE classes they mean, and the heads of Danish compounds, folded as
    the search folds (data/search_terms.toml)."""
    with TERMS.open("rb") as fh:
        doc = tomllib.load(fh)
    classes: dict[str, set[str]] = {}
    for nace_class, words in doc["classes"].items():
        for word in words:
            classes.setdefault(search_fold(word), set()).add(nace_class)
    heads = sorted({search_fold(h) for h in doc["heads"]["words"]}, key=len, reverse=True)
    return {w: frozenset(c) for w, c in classes.items()}, tuple(heads)


@lru_cache(maxsize=1024)
def _english_words(code: str | None) -> tuple[str, ...]:
    """The folded words of a code's NACE class name in English (once per code)."""
    english = search_fold(english_industry_text(code) or "")
    return tuple(english.replace(",", " ").replace(";", " ").split())


def query_words(q: str) -> list[tuple[str, ...]]:
    """Each word of a query with the forms it is searched in: itself, and without the head of a
    compound ("tømrerfirma" is also "tømrer")."""
    _, heads = _terms()
    words = []
    for word in search_fold(q).split():
        forms = [word]
        for head in heads:
            if word.endswith(head) and len(word) >= len(head) + 3:
                forms.append(word[: -len(head)].rstrip("-"))
                break
        words.append(tuple(forms))
    return words


def text_score(words: list[tuple[str, ...]], props: dict[str, Any]) -> float:
    """How well every word matches, in any of its forms: 0 when one word matches nowhere. A
    word that names the business's trade (data/search_terms.toml) counts nearly as much as its
    name; then the register's industry text, then its NACE class in English."""
    classes, _ = _terms()
    name = search_fold(props.get("name") or "")
    industry = search_fold(props.get("industry_text") or "")
    nace_class = (props.get("industry_code") or "")[:4]
    name_words = name.split()
    industry_words = industry.replace("-", " ").split()
    english_words = _english_words(props.get("industry_code"))
    total = 0.0
    for forms in words:
        best = 0.0
        for t in forms:
            if any(w.startswith(t) for w in name_words):
                best = max(best, 3)
            elif nace_class and nace_class in classes.get(t, ()):
                best = max(best, 2.5)
            elif t in name:
                best = max(best, 2)
            elif any(w.startswith(t) for w in industry_words):
                best = max(best, 1.5)
            elif t in industry or any(w.startswith(t) for w in english_words):
                best = max(best, 1)
        if best == 0:
            return 0.0
        total += best
    return total


def rank(features: list[dict[str, Any]], p: SearchParams) -> list[dict[str, Any]]:
    """Filter and order the candidates; adds `distance_km` and `score` to each."""
    tokens = query_words(p.q) if p.q else []
    out = []
    for f in features:
        props = f["properties"]
        if props.get("status") != "active" or not _industry_matches(props, p.industries):
            continue
        if p.sizes and (props.get("employees") or NO_SIZE_GROUP) not in p.sizes:
            continue
        score = text_score(tokens, props) if tokens else 1.0
        if score == 0:
            continue
        distance = None
        if p.point is not None:
            coords = (f.get("geometry") or {}).get("coordinates")
            if not coords:
                continue
            distance = distance_km(p.point, (coords[0], coords[1]))
            if p.radius_km is not None and distance > p.radius_km:
                continue
        props["distance_km"] = None if distance is None else round(distance, 3)
        props["score"] = round(score, 2)
        out.append(f)
    if p.point is not None:
        out.sort(key=lambda f: (f["properties"]["distance_km"], -f["properties"]["score"], f["id"]))
    else:
        out.sort(key=lambda f: (-f["properties"]["score"], f["properties"]["name"], f["id"]))
    return out


def search(store: Store, req: HttpRequest) -> HttpResponse:
    """`GET /search`: a page of ranked businesses as GeoJSON."""
    values = P.single_values(req.params, _PARAMS)
    if "f" in values and values["f"] not in ("json", "geojson"):
        raise InvalidParameter("f must be 'json' or 'geojson'", parameter="f")
    media = (
        GEOJSON if "f" in values else negotiate(req.header("accept"), [GEOJSON, "application/json"])
    )
    p = parse(values)
    selection = selection_digest("search", p.selection())
    offset = 0
    if "cursor" in values:
        after = decode_cursor(values["cursor"], selection, req.settings.cursor_secret).after
        try:
            offset = P.ascii_int(after)
        except ValueError:
            offset = -1
        if not 0 <= offset <= MAX_CANDIDATES:
            raise InvalidParameter("the cursor is not valid for this search", parameter="cursor")
    ranked = rank(candidates(store, p), p)
    page = ranked[offset : offset + p.limit]
    href = f"{req.base_url}/search"
    shown = {k: v for k, v in values.items() if k != "cursor"}
    links = [{"href": with_query(href, values), "rel": "self", "type": media}]
    if offset + p.limit < len(ranked):
        token = Cursor(str(offset + p.limit), len(ranked), selection).encode(
            req.settings.cursor_secret
        )
        links.append(
            {"href": with_query(href, {**shown, "cursor": token}), "rel": "next", "type": media}
        )
    body = orjson.dumps(
        {
            "type": "FeatureCollection",
            "numberMatched": len(ranked),
            "numberReturned": len(page),
            "sortedBy": "distance" if p.point is not None else "relevance",
            "links": links,
            "features": page,
        }
    )
    return ok(req, body, media, etag=etag_of(body), max_age=60)
