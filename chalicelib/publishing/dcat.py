"""DCAT-AP-DK 2.0.2 (JSON-LD) for the published snapshots: the `dcat.jsonld` of each snapshot
and the live catalogue of `GET /catalog`.

Danish portals (data.gov.dk, opendata.dk's CKAN) harvest DCAT and check it against the SHACL
shapes of the Danish profile, so every node a shape constrains carries the type the shape asks
for (a licence is a `dct:LicenseDocument`, a theme a `skos:Concept`, a place a `dct:Location`),
media types and file formats are the IRIs of IANA's and the EU's vocabularies, and every address
is absolute: a harvester reads the document away from where it was published. The context is
inline, so no reader (and no test) fetches anything to understand the document.

The publisher is the municipality (or municipalities together) the snapshot covers, named by
its official name; the contact point is the municipality's business contact where an admin has
set one, else the municipality at the deployment's address. The municipality as a place is its
feature in this API (`/collections/municipalities/items/{code}`, the DAGI boundary), beside
Denmark in the EU's country list: the former DAWA address of a municipality no longer answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.domain.public import municipality_contact
from chalicelib.domain.reference import official_name
from chalicelib.domain.text import enumeration
from chalicelib.publishing.opendata import (
    _DESCRIPTIONS,
    CVR_ATTRIBUTION,
    DAGI_ATTRIBUTION,
    LICENCE,
    PublishedFile,
)

if TYPE_CHECKING:
    from chalicelib.store import Store

MEDIA_TYPE = "application/ld+json"
# where `mikrokort serve` answers on this machine: the addresses of a snapshot published with
# no MIKROKORT_PUBLIC_URL (docs/OPEN_DATA.md says to set it before publishing)
LOCAL_URL = "http://127.0.0.1:8000"

CONTEXT: dict[str, str] = {
    "adms": "http://www.w3.org/ns/adms#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
IANA = "https://www.iana.org/assignments/media-types/"  # the prefix the profile's shape asks for
EU = "http://publications.europa.eu/resource/authority/"
FILE_TYPES = {  # media type -> the EU file-type code (none is listed for Markdown)
    "application/geo+json": "GEOJSON",
    "application/geopackage+sqlite3": "GPKG",
    "application/json": "JSON",
    "application/ld+json": "JSON_LD",
    "image/svg+xml": "SVG",
    "text/csv": "CSV",
    "text/html": "HTML",
    "text/plain": "TXT",
}
_TITLES_DA = {
    "businesses.geojson": "Aktive virksomheder pr. 31. december, GeoJSON (WGS84)",
    "businesses.csv": "De samme virksomheder som CSV (UTF-8 med BOM, kommasepareret)",
    "businesses-excel-da.csv": "De samme til dansk Excel: semikolonsepareret, decimalkomma",
    "networks.geojson": "Erhvervsnetværk: mødesteder, områder, medlemmer",
    "businesses.gpkg": "Virksomheder og netværk som GeoPackage (lagene businesses og networks)",
    "municipalities.geojson": "De dækkede kommuner med deres grænser",
    "barometer.json": "Barometerets tal med parametrene for dets skøn",
    "barometer_da.md": "Pressemeddelelse (dansk, Markdown)",
    "barometer_en.md": "Pressemeddelelse (engelsk, Markdown)",
    "barometer_da.html": "Pressemeddelelse (dansk, HTML)",
    "barometer_en.html": "Pressemeddelelse (engelsk, HTML)",
    "LICENSE.md": "Licens og kildeangivelse",
    "datapackage.json": "Datapakke (Frictionless): alle filer og felter beskrevet",
    "chart-micro-by-year_da.svg": "Diagram: mikrovirksomheder pr. år (dansk, SVG)",
    "chart-micro-by-year_en.svg": "Diagram: mikrovirksomheder pr. år (engelsk, SVG)",
    "chart-micro-by-section_da.svg": "Diagram: mikrovirksomheder pr. branche (dansk, SVG)",
    "chart-micro-by-section_en.svg": "Diagram: mikrovirksomheder pr. branche (engelsk, SVG)",
    "chart-new-closed_da.svg": "Diagram: nye og ophørte virksomheder (dansk, SVG)",
    "chart-new-closed_en.svg": "Diagram: nye og ophørte virksomheder (engelsk, SVG)",
}
_TITLES_EN = {**_DESCRIPTIONS, "datapackage.json": "Data package (Frictionless) of every file"}
# files of a snapshot written after its DCAT (the checksums and the DCAT itself): the live
# catalogue lists the same distributions as the snapshot's own document
_NOT_DATA = frozenset({"dcat.jsonld", "SHA256SUMS"})
_THEMES = {  # the EU data themes of the snapshot, with their labels in the vocabulary
    "ECON": ("Økonomi og finanser", "Economy and finance"),
    "REGI": ("Regioner og byer", "Regions and cities"),
}


@dataclass(frozen=True)
class Revision:
    """One published revision of a year, as its DCAT describes it."""

    year: int
    revision: int
    files: list[PublishedFile]
    municipalities: tuple[str, ...]
    issued: str  # the day it was published, YYYY-MM-DD
    replaced_by: int | None = None  # the revision that corrects it, once there is one

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> Revision:
        return cls(
            year=manifest["year"],
            revision=manifest["revision"],
            files=[PublishedFile(**f) for f in manifest["files"] if f["name"] not in _NOT_DATA],
            municipalities=tuple(manifest.get("municipalities") or ()),
            issued=str(manifest["published"])[:10],
        )


@dataclass(frozen=True)
class Site:
    """Where the API answers and who stands behind it: the absolute base of every address, and
    the business contact of each municipality that has one (code -> the stored contact)."""

    base_url: str
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)


def municipality_contacts(store: Store, codes: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The business contact an admin set for each municipality (as the welcome feed shows it);
    municipalities without one are left out."""
    out: dict[str, dict[str, Any]] = {}
    for code in codes:
        raw = store.get_feature("municipalities", code)
        contact = municipality_contact(orjson.loads(raw)["properties"]) if raw else None
        if contact:
            out[code] = contact
    return out


