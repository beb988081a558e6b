"""Many clients at once never get each other's answers.

Admins, anonymous callers and callers with a wrong key run side by side against the real route
table and a real store: every answer must be the one its own request asked for (its identity,
its path, its query; a map tile holds the one business its own filter names). First 100,000
requests straight into the embedded server's WSGI app from 16 threads, then 10,000 over HTTP
through `mikrokort serve` (loopback, bounded).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import mapbox_vector_tile
import orjson
import pytest
import requests

from chalicelib.config import Settings
from chalicelib.curation import auth
from chalicelib.domain.models import Curation
from chalicelib.routes import ROUTES
from chalicelib.services import Services
from chalicelib.store import open_store
from chalicelib.web.wsgi import WsgiApp
from tests.conftest import start_server
from tests.conftest import wsgi_call as call
from tests.factories import business, cvr_number

BUSINESSES = 40
# every factory business stands on one point: the tiles holding it at a point and a cluster zoom
POINT_TILE, CLUSTER_TILE = "16/20801/34929", "8/81/136"


@dataclass
class World:
    settings: Settings
    key: str
    cvrs: list[str]
    hidden: set[str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("concurrency")
    settings = Settings(
        store_url=f"sqlite:///{folder / 'm.db'}",
        blobs_url=f"file:///{folder / 'blobs'}",
        rate_limit_per_minute=10**9,
        rate_limit_burst=10**9,
    )
    store = open_store(settings.store_url)
    store.create_table()
    cvrs = [cvr_number(n) for n in range(BUSINESSES)]
    store.upsert_businesses([business(c, name=f"Firma {c} ApS") for c in cvrs])
    hidden = set(cvrs[::4])
    for c in hidden:  # hidden on request: only an admin may see them
        store.curate_business(c, Curation(hidden=True), store.business_version(c))
    key = auth.create_key(store, "concurrency test", ["admin"])
    store.close()
    yield World(settings, key, cvrs, hidden)


def _checks(w: World) -> list[tuple[str, Callable[[int], tuple[str, dict[str, str], str]]]]:
    """Request makers: (kind, n -> (path, headers, query)) and what each answer must be."""
    return [
        (
            "admin",
            lambda n: (f"/admin/businesses/{w.cvrs[n % BUSINESSES]}", {"X_API_KEY": w.key}, ""),
        ),
        ("anonymous", lambda n: (f"/admin/businesses/{w.cvrs[n % BUSINESSES]}", {}, "")),
        (
            "wrong key",
            lambda n: (f"/admin/businesses/{w.cvrs[n % BUSINESSES]}", {"X_API_KEY": "mk_x_y"}, ""),
        ),
        ("item", lambda n: (f"/collections/businesses/items/{w.cvrs[n % BUSINESSES]}", {}, "")),
        ("page", lambda n: ("/collections/businesses/items", {}, f"limit={1 + n % 25}")),
        (
            "tile",
            lambda n: (
                "/collections/businesses/tiles/WebMercatorQuad/"
                + (POINT_TILE if n % 2 else CLUSTER_TILE),
                {},
                f"q={w.cvrs[n % BUSINESSES]}",
            ),
        ),
    ]


def _verdict(w: World, kind: str, n: int, status: int, body: bytes) -> str | None:
    """None when the answer is the one this request asked for; otherwise what went wrong."""
    cvr = w.cvrs[n % BUSINESSES]
    if kind == "admin":
        if status != 200 or orjson.loads(body)["id"] != cvr:
            return f"admin {cvr}: {status} {body[:80]!r}"
    elif kind in ("anonymous", "wrong key"):
        if status != 401 or cvr.encode() in body:
            return f"{kind} {cvr}: {status} {body[:80]!r}"
    elif kind == "item":
        expected = 404 if cvr in w.hidden else 200
        if status != expected or (status == 200 and orjson.loads(body)["id"] != cvr):
            return f"item {cvr}: {status} {body[:80]!r}"
    elif kind == "tile":  # the tile of this request's filter: its own business, or none
        if status != 200:
            return f"tile {cvr}: {status} {body[:80]!r}"
        found = (mapbox_vector_tile.decode(body) or {}).get("businesses", {}).get("features", [])
        want = 0 if cvr in w.hidden else 1
        if n % 2:
            ids = [f["properties"]["id"] for f in found]
            if ids != ([cvr] if want else []):
                return f"tile {cvr}: points {ids}"
        elif sum(f["properties"]["count"] for f in found) != want:
            return f"tile {cvr}: clusters {[f['properties'] for f in found]}"
    else:
        doc = orjson.loads(body)
        limit = 1 + n % 25
        self_link = next(link["href"] for link in doc["links"] if link["rel"] == "self")
        if status != 200 or doc["numberReturned"] != limit or f"limit={limit}" not in self_link:
            return f"page limit={limit}: {status} {doc.get('numberReturned')} {self_link}"
    return None


def _run(threads: int, per_thread: int, one: Callable[[int, int], str | None]) -> list[str]:
    errors: list[str] = []

    def client(t: int) -> None:
        for i in range(per_thread):
            problem = one(t, i)
            if problem:
                errors.append(problem)

    pool = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return errors


def test_100000_requests_in_parallel_each_get_their_own_answer(world: World) -> None:
    app = WsgiApp(ROUTES, Services(world.settings))
    checks = _checks(world)

    def one(t: int, i: int) -> str | None:
        n = t * 7919 + i
        kind, make = checks[n % len(checks)]
        path, headers, query = make(n)
        r = call(app, "GET", path, query, **headers)
        return _verdict(world, kind, n, r["status"], r["body"])

    errors = _run(16, 6_250, one)
    assert errors == [], f"{len(errors)} of 100,000 answers were someone else's: {errors[:5]}"


def test_10000_requests_over_http_each_get_their_own_answer(world: World) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIKROKORT_")}
    env.update(
        {
            "MIKROKORT_STORE": world.settings.store_url,
            "MIKROKORT_BLOBS": world.settings.blobs_url,
            "MIKROKORT_RATE_LIMIT": "1000000000",
            "MIKROKORT_RATE_BURST": "1000000000",
        }
    )
    proc, url = start_server(env)  # 8 threads, as a deployment runs it
    try:
        checks = _checks(world)
        sessions = [requests.Session() for _ in range(16)]

        def one(t: int, i: int) -> str | None:
            n = t * 7919 + i
            kind, make = checks[n % len(checks)]
            path, headers, query = make(n)
            http_headers = {k.replace("_", "-"): v for k, v in headers.items()}
            r = sessions[t].get(f"{url}{path}?{query}", headers=http_headers, timeout=30)
            return _verdict(world, kind, n, r.status_code, r.content)

        errors = _run(16, 625, one)
        assert errors == [], f"{len(errors)} of 10,000 answers were someone else's: {errors[:5]}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
