"""Shared fixtures: a seeded demo database and the real `mikrokort serve` process over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BIN = Path(sys.executable).parent


def _mikrokort(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "mikrokort"), *args], env=env, capture_output=True, text=True, timeout=300
    )


ADAPTERS = ["sqlite", "dynamodb"]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A DynamoDB/S3 wire-protocol server (moto) on 127.0.0.1, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def aws_env(moto_endpoint: str) -> Iterator[dict[str, str]]:
    """Environment that points boto3 at the local server, also set in this process."""
    env = {
        "AWS_ENDPOINT_URL_DYNAMODB": moto_endpoint,
        "AWS_ENDPOINT_URL_S3": moto_endpoint,
        "AWS_ENDPOINT_URL_SSM": moto_endpoint,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-north-1",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield env
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def store_url(adapter: str, tmp: Path) -> str:
    if adapter == "sqlite":
        return f"sqlite:///{tmp / 'mikrokort.db'}"
    return f"dynamodb://mikrokort-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session", params=ADAPTERS)
def demo_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Environment of a store seeded with the demo data by the real commands (init, seed)."""
    env = {**os.environ}
    if request.param == "dynamodb":
        env.update(request.getfixturevalue("aws_env"))
    folder = tmp_path_factory.mktemp("demo")
    env["MIKROKORT_STORE"] = store_url(request.param, folder)
    env["MIKROKORT_BLOBS"] = f"file:///{folder / 'blobs'}"
    env.pop("MIKROKORT_PUBLIC_URL", None)
    # moto answers a GSI Query by walking every item, so the DynamoDB demo is smaller
    count = "5000" if request.param == "sqlite" else "1200"
    for verb in (["init"], ["seed", "--demo", "--count", count]):
        done = _mikrokort(*verb, env=env)
        assert done.returncode == 0, done.stderr
    return env


@pytest.fixture(scope="session")
def demo_store(demo_env: dict[str, str]):
    from chalicelib.store import open_store

    store = open_store(demo_env["MIKROKORT_STORE"])
    yield store
    store.close()


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [str(BIN / "mikrokort"), "serve", "--port", "0", "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "serving on" not in line:
        proc.kill()
        raise RuntimeError(
            f"server did not start: {line} {proc.stderr.read() if proc.stderr else ''}"
        )
    url = line.rsplit(" ", 1)[-1].strip().rstrip("/")
    for _ in range(50):
        try:
            if requests.get(url + "/conformance", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    return proc, url


@pytest.fixture(scope="session")
def server(demo_env: dict[str, str]) -> Iterator[str]:
    """Base URL of `mikrokort serve` running on the seeded demo store."""
    proc, url = start_server(demo_env)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def http() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def walk(http: requests.Session, url: str, **params: object) -> list[dict]:
    """Every page of an items request, following `next` links; returns the page documents."""
    pages = []
    r = http.get(url, params=params or None, timeout=30)
    while True:
        assert r.status_code == 200, r.text
        doc = r.json()
        pages.append(doc)
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        if not nxt:
            return pages
        r = http.get(nxt[0], timeout=30)
