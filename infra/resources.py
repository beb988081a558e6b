"""The resources around the Chalice app, as a CloudFormation template to merge into Chalice's.

`chalice package --merge-template` deep-merges this template into the one Chalice generates
from `app.py` and `.chalice/config.json` (functions, API, schedules, log groups): keys given
here win, dictionaries are merged. So this module adds the table, the bucket, the secrets, one
role per function, and amends Chalice's own resources (function names, roles, environment,
log group names, API throttling and error answers). It is a pure function of the stage: the
stage's names are computed here, and ARNs are `Fn::Sub`/`Fn::GetAtt` expressions. The alarms,
their topic and the jobs' dead-letter queue come from `infra/monitoring.py`; the checkov
checks the deployment does not follow, each with its reason, from `infra/waivers.py`.

Logical IDs that Chalice generates and this template amends: `APIHandler`, `CvrRefresh`,
`YearlySnapshot` (functions), `ApiHandlerLogGroup`, `CvrRefreshLogGroup`,
`YearlySnapshotLogGroup`, `RestAPI`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.publishing.snapshot import PREFIX as SNAPSHOT_PREFIX
from chalicelib.store.dynamodb.schema import table_definition
from chalicelib.tiles.basemap import PREFIX as BASEMAP_PREFIX
from chalicelib.tiles.cache import PREFIX as TILE_CACHE_PREFIX
from infra import monitoring
from infra.waivers import metadata

APP = "mikrokort"


@dataclass(frozen=True)
class Stage:
    name: str
    deletion_protection: bool  # the table refuses DeleteTable (it is retained either way)
    rate_limit: float  # API Gateway steady requests per second, every method
    burst_limit: int  # API Gateway burst (token bucket size)
    # at most this many API requests run at once (reserved concurrency): the cost ceiling of
    # the API function; above it Lambda throttles, and an alarm says so
    api_concurrency: int
    log_retention_days: int  # as `log_retention_in_days` in .chalice/config.json
    # requests to the expensive routes one client address may make in 5 minutes (AWS WAF)
    expensive_per_client: int = 300


STAGES = {
    "dev": Stage(
        "dev",
        deletion_protection=False,
        rate_limit=20,
        burst_limit=40,
        api_concurrency=10,
        log_retention_days=14,
    ),
    "prod": Stage(
        "prod",
        deletion_protection=True,
        rate_limit=200,
        burst_limit=400,
        api_concurrency=50,
        log_retention_days=90,
    ),
}


@dataclass(frozen=True)
class Function:
    name: str  # Chalice's function name (config.json `lambda_functions` key)
    logical_id: str  # the function's logical ID in Chalice's template
    log_group_id: str  # its log group's logical ID in Chalice's template
    role_id: str  # the role this template gives it


FUNCTIONS = (
    Function("api_handler", "APIHandler", "ApiHandlerLogGroup", "APIHandlerRole"),
    Function("cvr_refresh", "CvrRefresh", "CvrRefreshLogGroup", "CvrRefreshRole"),
    Function("yearly_snapshot", "YearlySnapshot", "YearlySnapshotLogGroup", "YearlySnapshotRole"),
)

TABLE_ID = "Table"
BUCKET_ID = "OpenDataBucket"
BUCKET_POLICY_ID = "OpenDataBucketPolicy"
LOG_BUCKET_ID = "AccessLogBucket"
LOG_BUCKET_POLICY_ID = "AccessLogBucketPolicy"
S3_LOG_PREFIX = "s3/opendata/"
CVR_SECRET_ID = "CvrSecret"
CURSOR_SECRET_ID = "CursorSecret"
CLIENT_SALT_ID = "ClientSalt"


def table_name(stage: str) -> str:
    return f"{APP}-{stage}"


def function_name(stage: str, function: str) -> str:
    return f"{APP}-{stage}-{function}"


def bucket_name_sub(stage: str) -> str:
    """Bucket names are global: the account and region make them unique."""
    return f"{APP}-{stage}-opendata-${{AWS::AccountId}}-${{AWS::Region}}"


def log_bucket_name_sub(stage: str) -> str:
    return f"{APP}-{stage}-logs-${{AWS::AccountId}}-${{AWS::Region}}"


def cvr_secret_name(stage: str) -> str:
    return f"{APP}/{stage}/cvr"


# -- ARNs -------------------------------------------------------------------------------------


def _sub(text: str) -> dict[str, Any]:
    return {"Fn::Sub": text}


def table_arn(stage: str) -> dict[str, Any]:
    return _sub(
        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/" + table_name(stage)
    )


def index_arn(stage: str) -> dict[str, Any]:
    return _sub(
        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/"
        + table_name(stage)
        + "/index/*"
    )


def bucket_arn() -> dict[str, Any]:
    return {"Fn::GetAtt": [BUCKET_ID, "Arn"]}


def snapshot_objects_arn() -> dict[str, Any]:
    return _sub(f"${{{BUCKET_ID}.Arn}}/{SNAPSHOT_PREFIX}/*")


def tile_cache_objects_arn() -> dict[str, Any]:
    return _sub(f"${{{BUCKET_ID}.Arn}}/{TILE_CACHE_PREFIX}*")


def basemap_objects_arn() -> dict[str, Any]:
    return _sub(f"${{{BUCKET_ID}.Arn}}/{BASEMAP_PREFIX}*")


def log_group_arn(stage: str, function: str) -> dict[str, Any]:
    return _sub(
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
        f"/aws/lambda/{function_name(stage, function)}:*"
    )


# -- the policies: exactly the calls each function's code makes -------------------------------
# tests/test_infra.py derives the same sets from the code and fails when they drift apart.

DYNAMODB_READ = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"]
DYNAMODB_WRITE = ["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
DYNAMODB_DELETE = ["dynamodb:DeleteItem"]  # DynamoDBStore.delete_network (admin API)
# TransactWriteItems (a curation or network edit with its audit entry; capped counters) needs
# the item actions of its parts, and ConditionCheckItem for a part that only checks
DYNAMODB_TRANSACT = ["dynamodb:ConditionCheckItem"]


def _statement(sid: str, actions: list[str], resources: list[Any]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def _logs(stage: str, function: str) -> dict[str, Any]:
    # the log group itself is created by this template: no logs:CreateLogGroup
    return _statement(
        "Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], [log_group_arn(stage, function)]
    )


def _dynamodb(stage: str, actions: list[str]) -> list[dict[str, Any]]:
    return [
        _statement("TableItems", actions, [table_arn(stage)]),
        # the indexes are only ever queried
        _statement("TableIndexes", ["dynamodb:Query"], [index_arn(stage)]),
    ]


def _s3_list() -> dict[str, Any]:
    # Unconditioned on s3:prefix on purpose: S3 answers a GET of a missing key with 404 only
    # to a caller allowed to list the bucket (else 403), and the code treats 404 as "not yet
    # published". The bucket holds the open data only.
    return _statement("ListOpenData", ["s3:ListBucket"], [bucket_arn()])


def policies(stage: str) -> dict[str, list[dict[str, Any]]]:
    """Each function's policy statements (by Chalice function name)."""
    return {
        # the public routes read; the admin API and self-registration (API keys, audit log,
        # submissions, rate limits: records in the table) write and delete networks
        "api_handler": [
            _logs(stage, "api_handler"),
            *_dynamodb(stage, DYNAMODB_READ + DYNAMODB_WRITE + DYNAMODB_DELETE + DYNAMODB_TRANSACT),
            _statement("ReadSnapshots", ["s3:GetObject"], [snapshot_objects_arn()]),
            # drawn map tiles, kept until the next write (chalicelib/tiles/cache.py)
            _statement("TileCache", ["s3:GetObject", "s3:PutObject"], [tile_cache_objects_arn()]),
            # Danish base map tiles drawn by the agency's WMS (chalicelib/tiles/basemap.py)
            _statement("BaseMap", ["s3:GetObject", "s3:PutObject"], [basemap_objects_arn()]),
            _s3_list(),
        ],
        "cvr_refresh": [
            _logs(stage, "cvr_refresh"),
            *_dynamodb(stage, DYNAMODB_READ + DYNAMODB_WRITE),
            _statement(
                "ReadCvrCredentials",
                ["secretsmanager:GetSecretValue"],
                [{"Ref": CVR_SECRET_ID}],
            ),
            monitoring.dead_letter_statement(),
        ],
        "yearly_snapshot": [
            _logs(stage, "yearly_snapshot"),
            *_dynamodb(stage, DYNAMODB_READ),
            _statement(
                "WriteSnapshots",
                # PutObject also covers CreateMultipartUpload, UploadPart and
                # CompleteMultipartUpload (with If-None-Match for create-only files)
                ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                [snapshot_objects_arn()],
            ),
            _s3_list(),
            monitoring.dead_letter_statement(),
        ],
    }


