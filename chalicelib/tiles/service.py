"""The OGC API - Tiles operations: the tile matrix sets, a collection's tilesets, and its tiles.

A tile is the items query of the same parameters (filters, `datetime`, CQL2) bounded by the
tile's box, read through the store's spatial index, and encoded as a Mapbox Vector Tile
(chalicelib.tiles.mvt). Its ETag comes from the store's change token before anything is read,
where the store keeps one, so a map that revalidates its tiles costs one read each.
"""

from __future__ import annotations

from typing import Any, cast

import orjson

from chalicelib.domain.errors import NotFound
from chalicelib.features.documents import JSON, MVT, TILED_COLLECTIONS
from chalicelib.features.service import item_params, items_query
from chalicelib.store import (
    CollectionId,
    FeatureQuery,
    Store,
    TilePoint,
)
from chalicelib.store.shared import features_in_tile
from chalicelib.tiles import matrix
from chalicelib.tiles.cache import TileCache, keeps
from chalicelib.tiles.mvt import (
    LAYER,
    PLACE_PROPERTIES,
    PLACES_LAYER,
    POINT_PROPERTIES,
    POINT_ZOOM,
    POINTS_PER_TILE,
    encode_clusters,
    encode_places,
    encode_points,
)
from chalicelib.web import params as P
from chalicelib.web.http import (
    HttpRequest,
    HttpResponse,
    etag_of,
    negotiate,
    not_modified,
    ok,
    version_etag,
)

_DOC_PARAMS = ("f",)


def tile_params(collection_id: str) -> tuple[str, ...]:
    """A tile's query parameters: the items' selection, without what a tile fixes itself
    (its box, its size, its encoding and its order)."""
    fixed = {"bbox", "bbox-crs", "limit", "cursor", "crs", "f", "properties", "skipGeometry"}
    return tuple(p for p in item_params(collection_id) if p not in fixed and p != "sortby")


def _tiled(collection_id: str) -> CollectionId:
    if collection_id not in TILED_COLLECTIONS:
        raise NotFound(
            f"collection '{collection_id}' has no tiles; tiled: {', '.join(TILED_COLLECTIONS)}"
        )
    return cast(CollectionId, collection_id)


def _tms(tms_id: str) -> None:
    if tms_id != matrix.ID:
        raise NotFound(f"no tile matrix set '{tms_id}'; tile matrix sets: {matrix.ID}")


def _doc(req: HttpRequest, doc: dict[str, Any], max_age: int = 3600) -> HttpResponse:
    """A JSON document, negotiated as the Features documents are: `f=json` wins, otherwise an
    Accept header that admits no JSON is a 406 that names what is offered."""
    values = P.single_values(req.params, _DOC_PARAMS)
    if not P.parse_format(values.get("f")):
        negotiate(req.header("accept"), [JSON])
    body = orjson.dumps(doc)
    return ok(req, body, JSON, etag=etag_of(body), max_age=max_age)


_PLACES_LAYER = {
    "id": PLACES_LAYER,
    "dataType": "vector",
    "geometryDimension": 0,
    "minTileMatrix": "0",
    "maxTileMatrix": str(matrix.MAX_ZOOM),
    "description": (
        "One point per network meeting place at every zoom (never clustered), with the "
        f"network's `id` and {', '.join(f'`{p}`' for p in PLACE_PROPERTIES)}."
    ),
}


