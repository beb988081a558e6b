"""The races of tests/curation/test_concurrency.py on DynamoDB, on moto's server (which has
TransactWriteItems and conditional writes as DynamoDB has them): an import in another process
against curations and network edits, and concurrent self-registrations against the limit and
the queue cap."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import environ_set
from tests.curation.test_concurrency import concurrent_submissions, run_import_race


@pytest.fixture
def moto_env(moto_endpoint: str) -> Iterator[dict[str, str]]:
    """boto3 pointed at moto for DynamoDB too, in this process and for the import process."""
    env = {
        "AWS_ENDPOINT_URL_DYNAMODB": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-north-1",
    }
    with environ_set(env):
        yield env


def _table() -> str:
    return f"dynamodb://race-{uuid.uuid4().hex[:8]}"


def test_an_import_in_another_process_loses_no_curation(moto_env, tmp_path: Path) -> None:
    tally = run_import_race({**moto_env, "MIKROKORT_STORE": _table()}, tmp_path, count=100)
    assert tally["curations"] == 240 and tally["member_edits"] == 30 and tally["5xx"] == 0


def test_concurrent_self_registrations_respect_the_limit_and_the_cap(moto_env) -> None:
    # moto's server fails concurrent TransactWriteItems with errors of its own (its state is
    # not guarded for them: "dictionary changed size during iteration"), so here the posts
    # come one after another: the caps hold as conditions of the transaction; the overlap
    # itself is exercised on SQLite
    concurrent_submissions(_table(), workers=1)
