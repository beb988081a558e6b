"""What only the embedded server does (`mikrokort serve`, chalicelib/web/wsgi.py), over real
TCP: the process answers on the port it printed, JSON for what no route answers and for the
server's own errors, links that name the address the client connected to, keep-alive."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import requests


def test_serve_answers_on_the_port_it_printed(server: str, http: requests.Session) -> None:
    # identity: a compressed answer's Content-Length counts the coded bytes, not r.content's
    r = http.get(server + "/", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert "Content-Encoding" not in r.headers
    assert int(r.headers["Content-Length"]) == len(r.content)
    links = [link["href"] for link in r.json()["links"]]
    assert links and all(href.startswith(server + "/") for href in links)


def test_unknown_route_is_a_json_404(server: str, http: requests.Session) -> None:
    r = http.get(server + "/no/such/route")
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["code"] == "NotFound" and "/no/such/route" in r.json()["description"]


def test_a_method_no_route_offers_is_a_json_405(server: str, http: requests.Session) -> None:
    r = http.request("BREW", server + "/")
    assert r.status_code == 405
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["code"] == "MethodNotAllowed" and "BREW" in r.json()["description"]


def test_a_bad_request_line_is_a_json_400(server: str) -> None:
    where = urlsplit(server)
    with socket.create_connection((where.hostname, where.port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1 extra\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and b" 400 " in head.split(b"\r\n")[0]
    assert b"Content-Type: application/json" in head
    assert b'"code":"BadRequest"' in body


def test_one_connection_carries_many_requests(server: str) -> None:
    """HTTP/1.1 keep-alive: the answers are framed so the next request can follow."""
    with requests.Session() as s:
        for path in ("/", "/conformance", "/collections", "/no/such/route", "/"):
            r = s.get(server + path, timeout=10)
            assert r.status_code in (200, 404) and r.json()
        assert r.raw.version == 11
