"""A tile's cluster counts (Store.cluster_cells) equal a count of the items the same selection
returns, cell by cell and section by section, on every adapter: after a load, after a refresh
that moves businesses and changes their industry, and after people hide, show, move or reveal
a business. On SQLite the counts of the whole collection and of the map's filters (municipality,
status, section) come from a pyramid its triggers keep, other selections' from SQL; schema-3
and schema-4 files get theirs on the first open."""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import orjson
import pytest

from chalicelib.demo.generate import generate_businesses
from chalicelib.domain.models import Business, Curation, Point
from chalicelib.store import FeatureQuery, Store, open_store
from chalicelib.store.sqlite import SCHEMA_VERSION
from tests.conftest import ADAPTERS, fresh_store

ZOOMS = (3, 8, 11, 15)  # a country's tile, a region's, a town's, a city block's


def _features(store: Store, q: FeatureQuery) -> list[dict]:
    out: list[dict] = []
    q = q.model_copy(update={"limit": 10_000})
    while True:
        page = store.query("businesses", q)
        out += [f for f in map(orjson.loads, page.features) if f["geometry"] is not None]
        if page.next_after is None:
            return out
        q = q.model_copy(update={"after": page.next_after})


def _place(lon: float, lat: float, z: int) -> tuple[float, float]:
    """The point in tile units at zoom z (Web Mercator, from the top left), computed here."""
    s = math.sin(math.radians(lat))
    n = 1 << z
    return (lon + 180.0) / 360.0 * n, (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n


def _expected(features: list[dict], z: int) -> dict[tuple[int, int], Counter]:
    """(row, column) -> Counter of (cell, section) from the features themselves."""
    tiles: dict[tuple[int, int], Counter] = {}
    for f in features:
        fx, fy = _place(*f["geometry"]["coordinates"][:2], z + 3)
        cx, cy = math.floor(fx), math.floor(fy)
        cell = (cy % 8) * 8 + cx % 8
        section = f["properties"].get("industry_section") or ""
        tiles.setdefault((cy // 8, cx // 8), Counter())[(cell, section)] += 1
    return tiles


def _assert_cells_match_items(store: Store, q: FeatureQuery | None = None) -> None:
    q = q or FeatureQuery()
    features = _features(store, q)
    assert features, q
    for z in ZOOMS:
        want = _expected(features, z)
        for (y, x), counts in want.items():
            cells = store.cluster_cells(q, z, y, x)
            got = Counter({(c.cell, s): n for c in cells for s, n in c.sections.items()})
            assert got == counts, (q, z, y, x)
            for c in cells:
                assert c.count == sum(c.sections.values())
                # the mean place lies in its cell
                side = 1 << (32 - z - 3)
                col, row = (c.sum_wx / c.count) // side, (c.sum_wy / c.count) // side
                assert (row % 8) * 8 + col % 8 == c.cell and (row // 8, col // 8) == (y, x)
        assert sum(sum(c.values()) for c in want.values()) == len(features)
        empty = next((y, x) for y in range(1 << z) for x in range(1 << z) if (y, x) not in want)
        assert store.cluster_cells(q, z, *empty) == []


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = fresh_store(request, request.param, tmp_path)
    yield s
    s.close()


def _sample() -> list[Business]:
    """Demo businesses, some hidden, and some without a size group (as many real ones are)."""
    out = []
    for i, b in enumerate(generate_businesses(400, seed=11)):
        if i % 41 == 3:
            b = b.model_copy(update={"curated": Curation(hidden=True)})
        if i % 5 == 1:
            b = b.model_copy(update={"employees": None})
        out.append(b)
    return out


def _moved(b: Business, i: int) -> Business:
    """What a refresh brings: a new address a few km off, and another industry."""
    assert b.location is not None
    where = Point(lon=b.location.lon + 0.03 * (i % 5 - 2), lat=b.location.lat - 0.02 * (i % 3))
    update: dict = {"location": where, "industry_code": "620100" if i % 2 else "433200"}
    if i % 4 == 1:  # moved across the municipal border, or ceased
        update["municipality"] = "390" if b.municipality == "376" else "376"
    if i % 4 == 2:  # a closed firm comes back, an open one closes
        closed = b.status == "active"
        update["status"] = "ceased" if closed else "active"
        update["ceased"] = date(2026, 6, 30) if closed else None
    return Business.model_validate({**b.model_dump(), **update})


def test_cluster_cells_follow_loads_refreshes_and_curation(store: Store) -> None:
    sample = _sample()
    store.upsert_businesses(sample)
    _assert_cells_match_items(store)

    placed = [b for b in sample if b.location is not None]
    store.upsert_businesses([_moved(b, i) for i, b in enumerate(placed[::3])])
    _assert_cells_match_items(store)

    hidden_before = [b.id for b in sample if b.curated.hidden]
    for cvr in hidden_before[:3]:
        store.curate_business(cvr, Curation())  # shown again
    for b in placed[1:60:7]:
        store.curate_business(b.id, Curation(hidden=True))
    for b in placed[2:60:7]:
        store.curate_business(b.id, Curation(show_address=True))  # the exact point, if any
    for b in placed[4:60:7]:
        assert b.location is not None
        fix = Point(lon=b.location.lon + 0.2, lat=b.location.lat + 0.1)
        store.curate_business(b.id, Curation(location=fix))
    _assert_cells_match_items(store)


@pytest.mark.parametrize(
    "q",
    [
        FeatureQuery(industry="F"),
        FeatureQuery(status="ceased"),
        FeatureQuery(municipality="390"),
        FeatureQuery(municipality="376", status="active", industry="G"),
        FeatureQuery(industry="43"),
        FeatureQuery(filter=["in", "employees", ["2-4", "5-9"]]),
        FeatureQuery(bbox=(11.5, 54.6, 12.0, 54.9)),
        FeatureQuery(industry="433200"),
        FeatureQuery(industry="4332", municipality="376", status="active"),
        FeatureQuery(industry="43", bbox=(11.5, 54.6, 12.0, 54.9)),
        FeatureQuery(sizes=("", "0", "1", "2-4", "5-9")),
        FeatureQuery(municipality="376", status="active", industry="G", sizes=("10-19", "")),
        FeatureQuery(industry="4332", sizes=("0", "1")),
    ],
    ids=[
        "section",
        "status",
        "municipality",
        "map-filters",
        "code",
        "cql",
        "bbox",
        "6-digit code",
        "code and map filters",
        "code in a box",
        "sizes",
        "map filters and sizes",
        "code and sizes",
    ],
)
def test_filtered_cluster_cells_count_the_selection(store: Store, q: FeatureQuery) -> None:
    store.upsert_businesses(_sample())
    _assert_cells_match_items(store, q)


def test_the_map_filters_follow_refreshes(store: Store) -> None:
    """The pyramid's municipality, status and section follow a refresh that changes them."""
    sample = _sample()
    store.upsert_businesses(sample)
    placed = [b for b in sample if b.location is not None]
    store.upsert_businesses([_moved(b, i) for i, b in enumerate(placed[::2])])
    for q in (
        FeatureQuery(municipality="376"),
        FeatureQuery(municipality="390", status="ceased"),
        FeatureQuery(status="active", industry="J"),
    ):
        _assert_cells_match_items(store, q)


def test_a_schema_3_file_gets_its_pyramid_on_first_open(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    store = open_store(f"sqlite:///{path}")
    store.upsert_businesses(_sample())
    before = _features(store, FeatureQuery())
    store.close()
    with sqlite3.connect(path) as db:  # as the previous version left it
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%cells%'"
        ).fetchall():
            db.execute(f"DROP TRIGGER {name}")
        db.execute("DROP TABLE business_cells")
        db.execute("DROP TABLE cell_levels")
        db.execute("DROP INDEX businesses_industry_map")  # schema 7 has it, on wx and wy
        db.execute("ALTER TABLE businesses DROP COLUMN employees")
        db.execute("ALTER TABLE businesses DROP COLUMN wx")
        db.execute("ALTER TABLE businesses DROP COLUMN wy")
        db.execute("PRAGMA user_version = 3")

    upgraded = open_store(f"sqlite:///{path}")
    assert _features(upgraded, FeatureQuery()) == before
    _assert_cells_match_items(upgraded)
    upgraded.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_schema_4_file_counts_its_pyramid_per_municipality_on_first_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v4.db"
    store = open_store(f"sqlite:///{path}")
    sample = _sample()
    store.upsert_businesses(sample[:300])
    store.close()
    with sqlite3.connect(path) as db:  # the pyramid as schema 4 kept it: per section only
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%cells%'"
        ).fetchall():
            db.execute(f"DROP TRIGGER {name}")
        db.execute("DROP TABLE business_cells")
        db.execute("DROP INDEX businesses_industry_map")
        db.execute("ALTER TABLE businesses DROP COLUMN employees")
        db.execute(
            "CREATE TABLE business_cells (level INTEGER NOT NULL, ty INTEGER NOT NULL, "
            "tx INTEGER NOT NULL, cell INTEGER NOT NULL, section TEXT NOT NULL, "
            "n INTEGER NOT NULL, sx INTEGER NOT NULL, sy INTEGER NOT NULL, "
            "PRIMARY KEY (level, ty, tx, cell, section)) WITHOUT ROWID"
        )
        db.execute(
            "CREATE TRIGGER businesses_cells_insert AFTER INSERT ON businesses BEGIN "
            "INSERT INTO business_cells VALUES (3, 0, 0, 0, '', 1, 0, 0) "
            "ON CONFLICT DO UPDATE SET n = n + 1; END"
        )
        db.execute("PRAGMA user_version = 4")

    upgraded = open_store(f"sqlite:///{path}")
    for q in (FeatureQuery(), FeatureQuery(municipality="376", status="active")):
        _assert_cells_match_items(upgraded, q)
    upgraded.upsert_businesses(sample[300:])  # the new triggers keep it from here
    _assert_cells_match_items(upgraded, FeatureQuery(municipality="390"))
    upgraded.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7


def test_a_schema_6_file_counts_its_pyramid_by_size_on_first_open(tmp_path: Path) -> None:
    """Schema 6 had no size column and a pyramid without sizes: the first open reads every
    business's size group from its document and counts the pyramid again with it."""
    path = tmp_path / "v6.db"
    store = open_store(f"sqlite:///{path}")
    store.upsert_businesses(_sample())
    store.close()
    with sqlite3.connect(path) as db:  # as schema 6 left it
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%cells%'"
        ).fetchall():
            db.execute(f"DROP TRIGGER {name}")
        db.execute("DROP TABLE business_cells")
        db.execute("DROP INDEX businesses_industry_map")
        db.execute("ALTER TABLE businesses DROP COLUMN employees")
        db.execute(
            "CREATE TABLE business_cells (level INTEGER NOT NULL, ty INTEGER NOT NULL, "
            "tx INTEGER NOT NULL, cell INTEGER NOT NULL, municipality TEXT NOT NULL, "
            "status TEXT NOT NULL, section TEXT NOT NULL, n INTEGER NOT NULL, "
            "sx INTEGER NOT NULL, sy INTEGER NOT NULL, "
            "PRIMARY KEY (level, ty, tx, cell, municipality, status, section)) WITHOUT ROWID"
        )
        db.execute(
            "CREATE INDEX businesses_industry_place ON businesses("
            "industry_code, hidden, wx, wy, industry_section, municipality, status)"
        )
        db.execute("PRAGMA user_version = 6")

    upgraded = open_store(f"sqlite:///{path}")
    micro = ("", "0", "1", "2-4", "5-9")
    for q in (FeatureQuery(sizes=micro), FeatureQuery(municipality="376", sizes=("10-19",))):
        assert upgraded.counts_cells_cheaply(q, 8)
        _assert_cells_match_items(upgraded, q)
    sizes = Counter(
        f["properties"].get("employees") or "" for f in _features(upgraded, FeatureQuery())
    )
    assert len(sizes) > 3  # the sample holds several groups, and businesses without one
    for group, n in sizes.items():
        q = FeatureQuery(sizes=(group,))
        assert sum(c.count for c in upgraded.cluster_cells(q, 0, 0, 0)) == n
    upgraded.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert "businesses_industry_map" in indexes and "businesses_industry_place" not in indexes
