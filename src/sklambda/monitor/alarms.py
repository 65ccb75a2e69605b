"""The alarms on a deployed function, and the SNS topic they notify.

Each alarm is one ``PutMetricAlarm`` request, built here once and used twice: by ``deploy``
(through boto3) and by the SAM / serverless exports (``AWS::CloudWatch::Alarm`` takes the same
property names). The metrics come from three places:

- ``sklambda`` (the EMF line of every invocation, :mod:`sklambda.runtime.metrics`): Requests,
  Rows, Errors4xx, Errors5xx, OutOfRangeRows, by ``FunctionName``;
- ``AWS/Lambda`` (Lambda's own): Invocations, Errors, Throttles, Duration;
- ``MaxMemoryUsedMB.<function>`` in ``sklambda``, from REPORT lines by a metric filter
  (:mod:`.loggroups`).

Every alarm notifies the topic ``sklambda-NAME-alarms`` on ALARM and on OK. Missing data is
"not breaching": a function nobody calls is not failing. An alarm's description ends with a
digest of its definition, so a redeploy rewrites only the alarms whose definition changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sklambda.aws.client import AwsClient
from sklambda.aws.deployer import FUNCTION_TAG, MANAGED_TAG
from sklambda.aws.errors import NotManagedError
from sklambda.monitor.options import ALARM_KINDS, MonitorOptions
from sklambda.runtime.metrics import NAMESPACE

FIVE_MINUTES = 300


def arn(client: AwsClient, service: str, resource: str) -> str:
    """An ARN in the client's account and region (and its partition: aws, aws-cn, aws-us-gov)."""
    region = client.region
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    if region.startswith("us-gov-"):
        partition = "aws-us-gov"
    return f"arn:{partition}:{service}:{region}:{client.account_id}:{resource}"


def topic_arn(client: AwsClient, name: str) -> str:
    return arn(client, "sns", topic_name(name))


def alarm_name(name: str, kind: str) -> str:
    # "." never occurs in a function name, so no name + kind reads as another's.
    return f"sklambda-{name}.{kind}"


def topic_name(name: str) -> str:
    return f"sklambda-{name}-alarms"


def memory_metric(name: str) -> str:
    """The metric the REPORT-line filter writes (a filter cannot add a static dimension)."""
    return f"MaxMemoryUsedMB.{name}"


def owned_tags(name: str) -> dict[str, str]:
    return {MANAGED_TAG: "true", FUNCTION_TAG: name}


def _stat(qid: str, namespace: str, metric: str, name: str, stat: str = "Sum") -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": name}],
            },
            "Period": FIVE_MINUTES,
            "Stat": stat,
        },
        "ReturnData": False,
    }


def _expression(qid: str, expression: str, label: str) -> dict[str, Any]:
    return {"Id": qid, "Expression": expression, "Label": label, "ReturnData": True}


def _lambda_metric(name: str, metric: str, **stat: Any) -> dict[str, Any]:
    return {
        "Namespace": "AWS/Lambda",
        "MetricName": metric,
        "Dimensions": [{"Name": "FunctionName", "Value": name}],
        "Period": FIVE_MINUTES,
        **stat,
    }


# Each alarm kind: (what it watches, threshold, the metric part of the request), from the
# function's name, the options, its memory (MB) and its timeout (s).
Definition = tuple[str, float, dict[str, Any]]


def _errors(name: str, o: MonitorOptions, memory: int, timeout: int) -> Definition:
    rate = "IF(FILL(inv, 0) > 0, 100 * (FILL(e5, 0) + FILL(fe, 0)) / inv, 0)"
    return (
        f"5xx answers and Lambda errors (crashes, timeouts, out-of-memory) above "
        f"{o.error_rate_percent:g}% of invocations in 5 minutes",
        o.error_rate_percent,
        {
            "Metrics": [
                _stat("e5", NAMESPACE, "Errors5xx", name),
                _stat("fe", "AWS/Lambda", "Errors", name),
                _stat("inv", "AWS/Lambda", "Invocations", name),
                _expression("rate", rate, "5xx and errors, % of invocations"),
            ]
        },
    )


def _client_errors(name: str, o: MonitorOptions, memory: int, timeout: int) -> Definition:
    rate = f"IF(FILL(c4, 0) >= {o.client_error_min}, 100 * FILL(c4, 0) / req, 0)"
    return (
        f"a 4xx surge: at least {o.client_error_min} 4xx answers, over "
        f"{o.client_error_rate_percent:g}% of requests, in 5 minutes",
        o.client_error_rate_percent,
        {
            "Metrics": [
                _stat("c4", NAMESPACE, "Errors4xx", name),
                _stat("req", NAMESPACE, "Requests", name),
                _expression("rate", rate, "4xx, % of requests"),
            ]
        },
    )