# -- resources ----------------------------------------------------------------------------------


def _table(stage: Stage) -> dict[str, Any]:
    return {
        "Type": "AWS::DynamoDB::Table",
        # a stack deletion or a replacement never drops the data
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            # keys, indexes and billing exactly as `mikrokort init` creates them
            **table_definition(table_name(stage.name)),
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            # KMS with the AWS managed key (aws/dynamodb): auditable, no key to manage, and
            # no kms: permission needed by the functions
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
            "DeletionProtectionEnabled": stage.deletion_protection,
            "Tags": [{"Key": "app", "Value": APP}, {"Key": "stage", "Value": stage.name}],
        },
    }


def _retained_bucket(stage: Stage, name_sub: str, **properties: Any) -> dict[str, Any]:
    """A bucket the stack keeps when it is deleted or replaced, versioned, encrypted with SSE-S3
    (not SSE-KMS: anonymous readers of public objects cannot use a KMS key, and S3 delivers
    server access logs only into SSE-S3 buckets), ACLs off, tagged; plus its own properties."""
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": _sub(name_sub),
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            # ACLs are off; only a bucket policy may grant anything
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            **properties,
            "Tags": [{"Key": "app", "Value": APP}, {"Key": "stage", "Value": stage.name}],
        },
    }


def _bucket(stage: Stage) -> dict[str, Any]:
    return _retained_bucket(
        stage,
        bucket_name_sub(stage.name),
        # public reads only through the bucket policy below
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
        # who read which file when: S3 server access logs, in a bucket of their own
        LoggingConfiguration={
            "DestinationBucketName": {"Ref": LOG_BUCKET_ID},
            "LogFilePrefix": S3_LOG_PREFIX,
        },
        LifecycleConfiguration={
            "Rules": [
                {
                    # parts of uploads abandoned by a crashed snapshot (docs/OPEN_DATA.md)
                    "Id": "abort-incomplete-multipart-uploads",
                    "Status": "Enabled",
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
                },
                {
                    # cached tiles: their key holds the store's change token, so a tile is
                    # only read until the next write; a day later it goes (versions too)
                    "Id": "expire-tile-cache",
                    "Status": "Enabled",
                    "Prefix": TILE_CACHE_PREFIX,
                    "ExpirationInDays": 1,
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                },
                {
                    # base map tiles from the agency's WMS: drawn again a month later, so a
                    # new edition of the screen map reaches the widget
                    "Id": "expire-basemap",
                    "Status": "Enabled",
                    "Prefix": BASEMAP_PREFIX,
                    "ExpirationInDays": 30,
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                },
            ]
        },
        # browsers on other sites (data portals, notebooks) may download the files
        CorsConfiguration={
            "CorsRules": [
                {
                    "AllowedMethods": ["GET", "HEAD"],
                    "AllowedOrigins": ["*"],
                    "AllowedHeaders": ["*"],
                    "MaxAge": 86400,
                }
            ]
        },
    )


