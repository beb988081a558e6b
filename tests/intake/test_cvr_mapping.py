"""CVR company documents -> Business: the shared examples, each rule, odd input, the round trip."""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.demo.generate import generate_businesses
from chalicelib.domain.models import Business, Contact, Curation
from chalicelib.intake.cvr.mapping import (
    MalformedDocument,
    _reason,
    company_of,
    loaded_at,
    map_company,
)
from tests.conftest import FIXTURES
from tests.standins.cvr_documents import address_id_of, company_document, hit

CVR_DIR = FIXTURES / "cvr"
CET = timezone(timedelta(hours=1))


def example(name: str) -> dict[str, Any]:
    return json.loads((CVR_DIR / name).read_text(encoding="utf-8"))


def doc(*, top: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
    """A small company document: metadata fields by keyword, top-level fields in `top`."""
    metadata: dict[str, Any] = {
        "nyesteNavn": {"navn": "Testfirma ApS"},
        "sammensatStatus": "NORMAL",
        "stiftelsesDato": "2015-03-01",
    }
    metadata.update(meta)
    company: dict[str, Any] = {"cvrNummer": 12345678, "virksomhedMetadata": metadata}
    company.update(top or {})
    return company


def address(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "landekode": "DK",
        "vejnavn": "Langgade",
        "husnummerFra": 12,
        "postnummer": 4800,
        "postdistrikt": "Nykøbing F",
        "kommune": {"kommuneKode": 376, "kommuneNavn": "GULDBORGSUND"},
        "adresseId": "0a3f50c8-0000-32b8-e044-0003ba298018",
    }
    base.update(fields)
    return base


def malformed(company: Any) -> str:
    with pytest.raises(MalformedDocument) as caught:
        map_company(company)
    return str(caught.value)


# --- the shared examples --------------------------------------------------------------------


def test_example_company_document() -> None:
    b = map_company(company_of(example("example_virksomhed.json")))
    assert b.model_dump(exclude={"updated_at"}) == {
        "id": "99012358",
        "name": "Fjordlys Tømrer ApS",
        "industry_code": "433200",
        "industry_text": "Tømrer- og bygningssnedkeraktiviteter",
        "company_form": "APS",
        "company_form_code": 80,
        "company_form_text": "Anpartsselskab",
        "employees": "5-9",  # erst monthly, not the older yearly/quarterly/monthly series
        "status": "active",
        "register_status": "normal",
        "founded": date(2019, 3, 1),
        "ceased": None,
        "address": "Fjordlysvej 17B",
        "address_id": "bdd640fb-0667-4ad1-9c80-317fa3b1799d",
        "address_issue": None,
        "postcode": "5000",
        "city": "Odense C",
        "municipality": "461",
        "location": None,
        "location_precision": None,
        "reklamebeskyttet": True,
        "outside_area": False,
        "contact": {
            "phone": "+45 61 23 45 67",
            "email": "kontakt@fjordlys-toemrer.example",
            "website": "https://fjordlys-toemrer.example",
        },
        "curated": Curation().model_dump(),
        "networks": [],
        "source": "cvr",
    }


def test_example_scroll_page() -> None:
    page = example("example_scroll_response_page1.json")
    companies = [company_of(h) for h in page["hits"]["hits"]]
    assert [c["cvrNummer"] for c in companies if c] == [99012358, 99012366]
    first, second = (map_company(c) for c in companies if c)
    # the page holds the metadata only: its bare contact list is not read (it cannot tell a
    # secret number or a fax from a phone), so the company comes without contact details
    assert first.contact == Contact()
    assert first.model_dump(exclude={"updated_at", "contact"}) == map_company(
        company_of(example("example_virksomhed.json"))
    ).model_dump(exclude={"updated_at", "contact"})
    assert (second.id, second.company_form, second.personally_owned) == ("99012366", "ENK", True)
    assert (second.address, second.postcode, second.city) == (
        "Kildeengen 9, 1. tv",
        "5250",
        "Odense SV",
    )
    assert second.employees is None and second.contact.is_empty()
    assert second.industry_section == "M"
    assert loaded_at(companies[1]) == datetime(2025, 11, 3, 21, 7, 44, 918000, tzinfo=CET)
    assert example("example_scroll_response_last.json")["hits"]["hits"] == []


def test_history_arrays_stand_in_for_missing_metadata() -> None:
    company = company_of(example("example_virksomhed.json"))
    assert company is not None
    del company["virksomhedMetadata"]
    b = map_company(company)
    assert (b.name, b.address, b.address_id) == (
        "Fjordlys Tømrer ApS",
        "Fjordlysvej 17B",  # the open period, not the earlier Eksempelstræde address
        "bdd640fb-0667-4ad1-9c80-317fa3b1799d",
    )
    assert (b.industry_code, b.company_form, b.employees) == ("433200", "APS", "5-9")
    assert (b.status, b.founded) == ("active", date(2019, 3, 1))  # virksomhedsstatus, livsforloeb
    assert b.contact == Contact(
        phone="+45 61 23 45 67",
        email="kontakt@fjordlys-toemrer.example",
        website="https://fjordlys-toemrer.example",
    )


def test_current_history_entry_is_the_open_one_else_the_latest() -> None:
    def named(*entries: tuple[str, str | None, str | None]) -> dict[str, Any]:
        company = doc(nyesteNavn=None)
        company["navne"] = [
            {"navn": n, "periode": {"gyldigFra": start, "gyldigTil": end}}
            for n, start, end in entries
        ]
        return company

    open_one = named(("Old", "2010-01-01", "2015-12-31"), ("Now", "2016-01-01", None))
    assert map_company(open_one).name == "Now"
    closed = named(("Later", "2012-01-01", "2018-05-01"), ("Earlier", "2010-01-01", "2011-12-31"))
    assert map_company(closed).name == "Later"


# --- the envelope ---------------------------------------------------------------------------


def test_company_of_accepts_hit_root_and_bare_company() -> None:
    company = doc()
    assert company_of({"_id": "1", "_source": {"Vrvirksomhed": company}}) is company
    assert company_of({"Vrvirksomhed": company}) is company
    assert company_of(company) is company


@pytest.mark.parametrize(
    "record",
    [
        {"_source": {"NewestRetrievedFileTimestamp": "2025-11-04T10:23:05.412+01:00"}},
        {"_source": {"VrproduktionsEnhed": {"pNummer": 1999012341}}},
        {"_source": {"Vrdeltagerperson": {"enhedsNummer": 4099000017}}},
        {"_source": {"Vrvirksomhed": None}},
        {"_source": "Vrvirksomhed"},
        {"NewestRetrievedFileTimestamp": "2025-11-04"},
        [],
        None,
        "cvrNummer",
    ],
)
def test_company_of_skips_records_that_are_not_companies(record: Any) -> None:
    assert company_of(record) is None


def test_company_of_skips_a_production_unit_document() -> None:
    assert company_of(example("example_produktionsenhed.json")) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-11-04T10:23:05.412+01:00", datetime(2025, 11, 4, 10, 23, 5, 412000, tzinfo=CET)),
        ("2025-11-04T09:23:05Z", datetime(2025, 11, 4, 9, 23, 5, tzinfo=UTC)),
        ("2025-11-04T09:23:05", datetime(2025, 11, 4, 9, 23, 5, tzinfo=UTC)),  # no offset: UTC
        ("yesterday", None),
        (20251104, None),
        (None, None),
    ],
)
def test_loaded_at(value: Any, expected: datetime | None) -> None:
    moment = loaded_at(doc(top={"sidstIndlaest": value}))
    assert moment == expected
    assert moment is None or moment.tzinfo is not None


