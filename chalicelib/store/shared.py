"""What every Store adapter shares: the rules that do not depend on the database.

An adapter stores documents and answers business queries with its own indexes; whether a
feature matches a query, how an upsert is counted, how numberMatched is found, and how the small
collections (networks, municipalities) are filtered, paged and bounded is decided here once, so
the adapters cannot drift apart.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel

from chalicelib.domain import filters
from chalicelib.domain.geo import (
    WORLD_BITS,
    BBox,
    bbox_intersection,
    geometry_bounds,
    geometry_intersects_bbox,
    tile_bounds,
    web_mercator_world,
)
from chalicelib.domain.models import NO_SIZE_GROUP, is_cvr_number
from chalicelib.domain.public import internal_code, public_code, split
from chalicelib.domain.text import search_fold
from chalicelib.store.port import (
    CLUSTER_GRID_BITS,
    PUBLIC_PAGE,
    ClusterCell,
    CollectionId,
    Counter,
    Extent,
    FeaturePage,
    FeatureQuery,
    Record,
    TilePoint,
    WriteResult,
)

if TYPE_CHECKING:
    from chalicelib.domain.models import Municipality, Network
    from chalicelib.store.port import Store

# The API accepts these filters on every collection; networks and municipalities have no such
# properties, so there they select everything.
_BUSINESS_ONLY = ("industry", "status", "sizes", "network", "founded_from", "founded_to")


# -- documents and upserts ---------------------------------------------------------------------


def content_digest(model: BaseModel) -> str:
    """What identifies a stored document's state: everything but the time it was written.

    Equal digests mean an upsert changes nothing (no write, same version) in every adapter.
    """
    data = model.model_dump_json(exclude={"updated_at"}).encode()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def count_upsert(
    result: WriteResult, doc_id: str, digest: str, stored: tuple[int, str] | None
) -> int | None:
    """Count one upserted document; returns the version to write, or None when unchanged.

    `stored` is the (version, content digest) found in the store, None for a new document.
    """
    if stored is not None and stored[1] == digest:
        result.unchanged += 1
        return None
    result.ids.append(doc_id)
    if stored is None:
        result.inserted += 1
        return 1
    result.updated += 1
    return stored[0] + 1


def time_key() -> str:
    """A record key that sorts by time (microseconds), unique by a random tail."""
    now = datetime.now(UTC)
    return f"{now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}-{secrets.token_hex(3)}"


def record_item(record: Record, before: Any, after: Any) -> tuple[str, dict[str, Any]]:
    """The key and document of a record written with a change (named now when it has no key)."""
    return record.key or time_key(), record.build(before, after)


def counter_value(counter: Counter, current: int | None) -> int:
    """The value `counter` moves to from `current` (None: absent); LimitReached past its cap."""
    from chalicelib.store.port import LimitReached

    value = (counter.seed if current is None else current) + counter.delta
    if counter.cap is not None and counter.delta > 0 and value > counter.cap:
        raise LimitReached(counter)
    return value


def check_precondition(
    network_id: str, current: str | None, if_match: str | None, create: bool
) -> None:
    """Create-only writes need absence; others need presence and, with If-Match, the digest."""
    from chalicelib.domain.errors import Conflict, NotFound, PreconditionFailed

    if create:
        if current is not None:
            raise Conflict(f"network {network_id} exists already")
        return
    if current is None:
        raise NotFound(f"no network {network_id}")
    if if_match is not None and if_match != current:
        raise PreconditionFailed(
            f"network {network_id} has changed since it was read (If-Match does not match)"
        )


# -- queries -----------------------------------------------------------------------------------


def feature_matches(feature: dict[str, Any], q: FeatureQuery) -> bool:
    """Whether a public feature is in the selection of `q` (paging aside).

    The one reading of FeatureQuery's filters in Python. The SQLite adapter's WHERE clause and
    the DynamoDB adapter's FilterExpression say the same in their own languages, because those
    filters must run inside the database; the contract tests hold all three to one answer.
    """
    props = feature["properties"]
    if q.bbox is not None:
        geometry = feature.get("geometry")
        if geometry is None:
            return False
        minx, miny, maxx, maxy = geometry_bounds(geometry)
        b = q.bbox
        if minx > b[2] or maxx < b[0] or miny > b[3] or maxy < b[1]:
            return False
        if not geometry_intersects_bbox(geometry, b):
            return False
    if q.municipality is not None:
        if "municipalities" in props:
            codes = split(props["municipalities"])
        else:
            codes = [props.get("municipality", props.get("kommunekode")) or ""]
        if q.municipality not in [internal_code(c) for c in codes if c]:
            return False
    if q.industry is not None:
        if q.industry.isalpha():
            if props.get("industry_section") != q.industry:
                return False
        elif not (props.get("industry_code") or "").startswith(q.industry):
            return False
    if q.status is not None and props.get("status") != q.status:
        return False
    if q.sizes is not None and (props.get("employees") or NO_SIZE_GROUP) not in q.sizes:
        return False
    if q.network is not None and q.network not in split(props.get("networks")):
        return False
    if q.founded_from is not None and (props.get("founded") or "") < q.founded_from.isoformat():
        return False
    if q.founded_to is not None and (props.get("founded") or "9") > q.founded_to.isoformat():
        return False
    if q.filter is not None and not filters.matches(feature, q.filter):
        return False
    return q.q is None or search_fold(q.q) in search_fold(props.get("name") or "")


def size_filter(sizes: tuple[str, ...]) -> list[Any]:
    """FeatureQuery.sizes as a checked filter on the public `employees` (NO_SIZE_GROUP: none),
    for an adapter that tests them on the features it read (DynamoDB keeps no size index)."""
    groups = [g for g in sizes if g != NO_SIZE_GROUP]
    terms: list[list[Any]] = [["in", "employees", groups]] if groups else []
    if NO_SIZE_GROUP in sizes:
        terms.append(["null", "employees"])
    if not terms:
        return ["const", False]
    return terms[0] if len(terms) == 1 else ["or", *terms]


def number_matched(
    q: FeatureQuery,
    returned: int,
    more: bool,
    *,
    visible: Callable[[], int],
    selected: Callable[[], int | None],
) -> int | None:
    """numberMatched of a page, by the cheapest exact means.

    A first page that holds the whole selection counts itself; an unfiltered query is the
    number of visible businesses (a counter every adapter keeps); otherwise the adapter counts
    the selection (`selected`), which may give up (None) where counting would cost too much.
    """
    if q.after is None and not more:
        return returned
    if not q.filters():
        return visible()
    return selected()


# -- the small collections ---------------------------------------------------------------------
# They hold tens to a few hundred features, so every adapter reads them whole and filters here.


def select_small(features: list[dict[str, Any]], q: FeatureQuery, *, count: bool) -> FeaturePage:
    """Filter features (already public) by the query, in id order, one page after `q.after`."""
    q = q.model_copy(update=dict.fromkeys(_BUSINESS_ONLY))
    matched = [f for f in sorted(features, key=lambda f: str(f["id"])) if feature_matches(f, q)]
    start = 0
    if q.after is not None:
        start = next((i for i, f in enumerate(matched) if str(f["id"]) > q.after), len(matched))
    page = matched[start : start + q.limit]
    more = start + q.limit < len(matched)
    return FeaturePage(
        features=[orjson.dumps(f) for f in page],
        next_after=str(page[-1]["id"]) if more and page else None,
        number_matched=len(matched) if count else None,
    )


def small_extent(features: Iterable[dict[str, Any]]) -> Extent:
    """The bounding box of a small collection's features (None when none has a geometry)."""
    bounds = [geometry_bounds(f["geometry"]) for f in features if f.get("geometry")]
    if not bounds:
        return Extent(bbox=None)
    return Extent(
        bbox=(
            min(b[0] for b in bounds),
            min(b[1] for b in bounds),
            max(b[2] for b in bounds),
            max(b[3] for b in bounds),
        )
    )


