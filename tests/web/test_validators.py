"""Cheap cache hits: the store's change token moves on every write and only then, and the
cacheable routes make their ETag from it before reading anything, so a 304 costs one read; a
store without a token still validates from the data, and a changed store never answers 304."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from chalicelib.domain.models import Curation
from chalicelib.domain.reference import load_municipalities
from chalicelib.features.service import FeaturesService
from chalicelib.mapwidget import widget
from chalicelib.store import open_store
from chalicelib.store.sqlite import SQLiteStore
from chalicelib.web.http import HttpRequest, HttpResponse
from tests.conftest import ADAPTERS, fresh_store
from tests.factories import business, cvr_number, network

# A network with an area: the networks collection lists only those (the rest are meeting places).
AREA = {
    "type": "Polygon",
    "coordinates": [[[11.8, 54.7], [11.9, 54.7], [11.9, 54.8], [11.8, 54.7]]],
}

READS = ("query", "get_feature", "extent", "get_business", "get_network")


class CountingStore(SQLiteStore):
    """The SQLite store, noting which reads it was asked for (the reads run as always)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.reads: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        if name in READS:
            object.__getattribute__(self, "reads").append(name)
        return object.__getattribute__(self, name)


class TokenlessStore(CountingStore):
    """The same store as an adapter without a change token sees it (as DynamoDB's)."""

    def change_token(self) -> str | None:
        return None


def _seed(path: Path) -> None:
    s = open_store(f"sqlite:///{path}")
    s.upsert_municipalities(load_municipalities(["376"]))
    s.upsert_businesses([business(cvr_number(n), name=f"Firma {n}") for n in range(30)])
    s.upsert_networks([network("net", members=[cvr_number(1), cvr_number(2)], area=AREA)])
    s.close()


@pytest.fixture(params=[CountingStore, TokenlessStore], ids=["token", "tokenless"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CountingStore]:
    _seed(tmp_path / "m.db")
    s = request.param(str(tmp_path / "m.db"))
    yield s
    s.close()


def _req(path: str, params: dict[str, str] | None = None, **headers: str) -> HttpRequest:
    return HttpRequest(
        path=path,
        params={k: [v] for k, v in (params or {}).items()},
        headers={k.replace("_", "-"): v for k, v in headers.items()},
        base_url="http://kort.example.dk",
    )


def _routes(store: CountingStore) -> dict[str, Any]:
    """Each cacheable route over the store: name -> a call taking extra request headers."""
    service = FeaturesService(store)
    one = cvr_number(3)
    return {
        "map-data": lambda **h: widget.map_data(store, _req("/m", **h), "376"),
        "items": lambda **h: service.items(_req("/i", {"limit": "10"}, **h), "businesses"),
        "networks": lambda **h: service.items(_req("/n", **h), "networks"),
        "item": lambda **h: service.item(_req("/f", **h), "businesses", one),
        "collections": lambda **h: service.collections(_req("/c", **h)),
        "collection": lambda **h: service.collection(_req("/c1", **h), "businesses"),
    }


ROUTES = ["map-data", "items", "networks", "item", "collections", "collection"]


@pytest.mark.parametrize("route", ROUTES)
def test_a_revalidation_at_an_unchanged_store_is_a_304(store: CountingStore, route: str) -> None:
    call = _routes(store)[route]
    first: HttpResponse = call()
    assert first.status == 200 and first.body
    store.reads.clear()
    again: HttpResponse = call(if_none_match=first.headers["ETag"])
    assert again.status == 304 and again.body == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    if isinstance(store, TokenlessStore):
        assert store.reads  # validated from the data it read
    else:
        assert store.reads == []  # the token alone: nothing else was read


@pytest.mark.parametrize("route", ROUTES)
def test_after_a_write_the_old_tag_gets_the_new_answer(store: CountingStore, route: str) -> None:
    call = _routes(store)[route]
    first: HttpResponse = call()
    store.upsert_businesses([business(cvr_number(3), name="Omdøbt ApS")])
    store.upsert_networks([network("net", name="Nyt navn", members=[cvr_number(1)], area=AREA)])
    after: HttpResponse = call(if_none_match=first.headers["ETag"])
    if route in ("map-data", "items", "networks", "item"):  # answers that show the change
        assert after.status == 200 and after.body != first.body
    elif isinstance(store, TokenlessStore):  # the extents did not move: the same body
        assert after.status == 304
        return
    assert after.status == 200 and after.headers["ETag"] != first.headers["ETag"]


def test_map_data_follows_a_write_by_another_process(tmp_path: Path) -> None:
    _seed(tmp_path / "m.db")
    server = CountingStore(str(tmp_path / "m.db"))
    first = widget.map_data(server, _req("/m"), "376")
    other = open_store(f"sqlite:///{tmp_path / 'm.db'}")  # another connection, as a job's
    other.upsert_businesses([business(cvr_number(4), name="Fra natkørslen ApS")])
    other.close()
    after = widget.map_data(server, _req("/m", if_none_match=first.headers["ETag"]), "376")
    assert after.status == 200
    assert "Fra natkørslen ApS" in [row[4] for row in orjson.loads(after.body)["businesses"]]
    server.close()


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_the_change_token_moves_on_every_write_and_only_then(
    request: pytest.FixtureRequest, adapter: str, tmp_path: Path
) -> None:
    s = fresh_store(request, adapter, tmp_path)
    if adapter == "dynamodb":
        s.settle_s = 0  # type: ignore[attr-defined]  # the settled token at once (see below)
    seen = [s.change_token()]

    def moved() -> bool:
        seen.append(s.change_token())
        return seen[-1] != seen[-2]

    s.upsert_municipalities(load_municipalities(["376"]))
    assert moved()
    s.upsert_municipalities(load_municipalities(["376"]))
    assert not moved()  # the same content: nothing written
    s.upsert_businesses([business(cvr_number(1))])
    assert moved()
    s.upsert_businesses([business(cvr_number(1))])
    assert not moved()
    s.upsert_businesses([business(cvr_number(1), name="Nyt navn ApS")])
    assert moved()
    s.upsert_networks([network("net", members=[cvr_number(1)])])
    assert moved()
    digest = s.network_digest("net")
    s.delete_network("net", digest)
    assert moved()
    s.put_records("notes", {"a": {"n": 1}})  # operational records are not public data
    assert not moved()
    b = business(cvr_number(1), name="Nyt navn ApS")
    s.curate_business(b.id, Curation(hidden=True))  # hidden on request
    assert moved()
    assert len(set(seen)) == 7
    s.close()
    if adapter == "sqlite":
        fresh = open_store(f"sqlite:///{tmp_path / 'other.db'}")
        assert fresh.change_token() not in seen  # a new database does not repeat old tokens
        fresh.close()


def test_no_dynamodb_token_while_the_indexes_catch_up(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The GSIs lag the table: for a while after a write there is no token, so answers are
    tagged from what they read and a token's tag only ever names data the indexes show."""
    s = fresh_store(request, "dynamodb", tmp_path)
    assert s.change_token() is None  # no write yet: answers validate from their data
    s.upsert_businesses([business(cvr_number(2))])
    assert s.change_token() is None  # just written: the indexes may not show it yet
    s.settle_s = 0  # type: ignore[attr-defined]  # they have caught up
    settled = s.change_token()
    assert settled is not None and settled.startswith("dynamodb-")
    s.upsert_businesses([business(cvr_number(3))])
    assert s.change_token() not in (None, settled)
    s.settle_s = 60  # type: ignore[attr-defined]
    assert s.change_token() is None
    s.close()