def test_loaded_at_without_the_field_or_a_company() -> None:
    assert loaded_at(doc()) is None
    assert loaded_at("not a company") is None


# --- id and name ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [12345678, "12345678", " 12345678 ", 12345678.0])
def test_cvr_number_as_number_or_numeric_text(value: Any) -> None:
    assert map_company(doc(top={"cvrNummer": value})).id == "12345678"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "no cvrNummer"),
        ("", "no cvrNummer"),
        (123, "cvrNummer 123 is not 8 digits"),
        (123456789, "cvrNummer 123456789 is not 8 digits"),
        ("01234567", "cvrNummer '01234567' is not 8 digits"),
        ("1234567a", "cvrNummer '1234567a' is not 8 digits"),
        (True, "cvrNummer True is not 8 digits"),
        (-12345678, "cvrNummer -12345678 is not 8 digits"),
        ([12345678], "cvrNummer [12345678] is not 8 digits"),
    ],
)
def test_invalid_cvr_number_is_malformed(value: Any, reason: str) -> None:
    assert malformed(doc(top={"cvrNummer": value})) == reason


def test_missing_cvr_number_is_malformed() -> None:
    company = doc()
    del company["cvrNummer"]
    assert malformed(company) == "no cvrNummer"


def test_name_is_stripped_and_cut_to_300() -> None:
    assert map_company(doc(nyesteNavn={"navn": "  Fjordlys  ApS \n"})).name == "Fjordlys ApS"
    assert map_company(doc(nyesteNavn={"navn": "x" * 400})).name == "x" * 300


@pytest.mark.parametrize("value", [None, {"navn": None}, {"navn": "   "}, {"navn": []}, "Navn"])
def test_no_name_is_malformed(value: Any) -> None:
    assert malformed(doc(nyesteNavn=value)) == "no name"


