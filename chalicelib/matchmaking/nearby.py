"""Which networks are near a place: the one ranking the welcome feed (and matchmaking) use.

A network is at distance 0 from a place inside its area; otherwise the distance is to its
meeting place (where people actually go), or to the edge of its area when it has no meeting
place. Distances are great-circle kilometres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

EARTH_RADIUS_KM = 6371.0088


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


def nearest_networks(
    point: tuple[float, float], networks: list[dict[str, Any]], limit: int = 3
) -> list[NearbyNetwork]:
    """The `limit` public network features nearest to a (lon, lat) point, nearest first."""
    ranked = [_measure(point, n) for n in networks]
    ranked.sort(key=lambda r: (r.distance_km, r.name))
    return ranked[:limit]


def _measure(point: tuple[float, float], network: dict[str, Any]) -> NearbyNetwork:
    props = network.get("properties") or {}
    geometry = network.get("geometry") or {}
    meeting = props.get("meeting_place")
    within = False
    distance = math.inf
    if geometry.get("type") in ("Polygon", "MultiPolygon"):
        within, edge = _area_distance(point, geometry)
        distance = 0.0 if within else edge
    if not within and meeting:
        distance = distance_km(point, tuple(meeting["coordinates"][:2]))
    elif geometry.get("type") == "Point":
        distance = distance_km(point, tuple(geometry["coordinates"][:2]))
    return NearbyNetwork(
        id=str(network.get("id")),
        name=str(props.get("name", "")),
        distance_km=distance,
        within_area=within,
        feature=network,
    )


def _area_distance(point: tuple[float, float], geometry: dict[str, Any]) -> tuple[bool, float]:
    """Inside the area?, and else the distance to its edge (local flat approximation)."""
    from shapely.geometry import Point, shape
    from shapely.ops import nearest_points

    area = shape(geometry)
    here = Point(point)
    if area.covers(here):
        return True, 0.0
    nearest = nearest_points(area, here)[0]
    return False, distance_km(point, (nearest.x, nearest.y))
