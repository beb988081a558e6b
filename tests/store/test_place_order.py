"""The SQLite store keeps the businesses in the order of their place (schema 6): the rowid is the
quadkey of the public point's zoom-18 tile, then the CVR number. Checked against a quadkey
computed here the way the tile scheme's documentation spells it (one base-4 digit per zoom),
through moves, hides and the upgrade of a schema-5 file, whose rows were keyed by CVR."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import orjson

from chalicelib.demo.generate import generate_businesses
from chalicelib.domain.geo import quadkey, web_mercator_world
from chalicelib.domain.models import Business, Curation, Point
from chalicelib.store import FeatureQuery, Store, open_store
from chalicelib.store.sqlite import _SCHEMA, SCHEMA_VERSION, _statements
from tests.factories import business, cvr_number


def _digits_quadkey(lon: float, lat: float, zoom: int) -> int:
    """The tile's quadkey from its x and y, digit by digit from zoom 1 down (as in the Bing
    tile system's description), read as a base-4 number."""
    n = 1 << zoom
    s = math.sin(math.radians(lat))
    x = int((lon + 180.0) / 360.0 * n)
    y = int((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n)
    digits = ""
    for i in range(zoom, 0, -1):
        mask = 1 << (i - 1)
        digits += str((1 if x & mask else 0) + (2 if y & mask else 0))
    return int(digits, 4)


def _stored(path: Path) -> list[tuple[int, int, float | None, float | None]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT rowid, cvr, lon, lat FROM businesses ORDER BY rowid").fetchall()


def _bbox_ids(store: Store, box: tuple[float, float, float, float]) -> list[str]:
    page = store.query("businesses", FeatureQuery(bbox=box, limit=10_000))
    return [orjson.loads(f)["id"] for f in page.features]


def test_quadkey_matches_the_digit_by_digit_definition() -> None:
    for lon, lat in [(11.8729, 54.7691), (12.5683, 55.6761), (-70.1, -33.4), (179.9, 84.9)]:
        for zoom in (1, 5, 12, 18):
            assert quadkey(*web_mercator_world(lon, lat), zoom) == _digits_quadkey(lon, lat, zoom)
    # a tile of a lower zoom is one range of the keys below it
    parent = quadkey(*web_mercator_world(12.5683, 55.6761), 10)
    child = quadkey(*web_mercator_world(12.5683, 55.6761), 18)
    assert child >> 16 == parent


def test_rows_lie_in_the_order_of_their_place_and_ids_stay_the_cvr_numbers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.db"
    store = open_store(f"sqlite:///{path}")
    sample = generate_businesses(300, seed=5)
    store.upsert_businesses(reversed(sample))  # written against the CVR order
    rows = _stored(path)
    assert len(rows) == len(sample)
    keys = [_digits_quadkey(lon, lat, 18) if lon is not None else -1 for _, _, lon, lat in rows]
    assert keys == sorted(keys)
    for rowid, cvr, _, _ in rows:
        assert rowid & ((1 << 27) - 1) == cvr
    # the API's order and ids are the CVR numbers, as before
    page = store.query("businesses", FeatureQuery(limit=1000))
    ids = [orjson.loads(f)["id"] for f in page.features]
    public = sorted(b.id for b in sample if b.public)
    assert ids == public
    store.close()


def test_a_business_that_moves_is_found_at_its_new_place_only(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    store = open_store(f"sqlite:///{path}")
    here, there = Point(lon=11.8729, lat=54.7691), Point(lon=12.5683, lat=55.6761)
    near_here = (11.86, 54.76, 11.89, 54.78)
    near_there = (12.55, 55.66, 12.58, 55.69)
    store.upsert_businesses([business(cvr_number(1), location=here), business(cvr_number(2))])
    assert _bbox_ids(store, near_here) == [cvr_number(1), cvr_number(2)]
    store.upsert_businesses([business(cvr_number(1), location=there, address="Nyhavn 1")])
    assert _bbox_ids(store, near_here) == [cvr_number(2)]
    assert _bbox_ids(store, near_there) == [cvr_number(1)]
    store.curate_business(cvr_number(1), Curation(hidden=True))
    assert _bbox_ids(store, near_there) == []
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM businesses_rtree").fetchone()[0] == 1
        assert (
            db.execute(
                "SELECT count(*) FROM businesses_rtree r JOIN businesses b ON b.place = r.id"
            ).fetchone()[0]
            == 1
        )
    store.close()


def _as_schema_5(path: Path) -> None:
    """The file as schema 5 left it: rows keyed by CVR number, the R*Tree's ids CVR numbers,
    the indexes and triggers on that table."""
    columns = (
        "cvr, municipality, industry_code, industry_section, status, founded, ceased, "
        "name_fold, lon, lat, hidden, version, content_hash, feature, wx, wy"
    )
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE old (cvr INTEGER PRIMARY KEY, municipality TEXT, industry_code TEXT, "
            "industry_section TEXT, status TEXT NOT NULL, founded TEXT, ceased TEXT, "
            "name_fold TEXT NOT NULL, lon REAL, lat REAL, hidden INTEGER NOT NULL DEFAULT 0, "
            "version INTEGER NOT NULL, content_hash TEXT NOT NULL, feature BLOB, wx INTEGER, "
            "wy INTEGER)"
        )
        db.execute(f"INSERT INTO old ({columns}) SELECT {columns} FROM businesses ORDER BY cvr")
        db.execute("DROP TABLE businesses")
        db.execute("ALTER TABLE old RENAME TO businesses")
        for statement in _statements(_SCHEMA):  # its indexes and triggers, as schema 5 had
            if "employees" not in statement:  # schema 7's column, below
                db.execute(statement)
        db.execute("DELETE FROM businesses_rtree")
        db.execute(
            "INSERT INTO businesses_rtree SELECT cvr, lon, lon, lat, lat FROM businesses "
            "WHERE lon IS NOT NULL AND hidden = 0"
        )
        db.execute("PRAGMA user_version = 5")
        assert "place" not in {r[1] for r in db.execute("PRAGMA table_info(businesses)")}


def _moved(b: Business) -> Business:
    assert b.location is not None
    where = Point(lon=b.location.lon + 0.2, lat=b.location.lat + 0.1)
    return b.model_copy(update={"location": where, "address": "Ny Vej 1"})


def test_a_schema_5_file_is_ordered_by_place_on_first_open(tmp_path: Path) -> None:
    path = tmp_path / "v5.db"
    store = open_store(f"sqlite:///{path}")
    sample = [
        b.model_copy(update={"curated": Curation(hidden=True)}) if i % 37 == 5 else b
        for i, b in enumerate(generate_businesses(400, seed=17))
    ]
    store.upsert_businesses(sample)
    box = (11.0, 54.5, 12.2, 55.0)
    before = (
        store.query("businesses", FeatureQuery(limit=1000), count=True),
        _bbox_ids(store, box),
        store.cluster_cells(FeatureQuery(), 8, 80, 136),
    )
    store.close()
    _as_schema_5(path)

    upgraded = open_store(f"sqlite:///{path}")
    after = (
        upgraded.query("businesses", FeatureQuery(limit=1000), count=True),
        _bbox_ids(upgraded, box),
        upgraded.cluster_cells(FeatureQuery(), 8, 80, 136),
    )
    assert after[0].features == before[0].features
    assert after[0].number_matched == before[0].number_matched
    assert after[1] == before[1] and after[1]
    assert after[2] == before[2] and after[2]
    rows = _stored(path)
    keys = [_digits_quadkey(lon, lat, 18) if lon is not None else -1 for _, _, lon, lat in rows]
    assert keys == sorted(keys)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
        assert db.execute(
            "SELECT count(*) FROM businesses_rtree r JOIN businesses b ON b.place = r.id"
        ).fetchone()[0] == sum(1 for b in sample if b.public and b.location)
        triggers = {
            r[0] for r in db.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
        }
        assert "businesses" in triggers
    # the triggers are on the new table: a write moves the counts and the R*Tree
    mover = next(b for b in sample if b.public and b.location and b.status == "active")
    before_feature = upgraded.get_feature("businesses", mover.id) or b""
    upgraded.upsert_businesses([_moved(mover)])
    page = upgraded.query("businesses", FeatureQuery(limit=1000), count=True)
    assert page.number_matched == before[0].number_matched
    lon, lat = orjson.loads(upgraded.get_feature("businesses", mover.id) or b"")["geometry"][
        "coordinates"
    ]
    assert mover.id in _bbox_ids(upgraded, (lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001))
    old = orjson.loads(before_feature)["geometry"]["coordinates"]
    old_box = (old[0] - 0.001, old[1] - 0.001, old[0] + 0.001, old[1] + 0.001)
    assert mover.id not in _bbox_ids(upgraded, old_box)
    upgraded.close()
