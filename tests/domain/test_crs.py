"""EPSG:25832 and EPSG:4326 output, bboxes in those CRSs, checked against PROJ (pyproj)."""

from __future__ import annotations

import copy
import math

import orjson
import pytest
from pyproj import Transformer

from chalicelib.domain.crs import (
    EPSG25832,
    SUPPORTED_CRS,
    UTM32_ENVELOPE,
    bbox_to_crs84,
    feature_to_crs,
    geometry_intersects_crs_bbox,
    geometry_to_crs84,
    normalize_crs,
    to_crs_coordinates,
    validate_bbox,
    validate_utm32_bbox,
)
from chalicelib.domain.geo import CRS84, EPSG4326

TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
TO_LONLAT = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)

MM = 0.001
# Half a millimetre of rounding is at most 8e-9 degree of longitude at 57.8 N.
ROUND_TRIP_DEG = 2e-8

PLACES = {
    "Skagen, Grenen": (10.6466, 57.7436),
    "Hirtshals": (9.9608, 57.5881),
    "Blåvandshuk": (8.0765, 55.5580),
    "Esbjerg": (8.4521, 55.4765),
    "Tønder": (8.8640, 54.9330),
    "Gedser": (11.9256, 54.5740),
    "København": (12.5683, 55.6761),
    "Aalborg": (9.9217, 57.0488),
    "Rønne": (14.6923, 55.1037),
    "Svaneke": (15.1400, 55.1360),
    "Christiansø": (15.1875, 55.3203),
}


def utm(lon: float, lat: float) -> tuple[float, float]:
    return TO_UTM.transform(lon, lat)


def lonlat(easting: float, northing: float) -> tuple[float, float]:
    return TO_LONLAT.transform(easting, northing)


# --- the CRS names ---------------------------------------------------------------------------


def test_the_supported_crs_are_the_three_uris() -> None:
    assert EPSG25832 == "http://www.opengis.net/def/crs/EPSG/0/25832"
    assert SUPPORTED_CRS == (CRS84, EPSG4326, EPSG25832)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://www.opengis.net/def/crs/EPSG/0/25832", EPSG25832),
        ("<http://www.opengis.net/def/crs/EPSG/0/25832>", EPSG25832),
        ("https://www.opengis.net/def/crs/EPSG/0/25832", EPSG25832),
        ("EPSG:25832", EPSG25832),
        ("epsg:25832", EPSG25832),
        ("[EPSG:25832]", EPSG25832),
        ("urn:ogc:def:crs:EPSG::25832", EPSG25832),
        ("urn:ogc:def:crs:EPSG:9.8.15:25832", EPSG25832),
        (" EPSG:25832 ", EPSG25832),
        ("http://www.opengis.net/def/crs/EPSG/0/4326", EPSG4326),
        ("<http://www.opengis.net/def/crs/EPSG/0/4326>", EPSG4326),
        ("EPSG:4326", EPSG4326),
        ("urn:ogc:def:crs:EPSG::4326", EPSG4326),
        ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", CRS84),
        ("<http://www.opengis.net/def/crs/OGC/1.3/CRS84>", CRS84),
        ("urn:ogc:def:crs:OGC:1.3:CRS84", CRS84),
        ("urn:ogc:def:crs:OGC::CRS84", CRS84),
        ("OGC:CRS84", CRS84),
        ("[OGC:CRS84]", CRS84),
        ("CRS84", CRS84),
    ],
)
def test_normalize_crs_reads_the_forms_clients_send(value: str, expected: str) -> None:
    assert normalize_crs(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "EPSG:3857",
        "EPSG:25833",
        "EPSG:258320",
        "EPSG:2583",
        "EPSG:025832",
        "EPSG:25832x",
        "EPSG25832",
        "25832",
        "urn:ogc:def:crs:EPSG::3857",
        "http://www.opengis.net/def/crs/EPSG/0/3857",
        "http://www.opengis.net/def/crs/EPSG/0/25832/",
        "http://example.org/def/crs/EPSG/0/25832",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS83",
        "OGC:CRS83",
        "<EPSG:25832",
    ],
)
def test_normalize_crs_refuses_other_crs(value: str) -> None:
    assert normalize_crs(value) is None


