"""The infrastructure as code: the synthesized templates (dev and prod) are valid, hold every
resource the deployment needs with the settings it needs, and give each Lambda function exactly
the permissions its code uses.

Three ways of proving the IAM policies, from the cheapest:
1. `EXPECTED_CALLS` below lists, per function, the AWS operations its code performs (with the
   code lines); each role's actions must equal the IAM actions of those operations.
2. A scan of `chalicelib/` finds every boto3 operation the code can call: each must be declared
   in `EXPECTED_CALLS` or `NOT_IN_LAMBDA`, so a new boto3 call fails here until it is declared
   (and then 1. fails until the policy grants it).
3. Each function runs, in this process, against the local AWS stand-in (moto) with the
   environment its template gives it; every call it makes is checked against its policy (the
   template's ARNs resolved), and must be one it declared.
"""

from __future__ import annotations

import ast
import fnmatch
import io
import json
import os
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BIN, ROOT

STAGES = ("dev", "prod")
ACCOUNT, REGION = "123456789012", "eu-north-1"  # moto's default account; aws_env's region

# -- 1. what each function's code calls (service, operation) ---------------------------------
# chalicelib/store/dynamodb.py: reads are get_item (_business_item, _meta, get_network),
# query (_partition, _query_page, _count, list_records) and batch_get_item (_batch_get,
# get_records); writes are batch_write_item (_batch_write: put_records, delete_records, new
# businesses), put_item (_put_if_version, upsert_networks, upsert_municipalities) and
# update_item (_add_count, _set_hidden, _widen_extent); delete_item (delete_network).
_DYNAMODB_READ = {("dynamodb", "GetItem"), ("dynamodb", "Query"), ("dynamodb", "BatchGetItem")}
_DYNAMODB_WRITE = {
    ("dynamodb", "BatchWriteItem"),
    ("dynamodb", "PutItem"),
    ("dynamodb", "UpdateItem"),
}
EXPECTED_CALLS: dict[str, set[tuple[str, str]]] = {
    # app.py routes -> chalicelib/ogc/service.py: the Store's reads; /snapshots and
    # /barometer read blobs: S3Blobs.get (get_object) and S3Blobs.list (list_objects_v2).
    # The admin routes (chalicelib/admin.py, auth.py) and self-registration (register.py)
    # write: put_network, curate_business, put_records/delete_records (keys, audit log,
    # submissions, rate limits), delete_network (delete_item)
    # A curation or network edit and its audit entry, and self-registration's capped counters,
    # are one TransactWriteItems (chalicelib/store/dynamodb/connection.py _write_together).
    "api_handler": _DYNAMODB_READ
    | _DYNAMODB_WRITE
    | {
        ("dynamodb", "DeleteItem"),
        ("dynamodb", "TransactWriteItems"),
        ("s3", "GetObject"),
        ("s3", "ListObjectsV2"),
        # the tile routes keep drawn tiles: chalicelib/tiles/cache.py TileCache.put
        ("s3", "PutObject"),
    },
    # app.cvr_refresh -> chalicelib/cvr/jobs.py scheduled_refresh: the Store's reads and
    # writes (upserts, records, geocoding cache); cvr/credentials.py _read_secret:
    # secretsmanager get_secret_value (MIKROKORT_CVR_SECRET is the secret's ARN). No S3.
    "cvr_refresh": _DYNAMODB_READ | _DYNAMODB_WRITE | {("secretsmanager", "GetSecretValue")},
    # app.yearly_snapshot -> chalicelib/snapshot.py scheduled_snapshot: the Store's reads;
    # blobs/s3.py S3Writer: put_object, create_multipart_upload, upload_part,
    # complete_multipart_upload, abort_multipart_upload; S3Blobs.get and .list
    "yearly_snapshot": _DYNAMODB_READ
    | {
        ("s3", "PutObject"),
        ("s3", "CreateMultipartUpload"),
        ("s3", "UploadPart"),
        ("s3", "CompleteMultipartUpload"),
        ("s3", "AbortMultipartUpload"),
        ("s3", "GetObject"),
        ("s3", "ListObjectsV2"),
    },
}
# boto3 calls of chalicelib that no Lambda function makes
NOT_IN_LAMBDA = {
    ("dynamodb", "CreateTable"),  # DynamoDBStore.create_table: `mikrokort init` only
    ("dynamodb", "waiter:table_exists"),  # ... and its waiter
    ("s3", "CreateBucket"),  # S3Blobs.create_bucket: `mikrokort init` only
    # cvr/credentials.py reads an SSM parameter when MIKROKORT_CVR_SECRET is not a Secrets
    # Manager ARN; this deployment passes the ARN of the secret it creates
    ("ssm", "GetParameter"),
}
# IAM action of each operation (S3's multipart steps are all s3:PutObject)
IAM_ACTION = {
    ("dynamodb", "GetItem"): "dynamodb:GetItem",
    ("dynamodb", "Query"): "dynamodb:Query",
    ("dynamodb", "BatchGetItem"): "dynamodb:BatchGetItem",
    ("dynamodb", "BatchWriteItem"): "dynamodb:BatchWriteItem",
    ("dynamodb", "PutItem"): "dynamodb:PutItem",
    ("dynamodb", "UpdateItem"): "dynamodb:UpdateItem",
    ("dynamodb", "DeleteItem"): "dynamodb:DeleteItem",
    # a transaction is authorised part by part (Put, Update, Delete as above); what it adds is
    # ConditionCheckItem for the parts that only check (see _request)
    ("dynamodb", "TransactWriteItems"): "dynamodb:ConditionCheckItem",
    ("s3", "GetObject"): "s3:GetObject",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "PutObject"): "s3:PutObject",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
    ("s3", "AbortMultipartUpload"): "s3:AbortMultipartUpload",
    ("secretsmanager", "GetSecretValue"): "secretsmanager:GetSecretValue",
    ("ssm", "GetParameter"): "ssm:GetParameter",
}
LOG_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
# what Lambda itself does with a scheduled function's role: a failed event into the jobs'
# dead-letter queue (the code makes no SQS call)
DEAD_LETTER_ACTIONS = {"sqs:SendMessage"}
SCHEDULED = ("cvr_refresh", "yearly_snapshot")
# Chalice's function names and their logical IDs in the template
FUNCTIONS = {
    "api_handler": "APIHandler",
    "cvr_refresh": "CvrRefresh",
    "yearly_snapshot": "YearlySnapshot",
}


