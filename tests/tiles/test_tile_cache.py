"""Drawn tiles are kept in the blob folder under the store's change token and served from there
until the next write, which draws them again from the new data; stale generations are removed;
a cache that fails costs nothing but the copy; a store without a token gets no cached tile."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import pytest

from chalicelib.blobs.local import LocalBlobs
from chalicelib.domain.models import Curation, Point
from chalicelib.store import Store, open_store
from chalicelib.tiles.cache import PREFIX, STALE_AFTER_S, TileCache
from chalicelib.tiles.service import TilesService
from chalicelib.web.http import HttpRequest, HttpResponse
from tests.conftest import fresh_store
from tests.factories import business, cvr_number

Z = 14
HERE = Point(lon=11.8729, lat=54.7691)  # Nykøbing Falster


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    s = math.sin(math.radians(lat))
    n = 1 << z
    row = math.floor((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n)
    return row, math.floor((lon + 180.0) / 360.0 * n)


ROW, COL = _tile_of(HERE.lon, HERE.lat, Z)


def _get(service: TilesService, **params: str) -> HttpResponse:
    req = HttpRequest(
        path=f"/collections/businesses/tiles/WebMercatorQuad/{Z}/{ROW}/{COL}",
        params={k: [v] for k, v in params.items()},
        headers={},
        base_url="http://127.0.0.1",
    )
    return service.tile(req, "businesses", "WebMercatorQuad", str(Z), str(ROW), str(COL))


def _ids(resp: HttpResponse) -> list[str]:
    assert resp.status == 200, resp.body
    layers = mapbox_vector_tile.decode(resp.body)
    return sorted(f["properties"]["id"] for f in layers.get("businesses", {}).get("features", []))


def _cached_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / PREFIX).rglob("*.mvt"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    yield s
    s.close()


def test_a_drawn_tile_is_served_from_the_cache_until_the_next_write(
    store: Store, tmp_path: Path
) -> None:
    root = tmp_path / "blobs"
    service = TilesService(store, TileCache(LocalBlobs(str(root))))
    store.upsert_businesses([business(cvr_number(1), location=HERE)])
    first = _get(service)
    assert _ids(first) == [cvr_number(1)]
    (kept,) = _cached_files(root)
    assert kept.read_bytes() == first.body
    token = store.change_token()
    assert kept.parent.name == token

    # the next request reads the kept copy: what the file holds is what is served
    marked = mapbox_vector_tile.encode(
        [
            {
                "name": "businesses",
                "features": [{"geometry": "POINT(1 1)", "properties": {"id": "x"}}],
            }
        ]
    )
    kept.write_bytes(marked)
    again = _get(service)
    assert again.body == marked and again.headers["ETag"] == first.headers["ETag"]

    # a filter is another tile, another copy
    assert _ids(_get(service, municipality="376")) == [cvr_number(1)]
    assert len(_cached_files(root)) == 2

    # a write gives the store a new token: the tile is drawn again, with the new business
    store.upsert_businesses([business(cvr_number(2), location=HERE, name="Ny Firma ApS")])
    assert store.change_token() != token
    fresh = _get(service)
    assert _ids(fresh) == [cvr_number(1), cvr_number(2)]
    assert fresh.headers["ETag"] != first.headers["ETag"]
    assert {p.parent.name for p in _cached_files(root)} == {token, store.change_token()}

    # so does a hide: the hidden business leaves the tile at once
    store.curate_business(cvr_number(2), Curation(hidden=True))
    assert _ids(_get(service)) == [cvr_number(1)]


def test_stale_generations_are_removed_and_recent_ones_kept(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    stale, recent = root / PREFIX / "sqlite-1", root / PREFIX / "sqlite-2"
    for folder in (stale, recent):
        folder.mkdir(parents=True)
        (folder / "a.mvt").write_bytes(b"old")
    long_ago = time.time() - STALE_AFTER_S - 60
    os.utime(stale, (long_ago, long_ago))
    store.upsert_businesses([business(cvr_number(1), location=HERE)])
    service = TilesService(store, TileCache(LocalBlobs(str(root))))
    assert _ids(_get(service)) == [cvr_number(1)]
    assert not stale.exists()
    assert (recent / "a.mvt").read_bytes() == b"old"  # another process may still write there
    assert (root / PREFIX / str(store.change_token())).is_dir()


def test_a_cache_that_fails_costs_only_the_copy(store: Store, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "blobs"
    not_a_folder.write_text("a file where the folder should be")
    service = TilesService(store, TileCache(LocalBlobs(str(not_a_folder))))
    store.upsert_businesses([business(cvr_number(1), location=HERE)])
    assert _ids(_get(service)) == [cvr_number(1)]
    store.upsert_businesses([business(cvr_number(2), location=HERE)])
    assert _ids(_get(service)) == [cvr_number(1), cvr_number(2)]


def test_a_store_without_a_token_gets_no_cached_tile(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """DynamoDB has no token for a few seconds after a write (its indexes catch up): a tile
    drawn then is not kept, as it might miss what was just written."""
    dynamo = fresh_store(request, "dynamodb", tmp_path)
    root = tmp_path / "blobs"
    service = TilesService(dynamo, TileCache(LocalBlobs(str(root))))
    dynamo.upsert_businesses([business(cvr_number(1), location=HERE)])
    assert dynamo.change_token() is None
    assert _get(service).status == 200
    assert _cached_files(root) == []


def test_the_cache_keeps_tiles_in_a_bucket(
    aws_env: dict[str, str], store: Store, tmp_path: Path
) -> None:
    """On AWS the same cache writes into the open-data bucket, under the prefix its lifecycle
    rule expires and the API function's policy allows (tests/infra)."""
    import uuid

    from chalicelib.blobs.s3 import S3Blobs

    blobs = S3Blobs(f"tiles-{uuid.uuid4().hex[:12]}")
    blobs.create_bucket()
    service = TilesService(store, TileCache(blobs))
    store.upsert_businesses([business(cvr_number(1), location=HERE)])
    first = _get(service)
    assert _ids(first) == [cvr_number(1)]
    (kept,) = blobs.list(PREFIX)
    assert kept.key.startswith(f"{PREFIX}{store.change_token()}/") and kept.key.endswith(".mvt")
    assert blobs.get(kept.key) == first.body
    store.upsert_businesses([business(cvr_number(2), location=HERE)])
    assert _ids(_get(service)) == [cvr_number(1), cvr_number(2)]
    assert len(blobs.list(PREFIX)) == 2