def _bucket_policy() -> dict[str, Any]:
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": BUCKET_ID},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        # published snapshots only: no listing, nothing else, no writes
                        "Sid": "PublicReadOfSnapshots",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": snapshot_objects_arn(),
                    },
                    {
                        "Sid": "HttpsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket_arn(), _sub(f"${{{BUCKET_ID}.Arn}}/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            },
        },
    }


def _log_bucket(stage: Stage) -> dict[str, Any]:
    """The open-data bucket's access logs. They hold the downloaders' addresses (S3 writes
    them, there is no format to choose), so they expire with the stage's log retention."""
    days = stage.log_retention_days
    return _retained_bucket(
        stage,
        log_bucket_name_sub(stage.name),
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
        LifecycleConfiguration={
            "Rules": [
                {
                    "Id": "expire-access-logs",
                    "Status": "Enabled",
                    "ExpirationInDays": days,
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
                }
            ]
        },
    )


def _log_bucket_policy() -> dict[str, Any]:
    # with ACLs disabled, S3's log delivery writes by this policy: only the open-data
    # bucket's logs, of this account, under their prefix
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": LOG_BUCKET_ID},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "S3ServerAccessLogs",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": _sub(f"${{{LOG_BUCKET_ID}.Arn}}/{S3_LOG_PREFIX}*"),
                        "Condition": {
                            "ArnLike": {"aws:SourceArn": bucket_arn()},
                            "StringEquals": {"aws:SourceAccount": _sub("${AWS::AccountId}")},
                        },
                    },
                    {
                        "Sid": "HttpsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [
                            {"Fn::GetAtt": [LOG_BUCKET_ID, "Arn"]},
                            _sub(f"${{{LOG_BUCKET_ID}.Arn}}/*"),
                        ],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            },
        },
    }


