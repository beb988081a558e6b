"""The alarms of both stages' templates: each one there, watching a metric that the template's
own resources emit (the API by its name and stage, the functions by their names, the queue),
notifying the topic that the AlarmEmail parameter subscribes; the refresh's silence alarm
rings after a missed night and never on an ordinary day of the template's schedule.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

STAGES = ("dev", "prod")
FUNCTIONS = {"api_handler": "APIHandler", "cvr_refresh": "CvrRefresh"}
FUNCTIONS["yearly_snapshot"] = "YearlySnapshot"


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    from infra.synth import synth

    out = tmp_path_factory.mktemp("monitoring")
    paths = {s: synth(s, out / s, package=out / "no-package.zip") for s in STAGES}
    return {s: json.loads(Path(p).read_text()) for s, p in paths.items()}


def _of_type(t: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in t["Resources"].items() if v["Type"] == kind}


def _alarms(t: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in _of_type(t, "AWS::CloudWatch::Alarm").items()}


def _dims(metric: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}


def _function_name(t: dict[str, Any], function: str) -> str:
    return t["Resources"][FUNCTIONS[function]]["Properties"]["FunctionName"]


@pytest.mark.parametrize("stage", STAGES)
def test_every_alarm_notifies_the_topic_the_email_parameter_subscribes(
    templates: dict, stage: str
) -> None:
    t = templates[stage]
    (topic_id,) = _of_type(t, "AWS::SNS::Topic")
    assert t["Resources"][topic_id]["Properties"]["TopicName"] == f"mikrokort-{stage}-alarms"
    (sub,) = _of_type(t, "AWS::SNS::Subscription").values()
    assert sub["Properties"] == {
        "TopicArn": {"Ref": topic_id},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    # no address given: no subscription (and no failed deployment)
    assert t["Conditions"][sub["Condition"]] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    assert t["Parameters"]["AlarmEmail"]["Default"] == ""
    assert t["Outputs"]["AlarmTopicArn"] == {"Value": {"Ref": topic_id}}
    alarms = _alarms(t)
    assert len(alarms) == 8
    for alarm_id, a in alarms.items():
        assert a["AlarmActions"] == a["OKActions"] == [{"Ref": topic_id}], alarm_id
        assert a["ActionsEnabled"] is True
        assert a["AlarmName"].startswith(f"mikrokort-{stage}-")
        assert len(a["AlarmDescription"]) > 40  # says what broke and where to look


@pytest.mark.parametrize("stage", STAGES)
def test_api_alarms_watch_this_api_and_its_function(templates: dict, stage: str) -> None:
    t = templates[stage]
    alarms = _alarms(t)
    api = t["Resources"]["RestAPI"]["Properties"]
    five = alarms["ApiServerErrorsAlarm"]
    assert (five["Namespace"], five["MetricName"], five["Statistic"]) == (
        "AWS/ApiGateway",
        "5XXError",
        "Sum",
    )
    assert _dims(five) == {"ApiName": api["Name"], "Stage": api["StageName"]}
    assert five["TreatMissingData"] == "notBreaching"  # a quiet night is no failure

    throttles = alarms["ApiFunctionThrottlesAlarm"]
    assert (throttles["Namespace"], throttles["MetricName"]) == ("AWS/Lambda", "Throttles")
    assert _dims(throttles) == {"FunctionName": _function_name(t, "api_handler")}


@pytest.mark.parametrize("stage", STAGES)
def test_api_gateway_throttling_is_counted_from_the_access_log(templates: dict, stage: str) -> None:
    """API Gateway has no metric of throttled requests: a filter on the access log counts
    them, and the alarm watches that count. The log's lines are JSON with the field the
    filter reads, and carry no client address."""
    t = templates[stage]
    api = t["Resources"]["RestAPI"]
    setting = api["Properties"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    # API Gateway's logging role is set for the account before the API's stage is made
    assert "ApiGatewayAccount" in api["DependsOn"]
    account = t["Resources"]["ApiGatewayAccount"]["Properties"]
    assert account == {"CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayLoggingRole", "Arn"]}}
    role = t["Resources"]["ApiGatewayLoggingRole"]["Properties"]
    assert [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]] == [
        {"Service": "apigateway.amazonaws.com"}
    ]
    (managed,) = role["ManagedPolicyArns"]
    assert managed["Fn::Sub"].endswith("policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")
    assert "Policies" not in role

    line = re.sub(r"\$context\.[\w.]+", "x", setting["Format"])
    fields = json.loads(line)
    assert "error" in fields and "status" in fields and "route" in fields
    assert "sourceIp" not in setting["Format"] and "identity" not in setting["Format"]
    assert "$context.error.responseType" in setting["Format"].split('"error":')[1][:40]

    (flt,) = _of_type(t, "AWS::Logs::MetricFilter").values()
    p = flt["Properties"]
    assert p["LogGroupName"] == {"Ref": "ApiAccessLogGroup"}
    assert p["FilterPattern"] == '{ $.error = "THROTTLED" }'
    (transform,) = p["MetricTransformations"]
    alarm = _alarms(t)["ApiThrottledAlarm"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        transform["MetricNamespace"],
        transform["MetricName"],
    )
    assert stage in alarm["MetricName"]  # dev's throttling never rings prod's alarm


@pytest.mark.parametrize("stage", STAGES)
def test_job_alarms_watch_the_jobs_and_their_queue(templates: dict, stage: str) -> None:
    t = templates[stage]
    alarms = _alarms(t)
    for alarm_id, function, metric in (
        ("RefreshErrorsAlarm", "cvr_refresh", "Errors"),
        ("RefreshThrottlesAlarm", "cvr_refresh", "Throttles"),
        ("SnapshotErrorsAlarm", "yearly_snapshot", "Errors"),
    ):
        a = alarms[alarm_id]
        assert (a["Namespace"], a["MetricName"], a["Statistic"]) == ("AWS/Lambda", metric, "Sum")
        assert _dims(a) == {"FunctionName": _function_name(t, function)}, alarm_id
        assert a["Threshold"] == 1 and a["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"

    dlq = alarms["JobsDeadLettersAlarm"]
    assert (dlq["Namespace"], dlq["MetricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    (queue_id,) = _of_type(t, "AWS::SQS::Queue")
    assert _dims(dlq) == {"QueueName": {"Fn::GetAtt": [queue_id, "QueueName"]}}
    assert dlq["Threshold"] == 1


def _silence_alarm(t: dict[str, Any]) -> dict[str, Any]:
    a = _alarms(t)["RefreshMissingAlarm"]
    by_id = {m["Id"]: m for m in a["Metrics"]}
    (result,) = [m for m in a["Metrics"] if m.get("ReturnData")]
    return {"alarm": a, "by_id": by_id, "result": result}


@pytest.mark.parametrize("stage", STAGES)
def test_silence_alarm_counts_successful_refreshes_and_treats_no_data_as_breaching(
    templates: dict, stage: str
) -> None:
    t = templates[stage]
    s = _silence_alarm(t)
    a, by_id = s["alarm"], s["by_id"]
    assert a["TreatMissingData"] == "breaching"
    assert a["ComparisonOperator"] == "LessThanThreshold" and a["Threshold"] == 1
    assert a["DatapointsToAlarm"] == a["EvaluationPeriods"]
    expression = s["result"]["Expression"]
    operands = re.findall(r"[a-z]\w*", expression)
    assert expression.replace(" ", "") == "invocations-errors" and set(operands) <= set(by_id)
    for id_, metric in (("invocations", "Invocations"), ("errors", "Errors")):
        stat = by_id[id_]["MetricStat"]
        assert stat["Metric"]["MetricName"] == metric and stat["Stat"] == "Sum"
        assert _dims(stat["Metric"]) == {"FunctionName": _function_name(t, "cvr_refresh")}
    periods = {by_id[i]["MetricStat"]["Period"] for i in ("invocations", "errors")}
    assert periods == {3600}


def _refresh_hours(t: dict[str, Any]) -> list[int]:
    """The UTC hours of the refresh's schedule, from its cron expression."""
    (event,) = t["Resources"]["CvrRefresh"]["Properties"]["Events"].values()
    hours = event["Properties"]["Schedule"].removeprefix("cron(").split()[1]
    first, _, last = hours.partition("-")
    return list(range(int(first), int(last or first) + 1))


