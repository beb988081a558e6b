"""Reference data shipped with the product: municipality boundaries and names (DAGI 2014),
and the official names texts use."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib import DATA_DIR

if TYPE_CHECKING:
    from chalicelib.domain.models import Municipality

DATA = DATA_DIR
ATTRIBUTION = (
    "Indeholder data fra Klimadatastyrelsen (tidl. Geodatastyrelsen) og Danske Kommuner, "
    "DAGI, februar 2014"
)


def _read(name: str) -> bytes:
    """A shipped data file's bytes; a missing or broken one is a one-line error saying so."""
    from chalicelib.domain.errors import ReferenceDataMissing

    try:
        return (DATA / name).read_bytes()
    except OSError as exc:
        raise ReferenceDataMissing(
            f"the reference data file {DATA / name} is missing or unreadable "
            f"({exc.strerror or exc}): reinstall Mikrokort (the file ships in its package)"
        ) from None


def _csv_rows(name: str) -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(_read(name).decode("utf-8"))))


@lru_cache(maxsize=1)
def _kommuner() -> dict[str, dict[str, Any]]:
    from chalicelib.domain.errors import ReferenceDataMissing

    name = "dk_kommuner_dagi2014_wgs84.geojson"
    try:
        doc = orjson.loads(_read(name))
        return {f["properties"]["kommunekode"][-3:]: f for f in doc["features"]}
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise ReferenceDataMissing(
            f"the boundary file {DATA / name} is damaged ({exc}): reinstall Mikrokort"
        ) from None


def municipality_codes() -> list[str]:
    return sorted(_kommuner())


@lru_cache(maxsize=1)
def _official_names() -> dict[str, dict[str, str]]:
    """3-digit kommunekode -> language -> official name, from the shipped code list."""
    return {
        row["kommunekode"][-3:]: {"da": row["officielt_navn"], "en": row["official_name_en"]}
        for row in _csv_rows("dk_kommunekoder.csv")
    }


def official_name(kommunekode: str, lang: str = "da") -> str:
    """The name a text gives the municipality: 'Københavns Kommune', 'Bornholms
    Regionskommune', 'Guldborgsund Kommune' (English 'Copenhagen Municipality', ...).

    The DAGI name ('København') is the municipality's short name; a sentence that names the
    municipality uses its official one, with the genitive s only where the name has it.
    Christiansø (0411) is no municipality (the state administers it) and is named as itself.
    A code outside the reference data is named as an unknown municipality with its code, never
    as a bare number."""
    code = kommunekode.strip()[-3:].zfill(3)
    names = _official_names().get(code)
    if names is None:
        return f"ukendt kommune ({code})" if lang == "da" else f"unknown municipality ({code})"
    return names["en" if lang == "en" else "da"]


def load_municipalities(codes: tuple[str, ...] | list[str]) -> list[Municipality]:
    """Municipality models with their real boundaries, for the given 3-digit kommunekoder."""
    from chalicelib.domain.models import Municipality

    known = _kommuner()
    missing = [c for c in codes if c not in known]
    if missing:
        raise ValueError(f"unknown kommunekode(r): {', '.join(missing)}")
    return [
        Municipality(
            kommunekode=c,
            name=known[c]["properties"]["navn"],
            region=known[c]["properties"].get("regionsnavn"),
            boundary=known[c]["geometry"],
        )
        for c in codes
    ]


@lru_cache(maxsize=1)
def _postcode_points() -> dict[str, tuple[float, float, str]]:
    out = {}
    for row in _csv_rows("dk_postnumre.csv"):
        if row["rep_lon"] and row["rep_lat"]:
            out[row["postnr"]] = (float(row["rep_lon"]), float(row["rep_lat"]), row["navn"])
    return out


@lru_cache(maxsize=1)
def postcode_places() -> list[tuple[str, str, float, float, tuple[str, ...]]]:
    """Every postcode district with a point: (postcode, name, lon, lat, its kommunekoder as
    three digits), for finding a town by name."""
    out = []
    for row in _csv_rows("dk_postnumre.csv"):
        if row["rep_lon"] and row["rep_lat"]:
            codes = tuple(c[-3:] for c in (row.get("kommunekoder") or "").split("|") if c)
            out.append(
                (row["postnr"], row["navn"], float(row["rep_lon"]), float(row["rep_lat"]), codes)
            )
    return out


def postcode_point(postcode: str) -> tuple[float, float] | None:
    """A point inside the postcode's district (its representative point), for coarse locations."""
    hit = _postcode_points().get(postcode)
    return (hit[0], hit[1]) if hit else None