def _secrets(stage: Stage) -> dict[str, Any]:
    return {
        CVR_SECRET_ID: {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": cvr_secret_name(stage.name),
                "Description": (
                    "CVR system-to-system access of Mikrokort: JSON with user, password and "
                    "url. Set it with `aws secretsmanager put-secret-value` (docs/DEPLOY.md); "
                    "until then the refresh reports that the register is not configured."
                ),
                # a random placeholder password and an empty user: "not configured"
                "GenerateSecretString": {
                    "SecretStringTemplate": json.dumps(
                        {"user": "", "url": "http://distribution.virk.dk"}
                    ),
                    "GenerateStringKey": "password",
                    "ExcludePunctuation": True,
                    "PasswordLength": 32,
                },
                "Tags": [{"Key": "app", "Value": APP}, {"Key": "stage", "Value": stage.name}],
            },
        },
        CURSOR_SECRET_ID: {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Description": "Key that signs Mikrokort's paging cursors (generated)",
                "GenerateSecretString": {"ExcludePunctuation": True, "PasswordLength": 48},
                "Tags": [{"Key": "app", "Value": APP}, {"Key": "stage", "Value": stage.name}],
            },
        },
        # a secret of its own: knowing the cursor key must not help to reverse client hashes
        CLIENT_SALT_ID: {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Description": "Salt of the hashed client addresses behind rate limits (generated)",
                "GenerateSecretString": {"ExcludePunctuation": True, "PasswordLength": 48},
                "Tags": [{"Key": "app", "Value": APP}, {"Key": "stage", "Value": stage.name}],
            },
        },
    }


def _role(stage: Stage, fn: Function) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": function_name(stage.name, fn.name),
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": f"{fn.name}-least-privilege",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": policies(stage.name)[fn.name],
                    },
                }
            ],
        },
    }


def _environment(stage: Stage, fn: Function) -> dict[str, Any]:
    env: dict[str, Any] = {
        "MIKROKORT_STORE": f"dynamodb://{table_name(stage.name)}",
        "MIKROKORT_PUBLIC_URL": {"Ref": "PublicUrl"},
    }
    if fn.name in ("api_handler", "yearly_snapshot"):
        env["MIKROKORT_BLOBS"] = _sub(f"s3://${{{BUCKET_ID}}}")
    if fn.name == "api_handler":
        env["MIKROKORT_CURSOR_SECRET"] = _sub(
            f"{{{{resolve:secretsmanager:${{{CURSOR_SECRET_ID}}}:SecretString}}}}"
        )
        env["MIKROKORT_CLIENT_SALT"] = _sub(
            f"{{{{resolve:secretsmanager:${{{CLIENT_SALT_ID}}}:SecretString}}}}"
        )
        env["MIKROKORT_BASEMAP_WMS"] = {"Ref": "BaseMapWms"}
        env["MIKROKORT_BASEMAP_TOKEN"] = {"Ref": "BaseMapToken"}
        # the widget's place search asks the same address service (chalicelib/mapwidget/places.py)
        env["MIKROKORT_GEOCODER_URL"] = {"Ref": "GeocoderUrl"}
        env["MIKROKORT_GEOCODER_TOKEN"] = {"Ref": "GeocoderToken"}
    if fn.name == "cvr_refresh":
        env["MIKROKORT_CVR_SECRET"] = {"Ref": CVR_SECRET_ID}  # the ARN: read at run time
        env["MIKROKORT_GEOCODER_URL"] = {"Ref": "GeocoderUrl"}
        env["MIKROKORT_GEOCODER_TOKEN"] = {"Ref": "GeocoderToken"}
    return env


def _function(stage: Stage, fn: Function) -> dict[str, Any]:
    props: dict[str, Any] = {
        "FunctionName": function_name(stage.name, fn.name),
        "Role": {"Fn::GetAtt": [fn.role_id, "Arn"]},
        "Environment": {"Variables": _environment(stage, fn)},
    }
    if fn.name == "api_handler":
        props["ReservedConcurrentExecutions"] = stage.api_concurrency
    else:  # the scheduled jobs: a failed night lands in the queue, and its alarm rings
        props["DeadLetterQueue"] = monitoring.dead_letter_config()
    return {
        # the log group exists (with its retention) before the function can write to it
        "DependsOn": [fn.log_group_id],
        "Properties": props,
    }


