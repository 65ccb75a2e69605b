"""The monitoring hooks of the deploy stage: plan steps for ``deploy``, removal for ``destroy``,
and what ``status`` shows.

``sklambda.aws`` calls these (imported where they are used, so ``aws`` has no module-level
dependency on ``monitor``); everything they create is named from the function's name and tagged
``sklambda:managed`` + ``sklambda:function``, and only that is ever changed or removed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sklambda.aws.client import AwsClient
from sklambda.aws.deployer import Step
from sklambda.aws.errors import PermissionDeniedError
from sklambda.monitor import alarms, alerts, loggroups
from sklambda.monitor.logs import LogEvent, read_events
from sklambda.monitor.options import ALARM_KINDS, MonitorOptions


def monitoring_steps(
    client: AwsClient,
    name: str,
    monitoring: MonitorOptions,
    *,
    memory: int,
    timeout: int,
    values: dict[str, Any],
    model_version: str = "",
) -> list[Step]:
    """The deploy steps for log retention, alarms and the notifier's model version (reads
    only; the steps change things).

    ``monitoring.alarms`` of None keeps the alarms a previous deploy made; their thresholds
    follow the new memory and timeout. An identity that may not read alarms deploys as before
    when it asks for none.
    """
    try:
        present = alarms.existing_alarms(client, name)
    except PermissionDeniedError:
        if monitoring.alarms:
            raise
        present = {}  # cannot see them, was not asked for them: leave alarms alone
    kinds = (
        monitoring.alarms
        if monitoring.alarms is not None
        else tuple(k for k in ALARM_KINDS if k in present)
    )
    group = loggroups.log_group_name(name)
    steps: list[Step] = []
    if monitoring.log_retention_days is not None or "memory" in kinds:

        def log_group() -> str:
            try:
                said = loggroups.ensure_log_group(
                    client, group, monitoring.log_retention_days, name
                )
            except PermissionDeniedError as exc:  # the function is deployed: say, go on
                return f"log retention not set: {exc}"
            return "; ".join(said)

        steps.append(Step(f"log group {group}", log_group))
    if model_version and client.get_function(alerts.notifier_name(name)) is not None:
        steps.append(Step("notifier", lambda: alerts.refresh_notifier(client, name, model_version)))
    if not kinds and not present:
        return steps

    def watch() -> str:
        said = []
        if kinds:
            values["alarm_topic_arn"], created = alarms.ensure_topic(client, name)
            if created:
                said.append(f"created SNS topic {alarms.topic_name(name)}")
        said += loggroups.converge_memory_filter(client, name, "memory" in kinds)
        said += alarms.converge_alarms(
            client,
            name,
            kinds,
            monitoring,
            memory=memory,
            timeout=timeout,
            topic_arn=values.get("alarm_topic_arn", ""),
        )
        return "; ".join(said) or f"alarms unchanged ({', '.join(kinds) or 'none'})"

    steps.append(Step(f"alarms {', '.join(kinds) or '(removing)'}", watch))
    return steps


def remove_monitoring(client: AwsClient, name: str) -> list[str]:
    """What ``destroy`` removes for monitoring: alerts, alarms, topic, filters (logs stay)."""
    said = alerts.remove_alerts(client, name)
    said += alarms.remove_alarms(client, name)
    if loggroups.find_log_group(client, loggroups.log_group_name(name)) is not None:
        said += loggroups.converge_memory_filter(client, name, wanted=False)
    return said


@dataclass(frozen=True)
class Health:
    """What ``status`` shows of a function's monitoring (``unreadable``: what the identity
    may not read, with why)."""

    alarms: list[dict[str, Any]]
    log_retention_days: int | None
    log_group: bool
    alerts: str | None  # the notifier's name when Telegram alerts are set up
    last_errors: list[LogEvent] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def health(client: AwsClient, name: str, *, errors_since_s: float = 86400, last: int = 5) -> Health:
    """Alarm states, retention, alerts and the last few failures (of the last day) of ``name``."""
    unreadable: list[str] = []

    def read(what: str, call: Callable[[], Any], empty: Any) -> Any:
        try:
            return call()
        except PermissionDeniedError as exc:  # status still shows the rest
            unreadable.append(f"{what}: {exc}")
            return empty

    group = read(
        "log group", lambda: loggroups.find_log_group(client, loggroups.log_group_name(name)), None
    )
    since = int((time.time() - errors_since_s) * 1000)
    last_errors = (
        read(
            "last errors",
            lambda: read_events(client, name, since_ms=since, errors=True, limit=last),
            [],
        )
        if group is not None
        else []
    )
    notifier = alerts.notifier_name(name)
    return Health(
        alarms=read("alarms", lambda: alarms.alarm_states(client, name), []),
        log_retention_days=(group or {}).get("retentionInDays"),
        log_group=group is not None,
        alerts=notifier if client.get_function(notifier) is not None else None,
        last_errors=last_errors,
        unreadable=unreadable,
    )
