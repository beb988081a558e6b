"""A deployment never serves the public with the development secrets, which this source shows:
cursors could be forged and client hashes reversed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from chalice.test import Client

from chalicelib.config import Settings

BIN = Path(sys.executable).parent


@pytest.fixture
def lambda_app(tmp_path: Path) -> Iterator[object]:
    import app as application

    yield application
    application.configure()


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(store_url=f"sqlite:///{tmp_path / 'm.db'}", on_lambda=True, **values)


def test_lambda_with_default_secrets_answers_503_naming_them(lambda_app, tmp_path: Path) -> None:
    lambda_app.configure(_settings(tmp_path))
    with Client(lambda_app.app) as client:
        r = client.http.get("/conformance")
    assert r.status_code == 503
    assert b"MIKROKORT_CURSOR_SECRET" in r.body and b"MIKROKORT_CLIENT_SALT" in r.body


def test_lambda_with_its_own_secrets_serves(lambda_app, tmp_path: Path) -> None:
    lambda_app.configure(_settings(tmp_path, cursor_secret=b"k" * 32, client_salt=b"s" * 32))
    with Client(lambda_app.app) as client:
        assert client.http.get("/conformance").status_code == 200


def test_the_lambda_runtime_is_recognised() -> None:
    assert Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "mikrokort-dev"}).on_lambda
    assert not Settings.from_env({}).on_lambda
    both = Settings.from_env({"MIKROKORT_CURSOR_SECRET": "a", "MIKROKORT_CLIENT_SALT": "b"})
    assert both.default_secrets() == []


def test_serve_on_an_outside_address_refuses_default_secrets(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIKROKORT_")}
    env["MIKROKORT_STORE"] = f"sqlite:///{tmp_path / 'm.db'}"
    done = subprocess.run(
        [str(BIN / "mikrokort"), "serve", "--host", "0.0.0.0", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "MIKROKORT_CURSOR_SECRET" in done.stderr and "Traceback" not in done.stderr
