"""The privacy rules of the design, on hand-built businesses."""

import orjson
import pytest

from chalicelib.domain.geo import GRID_LAT_STEP, GRID_LON_STEP
from chalicelib.domain.models import ENTITY_FORMS, PERSONALLY_OWNED_FORMS, Curation, Point
from chalicelib.domain.privacy import (
    is_personally_owned_form,
    personally_owned,
    public_business,
)
from chalicelib.store import open_store
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


def _unprotected(f: dict) -> bool:
    p = f["properties"]
    return p["address"] is not None or any(p[k] is not None for k in ("phone", "email", "website"))


@pytest.mark.parametrize("form", [None, "XYZ", "ØVR", "UDL", "ENK", "PMV", "I/S", "DØD", "FFO"])
def test_unknown_or_missing_company_form_is_treated_as_personally_owned(form: str | None) -> None:
    f = public_business(business(company_form=form))
    assert f is not None
    assert not _unprotected(f)
    assert f["properties"]["location_precision"] == "grid"
    assert f["geometry"]["coordinates"] != [11.8729, 54.7691]
    assert _on_grid_centre(*f["geometry"]["coordinates"])


@pytest.mark.parametrize("form", ["APS", "A/S", "IVS", "K/S", "P/S", "SMBA", "FMBA", "AMBA"])
def test_companies_of_their_own_still_show_address_and_contact(form: str) -> None:
    f = public_business(business(company_form=form))
    assert f is not None and _unprotected(f)
    assert f["properties"]["location_precision"] == "address"


def test_the_rule_fails_closed_on_the_form_alone() -> None:
    assert is_personally_owned_form(None) and is_personally_owned_form("")
    assert is_personally_owned_form("unknown") and is_personally_owned_form(" aps ") is False
    assert not ENTITY_FORMS & PERSONALLY_OWNED_FORMS
    assert all(personally_owned(business(company_form=f)) for f in PERSONALLY_OWNED_FORMS)


def test_an_unknown_form_stored_and_read_back_is_published_without_address(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'privacy.db'}")
    store.create_table()
    store.upsert_businesses([business("10000004", company_form=None)])
    f = orjson.loads(store.get_feature("businesses", "10000004"))
    store.close()
    assert not _unprotected(f) and f["properties"]["location_precision"] == "grid"


@pytest.mark.parametrize("form", [None, "XYZ", "ENK", "APS"])
def test_the_model_and_the_privacy_rules_agree_on_who_is_a_person(form: str | None) -> None:
    b = business(company_form=form) if form is not None else business(company_form=None)
    assert b.personally_owned == personally_owned(b) == is_personally_owned_form(form)
