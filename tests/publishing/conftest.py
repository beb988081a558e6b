"""A published snapshot on a folder, shared by the tests of its files (charts, the Danish-Excel
CSV, the GeoPackage): demo businesses and networks, plus businesses whose values a spreadsheet
or a chart gets wrong (codes with leading zeros, size groups that look like dates, a long
industry name, a register name that starts like a formula)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from chalicelib.blobs import open_blobs
from chalicelib.demo.generate import generate_businesses, generate_networks
from chalicelib.domain.models import Contact, Point
from chalicelib.domain.reference import load_municipalities
from chalicelib.publishing.snapshot import SnapshotPublisher
from chalicelib.store import open_store
from tests.factories import business, network

SNAPSHOT_YEAR = 2025
AWKWARD = [
    business(
        "30000004",
        name="Ager & Eng ApS",
        industry_code="011100",
        industry_text="Dyrkning af korn (undtagen ris), bælgfrugter og olieholdige frø",
        employees="2-4",
        postcode="4800",
        contact=Contact(phone="+45 54 85 00 00", email="post@ager.example"),
        founded=date(2019, 5, 1),
        location=Point(lon=11.8801, lat=54.7702),
    ),
    business(
        "30000012",
        name='=HYPERLINK("http://evil.example","Klik")',
        industry_code="812100",
        industry_text="Almindelig rengøring i bygninger",
        employees="10-19",
        founded=date(2021, 9, 1),
        location=Point(lon=11.8812, lat=54.7713),
    ),
    business(
        "30000020",
        name="5-9",
        industry_code="829900",
        industry_text="Andre serviceydelser til virksomheder i.a.n.",
        employees="5-9",
        founded=date(2018, 2, 1),
        location=Point(lon=11.8823, lat=54.7724),
    ),
]


@pytest.fixture(scope="session")
def snapshot_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The folder of a published snapshot's files (the year's prefix on a local BlobStore)."""
    tmp = tmp_path_factory.mktemp("published")
    store = open_store(f"sqlite:///{tmp / 'snapshot.db'}")
    store.create_table()
    store.upsert_municipalities(load_municipalities(["376", "390"]))
    businesses = generate_businesses(600, seed=23)
    store.upsert_businesses(businesses + AWKWARD)
    networks = generate_networks(businesses, seed=23)
    networks.append(network("ager-og-eng", members=[b.id for b in AWKWARD], area=None))
    store.upsert_networks(networks)
    blobs = open_blobs(f"file:///{tmp / 'blobs'}")
    manifest = SnapshotPublisher(store, blobs, ("376", "390")).publish(SNAPSHOT_YEAR)
    store.close()
    yield tmp / "blobs" / manifest["prefix"]
