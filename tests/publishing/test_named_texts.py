"""The texts that name a municipality use its official name, and count in good Danish and
English: the barometer and its press release (Markdown and HTML, da and en) and the welcome
feed, on a store set up as in production (`mikrokort init` for 101, `mikrokort import` of
one register document), on several municipalities, and on the demo's 376 and 390."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import orjson
import pytest

from chalicelib.blobs import open_blobs
from chalicelib.demo.generate import generate_businesses, generate_networks
from chalicelib.domain.models import Point
from chalicelib.domain.reference import load_municipalities
from chalicelib.matchmaking.welcome import new_businesses
from chalicelib.publishing import press
from chalicelib.publishing.snapshot import SnapshotPublisher
from chalicelib.store import open_store
from chalicelib.web.http import HttpRequest
from tests.conftest import ADAPTERS, cli, fresh_store_url
from tests.factories import business, network
from tests.standins.cvr_documents import company_document

YEAR = datetime.now(UTC).year - 1  # the last finished year: the live barometer's
FOUNDED = date(YEAR, 6, 1)  # new in that year, and recent enough for the welcome feed
ATOM = {"a": "http://www.w3.org/2005/Atom"}


def _req(path: str, **params: str) -> HttpRequest:
    return HttpRequest(path, {k: [v] for k, v in params.items()}, {}, "http://test")


# -- as in production: init for 101, the import of one register document -----------------------


@pytest.fixture(params=ADAPTERS)
def production(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The environment of a deployment for Københavns Kommune with one business imported."""
    adapter = request.param
    env = {
        "MIKROKORT_STORE": fresh_store_url(request, adapter, tmp_path),
        "MIKROKORT_BLOBS": f"file:///{tmp_path / 'blobs'}",
        "MIKROKORT_MUNICIPALITIES": "101",
    }
    if adapter == "dynamodb":
        env.update(request.getfixturevalue("aws_env"))
    cli(env, "init")
    one = business(
        "10000004",
        name="Nørrebro Cykler ApS",
        employees="1",
        founded=FOUNDED,
        address="Nørrebrogade 1",
        postcode="2200",
        city="København N",
        municipality="101",
        location=Point(lon=12.5555, lat=55.6901),
    )
    document = tmp_path / "one.jsonl"
    document.write_bytes(orjson.dumps(company_document(one)) + b"\n")
    cli(env, "import", str(document), "--quiet")
    return env


def _release(env: dict[str, str], lang: str, fmt: str = "md") -> str:
    return cli(env, "barometer", "--year", str(YEAR), "--lang", lang, "--format", fmt)


def test_the_barometer_names_copenhagen_and_counts_one(production: dict[str, str]) -> None:
    doc = orjson.loads(_release(production, "da", "json"))
    figures = doc["municipalities"]["101"]
    assert figures["micro_businesses"] == 1 and figures["new"] == 1
    assert (figures["name"], figures["name_en"]) == (
        "Københavns Kommune",
        "Copenhagen Municipality",
    )

    da = _release(production, "da")
    assert da.startswith(f"# Mikrobarometer {YEAR}: Københavns Kommune har 1 mikrovirksomhed\n")
    assert "*Pressemeddelelse fra Københavns Kommune, " in da
    assert (
        f"Ved udgangen af {YEAR} var der 1 aktiv mikrovirksomhed (0-9 ansatte) i Københavns "
        "Kommune. Det er 100,0 % af alle virksomheder, og den står for anslået 1 job." in da
    )
    assert f"I løbet af {YEAR} blev der registreret 1 ny virksomhed, og 0 ophørte." in da
    assert "Der kom altså 1 virksomhed mere til, end der lukkede." in da
    for row in (f"- Aktive mikrovirksomheder (0-9 ansatte) pr. 31. december {YEAR}: 1",
                "- Andel af alle virksomheder: 100,0 %", f"- Nye virksomheder i {YEAR}: 1",
                f"- Ophørte virksomheder i {YEAR}: 0"):  # fmt: skip
        assert row in da, row
    assert "Der er endnu ikke registreret lokale netværk." in da

    en = _release(production, "en")
    assert en.startswith(
        f"# Micro-business barometer {YEAR}: Copenhagen Municipality had 1 micro-business\n"
    )
    assert (
        f"At the end of {YEAR} there was 1 active micro-business (0-9 employees) in Copenhagen "
        "Municipality. That is 100.0% of all businesses, and it provides an estimated 1 job." in en
    )
    assert "During the year 1 new business was registered and 0 closed." in en
    assert "So 1 more business opened than closed." in en
    assert f"- Active micro-businesses (0-9 employees) on 31 December {YEAR}: 1" in en

    html = _release(production, "da", "html")
    assert f"<title>Mikrobarometer {YEAR}: Københavns Kommune har 1 mikrovirksomhed</title>" in html
    for text in (da, en, html):
        _no_bare_code(text, "101")


