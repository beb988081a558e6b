"""Fixtures of the browser tests: the tile and host-page server, and one chromium per module."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DemoStores, start_server
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, Stub, Visit


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    s = Stub()
    yield s
    s.close()


@contextmanager
def demo_site(stub: Stub, demo_stores: DemoStores, **env: str) -> Iterator[str]:
    """`mikrokort serve` on the session's SQLite demo, with the stub as tile server (and any
    other settings in `env`); its base URL."""
    proc, url = start_server(
        {
            **demo_stores.env("sqlite"),
            "MIKROKORT_TILE_URL": f"{stub.url}/tiles/{{z}}/{{x}}/{{y}}.png",
            "MIKROKORT_TILE_ATTRIBUTION": "Stub tiles",
            **env,
        }
    )
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def site(stub: Stub, demo_stores: DemoStores) -> Iterator[str]:
    """The demo served with stub tiles, for a module's browser tests."""
    with demo_site(stub, demo_stores) as url:
        yield url


@pytest.fixture(scope="module")
def browser(built_widget: Path) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run scripts/install-system-deps.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        yield b
        b.close()


@pytest.fixture
def visit(browser: Any) -> Iterator[Visit]:
    v = Visit(browser)
    yield v
    v.close()
