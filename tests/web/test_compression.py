"""Compressed answers of the embedded server: negotiated from Accept-Encoding, the same body once
decompressed, ETags that tell the representations apart and still revalidate, and nothing
compressed that should not be (small bodies, images, HEAD, 304s, private answers)."""

from __future__ import annotations

import gzip
import http.client
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import requests

from chalicelib.config import Settings
from chalicelib.domain.reference import load_municipalities
from chalicelib.services import Services
from chalicelib.store import open_store
from chalicelib.web import compression as C
from chalicelib.web.http import HttpRequest, HttpResponse, etag_of, matching_etag, ok
from chalicelib.web.routing import PUBLIC, Route
from chalicelib.web.wsgi import ServerOptions, WsgiApp, make_server
from tests.conftest import wsgi_call as call
from tests.factories import business, cvr_number, network

BIG = orjson.dumps(
    {"rows": [{"id": n, "name": f"Firma {n} ApS", "by": "Nykøbing F"} for n in range(400)]}
)
SMALL = orjson.dumps({"id": 1})
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20


def _big(s: object, r: HttpRequest) -> HttpResponse:
    return ok(r, BIG, "application/geo+json", etag=etag_of(BIG), max_age=60)


def _small(s: object, r: HttpRequest) -> HttpResponse:
    return ok(r, SMALL, "application/json", etag=etag_of(SMALL), max_age=60)


def _png(s: object, r: HttpRequest) -> HttpResponse:
    return ok(r, PNG, "image/png", etag=etag_of(PNG), max_age=60)


def _private(s: object, r: HttpRequest) -> HttpResponse:
    return HttpResponse(200, BIG, "application/json", {"Cache-Control": "no-store", "ETag": '"v3"'})


ROUTES = (
    Route("big", "GET", "/big", _big, PUBLIC),
    Route("small", "GET", "/small", _small, PUBLIC),
    Route("png", "GET", "/png", _png, PUBLIC),
    Route("private", "GET", "/private", _private, PUBLIC),
)


@dataclass
class _Services:
    settings: Settings


def _app() -> WsgiApp:
    return WsgiApp(ROUTES, _Services(Settings()))  # type: ignore[arg-type]


def _vary(headers: dict[str, str]) -> list[str]:
    return [v.strip().lower() for v in headers.get("Vary", "").split(",")]


# -- negotiation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "coding", "identity_ok"),
    [
        (None, None, True),  # no header: anything goes, identity is the sensible answer
        ("", None, True),
        ("gzip", "gzip", True),
        ("x-gzip", "gzip", True),
        ("GZIP;Q=0.8", "gzip", True),
        ("deflate, compress", None, True),  # nothing this server has
        ("gzip;q=0", None, True),
        ("gzip;q=0.5, identity", None, True),  # identity named, and preferred
        ("gzip;q=0.5, identity;q=0.4", "gzip", True),
        ("identity;q=0, gzip", "gzip", False),
        ("identity;q=0", None, False),
        ("*;q=0", None, False),
        ("*;q=0, identity", None, True),
        ("*", "br" if "br" in C.CODERS else "gzip", True),
        ("*, gzip;q=0", "br" if "br" in C.CODERS else None, True),
        ("gzip;q=abc", None, True),  # a malformed q-value counts as 0
        ("gzip;q=2", None, True),
        ("gzip, gzip;q=0", "gzip", True),  # listed twice: its best q
    ],
)
def test_the_coding_follows_accept_encoding(
    header: str | None, coding: str | None, identity_ok: bool
) -> None:
    assert C.choose(header) == C.Choice(coding, identity_ok)


def test_brotli_is_preferred_on_equal_q_and_not_over_a_higher_gzip() -> None:
    assert C.choose("gzip, br", ("br", "gzip")).coding == "br"
    assert C.choose("gzip, br;q=0.9", ("br", "gzip")).coding == "gzip"
    assert C.choose("br", ("gzip",)).coding is None  # without the wheel there is no br


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        ("application/json", True),
        ("application/geo+json", True),
        ("application/vnd.oai.openapi+json;version=3.0", True),
        ("application/atom+xml; charset=utf-8", True),
        ("text/csv; charset=utf-8", True),
        ("text/javascript; charset=utf-8", True),
        ("image/png", False),
        ("application/zip", False),
        ("application/gzip", False),
        ("application/octet-stream", False),
    ],
)
def test_only_text_and_documents_are_compressible(media: str, expected: bool) -> None:
    assert C.compressible(media) is expected


