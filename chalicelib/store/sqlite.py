"""The embedded Store: one SQLite file, an R*Tree spatial index, and pre-rendered features.

Each business row carries its public GeoJSON Feature, rendered at write time with the privacy
rules, and its public point in an R*Tree. A viewport query is then an index range scan plus a
string join: its cost follows the number of features it returns, not the size of the table.

Concurrency: the API, the import and the nightly refresh may be separate processes on one file,
so no Python lock can order their writes. Every read-modify-write runs in one `BEGIN IMMEDIATE`
transaction (SQLite's write lock, shared by every process; others wait up to the busy timeout),
and every read that takes more than one statement runs in one read transaction (a WAL
snapshot), so a page, an ETag and its body always describe one state.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import threading
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.domain.errors import Conflict, NotFound, StoreUnavailable
from chalicelib.domain.geo import (
    WORLD_BITS,
    BBox,
    bbox_area,
    bbox_intersection,
    quadkey,
    web_mercator_world,
)
from chalicelib.domain.models import is_cvr_number
from chalicelib.domain.text import search_fold
from chalicelib.store.port import (
    CLUSTER_GRID_BITS,
    ClusterCell,
    CollectionId,
    Counter,
    Extent,
    FeaturePage,
    FeatureQuery,
    Record,
    TilePoint,
    WriteResult,
    parse_features,
)
from chalicelib.store.shared import (
    CellCounts,
    StoreBase,
    check_precondition,
    content_digest,
    count_upsert,
    counter_value,
    keep_curated_municipality,
    number_matched,
    public_municipalities,
    public_networks,
    record_item,
    small_extent,
    tile_in_selection,
)
from chalicelib.store.sqlite_filters import ilike, in_utm32_box, point_intersects, where_clause

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from chalicelib.domain.models import Business, Curation, Municipality, Network

# 2: names folded for Danish spellings (text.search_fold); 3: flat public features (lists as
# text, four-digit kommunekoder), re-rendered from the documents on the first open; 4: world
# coordinates of the public point and the pyramid of cluster counts (business_cells); 5: the
# pyramid counts per municipality and status too; 6: the businesses stored in the order of
# their place (the rowid is the place key), the R*Tree's ids are those keys; 7: the size group
# of employees in a column of its own and in the pyramid's key (the map's size filter)
SCHEMA_VERSION = 7

# The businesses' columns. The rowid, `place`, is the quadkey of the zoom-18 tile (about 150 m)
# holding the public point, with the CVR number in its low 27 bits (8 digits < 2^27, so it is
# unique): the rows of one neighbourhood are neighbours in the table's B-tree, and a viewport's
# 1,000 rows lie on a few hundred adjacent pages, not on 1,000 pages spread over the file. That
# is what keeps a page of 1,000 features as fast at 1,000,000 businesses as at 100,000
# (docs/BENCHMARKS.md). The CVR number is a unique key of its own.
_BUSINESS_COLUMNS = """(
    place INTEGER PRIMARY KEY,
    cvr INTEGER NOT NULL UNIQUE,
    municipality TEXT,
    industry_code TEXT,
    industry_section TEXT,
    status TEXT NOT NULL,
    founded TEXT,
    ceased TEXT,
    name_fold TEXT NOT NULL,
    lon REAL,
    lat REAL,
    hidden INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    feature BLOB,
    wx INTEGER,
    wy INTEGER,
    employees TEXT
)"""
PLACE_ZOOM = 18
_CVR_BITS = 27
# The columns a business row holds besides its place key, in the order of _business_row (whose
# document goes to business_docs): what a write sets and what the schema-6 upgrade copies.
_ROW_COLUMN_NAMES = (
    "cvr",
    "municipality",
    "industry_code",
    "industry_section",
    "status",
    "founded",
    "ceased",
    "name_fold",
    "lon",
    "lat",
    "hidden",
    "version",
    "content_hash",
    "feature",
    "wx",
    "wy",
    "employees",
)
_ROW_COLUMNS = ", ".join(_ROW_COLUMN_NAMES)
_UPSERT_BUSINESS = (
    f"INSERT INTO businesses ({_ROW_COLUMNS}, place) "
    f"VALUES ({', '.join('?' * (len(_ROW_COLUMN_NAMES) + 1))}) ON CONFLICT(cvr) DO UPDATE SET "
    + ", ".join(f"{c}=excluded.{c}" for c in ("place", *_ROW_COLUMN_NAMES[1:]))
)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS businesses {_BUSINESS_COLUMNS};
CREATE TABLE IF NOT EXISTS business_docs (
    cvr INTEGER PRIMARY KEY,
    doc BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS businesses_municipality ON businesses(municipality, cvr);
-- By industry code, with what a cluster tile of a code counts (its place, section, and the map's
-- other filters): such a tile reads the code's entries of this index alone, not its rows.
DROP INDEX IF EXISTS businesses_industry;
DROP INDEX IF EXISTS businesses_industry_place;
CREATE INDEX IF NOT EXISTS businesses_industry_map ON businesses(
    industry_code, hidden, wx, wy, industry_section, municipality, status, employees);
CREATE INDEX IF NOT EXISTS businesses_section ON businesses(industry_section, cvr);
CREATE VIRTUAL TABLE IF NOT EXISTS businesses_rtree USING rtree(id, minx, maxx, miny, maxy);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters VALUES ('visible_businesses', 0);
CREATE TRIGGER IF NOT EXISTS businesses_count_insert AFTER INSERT ON businesses
    WHEN NEW.hidden = 0 BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'visible_businesses'; END;
CREATE TRIGGER IF NOT EXISTS businesses_count_delete AFTER DELETE ON businesses
    WHEN OLD.hidden = 0 BEGIN
    UPDATE counters SET value = value - 1 WHERE name = 'visible_businesses'; END;
CREATE TRIGGER IF NOT EXISTS businesses_count_update AFTER UPDATE OF hidden ON businesses
    WHEN OLD.hidden != NEW.hidden BEGIN
    UPDATE counters SET value = value + OLD.hidden - NEW.hidden WHERE name = 'visible_businesses';
    END;
-- The change token (Store.change_token): one counter that every write of a business, network
-- or municipality moves, whichever process or code path wrote it. It starts at a random value,
-- so a recreated database does not repeat the tokens, and so the ETags, of the one before.
-- Its triggers (<table>_changed_<event>) follow the tables, below.
INSERT OR IGNORE INTO counters VALUES ('changes', abs(random() % 4503599627370496));
CREATE TABLE IF NOT EXISTS networks (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    doc BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS network_members (
    network_id TEXT NOT NULL,
    cvr INTEGER NOT NULL,
    PRIMARY KEY (network_id, cvr)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS network_members_cvr ON network_members(cvr, network_id);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    doc BLOB NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS municipalities (
    kommunekode TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    doc BLOB NOT NULL,
    feature BLOB NOT NULL
);
-- The cluster pyramid: the visible businesses counted per cell of every cluster zoom's grid
-- (level = zoom + 3: a tile's 8 x 8 cells), per municipality, status, industry section and size
-- group of employees ('' for none), with
-- the sums of their world coordinates (wx, wy: chalicelib.domain.geo.web_mercator_world). A
-- cluster tile is then one key prefix (level, ty, tx) of at most 64 cells x the few
-- municipalities, statuses, sections and sizes in it, whatever the number of businesses, and so
-- is the tile of a municipality, a status, a section, sizes or any of them together: the map's
-- own filters.
-- Triggers keep it in the transaction of every write of a business, by whatever code path.
CREATE TABLE IF NOT EXISTS cell_levels (level INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS business_cells (
    level INTEGER NOT NULL,
    ty INTEGER NOT NULL,
    tx INTEGER NOT NULL,
    cell INTEGER NOT NULL,
    municipality TEXT NOT NULL,
    status TEXT NOT NULL,
    section TEXT NOT NULL,
    size TEXT NOT NULL,
    n INTEGER NOT NULL,
    sx INTEGER NOT NULL,
    sy INTEGER NOT NULL,
    PRIMARY KEY (level, ty, tx, cell, municipality, status, section, size)
) WITHOUT ROWID;
"""
# zooms 0 to 15: the cluster zooms of chalicelib.tiles.mvt, and the street zooms where a crowded
# tile is clustered too (a city centre up to zoom 15)
_CELL_LEVELS = range(3, 19)
_SCHEMA += "".join(
    f"INSERT OR IGNORE INTO cell_levels VALUES ({level});\n" for level in _CELL_LEVELS
)


