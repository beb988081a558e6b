"""Bounded work per request: the since window, networks prepared once per version, and a 304
answered before the body is built."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from chalicelib.domain.errors import InvalidParameter
from chalicelib.domain.models import Point
from chalicelib.domain.reference import load_municipalities
from chalicelib.matchmaking import nearby, welcome
from chalicelib.matchmaking.nearby import NetworkAreas, nearest_networks, prepared_networks
from chalicelib.store import Store, iter_public_features, open_store
from chalicelib.web.http import HttpRequest
from tests.factories import business, network

HERE = (11.8729, 54.7691)
TODAY = datetime.now(UTC).date()


def _square(lon: float, lat: float, d: float) -> dict:
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'costs.db'}")
    s.create_table()
    s.upsert_municipalities(load_municipalities(["376"]))
    at = Point(lon=HERE[0], lat=HERE[1])
    s.upsert_businesses(
        [
            business("10000004", founded=TODAY - timedelta(days=3), location=at),
            business("10000020", founded=TODAY - timedelta(days=5), location=at),
        ]
    )
    s.upsert_networks(
        [
            network("east-net", name="Øst", meeting_place=Point(lon=11.893, lat=54.7691)),
            network("area-net", name="Området", meeting_place=None, area=_square(12.2, 54.8, 0.05)),
        ]
    )
    yield s
    s.close()


def _get(store: Store, headers: dict[str, str] | None = None, **params: str):
    req = HttpRequest(
        path="/municipalities/376/new-businesses",
        params={k: [v] for k, v in params.items()},
        headers=headers or {},
        base_url="http://test",
    )
    return welcome.new_businesses(store, req, "376")


def test_since_further_back_than_two_years_is_a_400_naming_since(store: Store) -> None:
    earliest = welcome.earliest_since(TODAY)
    assert earliest.year == TODAY.year - 2
    for since in ("1900-01-01", (earliest - timedelta(days=1)).isoformat()):
        with pytest.raises(InvalidParameter) as err:
            _get(store, since=since)
        assert err.value.body()["parameter"] == "since"
        assert earliest.isoformat() in err.value.body()["description"]
    assert _get(store, since=earliest.isoformat()).status == 200


def test_the_earliest_since_of_a_leap_day() -> None:
    assert welcome.earliest_since(date(2028, 2, 29)) == date(2026, 2, 28)


def test_networks_are_prepared_once_per_version(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    real = NetworkAreas.__init__

    def counting(self: NetworkAreas, *args, **kwargs) -> None:
        real(self, *args, **kwargs)
        built.append(self.version)

    monkeypatch.setattr(NetworkAreas, "__init__", counting)
    monkeypatch.setattr(nearby, "_prepared", type(nearby._prepared)())
    for _ in range(3):
        assert _get(store, limit="1000").status == 200
    assert len(built) == 1
    # a change to a network is a new version: prepared anew, and the feed shows it
    store.upsert_networks(
        [network("area-net", name="Området", meeting_place=None, area=_square(*HERE, 0.05))]
    )
    doc = orjson.loads(_get(store).body)
    assert len(built) == 2 and built[0] != built[1]
    nearest = doc["features"][0]["properties"]["nearest_networks"]
    assert nearest[0]["id"] == "area-net" and nearest[0]["within_area"]


def test_prepared_networks_measure_as_the_plain_geometry_does(store: Store) -> None:
    raw = list(iter_public_features(store, "networks"))
    areas = prepared_networks(raw)
    assert prepared_networks(list(raw)) is areas
    ranked = nearest_networks(HERE, areas, 5)
    assert [n.id for n in ranked] == ["east-net", "area-net"]
    # no meeting place: the distance is to the edge of the area (12.15 E, about 17.7 km)
    edge = nearby.distance_km(HERE, (12.15, HERE[1]))
    assert ranked[1].distance_km == pytest.approx(edge, abs=0.5) and not ranked[1].within_area
    inside = nearest_networks((12.2, 54.8), [orjson.loads(f) for f in raw], 1)[0]
    assert inside.id == "area-net" and inside.within_area and inside.distance_km == 0


def test_a_client_holding_the_etag_gets_a_304_without_the_body_being_built(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _get(store, limit="1000")
    etag = first.headers["ETag"]

    def never(*args, **kwargs):
        raise AssertionError("the body was built for a 304")

    monkeypatch.setattr(welcome, "_with_networks", never)
    again = _get(store, {"if-none-match": etag}, limit="1000")
    assert again.status == 304 and again.body == b"" and again.headers["ETag"] == etag
    monkeypatch.undo()
    # other forms of the same page are other answers
    assert _get(store, {"if-none-match": etag}, limit="1000", f="atom").status == 200
    assert _get(store, {"if-none-match": etag}, limit="1000", lang="en").status == 200


def test_the_etag_follows_businesses_and_networks(store: Store) -> None:
    etag = _get(store).headers["ETag"]
    assert _get(store).headers["ETag"] == etag
    store.upsert_networks(
        [network("east-net", name="Øst 2", meeting_place=Point(lon=11.9, lat=54.77))]
    )
    moved = _get(store).headers["ETag"]
    assert moved != etag
    store.upsert_businesses([business("10000004", name="Nyt navn ApS", founded=TODAY)])
    renamed = _get(store)
    assert renamed.headers["ETag"] != moved
    assert "Nyt navn ApS" in renamed.body.decode()