# -- the documents ------------------------------------------------------------------------------


def snapshot_document(rev: Revision, site: Site) -> bytes:
    """The snapshot's `dcat.jsonld`: its dataset, in a catalogue of this publication with the
    API as a data service (the catalogue's `dcat:dataset` written from the dataset's side, so
    the document's top node stays the dataset)."""
    base = site.base_url.rstrip("/")
    dataset = _dataset(rev, site)
    prefix = _revision_url(base, rev.year, rev.revision, "dcat.jsonld")
    catalog = _catalog(
        f"{prefix}#catalog",
        rev.municipalities,
        site,
        issued=rev.issued,
        modified=rev.issued,
        title=(
            f"Mikrokort: udgivelsen af {rev.year}",
            f"Mikrokort: the publication of {rev.year}",
        ),
    )
    catalog.pop("dcat:dataset")
    doc = {"@context": CONTEXT, **dataset, "@reverse": {"dcat:dataset": catalog}}
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


def catalog_document(
    revisions: list[Revision], municipalities: tuple[str, ...], site: Site
) -> bytes:
    """The live catalogue: every published year and revision (a revision names the one that
    corrects it) and the API as a data service."""
    described = []
    for r in revisions:
        newer = [x.revision for x in revisions if x.year == r.year and x.revision > r.revision]
        described.append(replace(r, replaced_by=min(newer)) if newer else r)
    covered = tuple(sorted({c for r in revisions for c in r.municipalities})) or municipalities
    issued = [r.issued for r in revisions]
    catalog = _catalog(
        f"{site.base_url.rstrip('/')}/catalog",
        covered,
        site,
        issued=min(issued, default=None),
        modified=max(issued, default=None),
        title=("Mikrokort: åbne data", "Mikrokort: open data"),
    )
    catalog["dcat:dataset"] = [_dataset(r, site) for r in described]
    return orjson.dumps({"@context": CONTEXT, **catalog}, option=orjson.OPT_INDENT_2)


# -- the nodes ---------------------------------------------------------------------------------


def _texts(da: str, en: str) -> list[dict[str, str]]:
    return [{"@language": "da", "@value": da}, {"@language": "en", "@value": en}]


def _date(value: str) -> dict[str, str]:
    return {"@type": "xsd:date", "@value": value}


def _revision_url(base: str, year: int, revision: int, name: str) -> str:
    """A file's address in the API: `/snapshots/{year}/{name}`, a later revision by its number."""
    return f"{base}/snapshots/{year}/{name}" + (f"?revision={revision}" if revision > 1 else "")


def _dataset_iri(base: str, year: int, revision: int) -> str:
    return _revision_url(base, year, revision, "dcat.jsonld") + "#dataset"


def _areas(codes: tuple[str, ...], lang: str) -> str:
    """'Guldborgsund Kommune og Vordingborg Kommune', in the order of the codes."""
    return enumeration([official_name(c, lang) for c in sorted(codes)], lang)


def _licence() -> dict[str, Any]:
    return {
        "@id": LICENCE["path"],
        "@type": "dct:LicenseDocument",
        "rdfs:label": LICENCE["title"],
        "dct:type": {"@id": "http://purl.org/adms/licencetype/Attribution"},
    }