def _cell_key(row: str) -> str:
    """The business_cells key of a business row (OLD or NEW) at each level of cell_levels."""
    return (
        f"level, {row}.wy >> (35 - level), {row}.wx >> (35 - level), "
        f"(({row}.wy >> (32 - level)) & 7) * 8 + (({row}.wx >> (32 - level)) & 7), "
        f"coalesce({row}.municipality, ''), {row}.status, coalesce({row}.industry_section, ''), "
        f"coalesce({row}.employees, '')"
    )


def place_key(wx: int | None, wy: int | None, cvr: int) -> int:
    """A business row's rowid (see _BUSINESS_COLUMNS); a business without a public point
    is placed before all others."""
    where = quadkey(wx, wy, PLACE_ZOOM) if wx is not None and wy is not None else 0
    return (where << _CVR_BITS) | cvr


_CELL_COLUMNS = "level, ty, tx, cell, municipality, status, section, size"
MMAP_BYTES = 1 << 34  # as much of the file as SQLite maps (its cap, not this, is the limit)
_ADD_NEW = (
    f"INSERT INTO business_cells ({_CELL_COLUMNS}, n, sx, sy) "
    f"SELECT {_cell_key('NEW')}, 1, NEW.wx, NEW.wy FROM cell_levels "
    "WHERE NEW.hidden = 0 AND NEW.wx IS NOT NULL "
    f"ON CONFLICT ({_CELL_COLUMNS}) DO UPDATE SET "
    "n = n + 1, sx = sx + excluded.sx, sy = sy + excluded.sy;"
)
_REMOVE_OLD = (
    "UPDATE business_cells SET n = n - 1, sx = sx - OLD.wx, sy = sy - OLD.wy "
    f"WHERE OLD.hidden = 0 AND OLD.wx IS NOT NULL AND ({_CELL_COLUMNS}) IN "
    f"(SELECT {_cell_key('OLD')} FROM cell_levels); "
    "DELETE FROM business_cells WHERE n = 0 AND OLD.hidden = 0 AND OLD.wx IS NOT NULL AND "
    f"({_CELL_COLUMNS}) IN (SELECT {_cell_key('OLD')} FROM cell_levels);"
)
_SCHEMA += (
    "CREATE TRIGGER IF NOT EXISTS businesses_cells_insert AFTER INSERT ON businesses "
    f"BEGIN {_ADD_NEW} END;\n"
    "CREATE TRIGGER IF NOT EXISTS businesses_cells_delete AFTER DELETE ON businesses "
    f"BEGIN {_REMOVE_OLD} END;\n"
    "CREATE TRIGGER IF NOT EXISTS businesses_cells_update "
    "AFTER UPDATE OF hidden, wx, wy, industry_section, municipality, status, employees "
    "ON businesses "
    "WHEN OLD.hidden IS NOT NEW.hidden OR OLD.wx IS NOT NEW.wx OR OLD.wy IS NOT NEW.wy "
    "OR OLD.industry_section IS NOT NEW.industry_section "
    "OR OLD.municipality IS NOT NEW.municipality OR OLD.status IS NOT NEW.status "
    "OR OLD.employees IS NOT NEW.employees "
    f"BEGIN {_REMOVE_OLD} {_ADD_NEW} END;\n"
)
_SCHEMA += "".join(
    f"CREATE TRIGGER IF NOT EXISTS {table}_changed_{event.lower()} AFTER {event} ON {table} "
    "BEGIN UPDATE counters SET value = value + 1 WHERE name = 'changes'; END;\n"
    for table in ("businesses", "networks", "municipalities")
    for event in ("INSERT", "UPDATE", "DELETE")
)


# A viewport covering more than this share of the collection's extent is answered by walking
# the primary key and testing coordinates: cheaper than collecting and sorting most of the R*Tree.
_WIDE_VIEWPORT_SHARE = 0.25
_BATCH = 1000
# From this zoom on a tile's box holds fewer businesses than a common industry code nationwide
# (bench/tiles.py: at zoom 12 the R*Tree answers in 8 ms, the code's index in 40)
_CODE_BY_INDEX_BELOW = 12
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another process's write transaction


_PYRAMID_FILTERS = {
    "municipality": "municipality",
    "status": "status",
    "industry": "section",
    "sizes": "size",
}


