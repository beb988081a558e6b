"""robots.txt and the sitemaps (sitemaps.org 0.9): how search engines find the page of every
active business and every network, so that a search for a local firm finds it.

`/sitemap.xml` is a sitemap index: one file of the site's own pages (landing, collections,
the items pages per municipality, the networks, the welcome feeds, the snapshots, the maps),
and for each municipality the active businesses in files of at most `PER_FILE` addresses (the
protocol allows 50,000 per file). A business file is read by walking the store's pages in
order; the index needs one count per municipality. Both are sent with a day's caching and an
ETag from the store's change token (a revalidation costs one read): search engines read them
rarely, and a new business appears in them the next day.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from chalicelib.domain.errors import NotFound
from chalicelib.pages.schema_org import network_path
from chalicelib.store import FeatureQuery, iter_public_pages, parse_features
from chalicelib.web.http import HttpResponse, etag_of, not_modified, ok, version_etag

if TYPE_CHECKING:
    from chalicelib.store import Store
    from chalicelib.web.http import HttpRequest

XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
PER_FILE = 40_000
MAX_AGE = 86_400
_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_BUSINESS_FILE = re.compile(r"^businesses-(\d{3})-(\d{1,4})\.xml$")


def robots(req: HttpRequest) -> HttpResponse:
    """`/robots.txt`: everything public may be read; the admin API is not for crawlers."""
    body = (
        "User-agent: *\n"
        "Disallow: /admin/\n"
        "Disallow: /search\n"
        "Disallow: /businesses/\n"
        f"Sitemap: {req.base_url}/sitemap.xml\n"
    ).encode()
    return ok(req, body, TEXT, etag=etag_of(body), max_age=MAX_AGE)


def _urlset(urls: list[str], lastmod: dict[str, str] | None = None) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{_NS}">']
    for url in urls:
        mod = (lastmod or {}).get(url)
        stamp = f"<lastmod>{escape(mod)}</lastmod>" if mod else ""
        lines.append(f"<url><loc>{escape(url)}</loc>{stamp}</url>")
    lines.append("</urlset>")
    return "\n".join(lines).encode()


def _cached(store: Store, req: HttpRequest, *parts: str) -> tuple[str | None, HttpResponse | None]:
    token = store.change_token()
    if token is None:
        return None, None
    etag = version_etag(token, req.base_url, *parts)
    return etag, not_modified(req, XML, etag=etag, max_age=MAX_AGE)


def _active(code: str, limit: int = 10_000) -> FeatureQuery:
    return FeatureQuery(municipality=code, status="active", limit=limit)


def _count(store: Store, code: str) -> int:
    """The active businesses of a municipality: the store's count, or a walk where it keeps
    none (DynamoDB counts only where a few queries suffice)."""
    first = store.query("businesses", _active(code, limit=1), count=True)
    if first.number_matched is not None:
        return first.number_matched
    return sum(len(features) for features in iter_public_pages(store, "businesses", _active(code)))


def sitemap_index(store: Store, req: HttpRequest) -> HttpResponse:
    """`/sitemap.xml`: the site's pages, and the businesses of each municipality in files."""
    etag, unchanged = _cached(store, req, "index")
    if unchanged is not None:
        return unchanged
    files = [f"{req.base_url}/sitemaps/pages.xml"]
    for code in req.settings.municipalities:
        chunks = -(-_count(store, code) // PER_FILE)  # none for a municipality without any
        files += [f"{req.base_url}/sitemaps/businesses-{code}-{n}.xml" for n in range(chunks)]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<sitemapindex xmlns="{_NS}">']
    lines += [f"<sitemap><loc>{escape(url)}</loc></sitemap>" for url in files]
    lines.append("</sitemapindex>")
    body = "\n".join(lines).encode()
    return ok(req, body, XML, etag=etag or etag_of(body), max_age=MAX_AGE)


def sitemap_file(store: Store, req: HttpRequest, name: str) -> HttpResponse:
    """`/sitemaps/pages.xml` or `/sitemaps/businesses-{kommunekode}-{n}.xml`."""
    covered = tuple(req.settings.municipalities)
    found = _BUSINESS_FILE.match(name)
    if name != "pages.xml" and (found is None or found.group(1) not in covered):
        raise NotFound(f"no sitemap '{name}': the files are named in {req.base_url}/sitemap.xml")
    etag, unchanged = _cached(store, req, name)
    if unchanged is not None:
        return unchanged
    if found is None:
        body = _urlset(_site_pages(store, req))
    else:
        body = _urlset(_business_pages(store, req, found.group(1), int(found.group(2))))
    return ok(req, body, XML, etag=etag or etag_of(body), max_age=MAX_AGE)


def _site_pages(store: Store, req: HttpRequest) -> list[str]:
    base = req.base_url
    covered = list(req.settings.municipalities)
    urls = [f"{base}/", f"{base}/collections?f=html", f"{base}/snapshots?f=html"]
    for cid in ("businesses", "networks", "network-meeting-places", "municipalities"):
        urls.append(f"{base}/collections/{cid}?f=html")
        urls.append(f"{base}/collections/{cid}/items?f=html")
    for code in covered:
        urls += [
            f"{base}/collections/municipalities/items/{code}?f=html",
            f"{base}/collections/businesses/items?municipality={code}&f=html",
            f"{base}/municipalities/{code}/new-businesses?f=html",
            f"{base}/embed/{code}",
        ]
    seen: set[str] = set()
    for collection in ("networks", "network-meeting-places"):
        for features in iter_public_pages(store, collection):
            for network in parse_features(features):
                if str(network["id"]) not in seen:
                    seen.add(str(network["id"]))
                    urls.append(f"{base}{network_path(network)}?f=html")
    return urls


def _business_pages(store: Store, req: HttpRequest, code: str, chunk: int) -> list[str]:
    """The active businesses of one file, in the store's order: `chunk` files of `PER_FILE`
    come before it."""
    skip, urls = chunk * PER_FILE, []
    for features in iter_public_pages(store, "businesses", _active(code)):
        if skip >= len(features):
            skip -= len(features)
            continue
        for feature in parse_features(features[skip:]):
            urls.append(f"{req.base_url}/collections/businesses/items/{feature['id']}?f=html")
            if len(urls) == PER_FILE:
                return urls
        skip = 0
    if not urls:  # a sitemap holds at least one address
        raise NotFound(f"no sitemap 'businesses-{code}-{chunk}.xml': there are fewer businesses")
    return urls
