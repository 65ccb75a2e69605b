"""The monitoring of a function as CloudFormation resources, for the SAM and serverless exports.

The same definitions ``deploy`` converges: the log group with its retention, the alarm topic,
the REPORT-line memory filter and the alarms (``AWS::CloudWatch::Alarm`` takes the
``PutMetricAlarm`` parameters as its properties). The Telegram notifier is not exported: it
needs its own package and a token stored out of band (``sklambda alerts telegram``).
"""

from __future__ import annotations

from typing import Any

from sklambda.monitor.alarms import alarm_request, owned_tags, topic_name
from sklambda.monitor.loggroups import log_group_name, memory_filter
from sklambda.monitor.options import MonitorOptions

TOPIC = "ModelAlarmTopic"
LOG_GROUP = "ModelLogGroup"


def _logical(kind: str) -> str:
    return "Alarm" + "".join(part.capitalize() for part in kind.split("-"))


def resources(
    name: str,
    options: MonitorOptions,
    *,
    memory: int,
    timeout: int,
    log_group: bool = True,
    depends_on: str | None = None,
) -> dict[str, Any]:
    """``{logical id: resource}`` for ``name``'s monitoring.

    ``log_group``: declare the log group (SAM); the Serverless Framework declares its own
    (retention through ``provider.logRetentionInDays``), named in ``depends_on``.
    """
    found: dict[str, Any] = {}
    if log_group and options.log_retention_days is not None:
        found[LOG_GROUP] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": log_group_name(name),
                "RetentionInDays": options.log_retention_days,
            },
        }
    kinds = options.alarms or ()
    if not kinds:
        return found
    found[TOPIC] = {
        "Type": "AWS::SNS::Topic",
        "Properties": {
            "TopicName": topic_name(name),
            "Tags": [{"Key": k, "Value": v} for k, v in owned_tags(name).items()],
        },
    }
    if "memory" in kinds:
        spec = memory_filter(name)
        metric = spec["metricTransformations"][0]
        memory_filter_resource: dict[str, Any] = {
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {
                "FilterName": spec["filterName"],
                "LogGroupName": spec["logGroupName"],
                "FilterPattern": spec["filterPattern"],
                "MetricTransformations": [
                    {
                        "MetricName": metric["metricName"],
                        "MetricNamespace": metric["metricNamespace"],
                        "MetricValue": metric["metricValue"],
                        "Unit": metric["unit"],
                    }
                ],
            },
        }
        wait_for = LOG_GROUP if LOG_GROUP in found else depends_on
        if wait_for:
            memory_filter_resource["DependsOn"] = wait_for
        found["ModelMemoryFilter"] = memory_filter_resource
    for kind in kinds:
        properties = alarm_request(
            kind, name, options, memory=memory, timeout=timeout, topic_arn={"Ref": TOPIC}
        )
        found[_logical(kind)] = {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}
    return found