def test_an_unsupported_crs_is_a_value_error() -> None:
    point = {"type": "Point", "coordinates": [12.0, 55.0]}
    with pytest.raises(ValueError, match="unsupported CRS"):
        to_crs_coordinates(point, "EPSG:3857")
    with pytest.raises(ValueError, match="unsupported CRS"):
        feature_to_crs(b'{"type":"Feature","geometry":null,"properties":{}}', "EPSG:3857")
    with pytest.raises(ValueError, match="unsupported CRS"):
        bbox_to_crs84((500000, 6100000, 510000, 6110000), "EPSG:3857")


# --- geometries ------------------------------------------------------------------------------


@pytest.mark.parametrize("place", sorted(PLACES))
def test_points_across_denmark_agree_with_proj_to_a_millimetre(place: str) -> None:
    lon, lat = PLACES[place]
    got = to_crs_coordinates({"type": "Point", "coordinates": [lon, lat]}, EPSG25832)
    assert got is not None and got["type"] == "Point"
    easting, northing = got["coordinates"]
    expected_e, expected_n = utm(lon, lat)
    assert abs(easting - expected_e) <= MM
    assert abs(northing - expected_n) <= MM
    # published to the millimetre
    assert easting == round(easting, 3) and northing == round(northing, 3)


def test_bornholm_lies_east_of_the_zone_but_in_its_projection() -> None:
    """Svaneke is 6.1 degrees east of the central meridian: the far edge of the accuracy."""
    got = to_crs_coordinates({"type": "Point", "coordinates": list(PLACES["Svaneke"])}, EPSG25832)
    assert got is not None
    easting, northing = got["coordinates"]
    assert 880_000 < easting < 900_000
    assert 6_110_000 < northing < 6_130_000


def test_a_grid_over_denmark_agrees_with_proj_to_a_millimetre() -> None:
    worst = 0.0
    for i in range(41):
        for j in range(41):
            lon = 7.9 + (15.3 - 7.9) * i / 40
            lat = 54.5 + (57.85 - 54.5) * j / 40
            got = to_crs_coordinates({"type": "Point", "coordinates": [lon, lat]}, EPSG25832)
            assert got is not None
            expected = utm(lon, lat)
            worst = max(
                worst, *(abs(a - b) for a, b in zip(got["coordinates"], expected, strict=True))
            )
    assert worst <= MM


@pytest.mark.parametrize("place", sorted(PLACES))
def test_a_point_survives_the_round_trip(place: str) -> None:
    lon, lat = PLACES[place]
    there = to_crs_coordinates({"type": "Point", "coordinates": [lon, lat]}, EPSG25832)
    back = geometry_to_crs84(there, EPSG25832)
    assert back is not None
    assert abs(back["coordinates"][0] - lon) < ROUND_TRIP_DEG
    assert abs(back["coordinates"][1] - lat) < ROUND_TRIP_DEG


def test_geometry_to_crs84_agrees_with_proj() -> None:
    for easting, northing in [
        (441_000.0, 6_155_000.0),
        (592_000.0, 6_400_000.0),
        (890_000.0, 6_121_000.0),
    ]:
        got = geometry_to_crs84({"type": "Point", "coordinates": [easting, northing]}, EPSG25832)
        assert got is not None
        expected = lonlat(easting, northing)
        assert abs(got["coordinates"][0] - expected[0]) < 1e-9
        assert abs(got["coordinates"][1] - expected[1]) < 1e-9
    swapped = geometry_to_crs84({"type": "Point", "coordinates": [55.5, 12.25]}, EPSG4326)
    assert swapped == {"type": "Point", "coordinates": [12.25, 55.5]}


POLYGON = {
    "type": "Polygon",
    "coordinates": [
        [[12.40, 55.60], [12.70, 55.60], [12.70, 55.80], [12.40, 55.80], [12.40, 55.60]],
        [[12.50, 55.65], [12.55, 55.65], [12.55, 55.70], [12.50, 55.65]],
    ],
}
MULTIPOLYGON = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[8.40, 55.45], [8.50, 55.45], [8.50, 55.50], [8.40, 55.45]]],
        [[[14.90, 55.00], [15.15, 55.00], [15.15, 55.30], [14.90, 55.30], [14.90, 55.00]]],
    ],
}


