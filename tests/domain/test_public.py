"""The public shapes: the features the privacy rules build, and the CSV columns, follow them."""

from __future__ import annotations

from chalicelib.domain.models import Curation, Municipality, MunicipalityContact
from chalicelib.domain.privacy import (
    meeting_place_feature,
    public_business,
    public_municipality,
    public_network,
)
from chalicelib.domain.public import (
    PUBLIC_BUSINESS_COLUMNS,
    PublicBusinessProperties,
    PublicMunicipalityProperties,
    PublicNetworkProperties,
)
from tests.factories import business, network, personal


def test_csv_columns_are_the_model_fields_with_the_point() -> None:
    fields = list(PublicBusinessProperties.model_fields)
    assert PUBLIC_BUSINESS_COLUMNS[0] == "id"
    rest = [c for c in PUBLIC_BUSINESS_COLUMNS[1:] if c not in ("lon", "lat")]
    assert rest == [f for f in fields if f not in ("reklamebeskyttet", "updated_at")]
    at = PUBLIC_BUSINESS_COLUMNS.index("location_precision")
    assert PUBLIC_BUSINESS_COLUMNS[at - 2 : at] == ["lon", "lat"]
    assert len(set(PUBLIC_BUSINESS_COLUMNS)) == len(PUBLIC_BUSINESS_COLUMNS)


def test_csv_columns_keep_the_published_order() -> None:
    """The order users' scripts and spreadsheets rely on since the first snapshot; columns
    added later come after the first ones."""
    assert PUBLIC_BUSINESS_COLUMNS == [
        "id", "name", "industry_code", "industry_text", "industry_section", "company_form",
        "company_form_text", "employees", "status", "founded", "ceased", "address", "postcode",
        "city", "municipality", "lon", "lat", "location_precision", "networks", "phone",
        "email", "website", "seated_elsewhere", "workplaces",
    ]  # fmt: skip


def test_the_open_data_files_use_these_columns() -> None:
    from chalicelib.publishing.opendata import BUSINESS_FIELDS
    from chalicelib.publishing.snapshot import CSV_COLUMNS

    assert CSV_COLUMNS == PUBLIC_BUSINESS_COLUMNS
    assert [name for name, _, _ in BUSINESS_FIELDS] == PUBLIC_BUSINESS_COLUMNS


def test_every_csv_column_has_a_value_in_a_public_feature() -> None:
    f = public_business(business())
    assert f is not None
    available = {"id", "lon", "lat", *f["properties"]}
    assert set(PUBLIC_BUSINESS_COLUMNS) <= available


def test_public_features_carry_exactly_the_model_fields() -> None:
    for b in (business(), personal(), personal(curated=Curation(show_contact=True))):
        f = public_business(b)
        assert f is not None
        assert list(f["properties"]) == list(PublicBusinessProperties.model_fields)
        PublicBusinessProperties.model_validate(f["properties"])
    n = public_network(network(members=["10000004"]), ["10000004"])
    assert list(n["properties"]) == list(PublicNetworkProperties.model_fields)
    p = n["properties"]
    assert (p["meeting_place_lon"], p["meeting_place_lat"]) == (11.87, 54.77)
    assert p["municipalities"] == "0376" and p["member_count"] == 1
    assert n["geometry"] is None  # no area: the point is its meeting place's feature
    place = meeting_place_feature(n)
    assert place is not None and place["geometry"] == {
        "type": "Point",
        "coordinates": [11.87, 54.77],
    }
    PublicNetworkProperties.model_validate(p)
    for value in (*f["properties"].values(), *p.values()):  # what GIS files can hold
        assert value is None or isinstance(value, (str, int, float, bool))


def test_timestamps_keep_seconds_and_offset() -> None:
    f = public_business(business())
    assert f is not None
    stamp = f["properties"]["updated_at"]
    assert stamp.endswith("+00:00") and "." not in stamp


def test_municipality_contact_is_published_as_given() -> None:
    square = [[[11.8, 54.7], [11.9, 54.7], [11.9, 54.8], [11.8, 54.8], [11.8, 54.7]]]
    m = Municipality(
        kommunekode="376",
        name="Guldborgsund",
        boundary={"type": "Polygon", "coordinates": square},
        business_contact=MunicipalityContact(name="Erhverv", email="erhverv@example.dk"),
    )
    p = public_municipality(m)["properties"]
    assert list(p) == list(PublicMunicipalityProperties.model_fields)
    assert p["kommunekode"] == "0376"
    assert (p["business_contact_name"], p["business_contact_email"]) == (
        "Erhverv",
        "erhverv@example.dk",
    )
    assert p["business_contact_phone"] is None


def test_workplaces_are_published_flat_by_municipality_and_size_only() -> None:
    from chalicelib.domain.models import Workplace

    units = [
        Workplace(p_number="1000000002", municipality="390", employees="0", address="Vej 1"),
        Workplace(p_number="1000000001", municipality="376", employees="2-4", address="Vej 2"),
        Workplace(p_number="1000000003", municipality="376", employees=None),
        Workplace(p_number="1000000004", municipality="376", employees="5-9", active=False),
    ]
    f = public_business(business(workplaces=units))
    assert f is not None
    assert f["properties"]["workplaces"] == "0376:2-4|0376:?|0390:0"
    assert "Vej 1" not in str(f)  # a unit's address is never published
    assert f["properties"]["seated_elsewhere"] is False
    unread = public_business(business())
    assert unread is not None and unread["properties"]["workplaces"] is None
    local = public_business(business(workplaces=units[:1], seated_elsewhere=True))
    assert local is not None and local["properties"]["seated_elsewhere"] is True
