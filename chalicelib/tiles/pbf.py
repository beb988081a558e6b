"""A Mapbox Vector Tile (spec 2.1) of one layer of points, written straight to protobuf bytes.

Why not a general library: a tile here is only ever points with a few flat properties, and the
general encoder (mapbox-vector-tile, through shapely geometries and protobuf objects) spent
about 19 µs a point, the larger part of a street-zoom tile's time, and brought 2 MB into the
Lambda package. The format's part we need is small: a layer (version 2, name, extent), its
features (id, tags, type POINT, one MoveTo), its key and value tables with each key and value
once. Tests decode what this writes with mapbox-vector-tile and with GDAL's MVT driver.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

Scalar = str | int | bool
PointFeature = tuple[int | None, int, int, Mapping[str, Scalar]]  # id, x, y, properties

_MOVE_TO_ONE = 9  # command MoveTo (1) with a count of 1: (1 << 3) | 1


def _varint(out: bytearray, n: int) -> None:
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _varint_of(n: int) -> bytearray:
    out = bytearray()
    _varint(out, n)
    return out


def _zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def _field_bytes(out: bytearray, key: int, data: bytes | bytearray) -> None:
    out.append(key)
    _varint(out, len(data))
    out += data


def _value(v: Scalar) -> bytes:
    """A Value message: string_value (1), uint_value (5) or sint_value (6), bool_value (7)."""
    out = bytearray()
    if isinstance(v, bool):
        out.append(0x38)
        out.append(1 if v else 0)
    elif isinstance(v, int):
        if v >= 0:
            out.append(0x28)
            _varint(out, v)
        else:
            out.append(0x30)
            _varint(out, _zigzag(v))
    else:
        _field_bytes(out, 0x0A, str(v).encode())
    return bytes(out)


# Varints of the numbers a point tile is mostly made of (tag indexes, lengths, zigzagged
# coordinates up to twice the extent), made once: a lookup instead of a loop per number.
_SMALL = 1 << 14
_VARINTS = [bytes(_varint_of(n)) for n in range(_SMALL)]


def _varint_bytes(n: int) -> bytes:
    return _VARINTS[n] if n < _SMALL else bytes(_varint_of(n))


def encode_layer(name: str, features: Iterable[PointFeature], extent: int) -> bytes:
    """One tile holding one layer: each feature a point at (x, y) in the tile's grid (x, y
    >= 0: the caller clamps them into the tile)."""
    keys: dict[str, bytes] = {}  # key -> its index as a varint
    strings: dict[str, bytes] = {}  # string value -> its index as a varint
    others: dict[tuple[type, Scalar], bytes] = {}  # by type too: True and 1 differ
    order: list[Scalar] = []  # every value, in index order
    body = bytearray()
    for fid, x, y, props in features:
        tags = bytearray()
        for k, v in props.items():
            ki = keys.get(k)
            if ki is None:
                ki = keys[k] = _varint_bytes(len(keys))
            if type(v) is str:
                vi = strings.get(v)
                if vi is None:
                    vi = strings[v] = _varint_bytes(len(order))
                    order.append(v)
            else:
                vi = others.get((type(v), v))
                if vi is None:
                    vi = others[(type(v), v)] = _varint_bytes(len(order))
                    order.append(v)
            tags += ki
            tags += vi
        feature = bytearray(b"\x08") + _varint_of(fid) if fid is not None else bytearray()
        if tags:
            feature.append(0x12)
            feature += _varint_bytes(len(tags))
            feature += tags
        zx, zy = x << 1, y << 1  # zigzag of a number >= 0
        geometry = _varint_bytes(zx) + _varint_bytes(zy)
        feature += b"\x18\x01\x22"  # type: POINT; then the geometry: MoveTo(1), x, y
        feature.append(len(geometry) + 1)
        feature.append(_MOVE_TO_ONE)
        feature += geometry
        body.append(0x12)
        body += _varint_bytes(len(feature))
        body += feature
    layer = bytearray(b"\x78\x02")  # version 2
    _field_bytes(layer, 0x0A, name.encode())
    layer += body
    for k in keys:
        _field_bytes(layer, 0x1A, k.encode())
    for v in order:
        if type(v) is str:
            text = v.encode()
            n = len(text)
            # Value { string_value (1) }: its length is the tag, the text's length, the text
            length = _varint_bytes(n)
            layer.append(0x22)
            layer += _varint_bytes(1 + len(length) + n)
            layer.append(0x0A)
            layer += length
            layer += text
        else:
            _field_bytes(layer, 0x22, _value(v))
    layer.append(0x28)  # extent
    _varint(layer, extent)
    tile = bytearray()
    _field_bytes(tile, 0x1A, layer)
    return bytes(tile)