def public_municipalities(docs: Iterable[bytes | str]) -> list[dict[str, Any]]:
    """The public features of stored municipality documents."""
    from chalicelib.domain.models import STORED, Municipality
    from chalicelib.domain.privacy import public_municipality

    return [public_municipality(Municipality.model_validate_json(d, context=STORED)) for d in docs]


def public_networks(networks: Iterable[Network], hidden: set[str]) -> list[dict[str, Any]]:
    """The public features of networks; members hidden from the public are left out."""
    from chalicelib.domain.privacy import public_network

    return [public_network(n, [m for m in n.members if m not in hidden]) for n in networks]


SORT_MAX = 20_000  # a sorted selection is read whole: a municipality's firms, not a country's


class StoreBase:
    """Adapters implement the business queries and list the small collections' features."""

    def query(
        self, collection: CollectionId, q: FeatureQuery, *, count: bool = False
    ) -> FeaturePage:
        if q.sortby:
            return self._sorted(collection, q, count)
        if collection == "businesses":
            return self._query_businesses(q, count)
        return select_small(self._collection_features(collection), q, count=count)

    def _sorted(self, collection: CollectionId, q: FeatureQuery, count: bool) -> FeaturePage:
        """A page of the selection in `sortby` order: the selection is read whole in the
        store's own order (at most SORT_MAX features), sorted, and cut after `q.after`."""
        from chalicelib.domain.errors import InvalidParameter
        from chalicelib.domain.sorting import page_after, sort_features

        assert q.sortby
        unsorted = q.model_copy(update={"sortby": None, "after": None, "limit": 10_000})
        features: list[dict[str, Any]] = []
        stored: dict[str, bytes] = {}  # the page goes out as the store gave it, not re-encoded
        while True:
            part = self.query(collection, unsorted)
            for raw in part.features:
                feature = orjson.loads(raw)
                features.append(feature)
                stored[str(feature["id"])] = raw
            if len(features) > SORT_MAX:
                raise InvalidParameter(
                    f"sortby orders at most {SORT_MAX:,} features and this selection holds "
                    "more: add a bbox, a municipality or a filter",
                    parameter="sortby",
                )
            if part.next_after is None:
                break
            unsorted = unsorted.model_copy(update={"after": part.next_after})
        page, onward = page_after(sort_features(features, q.sortby), q.sortby, q.after, q.limit)
        return FeaturePage(
            features=[stored[str(f["id"])] for f in page],
            next_after=onward,
            number_matched=len(features) if count else None,
        )

    def get_feature(self, collection: CollectionId, feature_id: str) -> bytes | None:
        if collection == "businesses":
            if not (is_cvr_number(feature_id)):
                return None
            return self._business_feature(feature_id)
        if collection == "municipalities" and feature_id.isascii() and feature_id.isdigit():
            feature_id = public_code(feature_id[-3:])  # 376 and 0376 name the same one
        for f in self._collection_features(collection):
            if f["id"] == feature_id:
                return orjson.dumps(f)
        return None

    def _collection_features(self, collection: CollectionId) -> list[dict[str, Any]]:
        """A small collection's public features; the meeting places are the networks'."""
        if collection == "network-meeting-places":
            from chalicelib.domain.privacy import meeting_place_feature

            places = (meeting_place_feature(f) for f in self._small_features("networks"))
            return [p for p in places if p is not None]
        return self._small_features(collection)

    def change_token(self) -> str | None:
        """None: no cheap store-wide version here; routes validate from the data they read."""
        return None

    def counts_cells_cheaply(self, q: FeatureQuery, z: int) -> bool:
        return False  # counted from the features: reading the points first costs less

    def cluster_cells(self, q: FeatureQuery, z: int, y: int, x: int) -> list[ClusterCell]:
        """Counted from the selection's features in the tile's box, read through the spatial
        index: the adapters without a kept pyramid of counts (DynamoDB) answer this way."""
        from chalicelib.store.port import iter_public_features

        box = tile_in_selection(q, z, y, x)
        if box is None:
            return []
        cells = CellCounts(z, y, x)
        query = q.model_copy(update={"bbox": box})
        for raw in iter_public_features(self, "businesses", query, page_size=10_000):
            f = orjson.loads(raw)
            if f["geometry"] is not None:
                lon, lat = f["geometry"]["coordinates"][:2]
                cells.add(*web_mercator_world(lon, lat), f["properties"].get("industry_section"))
        return cells.cells()

    def tile_points(
        self, q: FeatureQuery, z: int, y: int, x: int, at_most: int
    ) -> list[TilePoint] | None:
        return features_in_tile(self, "businesses", q, z, y, x, at_most)

    def _query_businesses(self, q: FeatureQuery, count: bool) -> FeaturePage:
        raise NotImplementedError

    def _business_feature(self, cvr: str) -> bytes | None:
        """The public feature of a visible business (the id is a well-formed CVR number)."""
        raise NotImplementedError

    def _small_features(self, collection: CollectionId) -> list[dict[str, Any]]:
        raise NotImplementedError