def test_not_a_company_object_is_malformed() -> None:
    assert malformed(["cvrNummer"]) == "not a company object"


# --- address ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "Langgade 12"),
        ({"bogstavFra": "B", "etage": "2", "sidedoer": "th"}, "Langgade 12B, 2. th"),
        ({"etage": "st", "sidedoer": "tv"}, "Langgade 12, st. tv"),
        ({"etage": "1"}, "Langgade 12, 1."),
        ({"etage": "03", "sidedoer": "tv"}, "Langgade 12, 3. tv"),  # the register pads floors
        ({"etage": "01"}, "Langgade 12, 1."),
        ({"sidedoer": "mf"}, "Langgade 12, mf"),
        ({"husnummerTil": 16}, "Langgade 12-16"),
        ({"husnummerFra": "7", "vejnavn": " Gammel  Landevej "}, "Gammel Landevej 7"),
    ],
)
def test_danish_street_address(fields: dict[str, Any], expected: str) -> None:
    b = map_company(doc(nyesteBeliggenhedsadresse=address(**fields)))
    assert b.address == expected
    assert (b.postcode, b.city, b.municipality) == ("4800", "Nykøbing F", "376")
    assert (b.address_id, b.address_issue) == ("0a3f50c8-0000-32b8-e044-0003ba298018", None)


def test_codes_are_zero_padded() -> None:
    a = address(postnummer=800, kommune={"kommuneKode": 51}, landekode=None)
    b = map_company(doc(nyesteBeliggenhedsadresse=a))
    assert (b.postcode, b.municipality, b.address) == ("0800", "051", "Langgade 12")


def test_codes_as_text_are_read_too() -> None:
    a = address(postnummer="4800", kommune={"kommuneKode": "0376"})
    b = map_company(doc(nyesteBeliggenhedsadresse=a))
    assert (b.postcode, b.municipality) == ("4800", "376")


def test_post_office_box() -> None:
    a = address(vejnavn=None, husnummerFra=None, postboks=123, adresseId=None)
    b = map_company(doc(nyesteBeliggenhedsadresse=a))
    assert (b.address, b.address_issue) == ("Postboks 123", "P.O. box: no street address")
    assert (b.postcode, b.municipality, b.address_id) == ("4800", "376", None)


def test_free_text_only() -> None:
    a = address(vejnavn=None, husnummerFra=None, fritekst="Gården\nMarkvejen ved kirken")
    b = map_company(doc(nyesteBeliggenhedsadresse=a))
    assert (b.address, b.address_issue) == (
        "Gården, Markvejen ved kirken",
        "address only as free text",
    )


def test_foreign_address() -> None:
    a = {
        "landekode": "DE",
        "vejnavn": "Hauptstraße",
        "husnummerFra": 5,
        "postnummer": 24937,
        "postdistrikt": "Flensburg",
        "kommune": None,
    }
    b = map_company(doc(nyesteBeliggenhedsadresse=a))
    assert b.address == "Hauptstraße 5, 24937 Flensburg, DE"
    assert (b.postcode, b.municipality, b.city) == (None, None, None)
    assert b.address_issue == "foreign address (DE)"


def test_foreign_address_as_free_text() -> None:
    a = {"landekode": "se", "fritekst": "Storgatan 1\n211 34 Malmö"}
    b = map_company(doc(nyesteBeliggenhedsadresse=a))
    assert (b.address, b.address_issue) == (
        "Storgatan 1, 211 34 Malmö, SE",
        "foreign address (SE)",
    )


@pytest.mark.parametrize("value", [None, {}, "Langgade 12", []])
def test_no_address(value: Any) -> None:
    b = map_company(doc(nyesteBeliggenhedsadresse=value))
    assert (b.address, b.postcode, b.municipality) == (None, None, None)
    assert b.address_issue == "no address in the register"


def test_out_of_range_codes_are_dropped_not_errors() -> None:
    a = address(postnummer=48000, kommune={"kommuneKode": 3760}, adresseId="x" * 65)
    b = map_company(doc(nyesteBeliggenhedsadresse=a))
    assert (b.postcode, b.municipality, b.address_id, b.address) == (
        None,
        None,
        None,
        "Langgade 12",
    )


# --- industry and company form -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("433200", "433200"),
        (433200, "433200"),
        (11100, "011100"),  # a number loses its leading zero
        ("011100", "011100"),
        ("4332000", None),
        ("43.32.00", None),
        ("", None),
        (None, None),
        (4332.5, None),
    ],
)
def test_industry_code(code: Any, expected: str | None) -> None:
    branche = {"branchekode": code, "branchetekst": "Tømrer"}
    b = map_company(doc(nyesteHovedbranche=branche))
    assert (b.industry_code, b.industry_text) == (expected, "Tømrer")


