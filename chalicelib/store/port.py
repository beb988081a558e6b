"""The Store port: the types and the protocol every store adapter implements, and the readers
written once on top of it. The adapters import this module, never the package, so opening an
adapter by URL (chalicelib.store.open_store) closes no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal, Protocol

import orjson
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from chalicelib.domain.models import Business, Curation, Municipality, Network

CollectionId = Literal["businesses", "networks", "network-meeting-places", "municipalities"]
COLLECTIONS: tuple[CollectionId, ...] = (
    "businesses",
    "networks",
    "network-meeting-places",
    "municipalities",
)


class FeatureQuery(BaseModel):
    """One typed query for a collection's items: every filter the OGC API offers."""

    model_config = ConfigDict(frozen=True)

    bbox: tuple[float, float, float, float] | None = None
    municipality: str | None = None
    industry: str | None = None  # a section letter or a prefix of the 6-digit code
    network: str | None = None
    status: Literal["active", "ceased"] | None = None
    # size groups (models.EMPLOYEE_GROUPS; NO_SIZE_GROUP for a business without one), `size`
    sizes: tuple[str, ...] | None = None
    q: str | None = None
    founded_from: date | None = None  # founded on or after (the welcome feed, `datetime`)
    founded_to: date | None = None  # founded on or before (`datetime`)
    # a checked filter (chalicelib.domain.filters) on the public properties, from CQL2
    filter: list[Any] | None = None
    # `sortby`: (property, descending) pairs; None is each store's own order (by id)
    sortby: tuple[tuple[str, bool], ...] | None = None
    limit: int = Field(default=100, ge=1, le=10_000)
    after: str | None = None  # keyset position: the last id (or sort position) of the last page

    def filters(self) -> dict[str, object]:
        """The selection without paging: what a cursor must stay bound to."""
        return self.model_dump(exclude={"limit", "after"}, exclude_none=True, mode="json")


@dataclass
class FeaturePage:
    features: list[bytes]  # GeoJSON Feature documents, privacy rules applied
    next_after: str | None  # keyset position of the next page, None on the last page
    number_matched: int | None = None
    validator: str | None = None  # changes whenever a feature of the page changes (for ETags)


CLUSTER_GRID_BITS = 3  # a tile's cluster grid is 2^3 = 8 cells a side
# A public business feature in a tile, with its integer Web Mercator world coordinates
TilePoint = tuple[dict[str, Any], int, int]


@dataclass
class ClusterCell:
    """The public businesses of a selection in one cell of a tile's 8 x 8 cluster grid.

    Sums rather than a mean, in Web Mercator world units (chalicelib.domain.geo), so cells
    can be added up and kept up to date by increments: the map draws the cluster at the mean.
    """

    cell: int  # row * 8 + column within the tile, 0 to 63 from the top left
    count: int
    sum_wx: int
    sum_wy: int
    sections: dict[str, int]  # industry section ('' where unknown) -> businesses


@dataclass
class Extent:
    bbox: tuple[float, float, float, float] | None
    interval: tuple[str | None, str | None] | None = None


@dataclass
class WriteResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: list[str] = field(default_factory=list)

    def __iadd__(self, other: WriteResult) -> WriteResult:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.ids.extend(other.ids)
        return self


@dataclass(frozen=True)
class Record:
    """An operational record (an audit entry) that lands in the same transaction as the write
    it describes, so the log can never say something the store does not hold, nor miss a write.

    `build` gets the state the write replaced and the state it wrote (None for absent), both as
    read inside the transaction, and returns the record's document. Without a `key` the store
    names it by the time of the write, taken inside the transaction (or for each attempt of a
    retried conditional write), so the log lists writes to one thing in the order they landed.
    """

    kind: str
    build: Callable[[Any, Any], dict[str, Any]]
    key: str | None = None


@dataclass(frozen=True)
class Counter:
    """A counter changed by `delta` together with a `write_records` call; with `cap`, the whole
    call is refused (LimitReached) when the counter would pass it. Counters live beside the
    records of `kind` and read back as `{"n": value}`. `seed` is the value an absent counter
    starts from (the queue's length before counters existed)."""

    kind: str
    key: str
    delta: int = 1
    cap: int | None = None
    seed: int = 0


class LimitReached(Exception):
    """A `Counter` of `write_records` would have passed its cap: nothing was written."""

    def __init__(self, counter: Counter) -> None:
        super().__init__(f"{counter.kind}/{counter.key} is at its cap of {counter.cap}")
        self.counter = counter


