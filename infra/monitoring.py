"""Monitoring of a stage: the alarms, where they notify, and the dead-letter queue of the jobs.

A failed night must never be silent. The scheduled functions are invoked asynchronously by
EventBridge: Lambda retries a failed invocation twice, then hands the event to the jobs'
dead-letter queue. The alarms watch the API (5xx answers, throttling by API Gateway and by
Lambda), the refresh (errors, and no successful run in 25 hours: missing data counts as
breaching, so a schedule that stopped firing alarms too), the snapshot's errors and the
queue's depth. Each alarm notifies one SNS topic; the stack parameter `AlarmEmail` subscribes
an address to it (AWS mails a confirmation link first).

docs/OPERATIONS.md ("Overvågning / Monitoring") says what each alarm means and what to do.
"""

from __future__ import annotations

from typing import Any

APP = "mikrokort"
TOPIC_ID = "AlarmTopic"
SUBSCRIPTION_ID = "AlarmEmailSubscription"
DLQ_ID = "JobsDeadLetterQueue"
ACCESS_LOG_ID = "ApiAccessLogGroup"
THROTTLED_FILTER_ID = "ApiThrottledMetricFilter"
APIGW_ROLE_ID = "ApiGatewayLoggingRole"
APIGW_ACCOUNT_ID = "ApiGatewayAccount"
HAS_EMAIL = "HasAlarmEmail"
METRIC_NAMESPACE = "Mikrokort"
API_STAGE = "api"  # Chalice's `api_gateway_stage`

# the refresh is scheduled hourly from 00:15 to 05:15 UTC: a good night has a successful
# invocation, so 25 hours without one means a night was missed
REFRESH_SILENCE_HOURS = 25

# Without any client address: the privacy rules keep personal data out of what is stored, and
# the route template (resourcePath) rather than the path keeps the log to what operations need.
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","time":"$context.requestTimeEpoch",'
    '"method":"$context.httpMethod","route":"$context.resourcePath",'
    '"status":"$context.status","bytes":"$context.responseLength",'
    '"latencyMs":"$context.responseLatency",'
    '"integrationMs":"$context.integrationLatency",'
    '"error":"$context.error.responseType","waf":"$context.wafResponseCode"}'
)


def topic_name(stage: str) -> str:
    return f"{APP}-{stage}-alarms"


def dlq_name(stage: str) -> str:
    return f"{APP}-{stage}-jobs-dlq"


def access_log_group_name(stage: str) -> str:
    return f"/aws/apigateway/{APP}-{stage}-access"


def alarm_name(stage: str, what: str) -> str:
    return f"{APP}-{stage}-{what}"


def dlq_arn() -> dict[str, Any]:
    return {"Fn::GetAtt": [DLQ_ID, "Arn"]}


def dead_letter_statement() -> dict[str, Any]:
    """What Lambda needs of a scheduled function's role to hand a failed event to the queue."""
    return {
        "Sid": "DeadLetters",
        "Effect": "Allow",
        "Action": ["sqs:SendMessage"],
        "Resource": [dlq_arn()],
    }


def dead_letter_config() -> dict[str, Any]:
    """The SAM property of a scheduled function (`DeadLetterQueue`)."""
    return {"Type": "SQS", "TargetArn": dlq_arn()}


def access_log_setting(stage: str) -> dict[str, Any]:
    """The SAM property of the API (`AccessLogSetting`)."""
    return {
        "DestinationArn": {"Fn::GetAtt": [ACCESS_LOG_ID, "Arn"]},
        "Format": ACCESS_LOG_FORMAT,
    }


def _tags(stage: str) -> list[dict[str, str]]:
    return [{"Key": "app", "Value": APP}, {"Key": "stage", "Value": stage}]