def test_the_welcome_feed_names_copenhagen(production: dict[str, str]) -> None:
    store = open_store(production["MIKROKORT_STORE"])
    try:
        since = {"since": date(YEAR, 5, 1).isoformat()}
        feed = orjson.loads(new_businesses(store, _req("/x", **since), "101").body)
        assert feed["title"] == "Nye virksomheder i Københavns Kommune"
        assert feed["description"].startswith("1 ny virksomhed registreret i CVR siden 1. maj")
        assert feed["municipality"]["official_name"] == "Københavns Kommune"
        assert [f["id"] for f in feed["features"]] == ["10000004"]
        for lang, title, subtitle, size in [
            ("da", "Nye virksomheder i Københavns Kommune", "1 ny virksomhed", "1 ansat"),
            ("en", "New businesses in Copenhagen Municipality", "1 new business", "1 employee"),
        ]:
            atom = ET.fromstring(
                new_businesses(store, _req("/x", f="atom", lang=lang, **since), "0101").body
            )
            assert atom.find("a:title", ATOM).text == title
            assert atom.find("a:subtitle", ATOM).text.startswith(subtitle)
            content = atom.find("a:entry/a:content", ATOM).text
            assert f" · {size} · " in content, content
    finally:
        store.close()


def _no_bare_code(text: str, code: str) -> None:
    """No code where a name belongs: not alone, not in brackets after the name."""
    assert not re.search(rf"(?<![\d.,]){code}(?![\d.,])", text), code


# -- several municipalities --------------------------------------------------------------------


def _published(tmp_path: Path, codes: list[str], businesses: list, networks: list) -> Any:
    store = open_store(f"sqlite:///{tmp_path / 'several.db'}")
    store.upsert_municipalities(load_municipalities(codes))
    store.upsert_businesses(businesses)
    store.upsert_networks(networks)
    blobs = open_blobs(f"file:///{tmp_path / 'blobs'}")
    SnapshotPublisher(store, blobs, tuple(codes)).publish(YEAR)
    store.close()
    return blobs


def test_several_municipalities_are_named_and_counted(tmp_path: Path) -> None:
    where = {
        "101": ("2200", Point(lon=12.5555, lat=55.6901)),
        "400": ("3700", Point(lon=14.7000, lat=55.1000)),
        "173": ("2800", Point(lon=12.5000, lat=55.7700)),
    }
    businesses = [
        business(
            f"1000{i:03d}{d}",
            municipality=code,
            postcode=where[code][0],
            location=where[code][1],
            employees="2-4",
            founded=date(YEAR - 3, 1, 1),
        )
        for i, (code, d) in enumerate([("101", 4), ("101", 2), ("400", 0), ("173", 9)])
    ]
    net = network("kbh-net", municipalities=["101"], members=[businesses[0].id])
    blobs = _published(tmp_path, ["101", "400", "173"], businesses, [net])
    da = (blobs.get(f"snapshots/{YEAR}/barometer_da.md") or b"").decode()
    names = "Københavns Kommune, Lyngby-Taarbæk Kommune og Bornholms Regionskommune"
    assert da.startswith(f"# Mikrobarometer {YEAR}: {names} har fortsat 4 mikrovirksomheder\n")
    assert "var der 4 aktive mikrovirksomheder (0-9 ansatte) i " + names in da
    assert "og de står for anslået 12 job" in da
    assert "registreret 0 nye virksomheder" in da
    assert "1 lokalt netværk samler 1 virksomhed." in da
    assert "## Kommunerne\n" in da
    for name in ("Københavns Kommune", "Lyngby-Taarbæk Kommune", "Bornholms Regionskommune"):
        assert f"| {name} |" in da
    en = (blobs.get(f"snapshots/{YEAR}/barometer_en.html") or b"").decode()
    english = "Copenhagen Municipality, Lyngby-Taarbæk Municipality and Bornholm Regional"
    assert english in en
    assert "there were 4 active micro-businesses" in en and "an estimated 12 jobs" in en
    assert "During the year 0 new businesses were registered" in en
    assert "1 local network brings together 1 business." in en
    assert "The municipalities</h2>" in en
    doc = orjson.loads(blobs.get(f"snapshots/{YEAR}/barometer.json") or b"{}")
    assert {c: m["name"] for c, m in doc["municipalities"].items()} == {
        "101": "Københavns Kommune",
        "173": "Lyngby-Taarbæk Kommune",
        "400": "Bornholms Regionskommune",
    }
    for text in (da, en):
        for code in ("101", "173", "400"):
            _no_bare_code(text, code)
    # the open-data metadata say where the data are, by name
    dcat = orjson.loads(blobs.get(f"snapshots/{YEAR}/dcat.jsonld") or b"{}")
    said = {d["@language"]: d["@value"] for d in dcat["dct:description"]}
    assert said["da"].startswith(f"Virksomheder og netværk i {names} pr. 31. december {YEAR}")
    assert said["en"].startswith("Businesses and networks in " + english)
    package = orjson.loads(blobs.get(f"snapshots/{YEAR}/datapackage.json") or b"{}")
    assert f"31 December {YEAR} in {english} Municipality:" in package["description"]


