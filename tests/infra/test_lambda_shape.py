"""The app as Lambda runs it: Chalice's event/response path, str bodies, errors as JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest
from chalice.test import Client


@pytest.fixture
def lambda_app(demo_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    import app as app_module

    monkeypatch.setenv("MIKROKORT_STORE", demo_env["MIKROKORT_STORE"])
    monkeypatch.setenv("MIKROKORT_BLOBS", demo_env["MIKROKORT_BLOBS"])
    monkeypatch.setenv("MIKROKORT_PUBLIC_URL", "https://kort.example.dk/")
    app_module.configure()
    with Client(app_module.app) as client:
        yield client
    app_module.configure()


def test_items_through_the_lambda_event_path(lambda_app: Client) -> None:
    r = lambda_app.http.get("/collections/businesses/items?limit=3&municipality=376")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/geo+json"
    doc = json.loads(r.body)
    assert doc["numberReturned"] == 3
    nxt = next(link["href"] for link in doc["links"] if link["rel"] == "next")
    assert nxt.startswith("https://kort.example.dk/collections/businesses/items?")


def test_binary_files_pass_the_lambda_event_path_unchanged(lambda_app: Client) -> None:
    """A GeoPackage (SQLite bytes) is carried as binary, not decoded as text. (On AWS the files
    are on S3 and the route redirects there; through the app, as here, API Gateway carries a
    binary body for a client whose Accept names the type.)"""
    snapshot = json.loads(lambda_app.http.get("/snapshots").body)["snapshots"][-1]
    year = snapshot["year"]
    entry = next(f for f in snapshot["files"] if f["name"].endswith(".gpkg"))
    r = lambda_app.http.get(
        f"/snapshots/{year}/{entry['name']}", headers={"Accept": entry["media_type"]}
    )
    assert r.status_code == 200, r.body
    assert r.headers["Content-Type"] == entry["media_type"]
    assert r.body.startswith(b"SQLite format 3\x00")
    assert hashlib.sha256(r.body).hexdigest() == entry["sha256"]
    # a text file on the same path stays text
    r = lambda_app.http.get(f"/snapshots/{year}/businesses.csv")
    assert r.status_code == 200 and r.body.decode("utf-8-sig").startswith("id,")


def test_errors_are_json_on_lambda_too(lambda_app: Client) -> None:
    r = lambda_app.http.get("/collections/businesses/items?bbox=1,2,3")
    assert r.status_code == 400
    assert json.loads(r.body)["parameter"] == "bbox"
    r = lambda_app.http.get("/collections/nowhere/items")
    assert r.status_code == 404


def test_unreachable_store_is_a_503_without_internals(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    import app as app_module

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MIKROKORT_STORE", f"sqlite:///{blocker}/sub/x.db")
    app_module.configure()
    try:
        with Client(app_module.app) as client:
            r = client.http.get("/collections")
        assert r.status_code == 503
        body = json.loads(r.body)
        assert body["code"] == "StoreUnavailable"
        assert "Traceback" not in r.body.decode()
    finally:
        app_module.configure()


def _proxy_event(path: str, headers: dict[str, str], body: bytes | None = None) -> dict:
    """A REST API proxy event as API Gateway sends it when `*/*` is a binary media type: any
    request body arrives base64-encoded."""
    import base64

    method = "POST" if body is not None else "GET"
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": path,
            "stage": "api",
            "identity": {"sourceIp": "192.0.2.10"},
        },
        "body": base64.b64encode(body).decode() if body is not None else None,
        "isBase64Encoded": body is not None,
    }


def test_tiles_are_base64_for_api_gateway_and_text_stays_text(lambda_app: Client) -> None:
    """A tile is carried base64 whatever the client accepts (`*/*` from GDAL, QGIS, curl),
    so API Gateway, which lists `*/*` as binary (infra/synth.py), hands the client the bytes;
    JSON stays text."""
    import mapbox_vector_tile

    import app as app_module

    for accept in ("*/*", "application/vnd.mapbox-vector-tile"):
        r = lambda_app.http.get(
            "/collections/businesses/tiles/WebMercatorQuad/0/0/0", headers={"Accept": accept}
        )
        assert r.status_code == 200, r.body
        assert r.headers["Content-Type"] == "application/vnd.mapbox-vector-tile"
        layers = mapbox_vector_tile.decode(r.body)
        assert sum(f["properties"]["count"] for f in layers["businesses"]["features"]) > 0
    assert "*/*" not in app_module.app.api.binary_types  # else every answer would be base64
    r = lambda_app.http.get("/collections", headers={"Accept": "*/*"})
    assert r.status_code == 200 and json.loads(r.body)["collections"]


def test_a_base64_request_body_is_read_as_sent(lambda_app: Client) -> None:
    import app as app_module

    body = json.dumps({"name": "Netværket på Falster"}).encode()
    event = _proxy_event(
        "/networks/register",
        {"Content-Type": "application/json", "Accept": "application/json", "Host": "x.test"},
        body,
    )
    answer = app_module.app(event, None)
    problem = json.loads(answer["body"])
    # the JSON was read: what is wrong is the next missing field, not an unreadable body
    assert answer["statusCode"] == 422, problem
    assert problem["parameter"] == "submitter_name", problem
    # the same base64 text taken as the body itself is not JSON at all (what the test tells)
    garbled = app_module.app({**event, "isBase64Encoded": False}, None)
    assert garbled["statusCode"] == 400
    assert json.loads(garbled["body"])["parameter"] != "submitter_name"
