"""A function's log group: its retention, the REPORT-line memory filter, the alerts subscription.

Lambda creates ``/aws/lambda/NAME`` on the first log line, with no retention: logs kept (and
paid for) forever. ``deploy`` creates it first when it is missing, so the retention holds from
the first line. ``destroy`` leaves the group and its retention: logs are data, and they expire.
"""

from __future__ import annotations

from typing import Any

from sklambda.aws.client import AwsClient
from sklambda.monitor.alarms import arn, memory_metric, owned_tags
from sklambda.runtime.metrics import NAMESPACE

MEMORY_FILTER = "sklambda-max-memory"
SUBSCRIPTION_FILTER = "sklambda-alerts"
# REPORT RequestId: <id>\tDuration: 2.04 ms\tBilled Duration: 3 ms\tMemory Size: 1024 MB\t
# Max Memory Used: 81 MB[\tInit Duration: …]: a space-delimited filter names the 18th word.
REPORT_PATTERN = (
    "[type=REPORT, request_id_label, request_id, duration_label, duration, duration_unit, "
    "billed_label, billed_label2, billed, billed_unit, memory_label, memory_label2, memory_size, "
    "memory_unit, max_label, max_label2, max_label3, max_memory_used, max_unit=MB, ...]"
)


def log_group_name(function: str) -> str:
    return f"/aws/lambda/{function}"


def log_group_arn(client: AwsClient, function: str) -> str:
    return arn(client, "logs", f"log-group:{log_group_name(function)}:*")


def find_log_group(client: AwsClient, group: str) -> dict[str, Any] | None:
    found = client.call("logs", "DescribeLogGroups", logGroupNamePrefix=group)
    return next((g for g in found.get("logGroups", []) if g["logGroupName"] == group), None)


def ensure_log_group(
    client: AwsClient, group: str, retention_days: int | None, owner: str
) -> list[str]:
    """Create ``group`` if missing (tagged for ``owner``) and set its retention; what was done."""
    said = []
    found = find_log_group(client, group)
    if found is None:
        client.call("logs", "CreateLogGroup", logGroupName=group, tags=owned_tags(owner))
        said.append(f"created log group {group}")
        found = {}
    if retention_days is not None and found.get("retentionInDays") != retention_days:
        client.call(
            "logs", "PutRetentionPolicy", logGroupName=group, retentionInDays=retention_days
        )
        said.append(f"log retention {retention_days} days")
    return said


def memory_filter(function: str) -> dict[str, Any]:
    """The ``PutMetricFilter`` parameters of the REPORT-line max-memory metric."""
    return {
        "logGroupName": log_group_name(function),
        "filterName": MEMORY_FILTER,
        "filterPattern": REPORT_PATTERN,
        "metricTransformations": [
            {
                "metricName": memory_metric(function),
                "metricNamespace": NAMESPACE,
                "metricValue": "$max_memory_used",
                "unit": "Megabytes",
            }
        ],
    }


def _filters(client: AwsClient, group: str, operation: str, key: str) -> list[dict[str, Any]]:
    found = client.maybe("logs", operation, logGroupName=group, filterNamePrefix="sklambda-")
    return list((found or {}).get(key, []))


def converge_memory_filter(client: AwsClient, function: str, wanted: bool) -> list[str]:
    """Have the memory filter on the function's log group, or not."""
    group = log_group_name(function)
    present = [
        f
        for f in _filters(client, group, "DescribeMetricFilters", "metricFilters")
        if f["filterName"] == MEMORY_FILTER
    ]
    spec = memory_filter(function)
    same = [f for f in present if _same_filter(f, spec)]
    if wanted and len(same) == len(present) == 1:
        return []
    for _ in present:  # replace rather than update: moto adds a copy where AWS replaces
        client.maybe("logs", "DeleteMetricFilter", logGroupName=group, filterName=MEMORY_FILTER)
    if not wanted:
        return [f"deleted metric filter {MEMORY_FILTER}"] if present else []
    client.call("logs", "PutMetricFilter", **spec)
    return [f"metric filter {MEMORY_FILTER} (max memory from REPORT lines)"]


def _same_filter(found: dict[str, Any], spec: dict[str, Any]) -> bool:
    wanted = spec["metricTransformations"][0]
    got = (found.get("metricTransformations") or [{}])[0]
    return found.get("filterPattern") == spec["filterPattern"] and all(
        got.get(key) == wanted[key] for key in ("metricName", "metricNamespace", "metricValue")
    )


def subscription(client: AwsClient, function: str) -> dict[str, Any] | None:
    """sklambda's alerts subscription filter on the function's log group, if any."""
    group = log_group_name(function)
    found = _filters(client, group, "DescribeSubscriptionFilters", "subscriptionFilters")
    return next((f for f in found if f["filterName"] == SUBSCRIPTION_FILTER), None)
