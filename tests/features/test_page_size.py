"""Every answer fits what API Gateway and Lambda can return: an items page stops at a byte
budget as well as at `limit`, and goes on with `next`; HEAD is answered wherever GET is."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import orjson
import pytest
from chalice.test import Client

from chalicelib.config import Settings
from chalicelib.domain.reference import load_municipalities
from chalicelib.store import open_store
from tests.factories import business, cvr_number

BUDGET = 40_000


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    import app as application

    folder = tmp_path_factory.mktemp("pages")
    settings = Settings(store_url=f"sqlite:///{folder / 'm.db'}", page_max_bytes=BUDGET)
    store = open_store(settings.store_url)
    store.create_table()
    store.upsert_businesses(
        [business(cvr_number(n), name=f"Firma {n:04d} " + "ø" * (n % 40)) for n in range(400)]
    )
    store.upsert_municipalities(load_municipalities(("376", "390")))
    store.close()
    application.configure(settings)
    with Client(application.app) as c:
        yield c
    application.configure()


def _walk(client: Client, path: str) -> list[dict]:
    pages = []
    while path:
        r = client.http.get(path)
        assert r.status_code == 200, r.body[:200]
        assert len(r.body) <= BUDGET
        doc = orjson.loads(r.body)
        pages.append(doc)
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        path = nxt[0].split("://", 1)[1].split("/", 1)[1] if nxt else ""
        path = "/" + path if path else ""
    return pages


def test_a_large_limit_is_cut_by_bytes_and_every_feature_comes_once(client: Client) -> None:
    pages = _walk(client, "/collections/businesses/items?limit=10000")
    ids = [f["id"] for p in pages for f in p["features"]]
    assert len(pages) > 1  # 400 businesses do not fit in 40 KB
    assert len(ids) == len(set(ids)) == 400
    assert {p["numberMatched"] for p in pages} == {400}
    assert all(p["numberReturned"] == len(p["features"]) for p in pages)


def test_a_feature_larger_than_the_budget_still_comes_alone(client: Client) -> None:
    r = client.http.get("/collections/municipalities/items?limit=10")
    doc = orjson.loads(r.body)
    assert r.status_code == 200 and doc["numberReturned"] == 1  # a DAGI boundary is big
    pages = _walk_loose(client, "/collections/municipalities/items?limit=10")
    assert sorted(f["id"] for p in pages for f in p["features"]) == ["0376", "0390"]


def _walk_loose(client: Client, path: str) -> list[dict]:
    pages = []
    while path:
        doc = orjson.loads(client.http.get(path).body)
        pages.append(doc)
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        path = "/" + nxt[0].split("://", 1)[1].split("/", 1)[1] if nxt else ""
    return pages


@pytest.mark.parametrize(
    "path", ["/", "/collections/businesses/items?limit=3", "/collections/municipalities/items/376"]
)
def test_head_is_answered_wherever_get_is(client: Client, path: str) -> None:
    get = client.http.get(path)
    head = client.http.request("HEAD", path)
    assert head.status_code == get.status_code == 200
    assert head.body in (b"", None) and head.headers["ETag"] == get.headers["ETag"]


def _next_limit(doc: dict) -> str | None:
    hrefs = [link["href"] for link in doc["links"] if link["rel"] == "next"]
    return parse_qs(urlparse(hrefs[0]).query)["limit"][0] if hrefs else None


GDAL_36 = {"User-Agent": "GDAL/3.6.2"}


@pytest.mark.parametrize("agent", [GDAL_36, {}], ids=["GDAL/3.6.2", "no User-Agent"])
def test_gdal_before_3_8_gets_its_ten_then_pages_of_a_thousand(
    client: Client, agent: dict[str, str]
) -> None:
    """GDAL 3.6 asks for limit=10 whatever the API says and follows `next` as written;
    Debian 12's sends no User-Agent at all."""
    first = client.http.get("/collections/businesses/items?limit=10", headers=agent)
    doc = orjson.loads(first.body)
    assert doc["numberReturned"] == 10  # the limit asked for is kept on this page
    assert _next_limit(doc) == "1000"
    assert first.headers["Vary"].startswith("Accept, User-Agent")
    ids, path = [f["id"] for f in doc["features"]], _path_of_next(doc)
    while path:
        page = orjson.loads(client.http.get(path, headers=agent).body)
        assert page["numberReturned"] > 10 or _next_limit(page) is None
        ids += [f["id"] for f in page["features"]]
        path = _path_of_next(page)
    assert len(ids) == len(set(ids)) == 400


@pytest.mark.parametrize(
    ("path", "agent", "want"),
    [
        ("/collections/businesses/items?limit=10", "Mozilla/5.0", "10"),
        ("/collections/businesses/items?limit=10", "GDAL/3.12.1", "10"),  # reads /api itself
        ("/collections/businesses/items?limit=20", "GDAL/3.6.2", "20"),  # a limit of its own
    ],
)
def test_every_other_client_gets_its_own_limit_back(
    client: Client, path: str, agent: str, want: str
) -> None:
    r = client.http.get(path, headers={"User-Agent": agent})
    assert _next_limit(orjson.loads(r.body)) == want


def test_the_answers_that_differ_by_agent_have_different_tags(client: Client) -> None:
    path = "/collections/businesses/items?limit=10"
    gdal = client.http.get(path, headers=GDAL_36)
    browser = client.http.get(path, headers={"User-Agent": "Mozilla/5.0"})
    assert gdal.headers["ETag"] != browser.headers["ETag"]
    again = client.http.get(path, headers={**GDAL_36, "If-None-Match": browser.headers["ETag"]})
    assert again.status_code == 200  # the browser's copy is not GDAL's
    other = client.http.get("/collections/businesses/items?limit=20", headers=GDAL_36)
    assert "User-Agent" not in other.headers["Vary"]  # varies only where it may


def _path_of_next(doc: dict) -> str:
    hrefs = [link["href"] for link in doc["links"] if link["rel"] == "next"]
    return "/" + hrefs[0].split("://", 1)[1].split("/", 1)[1] if hrefs else ""
