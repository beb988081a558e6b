"""The Lambda deployment package: its size, and each function's cold start as Lambda runs it.

    .venv/bin/python bench/package.py [--runs 5] [--package infra/build/deployment.zip]

The package (built by `make package` = `infra/package.py` when missing) is unpacked into a
folder, as Lambda unpacks it into /var/task, and every measurement runs a fresh interpreter
with nothing but that folder and a copy of boto3 (what the Lambda runtime provides) on
`sys.path`: `python -I -S -B` (no site-packages, no venv, no environment, and no bytecode
written, as on Lambda's read-only code folder). Each run imports `app` and calls one function
once, as Lambda would on a cold start, against the local AWS stand-in (moto) with a seeded
table, a bucket, the CVR credentials in Secrets Manager and a register stand-in:

- api_handler: `GET /collections/businesses/items?bbox=...&limit=100` (a map viewport);
- cvr_refresh: a full load of 50 register documents into an empty table;
- yearly_snapshot: publishing last year's snapshot of 200 businesses into an empty prefix.

Per function: `import app`, the imports the first call adds (from `-X importtime`, in a
separate run), and the first call's wall time; with the package's precompiled bytecode and
without it (the .pyc files removed), medians of the runs. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNTIME_PACKAGES = ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"]
BBOX = "11.80,54.70,11.95,54.80"

CHILD = r"""
import json, sys, time
sys.path[:0] = [TASK, RUNTIME]
t0 = time.perf_counter()
import app
t1 = time.perf_counter()
print("--- app imported ---", file=sys.stderr, flush=True)


class Context:
    function_name = "bench"
    aws_request_id = "bench"
    memory_limit_in_mb = 1024

    def get_remaining_time_in_millis(self):
        return 900_000


fn = sys.argv[1]
if fn == "api_handler":
    resource = "/collections/{collection_id}/items"
    query = {"bbox": [BBOX], "limit": ["100"]}
    event = {
        "resource": resource,
        "path": "/collections/businesses/items",
        "httpMethod": "GET",
        "headers": {"Host": "abc.execute-api.eu-north-1.amazonaws.com",
                    "X-Forwarded-Proto": "https"},
        "multiValueQueryStringParameters": query,
        "queryStringParameters": {k: v[0] for k, v in query.items()},
        "pathParameters": {"collection_id": "businesses"},
        "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": "GET", "stage": "api",
                           "path": "/api/collections/businesses/items", "requestId": "bench",
                           "identity": {"sourceIp": "127.0.0.1"}},
        "body": None,
        "isBase64Encoded": False,
    }
    out = app.app(event, Context())
    status = out["statusCode"]
else:
    event = {"version": "0", "id": "bench", "detail-type": "Scheduled Event",
             "source": "aws.events", "account": "123456789012", "time": "2026-01-15T04:00:00Z",
             "region": "eu-north-1", "resources": [], "detail": {}}
    out = getattr(app, fn)(event, Context())
    status = out.get("status")
t2 = time.perf_counter()
print(json.dumps({"import_app": t1 - t0, "first_call": t2 - t1, "status": status,
                  "modules": len(sys.modules)}))
