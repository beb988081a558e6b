"""OGC API - Tiles: Mapbox Vector Tiles of the businesses in the WebMercatorQuad tile matrix set."""
