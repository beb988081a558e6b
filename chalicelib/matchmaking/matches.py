"""Who should know whom: businesses a business could work with, and networks it could join.

A suggestion needs a reason: the same industry (colleagues to share work with), complementary
industries (one commonly supplies the other, from the documented table in
`data/supply_chains.toml`), or a network both belong to. Nearness adds to the score but is
never enough alone. Every suggestion carries its reasons in Danish and English and a score.
Network suggestions (`suggest_networks`) are also what the welcome feed shows a new business.
Only public, active businesses are suggested: hidden and ceased ones never are.
"""

from __future__ import annotations

import math
import tomllib
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib import DATA_DIR
from chalicelib.domain.errors import InvalidParameter, NotFound
from chalicelib.domain.industry import SECTION_NAMES
from chalicelib.domain.public import business_network_ids
from chalicelib.domain.text import count
from chalicelib.matchmaking.nearby import NetworkAreas, as_network_areas, distance_km, load_networks
from chalicelib.matchmaking.search import SearchParams, candidates
from chalicelib.web import params as P
from chalicelib.web.http import HttpRequest, HttpResponse, etag_of, ok

if TYPE_CHECKING:
    from chalicelib.store import Store

TABLE = DATA_DIR / "supply_chains.toml"
RADIUS_DEFAULT_KM, RADIUS_MAX_KM = 15.0, 50.0
LIMIT_DEFAULT, LIMIT_MAX = 10, 50


@lru_cache(maxsize=1)
def supply_table() -> dict[str, dict[str, tuple[str, str]]]:
    """buyer section -> supplier section -> (why in Danish, why in English)."""
    with TABLE.open("rb") as fh:
        doc = tomllib.load(fh)
    return {buyer: {s: (v[0], v[1]) for s, v in row.items()} for buyer, row in doc.items()}


def _section_name(section: str | None, lang: int) -> str:
    return SECTION_NAMES[section][lang] if section in SECTION_NAMES else "?"


def _km(d: float, lang: int) -> str:
    text = f"{d:.1f}"
    return text.replace(".", ",") if lang == 0 else text


def business_reasons(
    me: dict[str, Any], other: dict[str, Any], d: float | None
) -> tuple[float, list[dict[str, str]]]:
    """Score and reasons for suggesting `other` to `me` (both public property dicts)."""
    mine, theirs = me.get("industry_section"), other.get("industry_section")
    table = supply_table()
    reasons: list[dict[str, str]] = []
    score = 0.0
    if mine and mine == theirs:
        score += 0.6
        reasons.append(
            {
                "da": f"Samme branche ({_section_name(mine, 0)}): kolleger at dele opgaver med",
                "en": f"Same industry ({_section_name(mine, 1)}): colleagues to share work with",
            }
        )
    if mine and theirs and theirs in table.get(mine, {}):
        da, en = table[mine][theirs]
        score += 1.0
        reasons.append(
            {"da": f"Mulig leverandør til dig: {da}", "en": f"A possible supplier: {en}"}
        )
    if mine and theirs and mine in table.get(theirs, {}):
        da, en = table[theirs][mine]
        score += 0.8
        reasons.append(
            {"da": f"Mulig kunde hos dig: du {da}", "en": f"A possible customer: you {en}"}
        )
    shared = sorted(set(business_network_ids(me)) & set(business_network_ids(other)))
    if shared:
        score += 0.8 * len(shared)
        reasons.append(
            {
                "da": f"I er begge med i {', '.join(shared)}",
                "en": f"You both belong to {', '.join(shared)}",
            }
        )
    if not reasons:
        return 0.0, []
    if d is not None:
        score += math.exp(-d / 5)
        reasons.append({"da": f"{_km(d, 0)} km væk", "en": f"{_km(d, 1)} km away"})
    return round(score, 3), reasons