def _alarm(
    stage: str,
    what: str,
    description: str,
    *,
    comparison: str = "GreaterThanOrEqualToThreshold",
    threshold: float = 1,
    period: int = 300,
    evaluation_periods: int = 1,
    missing: str = "notBreaching",
    metric: dict[str, Any] | None = None,
    metrics: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "AlarmName": alarm_name(stage, what),
        "AlarmDescription": description,
        "ActionsEnabled": True,
        "AlarmActions": [{"Ref": TOPIC_ID}],
        "OKActions": [{"Ref": TOPIC_ID}],  # the all-clear too, so nobody has to look
        "ComparisonOperator": comparison,
        "Threshold": threshold,
        "EvaluationPeriods": evaluation_periods,
        "DatapointsToAlarm": evaluation_periods,
        "TreatMissingData": missing,
    }
    if metric is not None:
        props.update(metric, Period=period)
    if metrics is not None:
        props["Metrics"] = metrics
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": props}


def _lambda_metric(name: str, function_name: str, statistic: str = "Sum") -> dict[str, Any]:
    return {
        "Namespace": "AWS/Lambda",
        "MetricName": name,
        "Dimensions": [{"Name": "FunctionName", "Value": function_name}],
        "Statistic": statistic,
    }


def _metric_stat(id_: str, name: str, function_name: str, period: int) -> dict[str, Any]:
    return {
        "Id": id_,
        "ReturnData": False,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": name,
                "Dimensions": [{"Name": "FunctionName", "Value": function_name}],
            },
            "Period": period,
            "Stat": "Sum",
        },
    }


def throttled_metric_name(stage: str) -> str:
    return f"{stage}-api-throttled"