class Store(Protocol):
    """Persistence of businesses, networks and municipalities, with public feature queries."""

    def query(
        self, collection: CollectionId, q: FeatureQuery, *, count: bool = False
    ) -> FeaturePage:
        """A page of public features in id order; `count` asks for numberMatched too."""
        ...

    def get_feature(self, collection: CollectionId, feature_id: str) -> bytes | None:
        """One public feature, or None when absent or hidden."""
        ...

    def extent(self, collection: CollectionId) -> Extent: ...

    def cluster_cells(self, q: FeatureQuery, z: int, y: int, x: int) -> list[ClusterCell]:
        """The selection's public businesses in Web Mercator tile (z, y, x), counted per cell
        of its 8 x 8 grid (the cells of zoom z + 3), empty cells left out. A business belongs
        to the tile its world coordinates fall in, so it is counted in exactly one tile."""
        ...

    def tile_points(
        self, q: FeatureQuery, z: int, y: int, x: int, at_most: int
    ) -> list[TilePoint] | None:
        """The selection's public businesses in tile (z, y, x) (by their world coordinates, as
        `cluster_cells` counts them), parsed, with those coordinates, in id order; None when the
        tile holds more than `at_most` of them: it is then clustered, and no more is read."""
        ...

    def counts_cells_cheaply(self, q: FeatureQuery, z: int) -> bool:
        """Whether `cluster_cells` of this selection at zoom z reads kept counts (a few rows)
        rather than the selection's features: the tile service then counts a street-zoom tile
        before it decides between points and clusters, instead of reading its points first."""
        ...

    def change_token(self) -> str | None:
        """A short text that changes whenever a business, network or municipality is written
        (by any process), read in one cheap query; None when the adapter keeps none.

        Routes build their ETags from it before reading anything, so a revalidation costs one
        read instead of the whole answer. Read it before the data: an answer may then be newer
        than its tag (which costs a client one more download), never older."""
        ...

    def upsert_businesses(self, businesses: Iterable[Business]) -> WriteResult:
        """Insert or update by CVR number; an unchanged business is not rewritten.

        Curated fields of an existing business are kept: they belong to people, not the register.
        """
        ...

    def get_business(self, business_id: str) -> Business | None: ...

    def get_business_versioned(self, business_id: str) -> tuple[Business, int] | None:
        """A business and its version from one read (the body and its ETag agree)."""
        ...

    def curate_business(
        self,
        business_id: str,
        curation: Curation,
        expected_version: int | None = None,
        *,
        record: Record | None = None,
    ) -> int:
        """Replace a business's curated fields; returns the new version.

        With `expected_version`, a write against another version raises Conflict (no lost
        update); without it, a concurrent change is re-read and the curation applied on top.
        The register fields are those stored when the write lands, never an older copy.
        `record` (built from the business before and after) is written in the same transaction.
        """
        ...

    def get_businesses(self, business_ids: Iterable[str]) -> dict[str, Business]:
        """The stored businesses among these ids (absent ones are left out), in one round."""
        ...

    def upsert_networks(self, networks: Iterable[Network]) -> WriteResult: ...

    def get_network(self, network_id: str) -> Network | None: ...

    def network_digest(self, network_id: str) -> str | None:
        """The content digest of a stored network (its ETag), or None when absent."""
        ...

    def get_network_versioned(self, network_id: str) -> tuple[Network, str] | None:
        """A network and its digest (its ETag) from one read."""
        ...

    def put_network(
        self,
        network: Network,
        if_match: str | None,
        *,
        create: bool = False,
        record: Record | None = None,
    ) -> str:
        """Write one network only over the state read: `create` refuses an existing id
        (Conflict); `if_match` refuses a network changed since (PreconditionFailed). Returns
        the new digest. `record` (built from the network before and after) lands with it."""
        ...

    def delete_network(
        self, network_id: str, if_match: str | None, *, record: Record | None = None
    ) -> None: ...

    def business_version(self, business_id: str) -> int | None:
        """The stored version of a business (for ETags and curation), None when absent."""
        ...

    def upsert_municipalities(self, municipalities: Iterable[Municipality]) -> WriteResult: ...

    # Small operational records beside the data: job state and checkpoints, run reports,
    # quarantined documents, the geocoding cache. `kind` names a family, `key` a record in it;
    # listing is by key order, so keys that start with a timestamp list chronologically.

    def put_records(self, kind: str, records: dict[str, dict[str, Any]]) -> None: ...

    def get_records(self, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]: ...

    def list_records(
        self, kind: str, *, limit: int = 100, newest_first: bool = False
    ) -> list[tuple[str, dict[str, Any]]]: ...

    def delete_records(self, kind: str, keys: Iterable[str]) -> None: ...

    def write_records(
        self,
        puts: dict[str, dict[str, dict[str, Any]]] | None = None,
        *,
        deletes: dict[str, list[str]] | None = None,
        counters: Iterable[Counter] = (),
        expect: tuple[str, str, str, Any] | None = None,
    ) -> None:
        """Records put and deleted (by kind) and counters moved, all or nothing.

        A counter that would pass its cap raises LimitReached; `expect` = (kind, key, field,
        value) raises Conflict unless that stored record's field has that value (a record that
        is put under `expect` must carry the field at its top level). Nothing is written then.
        """
        ...

    def create_table(self) -> bool:
        """Create what the store needs (tables, indexes); False when it exists already."""
        ...

    def close(self) -> None: ...


PUBLIC_PAGE = 5000  # features per query when reading a whole selection


def iter_public_pages(
    store: Store,
    collection: CollectionId,
    query: FeatureQuery | None = None,
    *,
    page_size: int = PUBLIC_PAGE,
) -> Iterator[list[bytes]]:
    """Every public feature of a selection, a page at a time, in the store's paging order.

    Memory stays bounded by one page, and a caller that has read enough stops early: the next
    page is only queried when it is asked for.
    """
    q = (query or FeatureQuery()).model_copy(update={"limit": page_size})
    while True:
        page = store.query(collection, q)
        yield page.features
        if page.next_after is None:
            return
        q = q.model_copy(update={"after": page.next_after})


def iter_public_features(
    store: Store,
    collection: CollectionId,
    query: FeatureQuery | None = None,
    *,
    page_size: int = PUBLIC_PAGE,
) -> Iterator[bytes]:
    """Every public feature of a selection (GeoJSON documents), one at a time."""
    for page in iter_public_pages(store, collection, query, page_size=page_size):
        yield from page


def parse_features(features: list[bytes]) -> list[dict[str, Any]]:
    """A page of GeoJSON feature documents parsed in one call of the joined array: several
    times faster than one parse per feature."""
    return orjson.loads(b"[" + b",".join(features) + b"]") if features else []


def load_public_features(
    store: Store, collection: CollectionId, query: FeatureQuery | None = None
) -> list[dict[str, Any]]:
    """Every public feature of a selection, parsed: for the small collections."""
    return [orjson.loads(f) for f in iter_public_features(store, collection, query)]
