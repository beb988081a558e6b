"""A walk over every public route and every published file of the demo, checking the privacy
rules against the store's private view: personally owned firms without opt-in show no street
address, no exact point and no contact details; marketing-protected firms show no contact
details; hidden businesses appear nowhere."""

from __future__ import annotations

import csv
import html
import io
import math
import random
import re
from datetime import date, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import mapbox_vector_tile
import orjson
import pytest
import requests

from chalicelib.domain.models import Business
from chalicelib.publishing.opendata import EXCEL_DA_HEADERS
from chalicelib.store import FeatureQuery, Store
from chalicelib.tiles.matrix import EXTENT, tile_bbox


def _private(store: Store) -> dict[str, Business]:
    """Every business the store holds, private fields included (the test's ground truth)."""
    ids: list[str] = []
    q = FeatureQuery(limit=10_000)
    while True:  # public ids, plus the hidden ones found below by CVR range
        page = store.query("businesses", q)
        ids += [orjson.loads(f)["id"] for f in page.features]
        if page.next_after is None:
            break
        q = q.model_copy(update={"after": page.next_after})
    from chalicelib.demo.generate import generate_businesses

    demo = generate_businesses(5000)  # the demo's ids, hidden ones included
    return store.get_businesses(sorted(set(ids) | {b.id for b in demo}))


