"""Who should know whom: businesses a business could work with, and networks it could join.

A suggestion needs a reason: the same industry (the same code first, then the same NACE class,
then only the same section), complementary industries (one commonly supplies the other, by
their codes, from the documented table in `data/supply_chains.toml`), or a network both belong
to. Nearness adds to the score but is
never enough alone. Every suggestion carries its reasons in Danish and English and a score.
Network suggestions (`suggest_networks`, by the welcome rule: nearness to where a network meets,
its members' share in the business's industry, its area) are also what the welcome feed shows a
new business.
Only public, active businesses are suggested: hidden and ceased ones never are.
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib import DATA_DIR
from chalicelib.domain.errors import InvalidParameter, NotFound
from chalicelib.domain.industry import SECTION_NAMES, english_industry_text
from chalicelib.domain.public import business_network_ids
from chalicelib.domain.text import count
from chalicelib.matchmaking.nearby import (
    NearbyNetwork,
    NetworkAreas,
    as_network_areas,
    distance_km,
    load_networks,
)
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
    """buyer (a section letter or a code prefix) -> supplier code prefix -> (what it does for
    the buyer in Danish, in English)."""
    with TABLE.open("rb") as fh:
        doc = tomllib.load(fh)
    return {buyer: {s: (v[0], v[1]) for s, v in row.items()} for buyer, row in doc.items()}


def supplies(supplier: dict[str, Any], buyer: dict[str, Any]) -> tuple[str, str] | None:
    """What the supplier does for the buyer by the table (both public property dicts), or None:
    the most specific buyer entry with a row for the supplier's code, its most specific row."""
    table = supply_table()
    code, theirs = buyer.get("industry_code") or "", supplier.get("industry_code") or ""
    if not theirs:
        return None
    buyer_keys = [code[:n] for n in (4, 3, 2) if len(code) >= n]
    if buyer.get("industry_section"):
        buyer_keys.append(buyer["industry_section"])
    for key in buyer_keys:
        row = table.get(key)
        if row is None:
            continue
        for n in (4, 3, 2):
            if theirs[:n] in row:
                return row[theirs[:n]]
    return None


def _section_name(section: str | None, lang: int) -> str:
    return SECTION_NAMES[section][lang] if section in SECTION_NAMES else "?"


def _km(d: float, lang: int) -> str:
    text = f"{d:.1f}"
    return text.replace(".", ",") if lang == 0 else text


# Exact industry first: the same 6-digit code is the strongest tie, then the same NACE class
# (the first four digits), then only the same section; a supplier or customer by the table
# counts as much as the same code. Nearness, e^(-d/5), adds at most 1: within the radius a
# firm of the same trade 10 km away still comes before one of the same section next door.
SAME_CODE, SAME_CLASS, SAME_SECTION = 1.5, 1.0, 0.3
SUPPLIER, CUSTOMER, SHARED_NETWORK = 1.2, 1.0, 0.8


def business_reasons(
    me: dict[str, Any], other: dict[str, Any], d: float | None
) -> tuple[float, list[dict[str, str]]]:
    """Score and reasons for suggesting `other` to `me` (both public property dicts); every
    reason holds for these two firms."""
    mine, theirs = me.get("industry_section"), other.get("industry_section")
    my_code, their_code = me.get("industry_code") or "", other.get("industry_code") or ""
    what = other.get("industry_text") or _section_name(theirs, 0)
    reasons: list[dict[str, str]] = []
    score = 0.0
    if my_code and my_code == their_code:
        score += SAME_CODE
        text = other.get("industry_text") or my_code
        reasons.append(
            {
                "da": f"Samme branche ({text}): kolleger at dele opgaver med",
                "en": f"Same industry ({english_industry_text(my_code) or text}): colleagues to "
                "share work with",
            }
        )
    elif my_code[:4] and my_code[:4] == their_code[:4]:
        score += SAME_CLASS
        english = english_industry_text(their_code) or what
        reasons.append(
            {
                "da": f"Beslægtet branche ({what}): kolleger at dele opgaver med",
                "en": f"A related industry ({english}): colleagues to share work with",
            }
        )
    elif mine and mine == theirs:
        score += SAME_SECTION
        reasons.append(
            {
                "da": f"Samme hovedbranche ({_section_name(mine, 0)}): {what}",
                "en": f"The same industry section ({_section_name(mine, 1)}): "
                f"{english_industry_text(their_code) or what}",
            }
        )
    if (supplied := supplies(other, me)) is not None:
        da, en = supplied
        score += SUPPLIER
        reasons.append(
            {"da": f"Mulig leverandør til dig: {da}", "en": f"A possible supplier: {en}"}
        )
    if (bought := supplies(me, other)) is not None:
        da, en = bought
        score += CUSTOMER
        reasons.append(
            {
                "da": f"Mulig kunde hos dig: din virksomhed {da}",
                "en": f"A possible customer: your business {en}",
            }
        )
    shared = sorted(set(business_network_ids(me)) & set(business_network_ids(other)))
    if shared:
        score += SHARED_NETWORK * len(shared)
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


