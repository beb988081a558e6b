"""The answers the GIS clients must reach, computed independently of the service's filters.

Every expected answer here comes from the whole collection read with plain HTTP (every page,
following `next` links, no filter parameter at all) and filtered in Python by the meaning the
target API gives each property (docs: the flat properties of issue 17). Asking the service the
same question (`datetime=...`, `filter=...`) would only test that it agrees with itself.

A filter is written once, as the expression a user types in QGIS's query builder or passes to
`ogrinfo -where`: the two dialects agree on what is used here (`=`, `>=`, `<`, `IN`, `LIKE`,
which is case-sensitive in both, OGR SQL since GDAL 3.1), and CQL2 text shares the syntax.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.conftest import walk

COLLECTIONS = ("businesses", "networks", "network-meeting-places", "municipalities")
# Guldborgsund's middle (Nykøbing Falster and around): several hundred demo businesses
BBOX = (11.80, 54.70, 12.00, 54.80)
# A cut-off date before the demo's founding dates thin out (they start in 1980)
BEFORE = "2000-01-01"

_cache: dict[tuple[str, str], list[dict]] = {}


def features(http: requests.Session, server: str, collection: str) -> list[dict]:
    """Every feature of a collection, every page walked (cached per server: the demo store
    does not change while the session runs)."""
    key = (server, collection)
    if key not in _cache:
        pages = walk(http, f"{server}/collections/{collection}/items", limit=10000)
        _cache[key] = [f for page in pages for f in page["features"]]
    return _cache[key]


def number_matched(http: requests.Session, server: str, collection: str) -> int:
    """The API's own count of a whole collection (what QGIS shows as the layer's count)."""
    r = http.get(f"{server}/collections/{collection}/items", params={"limit": 1}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["numberMatched"]


def ids(feats: Iterable[dict]) -> set[str]:
    return {str(f["id"]) for f in feats}


def prop(feature: dict, name: str) -> Any:
    return (feature.get("properties") or {}).get(name)


@dataclass(frozen=True)
class Filter:
    """One filter a GIS user sets: its expression and what it means."""

    name: str
    expression: str  # QGIS expression / OGR SQL WHERE / CQL2 text
    keep: Callable[[dict], bool]

    def select(self, feats: Iterable[dict]) -> list[dict]:
        return [f for f in feats if self.keep(f)]


def _date(feature: dict, name: str) -> str | None:
    value = prop(feature, name)
    return None if value is None else str(value)[:10]


def founded_on(feats: list[dict]) -> str:
    """A founding date present in the data: the most common one (ties: the earliest), so
    the `=` filter selects more than one business where the demo has such a day."""
    counts = Counter(d for f in feats if (d := _date(f, "founded")))
    assert counts, "no business has a founding date"
    top = max(counts.values())
    return min(d for d, n in counts.items() if n == top)


def business_filters(feats: list[dict]) -> dict[str, Filter]:
    """The filters of the acceptance tests, by name (stable names: they become test ids)."""
    day = founded_on(feats)

    def founded(f: dict) -> str:
        return _date(f, "founded") or ""

    def ceased(f: dict) -> str | None:
        return _date(f, "ceased")

    filters = [
        Filter(
            "founded-since-2020",
            "founded >= '2020-01-01'",
            lambda f: founded(f) >= "2020-01-01",
        ),
        Filter("founded-on-day", f"founded = '{day}'", lambda f: founded(f) == day),
        Filter(
            "founded-before-2000",
            f"founded < '{BEFORE}'",
            lambda f: bool(founded(f)) and founded(f) < BEFORE,
        ),
        Filter(
            "ceased-before-2024",
            "ceased < '2024-01-01'",
            lambda f: (c := ceased(f)) is not None and c < "2024-01-01",
        ),
        Filter(
            "industry-text-like",
            # LIKE is case-sensitive (QGIS, OGR SQL, CQL2): the register writes "Tømrer-"
            "industry_text LIKE '%Tømr%'",
            lambda f: "Tømr" in (prop(f, "industry_text") or ""),
        ),
        Filter(
            "industry-code-like",
            "industry_code LIKE '4332%'",
            lambda f: str(prop(f, "industry_code") or "").startswith("4332"),
        ),
        # the demo's businesses are all in these two: every one is selected...
        Filter(
            "municipality-in",
            "municipality IN ('0376','0390')",
            lambda f: prop(f, "municipality") in ("0376", "0390"),
        ),
        # ...so also one that selects part of them (0101, København, has none in the demo)
        Filter(
            "municipality-in-part",
            "municipality IN ('0390','0101')",
            lambda f: prop(f, "municipality") in ("0390", "0101"),
        ),
    ]
    return {f.name: f for f in filters}


FILTER_NAMES = (
    "founded-since-2020",
    "founded-on-day",
    "founded-before-2000",
    "ceased-before-2024",
    "industry-text-like",
    "industry-code-like",
    "municipality-in",
    "municipality-in-part",
)


def in_bbox(feature: dict, bbox: tuple[float, float, float, float] = BBOX) -> bool:
    """A point feature inside the box (the businesses' published points), edges included."""
    geom = feature.get("geometry")
    if not geom or geom.get("type") != "Point":
        return False
    x, y = geom["coordinates"][:2]
    return bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]


def bbox_filters(feats: list[dict]) -> dict[str, Filter]:
    """An attribute filter together with the bbox (the map's view in QGIS, -spat in GDAL)."""
    plain = business_filters(feats)
    out = {}
    for name in ("industry-code-like", "founded-since-2020"):
        base = plain[name]
        out[f"bbox-{name}"] = Filter(
            f"bbox-{name}", base.expression, lambda f, keep=base.keep: in_bbox(f) and keep(f)
        )
    return out


