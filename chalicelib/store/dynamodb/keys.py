"""Key design of the DynamoDB store: item keys, index keys, and the viewport query plan.

Pure functions, no boto3: the plan for a bbox is tested and benchmarked on its own.

Spatial index: latitude *strips* at six sizes (0.001 degree x 4^level, from about 110 m to
about 114 km tall), one GSI per size. A business is indexed in every size: partition key
`<level>#<strip row>`, sort key `<x code>#<cvr>` where the x code is the longitude in steps of
1e-5 degree. A viewport becomes one sort-key range Query per strip it crosses, at the finest
size for which it crosses at most `MAX_STRIPS` strips. What a Query reads beyond the viewport
is only the part of the first and last strip above or below it, so read amplification stays
near 1 + strip height / viewport height.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from chalicelib.domain.geo import DENMARK_BOUNDS

LAT0 = 54.0  # south of Gedser
LON0 = 7.0  # west of Blåvandshuk
X_STEP = 1e-5  # degrees of longitude per x code
BASE_STRIP = 0.001  # degrees of latitude of level 0
LEVELS = 6
MAX_STRIPS = 8
MAX_QUERIES_PER_PAGE = 8  # a page stops short (with a `next` link) rather than read more

ID_SHARDS = "123456789"  # by-id index: one partition per leading CVR digit, in order


def strip_height(level: int) -> float:
    return BASE_STRIP * 4**level


def strip_row(lat: float, level: int) -> int:
    return math.floor((lat - LAT0) / strip_height(level))


def x_code(lon: float) -> int:
    return max(0, math.floor((lon - LON0) / X_STEP))


def strip_pk(level: int, row: int) -> str:
    return f"{level}#{row}"


def strip_sk(lon: float, cvr: str) -> str:
    return f"{x_code(lon):07d}#{cvr}"


def business_pk(cvr: str) -> str:
    return f"BIZ#{cvr}"


def network_pk(network_id: str) -> str:
    return f"NET#{network_id}"


@dataclass(frozen=True)
class StripRange:
    """One Query: a strip partition and a sort-key range."""

    level: int
    row: int
    sk_low: str
    sk_high: str
    share: float  # the part of the strip's height inside the viewport

    @property
    def pk(self) -> str:
        return strip_pk(self.level, self.row)


def viewport_plan(bbox: tuple[float, float, float, float]) -> tuple[int, list[StripRange]]:
    """The level and the strip ranges (in paging order) that cover a viewport."""
    # Nothing lies outside Denmark: a larger box is planned as Denmark's own.
    minx, miny = max(bbox[0], DENMARK_BOUNDS[0]), max(bbox[1], DENMARK_BOUNDS[1])
    maxx, maxy = min(bbox[2], DENMARK_BOUNDS[2]), min(bbox[3], DENMARK_BOUNDS[3])
    if minx > maxx or miny > maxy:
        return 0, []
    level = LEVELS - 1
    for lv in range(LEVELS):
        if strip_row(maxy, lv) - strip_row(miny, lv) + 1 <= MAX_STRIPS:
            level = lv
            break
    low = f"{x_code(minx):07d}#"
    high = f"{x_code(maxx):07d}#~"  # '~' sorts after every CVR digit
    h = strip_height(level)
    out = []
    for r in range(strip_row(miny, level), strip_row(maxy, level) + 1):
        bottom = LAT0 + r * h
        share = (min(maxy, bottom + h) - max(miny, bottom)) / h
        out.append(StripRange(level, r, low, high, max(0.0, min(1.0, share))))
    return level, out