@pytest.mark.parametrize("geometry", [POLYGON, MULTIPOLYGON], ids=["polygon", "multipolygon"])
def test_every_vertex_of_an_area_agrees_with_proj(geometry: dict) -> None:
    before = copy.deepcopy(geometry)
    got = to_crs_coordinates(geometry, EPSG25832)
    assert geometry == before  # the stored document is not touched
    assert got is not None and got["type"] == geometry["type"]

    def pairs(a, b):  # walk both trees in step: same nesting, same lengths
        if isinstance(a[0], (int, float)):
            yield a, b
            return
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            yield from pairs(x, y)

    n = 0
    for source, projected in pairs(geometry["coordinates"], got["coordinates"]):
        expected = utm(*source)
        assert abs(projected[0] - expected[0]) <= MM
        assert abs(projected[1] - expected[1]) <= MM
        n += 1
    assert n == 9  # both test areas have nine vertices
    # closed rings stay closed, exactly
    rings = (
        got["coordinates"] if geometry is POLYGON else [r for p in got["coordinates"] for r in p]
    )
    assert all(ring[0] == ring[-1] for ring in rings)


def test_an_area_survives_the_round_trip() -> None:
    there = to_crs_coordinates(MULTIPOLYGON, EPSG25832)
    back = geometry_to_crs84(there, EPSG25832)
    assert back is not None
    for part_back, part in zip(back["coordinates"], MULTIPOLYGON["coordinates"], strict=True):
        for ring_back, ring in zip(part_back, part, strict=True):
            for (lon_b, lat_b), (lon, lat) in zip(ring_back, ring, strict=True):
                assert abs(lon_b - lon) < ROUND_TRIP_DEG and abs(lat_b - lat) < ROUND_TRIP_DEG


def test_epsg4326_swaps_the_axes_and_crs84_copies() -> None:
    line = {"type": "LineString", "coordinates": [[12.5, 55.5, 10.0], [12.6, 55.7]]}
    assert to_crs_coordinates(line, EPSG4326) == {
        "type": "LineString",
        "coordinates": [[55.5, 12.5, 10.0], [55.7, 12.6]],
    }
    same = to_crs_coordinates(line, CRS84)
    assert same == line and same is not line


def test_heights_and_other_members_are_kept() -> None:
    point = {"type": "Point", "coordinates": [12.5, 55.5, 42.0]}
    got = to_crs_coordinates(point, EPSG25832)
    assert got is not None and got["coordinates"][2] == 42.0 and len(got["coordinates"]) == 3


def test_a_geometry_collection_is_converted_part_by_part() -> None:
    collection = {
        "type": "GeometryCollection",
        "geometries": [{"type": "Point", "coordinates": [9.0, 56.0]}, POLYGON],
    }
    got = to_crs_coordinates(collection, EPSG25832)
    assert got is not None
    point = got["geometries"][0]["coordinates"]
    assert point == pytest.approx(list(utm(9.0, 56.0)), abs=MM)
    assert abs(point[0] - 500_000.0) <= MM  # on the central meridian


def test_no_geometry_stays_none() -> None:
    assert to_crs_coordinates(None, EPSG25832) is None
    assert geometry_to_crs84(None, EPSG25832) is None


# --- features --------------------------------------------------------------------------------

NETWORK = orjson.dumps(
    {
        "type": "Feature",
        "id": "netv-1",
        "geometry": MULTIPOLYGON,
        "properties": {
            "name": "Netværk Vest",
            "meeting_place_name": "Havnen",
            "meeting_place_lon": 8.4521,
            "meeting_place_lat": 55.4765,
            "member_count": 12,
        },
    }
)


def test_crs84_features_are_returned_as_the_very_bytes() -> None:
    assert feature_to_crs(NETWORK, CRS84) is NETWORK
    assert feature_to_crs(NETWORK, "OGC:CRS84") is NETWORK


def test_a_feature_in_epsg25832_has_a_projected_geometry_and_the_same_properties() -> None:
    doc = orjson.loads(feature_to_crs(NETWORK, EPSG25832))
    original = orjson.loads(NETWORK)
    assert doc["id"] == original["id"] and doc["type"] == "Feature"
    assert doc["properties"] == original["properties"]  # meeting place stays WGS84 lon/lat
    assert doc["geometry"] == to_crs_coordinates(original["geometry"], EPSG25832)
    first = doc["geometry"]["coordinates"][0][0][0]
    assert first == pytest.approx(list(utm(8.40, 55.45)), abs=MM)


