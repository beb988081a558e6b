"""The counts in the release, the barometer JSON and the open-data files agree: a store with
known businesses (protected ones among them, one of which chose to be shown; a hidden one; a
ceased one; one outside the area) is published, and the micro-businesses in businesses.csv plus
the protected ones not listed make the release's figure, per municipality and in total. The
route's `municipality` parameter gives each municipality its own release with its business
contact as press contact."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import orjson
import pytest

from chalicelib.blobs import BlobStore, open_blobs
from chalicelib.domain.errors import InvalidParameter, UnknownParameter
from chalicelib.domain.models import MICRO_GROUPS, Curation, MunicipalityContact, Point
from chalicelib.domain.reference import load_municipalities
from chalicelib.publishing.publications import barometer
from chalicelib.publishing.snapshot import SnapshotPublisher
from chalicelib.store import Store, open_store
from chalicelib.web.http import HttpRequest
from tests.factories import business, cvr_number

YEAR = 2025
CODES = ("376", "390")
CONTACT = MunicipalityContact(
    name="Erhvervsservice Vordingborg", phone="55 36 36 36", email="erhverv@vordingborg.example"
)
WHERE = {
    "376": ("4800", "Nykøbing F", Point(lon=11.8729, lat=54.7691)),
    "390": ("4760", "Vordingborg", Point(lon=11.9110, lat=55.0080)),
    "461": ("5000", "Odense C", Point(lon=10.3883, lat=55.3959)),
}
# (municipality, size group, protected, chose to be shown, hidden, ceased) and how many
KNOWN: list[tuple[tuple[str, str, bool, bool, bool, date | None], int]] = [
    (("376", "2-4", False, False, False, None), 4),
    (("376", "1", True, False, False, None), 2),  # protected: counted, not listed
    (("376", "5-9", True, True, False, None), 1),  # protected, chose to be shown: listed
    (("376", "0", False, False, True, None), 1),  # hidden: nowhere
    (("376", "2-4", False, False, False, date(YEAR, 3, 1)), 1),  # ceased in the year
    (("376", "20-49", True, False, False, None), 1),  # protected, not a micro-business
    (("390", "2-4", False, False, False, None), 3),
    (("390", "1", True, False, False, None), 1),
    (("461", "2-4", False, False, False, None), 2),  # outside the area
]
MICRO = {"376": 4 + 2 + 1, "390": 3 + 1}
PROTECTED = {"376": 2 + 1, "390": 1}
LISTED = {"376": 4 + 1, "390": 3}


def _businesses() -> list[Any]:
    out, n = [], 0
    for (code, group, protected, shown, hidden, ceased), times in KNOWN:
        postcode, city, point = WHERE[code]
        for _ in range(times):
            n += 1
            out.append(
                business(
                    cvr_number(n),
                    municipality=code,
                    postcode=postcode,
                    city=city,
                    location=point,
                    employees=group,
                    founded=date(2012, 1, 1),
                    ceased=ceased,
                    status="ceased" if ceased else "active",
                    reklamebeskyttet=protected,
                    curated=Curation(show_contact=shown, hidden=hidden),
                )
            )
    return out


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, BlobStore]]:
    tmp = tmp_path_factory.mktemp("press")
    store = open_store(f"sqlite:///{tmp / 'press.db'}")
    guldborgsund, vordingborg = load_municipalities(list(CODES))
    store.upsert_municipalities(
        [guldborgsund, vordingborg.model_copy(update={"business_contact": CONTACT})]
    )
    store.upsert_businesses(_businesses())
    blobs = open_blobs(f"file:///{tmp / 'blobs'}")
    SnapshotPublisher(store, blobs, CODES).publish(YEAR)
    yield store, blobs
    store.close()


def _req(**params: str) -> HttpRequest:
    return HttpRequest(f"/barometer/{YEAR}", {k: [v] for k, v in params.items()}, {}, "http://t")


def _get(published: tuple[Store, BlobStore], **params: str) -> bytes:
    store, blobs = published
    return barometer(store, blobs, CODES, _req(**params), str(YEAR)).body


def _csv_micro(blobs: BlobStore) -> dict[str, int]:
    """Micro-businesses per municipality in the published businesses.csv."""
    raw = (blobs.get(f"snapshots/{YEAR}/businesses.csv") or b"").decode("utf-8-sig")
    counts = dict.fromkeys(CODES, 0)
    for row in csv.DictReader(io.StringIO(raw)):
        if row["employees"] in MICRO_GROUPS:
            counts[row["municipality"][-3:]] += 1
    return counts


def _fact(text: str, label: str) -> int:
    """The number after a facts-box label, as the release prints it (Danish thousands)."""
    found = re.search(rf"^- {re.escape(label)}[^:\n]*: ([\d.,]+)$", text, re.MULTILINE)
    assert found, label
    return int(found.group(1).replace(".", "").replace(",", ""))


def test_release_json_and_files_agree_per_municipality(
    published: tuple[Store, BlobStore],
) -> None:
    _, blobs = published
    listed = _csv_micro(blobs)
    assert listed == LISTED
    stored = orjson.loads(blobs.get(f"snapshots/{YEAR}/barometer.json") or b"{}")
    for code in CODES:
        doc = orjson.loads(_get(published, municipality=code))
        figures = doc["total"]
        assert list(doc["municipalities"]) == [code]
        assert figures == stored["municipalities"][code] | {"name": figures["name"]}
        assert figures["micro_businesses"] == MICRO[code]
        assert figures["micro_reklamebeskyttet"] == PROTECTED[code]
        opted_in = 1 if code == "376" else 0
        # the files' count plus the protected ones not listed make the release's figure
        assert listed[code] + figures["micro_reklamebeskyttet"] - opted_in == MICRO[code]
        da = _get(published, municipality=code, f="md").decode()
        micro, protected = MICRO[code], PROTECTED[code]
        assert _fact(da, "Aktive mikrovirksomheder (0-9 ansatte)") == micro
        assert _fact(da, "Heraf reklamebeskyttede") == protected
        assert f"var der {micro} aktive mikrovirksomheder (0-9 ansatte) i " in da
        assert f"Af de {micro} mikrovirksomheder er {protected} reklamebeskyttede." in da
        assert f"Filerne rummer derfor de {micro - protected} andre" in da
        en = _get(published, municipality=code, f="md", lang="en").decode()
        assert _fact(en, "Active micro-businesses (0-9 employees)") == micro
        assert _fact(en, "Of these, protected from marketing") == protected
        assert f"list the other {micro - protected} and those protected ones" in en


def test_the_published_release_for_all_agrees_with_the_files(
    published: tuple[Store, BlobStore],
) -> None:
    _, blobs = published
    doc = orjson.loads(blobs.get(f"snapshots/{YEAR}/barometer.json") or b"{}")
    total = doc["total"]
    assert total["micro_businesses"] == sum(MICRO.values())
    assert total["micro_businesses"] == sum(
        m["micro_businesses"] for m in doc["municipalities"].values()
    )
    assert total["micro_reklamebeskyttet"] == sum(PROTECTED.values())
    assert sum(_csv_micro(blobs).values()) + total["micro_reklamebeskyttet"] - 1 == sum(
        MICRO.values()
    )
    da = (blobs.get(f"snapshots/{YEAR}/barometer_da.md") or b"").decode()
    assert _fact(da, "Aktive mikrovirksomheder (0-9 ansatte)") == sum(MICRO.values())
    assert _fact(da, "Heraf reklamebeskyttede") == sum(PROTECTED.values())
    # the release's own tables say each municipality's figure
    for code, name in (("376", "Guldborgsund Kommune"), ("390", "Vordingborg Kommune")):
        table = da.split(f"| Kommune | {name} |")[1]
        assert f"| Mikrovirksomheder | {MICRO[code]} |" in table.split("\n\n")[0]
    # the per-municipality answer compares with this total
    one = _get(published, municipality="390", f="md").decode()
    assert f"i alt {sum(MICRO.values())} mikrovirksomheder" in one


def test_each_release_names_its_municipality_s_press_contact(
    published: tuple[Store, BlobStore],
) -> None:
    vordingborg = _get(published, municipality="390", f="md").decode()
    assert "- Erhvervsservice Vordingborg, 55 36 36 36, erhverv@vordingborg.example" in vordingborg
    assert "Guldborgsund" not in vordingborg.split("## Pressekontakt")[1].split("##")[0]
    guldborgsund = _get(published, municipality="376", f="html").decode()
    assert "<li>[Pressekontakt: navn, telefon, e-mail]</li>" in guldborgsund
    both = _get(published, municipality="376,390", f="md", lang="en").decode()
    assert "[Press contact: name, phone, email] (Guldborgsund Municipality)" in both
    assert "Erhvervsservice Vordingborg, 55 36 36 36, erhverv@vordingborg.example (Vordingborg" in (
        both
    )


def test_the_published_release_files_carry_the_press_contacts(
    published: tuple[Store, BlobStore],
) -> None:
    """The snapshot's own release files, not only the live answer, name the contact set."""
    _, blobs = published
    da = (blobs.get(f"snapshots/{YEAR}/barometer_da.md") or b"").decode()
    contacts = da.split("## Pressekontakt")[1].split("##")[0]
    assert "Erhvervsservice Vordingborg, 55 36 36 36, erhverv@vordingborg.example" in contacts
    assert "[Pressekontakt: navn, telefon, e-mail] (Guldborgsund Kommune)" in contacts
    en = (blobs.get(f"snapshots/{YEAR}/barometer_en.html") or b"").decode()
    assert "Erhvervsservice Vordingborg, 55 36 36 36" in en


