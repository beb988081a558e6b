"""Shared fixtures: a seeded demo database and the real `mikrokort serve` process over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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


@pytest.fixture(scope="session")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment of a store seeded with the demo data by the real command."""
    db = tmp_path_factory.mktemp("demo") / "mikrokort.db"
    env = {**os.environ, "MIKROKORT_STORE": f"sqlite:///{db}"}
    env.pop("MIKROKORT_PUBLIC_URL", None)
    done = _mikrokort("seed", "--demo", env=env)
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
