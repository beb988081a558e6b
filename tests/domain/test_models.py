"""Validation of the domain models."""

import pytest
from pydantic import ValidationError

from chalicelib.domain.models import Point
from tests.factories import business, network


def test_valid_business() -> None:
    b = business()
    assert b.industry_section == "F"
    assert b.location_precision == "address"


@pytest.mark.parametrize("cvr", ["1234567", "123456789", "01234567", "1234567a", ""])
def test_cvr_must_be_8_digits(cvr: str) -> None:
    with pytest.raises(ValidationError, match="id"):
        business(cvr)


def test_industry_code_is_6_digits_and_db25_codes_are_kept() -> None:
    with pytest.raises(ValidationError, match="industry_code"):
        business(industry_code="4332")
    unknown = business(industry_code="340000")  # division 34 does not exist in DB07
    assert unknown.industry_code == "340000"
    assert unknown.industry_section is None


@pytest.mark.parametrize(("lon", "lat"), [(0.0, 51.5), (11.9, 60.0), (-200.0, 55.0), (12.0, 91.0)])
def test_points_must_lie_in_denmark(lon: float, lat: float) -> None:
    with pytest.raises(ValidationError):
        Point(lon=lon, lat=lat)


def test_employee_groups_and_dates() -> None:
    with pytest.raises(ValidationError, match="employees"):
        business(employees="7")
    with pytest.raises(ValidationError, match="ceased"):
        business(status="ceased")
    from datetime import date

    with pytest.raises(ValidationError, match="before founded"):
        business(status="ceased", ceased=date(2010, 1, 1))


def test_network_geometry_must_be_valid_and_in_denmark() -> None:
    square = [[11.8, 54.7], [11.9, 54.7], [11.9, 54.8], [11.8, 54.8], [11.8, 54.7]]
    assert (
        network(area={"type": "Polygon", "coordinates": [square]}).geometry()["type"] == "Polygon"
    )
    bowtie = [[11.8, 54.7], [11.9, 54.8], [11.9, 54.7], [11.8, 54.8], [11.8, 54.7]]
    with pytest.raises(ValidationError, match="not a valid geometry"):
        network(area={"type": "Polygon", "coordinates": [bowtie]})
    abroad = [[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]]
    with pytest.raises(ValidationError, match="outside Denmark"):
        network(area={"type": "Polygon", "coordinates": [abroad]})
    with pytest.raises(ValidationError, match="Polygon or MultiPolygon"):
        network(area={"type": "LineString", "coordinates": square})
    with pytest.raises(ValidationError, match="meeting_place, an area"):
        network(meeting_place=None)
    with pytest.raises(ValidationError):
        network("Not a slug")


def test_areas_are_checked_when_written_and_trusted_when_read_back() -> None:
    """A self-intersecting area is refused from a client; a stored document (checked when it
    was written) is read back without repeating the costly check."""
    import orjson
    import pytest
    from pydantic import ValidationError

    from chalicelib.domain.models import STORED, Network

    bowtie = {
        "type": "Polygon",
        "coordinates": [[[11, 54], [12, 55], [12, 54], [11, 55], [11, 54]]],
    }
    doc = orjson.dumps({"id": "net-a", "name": "Net A", "area": bowtie, "municipalities": ["376"]})
    with pytest.raises(ValidationError):
        Network.model_validate_json(doc)
    assert Network.model_validate_json(doc, context=STORED).area == bowtie


def test_the_size_choices_hold_every_business_once() -> None:
    """The map's choices split every size group, and no group, between them: the map data
    counts the second as what the first leaves."""
    from chalicelib.domain.models import EMPLOYEE_GROUPS, NO_SIZE_GROUP, SIZE_CHOICES

    groups = [g for choice in SIZE_CHOICES.values() for g in choice]
    assert sorted(groups) == sorted([*EMPLOYEE_GROUPS, NO_SIZE_GROUP])
    assert list(SIZE_CHOICES) == ["micro", "larger"]
