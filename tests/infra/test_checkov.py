"""checkov (PyPI) over the synthesized templates of both stages: every check passes or is
waived in the template with its reason (infra/waivers.py), and no waiver is left over.

checkov runs from its own venv (`.venv-checkov`, made by `make test`), once for the module,
over three templates: dev, prod, and a copy of prod with the fixes that matter taken out
(access logging of the API and of the bucket, the refresh's dead-letter queue, the API's
concurrency limit, and one waiver), which must fail on exactly those checks: the gate can fail.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
STAGES = ("dev", "prod")
# what the copy without fixes must fail on: (check, resource)
UNFIXED = {
    ("CKV_AWS_76", "AWS::Serverless::Api.RestAPI"),  # API Gateway access logging
    ("CKV_AWS_116", "AWS::Serverless::Function.CvrRefresh"),  # dead-letter queue
    ("CKV_AWS_115", "AWS::Serverless::Function.APIHandler"),  # concurrency limit
    ("CKV_AWS_18", "AWS::S3::Bucket.OpenDataBucket"),  # S3 access logs
    ("CKV_AWS_119", "AWS::DynamoDB::Table.Table"),  # its waiver removed
}


def _unfixed(template: dict[str, Any]) -> dict[str, Any]:
    t = json.loads(json.dumps(template))
    res = t["Resources"]
    del res["RestAPI"]["Properties"]["AccessLogSetting"]
    del res["CvrRefresh"]["Properties"]["DeadLetterQueue"]
    del res["APIHandler"]["Properties"]["ReservedConcurrentExecutions"]
    del res["OpenDataBucket"]["Properties"]["LoggingConfiguration"]
    del res["Table"]["Metadata"]
    return t


@pytest.fixture(scope="module")
def checkov_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list]]:
    """checkov's passed, failed and skipped checks, by template (dev, prod, unfixed)."""
    from infra.synth import synth

    if not CHECKOV.exists():
        pytest.fail(
            f"{CHECKOV} is missing: `make test` installs it (infra/requirements-checkov.txt)"
        )
    out = tmp_path_factory.mktemp("checkov")
    paths = {s: synth(s, out / s, package=out / "no-package.zip") for s in STAGES}
    unfixed = out / "unfixed" / "sam.json"
    unfixed.parent.mkdir()
    unfixed.write_text(json.dumps(_unfixed(json.loads(paths["prod"].read_text()))))
    paths["unfixed"] = unfixed
    files = [a for p in paths.values() for a in ("--file", str(p))]
    options = ["--framework", "cloudformation", "--output", "json", "--skip-download"]
    done = subprocess.run(
        [str(CHECKOV), *files, *options],
        capture_output=True,
        text=True,
        timeout=600,
        # offline: no attempt to fetch the vendor's guideline mappings
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        cwd=out,
    )
    # exit code 1 means "failed checks", which the unfixed copy has; anything else a crash
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    by_file: dict[str, dict[str, list]] = {
        name: {"passed": [], "failed": [], "skipped": []} for name in paths
    }
    names = {str(p.resolve()): name for name, p in paths.items()}
    for kind in ("passed", "failed", "skipped"):
        for check in report["results"].get(f"{kind}_checks", []):
            by_file[names[str(Path(check["file_abs_path"]).resolve())]][kind].append(check)
    return by_file


@pytest.mark.parametrize("stage", STAGES)
def test_every_check_passes_or_is_waived_with_a_reason(
    checkov_results: dict[str, dict[str, list]], stage: str
) -> None:
    result = checkov_results[stage]
    failed = sorted(f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in result["failed"])
    assert failed == [], "fix these, or waive them in infra/waivers.py:\n" + "\n".join(failed)
    assert len(result["passed"]) >= 60  # checkov did look at the template
    for c in result["skipped"]:
        assert len(c.get("check_result", {}).get("suppress_comment") or "") > 20, c["check_id"]


@pytest.mark.parametrize("stage", STAGES)
def test_no_waiver_is_left_over(checkov_results: dict[str, dict[str, list]], stage: str) -> None:
    """A waiver whose check passes (or no longer exists) is removed, not kept as noise."""
    from infra.waivers import WAIVERS

    skipped = {
        (c["check_id"], c["resource"].split(".", 1)[1]) for c in checkov_results[stage]["skipped"]
    }
    declared = {(check, logical_id) for logical_id, ws in WAIVERS.items() for check, _ in ws}
    assert declared - skipped == set()
    assert skipped - declared == set()


def test_the_gate_fails_when_a_fix_is_taken_out(
    checkov_results: dict[str, dict[str, list]],
) -> None:
    failed = {(c["check_id"], c["resource"]) for c in checkov_results["unfixed"]["failed"]}
    assert failed == UNFIXED