def test_the_live_barometer_narrows_the_same_way(published: tuple[Store, BlobStore]) -> None:
    doc = orjson.loads(_get(published, municipality="0376"))
    assert doc["published"] is True
    store, blobs = published
    live = orjson.loads(
        barometer(store, blobs, CODES, _req(municipality="390"), str(YEAR - 1)).body
    )
    assert live["published"] is False and list(live["municipalities"]) == ["390"]
    assert live["covered"]["municipalities"] == list(CODES)
    text = barometer(store, blobs, CODES, _req(municipality="390", f="md"), str(YEAR - 1))
    assert "Tallene er foreløbige" in text.body.decode()


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"municipality": "101"}, "not covered by this service"),
        ({"municipality": "37x"}, "kommunekode"),
        ({"municipality": ""}, "kommunekode"),
        ({"municipality": "376,"}, "kommunekode"),
        ({"kommune": "376"}, "unknown query parameter"),
    ],
)
def test_a_bad_municipality_is_a_clear_400(
    published: tuple[Store, BlobStore], params: dict[str, str], error: str
) -> None:
    with pytest.raises(InvalidParameter) as err:
        _get(published, **params)
    assert err.value.status == 400 and error in err.value.description
    assert "\n" not in err.value.description
    if "kommune" in params:
        assert isinstance(err.value, UnknownParameter)
    else:
        assert err.value.parameter == "municipality"


def test_a_repeated_municipality_parameter_is_refused(published: tuple[Store, BlobStore]) -> None:
    store, blobs = published
    req = HttpRequest(f"/barometer/{YEAR}", {"municipality": ["376", "390"]}, {}, "http://t")
    with pytest.raises(InvalidParameter) as err:
        barometer(store, blobs, CODES, req, str(YEAR))
    assert err.value.parameter == "municipality"
