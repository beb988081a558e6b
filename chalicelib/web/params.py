"""Pure parsers of the query parameters of the API, one per parameter.

Each raises `InvalidParameter` naming the parameter, which the HTTP layer turns into a 400.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

from chalicelib.domain.crs import EPSG25832, SUPPORTED_CRS, normalize_crs, validate_utm32_bbox
from chalicelib.domain.errors import InvalidParameter, UnknownParameter
from chalicelib.domain.geo import CRS84, EPSG4326, BBox

LIMIT_DEFAULT = 100
LIMIT_MAX = 10_000

COMMON_ITEM_PARAMS = ("bbox", "bbox-crs", "limit", "datetime", "cursor", "crs", "f")
COLLECTION_FILTERS: dict[str, tuple[str, ...]] = {
    "businesses": ("municipality", "industry", "network", "status", "size", "q"),
    "networks": ("municipality", "q"),
    "network-meeting-places": ("municipality", "q"),
    "municipalities": ("q",),
}

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Python's int() and float() also read Arabic-Indic or superscript digits, "1_000", " 7 ", "nan"
# and "inf"; a number in a URL is only ever ASCII digits.
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def ascii_int(text: str) -> int:
    """An integer written with ASCII digits only (ValueError otherwise)."""
    if not _INTEGER.fullmatch(text):
        raise ValueError(f"not an integer: {text!r}")
    return int(text)


def ascii_float(text: str) -> float:
    """A decimal number written with ASCII digits only, never nan or inf (ValueError otherwise)."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"not a number: {text!r}")
    return float(text)


_SECTION = re.compile(r"^[A-Ua-u]$")
_CODE_PREFIX = re.compile(r"^[0-9]{2,6}$")


def single_values(params: dict[str, list[str]], allowed: tuple[str, ...]) -> dict[str, str]:
    """Reject unknown and repeated parameters; return one value per known parameter."""
    out: dict[str, str] = {}
    for name, values in params.items():
        if name not in allowed:
            raise UnknownParameter(
                f"unknown query parameter '{name}'; this resource accepts: {', '.join(allowed)}",
                parameter=name,
            )
        if len(values) != 1:
            raise InvalidParameter(f"parameter '{name}' is given more than once", parameter=name)
        out[name] = values[0]
    return out


def parse_crs(value: str | None, name: str = "crs") -> str:
    if value is None or value == "":
        return CRS84
    canonical = normalize_crs(value)
    if canonical is None:
        raise InvalidParameter(f"{name} must be one of {', '.join(SUPPORTED_CRS)}", parameter=name)
    return canonical


def parse_bbox(value: str, crs: str = CRS84) -> BBox:
    """minLon,minLat,maxLon,maxLat (or 6 numbers with heights) in CRS84; lat/lon in EPSG:4326."""
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise InvalidParameter(
            f"bbox needs 4 numbers (or 6 with heights), got {len(parts)}", parameter="bbox"
        )
    try:
        nums = [ascii_float(p.strip()) for p in parts]
    except ValueError:
        raise InvalidParameter(
            "bbox must be comma-separated numbers: minLon,minLat,maxLon,maxLat", parameter="bbox"
        ) from None
    if not all(math.isfinite(n) for n in nums):
        raise InvalidParameter("bbox numbers must be finite", parameter="bbox")
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if crs == EPSG25832:  # easting, northing in metres; the caller keeps the exact test
        try:
            return validate_utm32_bbox(nums)
        except ValueError as exc:
            raise InvalidParameter(f"bbox (EPSG:25832): {exc}", parameter="bbox") from None
    if crs == EPSG4326:  # EPSG:4326 is latitude first
        nums = [nums[1], nums[0], nums[3], nums[2]]
    minx, miny, maxx, maxy = nums
    if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidParameter("bbox latitudes must lie within -90..90", parameter="bbox")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
        raise InvalidParameter("bbox longitudes must lie within -180..180", parameter="bbox")
    if miny > maxy:
        raise InvalidParameter("bbox minimum latitude is above its maximum", parameter="bbox")
    if minx > maxx:
        raise InvalidParameter(
            "bbox minimum longitude is above its maximum (boxes across the antimeridian are "
            "not supported)",
            parameter="bbox",
        )
    return (minx, miny, maxx, maxy)


def parse_limit(value: str | None) -> int:
    """A positive integer; above the maximum it is clamped, as OGC API - Features says."""
    if value is None:
        return LIMIT_DEFAULT
    try:
        n = ascii_int(value)
    except ValueError:
        raise InvalidParameter(
            f"limit must be an integer from 1 to {LIMIT_MAX}", parameter="limit"
        ) from None
    if n < 1:
        raise InvalidParameter(f"limit must be at least 1, got {n}", parameter="limit")
    return min(n, LIMIT_MAX)


_OPEN = ("", "..")