"""


def _unpack(package: Path, dest: Path, *, with_pyc: bool) -> Path:
    with zipfile.ZipFile(package) as z:
        for info in z.infolist():
            if with_pyc or not info.filename.endswith(".pyc"):
                z.extract(info, dest)
    return dest


def _runtime_copy(dest: Path) -> Path:
    """boto3 and its dependencies from this venv: what the Lambda runtime puts on the path."""
    import boto3

    site = Path(boto3.__file__).resolve().parent.parent
    dest.mkdir(parents=True)
    for name in RUNTIME_PACKAGES:
        src = site / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        else:
            shutil.copy2(src, dest / name)
    return dest


def _importtime(stderr: str) -> tuple[float, float]:
    """Seconds of imports before and after the marker (top-level entries' cumulative times)."""
    before = after = 0.0
    seen_marker = False
    for line in stderr.splitlines():
        if line.startswith("--- app imported ---"):
            seen_marker = True
            continue
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if not m or len(m.group(3)) != 1:  # only top-level imports (one space of indent)
            continue
        seconds = int(m.group(2)) / 1e6
        if seen_marker:
            after += seconds
        else:
            before += seconds
    return before, after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--package", type=Path, default=ROOT / "infra" / "build" / "deployment.zip")
    args = parser.parse_args()
    if not args.package.is_file():
        from infra.package import build

        print(f"building {args.package} (infra/package.py) ...", flush=True)
        build("dev")

    with zipfile.ZipFile(args.package) as z:
        unzipped = sum(i.file_size for i in z.infolist())
        pyc = sum(i.filename.endswith(".pyc") for i in z.infolist())
        count = len(z.infolist())
    mb = 1024 * 1024
    shown = args.package.relative_to(ROOT) if args.package.is_relative_to(ROOT) else args.package
    print(f"package: {shown}")
    print(
        f"  zipped {args.package.stat().st_size / mb:.1f} MB, unzipped {unzipped / mb:.1f} MB, "
        f"{count} files ({pyc} .pyc)"
    )

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    aws = {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-north-1",
        "AWS_REGION": "eu-north-1",
    }
    os.environ.update(aws)
    try:
        return _measure(args, aws)
    finally:
        server.stop()


def _measure(args: argparse.Namespace, aws: dict[str, str]) -> int:
    import boto3

    from chalicelib.blobs.s3 import S3Blobs
    from chalicelib.demo.generate import generate_businesses
    from chalicelib.demo.seed import seed_demo
    from chalicelib.store.dynamodb import DynamoDBStore
    from tests.standins.cvr_documents import company_document
    from tests.standins.cvr_server import CvrStandIn

    print("seeding the AWS stand-in (moto) ...", flush=True)
    store = DynamoDBStore("mikrokort-bench")
    store.create_table()
    seed_demo(store, count=200, progress=lambda _: None)
    bucket = "mikrokort-bench-opendata"
    S3Blobs(bucket).create_bucket()
    loaded = datetime.now(UTC) - timedelta(minutes=5)
    docs = [company_document(b, loaded=loaded) for b in generate_businesses(50, seed=5)]

    with (
        CvrStandIn(docs, user="bench", password="pw") as register,
        tempfile.TemporaryDirectory(prefix="mikrokort-cold-") as t,
    ):
        secret = boto3.client("secretsmanager").create_secret(
            Name="mikrokort/bench/cvr",
            SecretString=json.dumps({"user": "bench", "password": "pw", "url": register.url}),
        )["ARN"]
        tmp = Path(t)
        runtime = _runtime_copy(tmp / "runtime")
        tasks = {
            "with .pyc": _unpack(args.package, tmp / "task", with_pyc=True),
            "without .pyc": _unpack(args.package, tmp / "task-nopyc", with_pyc=False),
        }
        python = Path(getattr(sys, "_base_executable", sys.executable))
        serial = iter(range(10_000))

        def env_for(function: str) -> dict[str, str]:
            n = next(serial)
            env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **aws}
            env["MIKROKORT_MUNICIPALITIES"] = "376,390"
            if function == "api_handler":
                env["MIKROKORT_STORE"] = "dynamodb://mikrokort-bench"
                env["MIKROKORT_BLOBS"] = f"s3://{bucket}"
                env["MIKROKORT_CURSOR_SECRET"] = "bench"
            elif function == "cvr_refresh":  # an empty table each run: a full load
                fresh = DynamoDBStore(f"mikrokort-bench-cvr-{n}")
                fresh.create_table()
                env["MIKROKORT_STORE"] = f"dynamodb://{fresh.table}"
                env["MIKROKORT_CVR_SECRET"] = secret
            else:  # an empty prefix each run: a first publication
                env["MIKROKORT_STORE"] = "dynamodb://mikrokort-bench"
                env["MIKROKORT_BLOBS"] = f"s3://{bucket}/run-{n}"
            return env

        rows = []
        for function in ("api_handler", "cvr_refresh", "yearly_snapshot"):
            for label, task in tasks.items():
                child = tmp / "cold.py"
                child.write_text(
                    CHILD.replace("TASK", repr(str(task)))
                    .replace("RUNTIME", repr(str(runtime)))
                    .replace("BBOX", repr(BBOX))
                )
                timed, imports = [], []
                for _ in range(args.runs):
                    for importtime in (False, True):
                        flags = ["-X", "importtime"] if importtime else []
                        done = subprocess.run(
                            [str(python), "-I", "-S", "-B", *flags, str(child), function],
                            env=env_for(function),
                            capture_output=True,
                            text=True,
                            timeout=600,
                        )
                        if done.returncode != 0:
                            print(done.stdout, done.stderr[-3000:])
                            raise SystemExit(f"{function} failed")
                        result = json.loads(done.stdout.strip().splitlines()[-1])
                        if importtime:
                            imports.append(_importtime(done.stderr)[1])
                        else:
                            timed.append(result)
                med = statistics.median
                rows.append(
                    (
                        function,
                        label,
                        med(r["import_app"] for r in timed),
                        med(imports),
                        med(r["first_call"] for r in timed),
                        timed[-1]["status"],
                        timed[-1]["modules"],
                    )
                )
                print(f"  {function} {label}: done", flush=True)

    print(f"\ncold start per function (median of {args.runs} fresh interpreters):\n")
    print(
        "| function | bytecode | import app | imports in the first call | all imports | "
        "first call (with its imports) | import app + first call | modules |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for function, label, imp, lazy, call, status, modules in rows:
        print(
            f"| {function} | {label} | {imp * 1000:.0f} ms | {lazy * 1000:.0f} ms | "
            f"{(imp + lazy) * 1000:.0f} ms | {call * 1000:.0f} ms | {(imp + call) * 1000:.0f} ms "
            f"| {modules} |"
        )
        assert status in (200, "succeeded", "published"), (function, status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