def _log_group(stage: Stage, fn: Function) -> dict[str, Any]:
    # a literal name: Chalice's `Fn::Sub` names the API handler's group after a logical ID
    # (`ApiHandler`) that its template calls `APIHandler`
    return {"Properties": {"LogGroupName": f"/aws/lambda/{function_name(stage.name, fn.name)}"}}


def _api(stage: Stage) -> dict[str, Any]:
    return {
        # access logging needs API Gateway's account-wide logging role in place first
        "DependsOn": [monitoring.APIGW_ACCOUNT_ID],
        "Properties": {
            "Name": f"{APP}-{stage.name}",
            "AccessLogSetting": monitoring.access_log_setting(stage.name),
            "MethodSettings": [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": stage.rate_limit,
                    "ThrottlingBurstLimit": stage.burst_limit,
                }
            ],
            "GatewayResponses": {
                # API Gateway's answer to a path no route matches is a 403 "Missing
                # Authentication Token": make it the JSON 404 the app gives elsewhere
                "MISSING_AUTHENTICATION_TOKEN": {
                    "StatusCode": 404,
                    "ResponseParameters": {"Headers": {"Access-Control-Allow-Origin": "'*'"}},
                    "ResponseTemplates": {
                        "application/json": json.dumps(
                            {"code": "NotFound", "description": "No such path."}
                        )
                    },
                },
                "THROTTLED": {
                    "StatusCode": 429,
                    "ResponseParameters": {"Headers": {"Access-Control-Allow-Origin": "'*'"}},
                    "ResponseTemplates": {
                        "application/json": json.dumps(
                            {"code": "TooManyRequests", "description": "Slow down and retry."}
                        )
                    },
                },
            },
        },
    }


# The routes whose work grows with their parameters (search, places, matches, the welcome
# feed, map data, the live barometer, the sitemaps) and the self-registration form: limited
# per client address, like `mikrokort serve` limits them (chalicelib/web/ratelimit.py).
_EXPENSIVE = (
    "/search",
    "/places",
    "/businesses/",
    "/municipalities/",
    "/barometer/",
    "/sitemap",
)
# as API Gateway's own domain sees them (/api is Chalice's stage) and behind a custom domain
EXPENSIVE_PATH_PREFIXES = tuple(p for path in _EXPENSIVE for p in (path, "/api" + path))
EXPENSIVE_PATH_SUFFIXES = ("/networks/register",)  # POST only
WEB_ACL_ID = "ApiWebAcl"
WEB_ACL_ASSOCIATION_ID = "ApiWebAclAssociation"


def _web_acl(stage: Stage) -> dict[str, Any]:
    """API Gateway throttles a whole stage; a per-client limit needs AWS WAF's rate rule."""
    matches = [
        {
            "ByteMatchStatement": {
                "FieldToMatch": {"UriPath": {}},
                "PositionalConstraint": "STARTS_WITH",
                "SearchString": prefix,
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
            }
        }
        for prefix in EXPENSIVE_PATH_PREFIXES
    ] + [
        {  # the form's GET is a page; only its POST writes
            "AndStatement": {
                "Statements": [
                    {
                        "ByteMatchStatement": {
                            "FieldToMatch": {"UriPath": {}},
                            "PositionalConstraint": "ENDS_WITH",
                            "SearchString": suffix,
                            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                        }
                    },
                    {
                        "ByteMatchStatement": {
                            "FieldToMatch": {"Method": {}},
                            "PositionalConstraint": "EXACTLY",
                            "SearchString": "POST",
                            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                        }
                    },
                ]
            }
        }
        for suffix in EXPENSIVE_PATH_SUFFIXES
    ]
    body = json.dumps({"code": "TooManyRequests", "description": "Slow down and retry later."})
    return {
        "Type": "AWS::WAFv2::WebACL",
        "Properties": {
            "Name": f"{APP}-{stage.name}",
            "Scope": "REGIONAL",
            "DefaultAction": {"Allow": {}},
            "CustomResponseBodies": {
                "TooManyRequests": {"ContentType": "APPLICATION_JSON", "Content": body}
            },
            "Rules": [
                {
                    "Name": "expensive-routes-per-client",
                    "Priority": 0,
                    "Statement": {
                        "RateBasedStatement": {
                            "Limit": stage.expensive_per_client,
                            "AggregateKeyType": "IP",
                            "ScopeDownStatement": {"OrStatement": {"Statements": matches}},
                        }
                    },
                    "Action": {
                        "Block": {
                            "CustomResponse": {
                                "ResponseCode": 429,
                                "CustomResponseBodyKey": "TooManyRequests",
                                "ResponseHeaders": [{"Name": "Retry-After", "Value": "300"}],
                            }
                        }
                    },
                    "VisibilityConfig": {
                        "SampledRequestsEnabled": True,
                        "CloudWatchMetricsEnabled": True,
                        "MetricName": f"{APP}-{stage.name}-expensive",
                    },
                }
            ],
            "VisibilityConfig": {
                "SampledRequestsEnabled": True,
                "CloudWatchMetricsEnabled": True,
                "MetricName": f"{APP}-{stage.name}",
            },
            "Tags": [{"Key": "app", "Value": APP}, {"Key": "stage", "Value": stage.name}],
        },
    }