def _latency(name: str, o: MonitorOptions, memory: int, timeout: int) -> Definition:
    return (
        f"p99 duration above {o.latency_p99_ms:g} ms in 2 of 3 five-minute periods",
        o.latency_p99_ms,
        {
            **_lambda_metric(name, "Duration", ExtendedStatistic="p99", Unit="Milliseconds"),
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 2,
        },
    )


def _throttles(name: str, o: MonitorOptions, memory: int, timeout: int) -> Definition:
    return (
        "throttled invocations (concurrency exhausted) in 5 minutes",
        0.0,
        _lambda_metric(name, "Throttles", Statistic="Sum"),
    )


def _drift(name: str, o: MonitorOptions, memory: int, timeout: int) -> Definition:
    rows = _stat("rows", NAMESPACE, "Rows", name)
    oor = _stat("oor", NAMESPACE, "OutOfRangeRows", name)
    for query in (rows, oor):
        query["MetricStat"]["Period"] = 3 * FIVE_MINUTES
    share = "IF(FILL(rows, 0) > 0, 100 * FILL(oor, 0) / rows, 0)"
    return (
        f"drift: over {o.drift_percent:g}% of rows with a feature outside its training range "
        "in 15 minutes",
        o.drift_percent,
        {"Metrics": [oor, rows, _expression("share", share, "rows out of range, %")]},
    )


def _timeout(name: str, o: MonitorOptions, memory: int, timeout: int) -> Definition:
    limit = round(o.timeout_share * timeout * 1000, 1)
    return (
        f"the longest invocation above {o.timeout_share:.0%} of the {timeout} s timeout "
        f"({limit:g} ms) in 5 minutes",
        limit,
        _lambda_metric(name, "Duration", Statistic="Maximum", Unit="Milliseconds"),
    )


def _memory(name: str, o: MonitorOptions, memory: int, timeout: int) -> Definition:
    limit = round(o.memory_share * memory, 1)
    return (
        f"max memory used above {o.memory_share:.0%} of {memory} MB ({limit:g} MB), from "
        "REPORT lines, in 5 minutes",
        limit,
        {
            "Namespace": NAMESPACE,
            "MetricName": memory_metric(name),
            "Period": FIVE_MINUTES,
            "Statistic": "Maximum",
        },
    )


DEFINITIONS = {
    "errors": _errors,
    "client-errors": _client_errors,
    "latency": _latency,
    "throttles": _throttles,
    "drift": _drift,
    "timeout": _timeout,
    "memory": _memory,
}


def alarm_request(
    kind: str,
    name: str,
    options: MonitorOptions,
    *,
    memory: int,
    timeout: int,
    topic_arn: Any,
) -> dict[str, Any]:
    """The ``PutMetricAlarm`` parameters (also ``AWS::CloudWatch::Alarm`` properties)."""
    what, threshold, metric = DEFINITIONS[kind](name, options, memory, timeout)
    request: dict[str, Any] = {
        "AlarmName": alarm_name(name, kind),
        "ActionsEnabled": True,
        "AlarmActions": [topic_arn],
        "OKActions": [topic_arn],
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": float(threshold),
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "TreatMissingData": "notBreaching",
        **metric,
    }
    digest = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode())
    request["AlarmDescription"] = f"sklambda {name}: {what} [{digest.hexdigest()[:10]}]"
    return request


# -- AWS ------------------------------------------------------------------------------------------


def existing_alarms(client: AwsClient, name: str) -> dict[str, dict[str, Any]]:
    """sklambda's alarms of function ``name`` by kind (only names sklambda gives)."""
    wanted = {alarm_name(name, kind): kind for kind in ALARM_KINDS}
    found = client.call("cloudwatch", "DescribeAlarms", AlarmNamePrefix=f"sklambda-{name}.")
    return {
        wanted[alarm["AlarmName"]]: alarm
        for alarm in found.get("MetricAlarms", [])
        if alarm["AlarmName"] in wanted
    }


def _check_owned(client: AwsClient, name: str, alarm: dict[str, Any]) -> None:
    tags = client.call("cloudwatch", "ListTagsForResource", ResourceARN=alarm["AlarmArn"])
    tag_map = {t["Key"]: t["Value"] for t in tags.get("Tags", [])}
    if tag_map.get(MANAGED_TAG) != "true" or tag_map.get(FUNCTION_TAG) != name:
        raise NotManagedError(
            f"an alarm named {alarm['AlarmName']} exists and was not made by sklambda for "
            f"{name}; delete or rename it, or deploy without that alarm"
        )