# -- the templates ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from infra.synth import synth

    out = tmp_path_factory.mktemp("infra")
    return {s: synth(s, out / s, package=out / "no-package.zip") for s in STAGES}


@pytest.fixture(scope="module")
def templates(synthesized: dict[str, Path]) -> dict[str, dict[str, Any]]:
    return {s: json.loads(p.read_text()) for s, p in synthesized.items()}


def _resources(t: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in t["Resources"].items() if v["Type"] == kind}


def _props(t: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return t["Resources"][logical_id]["Properties"]


class Resolver:
    """Resolves the intrinsic functions the templates use, for one stage in one account."""

    def __init__(self, t: dict[str, Any], refs: dict[str, str] | None = None) -> None:
        self.t = t
        bucket = _props(t, "OpenDataBucket")["BucketName"]
        self.vars = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
        self.vars["OpenDataBucket"] = self(bucket)
        self.vars["OpenDataBucket.Arn"] = f"arn:aws:s3:::{self.vars['OpenDataBucket']}"
        self.vars["AccessLogBucket"] = self(_props(t, "AccessLogBucket")["BucketName"])
        self.vars["AccessLogBucket.Arn"] = f"arn:aws:s3:::{self.vars['AccessLogBucket']}"
        queue = _props(t, "JobsDeadLetterQueue")["QueueName"]
        self.vars["JobsDeadLetterQueue.Arn"] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}"
        self.vars.update(refs or {})

    def __call__(self, v: Any) -> Any:
        if isinstance(v, list):
            return [self(x) for x in v]
        if not isinstance(v, dict):
            return v
        if "Ref" in v:
            return self.vars.get(v["Ref"], v["Ref"])
        if "Fn::GetAtt" in v:
            return self.vars[".".join(v["Fn::GetAtt"])]
        if "Fn::Sub" in v:
            text, extra = (v["Fn::Sub"], {}) if isinstance(v["Fn::Sub"], str) else v["Fn::Sub"]
            names = {**self.vars, **{k: self(x) for k, x in extra.items()}}
            for name, value in names.items():
                text = text.replace("${" + name + "}", str(value))
            assert "${" not in text, f"unresolved: {text}"
            return text
        return {k: self(x) for k, x in v.items()}


