"""The `mikrokort` commands as an operator runs them: `init`, then `seed --demo`, twice."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ADAPTERS, BIN, store_url


def _mikrokort(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "mikrokort"), *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_init_then_seed_twice_changes_nothing(
    adapter: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIKROKORT_")}
    if adapter == "dynamodb":
        env.update(request.getfixturevalue("aws_env"))
    env["MIKROKORT_STORE"] = store_url(adapter, tmp_path)
    env["MIKROKORT_BLOBS"] = f"file:///{tmp_path / 'blobs'}"
    first_init = _mikrokort(env, "init")
    assert env["MIKROKORT_STORE"] in first_init
    if adapter == "dynamodb":  # SQLite makes its tables on opening: always "ready"
        assert "created" in first_init
    assert "already there" in _mikrokort(env, "init")
    first = _mikrokort(env, "seed", "--demo", "--count", "300")
    assert "businesses: 300 new, 0 updated, 0 unchanged" in first
    assert "published" in first  # the demo's snapshot of last year
    second = _mikrokort(env, "seed", "--demo", "--count", "300")
    assert "businesses: 0 new, 0 updated, 300 unchanged" in second
    assert "networks: 0 new, 0 updated" in second
    assert "synthetic" in second and "published already" in second


def test_seed_without_a_data_set_says_what_to_run(tmp_path: Path) -> None:
    env = {**os.environ, "MIKROKORT_STORE": f"sqlite:///{tmp_path / 'x.db'}"}
    done = subprocess.run(
        [str(BIN / "mikrokort"), "seed"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "seed --demo" in done.stderr