def _web_acl_association() -> dict[str, Any]:
    return {
        "Type": "AWS::WAFv2::WebACLAssociation",
        "DependsOn": "RestAPIapiStage",  # the stage SAM makes for Chalice's `api` stage
        "Properties": {
            "ResourceArn": _sub(
                "arn:aws:apigateway:${AWS::Region}::/restapis/${RestAPI}/stages/api"
            ),
            "WebACLArn": {"Fn::GetAtt": [WEB_ACL_ID, "Arn"]},
        },
    }


def resources(stage_name: str) -> dict[str, Any]:
    """The template to merge into Chalice's for this stage."""
    stage = STAGES[stage_name]
    res: dict[str, Any] = {
        TABLE_ID: _table(stage),
        BUCKET_ID: _bucket(stage),
        BUCKET_POLICY_ID: _bucket_policy(),
        LOG_BUCKET_ID: _log_bucket(stage),
        LOG_BUCKET_POLICY_ID: _log_bucket_policy(),
        **_secrets(stage),
        "RestAPI": _api(stage),
        WEB_ACL_ID: _web_acl(stage),
        WEB_ACL_ASSOCIATION_ID: _web_acl_association(),
    }
    for fn in FUNCTIONS:
        res[fn.role_id] = _role(stage, fn)
        res[fn.logical_id] = _function(stage, fn)
        res[fn.log_group_id] = _log_group(stage, fn)
    names = {fn.name: function_name(stage.name, fn.name) for fn in FUNCTIONS}
    res.update(monitoring.resources(stage.name, names, stage.log_retention_days))
    for logical_id in res:
        res[logical_id].update(metadata(logical_id))
    return {
        "Description": f"Mikrokort ({stage.name}): OGC API of Danish micro-businesses",
        "Conditions": monitoring.CONDITIONS,
        "Parameters": {
            **monitoring.PARAMETERS,
            "GeocoderUrl": {
                "Type": "String",
                "Default": "",
                "Description": "Gsearch v2.0 base URL; empty: postcode points only",
            },
            "GeocoderToken": {
                "Type": "String",
                "Default": "",
                "NoEcho": True,
                "Description": "Token of the geocoder (Dataforsyningen)",
            },
            "BaseMapWms": {
                "Type": "String",
                "Default": "",
                "Description": "WMS of the Danish base map (Dataforsyningen, e.g. "
                "https://api.dataforsyningen.dk/topo_skaermkort_daempet_DAF); empty: "
                "the tile URL setting",
            },
            "BaseMapToken": {
                "Type": "String",
                "Default": "",
                "NoEcho": True,
                "Description": "Token of the base map WMS (Dataforsyningen), kept on the server",
            },
            "PublicUrl": {
                "Type": "String",
                "Default": "",
                "Description": "Base URL of links when the API sits behind a domain; empty: "
                "taken from the request",
            },
        },
        "Resources": res,
        "Outputs": {
            "TableName": {"Value": {"Ref": TABLE_ID}},
            "OpenDataBucket": {"Value": {"Ref": BUCKET_ID}},
            "SnapshotsBaseUrl": {
                "Value": _sub(f"https://${{{BUCKET_ID}.RegionalDomainName}}/{SNAPSHOT_PREFIX}/")
            },
            "CvrSecretArn": {"Value": {"Ref": CVR_SECRET_ID}},
            "AlarmTopicArn": {"Value": {"Ref": monitoring.TOPIC_ID}},
            "JobsDeadLetterQueueUrl": {"Value": {"Ref": monitoring.DLQ_ID}},
            "AccessLogBucket": {"Value": {"Ref": LOG_BUCKET_ID}},
        },
    }
