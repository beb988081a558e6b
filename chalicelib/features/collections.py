"""The three collections the service offers, and what each one says about itself."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.web.params import COLLECTION_FILTERS


@dataclass(frozen=True)
class CollectionInfo:
    id: str
    title: str
    description: str
    filters: tuple[str, ...]
    temporal: bool  # whether `datetime` selects on a temporal property of the features


COLLECTION_INFO: dict[str, CollectionInfo] = {
    "businesses": CollectionInfo(
        id="businesses",
        title="Businesses",
        description=(
            "Businesses registered in CVR (the Danish Central Business Register) in the covered "
            "municipalities, with their industry (DB07), company form, employee size group, "
            "status and location. Personally owned firms are shown on a ~250 m grid without "
            "street address unless they opted in. The temporal property is the founding date "
            "(`founded`): `datetime` selects the businesses founded on a day the instant or "
            "interval touches (`2020-01-01/..`: founded on or after that day). `filter` takes "
            "CQL2 on the queryables."
        ),
        filters=COLLECTION_FILTERS["businesses"],
        temporal=True,
    ),
    "networks": CollectionInfo(
        id="networks",
        title="Business networks",
        description=(
            "Local networks of self-employed people and small firms: the area each covers "
            "(Polygon or MultiPolygon; a network that drew no area is in "
            "network-meeting-places only), how to reach "
            "them and how many members the public sees. Their meeting places are the collection "
            "network-meeting-places; members are the businesses whose `networks` names the "
            "network (`/collections/businesses/items?network=<id>`). No temporal extent: "
            "`datetime` is accepted and selects all of them."
        ),
        filters=COLLECTION_FILTERS["networks"],
        temporal=False,
    ),
    "network-meeting-places": CollectionInfo(
        id="network-meeting-places",
        title="Network meeting places",
        description=(
            "Where each business network meets: one Point per network that names a meeting "
            "place, with the network's id and properties. No temporal extent: `datetime` is "
            "accepted and selects all of them."
        ),
        filters=COLLECTION_FILTERS["network-meeting-places"],
        temporal=False,
    ),
    "municipalities": CollectionInfo(
        id="municipalities",
        title="Municipalities",
        description=(
            "The municipalities (kommuner) this service covers, with their boundaries from "
            "DAGI (Klimadatastyrelsen og Danske Kommuner, 2014). No temporal extent: "
            "`datetime` is accepted and selects all of them."
        ),
        filters=COLLECTION_FILTERS["municipalities"],
        temporal=False,
    ),
}
