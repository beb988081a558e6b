"""Drawn tiles kept for the next request: in the blob folder (the embedded mode) or the bucket
(AWS), under `tile-cache/{change token}/{ETag}.mvt`.

Why keyed by the store's change token: every write of a business, network or municipality gives
the store a new token, so a refresh invalidates every cached tile at once without deleting one.
The next request draws its tile from the new data, and the old token's tiles are never asked
for again. The ETag in the key is the tile's own validator (token, collection, tile, filters
and the code's version), so an upgrade of the code never serves a tile drawn by the old one.
Old generations go later: the folder's when a process writes its first tile of a new token
(those not written to for a minute), the bucket's by its lifecycle rule after a day.

What is kept is bounded, so that requests for ever new tiles cannot fill a disk or a bill: only
selections of a closed set of values (the map's filters, an industry code, a network; not a
free-text search, a date or a CQL2 filter, which are drawn each time), and at most
`MAX_PER_GENERATION` tiles per process and generation (beyond, tiles are drawn as without the
cache until the next write).

A store that has no token at the moment (DynamoDB for a few seconds after a write, while its
indexes catch up) gets no cached tile and stores none. A cache that fails (a full disk, S3
unreachable) is logged and passed by: the tile is drawn as without it, never an error.
"""

from __future__ import annotations

import logging
import threading

from chalicelib.blobs.port import BlobStore
from chalicelib.store import FeatureQuery

log = logging.getLogger(__name__)

PREFIX = "tile-cache/"
STALE_AFTER_S = 60.0  # a generation not written to for this long is no longer read
# about 100 MB of typical tiles (5 KB), what a busy day of a national map asks for
MAX_PER_GENERATION = 20_000
# the filters whose values come from a closed set (kommunekoder, statuses, codes, network ids)
_KEPT_FILTERS = frozenset({"municipality", "status", "industry", "network"})
_MVT = "application/vnd.mapbox-vector-tile"


def keeps(selection: FeatureQuery) -> bool:
    """Whether a tile of this selection is kept: no filter, or only closed-set ones."""
    return set(selection.filters()) <= _KEPT_FILTERS


class TileCache:
    def __init__(self, blobs: BlobStore, max_per_generation: int = MAX_PER_GENERATION) -> None:
        self.blobs = blobs
        self.max_per_generation = max_per_generation
        self._token_seen: str | None = None
        self._written = 0  # tiles this process kept under _token_seen
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str, etag: str) -> str:
        tag = etag.removeprefix("W/").strip('"')
        return f"{PREFIX}{token}/{tag}.mvt"

    def get(self, token: str, etag: str) -> bytes | None:
        """The kept tile, or None. An empty file is none: what a crash of the machine can
        leave of a copy written without waiting for the disk (a tile is never empty)."""
        try:
            return self.blobs.get(self._key(token, etag)) or None
        except Exception as exc:  # any failure of the cache is a miss
            log.warning("tile cache read failed, drawing the tile: %s", exc)
            return None

    def put(self, token: str, etag: str, body: bytes) -> None:
        with self._lock:
            new_generation = token != self._token_seen
            if new_generation:
                self._token_seen, self._written = token, 0
            if self._written >= self.max_per_generation:
                return
            self._written += 1
        try:
            # not waiting for the disk: a copy lost to a crash is drawn again (the rename still
            # makes a file whole or absent for the processes reading it)
            self.blobs.put(self._key(token, etag), body, _MVT, durable=False)
        except Exception as exc:  # the tile was drawn: only its copy is lost
            log.warning("tile cache write failed: %s", exc)
            return
        if new_generation:
            try:
                self.blobs.remove_stale(PREFIX, token, STALE_AFTER_S)
            except Exception as exc:  # left for the next generation
                log.warning("old cached tiles not removed: %s", exc)