@pytest.mark.parametrize("code", ["980000", "999999", 980000])
def test_unstated_industry_is_unknown_not_sections_t_and_u(code: Any) -> None:
    b = map_company(doc(nyesteHovedbranche={"branchekode": code, "branchetekst": "Uoplyst"}))
    assert (b.industry_code, b.industry_text, b.industry_section) == (None, None, None)


def test_db25_code_unknown_to_db07_is_kept_without_section() -> None:
    branche = {"branchekode": "890100", "branchetekst": "En DB25-branche"}
    b = map_company(doc(nyesteHovedbranche=branche))
    assert (b.industry_code, b.industry_text, b.industry_section) == (
        "890100",
        "En DB25-branche",
        None,
    )
    assert map_company(doc(nyesteHovedbranche={"branchekode": "433200"})).industry_section == "F"


@pytest.mark.parametrize(
    ("short", "expected"),
    [("APS", "APS"), (" ApS ", "APS"), ("a/s", "A/S"), ("enk", "ENK"), ("Ikke en form!", None)],
)
def test_company_form(short: Any, expected: str | None) -> None:
    form = {"kortBeskrivelse": short, "langBeskrivelse": "Anpartsselskab"}
    b = map_company(doc(nyesteVirksomhedsform=form))
    assert (b.company_form, b.company_form_text) == (expected, "Anpartsselskab")


@pytest.mark.parametrize(
    ("short", "code", "personal"),
    [
        (None, 10, True),  # ENK by its code alone
        (None, 15, True),  # PMV
        (None, 30, True),  # I/S
        (None, 80, False),  # APS
        ("APS", 80, False),
        ("APS", 10, True),  # text and code disagree: the person's form wins
        ("ENK", 80, True),
        (None, 990, True),  # "Uoplyst virksomhedsform"
        (None, None, True),
    ],
)
def test_the_privacy_rule_reads_the_form_code_too(
    short: str | None, code: int | None, personal: bool
) -> None:
    form = {"kortBeskrivelse": short, "virksomhedsformkode": code}
    b = map_company(doc(nyesteVirksomhedsform=form))
    assert b.company_form_code == code and b.personally_owned is personal


def test_a_care_of_address_says_so_and_names_nobody() -> None:
    b = map_company(doc(nyesteBeliggenhedsadresse=address(conavn="Revisor Hansen")))
    assert (b.address, b.address_issue) == (
        "Langgade 12",
        "c/o address: registered at another party's address",
    )
    free = address(vejnavn=None, husnummerFra=None, fritekst="c/o Jens Hansen\nLanggade 12")
    b = map_company(doc(nyesteBeliggenhedsadresse=free))
    assert b.address == "Langgade 12" and "Hansen" not in (b.address_issue or "")
    assert b.address_issue == "address only as free text"


# --- employees ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "group"),
    [
        ("ANTAL_0_0", "0"),
        ("ANTAL_1_1", "1"),
        ("ANTAL_2_4", "2-4"),
        ("ANTAL_5_9", "5-9"),
        ("ANTAL_10_19", "10-19"),
        ("ANTAL_20_49", "20-49"),
        ("ANTAL_50_99", "50-99"),
        ("ANTAL_100_199", "100-199"),
        ("ANTAL_200_499", "200-499"),
        ("ANTAL_500_999", "500-999"),
        ("ANTAL_1000_999999", "1000+"),
        ("ANTAL_1000_", "1000+"),
        ("antal_5_9", "5-9"),
        ("ANTAL_20_29", "20-49"),  # a yearly figure in real documents: inside 20-49
        ("ANTAL_3_7", None),  # across two groups
        ("ANTAL_9_5", None),
        ("5-9", None),
    ],
)
def test_employee_interval_codes(interval: str, group: str | None) -> None:
    entry = {"aar": 2025, "maaned": 9, "intervalKodeAntalAnsatte": interval}
    assert map_company(doc(nyesteErstMaanedsbeskaeftigelse=entry)).employees == group


def test_employees_erst_series_first() -> None:
    series = {
        "nyesteErstMaanedsbeskaeftigelse": {"intervalKodeAntalAnsatte": "ANTAL_5_9"},
        "nyesteMaanedsbeskaeftigelse": {"intervalKodeAntalAnsatte": "ANTAL_1_1"},
        "nyesteKvartalsbeskaeftigelse": {"intervalKodeAntalAnsatte": "ANTAL_2_4"},
        "nyesteAarsbeskaeftigelse": {"intervalKodeAntalAnsatte": "ANTAL_10_19"},
    }
    order = [
        ("nyesteErstMaanedsbeskaeftigelse", "5-9"),
        ("nyesteMaanedsbeskaeftigelse", "1"),
        ("nyesteKvartalsbeskaeftigelse", "2-4"),
        ("nyesteAarsbeskaeftigelse", "10-19"),
    ]
    for field, group in order:
        assert map_company(doc(**series)).employees == group
        series[field] = None
    assert map_company(doc(**series)).employees is None