# -- the WSGI app ------------------------------------------------------------------------------


def test_a_large_answer_is_gzipped_and_decompresses_to_the_same_body() -> None:
    plain = call(_app(), "GET", "/big")
    r = call(_app(), "GET", "/big", ACCEPT_ENCODING="gzip, deflate")
    assert "Content-Encoding" not in plain["headers"] and plain["body"] == BIG
    assert r["status"] == 200 and r["headers"]["Content-Encoding"] == "gzip"
    assert gzip.decompress(r["body"]) == BIG
    assert len(r["body"]) < len(BIG) / 4
    assert r["headers"]["Content-Length"] == str(len(r["body"]))
    assert {"accept", "accept-encoding"} <= set(_vary(r["headers"]))
    assert "accept-encoding" in _vary(plain["headers"])
    # another representation, another tag; weak, with the coding as a suffix
    assert r["headers"]["ETag"] == plain["headers"]["ETag"][:-1] + '-gzip"'
    assert r["headers"]["ETag"].startswith('W/"')


def test_brotli_when_the_client_prefers_it() -> None:
    import brotli  # a runtime dependency of the embedded mode (requirements.txt)

    r = call(_app(), "GET", "/big", ACCEPT_ENCODING="gzip;q=0.8, br")
    assert r["headers"]["Content-Encoding"] == "br"
    assert brotli.decompress(r["body"]) == BIG
    assert r["headers"]["ETag"].endswith('-br"')


def test_either_tag_revalidates_and_the_304_keeps_the_tag_the_client_holds() -> None:
    plain_tag = call(_app(), "GET", "/big")["headers"]["ETag"]
    gzip_tag = call(_app(), "GET", "/big", ACCEPT_ENCODING="gzip")["headers"]["ETag"]
    for held, accept in [(gzip_tag, "gzip"), (plain_tag, "gzip"), (gzip_tag, "identity")]:
        r = call(_app(), "GET", "/big", ACCEPT_ENCODING=accept, IF_NONE_MATCH=held)
        assert r["status"] == 304 and r["body"] == b""
        assert r["headers"]["ETag"] == held
        assert "Content-Encoding" not in r["headers"]
        assert "accept-encoding" in _vary(r["headers"])
    other = call(_app(), "GET", "/big", ACCEPT_ENCODING="gzip", IF_NONE_MATCH='W/"x-gzip"')
    assert other["status"] == 200


def test_matching_etag_compares_weakly_and_ignores_the_coding_suffix() -> None:
    assert matching_etag('W/"a-gzip"', 'W/"a"') == 'W/"a-gzip"'
    assert matching_etag('"b", W/"a-br"', 'W/"a"') == 'W/"a-br"'
    assert matching_etag('"a"', 'W/"a"') == '"a"'
    assert matching_etag('W/"a-zip"', 'W/"a"') is None
    assert matching_etag("*", '"v"') == '"v"'
    assert matching_etag(None, '"v"') is None


@pytest.mark.parametrize("path", ["/small", "/png", "/private"])
def test_small_bodies_images_and_private_answers_are_sent_as_they_are(path: str) -> None:
    plain = call(_app(), "GET", path)
    r = call(_app(), "GET", path, ACCEPT_ENCODING="gzip, br")
    assert "Content-Encoding" not in r["headers"]
    assert r["body"] == plain["body"] and r["headers"]["ETag"] == plain["headers"]["ETag"]


def test_head_has_the_identity_headers_and_no_body() -> None:
    r = call(_app(), "HEAD", "/big", ACCEPT_ENCODING="gzip")
    assert r["status"] == 200 and r["body"] == b""
    assert "Content-Encoding" not in r["headers"]
    assert r["headers"]["Content-Length"] == str(len(BIG))
    assert "accept-encoding" in _vary(r["headers"])