def ensure_topic(client: AwsClient, name: str) -> tuple[str, bool]:
    """The alarm topic's ARN, created (tagged) if missing; ``(arn, created)``."""
    found = topic_arn(client, name)
    if client.maybe("sns", "GetTopicAttributes", TopicArn=found) is not None:
        tags = client.call("sns", "ListTagsForResource", ResourceArn=found).get("Tags", [])
        tag_map = {t["Key"]: t["Value"] for t in tags}
        if tag_map.get(MANAGED_TAG) != "true" or tag_map.get(FUNCTION_TAG) != name:
            raise NotManagedError(
                f"an SNS topic named {topic_name(name)} exists and was not made by sklambda for "
                f"{name}; delete or rename it"
            )
        return found, False
    tags = [{"Key": k, "Value": v} for k, v in owned_tags(name).items()]
    made = client.call("sns", "CreateTopic", Name=topic_name(name), Tags=tags)
    return str(made["TopicArn"]), True


def converge_alarms(
    client: AwsClient,
    name: str,
    kinds: tuple[str, ...],
    options: MonitorOptions,
    *,
    memory: int,
    timeout: int,
    topic_arn: str,
) -> list[str]:
    """Make sklambda's alarms of ``name`` exactly ``kinds``; what was done."""
    present = existing_alarms(client, name)
    for alarm in present.values():
        _check_owned(client, name, alarm)
    said: list[str] = []
    created, updated = [], []
    for kind in kinds:
        request = alarm_request(
            kind, name, options, memory=memory, timeout=timeout, topic_arn=topic_arn
        )
        current = present.get(kind)
        if current is not None and _same(current, request):
            continue
        if current is None:
            tags = [{"Key": k, "Value": v} for k, v in owned_tags(name).items()]
            client.call("cloudwatch", "PutMetricAlarm", Tags=tags, **request)
            created.append(kind)
        else:
            client.call("cloudwatch", "PutMetricAlarm", **request)
            updated.append(kind)
    gone = [kind for kind in present if kind not in kinds]
    if gone:
        client.call("cloudwatch", "DeleteAlarms", AlarmNames=[alarm_name(name, k) for k in gone])
    for verb, which in (("created", created), ("updated", updated), ("deleted", gone)):
        if which:
            said.append(f"{verb} alarms {', '.join(which)}")
    return said


def _same(current: dict[str, Any], request: dict[str, Any]) -> bool:
    return (
        current.get("AlarmDescription") == request["AlarmDescription"]
        and current.get("AlarmActions") == request["AlarmActions"]
        and current.get("OKActions") == request["OKActions"]
    )


def remove_alarms(client: AwsClient, name: str) -> list[str]:
    """Delete sklambda's alarms of ``name`` and its alarm topic (only what sklambda tagged)."""
    said = []
    present = existing_alarms(client, name)
    for alarm in present.values():
        _check_owned(client, name, alarm)
    if present:
        client.call(
            "cloudwatch", "DeleteAlarms", AlarmNames=[a["AlarmName"] for a in present.values()]
        )
        said.append(f"deleted alarms {', '.join(present)}")
    found = topic_arn(client, name)
    if client.maybe("sns", "GetTopicAttributes", TopicArn=found) is not None:
        tags = client.call("sns", "ListTagsForResource", ResourceArn=found).get("Tags", [])
        tag_map = {t["Key"]: t["Value"] for t in tags}
        if tag_map.get(MANAGED_TAG) == "true" and tag_map.get(FUNCTION_TAG) == name:
            client.call("sns", "DeleteTopic", TopicArn=found)
            said.append(f"deleted SNS topic {topic_name(name)}")
    return said


def alarm_states(client: AwsClient, name: str) -> list[dict[str, Any]]:
    """``[{"kind", "name", "state", "reason", "since"}]`` of sklambda's alarms of ``name``."""
    present = existing_alarms(client, name)
    return [
        {
            "kind": kind,
            "name": alarm["AlarmName"],
            "state": alarm.get("StateValue", "INSUFFICIENT_DATA"),
            "reason": alarm.get("StateReason", ""),
            "since": str(alarm.get("StateUpdatedTimestamp", "")),
        }
        for kind, alarm in sorted(present.items(), key=lambda item: ALARM_KINDS.index(item[0]))
    ]