def _pyramid_terms(q: FeatureQuery) -> tuple[str, list[str]] | None:
    """The business_cells terms of a selection the pyramid counts (None: it counts another):
    no filter, or any of municipality, status, an industry section (a letter) and sizes."""
    filters = q.filters()
    if not set(filters) <= set(_PYRAMID_FILTERS):
        return None
    if q.industry is not None and not q.industry.isalpha():
        return None  # a 6-digit code or a prefix of one: the pyramid counts sections only
    terms, args = "", []
    for name, column in _PYRAMID_FILTERS.items():
        if name == "sizes" and q.sizes is not None:
            terms += f" AND {column} IN ({','.join('?' * len(q.sizes))})"
            args += q.sizes
        elif (value := filters.get(name)) is not None:
            terms += f" AND {column} = ?"
            args.append(str(value).upper() if name == "industry" else str(value))
    return terms, args


class SQLiteStore(StoreBase):
    """Store adapter on one SQLite database file (WAL mode; a pool of connections, one per
    operation in flight, the most recently used first: its page cache is the warmest)."""

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(f"cannot create the folder for {path}: {exc}") from None
        self._local = threading.local()
        self._shared: sqlite3.Connection | None = None
        # An in-memory database is one connection that the threads of this process share (no
        # other process can open it): its transactions take turns on this lock. A file has a
        # connection per thread and needs no lock: SQLite orders their transactions itself.
        self._memory_turn = threading.RLock()
        self._pool: list[sqlite3.Connection] = []  # idle connections, the warmest last
        self._all: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._extent_cache: dict[str, Extent] = {}
        self._seen_versions: dict[int, int] = {}  # id(connection) -> its last data_version
        with self._tx() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreUnavailable(
                    f"the database {path} was written by a newer Mikrokort (schema {version}, "
                    f"this one knows {SCHEMA_VERSION}): upgrade Mikrokort, or use another file"
                )
            self._created = version == 0  # a new database: init says "created"
            if 0 < version < 4:
                columns = {r[1] for r in conn.execute("PRAGMA table_info(businesses)")}
                for column in ("wx", "wy"):
                    if column not in columns:
                        conn.execute(f"ALTER TABLE businesses ADD COLUMN {column} INTEGER")
            if 4 <= version < 7:
                self._drop_cells(conn)
            if 0 < version < 7:
                self._add_employees(conn)
            for statement in _statements(_SCHEMA):
                conn.execute(statement)
            if 0 < version < 2:
                self._refold_names(conn)
            if 0 < version < 3:
                self._rerender_all(conn)
            if 0 < version < 4:
                self._place_in_world(conn)
            if 4 <= version < 7:
                self._count_cells(conn)
            if 0 < version < 6:
                self._order_by_place(conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        if 0 < version < 6 and path != ":memory:":
            self._compact()

    @staticmethod
    def _place_in_world(conn: sqlite3.Connection) -> None:
        """Schema 3 -> 4: the world coordinates of every public point; the cells' triggers
        count each visible business into the pyramid as its coordinates are set."""
        conn.create_function(
            "mk_world",
            3,
            lambda lon, lat, axis: web_mercator_world(lon, lat)[axis],
            deterministic=True,
        )
        conn.execute(
            "UPDATE businesses SET wx = mk_world(lon, lat, 0), wy = mk_world(lon, lat, 1) "
            "WHERE lon IS NOT NULL AND wx IS NULL"
        )

    @staticmethod
    def _add_employees(conn: sqlite3.Connection) -> None:
        """Schema 6 -> 7 (and any older): the size group of every business in a column of its
        own, read from its document, before the pyramid is counted with it."""
        columns = {r[1] for r in conn.execute("PRAGMA table_info(businesses)")}
        if "employees" not in columns:
            conn.execute("ALTER TABLE businesses ADD COLUMN employees TEXT")
        conn.execute(
            "UPDATE businesses SET employees = (SELECT json_extract(CAST(d.doc AS TEXT), "
            "'$.employees') FROM business_docs d WHERE d.cvr = businesses.cvr)"
        )

    @staticmethod
    def _drop_cells(conn: sqlite3.Connection) -> None:
        """Schemas 4 to 6 -> 7, first half: the pyramid of an older shape (schema 4: per section
        only; 5 and 6: without the size) and the triggers that kept it go; the schema then
        creates them in the new shape."""
        for event in ("insert", "delete", "update"):
            conn.execute(f"DROP TRIGGER IF EXISTS businesses_cells_{event}")
        conn.execute("DROP TABLE IF EXISTS business_cells")

    @staticmethod
    def _count_cells(conn: sqlite3.Connection) -> None:
        """Schemas 4 to 6 -> 7, second half: the pyramid counted again from the businesses' world
        coordinates, one GROUP BY per level (what the triggers would have summed row by row)."""
        key = _cell_key("b").replace("level", "l.level")
        conn.execute(
            f"INSERT INTO business_cells ({_CELL_COLUMNS}, n, sx, sy) "
            f"SELECT {key}, count(*), sum(b.wx), sum(b.wy) FROM cell_levels l, businesses b "
            "WHERE b.hidden = 0 AND b.wx IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
        )

    @staticmethod
    def _order_by_place(conn: sqlite3.Connection) -> None:
        """Schema 5 -> 6: the businesses copied, in the order of their place keys, into a table
        whose rowid is that key, and the R*Tree built again on those keys. The old table's
        indexes and triggers go with it; the schema then creates them on the new one. The
        counters and the pyramid count the same rows and stay as they are."""
        conn.create_function("mk_place", 3, place_key, deterministic=True)
        conn.execute("DROP TABLE IF EXISTS businesses_by_place")
        conn.execute(f"CREATE TABLE businesses_by_place {_BUSINESS_COLUMNS}")
        conn.execute(
            f"INSERT INTO businesses_by_place (place, {_ROW_COLUMNS}) "
            f"SELECT mk_place(wx, wy, cvr), {_ROW_COLUMNS} FROM businesses ORDER BY 1"
        )
        conn.execute("DROP TABLE businesses")
        conn.execute("ALTER TABLE businesses_by_place RENAME TO businesses")
        conn.execute("DROP TABLE businesses_rtree")
        for statement in _statements(_SCHEMA):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO businesses_rtree SELECT place, lon, lon, lat, lat FROM businesses "
            "WHERE lon IS NOT NULL AND hidden = 0 ORDER BY place"
        )

    def _compact(self) -> None:
        """After a table was copied: the file rewritten without the old copy's free pages, so
        the tables lie in the first 2 GB that SQLite maps (MMAP_BYTES). Skipped, and done on a
        later upgrade never, if another process holds the file: the data is right either way."""
        with self._using() as conn:
            try:
                conn.execute("VACUUM")
            except sqlite3.OperationalError as exc:
                log.warning(
                    "the database %s was not compacted after its upgrade: %s", self.path, exc
                )

    def _rerender_all(self, conn: sqlite3.Connection) -> None:
        """Schema 2 -> 3: every business's public feature rendered again from its document, in
        the public shape of this version (the municipalities' are rendered on read)."""
        cvrs = [r[0] for r in conn.execute("SELECT cvr FROM businesses ORDER BY cvr")]
        for i in range(0, len(cvrs), 5000):
            self._rerender_businesses(conn, cvrs[i : i + 5000])

    @staticmethod
    def _refold_names(conn: sqlite3.Connection) -> None:
        """Schema 1 -> 2: recompute the search form of every name."""
        conn.create_function("search_fold", 1, search_fold, deterministic=True)
        conn.execute(
            "UPDATE businesses SET name_fold = search_fold("
            "(SELECT json_extract(d.doc, '$.name') FROM business_docs d "
            "WHERE d.cvr = businesses.cvr))"
        )

    # -- connections ---------------------------------------------------------------------------

    def _open_connection(self) -> sqlite3.Connection:
        if self.path == ":memory:":
            if self._shared is None:
                self._shared = sqlite3.connect(
                    ":memory:", check_same_thread=False, isolation_level=None
                )
                _add_functions(self._shared)
            return self._shared
        try:
            # autocommit mode: transactions are begun explicitly (see _tx), never implicitly;
            # a connection serves one thread at a time (checked out of the pool), any thread
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open the database {self.path}: {exc}") from None
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        _add_functions(conn)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-65536")
        # Reads through a memory map, not a read() per page: a viewport's rows lie all over a
        # file of a million businesses (2 GB), and beyond the map each page is a system call.
        # With the whole file mapped, a 1,000-feature page at 1,000,000 has the same median
        # and a p95 of 10.6 instead of 17.6 ms over HTTP (docs/BENCHMARKS.md). SQLite caps the
        # size at its build's maximum (2 GB for Debian's and Python's).
        conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        with self._pool_lock:
            self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def _using(self) -> Iterator[sqlite3.Connection]:
        """A connection for one operation: the one this thread's transaction holds, else the
        most recently used idle one (why a pool and not one per thread: a server's threads take
        turns on the requests, and one warm connection answers faster than eight cold ones)."""
        bound = getattr(self._local, "conn", None)
        if bound is not None:
            yield bound
            return
        if self.path == ":memory:":
            yield self._open_connection()
            return
        with self._pool_lock:
            conn = self._pool.pop() if self._pool else None
        if conn is None:
            conn = self._open_connection()
        self._local.conn = conn
        try:
            yield conn
        finally:
            self._local.conn = None
            with self._pool_lock:
                self._pool.append(conn)

    @contextlib.contextmanager
    def _tx(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction: `BEGIN IMMEDIATE` for a write (the database's write lock, taken
        before the first read, so what is read is still true when it is written), a plain
        `BEGIN` for a read (one snapshot for all its statements). Nested calls join the
        outermost transaction; a write may not start inside a read."""
        turn = self._memory_turn if self.path == ":memory:" else contextlib.nullcontext()
        with turn, self._using() as conn:
            depth = getattr(self._local, "depth", 0)
            if depth:
                if write and not self._local.writing:
                    raise RuntimeError("a write transaction cannot start inside a read")
                self._local.depth = depth + 1
                try:
                    yield conn
                finally:
                    self._local.depth = depth
                return
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.OperationalError as exc:  # still locked after the busy timeout
                raise StoreUnavailable(f"the database is busy: {exc}") from None
            self._local.depth, self._local.writing = 1, write
            try:
                yield conn
            except BaseException:
                self._local.depth = 0
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            self._local.depth = 0
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._pool_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
            self._pool.clear()
        if self._shared is not None:
            self._shared.close()
            self._shared = None

    # -- reads ---------------------------------------------------------------------------------

    def _business_feature(self, cvr: str) -> bytes | None:
        if not is_cvr_number(cvr):
            return None
        with self._using() as conn:
            row = conn.execute(
                "SELECT feature FROM businesses WHERE cvr = ? AND hidden = 0 "
                "AND feature IS NOT NULL",
                (int(cvr),),
            ).fetchone()
        return bytes(row[0]) if row else None

    def extent(self, collection: CollectionId) -> Extent:
        with self._using() as conn:
            self._forget_if_written_elsewhere(conn)
            cached = self._extent_cache.get(collection)
            if cached is not None:
                return cached
            if collection == "businesses":
                row = conn.execute(
                    "SELECT min(lon), min(lat), max(lon), max(lat), min(founded) "
                    "FROM businesses WHERE hidden = 0"
                ).fetchone()
                bbox = None if row[0] is None else (row[0], row[1], row[2], row[3])
                ext = Extent(bbox=bbox, interval=(row[4], None))
            else:
                ext = small_extent(self._collection_features(collection))
            self._extent_cache[collection] = ext
            return ext

    def change_token(self) -> str | None:
        """The schema's change counter: one indexed row, moved by triggers on every write."""
        with self._using() as conn:
            row = conn.execute("SELECT value FROM counters WHERE name = 'changes'").fetchone()
        return f"sqlite-{row[0]}" if row else None

    def _forget_if_written_elsewhere(self, conn: sqlite3.Connection) -> None:
        """Drop the cached extents when another connection has committed since the last look.

        This store's own writes drop them at once; `PRAGMA data_version` changes when any other
        connection (another thread's, or another process such as an import job) commits, so a
        cached extent never outlives the data it was computed from.
        """
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        # each connection is compared with what it saw itself (versions of different
        # connections do not compare); one it has not seen yet starts afresh
        if self._seen_versions.get(id(conn)) != version:
            self._extent_cache.clear()
            self._seen_versions[id(conn)] = version

    def _query_businesses(self, q: FeatureQuery, count: bool) -> FeaturePage:
        """Ids, features and the count from one snapshot: a business hidden meanwhile is either
        in the page with its feature or not in it at all."""
        with self._tx(write=False) as conn:
            return self._query_businesses_in(conn, q, count)

    def _query_businesses_in(
        self, conn: sqlite3.Connection, q: FeatureQuery, count: bool
    ) -> FeaturePage:
        source, where, args = self._selection_sql(q)
        clause = " AND ".join(where)
        page_args = list(args)
        page_clause = clause
        if q.after is not None:
            page_clause += " AND b.cvr > ?"
            page_args.append(int(q.after))
        # Ids first (sorting integers is cheap), then the features of just that page, read by
        # their place keys: rowids, in the order the rows lie in the file.
        keys = conn.execute(
            f"SELECT b.cvr, b.place FROM {source} WHERE {page_clause} ORDER BY b.cvr LIMIT ?",
            [*page_args, q.limit + 1],
        ).fetchall()
        more = len(keys) > q.limit
        keys = keys[: q.limit]
        ids = [cvr for cvr, _ in keys]
        rows = self._features_at(conn, keys)
        matched = None
        if count:
            matched = number_matched(
                q,
                len(ids),
                more,
                visible=lambda: conn.execute(
                    "SELECT value FROM counters WHERE name = 'visible_businesses'"
                ).fetchone()[0],
                selected=lambda: conn.execute(
                    f"SELECT count(*) FROM {source} WHERE {clause}", args
                ).fetchone()[0],
            )
        versions = array("q", [v for _, v, _ in rows]).tobytes()
        return FeaturePage(
            features=[f for _, _, f in rows],
            next_after=f"{ids[-1]:08d}" if more else None,
            number_matched=matched,
            validator=hashlib.blake2b(
                array("q", ids).tobytes() + versions, digest_size=16
            ).hexdigest(),
        )

    def _selection_sql(self, q: FeatureQuery) -> tuple[str, list[str], list[Any]]:
        """The FROM, the WHERE terms and their arguments of a selection of businesses: through
        the R*Tree for a viewport, along the primary key for a wide one or none."""
        where, args = self._business_filters(q)
        if q.bbox is not None and not self._is_wide(q.bbox):
            minx, miny, maxx, maxy = q.bbox
            source = "businesses_rtree r CROSS JOIN businesses b ON b.place = r.id "
            where = ["r.minx <= ?", "r.maxx >= ?", "r.miny <= ?", "r.maxy >= ?", *where]
            args = [maxx, minx, maxy, miny, *args]
        else:
            source = "businesses b "
        return source, where, args

    def tile_points(
        self, q: FeatureQuery, z: int, y: int, x: int, at_most: int
    ) -> list[TilePoint] | None:
        """One statement: the R*Tree finds the tile's box, the world coordinates decide the
        tile, the LIMIT stops at one more than the tile may hold."""
        box = tile_in_selection(q, z, y, x)
        if box is None:
            return []
        source, where, args = self._selection_sql(q.model_copy(update={"bbox": box}))
        shift = WORLD_BITS - z
        with self._tx(write=False) as conn:
            rows = conn.execute(
                f"SELECT b.cvr, b.feature, b.wx, b.wy FROM {source} WHERE {' AND '.join(where)} "
                f"AND b.wx >> {shift} = ? AND b.wy >> {shift} = ? LIMIT ?",
                [*args, x, y, at_most + 1],
            ).fetchall()
        if len(rows) > at_most:
            return None
        rows.sort()  # in id order, here: a sort in SQL would copy every feature into its sorter
        features = parse_features([f for _, f, _, _ in rows])
        return [(f, wx, wy) for f, (_, _, wx, wy) in zip(features, rows, strict=True)]

    def counts_cells_cheaply(self, q: FeatureQuery, z: int) -> bool:
        return _pyramid_terms(q) is not None and z + CLUSTER_GRID_BITS in _CELL_LEVELS

    def cluster_cells(self, q: FeatureQuery, z: int, y: int, x: int) -> list[ClusterCell]:
        """The cells from the pyramid (one key prefix) for the whole collection or the map's own
        filters (municipality, status, section); any other selection's counted in SQL over its
        rows in the tile, from the world coordinates."""
        box = tile_in_selection(q, z, y, x)
        if box is None:
            return []
        level = z + CLUSTER_GRID_BITS
        pyramid = _pyramid_terms(q)
        with self._tx(write=False) as conn:
            if pyramid is not None and level in _CELL_LEVELS:
                terms, term_args = pyramid
                rows = conn.execute(
                    "SELECT cell, section, n, sx, sy FROM business_cells "
                    f"WHERE level = ? AND ty = ? AND tx = ?{terms}",
                    (level, y, x, *term_args),
                ).fetchall()
            else:
                source, where, args = self._counted_selection(q, box, z)
                tile, cell = WORLD_BITS - z, WORLD_BITS - level
                rows = conn.execute(
                    f"SELECT ((b.wy >> {cell}) & 7) * 8 + ((b.wx >> {cell}) & 7) AS c, "
                    f"coalesce(b.industry_section, '') AS s, count(*), sum(b.wx), sum(b.wy) "
                    f"FROM {source} WHERE {' AND '.join(where)} "
                    f"AND b.wx >> {tile} = ? AND b.wy >> {tile} = ? GROUP BY c, s",
                    [*args, x, y],
                ).fetchall()
        cells = CellCounts(z, y, x)
        for row in rows:
            cells.add_counted(*row)
        return cells.cells()

    def _counted_selection(
        self, q: FeatureQuery, box: BBox, z: int
    ) -> tuple[str, list[str], list[Any]]:
        """The selection a cluster tile counts in SQL. By an industry code, below the zoom
        where the tile's box is the smaller part: the code's entries of its covering index,
        which hold each business's place (the R*Tree would give every business under a tile
        of a city, and a row lookup each, to keep a few percent of them)."""
        if q.industry is not None and not q.industry.isalpha() and z < _CODE_BY_INDEX_BELOW:
            # the tile itself is the world coordinates' test; a box of the selection's own
            # is tested on the point too
            where, args = self._business_filters(
                q if q.bbox is None else q.model_copy(update={"bbox": box})
            )
            return "businesses b INDEXED BY businesses_industry_map ", where, args
        return self._selection_sql(q.model_copy(update={"bbox": box}))

    @staticmethod
    def _features_at(
        conn: sqlite3.Connection, keys: list[tuple[int, int]]
    ) -> list[tuple[int, int, bytes]]:
        """(id, version, feature) of the (id, place) pairs, in their order."""
        found: dict[int, tuple[int, int, bytes]] = {}
        places = [place for _, place in keys]
        for i in range(0, len(places), 5000):
            part = places[i : i + 5000]
            marks = ",".join("?" * len(part))
            for cvr, version, feature in conn.execute(
                f"SELECT cvr, version, feature FROM businesses WHERE place IN ({marks})", part
            ):
                found[cvr] = (cvr, version, feature)
        return [found[cvr] for cvr, _ in keys if cvr in found]

    @staticmethod
    def _business_filters(q: FeatureQuery) -> tuple[list[str], list[Any]]:
        """The WHERE clause of `shared.feature_matches` on the business columns."""
        where: list[str] = ["b.hidden = 0"]
        args: list[Any] = []
        if q.bbox is not None:
            # Exact test on the public point (the R*Tree holds float32-rounded boxes).
            where += ["b.lon BETWEEN ? AND ?", "b.lat BETWEEN ? AND ?"]
            args += [q.bbox[0], q.bbox[2], q.bbox[1], q.bbox[3]]
        if q.municipality is not None:
            where.append("b.municipality = ?")
            args.append(q.municipality)
        if q.industry is not None:
            if q.industry.isalpha():
                where.append("b.industry_section = ?")
                args.append(q.industry.upper())
            else:
                where.append("b.industry_code >= ? AND b.industry_code < ?")
                args += [q.industry, q.industry + ":"]  # ':' sorts right after '9'
        if q.status is not None:
            where.append("b.status = ?")
            args.append(q.status)
        if q.sizes is not None:
            where.append(f"coalesce(b.employees, '') IN ({','.join('?' * len(q.sizes))})")
            args += q.sizes
        if q.founded_to is not None:
            where.append("b.founded <= ?")
            args.append(q.founded_to.isoformat())
        if q.network is not None:
            where.append("b.cvr IN (SELECT cvr FROM network_members WHERE network_id = ?)")
            args.append(q.network)
        if q.founded_from is not None:
            where.append("b.founded >= ?")
            args.append(q.founded_from.isoformat())
        if q.q is not None:
            where.append("instr(b.name_fold, ?) > 0")
            args.append(search_fold(q.q))
        if q.filter is not None:
            clause, filter_args = where_clause(q.filter)
            where.append(clause)
            args += filter_args
        return where, args

    def _is_wide(self, bbox: BBox) -> bool:
        ext = self.extent("businesses").bbox
        if ext is None:
            return False
        inter = bbox_intersection(bbox, ext)
        total = bbox_area(ext)
        if inter is None or total == 0:
            return False
        return bbox_area(inter) / total > _WIDE_VIEWPORT_SHARE

    def _small_features(self, collection: CollectionId) -> list[dict[str, Any]]:
        from chalicelib.domain.models import STORED, Network

        with self._tx(write=False) as conn:
            if collection == "municipalities":  # rendered from the documents, in today's shape
                return public_municipalities(
                    r[0] for r in conn.execute("SELECT doc FROM municipalities")
                )
            hidden = {
                f"{r[0]:08d}"
                for r in conn.execute(
                    "SELECT m.cvr FROM network_members m JOIN businesses b ON b.cvr = m.cvr "
                    "WHERE b.hidden = 1"
                )
            }
            networks = [
                Network.model_validate_json(d, context=STORED)
                for (d,) in conn.execute("SELECT doc FROM networks")
            ]
        return public_networks(networks, hidden)

    # -- documents -----------------------------------------------------------------------------

    def get_business(self, business_id: str) -> Business | None:
        found = self.get_business_versioned(business_id)
        return found[0] if found else None

    def get_business_versioned(self, business_id: str) -> tuple[Business, int] | None:
        if not is_cvr_number(business_id):
            return None
        with self._tx(write=False) as conn:
            return self._business_in(conn, int(business_id))

    def _business_in(self, conn: sqlite3.Connection, cvr: int) -> tuple[Business, int] | None:
        """The stored business (memberships included) and its version, in the caller's
        transaction."""
        from chalicelib.domain.models import Business

        row = conn.execute(
            "SELECT b.version, d.doc FROM businesses b JOIN business_docs d ON d.cvr = b.cvr "
            "WHERE b.cvr = ?",
            (cvr,),
        ).fetchone()
        if row is None:
            return None
        b = Business.model_validate_json(row[1])
        b.networks = self._networks_of([cvr]).get(cvr, [])
        return b, row[0]

    def get_businesses(self, business_ids: Iterable[str]) -> dict[str, Business]:
        from chalicelib.domain.models import Business

        cvrs = sorted({int(i) for i in business_ids if is_cvr_number(i)})
        out: dict[str, Business] = {}
        with self._tx(write=False) as conn:
            memberships = self._networks_of(cvrs)
            for i in range(0, len(cvrs), 900):
                part = cvrs[i : i + 900]
                marks = ",".join("?" * len(part))
                for cvr, doc in conn.execute(
                    f"SELECT cvr, doc FROM business_docs WHERE cvr IN ({marks})", part
                ):
                    b = Business.model_validate_json(doc)
                    b.networks = memberships.get(cvr, [])
                    out[b.id] = b
        return out

    def curate_business(
        self,
        business_id: str,
        curation: Curation,
        expected_version: int | None = None,
        *,
        record: Record | None = None,
    ) -> int:
        """Read, check and write in one write transaction: the register fields written are the
        ones stored at that moment, so neither a refresh nor a curation undoes the other."""
        if not is_cvr_number(business_id):
            raise NotFound(f"no business {business_id}")
        with self._tx() as conn:
            found = self._business_in(conn, int(business_id))
            if found is None:
                raise NotFound(f"no business {business_id}")
            before, version = found
            if expected_version is not None and version != expected_version:
                raise Conflict(
                    f"business {business_id} is at version {version}, not {expected_version}"
                )
            b = before.model_copy(update={"curated": curation})
            self._write_business_rows(conn, [_business_row(b, version + 1, content_digest(b))])
            if record is not None:
                self._put_records_in(conn, record.kind, dict([record_item(record, before, b)]))
        self._extent_cache.pop("businesses", None)
        return version + 1

    # -- operational records -------------------------------------------------------------------

    def put_records(self, kind: str, records: dict[str, dict[str, Any]]) -> None:
        with self._tx() as conn:
            self._put_records_in(conn, kind, records)

    @staticmethod
    def _put_records_in(
        conn: sqlite3.Connection, kind: str, records: dict[str, dict[str, Any]]
    ) -> None:
        conn.executemany(
            "INSERT INTO records VALUES (?, ?, ?) "
            "ON CONFLICT(kind, key) DO UPDATE SET doc=excluded.doc",
            [(kind, k, orjson.dumps(v)) for k, v in records.items()],
        )

    def get_records(self, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        keys = list(dict.fromkeys(keys))
        out: dict[str, dict[str, Any]] = {}
        with self._tx(write=False) as conn:
            for i in range(0, len(keys), 900):
                part = keys[i : i + 900]
                marks = ",".join("?" * len(part))
                for key, doc in conn.execute(
                    f"SELECT key, doc FROM records WHERE kind = ? AND key IN ({marks})",
                    [kind, *part],
                ):
                    out[key] = orjson.loads(doc)
        return out

    def list_records(
        self, kind: str, *, limit: int = 100, newest_first: bool = False
    ) -> list[tuple[str, dict[str, Any]]]:
        order = "DESC" if newest_first else "ASC"
        with self._using() as conn:
            rows = conn.execute(
                f"SELECT key, doc FROM records WHERE kind = ? ORDER BY key {order} LIMIT ?",
                (kind, limit),
            ).fetchall()
        return [(k, orjson.loads(d)) for k, d in rows]

    def delete_records(self, kind: str, keys: Iterable[str]) -> None:
        with self._tx() as conn:
            conn.executemany(
                "DELETE FROM records WHERE kind = ? AND key = ?", [(kind, k) for k in keys]
            )

    def write_records(
        self,
        puts: dict[str, dict[str, dict[str, Any]]] | None = None,
        *,
        deletes: dict[str, list[str]] | None = None,
        counters: Iterable[Counter] = (),
        expect: tuple[str, str, str, Any] | None = None,
    ) -> None:
        """All in one write transaction: the counters are read and moved under the write lock,
        so concurrent callers (threads or processes) cannot both pass a cap."""
        with self._tx() as conn:
            if expect is not None:
                kind, key, name, value = expect
                row = conn.execute(
                    "SELECT doc FROM records WHERE kind = ? AND key = ?", (kind, key)
                ).fetchone()
                if row is None or orjson.loads(row[0]).get(name) != value:
                    raise Conflict(f"{kind} {key} is no longer {name}={value}")
            for counter in counters:
                row = conn.execute(
                    "SELECT doc FROM records WHERE kind = ? AND key = ?",
                    (counter.kind, counter.key),
                ).fetchone()
                current = int(orjson.loads(row[0]).get("n", 0)) if row else None
                value = counter_value(counter, current)
                self._put_records_in(conn, counter.kind, {counter.key: {"n": value}})
            for kind, records in (puts or {}).items():
                self._put_records_in(conn, kind, records)
            for kind, keys in (deletes or {}).items():
                conn.executemany(
                    "DELETE FROM records WHERE kind = ? AND key = ?", [(kind, k) for k in keys]
                )

    def create_table(self) -> bool:
        """The schema is created when the database is opened; True when that made it."""
        return self._created

    # -- register writes -----------------------------------------------------------------------

    def upsert_businesses(self, businesses: Iterable[Business]) -> WriteResult:
        result = WriteResult()
        for chunk in _chunks(businesses, _BATCH):
            result += self._upsert_business_chunk(chunk)
        self._extent_cache.pop("businesses", None)
        return result

    def _upsert_business_chunk(self, chunk: list[Business]) -> WriteResult:
        """One chunk in one write transaction: the curated fields and memberships kept are the
        ones stored when the chunk is written, and the feature is rendered from them."""
        from chalicelib.domain.models import Curation

        chunk = list({b.id: b for b in chunk}.values())  # the last copy of a repeated id wins
        ids = [int(b.id) for b in chunk]
        marks = ",".join("?" * len(ids))
        result = WriteResult()
        with self._tx() as conn:
            existing = {
                r[0]: (r[1], r[2], r[3])
                for r in conn.execute(
                    f"SELECT b.cvr, b.version, b.content_hash, json_extract(d.doc, '$.curated') "
                    f"FROM businesses b JOIN business_docs d ON d.cvr = b.cvr "
                    f"WHERE b.cvr IN ({marks})",
                    ids,
                )
            }
            memberships = self._networks_of(ids)
            rows = []
            for b in chunk:
                cvr = int(b.id)
                old = existing.get(cvr)
                if old is not None:  # curated fields belong to people: keep the stored ones
                    b = b.model_copy(update={"curated": Curation.model_validate_json(old[2])})
                b = b.model_copy(update={"networks": memberships.get(cvr, [])})
                digest = content_digest(b)
                version = count_upsert(result, b.id, digest, old[:2] if old else None)
                if version is not None:
                    rows.append(_business_row(b, version, digest))
            if rows:
                self._write_business_rows(conn, rows)
        return result

    def _write_business_rows(self, conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
        """The rows written in the order of their places (neighbouring pages of the B-tree);
        a business that moved gets its new place key, so its old R*Tree entry goes first."""
        rows = sorted(rows, key=lambda r: r[-1])
        conn.executemany(
            "DELETE FROM businesses_rtree WHERE id = (SELECT place FROM businesses WHERE cvr = ?)",
            [(r[0],) for r in rows],
        )
        conn.executemany(_UPSERT_BUSINESS, [r[:13] + r[14:] for r in rows])
        conn.executemany(
            "INSERT INTO business_docs VALUES (?, ?) "
            "ON CONFLICT(cvr) DO UPDATE SET doc=excluded.doc",
            [(r[0], r[13]) for r in rows],
        )
        conn.executemany(
            "INSERT INTO businesses_rtree VALUES (?, ?, ?, ?, ?)",
            [(r[-1], r[8], r[8], r[9], r[9]) for r in rows if r[8] is not None and not r[10]],
        )

    def _networks_of(self, cvrs: list[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        with self._using() as conn:
            for i in range(0, len(cvrs), 900):
                part = cvrs[i : i + 900]
                marks = ",".join("?" * len(part))
                for cvr, network_id in conn.execute(
                    f"SELECT cvr, network_id FROM network_members WHERE cvr IN ({marks}) "
                    "ORDER BY network_id",
                    part,
                ):
                    out.setdefault(cvr, []).append(network_id)
        return out

    def _rerender_businesses(self, conn: sqlite3.Connection, cvrs: list[int]) -> None:
        """Write the features of businesses whose network memberships changed (inside the
        caller's write transaction, from the stored documents)."""
        from chalicelib.domain.models import Business

        memberships = self._networks_of(cvrs)
        rows = []
        for i in range(0, len(cvrs), 900):
            part = cvrs[i : i + 900]
            marks = ",".join("?" * len(part))
            for cvr, version, doc in conn.execute(
                f"SELECT b.cvr, b.version, d.doc FROM businesses b JOIN business_docs d "
                f"ON d.cvr = b.cvr WHERE b.cvr IN ({marks})",
                part,
            ):
                b = Business.model_validate_json(doc).model_copy(
                    update={"networks": memberships.get(cvr, [])}
                )
                rows.append(_business_row(b, version + 1, content_digest(b)))
        if rows:
            self._write_business_rows(conn, rows)

    # -- networks ------------------------------------------------------------------------------

    def get_network(self, network_id: str) -> Network | None:
        found = self.get_network_versioned(network_id)
        return found[0] if found else None

    def get_network_versioned(self, network_id: str) -> tuple[Network, str] | None:
        from chalicelib.domain.models import STORED, Network

        with self._using() as conn:
            row = conn.execute(
                "SELECT doc, content_hash FROM networks WHERE id = ?", (network_id,)
            ).fetchone()
        return (Network.model_validate_json(row[0], context=STORED), row[1]) if row else None

    def upsert_networks(self, networks: Iterable[Network]) -> WriteResult:
        result = WriteResult()
        with self._tx() as conn:
            for n in networks:
                self._write_network(conn, n, result)
        self._extent_cache.pop("networks", None)
        return result

    def put_network(
        self,
        network: Network,
        if_match: str | None,
        *,
        create: bool = False,
        record: Record | None = None,
    ) -> str:
        from chalicelib.domain.models import STORED, Network

        with self._tx() as conn:
            row = conn.execute(
                "SELECT content_hash, doc FROM networks WHERE id = ?", (network.id,)
            ).fetchone()
            check_precondition(network.id, row[0] if row else None, if_match, create)
            self._write_network(conn, network, WriteResult())
            if record is not None:
                before = Network.model_validate_json(row[1], context=STORED) if row else None
                self._put_records_in(
                    conn, record.kind, dict([record_item(record, before, network)])
                )
        self._extent_cache.pop("networks", None)
        return content_digest(network)

    def delete_network(
        self, network_id: str, if_match: str | None, *, record: Record | None = None
    ) -> None:
        from chalicelib.domain.models import STORED, Network

        with self._tx() as conn:
            row = conn.execute(
                "SELECT content_hash, doc FROM networks WHERE id = ?", (network_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"no network {network_id}")
            check_precondition(network_id, row[0], if_match, False)
            members = [
                r[0]
                for r in conn.execute(
                    "SELECT cvr FROM network_members WHERE network_id = ?", (network_id,)
                )
            ]
            conn.execute("DELETE FROM network_members WHERE network_id = ?", (network_id,))
            conn.execute("DELETE FROM networks WHERE id = ?", (network_id,))
            self._rerender_businesses(conn, sorted(members))
            if record is not None:
                before = Network.model_validate_json(row[1], context=STORED)
                self._put_records_in(conn, record.kind, dict([record_item(record, before, None)]))
        self._extent_cache.pop("networks", None)

    def network_digest(self, network_id: str) -> str | None:
        with self._using() as conn:
            row = conn.execute(
                "SELECT content_hash FROM networks WHERE id = ?", (network_id,)
            ).fetchone()
        return row[0] if row else None

    def business_version(self, business_id: str) -> int | None:
        if not is_cvr_number(business_id):
            return None
        with self._using() as conn:
            row = conn.execute(
                "SELECT version FROM businesses WHERE cvr = ?", (int(business_id),)
            ).fetchone()
        return row[0] if row else None

    def _write_network(self, conn: sqlite3.Connection, n: Network, result: WriteResult) -> None:
        """Insert or replace one network and its memberships (in the caller's transaction)."""
        digest = content_digest(n)
        old = conn.execute(
            "SELECT version, content_hash FROM networks WHERE id = ?", (n.id,)
        ).fetchone()
        version = count_upsert(result, n.id, digest, old)
        if version is None:
            return
        before = {
            r[0]
            for r in conn.execute("SELECT cvr FROM network_members WHERE network_id = ?", (n.id,))
        }
        after = {int(m) for m in n.members}
        conn.execute(
            "INSERT INTO networks VALUES (?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
            "version=excluded.version, content_hash=excluded.content_hash, "
            "doc=excluded.doc",
            (n.id, version, digest, n.model_dump_json().encode()),
        )
        conn.executemany(
            "DELETE FROM network_members WHERE network_id = ? AND cvr = ?",
            [(n.id, c) for c in before - after],
        )
        conn.executemany(
            "INSERT INTO network_members VALUES (?, ?)", [(n.id, c) for c in after - before]
        )
        self._rerender_businesses(conn, sorted(before ^ after))

    def upsert_municipalities(self, municipalities: Iterable[Municipality]) -> WriteResult:
        from chalicelib.domain.privacy import public_municipality

        result = WriteResult()
        with self._tx() as conn:
            for m in municipalities:
                row = conn.execute(
                    "SELECT version, content_hash, doc FROM municipalities WHERE kommunekode = ?",
                    (m.kommunekode,),
                ).fetchone()
                m = keep_curated_municipality(m, row[2] if row else None)
                doc = m.model_dump_json().encode()
                digest = content_digest(m)
                old = (row[0], row[1]) if row else None
                version = count_upsert(result, m.kommunekode, digest, old)
                if version is None:
                    continue
                feature = public_municipality(m)
                conn.execute(
                    "INSERT INTO municipalities VALUES (?,?,?,?,?) "
                    "ON CONFLICT(kommunekode) DO UPDATE SET version=excluded.version, "
                    "content_hash=excluded.content_hash, "
                    "doc=excluded.doc, feature=excluded.feature",
                    (m.kommunekode, version, digest, doc, orjson.dumps(feature)),
                )
        self._extent_cache.pop("municipalities", None)
        return result


def _business_row(b: Business, version: int, digest: str) -> tuple[Any, ...]:
    from chalicelib.domain.privacy import public_business

    feature = public_business(b)
    point = feature["geometry"]["coordinates"] if feature and feature["geometry"] else (None, None)
    world = web_mercator_world(*point) if point[0] is not None else (None, None)
    return (
        int(b.id),
        b.municipality,
        b.industry_code,
        b.industry_section,
        b.status,
        b.founded.isoformat() if b.founded else None,
        b.ceased.isoformat() if b.ceased else None,
        search_fold(b.name),
        point[0],
        point[1],
        0 if b.public else 1,
        version,
        digest,
        b.model_dump_json().encode(),
        orjson.dumps(feature) if feature else None,
        *world,
        b.employees,
        place_key(*world, int(b.id)),  # last: the rows are written in its order
    )


def _add_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions the filters' WHERE clauses call (chalicelib.store.sqlite_filters)."""
    conn.create_function("mk_point_intersects", 3, point_intersects, deterministic=True)
    conn.create_function("mk_ilike", 2, ilike, deterministic=True)
    conn.create_function("mk_in_utm32_box", 6, in_utm32_box, deterministic=True)


def _statements(script: str) -> Iterator[str]:
    """The statements of a script, one at a time (executescript would commit the transaction
    the schema is created in, so two processes opening a new file could race)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