def alarms(stage: str, functions: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The alarms of a stage; `functions` maps Chalice's function names to their names on AWS."""
    api_dims = [
        {"Name": "ApiName", "Value": f"{APP}-{stage}"},
        {"Name": "Stage", "Value": API_STAGE},
    ]
    api, refresh, snapshot = (
        functions["api_handler"],
        functions["cvr_refresh"],
        functions["yearly_snapshot"],
    )
    hour = 3600
    return {
        "ApiServerErrorsAlarm": _alarm(
            stage,
            "api-5xx",
            "API: 5 or more 5xx answers in 5 minutes (a bug, the table or Lambda failing). "
            "See the API function's log group.",
            threshold=5,
            metric={
                "Namespace": "AWS/ApiGateway",
                "MetricName": "5XXError",
                "Dimensions": api_dims,
                "Statistic": "Sum",
            },
        ),
        "ApiThrottledAlarm": _alarm(
            stage,
            "api-throttled",
            "API Gateway throttled 10 or more requests in 5 minutes: the stage's rate limit "
            "(the cost ceiling) is reached. Raise it in infra/resources.py if the load is real.",
            threshold=10,
            metric={
                "Namespace": METRIC_NAMESPACE,
                "MetricName": throttled_metric_name(stage),
                "Statistic": "Sum",
            },
        ),
        "ApiFunctionThrottlesAlarm": _alarm(
            stage,
            "api-function-throttles",
            "Lambda throttled the API function: its reserved concurrency (the cost ceiling) "
            "is used up; callers got 5xx answers.",
            metric=_lambda_metric("Throttles", api),
        ),
        "RefreshErrorsAlarm": _alarm(
            stage,
            "refresh-errors",
            "The nightly CVR refresh failed (register, credentials, geocoder or the table). "
            "`mikrokort runs` or the function's log says why; the next hourly run resumes.",
            period=hour,
            metric=_lambda_metric("Errors", refresh),
        ),
        "RefreshThrottlesAlarm": _alarm(
            stage,
            "refresh-throttles",
            "Lambda throttled the refresh function (its reserved concurrency of 1 is taken, or "
            "the account's concurrency is exhausted).",
            period=hour,
            metric=_lambda_metric("Throttles", refresh),
        ),
        "RefreshMissingAlarm": _alarm(
            stage,
            "refresh-missing",
            f"No successful CVR refresh invocation in {REFRESH_SILENCE_HOURS} hours: the "
            "schedule stopped, or every run failed. No data counts as breaching.",
            comparison="LessThanThreshold",
            threshold=1,
            evaluation_periods=REFRESH_SILENCE_HOURS,
            missing="breaching",
            metrics=[
                _metric_stat("invocations", "Invocations", refresh, hour),
                _metric_stat("errors", "Errors", refresh, hour),
                {
                    "Id": "succeeded",
                    "Label": "successful invocations",
                    "Expression": "invocations - errors",
                    "ReturnData": True,
                },
            ],
        ),
        "SnapshotErrorsAlarm": _alarm(
            stage,
            "snapshot-errors",
            "The yearly open-data snapshot failed. Run `mikrokort snapshot --year YYYY` or "
            "invoke the function again: the files are create-only, a rerun is safe.",
            period=hour,
            metric=_lambda_metric("Errors", snapshot),
        ),
        "JobsDeadLettersAlarm": _alarm(
            stage,
            "jobs-dead-letters",
            "A scheduled job's event failed three times and lies in the dead-letter queue "
            f"{dlq_name(stage)}: read it, fix the cause, then purge the queue.",
            metric={
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [
                    {"Name": "QueueName", "Value": {"Fn::GetAtt": [DLQ_ID, "QueueName"]}}
                ],
                "Statistic": "Maximum",
            },
        ),
    }


def resources(stage: str, functions: dict[str, str], log_retention_days: int) -> dict[str, Any]:
    """The topic, its e-mail subscription, the dead-letter queue, the API's access log (with
    API Gateway's account-wide logging role) and the alarms."""
    return {
        TOPIC_ID: {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": topic_name(stage),
                "DisplayName": f"Mikrokort {stage}",
                "Tags": _tags(stage),
            },
        },
        SUBSCRIPTION_ID: {
            "Type": "AWS::SNS::Subscription",
            "Condition": HAS_EMAIL,
            "Properties": {
                "TopicArn": {"Ref": TOPIC_ID},
                "Protocol": "email",
                "Endpoint": {"Ref": "AlarmEmail"},
            },
        },
        DLQ_ID: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": dlq_name(stage),
                "MessageRetentionPeriod": 14 * 24 * 3600,  # the longest SQS keeps a message
                "SqsManagedSseEnabled": True,
                "Tags": _tags(stage),
            },
        },
        ACCESS_LOG_ID: {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": access_log_group_name(stage),
                "RetentionInDays": log_retention_days,
            },
        },
        THROTTLED_FILTER_ID: {
            # API Gateway has no metric of its own for throttled requests (they count among
            # the 4XXError answers): count the access log's THROTTLED lines instead
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {
                "LogGroupName": {"Ref": ACCESS_LOG_ID},
                "FilterPattern": '{ $.error = "THROTTLED" }',
                "MetricTransformations": [
                    {
                        "MetricNamespace": METRIC_NAMESPACE,
                        "MetricName": throttled_metric_name(stage),
                        "MetricValue": "1",
                    }
                ],
            },
        },
        APIGW_ROLE_ID: {
            # API Gateway writes every API's logs of a region through one account-wide role
            # (AWS::ApiGateway::Account): AWS's own policy for exactly that, as its guide says
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": f"{APP}-{stage}-apigateway-logs",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "apigateway.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "ManagedPolicyArns": [
                    {
                        "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                        "AmazonAPIGatewayPushToCloudWatchLogs"
                    }
                ],
            },
        },
        APIGW_ACCOUNT_ID: {
            "Type": "AWS::ApiGateway::Account",
            "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": [APIGW_ROLE_ID, "Arn"]}},
        },
        **alarms(stage, functions),
    }


PARAMETERS = {
    "AlarmEmail": {
        "Type": "String",
        "Default": "",
        "Description": "E-mail address the alarms notify (AWS mails a confirmation link "
        "first); empty: subscribe to the topic yourself",
    }
}
CONDITIONS = {HAS_EMAIL: {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}}