def test_employees_from_count_when_no_interval() -> None:
    entry = {"aar": 2025, "maaned": 9, "antalAnsatte": 7, "intervalKodeAntalAnsatte": None}
    assert map_company(doc(nyesteErstMaanedsbeskaeftigelse=entry)).employees == "5-9"
    entry["antalAnsatte"] = 1500
    assert map_company(doc(nyesteErstMaanedsbeskaeftigelse=entry)).employees == "1000+"
    entry["antalAnsatte"] = "many"
    assert map_company(doc(nyesteErstMaanedsbeskaeftigelse=entry)).employees is None


def test_an_empty_entry_does_not_hide_an_older_series() -> None:
    empty = {"aar": 2025, "maaned": 9, "antalAnsatte": None, "intervalKodeAntalAnsatte": None}
    company = doc(
        nyesteErstMaanedsbeskaeftigelse=empty,
        nyesteAarsbeskaeftigelse={"intervalKodeAntalAnsatte": "ANTAL_2_4"},
    )
    assert map_company(company).employees == "2-4"


def test_the_newest_period_wins_across_the_series() -> None:
    """A 2023 yearly figure is newer than a 2016 monthly one; the metadata's entry can lag
    behind its own history array."""
    company = doc(
        nyesteMaanedsbeskaeftigelse={
            "aar": 2016,
            "maaned": 12,
            "intervalKodeAntalAnsatte": "ANTAL_1_1",
        },
        nyesteAarsbeskaeftigelse={"aar": 2022, "intervalKodeAntalAnsatte": "ANTAL_5_9"},
    )
    company["aarsbeskaeftigelse"] = [{"aar": 2023, "intervalKodeAntalAnsatte": "ANTAL_10_19"}]
    assert map_company(company).employees == "10-19"
    # the same period's end: the finer series wins (December 2023 over the year 2023)
    company["maanedsbeskaeftigelse"] = [
        {"aar": 2023, "maaned": 12, "intervalKodeAntalAnsatte": "ANTAL_2_4"}
    ]
    assert map_company(company).employees == "2-4"
    # a quarter ends with its third month
    company["kvartalsbeskaeftigelse"] = [
        {"aar": 2024, "kvartal": 1, "intervalKodeAntalAnsatte": "ANTAL_20_49"}
    ]
    assert map_company(company).employees == "20-49"


def test_employees_from_the_latest_history_entry() -> None:
    company = doc()
    company["kvartalsbeskaeftigelse"] = [
        {"aar": 2019, "kvartal": 3, "intervalKodeAntalAnsatte": "ANTAL_10_19"},
        {"aar": 2019, "kvartal": 4, "intervalKodeAntalAnsatte": "ANTAL_2_4"},
        {"aar": 2018, "kvartal": 4, "intervalKodeAntalAnsatte": "ANTAL_1_1"},
    ]
    assert map_company(company).employees == "2-4"


def test_exact_counts_are_never_published() -> None:
    entry = {"antalAnsatte": 7, "intervalKodeAntalAnsatte": "ANTAL_5_9"}
    dumped = map_company(doc(nyesteErstMaanedsbeskaeftigelse=entry)).model_dump()
    assert dumped["employees"] == "5-9"
    assert 7 not in dumped.values()


# --- status, founded, ceased ----------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [
        "NORMAL",
        "Normal",
        "normal",
        "Aktiv",
        "UNDER KONKURS",
        "Under konkurs",
        "UNDER FRIVILLIG LIKVIDATION",
        "UNDER REKONSTRUKTION",
        "UNDER REASSUMERING",
        "UNDER TVANGSOPLØSNING",
        "FREMTID",
        "UNDERKONKURS",
        None,
    ],
)
def test_active_status(status: str | None) -> None:
    b = map_company(doc(sammensatStatus=status, virkningsDato="2024-01-01"))
    assert (b.status, b.ceased) == ("active", None)


@pytest.mark.parametrize(
    ("status", "register_status"),
    [
        ("NORMAL", "normal"),
        ("Aktiv", "normal"),
        ("Fremtid", "future"),
        ("Under konkurs", "under_bankruptcy"),
        ("UNDER FRIVILLIG LIKVIDATION", "under_voluntary_liquidation"),
        ("UDEN RETSVIRKNING", "without_legal_effect"),
        ("Uden retsvirkning", "without_legal_effect"),
        ("OPLØST EFTER GRÆNSEOVERSKRIDENDE FUSION", "dissolved"),
        ("TVANGSOPLØST", "compulsorily_dissolved"),
        ("SLETTET", "deleted"),
        ("EN NY STATUS", "unknown"),
        (None, None),
    ],
)
def test_register_status(status: str | None, register_status: str | None) -> None:
    b = map_company(doc(sammensatStatus=status, virkningsDato="2024-01-01"))
    assert b.register_status == register_status