class Walker:
    def __init__(self, base: str, http: requests.Session, truth: dict[str, Business]) -> None:
        self.base = base
        self.http = http
        self.truth = truth
        self.hidden = {cvr for cvr, b in truth.items() if not b.public}
        self.checked = 0
        self.visited: list[str] = []
        self.public_points: dict[str, list[float]] = {}  # id -> the public feature's point

    def get(self, url: str, **params: Any) -> requests.Response:
        r = self.http.get(
            url if url.startswith("http") else self.base + url, params=params, timeout=60
        )
        self.visited.append(r.url)
        assert r.status_code < 500, (r.url, r.status_code)
        if r.status_code == 200:
            self.check_body(r)
        return r

    def check_body(self, r: requests.Response) -> None:
        for cvr in self.hidden:
            assert f'"{cvr}"'.encode() not in r.content and f"urn:cvr:{cvr}".encode() not in (
                r.content
            ), (r.url, cvr)
        media = r.headers.get("Content-Type", "")
        if "json" in media:
            self.walk_json(r.json(), r.url)
        elif "atom" in media:
            self.walk_atom(r.content, r.url)
        elif "csv" in media:
            self.walk_csv(r.content, r.url)
        elif "mapbox-vector-tile" in media:
            self.walk_tile(r.content, r.url)
        elif "text/html" in media:
            self.walk_html(r.text, r.url)

    def walk_html(self, text: str, where: str) -> None:
        """A page: no hidden business linked or named by its number, the schema.org markup
        held to the feature's rules, and a business's own page showing no withheld field."""
        for cvr in self.hidden:
            assert f"/items/{cvr}" not in text and f">{cvr}<" not in text, (where, cvr)
        for found in re.finditer(r'<script type="application/ld\+json">(.*?)</script>', text):
            doc = orjson.loads(found.group(1))
            if doc.get("@type") == "LocalBusiness":
                self.check_markup(doc, where)
        own = re.search(r"/collections/businesses/items/(\d{8})\?", where)
        if own and own.group(1) in self.truth:
            b = self.truth[own.group(1)]
            self.checked += 1
            if b.personally_owned and not b.curated.show_address and b.address:
                assert html.escape(b.address) not in text, (where, b.id)
            if not _contact_allowed(b):
                for value in (b.contact.phone, b.contact.email):
                    assert not value or html.escape(value) not in text, (where, b.id)

    def check_markup(self, doc: dict[str, Any], where: str) -> None:
        b = self.truth[doc["identifier"]["value"]]
        self.checked += 1
        if b.personally_owned and not b.curated.show_address:
            assert "streetAddress" not in doc["address"], (where, b.id)
            assert "geo" not in doc, (where, b.id)
        if not _contact_allowed(b):
            assert not {"telephone", "email", "sameAs"} & set(doc), (where, b.id)

    def walk_tile(self, data: bytes, where: str) -> None:
        """A tile's points: never a hidden business, the public properties only, and each at
        its public feature's point (so a coarsened one stays coarse), to a grid unit."""
        z, y, x = (int(v) for v in where.split("?")[0].rsplit("/", 3)[1:])
        west, _, east, _ = tile_bbox(z, y, x)
        layers = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
        for f in (layers or {}).get("businesses", {}).get("features", []):
            cvr = f["properties"].get("id")
            if cvr is None:  # a cluster: counts only
                assert set(f["properties"]) <= {"count", "cluster"} | {
                    k for k in f["properties"] if k.startswith("n_")
                }, where
                continue
            assert cvr not in self.hidden, (where, cvr)
            px, py = f["geometry"]["coordinates"]
            lon = west + px / EXTENT * (east - west)
            n = 1 << z  # the grid's y is linear in the Mercator y
            lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + py / EXTENT) / n))))
            unit = (east - west) / EXTENT
            public = self.public_points[cvr]
            assert abs(lon - public[0]) <= 2 * unit and abs(lat - public[1]) <= 2 * unit, (
                where,
                cvr,
            )
            props = {k: v for k, v in f["properties"].items() if k != "id"}
            self.check_feature(
                {"type": "Feature", "id": cvr, "properties": props, "geometry": None}, where
            )

    def walk_json(self, node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Feature" and str(node.get("id", "")) in self.truth:
                self.check_feature(node, where)
            for v in node.values():
                self.walk_json(v, where)
        elif isinstance(node, list):
            for v in node:
                self.walk_json(v, where)

    def check_feature(self, f: dict[str, Any], where: str) -> None:
        b = self.truth[f["id"]]
        p = f["properties"]
        self.checked += 1
        if b.personally_owned and not b.curated.show_address:
            assert p.get("address") is None, (where, b.id)
            if b.location is not None and b.location_precision == "address" and f.get("geometry"):
                exact = [round(b.location.lon, 6), round(b.location.lat, 6)]
                assert f["geometry"]["coordinates"] != exact, (where, b.id)
        if not _contact_allowed(b):
            for field in ("phone", "email", "website"):
                assert p.get(field) is None, (where, b.id, field)
        for field in ("curated", "address_id", "address_issue", "contact", "outside_area"):
            assert field not in p, (where, field)

    def walk_atom(self, data: bytes, where: str) -> None:
        ns = {"a": "http://www.w3.org/2005/Atom"}
        for entry in ET.fromstring(data).findall("a:entry", ns):
            cvr = (entry.findtext("a:id", "", ns) or "").removeprefix("urn:cvr:")
            b = self.truth.get(cvr)
            if b is None:
                continue
            self.checked += 1
            text = entry.findtext("a:content", "", ns) or ""
            if b.personally_owned and not b.curated.show_address and b.address:
                assert f"{b.address}, {b.postcode}" not in text, (where, cvr)
            if b.reklamebeskyttet or (b.personally_owned and not b.curated.show_contact):
                for value in (b.contact.phone, b.contact.email):
                    assert not value or value not in text, (where, cvr)

    def walk_csv(self, data: bytes, where: str) -> None:
        text = data.decode("utf-8-sig")
        delimiter = ";" if text.split("\n", 1)[0].count(";") > 3 else ","
        english = {da: en for en, da in EXCEL_DA_HEADERS.items()}
        for raw in csv.DictReader(io.StringIO(text), delimiter=delimiter):
            # the Danish-Excel file: Danish headers, and text cells as formulas (="2-4")
            row = {english.get(k, k): _excel_value(v) for k, v in raw.items()}
            props: dict[str, Any] = {k: (v or None) for k, v in row.items()}
            lon, lat = props.pop("lon"), props.pop("lat")
            geometry = None
            if lon and lat:
                geometry = {
                    "coordinates": [float(lon.replace(",", ".")), float(lat.replace(",", "."))]
                }
            props.pop("networks", None)
            self.check_feature(
                {"type": "Feature", "id": row["id"], "properties": props, "geometry": geometry},
                where,
            )


def _contact_allowed(b: Business) -> bool:
    return not b.reklamebeskyttet and (not b.personally_owned or b.curated.show_contact)


def _tile_path(lon: float, lat: float, z: int) -> str:
    s = math.sin(math.radians(lat))
    row = math.floor((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * (1 << z))
    col = math.floor((lon + 180.0) / 360.0 * (1 << z))
    return f"/collections/businesses/tiles/WebMercatorQuad/{z}/{row}/{col}"


def _excel_value(cell: str | None) -> str | None:
    """A cell as the spreadsheet shows it: ="2-4" is the text 2-4."""
    if cell and cell.startswith('="') and cell.endswith('"'):
        return cell[2:-1].replace('""', '"')
    return cell


def test_every_public_output_respects_the_privacy_rules(
    api: str, http: requests.Session, demo_store: Store
) -> None:
    truth = _private(demo_store)
    assert any(not b.public for b in truth.values()), "the demo has hidden businesses to look for"
    w = Walker(api, http, truth)
    for path in ("/", "/conformance", "/collections", "/api", "/collections/businesses",
                 "/collections/networks/items", "/collections/municipalities/items"):  # fmt: skip
        w.get(path)
    r = w.get("/collections/businesses/items", limit=10_000)
    public_ids = []
    while True:
        doc = r.json()
        public_ids += [f["id"] for f in doc["features"]]
        w.public_points.update(
            (f["id"], f["geometry"]["coordinates"]) for f in doc["features"] if f["geometry"]
        )
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        if not nxt:
            break
        r = w.get(nxt[0])
    rng = random.Random(1)
    sample = rng.sample(public_ids, min(60, len(public_ids)))
    personal = [c for c in public_ids if truth[c].personally_owned][:20]
    for cvr in sample + personal:
        w.get(f"/collections/businesses/items/{cvr}")
        w.get(
            f"/collections/businesses/items/{cvr}", crs="http://www.opengis.net/def/crs/EPSG/0/4326"
        )
    for cvr in sample[:30] + personal:  # each one's own page, and its markup
        w.get(f"/collections/businesses/items/{cvr}", f="html")
    for cvr in sample[:15]:
        w.get(f"/businesses/{cvr}/matches")
    for cvr in w.hidden:
        assert w.get(f"/collections/businesses/items/{cvr}").status_code == 404
        assert w.get(f"/businesses/{cvr}/matches").status_code == 404
    for path in ("/", "/collections", "/collections/businesses", "/snapshots"):
        w.get(path, f="html")
    for n in w.get("/collections/networks/items", limit=100).json()["features"]:
        w.get(f"/collections/networks/items/{n['id']}", f="html")
    for n in w.get("/collections/network-meeting-places/items", limit=100).json()["features"]:
        w.get(f"/collections/network-meeting-places/items/{n['id']}", f="html")
    for code in ("376", "390"):
        w.get("/collections/businesses/items", f="html", municipality=code, limit=1000)
        since = (date.today() - timedelta(days=700)).isoformat()
        w.get(f"/municipalities/{code}/new-businesses", since=since, limit=1000, f="html")
        w.get(f"/municipalities/{code}/new-businesses", since="1900-01-01", limit=1000)
        w.get(f"/municipalities/{code}/new-businesses", since="1900-01-01", limit=1000, f="atom")
        w.get(f"/municipalities/{code}/map-data")
        for section in "ACFGIMNQS":
            w.get("/search", municipality=code, industry=section, limit=100)
    w.get("/search", point="11.87,54.77", radius="20", industry="F", limit=100)
    w.get("/collections/businesses/items", bbox="11.85,54.75,11.90,54.78", limit=10_000)
    tiles = {  # the point-zoom tiles of the personally owned sample, and the clusters above
        _tile_path(*w.public_points[c], z) for c in personal + sample[:20] for z in (9, 14)
    }
    for path in sorted(tiles):
        w.get(path)
    listing = w.get("/snapshots").json()
    for snap in listing["snapshots"]:
        for f in snap["files"]:
            w.get(f["url"])
        for fmt in ("json", "html", "md"):
            w.get(f"/barometer/{snap['year']}", f=fmt)
    assert w.checked > len(public_ids)  # every feature was looked at, most more than once
    assert len(w.visited) > 200


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_press_release_names_no_business(
    api: str, http: requests.Session, demo_store: Store, lang: str
) -> None:
    """Aggregates only: no business name in the barometer or its release."""
    listing = http.get(f"{api}/snapshots", timeout=30).json()
    year = listing["snapshots"][0]["year"]
    text = http.get(f"{api}/barometer/{year}", params={"f": "md", "lang": lang}).text
    names = [orjson.loads(f)["properties"]["name"] for f in demo_store.query(
        "businesses", FeatureQuery(limit=500)).features]  # fmt: skip
    assert not [n for n in names if n in text]