def test_a_client_refusing_identity_gets_a_coding_even_for_a_small_body() -> None:
    r = call(_app(), "GET", "/small", ACCEPT_ENCODING="identity;q=0, gzip")
    assert r["headers"]["Content-Encoding"] == "gzip"
    assert gzip.decompress(r["body"]) == SMALL


def test_no_acceptable_coding_is_a_406_naming_the_header() -> None:
    r = call(_app(), "GET", "/big", ACCEPT_ENCODING="identity;q=0, compress")
    assert r["status"] == 406
    doc = orjson.loads(r["body"])
    assert doc["code"] == "NotAcceptable" and doc["parameter"] == "Accept-Encoding"
    assert "gzip" in doc["description"] and "\n" not in doc["description"]


def test_the_compressed_form_of_a_large_body_is_kept_and_follows_its_content() -> None:
    first = C.compress(BIG, "gzip")
    assert C.compress(BIG, "gzip") == first
    changed = BIG.replace(b"Firma 7 ", b"Firma X ")
    assert gzip.decompress(C.compress(changed, "gzip")) == changed


# -- real routes over HTTP -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real route table on a small SQLite store, served by waitress as `mikrokort serve`."""
    from chalicelib.routes import ROUTES as REAL_ROUTES

    folder: Path = tmp_path_factory.mktemp("compressed")
    settings = Settings(store_url=f"sqlite:///{folder / 'm.db'}", blobs_url=str(folder / "blobs"))
    store = open_store(settings.store_url)
    store.create_table()
    store.upsert_municipalities(load_municipalities(["376"]))
    cvrs = [cvr_number(n) for n in range(60)]
    store.upsert_businesses([business(c, name=f"Firma {n} ApS") for n, c in enumerate(cvrs)])
    store.upsert_networks([network("net", members=cvrs[:5])])
    store.close()
    app = WsgiApp(REAL_ROUTES, Services(settings))
    server = make_server(app, "127.0.0.1", 0, ServerOptions(threads=2, channel_timeout=5))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


ROUTE_PATHS = [
    "/collections/businesses/items?limit=50",
    "/municipalities/376/map-data",
    "/collections",
    "/api",
]


@pytest.mark.parametrize("path", ROUTE_PATHS)
def test_real_routes_over_http_decompress_to_the_identity_body(served: str, path: str) -> None:
    port = int(served.rsplit(":", 1)[1])

    def raw(accept: str | None) -> tuple[int, http.client.HTTPMessage, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", path, headers={"Accept-Encoding": accept} if accept else {})
        r = conn.getresponse()
        out = (r.status, r.headers, r.read())  # header names as waitress spells them
        conn.close()
        return out

    status, plain_headers, plain = raw(None)
    assert status == 200 and "Content-Encoding" not in plain_headers
    status, headers, body = raw("gzip")
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert int(headers["Content-Length"]) == len(body) < len(plain)
    decoded = gzip.decompress(body)
    if "/items" in path:  # a page stamps its time: the documents are compared without it
        a, b = orjson.loads(decoded), orjson.loads(plain)
        assert a.pop("timeStamp") and b.pop("timeStamp")
        assert a == b
    else:
        assert decoded == plain
    assert headers["ETag"] != plain_headers["ETag"]
    # requests asks for gzip and decodes: the client sees the document, and revalidates
    r = requests.get(served + path, timeout=10)
    assert r.headers["Content-Encoding"] in C.CODERS and r.json()
    again = requests.get(served + path, headers={"If-None-Match": r.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""


def test_the_embedded_threshold_is_api_gateways() -> None:
    """Both modes leave the same small bodies alone: API Gateway's MinimumCompressionSize comes
    from the Chalice configuration the templates are synthesized from."""
    config = orjson.loads((Path(__file__).parents[2] / ".chalice" / "config.json").read_bytes())
    assert config["minimum_compression_size"] == C.MIN_SIZE