def keep_curated_municipality(m: Municipality, stored_doc: bytes | str | None) -> Municipality:
    """Reference data (name, boundary) never overwrites what people set: a municipality loaded
    without a business contact keeps the one stored. The admin API sets it explicitly."""
    if m.business_contact is not None or not stored_doc:
        return m
    stored = orjson.loads(stored_doc).get("business_contact")
    if not stored:
        return m
    from chalicelib.domain.models import MunicipalityContact

    return m.model_copy(update={"business_contact": MunicipalityContact.model_validate(stored)})


def features_in_tile(
    store: Store,
    collection: CollectionId,
    q: FeatureQuery,
    z: int,
    y: int,
    x: int,
    at_most: int | None = None,
) -> list[TilePoint] | None:
    """A collection's public point features in tile (z, y, x), with their world coordinates,
    through the selection's pages in the tile's box: those on the box's east or south edge
    belong to the next tile (the integer rule of `cluster_cells`). None past `at_most`, read a
    page of `at_most` + 1 at a time, so a crowded tile costs one page, never all of it."""
    from chalicelib.store.port import iter_public_pages, parse_features

    box = tile_in_selection(q, z, y, x)
    if box is None:
        return []
    shift = WORLD_BITS - z
    out: list[TilePoint] = []
    query = q.model_copy(update={"bbox": box})
    page_size = PUBLIC_PAGE if at_most is None else at_most + 1
    for page in iter_public_pages(store, collection, query, page_size=page_size):
        for f in parse_features(page):
            wx, wy = web_mercator_world(*f["geometry"]["coordinates"][:2])
            if wx >> shift == x and wy >> shift == y:
                out.append((f, wx, wy))
        if at_most is not None and len(out) > at_most:
            return None
    return out