def test_an_empty_cached_file_is_drawn_again(store: Store, tmp_path: Path) -> None:
    """What a machine's crash can leave of a copy written without waiting for the disk."""
    root = tmp_path / "blobs"
    service = TilesService(store, TileCache(LocalBlobs(str(root))))
    store.upsert_businesses([business(cvr_number(1), location=HERE)])
    first = _get(service)
    (kept,) = _cached_files(root)
    kept.write_bytes(b"")
    again = _get(service)
    assert again.body == first.body and _ids(again) == [cvr_number(1)]


def test_readers_beside_a_writer_never_get_a_tile_of_an_older_state(
    store: Store, tmp_path: Path
) -> None:
    """8 threads ask for the tile while another hides and shows a business in it, 40 times.
    An answer whose request ran entirely within one state (no write began or ended during it)
    must show that state: a tile kept from before a hide is never served after it."""
    import threading

    service = TilesService(store, TileCache(LocalBlobs(str(tmp_path / "blobs"))))
    store.upsert_businesses([business(cvr_number(1), location=HERE), business(cvr_number(2))])
    both, one = [cvr_number(1), cvr_number(2)], [cvr_number(1)]
    state = {"phase": 0, "writing": False}  # even phase: both visible; odd: the second hidden
    lock = threading.Lock()
    problems: list[str] = []
    checked: set[int] = set()  # the phases in which a settled answer was checked
    done = threading.Event()

    def writer() -> None:
        for i in range(40):
            with lock:
                state["writing"] = True
            store.curate_business(cvr_number(2), Curation(hidden=i % 2 == 0))
            with lock:
                state["phase"] += 1
                state["writing"] = False
                phase = state["phase"]
            # the next write waits for a reader to have checked this state (on a busy machine
            # the readers may otherwise never see a phase settle)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                with lock:
                    if phase in checked:
                        break
                time.sleep(0.001)
        done.set()

    def reader() -> None:
        while not done.is_set():
            with lock:
                before, busy = state["phase"], state["writing"]
            ids = _ids(_get(service))
            with lock:
                settled = not busy and not state["writing"] and state["phase"] == before
            if settled:
                with lock:
                    checked.add(before)
                want = both if before % 2 == 0 else one
                if ids != want:
                    problems.append(f"phase {before}: {ids}")

    threads = [threading.Thread(target=reader) for _ in range(8)]
    threads.append(threading.Thread(target=writer))
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not problems, problems[:5]
    assert len(checked) >= 40  # the check ran in (nearly) every phase


def test_what_is_kept_is_bounded(store: Store, tmp_path: Path) -> None:
    """Only closed-set filters are kept (not a free-text search, a date, CQL2), and at most so
    many tiles per generation: requests for ever new tiles cannot fill the disk."""
    root = tmp_path / "blobs"
    service = TilesService(store, TileCache(LocalBlobs(str(root)), max_per_generation=2))
    store.upsert_businesses([business(cvr_number(1), location=HERE)])
    text, dates = {"q": "testfirma"}, {"datetime": "2015-01-01/.."}
    drawn_each_time = (text, dates, {"filter": "employees='2-4'"})
    for params in drawn_each_time:
        assert _ids(_get(service, **params)) == [cvr_number(1)]
    assert _cached_files(root) == []
    for params in ({}, {"industry": "F"}, {"municipality": "376"}):
        assert _ids(_get(service, **params)) == [cvr_number(1)]
    assert len(_cached_files(root)) == 2  # the third was drawn, not kept
    assert _ids(_get(service, municipality="376")) == [cvr_number(1)]
    store.upsert_businesses([business(cvr_number(2), location=HERE)])  # a new generation
    assert _ids(_get(service, municipality="376")) == [cvr_number(1), cvr_number(2)]
    assert len(_cached_files(root)) == 3
