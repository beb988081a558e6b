"""The embedded server's WSGI front door: routing as API Gateway does it, errors as JSON, no
request state shared between threads, and waitress's own limits answered as JSON too."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
import requests

from chalicelib.config import Settings
from chalicelib.web.http import HttpRequest, HttpResponse
from chalicelib.web.routing import ADMIN, PAGE, PUBLIC, Route
from chalicelib.web.wsgi import ServerOptions, WsgiApp, make_server
from tests.conftest import wsgi_call as call


def _echo(s: object, r: HttpRequest, **params: str) -> HttpResponse:
    doc = {
        "path": r.path,
        "params": r.params,
        "path_params": params,
        "body": r.body.decode(),
        "key": r.header("x-api-key"),
        "base": r.base_url,
        "client": r.client,
        "method": r.method,
    }
    return HttpResponse(200, orjson.dumps(doc))


def _boom(s: object, r: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret detail")


ROUTES = (
    Route("items", "GET", "/collections/{cid}/items", _echo, PUBLIC),
    Route("register_form", "GET", "/networks/register", _echo, PAGE),
    Route("network", "GET", "/networks/{nid}", _echo, PUBLIC),
    Route("put", "PUT", "/admin/things/{tid}", _echo, ADMIN),
    Route("boom", "GET", "/boom", _boom, PUBLIC),
)


@dataclass
class _Services:
    settings: Settings


def _app(**settings: object) -> WsgiApp:
    return WsgiApp(ROUTES, _Services(Settings(**settings)))  # type: ignore[arg-type]


def test_a_route_gets_its_decoded_path_parameters_and_every_query_value() -> None:
    # the server hands PATH_INFO over percent-decoded, and it is not decoded twice
    r = call(_app(), "GET", "/collections/børn%41/items", "q=a&q=b&f=", HOST="kort.example.dk")
    doc = orjson.loads(r["body"])
    assert r["status"] == 200
    assert doc["path_params"] == {"cid": "børn%41"}
    assert doc["params"] == {"q": ["a", "b"], "f": [""]}
    assert doc["base"] == "http://kort.example.dk" and doc["client"] == "192.0.2.7"


def test_a_literal_segment_wins_over_a_parameter() -> None:
    assert orjson.loads(call(_app(), "GET", "/networks/register")["body"])["path_params"] == {}
    assert orjson.loads(call(_app(), "GET", "/networks/n1")["body"])["path_params"] == {"nid": "n1"}


def test_unknown_path_and_method_are_json() -> None:
    r = call(_app(), "GET", "/nope")
    assert r["status"] == 404 and orjson.loads(r["body"])["code"] == "NotFound"
    r = call(_app(), "DELETE", "/networks/n1")
    assert r["status"] == 405 and r["headers"]["Allow"] == "GET"
    assert orjson.loads(r["body"])["code"] == "MethodNotAllowed"


def test_public_routes_are_shared_with_other_sites_and_admin_routes_are_not() -> None:
    r = call(_app(), "GET", "/collections/x/items")
    assert r["headers"]["Access-Control-Allow-Origin"] == "*"
    exposed = r["headers"]["Access-Control-Expose-Headers"].split(",")
    assert {"ETag", "Content-Crs", "Link", "Content-Disposition"} <= set(exposed)  # CSV paging
    pre = call(_app(), "OPTIONS", "/collections/x/items")
    assert pre["status"] == 200 and pre["headers"]["Access-Control-Allow-Methods"] == "GET,OPTIONS"
    admin = call(_app(), "PUT", "/admin/things/1", body=b"{}", CONTENT_TYPE="application/json")
    assert "Access-Control-Allow-Origin" not in admin["headers"]
    pre = call(_app(), "OPTIONS", "/admin/things/1")
    assert "Access-Control-Allow-Origin" not in pre["headers"]


def test_bodies_are_checked_before_they_are_read() -> None:
    r = call(_app(), "PUT", "/admin/things/1", body=b"x", CONTENT_TYPE="text/plain")
    assert r["status"] == 415 and orjson.loads(r["body"])["code"] == "UnsupportedMediaType"
    big = b"x" * (WsgiApp.__dataclass_fields__["max_body"].default + 1)
    r = call(_app(), "PUT", "/admin/things/1", body=big, CONTENT_TYPE="application/json")
    assert r["status"] == 413
    r = call(_app(), "PUT", "/admin/things/1", CONTENT_TYPE="application/json", CONTENT_LENGTH="١٠")
    assert r["status"] == 400  # only ASCII digits are a length


def test_an_unexpected_error_is_a_bare_500_without_details() -> None:
    r = call(_app(), "GET", "/boom")
    assert r["status"] == 500 and b"secret detail" not in r["body"]


def test_head_has_the_length_of_get_and_no_body() -> None:
    get = call(_app(), "GET", "/networks/n1")
    head = call(_app(), "HEAD", "/networks/n1")
    assert head["body"] == b"" and head["headers"]["Content-Length"] == str(len(get["body"]))


def test_links_come_from_the_public_url_or_a_well_formed_host() -> None:
    doc = orjson.loads(call(_app(), "GET", "/networks/n1", HOST='evil"><script>')["body"])
    assert doc["base"] == "http://127.0.0.1:8000"
    doc = orjson.loads(
        call(_app(public_url="https://kort.dk"), "GET", "/networks/n1", HOST="x.dk")["body"]
    )
    assert doc["base"] == "https://kort.dk"


def test_threads_never_see_each_others_requests() -> None:
    """Each request is answered with its own key, path, query and body, whatever runs beside."""
    app = _app()
    errors: list[str] = []

    def client(n: int) -> None:
        for i in range(300):
            marker = f"{n}-{i}"
            r = call(
                app,
                "PUT",
                f"/admin/things/{marker}",
                f"m={marker}",
                body=marker.encode(),
                CONTENT_TYPE="application/json",
                X_API_KEY=f"key-{marker}",
            )
            doc = orjson.loads(r["body"])
            seen = (doc["path_params"]["tid"], doc["params"]["m"][0], doc["body"], doc["key"])
            if seen != (marker, marker, marker, f"key-{marker}"):
                errors.append(f"{marker}: {seen}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.fixture
def served() -> Iterator[str]:
    server = make_server(_app(), "127.0.0.1", 0, ServerOptions(threads=2, channel_timeout=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


def test_the_server_refuses_an_oversized_body_before_reading_it_as_json(served: str) -> None:
    with socket.create_connection(("127.0.0.1", int(served.rsplit(":", 1)[1])), timeout=5) as s:
        s.sendall(
            b"PUT /admin/things/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2000000000\r\n\r\n"
        )
        chunks = []
        while chunk := s.recv(65536):  # the server closes after an error
            chunks.append(chunk)
        answer = b"".join(chunks).decode()
    assert answer.startswith("HTTP/1.1 413")
    assert '"code":"PayloadTooLarge"' in answer and "application/json" in answer


def test_the_server_answers_over_http(served: str) -> None:
    r = requests.get(served + "/networks/n1", timeout=5)
    assert r.status_code == 200 and r.json()["path_params"] == {"nid": "n1"}
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_limited_routes_are_limited_per_client_address() -> None:
    limited = Route("search", "GET", "/search", _echo, PUBLIC, limited=True)
    app = WsgiApp(
        (*ROUTES, limited), _Services(Settings(rate_limit_per_minute=1, rate_limit_burst=3))
    )

    answers = [call(app, "GET", "/search")["status"] for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    refused = call(app, "GET", "/search")
    assert orjson.loads(refused["body"])["code"] == "TooManyRequests"
    assert int(refused["headers"]["Retry-After"]) >= 1
    # routes that are not limited, and other clients, are not affected
    assert call(app, "GET", "/networks/n1")["status"] == 200
    assert call(app, "GET", "/search", client="192.0.2.8")["status"] == 200


def test_the_bucket_refills_and_the_table_stays_bounded() -> None:
    from chalicelib.web.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, max_clients=100, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 1]
    now[0] += 1.0  # one request a second comes back
    assert limiter.take("a") == 0 and limiter.take("a") > 0
    for n in range(1000):
        limiter.take(f"client-{n}")
    assert len(limiter) == 100