@pytest.mark.parametrize(
    "status",
    [
        "OPHØRT",
        "Ophørt",
        "ophørt",
        "TVANGSOPLØST",
        "Tvangsopløst",
        "OPLØST EFTER FUSION",
        "Opløst efter erklæring",
        "OPLØST EFTER SPALTNING",
        "SLETTET",
        " slettet ",
        "UDEN RETSVIRKNING",  # the registration has no legal effect: not an active business
    ],
)
def test_ceased_status(status: str) -> None:
    b = map_company(doc(sammensatStatus=status, virkningsDato="2024-01-01"))
    assert (b.status, b.ceased) == ("ceased", date(2024, 1, 1))


def test_closed_lifetime_means_ceased_even_with_a_normal_status() -> None:
    life = [{"periode": {"gyldigFra": "2015-03-01", "gyldigTil": "2022-06-30"}}]
    b = map_company(doc(top={"livsforloeb": life}))
    assert (b.status, b.ceased) == ("ceased", date(2022, 6, 30))


def test_reopened_lifetime_is_active() -> None:
    life = [
        {"periode": {"gyldigFra": "2015-03-01", "gyldigTil": "2018-06-30"}},
        {"periode": {"gyldigFra": "2020-01-01", "gyldigTil": None}},
    ]
    b = map_company(doc(top={"livsforloeb": life}, stiftelsesDato=None))
    assert (b.status, b.ceased, b.founded) == ("active", None, date(2015, 3, 1))


def test_ceased_date_prefers_lifetime_then_virkningsdato_then_sidst_opdateret() -> None:
    life = [
        {"periode": {"gyldigFra": "2015-03-01", "gyldigTil": "2019-12-31"}},
        {"periode": {"gyldigFra": "2020-03-01", "gyldigTil": "2023-04-30"}},
    ]
    top = {"livsforloeb": life, "sidstOpdateret": "2025-10-25T01:12:33.000+02:00"}
    company = doc(top=top, sammensatStatus="OPHØRT", virkningsDato="2024-01-01")
    assert map_company(company).ceased == date(2023, 4, 30)
    del company["livsforloeb"]
    assert map_company(company).ceased == date(2024, 1, 1)
    company["virksomhedMetadata"]["virkningsDato"] = None
    assert map_company(company).ceased == date(2025, 10, 25)
    del company["sidstOpdateret"]
    assert malformed(company) == "ceased without a date"


def test_founded_from_stiftelsesdato_else_the_earliest_lifetime_start() -> None:
    life = [
        {"periode": {"gyldigFra": "2016-01-01", "gyldigTil": None}},
        {"periode": {"gyldigFra": "2012-05-01", "gyldigTil": "2014-01-01"}},
    ]
    assert map_company(doc(top={"livsforloeb": life})).founded == date(2015, 3, 1)
    b = map_company(doc(top={"livsforloeb": life}, stiftelsesDato=None))
    assert b.founded == date(2012, 5, 1)
    assert map_company(doc(stiftelsesDato="not a date")).founded is None


@pytest.mark.parametrize("field", ["stiftelsesDato", "livsforloeb"])
def test_the_placeholder_founding_date_is_unknown(field: str) -> None:
    life = [{"periode": {"gyldigFra": "1901-01-01", "gyldigTil": None}}]
    company = doc(top={"livsforloeb": life}, stiftelsesDato="1901-01-01")
    if field == "livsforloeb":
        company["virksomhedMetadata"]["stiftelsesDato"] = None
    assert map_company(company).founded is None


def test_ceased_before_founded_is_malformed() -> None:
    company = doc(sammensatStatus="OPHØRT", virkningsDato="2019-01-01", stiftelsesDato="2020-01-01")
    assert malformed(company) == "ceased 2019-01-01 before founded 2020-01-01"


@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), (None, False)])
def test_reklamebeskyttet(value: Any, expected: bool) -> None:
    assert map_company(doc(top={"reklamebeskyttet": value})).reklamebeskyttet is expected
    assert map_company(doc()).reklamebeskyttet is False


# --- contact --------------------------------------------------------------------------------


def contact(value: Any, *, secret: Any = False, ended: str | None = None) -> dict[str, Any]:
    """One entry of a typed contact array, as the register writes it."""
    period = {"gyldigFra": "2019-01-01", "gyldigTil": ended}
    return {"kontaktoplysning": value, "hemmelig": secret, "periode": period}


