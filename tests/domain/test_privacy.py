"""The privacy rules of the design, on hand-built businesses."""

from chalicelib.domain.geo import GRID_LAT_STEP, GRID_LON_STEP
from chalicelib.domain.models import Curation, Point
from chalicelib.domain.privacy import public_business
from tests.factories import business, personal


def _on_grid_centre(lon: float, lat: float) -> bool:
    fx = (lon / GRID_LON_STEP) % 1
    fy = (lat / GRID_LAT_STEP) % 1
    return abs(fx - 0.5) < 1e-3 and abs(fy - 0.5) < 1e-3


def test_company_shows_address_point_and_contact() -> None:
    f = public_business(business())
    assert f is not None
    assert f["properties"]["address"] == "Langgade 12"
    assert f["geometry"]["coordinates"] == [11.8729, 54.7691]
    assert f["properties"]["location_precision"] == "address"
    assert f["properties"]["email"] == "a@b.example"


def test_personally_owned_firm_is_coarsened_without_address_or_contact() -> None:
    f = public_business(personal())
    assert f is not None
    props = f["properties"]
    assert props["address"] is None
    assert props["phone"] is None and props["email"] is None and props["website"] is None
    assert props["location_precision"] == "grid"
    lon, lat = f["geometry"]["coordinates"]
    assert (lon, lat) != (11.8729, 54.7691)
    assert _on_grid_centre(lon, lat)
    assert abs(lon - 11.8729) <= GRID_LON_STEP / 2 and abs(lat - 54.7691) <= GRID_LAT_STEP / 2


def test_opt_ins_show_address_and_contact() -> None:
    f = public_business(personal(curated=Curation(show_address=True, show_contact=True)))
    assert f is not None
    assert f["properties"]["address"] == "Langgade 12"
    assert f["geometry"]["coordinates"] == [11.8729, 54.7691]
    assert f["properties"]["phone"] == "+45 12 34 56 78"


def test_reklamebeskyttet_never_shows_contact() -> None:
    for b in (
        business(reklamebeskyttet=True),
        personal(reklamebeskyttet=True, curated=Curation(show_contact=True)),
    ):
        f = public_business(b)
        assert f is not None
        assert (f["properties"]["phone"], f["properties"]["email"], f["properties"]["website"]) == (
            None,
            None,
            None,
        )


def test_hidden_business_is_not_published() -> None:
    assert public_business(business(curated=Curation(hidden=True))) is None


def test_manual_location_fix_wins_and_is_still_coarsened_for_personal_firms() -> None:
    fix = Point(lon=11.95, lat=54.80)
    f = public_business(business(curated=Curation(location=fix)))
    assert f is not None and f["geometry"]["coordinates"] == [11.95, 54.8]
    g = public_business(personal(curated=Curation(location=fix)))
    assert g is not None and g["geometry"]["coordinates"] != [11.95, 54.8]
    assert g["properties"]["location_precision"] == "grid"


def test_postcode_precision_is_published_as_is() -> None:
    f = public_business(personal(location_precision="postcode"))
    assert f is not None
    assert f["properties"]["location_precision"] == "postcode"
    assert f["geometry"]["coordinates"] == [11.8729, 54.7691]