# -- value by value comparison of exported files ------------------------------------------

_WHEN = re.compile(
    r"(\d{4})[-/](\d{2})[-/](\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$"
)


def _when(text: str) -> tuple[str, dt.datetime | None] | None:
    """A date or date-time as written by the API, GDAL (`2026/12/02 07:40:22+00`), QGIS or
    pandas (`2026-12-02T07:40:22+00:00`): its day, and its instant in UTC when it has a time
    (a time without an offset is taken as UTC: QGIS 3.22 drops the offset it read)."""
    m = _WHEN.match(text.strip())
    if not m:
        return None
    y, mo, d, hh, mm, ss, _frac, tz = m.groups()
    day = f"{y}-{mo}-{d}"
    if hh is None:
        return day, None
    offset = dt.timedelta(0)
    if tz and tz != "Z":
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset = sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    moment = dt.datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss or 0))
    return day, (moment - offset).replace(tzinfo=dt.UTC)


def flat(value: Any) -> Any:
    """A property value as a flat file holds it: lists joined by ";" (the target API's
    convention for networks, municipalities, tags), objects as their JSON."""
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def same_value(api: Any, got: Any, *, fmt: str = "GPKG") -> bool:
    """One API property value against what a file gave back (read by pyogrio). Dates and
    date-times by their day and instant (to the second), numbers to 1e-9, booleans also as
    the 1/0 or true/false of a CSV. Neither a CSV nor a shapefile (dBase) has a null string:
    a null comes back as "" (and an empty CSV cell of a number or date as null); a dBase
    string holds at most 254 bytes, and a date-time only its day. A GPKG keeps everything."""
    shapefile = fmt == "ESRI Shapefile"
    no_null = fmt in ("CSV", "ESRI Shapefile")
    api = flat(api)
    if _is_missing(api):
        return _is_missing(got) or (no_null and got == "")
    if _is_missing(got):
        return no_null and api == ""
    if isinstance(api, bool):
        if isinstance(got, str):
            return got.strip().lower() in (("true", "1", "t") if api else ("false", "0", "f"))
        return bool(got) is api
    if isinstance(api, int | float):
        try:
            return math.isclose(float(api), float(got), rel_tol=0, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    text = str(api)
    when = _when(text)
    if when is not None:
        got_when = _when(got.isoformat() if hasattr(got, "isoformat") else str(got))
        if got_when is None or got_when[0] != when[0]:
            return False
        if shapefile:  # dBase has dates, no date-times: GDAL writes the day
            return True
        return when[1] is None or got_when[1] is None or got_when[1] == when[1]
    if shapefile and len(text.encode()) > 254:
        return text.encode()[:254].decode(errors="ignore").startswith(str(got))
    return str(got) == text


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN / NaT
    except (TypeError, ValueError):
        return False


def compare_file(
    path: Path, fmt: str, collection: str, feats: list[dict], field_order: list[str]
) -> list[str]:
    """Every feature of `feats` found in the exported file, every property and the geometry
    equal; the differences, one line each (empty when the file holds what the API serves).

    `field_order` is the exporting client's field list (its id field first): a shapefile's
    columns are matched to it by position, since dBase cuts names to 10 characters
    (`location_precision` becomes `location_p`, and a clash gets a number). GPKG and CSV keep
    the names; a CSV written with GEOMETRY=AS_WKT has its geometry in a `WKT` column."""
    import pyogrio
    from shapely.geometry import shape

    df = pyogrio.read_dataframe(path)
    columns = [c for c in df.columns if c not in ("geometry", "WKT", "fid")]
    shapefile = fmt == "ESRI Shapefile"
    if shapefile:
        if len(columns) != len(field_order):
            return [f"{path.name}: columns {columns} for the fields {field_order}"]
        mapping = dict(zip(field_order, columns, strict=True))
    else:
        mapping = {name: name for name in field_order if name in columns}
    problems = [f"{path.name}: no column for {n}" for n in field_order if n not in mapping]
    id_col = mapping.get("id")
    if id_col is None:
        return [*problems, f"{path.name}: no id column in {columns}"]
    rows = {str(v): i for i, v in enumerate(df[id_col])}
    if len(rows) != len(df):
        problems.append(f"{path.name}: {len(df)} rows, {len(rows)} distinct ids")
    if set(rows) != ids(feats):
        problems.append(
            f"{path.name}: ids differ: missing {sorted(ids(feats) - set(rows))[:5]}, "
            f"extra {sorted(set(rows) - ids(feats))[:5]}"
        )
    has_geometry = "geometry" in df
    for f in feats:
        i = rows.get(str(f["id"]))
        if i is None:
            continue
        for name, value in (f.get("properties") or {}).items():
            col = mapping.get(name)
            if col is None:
                continue
            got = df[col].iloc[i]
            if not same_value(value, got, fmt=fmt):
                problems.append(f"{collection}/{f['id']} {name}: API {value!r}, file {got!r}")
        if has_geometry:
            got_geom = df.geometry.iloc[i]
            api_geom = f.get("geometry")
            if api_geom is None or got_geom is None or got_geom.is_empty:
                if (api_geom is None) != (got_geom is None or got_geom.is_empty):
                    problems.append(f"{collection}/{f['id']} geometry: {api_geom} vs {got_geom}")
            elif shape(api_geom).hausdorff_distance(got_geom) > 1e-7:
                problems.append(f"{collection}/{f['id']}: geometry differs")
    return problems