def suggest_networks(
    point: tuple[float, float] | None,
    section: str | None,
    networks: NetworkAreas | list[dict[str, Any]],
    neighbours: list[dict[str, Any]] | None = None,
    *,
    exclude: set[str] = frozenset(),  # type: ignore[assignment]
    limit: int = 3,
) -> list[dict[str, Any]]:
    """Networks a business at `point` in `section` could join, best first, with reasons.

    `neighbours` (public features around it) tell which networks have members in the same
    industry nearby; without them the ranking is by distance alone. Every network is scored,
    but only the `limit` shown are written out (a feed asks this for each of its entries).
    """
    same_industry: dict[str, int] = {}
    for f in neighbours or []:
        p = f["properties"]
        if section and p.get("industry_section") == section:
            for n in business_network_ids(p):
                same_industry[n] = same_industry.get(n, 0) + 1
    if point is None:
        return []
    measured = [n for n in as_network_areas(networks).measure(point) if n.id not in exclude]
    scored = []
    for near in measured:
        peers = same_industry.get(near.id, 0)
        score = round(math.exp(-near.distance_km / 10) + 0.3 * min(3, peers), 3)
        scored.append((-score, round(near.distance_km, 1), near.id, near, peers))
    scored.sort(key=lambda t: t[:3])
    out = []
    for minus_score, _, _, near, peers in scored[:limit]:
        summary = near.summary()
        meeting = summary.get("meeting_place_name")
        if near.within_area:
            reasons = [
                {"da": "Du ligger i netværkets område", "en": "You are within the network's area"}
            ]
        else:
            where = f" ({meeting})" if meeting else ""
            reasons = [
                {
                    "da": f"Mødes {_km(near.distance_km, 0)} km fra dig{where}",
                    "en": f"Meets {_km(near.distance_km, 1)} km from you{where}",
                }
            ]
        if peers:
            reasons.append(
                {
                    "da": f"{count(peers, 'member', 'da')} i nærheden i din branche",
                    "en": f"{count(peers, 'member', 'en')} nearby in your industry",
                }
            )
        out.append({**summary, "score": -minus_score, "reasons": reasons})
    return out


def matches(store: Store, req: HttpRequest, business_id: str) -> HttpResponse:
    """`GET /businesses/{id}/matches`."""
    values = P.single_values(req.params, ("radius", "limit"))
    radius = _number(values.get("radius"), RADIUS_DEFAULT_KM, RADIUS_MAX_KM, "radius")
    limit = int(_number(values.get("limit"), LIMIT_DEFAULT, LIMIT_MAX, "limit", integer=True))
    raw = store.get_feature("businesses", business_id)
    if raw is None:
        raise NotFound(f"no business {business_id}")
    me = orjson.loads(raw)
    props = me["properties"]
    coords = (me.get("geometry") or {}).get("coordinates")
    point = (coords[0], coords[1]) if coords else None
    neighbours: list[dict[str, Any]] = []
    if point is not None:
        neighbours = candidates(store, SearchParams(point=point, radius_km=radius))
    suggestions = []
    for f in neighbours:
        if f["id"] == me["id"] or f["properties"].get("status") != "active":
            continue
        c = f["geometry"]["coordinates"]
        d = distance_km(point, (c[0], c[1])) if point else None
        if d is not None and d > radius:
            continue
        score, reasons = business_reasons(props, f["properties"], d)
        if score:
            f["properties"].update(score=score, distance_km=round(d, 3) if d is not None else None)
            suggestions.append({**f, "reasons": reasons})
    suggestions.sort(key=lambda f: (-f["properties"]["score"], f["id"]))
    networks = suggest_networks(
        point,
        props.get("industry_section"),
        load_networks(store),
        neighbours,
        exclude=set(business_network_ids(props)),
        limit=5,
    )
    body = orjson.dumps(
        {
            "business": {
                "id": me["id"],
                "name": props["name"],
                "industry_section": props.get("industry_section"),
            },
            "radius_km": radius,
            "businesses": {"type": "FeatureCollection", "features": suggestions[:limit]},
            "networks": networks,
            "method": "same industry, complementary industries (data/supply_chains.toml), "
            "shared networks; nearness adds to the score",
        }
    )
    return ok(req, body, "application/json", etag=etag_of(body), max_age=300)


def _number(
    value: str | None, default: float, top: float, name: str, integer: bool = False
) -> float:
    if value is None:
        return default
    try:
        n = P.ascii_int(value) if integer else P.ascii_float(value)
    except ValueError:
        n = -1
    if not 0 < n <= top:
        kind = "an integer" if integer else "a number"
        raise InvalidParameter(f"{name} must be {kind} above 0 and at most {top:g}", parameter=name)
    return n