def _parse_instant(text: str) -> date | None:
    """The UTC day of an RFC 3339 date or date-time (None for year 0000, the open bound QGIS
    sends). Also read: GDAL's date-only `2020-01-01T`, and an offset whose `+` a query string
    turned into a space."""
    original = text
    text = text.strip()
    if text[:4] == "0000" and re.fullmatch(r"0000-[0-9]{2}-[0-9]{2}(?:[Tt ].*)?", text):
        return None
    if text.endswith(("T", "t")) and len(text) == 11:
        text = text[:-1]
    if re.search(r"[0-9] [0-9]{2}:?[0-9]{2}$", text) and ("T" in text or "t" in text):
        text = text[:-6] + "+" + text[-5:]
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        if "T" not in text and "t" not in text:
            raise ValueError(text)
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError:
        raise InvalidParameter(
            f"datetime '{original}' is not an RFC 3339 date or date-time "
            "(e.g. 2024-01-01, 2024-01-01T00:00:00Z, 2020-01-01/2024-12-31, 2020-01-01/..)",
            parameter="datetime",
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def parse_datetime(value: str) -> tuple[date | None, date | None]:
    """An instant or an interval `start/end` (either end may be `..` or empty), as the first and
    last day it touches: a date property (one day long) intersects it when it lies between the
    two, ends included. (None, None) selects everything that has a date."""
    if "/" not in value:
        if value.strip() in _OPEN:
            raise InvalidParameter("datetime is empty", parameter="datetime")
        day = _parse_instant(value)
        return (day, day)
    start_text, _, end_text = value.partition("/")
    if "/" in end_text:
        raise InvalidParameter("datetime has more than one '/'", parameter="datetime")
    if start_text.strip() in _OPEN and end_text.strip() in _OPEN:
        raise InvalidParameter("datetime interval must have at least one end", parameter="datetime")
    start = None if start_text.strip() in _OPEN else _parse_instant(start_text)
    end = None if end_text.strip() in _OPEN else _parse_instant(end_text)
    if start is not None and end is not None and start > end:
        raise InvalidParameter("datetime interval starts after it ends", parameter="datetime")
    return (start, end)


def parse_municipality(value: str) -> str:
    if not (value.isascii() and value.isdigit() and len(value) in (3, 4)) or (
        len(value) == 4 and value[0] != "0"
    ):
        raise InvalidParameter(
            "municipality must be a kommunekode such as 376 (or 0376)", parameter="municipality"
        )
    return value[-3:]


def parse_industry(value: str) -> str:
    if _SECTION.match(value):
        return value.upper()
    if _CODE_PREFIX.match(value):
        return value
    raise InvalidParameter(
        "industry must be a DB07 section letter (A-U) or the first 2 to 6 digits of a code",
        parameter="industry",
    )


def parse_network(value: str) -> str:
    if not _SLUG.match(value) or len(value) > 80:
        raise InvalidParameter("network must be a network id (a slug)", parameter="network")
    return value


def parse_size(value: str) -> tuple[str, ...]:
    """`size`: comma-separated CVR size groups (0, 1, 2-4, ..., 1000+), `micro` for the four of
    0-9 employees, and `unknown` for businesses without a size group (NO_SIZE_GROUP)."""
    from chalicelib.domain.models import EMPLOYEE_GROUPS, MICRO_GROUPS, NO_SIZE_GROUP

    groups: set[str] = set()
    for part in value.split(","):
        part = part.strip()
        if part == "micro":
            groups |= MICRO_GROUPS
        elif part == "unknown":
            groups.add(NO_SIZE_GROUP)
        elif part in EMPLOYEE_GROUPS:
            groups.add(part)
        else:
            raise InvalidParameter(
                f"size must be comma-separated size groups ({', '.join(EMPLOYEE_GROUPS)}), "
                "'micro' (0-9 employees) or 'unknown' (no size group in the register)",
                parameter="size",
            )
    order = list(EMPLOYEE_GROUPS)
    return tuple(sorted(groups, key=lambda g: order.index(g) if g else -1))


def parse_status(value: str) -> str:
    if value not in ("active", "ceased"):
        raise InvalidParameter("status must be 'active' or 'ceased'", parameter="status")
    return value


def parse_text(value: str) -> str:
    text = value.strip()
    if not 1 <= len(text) <= 100:
        raise InvalidParameter("q must be 1 to 100 characters", parameter="q")
    return text


DOC_FORMATS = ("json", "geojson")
ITEM_FORMATS = ("json", "geojson", "jsonfg", "csv", "html")


def parse_format(value: str | None, allowed: tuple[str, ...] = DOC_FORMATS) -> str | None:
    """The `f` parameter, one of `allowed` (None when it is not given)."""
    if value is None:
        return None
    if value not in allowed:
        names = ", ".join(f"'{a}'" for a in allowed)
        raise InvalidParameter(f"f must be one of {names}", parameter="f")
    return value


def parse_properties(value: str, known: Iterable[str]) -> tuple[str, ...]:
    """`properties=a,b,c`: the names of the properties each feature keeps, in the order given,
    each once. Empty: none. A name the collection does not have is a 400 that lists them."""
    names = list(known)
    picked: list[str] = []
    for part in value.split(","):
        name = part.strip()
        if not name and value.strip() == "":
            continue
        if name not in names:
            shown = name if len(name) <= 60 else name[:60] + "..."
            raise InvalidParameter(
                f"properties: unknown property '{shown}'; the properties are: {', '.join(names)}",
                parameter="properties",
            )
        if name not in picked:
            picked.append(name)
    return tuple(picked)


def parse_bool(value: str, name: str) -> bool:
    """`true` or `false` (any case)."""
    text = value.strip().lower()
    if text not in ("true", "false"):
        raise InvalidParameter(f"{name} must be 'true' or 'false'", parameter=name)
    return text == "true"


LANGUAGES = ("da", "en")


def parse_language(value: str) -> str:
    """`lang`: the language of a page, `da` or `en`."""
    if value not in LANGUAGES:
        raise InvalidParameter("lang must be 'da' or 'en'", parameter="lang")
    return value