def test_the_bare_contact_list_is_not_read() -> None:
    """`nyesteKontaktoplysninger` mixes phones, faxes and secret values with nothing to tell
    them apart: contacts come from the typed arrays only."""
    values = ["www.fjordlys.dk", "kontakt@fjordlys.dk", "+45 61 23 45 67"]
    assert map_company(doc(nyesteKontaktoplysninger=values)).contact == Contact()


@pytest.mark.parametrize(
    ("array", "value", "expected"),
    [
        ("telefonNummer", "61234567", Contact(phone="+45 61 23 45 67")),
        ("telefonNummer", "0045 61 23 45 67", Contact(phone="+45 61 23 45 67")),
        ("telefonNummer", "+4561234567", Contact(phone="+45 61 23 45 67")),
        ("telefonNummer", 61234567, Contact(phone="+45 61 23 45 67")),
        ("sekundaertTelefonNummer", "61234567", Contact(phone="+45 61 23 45 67")),
        ("telefonNummer", "1234", Contact()),
        ("telefonNummer", "+46 70 123 45 67", Contact()),
        ("telefonNummer", "kontakt@fjordlys.dk", Contact()),
        ("hjemmeside", "http://fjordlys.dk/om", Contact(website="http://fjordlys.dk/om")),
        ("hjemmeside", "HTTPS://Fjordlys.dk", Contact(website="https://Fjordlys.dk")),
        ("hjemmeside", "fjordlys.dk", Contact(website="https://fjordlys.dk")),
        ("hjemmeside", "ftp://fjordlys.dk", Contact()),
        ("elektroniskPost", "kontakt@fjordlys.dk", Contact(email="kontakt@fjordlys.dk")),
        ("elektroniskPost", "kontakt@fjordlys", Contact()),
        ("elektroniskPost", "ring efter kl. 16", Contact()),
        ("telefaxNummer", "61234567", Contact()),
        ("sekundaertTelefaxNummer", "61234567", Contact()),
        ("telefonNummer", None, Contact()),
        ("telefonNummer", {"x": 1}, Contact()),
    ],
)
def test_contact_values(array: str, value: Any, expected: Contact) -> None:
    assert map_company(doc(top={array: [contact(value)]})).contact == expected


@pytest.mark.parametrize("flag", [True, None, "false", 0])
def test_only_an_explicit_not_secret_is_published(flag: Any) -> None:
    assert map_company(doc(top={"telefonNummer": [contact("61234567", secret=flag)]})).contact == (
        Contact()
    )


def test_a_fax_number_is_never_a_phone() -> None:
    top = {
        "telefonNummer": [contact("61 23 45 67")],  # the same number, also registered as fax
        "telefaxNummer": [contact("61234567")],
        "sekundaertTelefonNummer": [contact("62626262")],
    }
    assert map_company(doc(top=top)).contact == Contact(phone="+45 62 62 62 62")


def test_the_newest_current_entry_wins() -> None:
    later = contact("33333333")
    later["periode"]["gyldigFra"] = "2023-05-01"
    top = {"telefonNummer": [contact("22222222"), later, contact("44444444", ended="2024-01-01")]}
    assert map_company(doc(top=top)).contact == Contact(phone="+45 33 33 33 33")


def test_contact_arrays_skip_secret_and_past_entries() -> None:
    def entry(value: str, *, secret: bool = False, ended: str | None = None) -> dict[str, Any]:
        period = {"gyldigFra": "2019-01-01", "gyldigTil": ended}
        return {"kontaktoplysning": value, "hemmelig": secret, "periode": period}

    top = {
        "telefonNummer": [entry("11111111", ended="2020-01-01"), entry("22 22 22 22")],
        "elektroniskPost": [entry("hemmelig@firma.dk", secret=True)],
        "hjemmeside": [entry("not a site"), entry("https://firma.dk")],
    }
    # the metadata list repeats the secret address: it is not read at all
    b = map_company(doc(top=top, nyesteKontaktoplysninger=["hemmelig@firma.dk"]))
    assert b.contact == Contact(phone="+45 22 22 22 22", website="https://firma.dk")


def test_a_secret_number_stays_out_in_any_spelling() -> None:
    secret = {"kontaktoplysning": "61234567", "hemmelig": True, "periode": {"gyldigTil": None}}
    public = contact("+45 61 23 45 67")
    company = doc(top={"telefonNummer": [secret], "sekundaertTelefonNummer": [public]})
    assert map_company(company).contact == Contact()


def test_contact_arrays_of_the_wrong_type_are_ignored() -> None:
    top = {"telefonNummer": "61234567", "elektroniskPost": {"kontaktoplysning": "a@b.dk"}}
    assert map_company(doc(top=top, nyesteKontaktoplysninger="61234567")).contact == Contact()


def test_fields_the_register_does_not_give() -> None:
    b = map_company(doc())
    assert (b.location, b.location_precision, b.source, b.networks) == (None, None, "cvr", [])
    assert b.curated == Curation()


