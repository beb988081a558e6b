"""Which networks are near a place: the one ranking the welcome feed (and matchmaking) use.

A network's distance from a place is the distance to its meeting place (where people actually
go), from inside its area too: a network whose area is the whole municipality still meets in
one town. A network without a meeting place is at 0 inside its area and at its edge outside.
Whether the place lies in the area is said apart (`within_area`). Distances are great-circle
kilometres.

The networks change rarely and are asked about for every entry of a feed page, so their areas
are turned into prepared shapely geometries once per version of the networks (`NetworkAreas`,
kept by the digest of the public features the store returns) and reused by every request until
a network changes: a request then costs a point test per network, not a rebuilt polygon.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from chalicelib.store import Store

EARTH_RADIUS_KM = 6371.0088
CACHED_VERSIONS = 4  # versions of the networks kept prepared (a change, and the one before)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class NearbyNetwork:
    id: str
    name: str
    distance_km: float
    within_area: bool
    feature: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """What a reader needs to get in touch: name, distance, where and how to reach it."""
        p = self.feature["properties"]
        return {
            "id": self.id,
            "name": self.name,
            "distance_km": round(self.distance_km, 1),
            "within_area": self.within_area,
            "meeting_place_name": p.get("meeting_place_name"),
            "website": p.get("website"),
            "email": p.get("email"),
            "phone": p.get("phone"),
        }


class NetworkAreas:
    """One version of the public networks, ready to be measured against many points.

    Built once per version: each area becomes a prepared geometry (its point-in-area index is
    made here, not per request), each meeting place a pair of floats. GEOS's prepared geometries
    are not safe to use from several threads at once, so the tests against them take a lock; a
    test is a few microseconds.
    """

    def __init__(self, networks: Iterable[dict[str, Any]], version: str = "") -> None:
        import shapely
        from shapely.geometry import shape

        self.version = version
        self.networks = list(networks)
        self.ids = [str(n.get("id")) for n in self.networks]
        self.names = [str((n.get("properties") or {}).get("name", "")) for n in self.networks]
        self._areas: list[tuple[int, Any]] = []  # (index, prepared area)
        self._places: list[tuple[float, float] | None] = []  # meeting place, else a Point
        self._lock = threading.Lock()
        for i, n in enumerate(self.networks):
            props = n.get("properties") or {}
            geometry = n.get("geometry") or {}
            place = None
            if props.get("meeting_place_lon") is not None and props.get("meeting_place_lat"):
                place = (float(props["meeting_place_lon"]), float(props["meeting_place_lat"]))
            elif geometry.get("type") == "Point":
                place = (float(geometry["coordinates"][0]), float(geometry["coordinates"][1]))
            self._places.append(place)
            if geometry.get("type") in ("Polygon", "MultiPolygon"):
                area = shape(geometry)
                shapely.prepare(area)
                self._areas.append((i, area))
        if self._areas:  # the lazy parts of the prepared index are built now, in one thread
            probe = shapely.points(0.0, 0.0)
            shapely.covers([a for _, a in self._areas], probe)

    def __len__(self) -> int:
        return len(self.networks)

    def measure(self, point: tuple[float, float]) -> list[NearbyNetwork]:
        """Every network's distance from a (lon, lat) point, in the networks' order."""
        within = [False] * len(self.networks)
        edges: dict[int, tuple[float, float]] = {}
        if self._areas:
            import shapely

            here = shapely.points(point[0], point[1])
            geoms = [a for _, a in self._areas]
            with self._lock:
                covered = shapely.covers(geoms, here)
                outside = [
                    (i, a)
                    for (i, a), c in zip(self._areas, covered, strict=True)
                    if not c and self._places[i] is None
                ]
                if outside:
                    lines = shapely.shortest_line([a for _, a in outside], here)
                    starts = shapely.get_coordinates(shapely.get_point(lines, 0))
                    edges = {i: (x, y) for (i, _), (x, y) in zip(outside, starts, strict=True)}
            for (i, _), c in zip(self._areas, covered, strict=True):
                within[i] = bool(c)
        out = []
        for i, n in enumerate(self.networks):
            if self._places[i] is not None:
                distance = distance_km(point, self._places[i])  # type: ignore[arg-type]
            elif within[i]:
                distance = 0.0
            elif i in edges:
                distance = distance_km(point, edges[i])
            else:
                distance = math.inf
            out.append(NearbyNetwork(self.ids[i], self.names[i], distance, within[i], n))
        return out


_prepared: OrderedDict[str, NetworkAreas] = OrderedDict()
_prepared_lock = threading.Lock()


def _version(parts: Iterable[bytes]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def prepared_networks(raw: list[bytes]) -> NetworkAreas:
    """The prepared networks for these public features (as the store returned them).

    Kept by the digest of the features' bytes: any change to a network (its area, name, members)
    changes the digest, so a stale version is never used; an unchanged one is never rebuilt.
    """
    version = _version(raw)
    with _prepared_lock:
        found = _prepared.get(version)
        if found is not None:
            _prepared.move_to_end(version)
            return found
    built = NetworkAreas([orjson.loads(f) for f in raw], version)
    with _prepared_lock:
        _prepared[version] = built
        while len(_prepared) > CACHED_VERSIONS:
            _prepared.popitem(last=False)
    return built


def load_networks(store: Store) -> NetworkAreas:
    """Every public network of the store, prepared (rebuilt only when a network changed)."""
    from chalicelib.store import iter_public_features

    return prepared_networks(list(iter_public_features(store, "networks")))


def as_network_areas(networks: NetworkAreas | list[dict[str, Any]]) -> NetworkAreas:
    """Parsed features are accepted too (prepared by their content, like the store's bytes)."""
    if isinstance(networks, NetworkAreas):
        return networks
    return prepared_networks([orjson.dumps(n) for n in networks])


def nearest_networks(
    point: tuple[float, float], networks: NetworkAreas | list[dict[str, Any]], limit: int = 3
) -> list[NearbyNetwork]:
    """The `limit` public network features nearest to a (lon, lat) point, nearest first."""
    ranked = as_network_areas(networks).measure(point)
    ranked.sort(key=lambda r: (r.distance_km, r.name))
    return ranked[:limit]