class TilesService:
    """The tiles operations over one store; one instance per process. With a cache, a tile
    drawn once is read from it until the store's next write (chalicelib.tiles.cache)."""

    def __init__(self, store: Store, cache: TileCache | None = None) -> None:
        self.store = store
        self.cache = cache

    def matrix_sets(self, req: HttpRequest) -> HttpResponse:
        base = req.base_url
        return _doc(
            req,
            {
                "tileMatrixSets": [
                    {
                        "id": matrix.ID,
                        "title": "Google Maps Compatible for the World",
                        "uri": matrix.URI,
                        "links": [
                            {
                                "rel": "self",
                                "type": JSON,
                                "href": f"{base}/tileMatrixSets/{matrix.ID}",
                                "title": matrix.ID,
                            }
                        ],
                    }
                ]
            },
        )

    def matrix_set(self, req: HttpRequest, tms_id: str) -> HttpResponse:
        _tms(tms_id)
        return _doc(req, matrix.definition())

    def tilesets(self, req: HttpRequest, collection_id: str) -> HttpResponse:
        cid = _tiled(collection_id)
        return _doc(req, {"tilesets": [self._tileset(req.base_url, cid)]})

    def tileset(self, req: HttpRequest, collection_id: str, tms_id: str) -> HttpResponse:
        cid = _tiled(collection_id)
        _tms(tms_id)
        return _doc(req, self._tileset(req.base_url, cid))

    @staticmethod
    def _tileset(base: str, cid: str) -> dict[str, Any]:
        here = f"{base}/collections/{cid}/tiles/{matrix.ID}"
        return {
            "title": f"{cid} ({matrix.ID}, Mapbox Vector Tiles)",
            "dataType": "vector",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
            "tileMatrixSetURI": matrix.URI,
            "links": [
                {"rel": "self", "type": JSON, "href": here},
                {
                    "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                    "type": JSON,
                    "href": f"{base}/tileMatrixSets/{matrix.ID}",
                },
                {
                    "rel": "item",
                    "type": MVT,
                    "href": here + "/{tileMatrix}/{tileRow}/{tileCol}",
                    "templated": True,
                },
                {"rel": "collection", "type": JSON, "href": f"{base}/collections/{cid}"},
            ],
            "layers": [_PLACES_LAYER]
            if cid == PLACES_LAYER
            else [
                {
                    "id": LAYER,
                    "dataType": "vector",
                    "geometryDimension": 0,
                    "minTileMatrix": "0",
                    "maxTileMatrix": str(matrix.MAX_ZOOM),
                    "description": (
                        f"Below tileMatrix {POINT_ZOOM}: one point per occupied cell of an 8 x 8 "
                        "grid with `count`, `cluster` and the counts per industry section "
                        f"(`n_F`, `n_unknown`). From {POINT_ZOOM}: one point per business with "
                        f"`id` and {', '.join(f'`{p}`' for p in POINT_PROPERTIES)}, where the "
                        f"tile holds at most {POINTS_PER_TILE} of the selection; clusters as "
                        "below where it holds more. `cluster` is true on a cluster only."
                    ),
                }
            ],
        }

    def tile(
        self, req: HttpRequest, collection_id: str, tms_id: str, z: str, y: str, x: str
    ) -> HttpResponse:
        cid = _tiled(collection_id)
        _tms(tms_id)
        zoom, row, col = matrix.parse_tile(z, y, x)
        negotiate(req.header("accept"), [MVT])  # a tile is MVT only: anything else is a 406
        values = P.single_values(req.params, tile_params(cid))
        selection = items_query(values, cid)
        token = self.store.change_token()
        if token is None:  # a store without a cheap version: validated by the body
            body = self._draw(cid, selection, zoom, row, col)
            return ok(req, body, MVT, etag=etag_of(body), max_age=300)
        etag = version_etag(
            token,
            b"tile",
            cid,
            f"{zoom}/{row}/{col}",
            orjson.dumps(selection.filters(), option=orjson.OPT_SORT_KEYS),
        )
        if answer := not_modified(req, MVT, etag=etag, max_age=300):
            return answer
        cache = self.cache if self.cache is not None and keeps(selection) else None
        if cache is not None and (cached := cache.get(token, etag)) is not None:
            return ok(req, cached, MVT, etag=etag, max_age=300)
        body = self._draw(cid, selection, zoom, row, col)
        if cache is not None:
            cache.put(token, etag, body)
        return ok(req, body, MVT, etag=etag, max_age=300)

    def _draw(self, cid: CollectionId, selection: FeatureQuery, z: int, y: int, x: int) -> bytes:
        """The tile's bytes from the store: meeting places as points; businesses as clusters
        below the point zoom and where a tile holds more than a point tile may, else points."""
        if cid == PLACES_LAYER:
            return encode_places(self._places_in_tile(selection, z, y, x), z, y, x)
        cells = None
        if z < POINT_ZOOM or self.store.counts_cells_cheaply(selection, z):
            cells = self.store.cluster_cells(selection, z, y, x)
        points = None
        if z >= POINT_ZOOM and (cells is None or sum(c.count for c in cells) <= POINTS_PER_TILE):
            points = self._points(selection, z, y, x)
        if points is not None:
            return encode_points(points, z, y, x)
        if cells is None:
            cells = self.store.cluster_cells(selection, z, y, x)
        return encode_clusters(cells, z, y, x)

    def _points(self, selection: FeatureQuery, z: int, y: int, x: int) -> list[TilePoint] | None:
        """The selection's businesses in the tile; None once there are more than a point tile
        holds (the tile is clustered instead)."""
        return self.store.tile_points(selection, z, y, x, POINTS_PER_TILE)

    def _places_in_tile(self, selection: FeatureQuery, z: int, y: int, x: int) -> list[TilePoint]:
        """The meeting places in the tile (a few hundred in the country: never too many)."""
        return features_in_tile(self.store, PLACES_LAYER, selection, z, y, x) or []
