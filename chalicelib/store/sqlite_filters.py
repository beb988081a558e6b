"""A checked filter (`chalicelib.domain.filters`) as a WHERE clause on the businesses table.

Properties with a column of their own (the indexed ones) are compared on the column; every
other property is read from the stored public feature with `json_extract`, so the filter sees
exactly what the public sees. SQL's NULL logic is CQL2's three-valued logic, and LIKE becomes a
case-sensitive GLOB (SQLite's LIKE ignores ASCII case), so both readings agree with the Python
one; the store contract tests hold them to it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain import filters
from chalicelib.domain.filters import Filter, orjson_key

# property -> column, where the column holds the public value itself
_COLUMNS = {
    "industry_code": "b.industry_code",
    "industry_section": "b.industry_section",
    "status": "b.status",
    "employees": "b.employees",
    "founded": "b.founded",
    "ceased": "b.ceased",
}
_SQL_OPS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def point_intersects(lon: float | None, lat: float | None, key: str) -> int | None:
    """SQL function mk_point_intersects: whether a point lies on a filter's geometry."""
    if lon is None or lat is None:
        return None
    from shapely.geometry import Point

    from chalicelib.domain.filters import _shape_of

    return int(_shape_of(key).intersects(Point(lon, lat)))


def in_utm32_box(
    lon: float | None, lat: float | None, e0: float, n0: float, e1: float, n1: float
) -> int | None:
    """SQL function mk_in_utm32_box: whether a point lies in an EPSG:25832 rectangle."""
    if lon is None or lat is None:
        return None
    from chalicelib.domain.utm import wgs84_to_utm32

    easting, northing = wgs84_to_utm32(lon, lat)
    return int(e0 <= easting <= e1 and n0 <= northing <= n1)


def where_clause(f: Filter) -> tuple[str, list[Any]]:
    """The SQL condition and its arguments."""
    args: list[Any] = []
    return _sql(f, args), args


def _property(name: str) -> str:
    if name in _COLUMNS:
        return _COLUMNS[name]
    if name == "id":
        return "printf('%08d', b.cvr)"
    return f"json_extract(CAST(b.feature AS TEXT), '$.properties.\"{name}\"')"


def _value(v: Any) -> Any:
    return int(v) if isinstance(v, bool) else v


def _sql(f: Filter, args: list[Any]) -> str:
    kind = f[0]
    if kind in ("and", "or"):
        parts = [_sql(p, args) for p in f[1:]]
        return "(" + f" {kind.upper()} ".join(parts) + ")"
    if kind == "not":
        return f"(NOT {_sql(f[1], args)})"
    if kind == "const":
        return "1" if f[1] else "0"
    if kind == "null":
        if f[1] == "geometry":
            return "(b.lon IS NULL)"
        return f"({_property(f[1])} IS NULL)"
    if kind == "bbox":
        args.extend([f[1][0], f[1][2], f[1][1], f[1][3]])
        return "(b.lon BETWEEN ? AND ? AND b.lat BETWEEN ? AND ?)"
    if kind == "utm32box":
        args.extend(f[1])
        return "mk_in_utm32_box(b.lon, b.lat, ?, ?, ?, ?)"
    if kind == "intersects":
        args.append(orjson_key(f[1]))
        return "mk_point_intersects(b.lon, b.lat, ?)"
    if kind == "cmp":
        _, op, name, value = f
        if name == "municipality" and op in ("=", "<>"):  # the column keeps three digits
            args.append(value[-3:])
            return f"(b.municipality {_SQL_OPS[op]} ?)"
        if name == "id":
            args.append(value)
            return f"(printf('%08d', b.cvr) {_SQL_OPS[op]} ?)"
        args.append(_value(value))
        return f"({_property(name)} {_SQL_OPS[op]} ?)"
    if kind == "in" and f[1] == "municipality":
        args.extend(v[-3:] for v in f[2])
        return f"(b.municipality IN ({','.join('?' * len(f[2]))}))"
    if kind == "in":
        marks = ",".join("?" * len(f[2]))
        args.extend(_value(v) for v in f[2])
        return f"({_property(f[1])} IN ({marks}))"
    if kind == "like":
        args.append(_glob(f[2]))
        return f"({_property(f[1])} GLOB ?)"
    if kind == "ilike":
        args.append(f[2].casefold())
        return f"mk_ilike({_property(f[1])}, ?)"
    raise ValueError(f"unknown filter term {kind!r}")


def ilike(value: str | None, pattern: str) -> int | None:
    """SQL function mk_ilike: CQL text's ILIKE, with Python's case folding (SQLite folds ASCII
    only), the same as the Python reading."""
    if value is None:
        return None
    from chalicelib.domain.filters import like_regex

    return int(like_regex(pattern).fullmatch(str(value).casefold()) is not None)


def _glob(pattern: str) -> str:
    """A CQL2 LIKE pattern as a GLOB pattern: % -> *, _ -> ?, the GLOB specials as classes."""
    parts = {"any": "*", "one": "?"}
    return "".join(parts.get(kind) or _literal(ch) for kind, ch in filters.like_tokens(pattern))


def _literal(ch: str) -> str:
    return f"[{ch}]" if ch in "*?[" else ch