def _publisher(codes: tuple[str, ...], base: str) -> dict[str, Any]:
    """The municipality, or the municipalities as one group of their members (the profile
    allows one publisher)."""

    def one(code: str) -> dict[str, Any]:
        return {
            "@id": f"{base}/catalog#kommune-{code}",
            "@type": ["foaf:Agent", "foaf:Organization"],
            "foaf:name": _texts(official_name(code, "da"), official_name(code, "en")),
            "dct:identifier": code,
            "dct:type": {"@id": "http://purl.org/adms/publishertype/LocalAuthority"},
        }

    ordered = tuple(sorted(codes))
    if len(ordered) == 1:
        return one(ordered[0])
    return {
        "@id": f"{base}/catalog#kommuner-{'-'.join(ordered)}",
        "@type": ["foaf:Agent", "foaf:Group"],
        "foaf:name": _texts(_areas(ordered, "da"), _areas(ordered, "en")),
        "dct:type": {"@id": "http://purl.org/adms/publishertype/LocalAuthority"},
        "foaf:member": [one(c) for c in ordered],
    }


def _contact_points(codes: tuple[str, ...], site: Site) -> list[dict[str, Any]]:
    """Each municipality's business contact (name, e-mail, phone, website) where set; else the
    municipality at the deployment's address, where this API and its catalogue answer."""
    base = site.base_url.rstrip("/")
    points = []
    for code in sorted(codes):
        contact = site.contacts.get(code)
        name = official_name(code, "da")
        point: dict[str, Any] = {"@type": ["vcard:Kind", "vcard:Organization"]}
        if contact:
            point["vcard:fn"] = f"{contact['name']}, {name}"
            if contact.get("email"):
                point["vcard:hasEmail"] = {"@id": f"mailto:{contact['email']}"}
            if contact.get("phone"):
                digits = "".join(ch for ch in contact["phone"] if ch.isdigit() or ch == "+")
                point["vcard:hasTelephone"] = {"@id": f"tel:{digits}"}
            point["vcard:hasURL"] = {"@id": contact.get("website") or f"{base}/"}
        else:
            point["vcard:fn"] = name
            point["vcard:hasURL"] = {"@id": f"{base}/"}
        points.append(point)
    return points


def _spatial(codes: tuple[str, ...], base: str) -> list[dict[str, Any]]:
    places: list[dict[str, Any]] = [
        {
            "@id": f"{base}/collections/municipalities/items/{code}",
            "@type": "dct:Location",
            "skos:prefLabel": _texts(official_name(code, "da"), official_name(code, "en")),
            "dct:identifier": code,
        }
        for code in sorted(codes)
    ]
    places.append(
        {
            "@id": f"{EU}country/DNK",
            "@type": "dct:Location",
            "skos:prefLabel": _texts("Danmark", "Denmark"),
        }
    )
    return places


def _themes() -> list[dict[str, Any]]:
    return [
        {
            "@id": f"{EU}data-theme/{code}",
            "@type": "skos:Concept",
            "skos:prefLabel": _texts(da, en),
            "skos:inScheme": {"@id": f"{EU}data-theme"},
        }
        for code, (da, en) in _THEMES.items()
    ]


def _service(base: str) -> dict[str, Any]:
    return {
        "@id": f"{base}/catalog#api",
        "@type": "dcat:DataService",
        "dct:title": _texts(
            "Mikrokort: OGC API - Features over virksomheder, netværk og kommuner",
            "Mikrokort: OGC API - Features of businesses, networks and municipalities",
        ),
        "dct:description": _texts(
            "Dagens kort over mikrovirksomheder og erhvervsnetværk som GeoJSON; "
            "beskrevet i OpenAPI-dokumentet.",
            "Today's map of micro-businesses and business networks as GeoJSON; described by "
            "the OpenAPI document.",
        ),
        "dcat:endpointURL": {"@id": f"{base}/"},
        "dcat:endpointDescription": {"@id": f"{base}/api"},
        "dct:conformsTo": {
            "@id": "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "@type": "dct:Standard",
        },
        "dct:license": _licence(),
    }


def _catalog(
    iri: str,
    codes: tuple[str, ...],
    site: Site,
    *,
    issued: str | None,
    modified: str | None,
    title: tuple[str, str],
) -> dict[str, Any]:
    base = site.base_url.rstrip("/")
    node: dict[str, Any] = {
        "@id": iri,
        "@type": "dcat:Catalog",
        "dct:title": _texts(*title),
        "dct:description": _texts(
            "De årlige øjebliksbilleder af Mikrokort: mikrovirksomheder og erhvervsnetværk i "
            f"{_areas(codes, 'da')}, med kommunegrænserne og årets mikrobarometer.",
            "The yearly snapshots of Mikrokort: micro-businesses and business networks in "
            f"{_areas(codes, 'en')}, with the municipal boundaries and the year's barometer.",
        ),
        "dct:publisher": _publisher(codes, base),
        "foaf:homepage": {"@id": f"{base}/", "@type": "foaf:Document"},
        "dcat:themeTaxonomy": {
            "@id": f"{EU}data-theme",
            "@type": "skos:ConceptScheme",
            "dct:title": _texts("Datatemaer", "Data theme"),
        },
        "dct:spatial": _spatial(codes, base),
        "dct:license": _licence(),
        "dcat:dataset": [],
        "dcat:service": _service(base),
    }
    if issued:
        node["dct:issued"] = _date(issued)
    if modified:
        node["dct:modified"] = _date(modified)
    return node


