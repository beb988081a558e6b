"""Register documents as they really are, through the mapping, `refresh` and `import`.

The cases come from real register documents published by other clients of the same service
(docs/CVR_REFRESH.md names them): typed contact arrays with secret, fax and ended entries,
"Uoplyst" industry codes, every status, forms given only by their code, zero-padded floors,
c/o addresses, the placeholder founding date and size intervals of every spelling. The refresh
goes through the real client and a stand-in that answers with only the `_source` fields asked
for, so a field the client forgets is missing here as it would be in production.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from chalicelib.domain.models import Business, Contact
from chalicelib.intake.cvr.client import SOURCE_FIELDS, CvrClient
from chalicelib.intake.cvr.mapping import company_of, map_company
from chalicelib.intake.cvr.refresh import Refresh
from chalicelib.intake.geocode.locate import AddressLocator
from chalicelib.store import FeatureQuery, Store
from tests.conftest import ADAPTERS, FIXTURES, AppTransport, cli, fresh_store, store_url
from tests.standins.cvr_documents import (
    REGISTER_STATUSES,
    hit,
    variant_documents,
    withheld_values,
)
from tests.standins.cvr_server import CvrStandIn

USER, PASSWORD = "mikrokort", "hemmeligt"
LOADED = datetime.now(UTC) - timedelta(minutes=5)

ACTIVE = {
    "NORMAL": "normal",
    "Aktiv": "normal",
    "FREMTID": "future",
    "UNDER KONKURS": "under_bankruptcy",
    "UNDER FRIVILLIG LIKVIDATION": "under_voluntary_liquidation",
    "UNDER TVANGSOPLØSNING": "under_compulsory_dissolution",
    "UNDER REKONSTRUKTION": "under_reconstruction",
    "UNDER REASSUMERING": "under_reassumption",
    "Noget helt nyt": "unknown",  # an unknown text: the open lifetime decides
}
CEASED = {
    "UDEN RETSVIRKNING": "without_legal_effect",
    "OPHØRT": "ceased",
    "OPLØST EFTER ERKLÆRING": "dissolved",
    "OPLØST EFTER FRIVILLIG LIKVIDATION": "dissolved",
    "OPLØST EFTER FUSION": "dissolved",
    "OPLØST EFTER KONKURS": "dissolved",
    "OPLØST EFTER SPALTNING": "dissolved",
    "TVANGSOPLØST": "compulsorily_dissolved",
    "SLETTET": "deleted",
}
PUBLIC_EMAIL = "kontakt@variant.example"
PUBLIC_SITE = "https://variant.example"


def check_variant(name: str, b: Business) -> None:
    """What each awkward case must become (the rules of docs/CVR_REFRESH.md)."""
    if name == "secret_phone":
        assert b.contact == Contact(email=PUBLIC_EMAIL, website=PUBLIC_SITE)
    elif name == "secret_email":
        assert b.contact == Contact(phone="+45 51 11 22 33", website=PUBLIC_SITE)
    elif name == "fax_only":
        assert b.contact.phone is None and b.contact.email == PUBLIC_EMAIL
    elif name == "fax_and_phone":
        assert b.contact.phone == "+45 52 22 33 44"
    elif name == "ended_contacts":
        assert b.contact == Contact(website=PUBLIC_SITE)
    elif name == "secondary_phone":
        assert b.contact.phone == "+45 53 33 44 55"
    elif name.startswith("industry_"):
        assert (b.industry_code, b.industry_text, b.industry_section) == (None, None, None)
    elif name.startswith("status "):
        status = name.removeprefix("status ")
        if status in CEASED:
            assert (b.status, b.register_status, b.ceased) == (
                "ceased",
                CEASED[status],
                date(2024, 6, 30),
            )
        else:
            assert (b.status, b.register_status, b.ceased) == ("active", ACTIVE[status], None)
    elif name.startswith("form_code_"):
        code = int(name.removeprefix("form_code_"))
        assert (b.company_form, b.company_form_code) == (None, code)
        assert b.personally_owned is (code != 80)
    elif name == "zero_padded_floor":
        assert b.address == "Langgade 12, 3. tv"
    elif name == "care_of":
        assert b.address_issue is not None and b.address_issue.startswith("c/o")
        assert "Revisorhuset" not in (b.address or "")
    elif name == "placeholder_founded":
        assert b.founded is None
    elif name == "interval_inside_a_group":
        assert b.employees == "20-49"  # ANTAL_20_29
    elif name == "open_top_interval":
        assert b.employees == "1000+"  # ANTAL_1000_
    elif name == "newest_series_wins":
        assert b.employees == "10-19"  # the 2023 yearly figure, not the 2016 monthly one
    else:
        raise AssertionError(f"no rule for the variant {name!r}")


@pytest.fixture(scope="module")
def variants() -> dict[str, dict[str, Any]]:
    return variant_documents(loaded=LOADED)


def test_every_status_has_a_variant_and_a_rule() -> None:
    assert set(REGISTER_STATUSES) == set(ACTIVE) | set(CEASED)


def test_each_variant_maps_by_its_rule(variants: dict[str, dict[str, Any]]) -> None:
    for name, company in variants.items():
        check_variant(name, map_company(company))


def test_a_document_in_the_real_shape() -> None:
    """tests/fixtures/cvr/real_shapes_virksomhed.json: the cases of one real document side by
    side (see the ATTRIBUTION.md beside it)."""
    raw = json.loads((FIXTURES / "cvr" / "real_shapes_virksomhed.json").read_text("utf-8"))
    company = company_of(raw)
    assert company is not None
    b = map_company(company)
    assert b.contact == Contact(
        phone="+45 71 23 45 67",  # the secondary phone: the main one is secret, the fax a fax
        email="post@sundby-raadgivning.example",  # not the ended one
        website="https://www.sundby-raadgivning.example",
    )
    assert (b.industry_code, b.industry_section) == (None, None)  # 999999 "Uoplyst"
    assert b.employees == "20-49"  # 2017's ANTAL_20_29, not the metadata's 2014 or 2016's
    assert (b.status, b.register_status, b.ceased) == (
        "ceased",
        "without_legal_effect",
        date(2024, 3, 1),
    )
    assert (b.company_form, b.company_form_code, b.personally_owned) == (None, 80, False)
    assert b.founded is None  # 1901-01-01
    assert b.address == "Fjordlysvej 17B, 3. tv" and b.address_issue is not None
    assert "Advokatkontoret" not in b.model_dump_json()
    # without the metadata, the history arrays say the same
    bare = copy.deepcopy(company)
    del bare["virksomhedMetadata"]
    same = map_company(bare)
    assert same.model_dump(exclude={"updated_at"}) == b.model_dump(exclude={"updated_at"})


# -- through refresh: the client's own field selection ----------------------------------------


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = fresh_store(request, request.param, tmp_path / "store")
    yield s
    s.close()


def _client(register: CvrStandIn) -> CvrClient:
    return CvrClient(register.url, USER, PASSWORD, timeout=2.0, page_size=10, sleep=lambda _: None)


def _refresh(store: Store) -> Refresh:
    return Refresh(store, AddressLocator(store, None), ["376", "390"])


def _check_stored(store: Store, variants: dict[str, dict[str, Any]]) -> None:
    ids = {name: str(c["cvrNummer"]) for name, c in variants.items()}
    stored = store.get_businesses(list(ids.values()))
    assert sorted(stored) == sorted(ids.values())
    for name, cvr in ids.items():
        check_variant(name, stored[cvr])


def test_refresh_reads_each_variant_by_its_rule(
    store: Store, variants: dict[str, dict[str, Any]]
) -> None:
    with CvrStandIn(list(variants.values()), user=USER, password=PASSWORD) as register:
        report = _refresh(store).run(_client(register))
        assert register.search_bodies[0]["_source"] == SOURCE_FIELDS
    assert report.status == "succeeded" and report.new == len(variants)
    assert report.quarantined == 0
    _check_stored(store, variants)


def test_import_reads_each_variant_by_its_rule(
    store: Store, variants: dict[str, dict[str, Any]]
) -> None:
    report = _refresh(store).import_documents([hit(c) for c in variants.values()])
    assert report.status == "succeeded" and report.new == len(variants)
    _check_stored(store, variants)


def test_the_stand_in_sends_only_what_the_client_asks_for(
    variants: dict[str, dict[str, Any]],
) -> None:
    """The client asks for the typed contact arrays and the employment histories; the
    stand-in, like the register, leaves out every field not asked for (participants too)."""
    company = dict(variants["secret_phone"])
    company["deltagerRelation"] = [{"deltager": {"navne": [{"navn": "Testperson"}]}}]
    company["obligatoriskEmail"] = [{"kontaktoplysning": "pligt@variant.example"}]
    with CvrStandIn([company], user=USER, password=PASSWORD) as register:
        pages = list(_client(register).companies(CvrClient.in_municipalities(["376"])))
    got = pages[0].hits[0]["_source"]["Vrvirksomhed"]
    asked = {field.removeprefix("Vrvirksomhed.") for field in SOURCE_FIELDS}
    assert set(got) <= asked
    assert "deltagerRelation" not in got and "obligatoriskEmail" not in got
    assert got["telefonNummer"][0]["hemmelig"] is True
    assert "aarsbeskaeftigelse" in got and "telefaxNummer" in got


# -- every public output: no secret, no fax, no ended contact --------------------------------


def _spellings(value: str) -> list[bytes]:
    """The ways a withheld value could be written in an output: as the register writes it
    and, for a number, as Mikrokort writes phones."""
    if re.fullmatch(r"[0-9]{8}", value):
        spaced = f"{value[:2]} {value[2:4]} {value[4:6]} {value[6:]}"
        return [value.encode(), spaced.encode(), f"+45{value}".encode()]
    return [value.encode()]


def _public_bodies(http: requests.Session, base: str, store: Store) -> Iterator[tuple[str, bytes]]:
    """Every public route over the refreshed data, and every published snapshot file."""
    ids = []
    q = FeatureQuery(limit=10_000)
    while True:
        page = store.query("businesses", q)
        ids += [orjson.loads(f)["id"] for f in page.features]
        if page.next_after is None:
            break
        q = q.model_copy(update={"after": page.next_after})
    paths: list[tuple[str, dict[str, Any]]] = [
        ("/collections/businesses/items", {"limit": 10_000}),
        ("/collections/businesses/items", {"limit": 10_000, "f": "csv"}),
        ("/municipalities/376/map-data", {}),
        ("/municipalities/376/new-businesses", {"since": "1900-01-01", "limit": 1000}),
        ("/municipalities/376/new-businesses", {"since": "1900-01-01", "f": "atom"}),
        ("/search", {"municipality": "376", "industry": "F", "limit": 100}),
        ("/snapshots", {}),
    ]
    paths += [(f"/collections/businesses/items/{cvr}", {}) for cvr in ids]
    paths += [(f"/businesses/{cvr}/matches", {}) for cvr in ids[:5]]
    for path, params in paths:
        r = http.get(base + path, params=params, timeout=60)
        assert r.status_code < 500, (path, r.status_code)
        yield r.url, r.content
    for snap in http.get(base + "/snapshots", timeout=60).json()["snapshots"]:
        for f in snap["files"]:
            r = http.get(f["url"] if f["url"].startswith("http") else base + f["url"], timeout=60)
            assert r.status_code == 200, f["url"]
            yield r.url, r.content


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_no_public_output_shows_a_secret_a_fax_or_an_ended_contact(
    request: pytest.FixtureRequest,
    adapter: str,
    tmp_path: Path,
    variants: dict[str, dict[str, Any]],
    app_transport: AppTransport,
    http: requests.Session,
) -> None:
    """`mikrokort refresh` against the stand-in, `mikrokort import` of the same documents
    into a second store, a snapshot of each, and a walk over every public output."""
    withheld = withheld_values(variants.values())
    assert {"61234567", "62345678", "63456789", "hemmelig@variant.example"} <= withheld
    lines = b"\n".join(orjson.dumps(hit(c)) for c in variants.values())
    (tmp_path / "cvr.jsonl").write_bytes(lines)
    with CvrStandIn(list(variants.values()), user=USER, password=PASSWORD) as register:
        for how in ("refresh", "import"):
            if adapter == "dynamodb":
                request.getfixturevalue("aws_env")
            folder = tmp_path / how
            env = {
                "MIKROKORT_STORE": store_url(adapter, folder),
                "MIKROKORT_BLOBS": f"file:///{folder / 'blobs'}",
                "MIKROKORT_CVR_URL": register.url,
                "MIKROKORT_CVR_USER": USER,
                "MIKROKORT_CVR_PASSWORD": PASSWORD,
            }
            if adapter == "dynamodb":
                env.update(request.getfixturevalue("aws_env"))
            cli(env, "init")
            if how == "refresh":
                cli(env, "refresh", "--quiet", "--page-size", "10")
            else:
                cli(env, "import", str(tmp_path / "cvr.jsonl"), "--quiet")
            cli(env, "snapshot", "--year", str(LOADED.year - 1), "--quiet")
            base = app_transport.add(f"shapes-{adapter}-{how}", env)
            from chalicelib.store import open_store

            store = open_store(env["MIKROKORT_STORE"])
            try:
                seen = b""
                for url, body in _public_bodies(http, base, store):
                    for value in withheld:
                        for spelling in _spellings(value):
                            assert spelling not in body, (how, url, value)
                    seen += body
            finally:
                store.close()
            # the walk saw published contacts, so it would have seen a leaked one
            assert b"+45 52 22 33 44" in seen and PUBLIC_EMAIL.encode() in seen, how
