"""What ``deploy`` sets up to watch a function: which alarms, their thresholds, log retention.

A plain value object (no AWS, no boto3), so :class:`sklambda.aws.DeployOptions` can hold one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sklambda.monitor.errors import MonitorError

# The alarms, in the order they are listed; all of them are the default set of `--alarms`.
ALARM_KINDS = ("errors", "client-errors", "latency", "throttles", "drift", "timeout", "memory")
DEFAULT_ALARMS = ALARM_KINDS
DEFAULT_RETENTION_DAYS = 30
# The values CloudWatch Logs accepts for retentionInDays (PutRetentionPolicy API reference).
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip


def parse_alarms(text: str) -> tuple[str, ...]:
    """``--alarms`` as given: ``default``/``all``, ``none``, or kinds separated by commas."""
    words = [w.strip() for w in text.split(",") if w.strip()]
    if words in (["default"], ["all"]):
        return DEFAULT_ALARMS
    if words == ["none"]:
        return ()
    unknown = [w for w in words if w not in ALARM_KINDS]
    if unknown or not words:
        raise MonitorError(
            f'unknown alarm "{unknown[0] if unknown else text}"; choose from '
            f"{', '.join(ALARM_KINDS)} (comma-separated), default or none"
        )
    return tuple(k for k in ALARM_KINDS if k in words)


@dataclass(frozen=True)
class MonitorOptions:
    """How a deployed function is watched.

    Parameters
    ----------
    alarms:
        The alarms to have (see ``ALARM_KINDS``; ``()`` removes sklambda's alarms); ``None``
        keeps the set a previous deploy made (none on a first deploy).
    log_retention_days:
        Retention of the function's log group, one of CloudWatch's values (default 30);
        ``None`` leaves it as it is (CloudWatch's default keeps logs forever).
    error_rate_percent:
        ``errors``: 5xx answers plus Lambda errors, in percent of invocations over 5 minutes.
    client_error_rate_percent, client_error_min:
        ``client-errors``: a 4xx surge is at least ``client_error_min`` 4xx answers that are
        over this percentage of requests in 5 minutes.
    latency_p99_ms:
        ``latency``: Lambda's p99 duration over 5 minutes, in 2 of 3 periods.
    drift_percent:
        ``drift``: rows with a feature outside its training range, percent of rows in 15 min.
    timeout_share, memory_share:
        ``timeout``/``memory``: the longest invocation as a share of the timeout, the most memory
        a REPORT line shows as a share of the memory size.
    """

    alarms: tuple[str, ...] | None = None
    log_retention_days: int | None = DEFAULT_RETENTION_DAYS
    error_rate_percent: float = 1.0
    client_error_rate_percent: float = 20.0
    client_error_min: int = 10
    latency_p99_ms: float = 1000.0
    drift_percent: float = 10.0
    timeout_share: float = 0.8
    memory_share: float = 0.9

    def __post_init__(self) -> None:
        if self.alarms is not None:
            unknown = [k for k in self.alarms if k not in ALARM_KINDS]
            if unknown:
                raise MonitorError(
                    f'unknown alarm "{unknown[0]}"; choose from {", ".join(ALARM_KINDS)}'
                )
        days = self.log_retention_days
        if days is not None and days not in RETENTION_DAYS:
            allowed = ", ".join(map(str, RETENTION_DAYS))
            raise MonitorError(
                f"log retention must be one of CloudWatch's values ({allowed} days), got {days}"
            )
        for name in ("error_rate_percent", "client_error_rate_percent", "drift_percent"):
            if not 0 < getattr(self, name) <= 100:
                raise MonitorError(f"{name} must be above 0 and at most 100")
        for name in ("timeout_share", "memory_share"):
            if not 0 < getattr(self, name) <= 1:
                raise MonitorError(f"{name} must be a share above 0 and at most 1, e.g. 0.8")
        if self.latency_p99_ms <= 0 or self.client_error_min < 1:
            raise MonitorError("latency_p99_ms must be positive and client_error_min at least 1")