def _distribution(f: PublishedFile, rev: Revision, base: str) -> dict[str, Any]:
    media = f.media_type.split(";")[0].strip()
    url = _revision_url(base, rev.year, rev.revision, f.name)
    node: dict[str, Any] = {
        "@type": "dcat:Distribution",
        "dct:title": _texts(_TITLES_DA.get(f.name, f.name), _TITLES_EN.get(f.name, f.name)),
        "dcat:accessURL": {"@id": url},
        "dcat:downloadURL": {"@id": url},
        "dcat:mediaType": {"@id": IANA + media},
        "dcat:byteSize": {"@type": "xsd:decimal", "@value": str(f.size)},  # a lexical form
        "dct:license": _licence(),
        "dct:issued": _date(rev.issued),
    }
    if media in FILE_TYPES:
        node["dct:format"] = {"@id": f"{EU}file-type/{FILE_TYPES[media]}"}
    return node


def _dataset(rev: Revision, site: Site) -> dict[str, Any]:
    base = site.base_url.rstrip("/")
    year, codes = rev.year, rev.municipalities
    identifier = f"mikrokort-{year}" + (f"-rev-{rev.revision}" if rev.revision > 1 else "")
    node: dict[str, Any] = {
        "@id": _dataset_iri(base, year, rev.revision),
        "@type": "dcat:Dataset",
        "dct:identifier": identifier,
        "dct:title": _texts(
            f"Mikrokort: mikrovirksomheder og netværk {year}",
            f"Mikrokort: micro-businesses and networks {year}",
        ),
        "dct:description": _texts(
            f"Virksomheder og netværk i {_areas(codes, 'da')} pr. 31. december {year}, med "
            "kommunegrænserne og årets mikrobarometer.",
            f"Businesses and networks in {_areas(codes, 'en')} on 31 December {year}, with the "
            "municipal boundaries and the year's micro-business barometer.",
        ),
        "dct:publisher": _publisher(codes, base),
        "dcat:contactPoint": _contact_points(codes, site),
        "dcat:landingPage": {"@id": f"{base}/barometer/{year}?f=html", "@type": "foaf:Document"},
        "foaf:page": {"@id": f"{base}/snapshots", "@type": "foaf:Document"},
        "dcat:theme": _themes(),
        "dcat:keyword": [
            {"@language": "da", "@value": word}
            for word in ("mikrovirksomheder", "CVR", "erhverv", "netværk")
        ]
        + [{"@language": "en", "@value": "micro-businesses"}],
        "dct:spatial": _spatial(codes, base),
        "dct:temporal": {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": _date(f"{year}-01-01"),
            "dcat:endDate": _date(f"{year}-12-31"),
        },
        "dct:accrualPeriodicity": {"@id": f"{EU}frequency/ANNUAL", "@type": "dct:Frequency"},
        "dct:issued": _date(rev.issued),
        "dct:modified": _date(rev.issued),
        "dct:accessRights": {
            "@type": "dct:RightsStatement",
            "dct:type": {"@id": f"{EU}access-right/PUBLIC"},
        },
        "dct:provenance": {
            "@type": "dct:ProvenanceStatement",
            "rdfs:label": f"{CVR_ATTRIBUTION}. {DAGI_ATTRIBUTION}. Business networks: registered "
            "by the networks themselves. Privacy rules applied (LICENSE.md).",
        },
        "owl:versionInfo": f"{year}.{rev.revision}",
        "dcat:distribution": [_distribution(f, rev, base) for f in rev.files],
    }
    if rev.revision > 1:
        previous = _dataset_iri(base, year, rev.revision - 1)
        node["dct:replaces"] = {"@id": previous}
        node["dcat:previousVersion"] = {"@id": previous}
        node["adms:versionNotes"] = _texts(
            f"Rettet udgave {rev.revision} af {year}; erstatter udgave {rev.revision - 1}, "
            "som bliver liggende uændret.",
            f"Corrected revision {rev.revision} of {year}; replaces revision "
            f"{rev.revision - 1}, which stays published unchanged.",
        )
    if rev.replaced_by is not None:
        node["dct:isReplacedBy"] = {"@id": _dataset_iri(base, year, rev.replaced_by)}
    return node
