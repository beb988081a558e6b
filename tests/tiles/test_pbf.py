"""The point layer writer against an independent decoder (mapbox-vector-tile): ids, places at
the grid's corners and beyond 127 (multi-byte varints), strings with Danish letters, unsigned
and negative integers, booleans kept apart from 1 and 0, shared keys and values, an empty tile."""

from __future__ import annotations

import mapbox_vector_tile

from chalicelib.tiles.pbf import encode_layer


def _decode(body: bytes) -> dict:
    return mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})


def test_points_and_their_properties_decode_as_written() -> None:
    features = [
        (12345678, 0, 0, {"name": "Æbleø Tømrer ApS", "count": 1, "cluster": True}),
        (None, 4096, 4096, {"name": "Smed", "count": 300, "cluster": False, "n_F": 0}),
        (2**40, 129, 16000, {"delta": -5, "count": 1, "flag": True}),
    ]
    layer = _decode(encode_layer("businesses", features, 4096))["businesses"]
    assert layer["extent"] == 4096 and layer["version"] == 2
    got = layer["features"]
    assert [f.get("id") for f in got] == [12345678, 0, 2**40]  # no id decodes as 0
    assert [f["geometry"] for f in got] == [
        {"type": "Point", "coordinates": [x, y]} for _, x, y, _ in features
    ]
    for f, (_, _, _, props) in zip(got, features, strict=True):
        assert f["properties"] == props
        for k, v in props.items():
            assert type(f["properties"][k]) is type(v), k  # True stays a bool, 1 an int


def test_an_empty_tile_is_a_layer_without_features() -> None:
    decoded = _decode(encode_layer("businesses", [], 4096))
    assert decoded.get("businesses", {"features": []})["features"] == []


def test_more_than_127_keys_and_values_use_longer_tags() -> None:
    features = [(i, i % 4096, i * 7 % 4096, {f"k{i % 150}": f"name {i}"}) for i in range(300)]
    got = _decode(encode_layer("businesses", features, 4096))["businesses"]["features"]
    assert [(f["id"], f["properties"]) for f in got] == [(i, p) for i, _, _, p in features]