def _statements(t: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role_id = _props(t, FUNCTIONS[function])["Role"]["Fn::GetAtt"][0]
    role = _props(t, role_id)
    return [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


# -- lint ------------------------------------------------------------------------------------


def test_cfn_lint_finds_no_errors(synthesized: dict[str, Path]) -> None:
    paths = [str(p) for p in synthesized.values()]
    done = subprocess.run(
        [str(BIN / "cfn-lint"), "--format", "parseable", *paths],
        capture_output=True,
        text=True,
        timeout=120,
    )
    findings = [line for line in done.stdout.splitlines() if line.strip()]
    errors = [f for f in findings if ":E" in f]
    # exit code bits: 2 errors, 4 warnings, 8 informational; anything else is a crash
    assert done.returncode & ~(2 | 4 | 8) == 0, done.stderr
    assert not errors and not done.returncode & 2, "\n".join(findings)
    if findings:  # warnings are allowed; show them in -ra output
        print("cfn-lint warnings:\n" + "\n".join(findings))


def test_cfn_lint_would_catch_a_broken_template(
    templates: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """The lint is no rubber stamp: an invalid billing mode and a dangling reference fail."""
    t = json.loads(json.dumps(templates["dev"]))
    _props(t, "Table")["BillingMode"] = "ON_DEMAND"
    _props(t, "ApiHandlerLogGroup")["LogGroupName"] = {"Fn::Sub": "/aws/lambda/${ApiHandler}"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(t))
    done = subprocess.run(
        [str(BIN / "cfn-lint"), "--format", "parseable", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode & 2
    assert "ON_DEMAND" in done.stdout and "ApiHandler" in done.stdout


# -- the table -------------------------------------------------------------------------------


class _RecordingClient:
    def __init__(self) -> None:
        self.create_table_kwargs: dict[str, Any] = {}

    def create_table(self, **kwargs: Any) -> dict[str, Any]:
        self.create_table_kwargs = kwargs
        return {}

    def get_waiter(self, name: str) -> Any:
        return type("Waiter", (), {"wait": lambda self, **kw: None})()


@pytest.mark.parametrize("stage", STAGES)
def test_table_is_the_one_the_code_creates(templates: dict, stage: str) -> None:

    from chalicelib.store.dynamodb.schema import create_table

    client = _RecordingClient()
    create_table(client, f"mikrokort-{stage}")
    code = client.create_table_kwargs
    table = templates[stage]["Resources"]["Table"]
    p = table["Properties"]
    assert p["TableName"] == code["TableName"] == f"mikrokort-{stage}"
    assert p["BillingMode"] == code["BillingMode"] == "PAY_PER_REQUEST"
    assert p["KeySchema"] == code["KeySchema"]

    def attrs(defs: list[dict]) -> set[tuple[str, str]]:
        return {(d["AttributeName"], d["AttributeType"]) for d in defs}

    assert attrs(p["AttributeDefinitions"]) == attrs(code["AttributeDefinitions"])

    def indexes(gsis: list[dict]) -> dict[str, tuple]:
        return {
            g["IndexName"]: (
                json.dumps(g["KeySchema"]),
                g["Projection"]["ProjectionType"],
                sorted(g["Projection"].get("NonKeyAttributes", [])),
            )
            for g in gsis
        }

    assert indexes(p["GlobalSecondaryIndexes"]) == indexes(code["GlobalSecondaryIndexes"])
    assert {f"strip{i}" for i in range(6)} | {"by_municipality", "by_industry", "by_id"} == set(
        indexes(p["GlobalSecondaryIndexes"])
    )
    # protection of the data
    assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert p["SSESpecification"]["SSEEnabled"] is True
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert p["DeletionProtectionEnabled"] is (stage == "prod")


# -- the bucket ------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_bucket_is_private_but_for_published_snapshots(templates: dict, stage: str) -> None:
    from chalicelib.blobs.s3 import S3Blobs
    from chalicelib.publishing.snapshot import LATEST, PREFIX

    t = templates[stage]
    r = Resolver(t)
    bucket = t["Resources"]["OpenDataBucket"]
    p = bucket["Properties"]
    name = r.vars["OpenDataBucket"]
    assert name == f"mikrokort-{stage}-opendata-{ACCOUNT}-{REGION}" and len(name) <= 63
    assert bucket["DeletionPolicy"] == "Retain"
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    # SSE-S3: anonymous readers of the public files could not use a KMS key
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert p["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    block = p["PublicAccessBlockConfiguration"]
    assert block["BlockPublicAcls"] and block["IgnorePublicAcls"]  # no public ACLs, ever
    # the public-read policy below must be allowed to take effect
    assert not block["BlockPublicPolicy"] and not block["RestrictPublicBuckets"]
    lifecycle, tiles, basemap = p["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert 1 <= lifecycle["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] <= 7
    # cached tiles expire, and only they: the rule's prefix is the cache's, not the snapshots'
    from chalicelib.tiles.cache import PREFIX as TILE_CACHE

    assert tiles["Status"] == "Enabled" and tiles["Prefix"] == TILE_CACHE
    assert not PREFIX.startswith(TILE_CACHE.rstrip("/")) and TILE_CACHE.endswith("/")
    assert tiles["ExpirationInDays"] == 1
    assert tiles["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    # base map tiles from the agency's WMS are drawn again after a month, and only they
    from chalicelib.tiles.basemap import PREFIX as BASEMAP

    assert basemap["Status"] == "Enabled" and basemap["Prefix"] == BASEMAP
    assert not PREFIX.startswith(BASEMAP.rstrip("/")) and BASEMAP.endswith("/")
    assert basemap["ExpirationInDays"] == 30

    policy = _resources(t, "AWS::S3::BucketPolicy")["OpenDataBucketPolicy"]
    assert policy["Properties"]["Bucket"] == {"Ref": "OpenDataBucket"}
    statements = r(policy["Properties"]["PolicyDocument"]["Statement"])
    allows = [s for s in statements if s["Effect"] == "Allow"]
    denies = [s for s in statements if s["Effect"] == "Deny"]
    # the only public grant: reading objects under snapshots/ (no listing, no writes)
    assert allows == [
        {
            "Sid": "PublicReadOfSnapshots",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{name}/{PREFIX}/*",
        }
    ]
    # ... which is where the app writes them: MIKROKORT_BLOBS has no prefix
    blobs_url = r(_props(t, "YearlySnapshot")["Environment"]["Variables"]["MIKROKORT_BLOBS"])
    assert blobs_url == f"s3://{name}"
    written = S3Blobs(name, "", client=object()).full(LATEST)
    assert fnmatch.fnmatchcase(f"arn:aws:s3:::{name}/{written}", allows[0]["Resource"])
    # the API function may read and write the cached tiles, where the cache puts them
    from chalicelib.tiles.cache import TileCache

    (cache,) = [s for s in r(_statements(t, "api_handler")) if s["Sid"] == "TileCache"]
    assert sorted(cache["Action"]) == ["s3:GetObject", "s3:PutObject"]
    tile = S3Blobs(name, "", client=object()).full(TileCache._key("sqlite-7", 'W/"ab12"'))
    assert fnmatch.fnmatchcase(f"arn:aws:s3:::{name}/{tile}", cache["Resource"][0])
    assert not fnmatch.fnmatchcase(f"arn:aws:s3:::{name}/{written}", cache["Resource"][0])
    # HTTPS only, for everybody and everything in the bucket
    (deny,) = denies
    assert deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"}
    # every request to it is logged, into the access log bucket
    assert p["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": "AccessLogBucket"},
        "LogFilePrefix": "s3/opendata/",
    }


@pytest.mark.parametrize("stage", STAGES)
def test_access_log_bucket_is_private_and_forgets(templates: dict, stage: str) -> None:
    """S3's access logs hold the downloaders' addresses: nobody public reads them, only S3's
    log delivery for this bucket writes them, and they expire with the stage's logs."""
    from infra.resources import STAGES as SETTINGS

    t = templates[stage]
    r = Resolver(t)
    bucket = t["Resources"]["AccessLogBucket"]
    p = bucket["Properties"]
    name = r.vars["AccessLogBucket"]
    assert name == f"mikrokort-{stage}-logs-{ACCOUNT}-{REGION}" and len(name) <= 63
    assert all(p["PublicAccessBlockConfiguration"].values())
    assert len(p["PublicAccessBlockConfiguration"]) == 4
    (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"  # S3 logs need it
    (lifecycle,) = p["LifecycleConfiguration"]["Rules"]
    assert lifecycle["ExpirationInDays"] == SETTINGS[stage].log_retention_days
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] <= 7
    policy = _resources(t, "AWS::S3::BucketPolicy")["AccessLogBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "AccessLogBucket"}
    allow, deny = r(policy["PolicyDocument"]["Statement"])
    assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allow["Action"] == "s3:PutObject"
    assert allow["Resource"] == f"arn:aws:s3:::{name}/s3/opendata/*"
    assert allow["Condition"] == {
        "ArnLike": {"aws:SourceArn": r.vars["OpenDataBucket.Arn"]},
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
    }
    assert deny["Effect"] == "Deny" and deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"


# -- functions, schedules, logs, API ---------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_functions_schedules_and_logs(templates: dict, stage: str) -> None:
    from infra.resources import STAGES as SETTINGS

    t = templates[stage]
    functions = _resources(t, "AWS::Serverless::Function")
    assert set(functions) == set(FUNCTIONS.values())
    expected = {
        # API Gateway gives up after 29 s; the handler must end before; a cost ceiling
        "api_handler": ("app.app", 1024, range(10, 30), SETTINGS[stage].api_concurrency),
        # resumable refresh: as long as Lambda allows, one at a time
        "cvr_refresh": ("app.cvr_refresh", 1024, range(900, 901), 1),
        "yearly_snapshot": ("app.yearly_snapshot", 1024, range(900, 901), 1),
    }
    retention = {"dev": 14, "prod": 90}[stage]
    assert SETTINGS[stage].log_retention_days == retention  # as .chalice/config.json says
    assert 1 <= SETTINGS[stage].api_concurrency <= 100
    for function, (handler, memory, timeouts, concurrency) in expected.items():
        logical_id = FUNCTIONS[function]
        p = functions[logical_id]["Properties"]
        assert p["Runtime"] == "python3.11" and p["Handler"] == handler
        assert p["MemorySize"] == memory and p["Timeout"] in timeouts
        assert p.get("ReservedConcurrentExecutions") == concurrency
        assert p["CodeUri"] == "./deployment.zip"
        name = p["FunctionName"]
        assert name == f"mikrokort-{stage}-{function}"
        # its log group, with retention, named as Lambda names it, there before the function
        (group_id,) = functions[logical_id]["DependsOn"]
        group = t["Resources"][group_id]
        assert group["Type"] == "AWS::Logs::LogGroup"
        assert group["Properties"] == {
            "LogGroupName": f"/aws/lambda/{name}",
            "RetentionInDays": retention,
        }
    # and the API's access log
    assert len(_resources(t, "AWS::Logs::LogGroup")) == 4
    assert _props(t, "ApiAccessLogGroup")["RetentionInDays"] == retention

    schedules = {
        k: [e["Properties"]["Schedule"] for e in f["Properties"].get("Events", {}).values()]
        for k, f in functions.items()
    }
    assert schedules == {
        "APIHandler": [],
        "CvrRefresh": ["cron(15 0-5 * * ? *)"],  # hourly 00:15-05:15 UTC, resumes or rests
        "YearlySnapshot": ["cron(0 4 15 1 ? *)"],  # 15 January, 04:00 UTC
    }


@pytest.mark.parametrize("stage", STAGES)
def test_api_gateway_decodes_tiles_and_files_whatever_the_client_accepts(
    templates: dict, stage: str
) -> None:
    """API Gateway hands back the bytes of a base64 answer only when the request's first
    Accept type is one of the API's binary media types: `*/*` (GDAL, QGIS, curl, fetch) must
    be one, beside the app's own binary types, or tiles reach those clients as base64 text."""
    import app as app_module

    (api_id,) = _resources(templates[stage], "AWS::Serverless::Api")
    listed = _props(templates[stage], api_id)["DefinitionBody"][
        "x-amazon-apigateway-binary-media-types"
    ]
    assert "*/*" in listed
    assert set(app_module.BINARY_TYPES) <= set(listed)
    assert "application/vnd.mapbox-vector-tile" in listed


@pytest.mark.parametrize("stage", STAGES)
def test_api_is_throttled_compressed_and_answers_json(templates: dict, stage: str) -> None:
    from infra.resources import STAGES as SETTINGS

    t = templates[stage]
    (api_id,) = _resources(t, "AWS::Serverless::Api")
    p = _props(t, api_id)
    assert p["Name"] == f"mikrokort-{stage}"
    assert 0 <= p["MinimumCompressionSize"] <= 10 * 1024 * 1024
    assert p["MethodSettings"] == [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": SETTINGS[stage].rate_limit,
            "ThrottlingBurstLimit": SETTINGS[stage].burst_limit,
        }
    ]
    assert (
        SETTINGS[stage].rate_limit > 0 and SETTINGS[stage].burst_limit >= SETTINGS[stage].rate_limit
    )
    missing = p["GatewayResponses"]["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["StatusCode"] == 404
    assert json.loads(missing["ResponseTemplates"]["application/json"])["code"] == "NotFound"
    # every route of the app is in the API, each handled by the one API function
    paths = p["DefinitionBody"]["paths"]
    assert {"/", "/collections/{collection_id}/items", "/snapshots", "/barometer/{year}"} <= set(
        paths
    )


@pytest.mark.parametrize("stage", STAGES)
def test_secrets_and_environment(templates: dict, stage: str) -> None:
    t = templates[stage]
    secrets = _resources(t, "AWS::SecretsManager::Secret")
    assert set(secrets) == {"CvrSecret", "CursorSecret", "ClientSalt"}
    cvr = secrets["CvrSecret"]["Properties"]
    assert cvr["Name"] == f"mikrokort/{stage}/cvr"
    # until an operator sets it, the secret has no user: the refresh says "not configured"
    generated = cvr["GenerateSecretString"]
    assert json.loads(generated["SecretStringTemplate"])["user"] == ""
    assert generated["GenerateStringKey"] == "password"
    assert t["Parameters"]["GeocoderToken"]["NoEcho"] is True

    env = {k: _props(t, v)["Environment"]["Variables"] for k, v in FUNCTIONS.items()}
    for variables in env.values():
        assert variables["MIKROKORT_STORE"] == f"dynamodb://mikrokort-{stage}"
        assert variables["MIKROKORT_MUNICIPALITIES"] == "376,390"
    # the password is read at run time from the secret (its ARN), never put in the environment
    assert env["cvr_refresh"]["MIKROKORT_CVR_SECRET"] == {"Ref": "CvrSecret"}
    assert not any("MIKROKORT_CVR_PASSWORD" in v for v in env.values())
    assert (
        "{{resolve:secretsmanager:${CursorSecret}"
        in env["api_handler"]["MIKROKORT_CURSOR_SECRET"]["Fn::Sub"]
    )
    # the rate-limit salt is a secret of its own, never the cursor key
    assert (
        "{{resolve:secretsmanager:${ClientSalt}"
        in env["api_handler"]["MIKROKORT_CLIENT_SALT"]["Fn::Sub"]
    )
    assert "MIKROKORT_BLOBS" not in env["cvr_refresh"]  # the refresh has no business in S3


def test_stages_have_their_own_names(templates: dict) -> None:
    keys = ("TableName", "BucketName", "FunctionName", "RoleName", "Name", "LogGroupName")
    keys += ("TopicName", "QueueName", "AlarmName")
    borrowed = ("AWS::Lambda::Permission", "AWS::Logs::MetricFilter")  # others' names

    def names(t: dict[str, Any]) -> set[tuple[str, str]]:
        r = Resolver(t)
        return {
            (res["Type"], str(r(res["Properties"][key])))
            for res in t["Resources"].values()
            if res["Type"] not in borrowed
            for key in keys
            if key in res.get("Properties", {})
        }

    dev, prod = names(templates["dev"]), names(templates["prod"])
    # table, two buckets, API, web ACL, CVR secret, and a function, role and log group for
    # each, the access log group, API Gateway's logging role, the alarm topic, the jobs'
    # dead-letter queue and 8 alarms
    assert len(dev) == len(prod) == 27
    assert not {n for _, n in dev} & {n for _, n in prod}
    assert all("dev" in n for _, n in dev) and all("prod" in n for _, n in prod)


# -- IAM -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_no_wildcards_and_one_role_per_function(templates: dict, stage: str) -> None:
    t = templates[stage]
    text = json.dumps(t)
    assert "000000000000" not in text  # config.json's placeholder role ARN is replaced
    roles = _resources(t, "AWS::IAM::Role")
    # API Gateway's account-wide logging role is the only one beside the functions' (its
    # own test below)
    logging_role = roles.pop("ApiGatewayLoggingRole")
    assert logging_role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
    used = [_props(t, f)["Role"]["Fn::GetAtt"][0] for f in FUNCTIONS.values()]
    assert sorted(used) == sorted(roles)  # one role each, no other role
    for role_id, role in roles.items():
        p = role["Properties"]
        assert p["RoleName"].startswith(f"mikrokort-{stage}-")
        assert "ManagedPolicyArns" not in p  # nothing beside the inline policy below
        (trust,) = p["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
        for policy in p["Policies"]:
            for s in policy["PolicyDocument"]["Statement"]:
                assert s["Effect"] == "Allow" and "NotAction" not in s
                assert "NotResource" not in s
                for action in _as_list(s["Action"]):
                    assert "*" not in action, (role_id, action)
                for resource in _as_list(s["Resource"]):
                    assert resource != "*", (role_id, s)
                    resolved = Resolver(t, {"CvrSecret": "arn:secret"})(resource)
                    # the only wildcards name objects under a prefix, indexes of the one
                    # table, or log streams of the function's own group
                    if "*" in resolved:
                        assert resolved.endswith(
                            ("/snapshots/*", "/tile-cache/*", "/basemap/*", "/index/*", ":*")
                        ), resolved


@pytest.mark.parametrize("stage", STAGES)
def test_each_policy_allows_exactly_what_the_code_calls(templates: dict, stage: str) -> None:
    t = templates[stage]
    for function, calls in EXPECTED_CALLS.items():
        granted = {a for s in _statements(t, function) for a in _as_list(s["Action"])}
        platform = LOG_ACTIONS | (DEAD_LETTER_ACTIONS if function in SCHEDULED else set())
        assert granted - platform == {IAM_ACTION[c] for c in calls}, function
        assert granted >= platform


@pytest.mark.parametrize("stage", STAGES)
def test_scheduled_functions_hand_failed_events_to_the_dead_letter_queue(
    templates: dict, stage: str
) -> None:
    """A failed night is never silent: Lambda gives the event to the queue after its retries,
    and may (sqs:SendMessage on that queue, nothing else); the API function needs none."""
    t = templates[stage]
    r = Resolver(t)
    (queue_id,) = _resources(t, "AWS::SQS::Queue")
    queue = _props(t, queue_id)
    assert queue["QueueName"] == f"mikrokort-{stage}-jobs-dlq"
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600 and queue["SqsManagedSseEnabled"]
    arn = r.vars[f"{queue_id}.Arn"]
    for function, logical_id in FUNCTIONS.items():
        p = _props(t, logical_id)
        sqs = [s for s in r(_statements(t, function)) if any("sqs:" in a for a in s["Action"])]
        if function in SCHEDULED:
            assert p["DeadLetterQueue"] == {
                "Type": "SQS",
                "TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]},
            }
            assert sqs == [
                {
                    "Sid": "DeadLetters",
                    "Effect": "Allow",
                    "Action": ["sqs:SendMessage"],
                    "Resource": [arn],
                }
            ]
        else:
            assert "DeadLetterQueue" not in p and sqs == []


def _operations_in_code() -> set[tuple[str, str]]:
    """Every boto3 operation the modules of chalicelib that use boto3 can call."""
    import botocore.session
    from botocore import xform_name

    session = botocore.session.get_session()
    services = ("dynamodb", "s3", "secretsmanager", "ssm")
    by_snake: dict[str, set[tuple[str, str]]] = {}
    waiters: dict[str, set[str]] = {}
    for svc in services:
        model = session.get_service_model(svc)
        for op in model.operation_names:
            by_snake.setdefault(xform_name(op), set()).add((svc, op))
        try:
            waiter_model = session.get_waiter_model(svc)
        except Exception:  # services without waiters
            continue
        for w in waiter_model.waiter_names:
            waiters.setdefault(xform_name(w), set()).add(svc)
    found: set[tuple[str, str]] = set()
    files = [p for p in (ROOT / "chalicelib").rglob("*.py") if "boto3" in p.read_text()]
    assert files, "no module of chalicelib uses boto3?"
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            names: list[str] = []
            fn = node.func
            if isinstance(fn, ast.Attribute):
                names.append(fn.attr)
            literal = (
                node.args[0].value
                if node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                else None
            )
            callee = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if literal and callee in ("_call", "get_paginator"):
                names.append(literal)
            if literal and callee == "get_waiter":
                (svc,) = waiters[literal]
                found.add((svc, f"waiter:{literal}"))
            for name in names:
                ops = by_snake.get(name, set())
                assert len(ops) <= 1, f"{name} in {path} is ambiguous: {ops}"
                found |= ops
    return found


def test_every_boto3_call_in_the_code_is_declared() -> None:
    in_code = _operations_in_code()
    declared = set().union(*EXPECTED_CALLS.values()) | NOT_IN_LAMBDA
    assert in_code - declared == set(), "declare these calls in EXPECTED_CALLS or NOT_IN_LAMBDA"
    assert declared - in_code == set(), "declared calls the code no longer makes"


# -- 3. the functions run with their template's environment and policy -----------------------


class _Recorder:
    """Every AWS call botocore sends, with its parameters."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def __enter__(self) -> _Recorder:
        from botocore.client import BaseClient

        self._original = original = BaseClient._make_api_call
        recorder = self

        def record(client: Any, operation: str, params: dict[str, Any]) -> Any:
            recorder.calls.append((client.meta.service_model.service_name, operation, params))
            return original(client, operation, params)

        BaseClient._make_api_call = record  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        from botocore.client import BaseClient

        BaseClient._make_api_call = self._original  # type: ignore[method-assign]


def _request(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs one call needs."""
    action = IAM_ACTION[(service, operation)]
    if (service, operation) == ("dynamodb", "TransactWriteItems"):
        part_action = {
            "Put": "dynamodb:PutItem",
            "Update": "dynamodb:UpdateItem",
            "Delete": "dynamodb:DeleteItem",
            "ConditionCheck": "dynamodb:ConditionCheckItem",
        }
        return [
            (part_action[kind], f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{args['TableName']}")
            for item in params["TransactItems"]
            for kind, args in item.items()
        ]
    if service == "dynamodb":
        tables = list(params["RequestItems"]) if "RequestItems" in params else [params["TableName"]]
        arns = [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{t}" for t in tables]
        if "IndexName" in params:
            arns = [f"{a}/index/{params['IndexName']}" for a in arns]
        return [(action, a) for a in arns]
    if service == "s3":
        key = f"/{params['Key']}" if "Key" in params else ""
        return [(action, f"arn:aws:s3:::{params['Bucket']}{key}")]
    if service == "secretsmanager":
        return [(action, params["SecretId"])]
    raise AssertionError(f"unexpected service {service}")


def _allowed(statements: list[dict[str, Any]], action: str, arn: str) -> bool:
    return any(
        action in _as_list(s["Action"])
        and any(fnmatch.fnmatchcase(arn, r) for r in _as_list(s["Resource"]))
        for s in statements
        if s["Effect"] == "Allow"
    )


@pytest.fixture
def deployed_dev(
    aws_env: dict[str, str], templates: dict[str, dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """The dev stage's table, bucket and CVR secret on the local AWS stand-in, a register
    stand-in holding a few companies, and each function's environment from the template."""
    import boto3

    from chalicelib.blobs.s3 import S3Blobs
    from chalicelib.curation.auth import create_key
    from chalicelib.demo.generate import generate_businesses
    from chalicelib.demo.seed import seed_demo
    from chalicelib.store.dynamodb import DynamoDBStore
    from tests.standins.cvr_documents import company_document
    from tests.standins.cvr_server import CvrStandIn

    t = templates["dev"]
    table = _props(t, "Table")["TableName"]
    store = DynamoDBStore(table)
    store.create_table()
    seed_demo(store, count=60, progress=lambda _: None)
    admin_key = create_key(store, "infra test", ["admin"])
    bucket = Resolver(t).vars["OpenDataBucket"]
    S3Blobs(bucket).create_bucket()
    loaded = datetime.now(UTC) - timedelta(minutes=5)
    newcomers = generate_businesses(12, seed=77)
    docs = [company_document(b, loaded=loaded) for b in newcomers]
    with CvrStandIn(docs, user="mk", password="pw") as register:
        sm = boto3.client("secretsmanager")
        secret = json.dumps({"user": "mk", "password": "pw", "url": register.url})
        name = _props(t, "CvrSecret")["Name"]
        try:
            arn = sm.create_secret(Name=name, SecretString=secret)["ARN"]
        except sm.exceptions.ResourceExistsException:
            arn = sm.put_secret_value(SecretId=name, SecretString=secret)["ARN"]
        refs = {
            "CvrSecret": arn,
            "CursorSecret": "cursor-arn",
            "ClientSalt": "salt-arn",
            "PublicUrl": "",
            "GeocoderUrl": "",
        }
        resolve = Resolver(t, refs)
        resolve.vars["GeocoderToken"] = ""
        env = {}
        for function, logical_id in FUNCTIONS.items():
            variables = resolve(_props(t, logical_id)["Environment"]["Variables"])
            if "MIKROKORT_CURSOR_SECRET" in variables:  # resolved by CloudFormation
                variables["MIKROKORT_CURSOR_SECRET"] = "cursor-key-of-the-test"
            env[function] = variables
        yield {
            "env": env,
            "policies": {f: resolve(_statements(t, f)) for f in FUNCTIONS},
            "newcomers": [b.id for b in newcomers],
            "bucket": bucket,
            "admin_key": admin_key,
        }


def _run_as(function: str, deployed: dict[str, Any], body: Any) -> list[tuple]:
    """Run `body(client)` with the function's environment only; return the AWS calls made."""
    from chalice.test import Client

    import app as application

    saved = dict(os.environ)
    for k in [k for k in os.environ if k.startswith("MIKROKORT_")]:
        del os.environ[k]
    os.environ.update(deployed["env"][function])
    application.configure()
    try:
        with _Recorder() as rec, Client(application.app) as client:
            body(client)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        application.configure()
    return rec.calls


def _check(function: str, deployed: dict[str, Any], calls: list[tuple]) -> set[tuple[str, str]]:
    assert calls, f"{function} made no AWS call: is it pointed at AWS at all?"
    statements = deployed["policies"][function]
    made = set()
    for service, operation, params in calls:
        made.add((service, operation))
        assert (service, operation) in EXPECTED_CALLS[function], (function, operation)
        for action, arn in _request(service, operation, params):
            assert _allowed(statements, action, arn), f"{function}: {action} on {arn} denied"
    return made


def test_each_function_runs_with_its_template_environment_within_its_policy(
    deployed_dev: dict[str, Any],
) -> None:
    def event(client: Any) -> Any:
        return client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )

    # the nightly refresh: register credentials from the secret, businesses into the table
    results: dict[str, Any] = {}

    def refresh(client: Any) -> None:
        results["refresh"] = client.lambda_.invoke("cvr_refresh", event(client)).payload

    made = _check("cvr_refresh", deployed_dev, _run_as("cvr_refresh", deployed_dev, refresh))
    assert results["refresh"]["status"] == "succeeded", results["refresh"]
    assert results["refresh"]["new"] == len(deployed_dev["newcomers"])
    assert ("secretsmanager", "GetSecretValue") in made
    assert {("dynamodb", "BatchWriteItem"), ("dynamodb", "UpdateItem")} <= made

    # the yearly snapshot: last year's files into the bucket
    def snapshot(client: Any) -> None:
        results["snapshot"] = client.lambda_.invoke("yearly_snapshot", event(client)).payload

    made = _check(
        "yearly_snapshot", deployed_dev, _run_as("yearly_snapshot", deployed_dev, snapshot)
    )
    assert results["snapshot"]["status"] == "published", results["snapshot"]
    assert {("s3", "PutObject"), ("dynamodb", "Query")} <= made

    # the API, on every kind of public route (the snapshot is there to list now), and the
    # write side: admin API (networks, members, curation, audit) and self-registration
    year = str(datetime.now(UTC).year - 1)
    cvr = deployed_dev["newcomers"][0]
    statuses: dict[str, int] = {}

    def api(client: Any) -> None:
        for path in (
            "/",
            "/collections",
            "/collections/businesses",
            "/collections/businesses/items?limit=5",
            "/collections/businesses/items?bbox=11.0,54.5,12.5,55.3&limit=5",
            "/collections/businesses/items?municipality=376&industry=F&limit=5",
            f"/collections/businesses/items/{cvr}",
            "/collections/networks/items",
            "/collections/municipalities/items/376",
            "/municipalities/376/new-businesses?since=2000-01-01",
            "/search?q=a",
            f"/businesses/{cvr}/matches",
            "/snapshots",
            f"/barometer/{year}",
        ):
            statuses[path] = client.http.get(path).status_code
        key = {"X-API-Key": deployed_dev["admin_key"], "Content-Type": "application/json"}
        network = {
            "id": "infra-netvaerk",
            "name": "Infra-netværket",
            "municipalities": ["376"],
            "meeting_place": {"lon": 11.87, "lat": 54.77},
            "members": [],
        }
        r = client.http.post("/admin/networks", headers=key, body=json.dumps(network))
        statuses["POST /admin/networks"] = r.status_code
        path = f"/admin/networks/{network['id']}"
        r = client.http.put(f"{path}/members/{cvr}", headers=key)
        statuses["PUT member"] = r.status_code
        r = client.http.delete(path, headers={**key, "If-Match": r.headers.get("ETag", "")})
        statuses["DELETE network"] = r.status_code
        r = client.http.get(f"/admin/businesses/{cvr}", headers=key)
        r = client.http.put(
            f"/admin/businesses/{cvr}/curation",
            headers={**key, "If-Match": r.headers.get("ETag", "")},
            body=json.dumps({"note": "checked by the infra test"}),
        )
        statuses["PUT curation"] = r.status_code
        submission = {
            "name": "Infra Iværksættere",
            "municipalities": ["390"],
            "meeting_place_lon": 11.91,
            "meeting_place_lat": 55.01,
            "submitter_name": "Test",
            "submitter_email": "test@example.dk",
        }
        r = client.http.post(
            "/networks/register",
            headers={"Content-Type": "application/json"},
            body=json.dumps(submission),
        )
        statuses["POST /networks/register"] = r.status_code
        statuses["GET /admin/audit"] = client.http.get("/admin/audit", headers=key).status_code

    made = _check("api_handler", deployed_dev, _run_as("api_handler", deployed_dev, api))
    assert all(s < 500 for s in statuses.values()), {k: s for k, s in statuses.items() if s >= 500}
    assert statuses["/snapshots"] == 200 and statuses[f"/barometer/{year}"] == 200, statuses
    assert statuses["POST /admin/networks"] == 201, statuses
    assert statuses["PUT member"] == statuses["PUT curation"] == 200, statuses
    assert statuses["DELETE network"] == 204, statuses
    assert statuses["POST /networks/register"] == 202, statuses
    assert {
        ("s3", "GetObject"),
        ("dynamodb", "Query"),
        ("dynamodb", "GetItem"),
        ("dynamodb", "PutItem"),
        # a network's deletion, a curation and their audit entries land together
        ("dynamodb", "TransactWriteItems"),
    } <= made


# -- the package -----------------------------------------------------------------------------


def test_lambda_requirements_follow_requirements_txt() -> None:
    def pins(path: Path) -> dict[str, str]:
        lines = [ln.split("#")[0].strip() for ln in path.read_text().splitlines()]
        return dict(ln.split("==") for ln in lines if ln)

    project = pins(ROOT / "requirements.txt")
    lam = pins(ROOT / "infra" / "requirements-lambda.txt")
    # Chalice's runtime, Lambda's SDK, and the embedded mode's HTTP server and its brotli
    assert set(project) - set(lam) == {"chalice", "boto3", "waitress", "brotli"}
    assert {k: project[k] for k in lam if k in project} == {k: lam[k] for k in lam if k in project}
    assert set(lam) - set(project) == {"numpy"}  # pinned for Lambda's glibc (see the file)


def test_package_gets_bytecode_and_widget_but_not_the_runtime_sdk(tmp_path: Path) -> None:
    import importlib.util

    from infra.package import WIDGET_DEST, finish_package

    src = tmp_path / "chalice.zip"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("app.py", "import chalicelib\nVALUE = chalicelib.X\n")
        z.writestr("chalicelib/__init__.py", "X = 42\n")
        z.writestr("chalicelib/data/kommuner.csv", "376;Guldborgsund\n")
        z.writestr("botocore/__init__.py", "")
        z.writestr("boto3-1.0.dist-info/METADATA", "")
        z.writestr("numpy/__init__.py", "")
        z.writestr("numpy/_core/tests/test_x.py", "")
    widget = tmp_path / "dist"
    widget.mkdir()
    (widget / "mikrokort-widget.js").write_text("console.log(1)")
    (widget / ".built").write_text("")  # make's marker: not shipped
    dest = tmp_path / "deployment.zip"
    facts = finish_package(src, dest, widget_dir=widget)
    with zipfile.ZipFile(dest) as z:
        names = set(z.namelist())
        pyc = z.read("chalicelib/__pycache__/__init__.cpython-311.pyc")
        app_pyc = z.read("__pycache__/app.cpython-311.pyc")
    assert {"app.py", "chalicelib/__init__.py", "chalicelib/data/kommuner.csv"} <= names
    assert f"{WIDGET_DEST}/mikrokort-widget.js" in names
    assert not any(n.startswith(("botocore/", "boto3")) for n in names)
    assert not any("/tests/" in n for n in names)
    assert "numpy/__init__.py" in names
    # PEP 552 flags: hash-based (bit 0) and not checked against the source (bit 1 clear), so
    # Lambda uses them whatever the files' times after unpacking
    assert pyc[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(pyc[4:8], "little") == 0b01
    assert b"/var/task/app.py" in app_pyc  # tracebacks show where Lambda runs the code
    assert facts["pyc_files"] == 3 and facts["widget_files"] == 1
    assert facts["zipped_bytes"] == dest.stat().st_size
    with zipfile.ZipFile(io.BytesIO(dest.read_bytes())) as z:
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())  # reproducible


def _waf_match(statement: dict, method: str, path: str) -> bool:
    """AWS WAF's byte match and AND, for the constraints the template uses."""
    if "AndStatement" in statement:
        return all(_waf_match(s, method, path) for s in statement["AndStatement"]["Statements"])
    m = statement["ByteMatchStatement"]
    value = method if "Method" in m["FieldToMatch"] else path
    text, where = m["SearchString"], m["PositionalConstraint"]
    return (
        (where == "STARTS_WITH" and value.startswith(text))
        or (where == "ENDS_WITH" and value.endswith(text))
        or (where == "EXACTLY" and value == text)
    )


def _waf_matches(statements: list[dict], method: str, path: str) -> bool:
    return any(_waf_match(s, method, path) for s in statements)


@pytest.mark.parametrize("stage", STAGES)
def test_expensive_routes_are_limited_per_client_on_aws_as_in_the_embedded_server(
    templates: dict, stage: str
) -> None:
    import re

    from chalicelib.routes import ROUTES

    t = templates[stage]
    (acl_id,) = _resources(t, "AWS::WAFv2::WebACL")
    (assoc_id,) = _resources(t, "AWS::WAFv2::WebACLAssociation")
    acl = _props(t, acl_id)
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    (rule,) = acl["Rules"]
    rate = rule["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP" and 100 <= rate["Limit"] <= 10_000
    assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    statements = rate["ScopeDownStatement"]["OrStatement"]["Statements"]
    for route in ROUTES:
        path = re.sub(r"\{\w+\}", "x", route.path)
        for seen in (path, "/api" + path):  # API Gateway's domain, and a custom domain
            assert _waf_matches(statements, route.method, seen) == route.limited, (route.name, seen)
    assoc = _props(t, assoc_id)
    assert assoc["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert "/restapis/${RestAPI}/stages/api" in assoc["ResourceArn"]["Fn::Sub"]
