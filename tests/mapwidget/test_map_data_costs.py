"""Map data: the ETag comes from the store's versions before the body is built, so a 304 builds
nothing, and it still follows every change of a business or a network."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from chalicelib.domain.models import Point
from chalicelib.domain.reference import load_municipalities
from chalicelib.mapwidget import widget
from chalicelib.store import Store, open_store
from chalicelib.web.http import HttpRequest
from tests.factories import business, network


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'map.db'}")
    s.create_table()
    s.upsert_municipalities(load_municipalities(["376"]))
    s.upsert_businesses([business("10000004"), business("10000020", name="Andet ApS")])
    s.upsert_networks([network("net", members=["10000004"])])
    yield s
    s.close()


def _get(store: Store, headers: dict[str, str] | None = None):
    req = HttpRequest(
        path="/municipalities/376/map-data", params={}, headers=headers or {}, base_url="http://t"
    )
    return widget.map_data(store, req, "376")


def test_a_304_builds_no_body(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _get(store)
    assert first.status == 200
    etag = first.headers["ETag"]

    def never(*args, **kwargs):
        raise AssertionError("built for a 304")

    monkeypatch.setattr(widget, "build_map_data", never)
    monkeypatch.setattr(widget, "parse_features", never)
    again = _get(store, {"if-none-match": etag})
    assert again.status == 304 and again.body == b"" and again.headers["ETag"] == etag


def test_the_etag_follows_businesses_networks_and_tiles(store: Store) -> None:
    etag = _get(store).headers["ETag"]
    assert _get(store).headers["ETag"] == etag
    store.upsert_businesses([business("10000020", name="Nyt navn ApS")])
    renamed = _get(store)
    assert renamed.headers["ETag"] != etag
    assert "Nyt navn ApS" in [row[4] for row in orjson.loads(renamed.body)["businesses"]]
    store.upsert_networks(
        [
            network(
                "net", name="Omdøbt", members=["10000004"], meeting_place=Point(lon=11.9, lat=54.8)
            )
        ]
    )
    moved = _get(store)
    assert moved.headers["ETag"] != renamed.headers["ETag"]
    assert orjson.loads(moved.body)["networks"][0]["name"] == "Omdøbt"
    assert _get(store, {"if-none-match": etag}).status == 200


def test_pages_of_businesses_are_all_in_the_answer(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(widget, "PAGE", 1)
    ids = [row[0] for row in orjson.loads(_get(store).body)["businesses"]]
    assert ids == ["10000004", "10000020"]
