"""Mikrokort: an open map and open-data API of micro-businesses and their networks."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# Reference data shipped with the product (boundaries, postcodes, tables); see data/ATTRIBUTION.md.
DATA_DIR = PACKAGE_DIR / "data"
