"""What only the DynamoDB adapter must show: no Scan on public routes, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from collections.abc import Iterator

import pytest
from chalice.test import Client

from chalicelib.domain.errors import StoreUnavailable
from chalicelib.store import FeatureQuery, open_store
from chalicelib.store.dynamodb.keys import MAX_STRIPS, viewport_plan
from tests.conftest import BIN


@pytest.fixture
def dynamo_app(
    aws_env, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> Iterator[tuple[Client, Counter]]:
    """The app in-process on a seeded DynamoDB table, counting every operation it sends."""
    import app as app_module

    # the demo snapshot goes into this test's folder, never into the project's .data/
    env = {
        **os.environ,
        **aws_env,
        "MIKROKORT_STORE": "dynamodb://noscan-demo",
        "MIKROKORT_BLOBS": str(tmp_path / "blobs"),
    }
    for verb in (["init"], ["seed", "--demo", "--count", "400"]):
        done = subprocess.run(
            [str(BIN / "mikrokort"), *verb], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
    monkeypatch.setenv("MIKROKORT_STORE", env["MIKROKORT_STORE"])
    monkeypatch.setenv("MIKROKORT_BLOBS", env["MIKROKORT_BLOBS"])
    app_module.configure()
    operations: Counter[str] = Counter()
    client = app_module.services().store.client  # the boto3 client the app uses
    client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: operations.update([model.name])
    )
    with Client(app_module.app) as c:
        yield c, operations
    app_module.configure()


def test_no_public_route_scans(dynamo_app) -> None:
    client, operations = dynamo_app
    items = "/collections/businesses/items"
    first = json.loads(client.http.get(items + "?limit=1").body)["features"][0]["id"]
    nets = json.loads(client.http.get("/collections/networks/items").body)["features"]
    paths = [
        "/",
        "/conformance",
        "/api",
        "/collections",
        "/collections/businesses",
        "/collections/networks",
        "/collections/municipalities",
        items,
        items + "?limit=50",
        items + "?bbox=11.8,54.7,12.0,54.8",
        items + "?bbox=5,48,20,70&limit=30",
        items + "?municipality=390",
        items + "?industry=F",
        items + "?industry=4332",
        items + "?status=ceased",
        items + "?q=holding",
        items + "?datetime=2015-01-01/2020-12-31",
        items + f"?network={nets[0]['id']}",
        items + "?municipality=376&industry=I&status=active",
        f"{items}/{first}",
        "/collections/networks/items?bbox=11.8,54.7,12.0,54.8",
        f"/collections/networks/items/{nets[0]['id']}",
        "/collections/municipalities/items",
        "/collections/municipalities/items/390",
    ]
    for path in paths:
        r = client.http.get(path)
        assert r.status_code == 200, (path, r.body[:200])
        doc = json.loads(r.body)
        nxt = [link["href"] for link in doc.get("links", []) if link["rel"] == "next"]
        if nxt:  # the second page too
            assert client.http.get(
                nxt[0].split("127.0.0.1", 1)[-1].split("localhost", 1)[-1]
            ).status_code in (200, 400)
    assert operations["Query"] > 20
    assert operations["Scan"] == 0, operations


def test_viewport_plans_stay_within_the_query_budget() -> None:
    import random

    rng = random.Random(1)
    for _ in range(2000):
        h = 10 ** rng.uniform(-3.5, 0.6)
        x, y = rng.uniform(8, 15), rng.uniform(54.5, 57.7)
        level, ranges = viewport_plan((x, y, x + h * 1.7, y + h))
        assert 1 <= len(ranges) <= MAX_STRIPS or level == 5
    assert viewport_plan((0.0, 40.0, 1.0, 41.0)) == (0, [])  # outside Denmark: nothing to read


def test_missing_table_is_a_clear_error(aws_env) -> None:
    store = open_store("dynamodb://no-such-table")
    with pytest.raises(StoreUnavailable, match="mikrokort init"):
        store.query("businesses", FeatureQuery())
    done = subprocess.run(
        [str(BIN / "mikrokort"), "seed", "--demo", "--count", "5"],
        env={**os.environ, "MIKROKORT_STORE": "dynamodb://no-such-table"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "does not exist" in done.stderr and "mikrokort init" in done.stderr
    assert "Traceback" not in done.stderr


def test_unreachable_endpoint_is_a_clear_error(aws_env, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    store = open_store("dynamodb://anything")
    with pytest.raises(StoreUnavailable, match="cannot reach DynamoDB"):
        store.get_feature("businesses", "12345678")
    with pytest.raises(StoreUnavailable, match="cannot reach DynamoDB"):
        store.create_table()


def test_init_is_idempotent(aws_env) -> None:
    env = {**os.environ, "MIKROKORT_STORE": "dynamodb://init-twice"}

    def init() -> str:
        return subprocess.run(
            [str(BIN / "mikrokort"), "init"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout

    first, second = init(), init()
    assert "created" in first and "already there" in second
