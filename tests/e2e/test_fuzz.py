"""Property-based fuzzing of the whole OpenAPI document against the running server
(schemathesis): no 5xx anywhere, and every answer matches the documented status codes,
content types and schemas. Bounded so it fits in CI."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import BIN

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


@pytest.mark.parametrize("demo_env", ["sqlite"], indirect=True)
def test_the_whole_api_survives_fuzzing(server: str) -> None:
    done = subprocess.run(
        [
            str(BIN / "schemathesis"),
            "run",
            f"{server}/api",
            "--checks",
            CHECKS,
            "--max-examples",
            "25",
            "--workers",
            "1",
            "--phases",
            "examples,coverage,fuzzing",
            "--seed",
            "376390",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    summary = done.stdout[-3000:]
    assert done.returncode == 0, summary
    assert " passed" in summary and "failures" not in summary.split("SUMMARY")[-1].lower(), summary