def test_tax_rates_are_listed_by_name_in_each_languages_format() -> None:
    doc = _hand_barometer(rates={"376": 0.258, "390": 0.255})
    da = press.markdown(doc, "da")
    assert (
        "en kommuneskat på 25,80 % i Guldborgsund Kommune og 25,50 % i Vordingborg Kommune "
        "giver det ca. 154.000 kr. om året" in da
    )
    assert "regneeksempel" in da and "300.000 kr." in da
    en = press.markdown(doc, "en")
    assert (
        "a municipal tax rate of 25.80% in Guldborgsund Municipality and 25.50% in Vordingborg "
        "Municipality, that gives about DKK 154,000 a year" in en
    )
    assert "worked example" in en and "DKK 300,000" in en


def test_a_barometer_published_before_names_were_added_is_named_by_code() -> None:
    doc = _hand_barometer()
    for code, short in (("376", "Guldborgsund"), ("390", "Vordingborg")):
        del doc["municipalities"][code]["name_en"]  # as the documents had it then
        doc["municipalities"][code]["name"] = short
    da = press.markdown(doc, "da")
    assert "Guldborgsund Kommune og Vordingborg Kommune" in da
    assert "| Guldborgsund Kommune |" in da and "(376)" not in da


def test_english_charts_use_english_thousands() -> None:
    doc = _hand_barometer()
    doc["total"]["series"][-1]["micro_businesses"] = 1234
    assert ">1,234<" in press.charts(doc, "en")["chart-micro-by-year_en.svg"]
    assert ">1.234<" in press.charts(doc, "da")["chart-micro-by-year_da.svg"]


def _hand_barometer(rates: dict[str, float] | None = None) -> dict[str, Any]:
    """A barometer of two municipalities, built by the builder from public properties."""
    from chalicelib.publishing.barometer import BarometerBuilder, load_parameters

    params = load_parameters()
    if rates:
        params.rates.update(rates)
    builder = BarometerBuilder(YEAR, ("390", "376"), params)
    for code, cvr in (("376", "10000004"), ("390", "10000012")):
        builder.add(
            {
                "municipality": code,
                "founded": "2015-01-01",
                "ceased": None,
                "employees": "1",
                "company_form": "APS",
                "industry_section": "F",
                "id": cvr,
            }
        )
    return builder.result([])


# -- the demo's municipalities -----------------------------------------------------------------


def test_the_demo_texts_name_guldborgsund_and_vordingborg(tmp_path: Path) -> None:
    businesses = generate_businesses(300, seed=5)
    blobs = _published(tmp_path, ["376", "390"], businesses, generate_networks(businesses, seed=5))
    doc = orjson.loads(blobs.get(f"snapshots/{YEAR}/barometer.json") or b"{}")
    total = doc["total"]
    assert total["micro_businesses"] > 1 and total["networks"]["count"] > 1
    da = (blobs.get(f"snapshots/{YEAR}/barometer_da.md") or b"").decode()
    assert da.startswith(f"# Mikrobarometer {YEAR}: Guldborgsund Kommune og Vordingborg Kommune")
    micro = f"{total['micro_businesses']:,}".replace(",", ".")
    assert f"var der {micro} aktive mikrovirksomheder (0-9 ansatte) i Guldborgsund" in da
    assert f"{total['networks']['count']} lokale netværk samler " in da
    assert "## Kommunerne\n" in da and "| Vordingborg Kommune |" in da
    en = (blobs.get(f"snapshots/{YEAR}/barometer_en.md") or b"").decode()
    assert "Guldborgsund Municipality and Vordingborg Municipality" in en
    assert f"{total['networks']['count']} local networks bring together " in en
    for text in (da, en):
        _no_bare_code(text, "376")
        _no_bare_code(text, "390")