# The welcome rule (docs/API.md, "Networks for a new business"): nearness to where the network
# meets, halving about every 5.5 km; how much of the network is in the business's industry,
# counting less the farther away it meets (a restaurant's network 45 km away is no welcome); a
# little for lying in the area it draws. Weighed so that the town's own network comes before
# one that meets in the next town, and a trade's network before a general one at equal distance.
NEAR_KM = 8.0  # exp(-d / NEAR_KM): 1 at the door, 0.53 at 5 km, 0.08 at 20 km
REACH_KM = 25.0  # the industry's share counts exp(-d / REACH_KM): 0.45 at 20 km, 0.16 at 45
FIT_WEIGHT = 1.5  # times the share of the network's active members in the business's section
# the share is taken as peers / (members + 2): a network of one member, a carpenter, is not yet
# a carpenters' network (1/3), one of 20 carpenters of 20 nearly is (0.91)
FIT_PRIOR = 2
AREA_WEIGHT = 0.25


def network_profiles(store: Store, networks: NetworkAreas) -> dict[str, Counter[str]]:
    """Each network's active public members counted per industry section ('' unknown): what a
    network is about, read from who is in it. Kept per version of the networks and of the
    store (its change token), so a feed page asks the store once, not once per entry."""
    from chalicelib.store import FeatureQuery, iter_public_features

    token = store.change_token()
    key = (networks.version, token or "")
    if token is not None and (found := _profiles.get(key)) is not None:
        return found
    profiles: dict[str, Counter[str]] = {}
    for network_id in networks.ids:
        members = iter_public_features(
            store, "businesses", FeatureQuery(network=network_id, status="active")
        )
        profiles[network_id] = Counter(
            orjson.loads(f)["properties"].get("industry_section") or "" for f in members
        )
    if token is not None:
        if len(_profiles) >= 4:
            _profiles.clear()
        _profiles[key] = profiles
    return profiles


_profiles: dict[tuple[str, str], dict[str, Counter[str]]] = {}


def profiles_digest(profiles: dict[str, Counter[str]]) -> bytes:
    """What the suggestions depend on besides the networks themselves (for ETags)."""
    return orjson.dumps({k: sorted(v.items()) for k, v in sorted(profiles.items())})


def suggest_networks(
    point: tuple[float, float] | None,
    section: str | None,
    networks: NetworkAreas | list[dict[str, Any]],
    profiles: dict[str, Counter[str]] | None = None,
    *,
    exclude: set[str] = frozenset(),  # type: ignore[assignment]
    limit: int = 3,
) -> list[dict[str, Any]]:
    """Networks a business at `point` in `section` could join, best first, with reasons.

    Scored by the welcome rule above from the true distance to where each network meets, the
    share of its members in the same section (`profiles`, from `network_profiles`; without
    them nearness and area alone), and whether the business lies in its area. Ties go to the
    nearer, then by name. Every network is scored; only the `limit` shown are written out.
    """
    if point is None:
        return []
    measured = [n for n in as_network_areas(networks).measure(point) if n.id not in exclude]
    scored = []
    for near in measured:
        if math.isinf(near.distance_km):
            continue  # neither a meeting place nor an area: nowhere to measure from
        members = (profiles or {}).get(near.id, Counter())
        total = sum(members.values())
        peers = members.get(section, 0) if section else 0
        fit = peers / (total + FIT_PRIOR)
        score = (
            math.exp(-near.distance_km / NEAR_KM)
            + FIT_WEIGHT * fit * math.exp(-near.distance_km / REACH_KM)
            + (AREA_WEIGHT if near.within_area else 0.0)
        )
        scored.append((-round(score, 3), near.distance_km, near.name, near, peers, total))
    scored.sort(key=lambda t: t[:3])
    out = []
    for minus, _, _, near, peers, total in scored[:limit]:
        reasons = _network_reasons(near, section, peers, total)
        out.append({**near.summary(), "score": -minus, "reasons": reasons})
    return out


def _network_reasons(
    near: NearbyNetwork, section: str | None, peers: int, total: int
) -> list[dict[str, str]]:
    """Why a network is suggested, in both languages: each reason holds for this business."""
    reasons = []
    meeting = near.summary().get("meeting_place_name")
    if near.within_area:
        reasons.append(
            {"da": "Du ligger i netværkets område", "en": "You are within the network's area"}
        )
    if near.feature["properties"].get("meeting_place_lon") is not None:
        where = f" ({meeting})" if meeting else ""
        reasons.append(
            {
                "da": f"Mødes {_km(near.distance_km, 0)} km fra dig{where}",
                "en": f"Meets {_km(near.distance_km, 1)} km from you{where}",
            }
        )
    if peers:
        verb = "is" if peers == 1 else "are"
        reasons.append(
            {
                "da": f"{peers} af netværkets {count(total, 'member', 'da')} er i din branche "
                f"({_section_name(section, 0)})",
                "en": f"{peers} of the network's {count(total, 'member', 'en')} {verb} in your "
                f"industry ({_section_name(section, 1)})",
            }
        )
    return reasons


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
    areas = load_networks(store)
    networks = suggest_networks(
        point,
        props.get("industry_section"),
        areas,
        network_profiles(store, areas),
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
            "method": "the same industry code, class or section, suppliers and customers by "
            "their codes (data/supply_chains.toml), shared networks; nearness adds to the score",
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
