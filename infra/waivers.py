"""The checkov checks this deployment does not follow, each with its reason, per resource.

They are written into the template as resource Metadata (`checkov: skip: [{id, comment}]`),
where checkov reads them and a reviewer sees them beside the resource. Every other check must
pass: tests/infra/test_checkov.py runs checkov over both stages' templates and fails on any
failed check, and on a waiver without a reason.
"""

from __future__ import annotations

from typing import Any

NO_VPC = "no VPC: the functions reach only AWS services, the CVR register and the geocoder"
LAMBDA_ENV_KEY = (
    "Lambda encrypts the environment at rest with its AWS managed key; a customer key would "
    "only keep it from those who may read the function's configuration, who administer it"
)
NO_XRAY = (
    "no X-Ray: the access log, Lambda's metrics and the alarms cover a service of this size; "
    "tracing is paid per trace"
)
LOGS_KEY = (
    "CloudWatch Logs encrypts at rest with its own key; a customer key costs USD 1 a month per "
    "key and a key policy for the service, and the logs carry no personal data"
)
SECRET_KEY = (
    "Secrets Manager's AWS managed key (aws/secretsmanager): no key to manage, no kms: grant "
    "for the functions; used by this account only"
)

_FUNCTION = [("CKV_AWS_117", NO_VPC), ("CKV_AWS_173", LAMBDA_ENV_KEY)]
_SECRET = [("CKV_AWS_149", SECRET_KEY)]
_LOG_GROUP = [("CKV_AWS_158", LOGS_KEY)]

WAIVERS: dict[str, list[tuple[str, str]]] = {
    "APIHandler": [
        *_FUNCTION,
        (
            "CKV_AWS_116",
            "API Gateway invokes it synchronously and answers the error itself; a dead-letter "
            "queue only ever receives asynchronous events",
        ),
    ],
    "CvrRefresh": _FUNCTION,
    "YearlySnapshot": _FUNCTION,
    "ApiHandlerLogGroup": _LOG_GROUP,
    "CvrRefreshLogGroup": _LOG_GROUP,
    "YearlySnapshotLogGroup": _LOG_GROUP,
    "ApiAccessLogGroup": _LOG_GROUP,
    "RestAPI": [
        ("CKV_AWS_73", NO_XRAY),
        (
            "CKV_AWS_120",
            "no API cache cluster (from about USD 15 a month): the answers carry ETag and "
            "Cache-Control, so a CDN or the client caches them",
        ),
    ],
    "ApiWebAcl": [
        (
            "CKV_AWS_192",
            "no Java, so no Log4j: the functions are Python; the managed rule group would add "
            "a monthly rule fee for nothing",
        )
    ],
    "CvrSecret": _SECRET,
    "CursorSecret": _SECRET,
    "ClientSalt": _SECRET,
    "Table": [
        (
            "CKV_AWS_119",
            "KMS with the AWS managed key (aws/dynamodb): auditable in CloudTrail, no key to "
            "manage, no kms: grant for the functions",
        )
    ],
    "OpenDataBucket": [
        (
            "CKV_AWS_54",
            "the open-data bucket: its policy grants public GetObject under snapshots/ only, "
            "so public policies cannot be blocked",
        ),
        (
            "CKV_AWS_56",
            "the open-data bucket: the public read of snapshots/ is its purpose",
        ),
    ],
    "AccessLogBucket": [
        ("CKV_AWS_18", "the access log bucket itself: logging it would log its own deliveries"),
    ],
    "JobsDeadLetterQueue": [
        (
            "CKV_AWS_27",
            "encrypted at rest with SQS-owned keys (SqsManagedSseEnabled), which checkov does "
            "not count; a KMS key would need a kms: grant for the functions",
        )
    ],
    "AlarmTopic": [
        (
            "CKV_AWS_26",
            "CloudWatch alarms cannot publish to a topic under the AWS managed key (aws/sns); "
            "the messages are alarm states, no data",
        )
    ],
}


def metadata(logical_id: str) -> dict[str, Any]:
    """The resource's Metadata entry with its waivers, or nothing."""
    skips = WAIVERS.get(logical_id)
    if not skips:
        return {}
    return {"Metadata": {"checkov": {"skip": [{"id": i, "comment": c} for i, c in skips]}}}
