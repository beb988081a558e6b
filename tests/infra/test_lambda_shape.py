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