def _rings(alarm: dict[str, Any], successes: set[datetime], end: datetime) -> bool:
    """CloudWatch's M-of-N rule, as documented, for hourly data ending at `end`: a period
    without data breaches (TreatMissingData: breaching), one with a success does not."""
    n, m = alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]
    hours = [end - timedelta(hours=i) for i in range(n)]
    breaching = sum(h not in successes for h in hours)
    return breaching >= m


@pytest.mark.parametrize("stage", STAGES)
def test_silence_alarm_rings_after_a_missed_night_and_not_on_an_ordinary_day(
    templates: dict, stage: str
) -> None:
    t = templates[stage]
    alarm = _silence_alarm(t)["alarm"]
    hours = _refresh_hours(t)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    days = 4

    def nights(skip: set[int], only_first_hour: bool = False) -> set[datetime]:
        # a night's successful invocations (a finished refresh answers "skipped" afterwards,
        # which is a success too); `only_first_hour`: the night finished in its first run
        used = hours[:1] if only_first_hour else hours
        return {
            start + timedelta(days=d, hours=h) for d in range(days) if d not in skip for h in used
        }

    every_hour = [start + timedelta(hours=i) for i in range(24, days * 24)]
    # ordinary days: whether the night's refresh succeeded in each run or only in its first
    # (the sparsest good night), the alarm never rings at any hour
    for successes in (nights(set()), nights(set(), only_first_hour=True)):
        assert not any(_rings(alarm, successes, h) for h in every_hour)
    # night 2 missed (no invocation, or each one failed): it rings that day, after the
    # window passed since the last success of night 1, and stops with night 3's first success
    successes = nights({2}, only_first_hour=True)
    ringing = [h for h in every_hour if _rings(alarm, successes, h)]
    assert ringing, "a missed night must ring"
    last_good = start + timedelta(days=1, hours=hours[0])
    assert ringing[0] == last_good + timedelta(hours=alarm["EvaluationPeriods"])
    assert ringing[0].day == 3 - 1 + start.day  # on the day of the missed night
    assert ringing[-1] < start + timedelta(days=3, hours=hours[0])