def tile_in_selection(q: FeatureQuery, z: int, y: int, x: int) -> BBox | None:
    """The part of tile (z, y, x) the selection's own bbox leaves (None: none of it)."""
    box = tile_bounds(z, y, x)
    return box if q.bbox is None else bbox_intersection(box, q.bbox)


class CellCounts:
    """Businesses counted per cell of one tile's cluster grid, from their world coordinates;
    a point outside the tile (on the edge its box shares with the next one) is left out."""

    def __init__(self, z: int, y: int, x: int) -> None:
        self._tile_shift = WORLD_BITS - z
        self._cell_shift = self._tile_shift - CLUSTER_GRID_BITS
        self._tile = (x, y)
        self._cells: dict[int, ClusterCell] = {}

    def add(self, wx: int, wy: int, section: str | None) -> None:
        if (wx >> self._tile_shift, wy >> self._tile_shift) != self._tile:
            return
        side = (1 << CLUSTER_GRID_BITS) - 1
        key = ((wy >> self._cell_shift) & side) * (side + 1) + ((wx >> self._cell_shift) & side)
        self.add_counted(key, section or "", 1, wx, wy)

    def add_counted(self, key: int, section: str, n: int, sum_wx: int, sum_wy: int) -> None:
        """Businesses already counted together (a row of a pyramid or of a GROUP BY)."""
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = ClusterCell(key, 0, 0, 0, {})
        cell.count += n
        cell.sum_wx += sum_wx
        cell.sum_wy += sum_wy
        cell.sections[section] = cell.sections.get(section, 0) + n

    def cells(self) -> list[ClusterCell]:
        return [self._cells[k] for k in sorted(self._cells)]