def test_a_feature_in_epsg4326_is_latitude_first() -> None:
    point = orjson.dumps(
        {
            "type": "Feature",
            "id": "b1",
            "geometry": {"type": "Point", "coordinates": [12.5, 55.6]},
            "properties": {"meeting_place_lon": 12.5},
        }
    )
    doc = orjson.loads(feature_to_crs(point, EPSG4326))
    assert doc["geometry"]["coordinates"] == [55.6, 12.5]
    assert doc["properties"] == {"meeting_place_lon": 12.5}


def test_a_feature_without_geometry_is_unchanged() -> None:
    feature = orjson.dumps(
        {"type": "Feature", "id": "n2", "geometry": None, "properties": {"a": 1}}
    )
    assert orjson.loads(feature_to_crs(feature, EPSG25832)) == orjson.loads(feature)


def test_a_feature_bbox_member_follows_the_geometry() -> None:
    feature = orjson.dumps(
        {
            "type": "Feature",
            "id": "x",
            "bbox": [12.4, 55.6, 12.7, 55.8],
            "geometry": POLYGON,
            "properties": {},
        }
    )
    doc = orjson.loads(feature_to_crs(feature, EPSG25832))
    ring = doc["geometry"]["coordinates"][0]
    assert doc["bbox"] == [
        min(p[0] for p in ring),
        min(p[1] for p in ring),
        max(p[0] for p in ring),
        max(p[1] for p in ring),
    ]
    assert doc["bbox"][0] > 100_000  # metres, not degrees


# --- bboxes ----------------------------------------------------------------------------------

# Rectangles in EPSG:25832: Copenhagen, one across the central meridian (its top edge bows
# north there), Bornholm, and the whole of Denmark.
RECTANGLES = {
    "københavn": (715_000.0, 6_170_000.0, 735_000.0, 6_190_000.0),
    "central meridian": (450_000.0, 6_200_000.0, 560_000.0, 6_300_000.0),
    "bornholm": (860_000.0, 6_090_000.0, 900_000.0, 6_140_000.0),
    "denmark": (420_000.0, 6_030_000.0, 900_000.0, 6_420_000.0),
}


def dense_grid(rect: tuple[float, float, float, float], n: int = 150) -> list[tuple[float, float]]:
    """Lon/lat (by PROJ) of an (n+1)^2 grid over the rectangle, edges, corners and the
    central meridian's crossings included."""
    min_e, min_n, max_e, max_n = rect
    eastings = [min_e + (max_e - min_e) * i / n for i in range(n + 1)]
    if min_e < 500_000 < max_e:
        eastings.append(500_000.0)
    northings = [min_n + (max_n - min_n) * j / n for j in range(n + 1)]
    es = [e for e in eastings for _ in northings]
    ns = [nn for _ in eastings for nn in northings]
    lons, lats = TO_LONLAT.transform(es, ns)
    return list(zip(lons, lats, strict=True))


@pytest.mark.parametrize("name", sorted(RECTANGLES))
def test_the_lonlat_box_contains_the_whole_rectangle_and_is_tight(name: str) -> None:
    rect = RECTANGLES[name]
    min_lon, min_lat, max_lon, max_lat = bbox_to_crs84(rect, EPSG25832)
    grid = dense_grid(rect)
    outside = [
        (lon, lat)
        for lon, lat in grid
        if not (min_lon <= lon <= max_lon and min_lat <= lat <= max_lat)
    ]
    assert outside == []
    # tight: no more than 1e-4 degree (about 7-11 m) beyond what the rectangle reaches
    lons = [p[0] for p in grid]
    lats = [p[1] for p in grid]
    assert 0 <= min(lons) - min_lon < 1e-4
    assert 0 <= min(lats) - min_lat < 1e-4
    assert 0 <= max_lon - max(lons) < 1e-4
    assert 0 <= max_lat - max(lats) < 1e-4


def test_the_lonlat_box_agrees_with_proj_transform_bounds() -> None:
    for rect in RECTANGLES.values():
        got = bbox_to_crs84(rect, EPSG25832)
        expected = TO_LONLAT.transform_bounds(*rect, densify_pts=2000)
        for a, b in zip(got, expected, strict=True):
            assert abs(a - b) < 1e-6


