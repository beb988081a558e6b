"""The query-parameter parsers, on their own."""

from datetime import date

import pytest

from chalicelib.domain.errors import InvalidParameter, UnknownParameter
from chalicelib.domain.geo import EPSG4326
from chalicelib.web import params as P


def test_bbox_four_and_six_numbers() -> None:
    assert P.parse_bbox("11.5,54.5,12.5,55.2") == (11.5, 54.5, 12.5, 55.2)
    assert P.parse_bbox("11.5,54.5,0,12.5,55.2,100") == (11.5, 54.5, 12.5, 55.2)


def test_bbox_in_epsg4326_is_latitude_first() -> None:
    assert P.parse_bbox("54.5,11.5,55.2,12.5", EPSG4326) == (11.5, 54.5, 12.5, 55.2)


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "1,2,3",
        "1,2,3,4,5",
        "1,2,3,4,5,6,7",
        "11,55,12,54",
        "11,54,12,91",
        "11,-95,12,5",
        "13,54,12,55",
        "11,54,nan,55",
        "11,54,inf,55",
        "11,54,200,55",
        "",
    ],
)
def test_bad_bbox_names_the_parameter(value: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        P.parse_bbox(value)
    assert err.value.parameter == "bbox"


def test_limit_default_clamp_and_errors() -> None:
    assert P.parse_limit(None) == 100
    assert P.parse_limit("7") == 7
    assert P.parse_limit("999999") == P.LIMIT_MAX
    for bad in ("0", "-1", "unlimited", "1.5", ""):
        with pytest.raises(InvalidParameter) as err:
            P.parse_limit(bad)
        assert err.value.parameter == "limit"


def test_datetime_instants_and_intervals() -> None:
    assert P.parse_datetime("2020-05-01") == (date(2020, 5, 1), date(2020, 5, 1))
    assert P.parse_datetime("2020-05-01T12:00:00Z") == (date(2020, 5, 1), date(2020, 5, 1))
    assert P.parse_datetime("2015-01-01/2024-01-01") == (date(2015, 1, 1), date(2024, 1, 1))
    assert P.parse_datetime("../2024-01-01") == (None, date(2024, 1, 1))
    assert P.parse_datetime("2015-01-01/") == (date(2015, 1, 1), None)


def test_datetime_bounds_that_gis_clients_send() -> None:
    # GDAL 3.6 writes a date-only bound with a trailing T; QGIS 3.22 closes open intervals
    # with year 0000 and 9999; a `+` of an offset may arrive as a space
    assert P.parse_datetime("2020-01-01T/..") == (date(2020, 1, 1), None)
    assert P.parse_datetime("..%2F2020-01-01T".replace("%2F", "/")) == (None, date(2020, 1, 1))
    assert P.parse_datetime("2016-05-17T") == (date(2016, 5, 17), date(2016, 5, 17))
    assert P.parse_datetime("0000-01-01T00:00:00Z/2020-01-01") == (None, date(2020, 1, 1))
    assert P.parse_datetime("2020-01-01/9999-12-31T00:00:00Z") == (
        date(2020, 1, 1),
        date(9999, 12, 31),
    )
    assert P.parse_datetime("2020-01-01T23:30:00.123-02:00") == (date(2020, 1, 2),) * 2
    assert P.parse_datetime("2020-01-01T00:30:00 02:00") == (date(2019, 12, 31),) * 2


@pytest.mark.parametrize(
    "value", ["yesterday", "2020-13-01", "2024-01-01/2020-01-01", "../..", "/", "a/b/c", "2020"]
)
def test_bad_datetime(value: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        P.parse_datetime(value)
    assert err.value.parameter == "datetime"


def test_filters() -> None:
    assert P.parse_municipality("0376") == "376"
    assert P.parse_municipality("390") == "390"
    assert P.parse_industry("f") == "F"
    assert P.parse_industry("4332") == "4332"
    assert P.parse_status("ceased") == "ceased"
    assert P.parse_network("erhvervsnetvaerk-falster") == "erhvervsnetvaerk-falster"
    for parser, bad, name in [
        (P.parse_municipality, "12", "municipality"),
        (P.parse_municipality, "1376", "municipality"),
        (P.parse_industry, "Z", "industry"),
        (P.parse_industry, "4", "industry"),
        (P.parse_industry, "4332001", "industry"),
        (P.parse_status, "open", "status"),
        (P.parse_network, "Not A Slug", "network"),
        (P.parse_text, "   ", "q"),
        (P.parse_text, "x" * 101, "q"),
        (P.parse_crs, "EPSG:3857", "crs"),
    ]:
        with pytest.raises(InvalidParameter) as err:
            parser(bad)
        assert err.value.parameter == name


def test_unknown_and_repeated_parameters() -> None:
    with pytest.raises(UnknownParameter) as err:
        P.single_values({"ooga": ["booga"]}, ("bbox",))
    assert err.value.parameter == "ooga"
    with pytest.raises(InvalidParameter) as err:
        P.single_values({"bbox": ["1,2,3,4", "1,2,3,4"]}, ("bbox",))
    assert err.value.parameter == "bbox"
    assert P.single_values({"bbox": ["1,2,3,4"]}, ("bbox",)) == {"bbox": "1,2,3,4"}


@pytest.mark.parametrize("text", ["١٠", "1_0", " 10", "10 ", "²", "+", "", "0x10", "1e3"])
def test_only_ascii_digits_are_an_integer(text: str) -> None:
    with pytest.raises(InvalidParameter):
        P.parse_limit(text)


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "١", "1_0", "1,5", "."])
def test_only_ascii_decimals_are_a_number(text: str) -> None:
    with pytest.raises(ValueError):
        P.ascii_float(text)


def test_ascii_numbers_are_read() -> None:
    assert P.ascii_int("0042") == 42 and P.ascii_float("-11.5e0") == -11.5
    assert P.ascii_float(".5") == 0.5 and P.ascii_float("12.") == 12.0
    assert P.parse_bbox("11.8,54.7,11.9,54.8") == (11.8, 54.7, 11.9, 54.8)
    with pytest.raises(InvalidParameter):
        P.parse_bbox("11.8,54.7,11.9,٥٤")
    with pytest.raises(InvalidParameter):
        P.parse_municipality("٣٧٦")
