"""Acceptance tests with real GIS clients: QGIS 3.22, GDAL 3.6's tools, pyogrio (GDAL 3.12),
OWSLib."""