def test_validation_errors_name_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        Business(id="12345678", name="Firma", postcode="48000")
    assert _reason(caught.value).startswith("postcode: String should match pattern")


# --- odd input: only a Business or MalformedDocument ever comes out -------------------------

ODD_VALUES: list[Any] = [
    None,
    "",
    "  ",
    "x",
    "2019-02-30",
    "2030-01-01",
    "ANTAL_5_9",
    "OPHØRT",
    "+45 61 23 45 67",
    "www.x.dk",
    "Ø" * 400,
    -1,
    0,
    1.5,
    10**30,
    float("nan"),
    float("inf"),
    True,
    False,
    [],
    [None, 1, "a"],
    {},
    {"gyldigTil": "2000-01-01"},
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return found
    for key, child in items:
        found.extend(_paths(child, (*prefix, key)))
    return found


def _corrupt(company: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A copy with a few fields replaced by odd values or deleted."""
    copy_ = copy.deepcopy(company)
    for _ in range(rng.randint(1, 6)):
        paths = _paths(copy_)
        if not paths:
            break
        path = rng.choice(paths)
        parent = copy_
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and rng.random() < 0.3:
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
    return copy_


@pytest.mark.parametrize("seed", range(4))
def test_fuzz_only_business_or_malformed(seed: int) -> None:
    rng = random.Random(seed)
    full = company_of(example("example_virksomhed.json"))
    bare = copy.deepcopy(full)
    assert full is not None and bare is not None
    del bare["virksomhedMetadata"]  # exercise the history-array readers too
    outcomes = {"business": 0, "malformed": 0}
    for i in range(300):
        company = _corrupt(full if i % 2 else bare, rng)
        loaded_at(company)
        try:
            assert isinstance(map_company(company), Business)
            outcomes["business"] += 1
        except MalformedDocument as error:
            assert str(error)
            outcomes["malformed"] += 1
    assert outcomes["business"] > 150 and outcomes["malformed"] > 0


def test_fuzz_whole_documents_of_the_wrong_type() -> None:
    for value in ODD_VALUES:
        assert company_of(value) is None
        with pytest.raises(MalformedDocument):
            map_company(value)


# --- round trip through the stand-in documents ----------------------------------------------

REGISTER_FIELDS = {
    "id",
    "name",
    "address",
    "postcode",
    "city",
    "municipality",
    "industry_code",
    "industry_text",
    "company_form",
    "company_form_text",
    "employees",
    "status",
    "founded",
    "ceased",
    "reklamebeskyttet",
    "contact",
}


def test_round_trip_through_stand_in_documents() -> None:
    loaded = datetime(2026, 1, 5, 3, 0, tzinfo=CET)
    businesses = generate_businesses(300)
    assert {b.status for b in businesses} == {"active", "ceased"}
    for b in businesses:
        document = json.loads(json.dumps(hit(company_document(b, samt_id=7, loaded=loaded))))
        company = company_of(document)
        assert company is not None and company["samtId"] == 7
        assert document["_id"] == str(company["enhedsNummer"])
        mapped = map_company(company)
        assert mapped.model_dump(include=REGISTER_FIELDS) == b.model_dump(include=REGISTER_FIELDS)
        assert (mapped.address_id, mapped.address_issue) == (address_id_of(b), None)
        assert (mapped.source, mapped.location) == ("cvr", None)
        assert loaded_at(company) == loaded


def test_stand_in_address_ids_are_stable_per_address() -> None:
    b = generate_businesses(1)[0]
    moved = b.model_copy(update={"address": "Nyvej 1"})
    assert address_id_of(b) == address_id_of(b.model_copy())
    assert address_id_of(moved) != address_id_of(b)
    document = company_document(b)
    assert document["virksomhedMetadata"]["nyesteBeliggenhedsadresse"]["adresseId"] == (
        address_id_of(b)
    )


def test_stand_in_splits_floor_and_door() -> None:
    b = map_company(doc()).model_copy(
        update={"address": "Langgade 12B, 2. th", "postcode": "4800", "municipality": "376"}
    )
    a = company_document(b)["virksomhedMetadata"]["nyesteBeliggenhedsadresse"]
    assert (a["vejnavn"], a["husnummerFra"], a["bogstavFra"], a["etage"], a["sidedoer"]) == (
        "Langgade",
        12,
        "B",
        "2",
        "th",
    )
    assert a["kommune"] == {
        "kommuneKode": 376,
        "kommuneNavn": "GULDBORGSUND",
        "periode": {"gyldigFra": "2007-01-01", "gyldigTil": None},
        "sidstOpdateret": "2006-11-13T00:00:00.000+01:00",
    }
    assert map_company(company_document(b)).address == "Langgade 12B, 2. th"
