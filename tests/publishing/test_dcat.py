"""DCAT-AP-DK 2.0.2: every snapshot's `dcat.jsonld`, a corrected revision's, and the live
`/catalog` conform to the profile's SHACL shapes (pySHACL, the shapes copied into
tests/fixtures/dcat-ap-dk/), and the profile's own examples conform to the same harness while a
catalogue with the faults of the old writer does not: the check can fail."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyshacl
import pytest
import rdflib
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, Namespace

from chalicelib.blobs import BlobStore, open_blobs
from chalicelib.demo.generate import generate_businesses, generate_networks
from chalicelib.domain.errors import InvalidParameter, NotFound
from chalicelib.domain.models import MunicipalityContact
from chalicelib.domain.reference import load_municipalities
from chalicelib.publishing import dcat
from chalicelib.publishing.publications import catalog
from chalicelib.publishing.snapshot import SnapshotPublisher
from chalicelib.store import Store, open_store
from chalicelib.web.http import HttpRequest, error_response

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dcat-ap-dk"
PUBLIC = "https://kort.example.dk"
YEAR = 2024
CONTACT = MunicipalityContact(
    name="Erhvervsservice", email="erhverv@guldborgsund.example", phone="+45 54 73 10 00"
)
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DCAT3_PREVIOUS = rdflib.URIRef("http://www.w3.org/ns/dcat#previousVersion")  # DCAT 3


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(FIXTURES / "dcat-ap-dk_2.0.2_shacl_shapes.ttl", format="turtle")


def _graph(document: bytes) -> rdflib.Graph:
    """The document as RDF; the context is inline, so parsing fetches nothing."""
    return rdflib.Graph().parse(data=document, format="json-ld")


def _validate(shapes: rdflib.Graph, data: rdflib.Graph) -> tuple[bool, str]:
    conforms, _, text = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    return bool(conforms), str(text)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, BlobStore]]:
    """A store covering Guldborgsund (with a business contact) and Vordingborg (without), and
    blobs with the 2024 snapshot published twice: revision 1 and a corrected revision 2."""
    tmp = tmp_path_factory.mktemp("dcat")
    store = open_store(f"sqlite:///{tmp / 'dcat.db'}")
    store.create_table()
    guldborgsund, vordingborg = load_municipalities(["376", "390"])
    store.upsert_municipalities(
        [guldborgsund.model_copy(update={"business_contact": CONTACT}), vordingborg]
    )
    businesses = generate_businesses(80, seed=5)
    store.upsert_businesses(businesses)
    store.upsert_networks(generate_networks(businesses, seed=5))
    blobs = open_blobs(f"file:///{tmp / 'blobs'}")
    publisher = SnapshotPublisher(store, blobs, ("376", "390"), public_url=PUBLIC)
    publisher.publish(YEAR)
    publisher.publish(YEAR, new_revision=True)
    yield store, blobs
    store.close()


def _file(blobs: BlobStore, revision: int) -> bytes:
    prefix = f"snapshots/{YEAR}" + (f"/rev-{revision}" if revision > 1 else "")
    data = blobs.get(f"{prefix}/dcat.jsonld")
    assert data is not None
    return data


def _manifest(blobs: BlobStore, revision: int) -> dict[str, Any]:
    prefix = f"snapshots/{YEAR}" + (f"/rev-{revision}" if revision > 1 else "")
    return orjson.loads(blobs.get(f"{prefix}/manifest.json") or b"{}")


def _dataset(revision: int) -> rdflib.URIRef:
    query = f"?revision={revision}" if revision > 1 else ""
    return rdflib.URIRef(f"{PUBLIC}/snapshots/{YEAR}/dcat.jsonld{query}#dataset")


# -- the harness ------------------------------------------------------------------------------


def test_the_profiles_basic_example_conforms(shapes: rdflib.Graph) -> None:
    data = rdflib.Graph().parse(FIXTURES / "basic-example1.ttl", format="turtle")
    conforms, report = _validate(shapes, data)
    assert conforms, report


def test_the_profiles_extended_example_conforms_with_its_background_knowledge(
    shapes: rdflib.Graph,
) -> None:
    """The example says a strict validation needs the types of the nodes it points to; without
    them it fails on exactly those (a harness that passes anything would pass it bare)."""
    data = rdflib.Graph().parse(FIXTURES / "extended-example1.ttl", format="turtle")
    background = rdflib.Graph().parse(
        FIXTURES / "extended-example1-background.ttl", format="turtle"
    )
    assert not _validate(shapes, data)[0]
    conforms, report = _validate(shapes, data + background)
    assert conforms, report


# -- the snapshot's own document ------------------------------------------------------------


def test_a_published_snapshots_dcat_conforms(
    shapes: rdflib.Graph, published: tuple[Store, BlobStore]
) -> None:
    _, blobs = published
    conforms, report = _validate(shapes, _graph(_file(blobs, 1)))
    assert conforms, report


def test_every_data_file_is_a_distribution_with_absolute_urls_and_iana_media_types(
    published: tuple[Store, BlobStore],
) -> None:
    _, blobs = published
    g = _graph(_file(blobs, 1))
    expected = {
        f["name"]: f
        for f in _manifest(blobs, 1)["files"]
        if f["name"] not in ("dcat.jsonld", "SHA256SUMS")
    }
    seen = {}
    for dist in g.objects(_dataset(1), DCAT.distribution):
        url = str(g.value(dist, DCAT.downloadURL))
        assert str(g.value(dist, DCAT.accessURL)) == url
        assert url.startswith(f"{PUBLIC}/snapshots/{YEAR}/")
        seen[url.rsplit("/", 1)[1]] = dist
    assert set(seen) == set(expected)
    for name, dist in seen.items():
        media = expected[name]["media_type"].split(";")[0]
        assert str(g.value(dist, DCAT.mediaType)) == dcat.IANA + media
        assert int(g.value(dist, DCAT.byteSize).toPython()) == expected[name]["size"]
        assert (g.value(dist, DCTERMS.license), RDF.type, DCTERMS.LicenseDocument) in g
    gpkg = seen["businesses.gpkg"]
    assert str(g.value(gpkg, DCTERMS.format)).endswith("/file-type/GPKG")


def test_the_publisher_is_the_municipalities_and_the_contact_is_theirs(
    published: tuple[Store, BlobStore],
) -> None:
    _, blobs = published
    g = _graph(_file(blobs, 1))
    publisher = g.value(_dataset(1), DCTERMS.publisher)
    names = {str(n) for n in g.objects(publisher, FOAF.name)}
    assert "Guldborgsund Kommune og Vordingborg Kommune" in names
    members = {str(g.value(m, DCTERMS.identifier)) for m in g.objects(publisher, FOAF.member)}
    assert members == {"376", "390"}
    assert "Mikrokort" not in names
    points = list(g.objects(_dataset(1), DCAT.contactPoint))
    by_name = {str(g.value(p, VCARD.fn)): p for p in points}
    assert set(by_name) == {"Erhvervsservice, Guldborgsund Kommune", "Vordingborg Kommune"}
    guldborgsund = by_name["Erhvervsservice, Guldborgsund Kommune"]
    assert str(g.value(guldborgsund, VCARD.hasEmail)) == "mailto:erhverv@guldborgsund.example"
    assert str(g.value(guldborgsund, VCARD.hasTelephone)) == "tel:+4554731000"
    # no contact set: the municipality at the deployment's address
    assert str(g.value(by_name["Vordingborg Kommune"], VCARD.hasURL)) == f"{PUBLIC}/"


def test_places_resolve_today_and_none_is_dawa(published: tuple[Store, BlobStore]) -> None:
    _, blobs = published
    document = _file(blobs, 1)
    assert b"dawa" not in document.lower()
    assert b"api.dataforsyningen.dk/kommuner" not in document
    g = _graph(document)
    places = {str(p) for p in g.objects(_dataset(1), DCTERMS.spatial)}
    assert places == {
        f"{PUBLIC}/collections/municipalities/items/376",
        f"{PUBLIC}/collections/municipalities/items/390",
        "http://publications.europa.eu/resource/authority/country/DNK",
    }


def test_a_corrected_revision_replaces_the_first_and_conforms(
    shapes: rdflib.Graph, published: tuple[Store, BlobStore]
) -> None:
    _, blobs = published
    first, second = _file(blobs, 1), _file(blobs, 2)
    assert first != second  # the first stays as it was, beside the correction
    g = _graph(second)
    conforms, report = _validate(shapes, g)
    assert conforms, report
    assert g.value(_dataset(2), DCTERMS.replaces) == _dataset(1)
    assert g.value(_dataset(2), DCAT3_PREVIOUS) == _dataset(1)
    urls = {str(g.value(d, DCAT.downloadURL)) for d in g.objects(_dataset(2), DCAT.distribution)}
    assert f"{PUBLIC}/snapshots/{YEAR}/businesses.csv?revision=2" in urls


# -- the live catalogue -----------------------------------------------------------------------


def _catalog(store: Store, blobs: BlobStore, **headers: str) -> Any:
    req = HttpRequest("/catalog", {}, headers, "http://api.test")
    return catalog(store, blobs, ("376", "390"), req)


def test_the_live_catalogue_conforms_and_lists_every_revision(
    shapes: rdflib.Graph, published: tuple[Store, BlobStore]
) -> None:
    store, blobs = published
    resp = _catalog(store, blobs)
    assert resp.status == 200 and resp.media_type == "application/ld+json"
    g = _graph(resp.body)
    conforms, report = _validate(shapes, g)
    assert conforms, report
    cat = rdflib.URIRef("http://api.test/catalog")
    first = rdflib.URIRef(f"http://api.test/snapshots/{YEAR}/dcat.jsonld#dataset")
    second = rdflib.URIRef(f"http://api.test/snapshots/{YEAR}/dcat.jsonld?revision=2#dataset")
    assert set(g.objects(cat, DCAT.dataset)) == {first, second}
    assert g.value(first, DCTERMS.isReplacedBy) == second
    service = g.value(cat, DCAT.service)
    assert str(g.value(service, DCAT.endpointURL)) == "http://api.test/"
    assert str(g.value(service, DCAT.endpointDescription)) == "http://api.test/api"


def test_the_live_catalogue_is_cacheable_and_refuses_unknown_parameters(
    published: tuple[Store, BlobStore],
) -> None:
    store, blobs = published
    etag = _catalog(store, blobs).headers["ETag"]
    again = _catalog(store, blobs, **{"if-none-match": etag})
    assert again.status == 304 and again.body == b""
    req = HttpRequest("/catalog", {"year": ["2024"]}, {}, "http://api.test")
    with pytest.raises(InvalidParameter) as caught:
        catalog(store, blobs, ("376", "390"), req)
    answer = error_response(caught.value)
    assert answer.status == 400
    assert orjson.loads(answer.body)["parameter"] == "year"
    assert "takes no query parameters" in orjson.loads(answer.body)["description"]


def test_with_nothing_published_the_catalogue_is_a_404(tmp_path: Path) -> None:
    """The profile wants a catalogue to list a dataset; before the first snapshot the route
    says there is none rather than hand a portal a catalogue that does not conform."""
    store = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    store.create_table()
    try:
        with pytest.raises(NotFound) as caught:
            _catalog(store, open_blobs(f"file:///{tmp_path / 'blobs'}"))
    finally:
        store.close()
    assert error_response(caught.value).status == 404


# -- the check can fail -----------------------------------------------------------------------


def _without(document: bytes, change: Any) -> bytes:
    doc = copy.deepcopy(orjson.loads(document))
    change(doc)
    return orjson.dumps(doc)


def test_a_distribution_without_access_url_does_not_conform(
    shapes: rdflib.Graph, published: tuple[Store, BlobStore]
) -> None:
    _, blobs = published

    def drop(doc: dict[str, Any]) -> None:
        del doc["dcat:distribution"][0]["dcat:accessURL"]

    conforms, report = _validate(shapes, _graph(_without(_file(blobs, 1), drop)))
    assert not conforms and "accessURL" in report


def test_the_old_writers_plain_media_types_and_untyped_licence_do_not_conform(
    shapes: rdflib.Graph, published: tuple[Store, BlobStore]
) -> None:
    _, blobs = published

    def plain(doc: dict[str, Any]) -> None:
        doc["dcat:distribution"][0]["dcat:mediaType"] = "text/csv"

    conforms, report = _validate(shapes, _graph(_without(_file(blobs, 1), plain)))
    assert not conforms and "mediaType" in report

    def untyped(doc: dict[str, Any]) -> None:
        licence = "https://creativecommons.org/licenses/by/4.0/deed.da"
        doc["dcat:distribution"][0]["dct:license"] = {"@id": licence}

    conforms, report = _validate(shapes, _graph(_without(_file(blobs, 1), untyped)))
    assert not conforms and "LicenseDocument" in report


def test_the_commands_publish_under_the_public_address(tmp_path: Path) -> None:
    """`mikrokort seed --demo` (its snapshot) and `mikrokort snapshot` write the catalogue's
    addresses under MIKROKORT_PUBLIC_URL, where the public will fetch the files."""
    import os
    from datetime import UTC, datetime

    from tests.conftest import cli

    env = {k: v for k, v in os.environ.items() if not k.startswith("MIKROKORT_")}
    env |= {
        "MIKROKORT_STORE": f"sqlite:///{tmp_path / 'm.db'}",
        "MIKROKORT_BLOBS": f"file://{tmp_path / 'blobs'}",
        "MIKROKORT_PUBLIC_URL": "https://kort.guldborgsund.example",
    }
    cli(env, "init")
    cli(env, "seed", "--demo", "--count", "40")
    cli(env, "snapshot", "--year", str(datetime.now(UTC).year - 1), "--new-revision", "--quiet")
    documents = sorted((tmp_path / "blobs").rglob("dcat.jsonld"))
    assert len(documents) == 2  # the demo's snapshot and its second revision
    for path in documents:
        doc = orjson.loads(path.read_bytes())
        urls = [d["dcat:downloadURL"]["@id"] for d in doc["dcat:distribution"]]
        assert urls and all(
            u.startswith("https://kort.guldborgsund.example/snapshots/") for u in urls
        )