def test_the_top_edge_bows_north_at_the_central_meridian() -> None:
    """The reason a box of the corners alone is too small: the top edge's highest latitude is
    at the central meridian, hundreds of metres north of its corners for a wide rectangle."""
    rect = RECTANGLES["central meridian"]
    corners_max_lat = max(lonlat(e, rect[3])[1] for e in (rect[0], rect[2]))
    top_middle = lonlat(500_000.0, rect[3])
    assert top_middle[1] - corners_max_lat > 1e-3
    assert bbox_to_crs84(rect, EPSG25832)[3] >= top_middle[1]


def test_lonlat_bboxes_are_reordered_only() -> None:
    assert bbox_to_crs84((55.5, 12.0, 55.9, 12.8), EPSG4326) == (12.0, 55.5, 12.8, 55.9)
    assert bbox_to_crs84((12.0, 55.5, 12.8, 55.9), CRS84) == (12.0, 55.5, 12.8, 55.9)
    assert bbox_to_crs84((715_000, 6_170_000, 735_000, 6_190_000), "EPSG:25832")[
        0
    ] == pytest.approx(12.4, abs=0.2)


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ((735_000, 6_170_000, 715_000, 6_190_000), "easting is above"),
        ((715_000, 6_190_000, 735_000, 6_170_000), "northing is above"),
        ((8.0, 54.5, 15.3, 57.9), "northings must lie within"),  # degrees
        ((6_170_000, 715_000, 6_190_000, 735_000), "eastings must lie within"),  # N first
        ((-50_000, 6_100_000, 500_000, 6_200_000), "eastings must lie within"),
        ((500_000, 6_100_000, 1_300_000, 6_200_000), "eastings must lie within"),
        ((500_000, 5_000_000, 600_000, 6_200_000), "northings must lie within"),
        ((500_000, 6_100_000, 600_000, 7_500_000), "northings must lie within"),
        ((math.nan, 6_100_000, 600_000, 6_200_000), "finite"),
        ((500_000, 6_100_000, math.inf, 6_200_000), "finite"),
        ((500_000, 6_100_000, 600_000), "four numbers"),
        ((500_000, 6_100_000, 600_000, 6_200_000, 0, 10), "four numbers"),
        (("500000", 6_100_000, 600_000, 6_200_000), "numbers"),
        ((True, 6_100_000, 600_000, 6_200_000), "numbers"),
    ],
)
def test_invalid_utm_bboxes_are_refused(bbox: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_utm32_bbox(bbox)
    with pytest.raises(ValueError, match=message):
        bbox_to_crs84(bbox, EPSG25832)


def test_boxes_over_all_of_denmark_and_its_surroundings_are_accepted() -> None:
    for rect in RECTANGLES.values():
        assert validate_utm32_bbox(rect) == rect
    assert validate_utm32_bbox(UTM32_ENVELOPE) == UTM32_ENVELOPE
    # every named place, Christiansø included, is inside the envelope with room to spare
    for lon, lat in PLACES.values():
        e, n = utm(lon, lat)
        assert UTM32_ENVELOPE[0] + 100_000 < e < UTM32_ENVELOPE[2] - 100_000
        assert UTM32_ENVELOPE[1] + 100_000 < n < UTM32_ENVELOPE[3] - 100_000
    assert validate_utm32_bbox([715_000, 6_170_000, 735_000, 6_190_000]) == (
        715_000.0,
        6_170_000.0,
        735_000.0,
        6_190_000.0,
    )


def test_invalid_lonlat_bboxes_are_refused() -> None:
    with pytest.raises(ValueError, match="latitudes"):
        validate_bbox((12.0, 95.0, 12.5, 96.0), CRS84)
    with pytest.raises(ValueError, match="minimum latitude"):
        validate_bbox((55.9, 12.0, 55.5, 12.8), EPSG4326)
    with pytest.raises(ValueError, match="minimum longitude"):
        bbox_to_crs84((12.8, 55.5, 12.0, 55.9), CRS84)
    # EPSG:4326 is latitude first: 12,55 read as lat 12, lon 55 is fine; 95 as lat is not
    with pytest.raises(ValueError, match="latitudes"):
        validate_bbox((95.0, 12.0, 96.0, 12.5), EPSG4326)


# --- the exact test --------------------------------------------------------------------------

RECT = RECTANGLES["københavn"]
CM = 0.02  # two centimetres


def point_at(easting: float, northing: float) -> dict:
    lon, lat = lonlat(easting, northing)
    return {"type": "Point", "coordinates": [lon, lat]}


@pytest.mark.parametrize(
    ("inside", "outside"),
    [
        ((RECT[0] + CM, 6_180_000.0), (RECT[0] - CM, 6_180_000.0)),  # west edge
        ((RECT[2] - CM, 6_180_000.0), (RECT[2] + CM, 6_180_000.0)),  # east edge
        ((725_000.0, RECT[1] + CM), (725_000.0, RECT[1] - CM)),  # south edge
        ((725_000.0, RECT[3] - CM), (725_000.0, RECT[3] + CM)),  # north edge
        ((RECT[2] - CM, RECT[3] - CM), (RECT[2] + CM, RECT[3] + CM)),  # north-east corner
    ],
)
def test_points_a_few_centimetres_from_an_edge(inside: tuple, outside: tuple) -> None:
    assert geometry_intersects_crs_bbox(point_at(*inside), RECT, EPSG25832) is True
    assert geometry_intersects_crs_bbox(point_at(*outside), RECT, EPSG25832) is False
    # the point inside always passes the stores' lon/lat pre-selection
    box = bbox_to_crs84(RECT, EPSG25832)
    lon, lat = point_at(*inside)["coordinates"]
    assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def square(center_e: float, center_n: float, half: float) -> dict:
    ring = [
        lonlat(center_e - half, center_n - half),
        lonlat(center_e + half, center_n - half),
        lonlat(center_e + half, center_n + half),
        lonlat(center_e - half, center_n + half),
    ]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def test_polygons_a_few_centimetres_from_an_edge() -> None:
    half = 50.0
    near = square(RECT[2] + half - CM, 6_180_000.0, half)  # reaches 2 cm into the rectangle
    far = square(RECT[2] + half + CM, 6_180_000.0, half)  # stops 2 cm short of it
    assert geometry_intersects_crs_bbox(near, RECT, EPSG25832) is True
    assert geometry_intersects_crs_bbox(far, RECT, EPSG25832) is False
    multi = {"type": "MultiPolygon", "coordinates": [far["coordinates"], near["coordinates"]]}
    assert geometry_intersects_crs_bbox(multi, RECT, EPSG25832) is True
    only_far = {"type": "MultiPolygon", "coordinates": [far["coordinates"]]}
    assert geometry_intersects_crs_bbox(only_far, RECT, EPSG25832) is False


def test_a_polygon_around_the_whole_rectangle_intersects_it() -> None:
    around = square(725_000.0, 6_180_000.0, 50_000.0)
    assert geometry_intersects_crs_bbox(around, RECT, EPSG25832) is True
    line = {
        "type": "LineString",
        "coordinates": [
            point_at(700_000.0, 6_180_000.0)["coordinates"],
            point_at(750_000.0, 6_180_000.0)["coordinates"],
        ],
    }
    assert geometry_intersects_crs_bbox(line, RECT, EPSG25832) is True


def test_the_corner_of_the_lonlat_box_is_not_in_the_rectangle() -> None:
    """The lon/lat box holds more than the rectangle; the exact test refuses the rest."""
    min_lon, _, _, max_lat = bbox_to_crs84(RECTANGLES["central meridian"], EPSG25832)
    # the top edge bows north in the middle, so the box's north-west corner is outside it
    corner = {"type": "Point", "coordinates": [min_lon + 1e-6, max_lat - 1e-6]}
    assert geometry_intersects_crs_bbox(corner, RECTANGLES["central meridian"], EPSG25832) is False


def test_the_exact_test_in_lonlat_crs_and_without_geometry() -> None:
    point = {"type": "Point", "coordinates": [12.5, 55.7]}
    assert geometry_intersects_crs_bbox(point, (12.4, 55.6, 12.6, 55.8), CRS84) is True
    assert geometry_intersects_crs_bbox(point, (55.6, 12.4, 55.8, 12.6), EPSG4326) is True
    assert geometry_intersects_crs_bbox(point, (12.4, 55.6, 12.6, 55.8), EPSG4326) is False
    assert geometry_intersects_crs_bbox(None, RECT, EPSG25832) is False
