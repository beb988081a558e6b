"""Mikrokort: an open map and open-data API of micro-businesses and their networks."""
