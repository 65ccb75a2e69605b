"""``sklambda logs``: a function's log events, each read for what it is.

Every event becomes a :class:`LogEvent` with a ``kind``: ``report`` (Lambda's REPORT line, its
numbers parsed), ``metrics`` (an EMF line: its metric values), one of the failure kinds of
:mod:`sklambda.monitor.notifier.logevents` (``error``, ``timeout``, ``init_failure``,
``out_of_memory``), ``platform`` (START, END, INIT_START) or ``text``. Rendering is the CLI's.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sklambda.aws.client import AwsClient
from sklambda.monitor.errors import MonitorError
from sklambda.monitor.loggroups import log_group_name
from sklambda.monitor.notifier.logevents import FILTER_PATTERN, KINDS, classify, request_id

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_REPORT_FIELDS = {
    "duration_ms": r"\bDuration: ([\d.]+) ms",
    "billed_ms": r"Billed Duration: ([\d.]+) ms",
    "memory_mb": r"Memory Size: (\d+) MB",
    "max_memory_mb": r"Max Memory Used: (\d+) MB",
    "init_ms": r"Init Duration: ([\d.]+) ms",
}
_STATUS = re.compile(r"Status: (\w+)")
PLATFORM_PREFIXES = ("START ", "END ", "INIT_START", "EXTENSION", "TELEMETRY")
FAILURES = frozenset(KINDS)


@dataclass(frozen=True)
class LogEvent:
    """One log event of a function, classified.

    Attributes
    ----------
    kind:
        ``report``, ``metrics``, ``error``, ``timeout``, ``init_failure``, ``out_of_memory``,
        ``platform`` or ``text``.
    fields:
        For ``report``: ``duration_ms``, ``billed_ms``, ``memory_mb``, ``max_memory_mb``,
        ``init_ms``, ``status``; for ``metrics``: the metric values by name, plus ``ErrorCode``
        when there is one.
    """

    timestamp_ms: int
    stream: str
    message: str
    kind: str
    request_id: str | None = None
    event_id: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.kind in FAILURES


def read_event(
    message: str, timestamp_ms: int = 0, stream: str = "", event_id: str = ""
) -> LogEvent:
    """Classify one log line (pure: no AWS)."""
    text = message.rstrip("\n")
    rid = request_id(text)
    failure = classify(text)
    if text.startswith("REPORT "):
        fields: dict[str, Any] = {}
        for key, pattern in _REPORT_FIELDS.items():
            found = re.search(pattern, text)
            if found:
                fields[key] = float(found.group(1))
        status = _STATUS.search(text)
        if status:
            fields["status"] = status.group(1)
        return LogEvent(timestamp_ms, stream, text, failure or "report", rid, event_id, fields)
    if failure is not None:
        return LogEvent(timestamp_ms, stream, text, failure, rid, event_id)
    metrics = _emf_values(text)
    if metrics is not None:
        return LogEvent(timestamp_ms, stream, text, "metrics", rid, event_id, metrics)
    kind = "platform" if text.startswith(PLATFORM_PREFIXES) else "text"
    return LogEvent(timestamp_ms, stream, text, kind, rid, event_id)


def _emf_values(text: str) -> dict[str, Any] | None:
    if not text.startswith("{"):
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("_aws"), dict):
        return None
    values: dict[str, Any] = {}
    for directive in document["_aws"].get("CloudWatchMetrics") or []:
        for metric in directive.get("Metrics") or []:
            name = metric.get("Name")
            if name in document:
                values[name] = document[name]
    for extra in ("ErrorCode", "status"):
        if extra in document:
            values[extra] = document[extra]
    return values


def parse_since(text: str, now_ms: int | None = None) -> int:
    """``10m``, ``2h``, ``1d``, ``30s``, ``1w`` ago, or an ISO 8601 time; epoch milliseconds."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if found:
        return now - int(float(found.group(1)) * _UNITS[found.group(2)] * 1000)
    import datetime as dt

    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise MonitorError(
            f'--since "{text}" is neither a duration (30s, 10m, 2h, 1d, 1w) nor an ISO time '
            "(2026-11-21T10:00:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def read_events(
    client: AwsClient,
    name: str,
    *,
    since_ms: int,
    until_ms: int | None = None,
    errors: bool = False,
    limit: int | None = None,
) -> list[LogEvent]:
    """The function's log events from ``since_ms`` on, oldest first (``errors``: failures only;
    ``limit``: the last ``limit`` of them).

    With ``errors`` CloudWatch filters by the alerts' pattern, and the events are classified
    here too (so only failures come back from servers that filter less).
    """
    group = log_group_name(name)
    params: dict[str, Any] = {"logGroupName": group, "startTime": since_ms, "interleaved": True}
    if until_ms is not None:
        params["endTime"] = until_ms
    if errors:
        params["filterPattern"] = FILTER_PATTERN
    events: list[LogEvent] = []
    while True:
        page = client.maybe("logs", "FilterLogEvents", **params)
        if page is None:
            raise MonitorError(
                f"no log group {group} in {client.region}: the function has not logged yet "
                "(or is not deployed there)"
            )
        for raw in page.get("events", []):
            event = read_event(
                raw.get("message", ""),
                int(raw.get("timestamp", 0)),
                raw.get("logStreamName", ""),
                raw.get("eventId", ""),
            )
            if not errors or event.failed:
                events.append(event)
        token = page.get("nextToken")
        if not token:
            break
        params["nextToken"] = token
    events.sort(key=lambda e: e.timestamp_ms)
    return events[-limit:] if limit is not None else events


def follow(
    client: AwsClient,
    name: str,
    *,
    since_ms: int,
    errors: bool = False,
    poll_s: float = 2.0,
    keep_going: Callable[[], bool] = lambda: True,
) -> Iterator[LogEvent]:
    """Yield events as they arrive (polling every ``poll_s``), until ``keep_going()`` is false."""
    seen: dict[str, int] = {}  # events already shown, of the last millisecond read again
    start = since_ms
    while True:
        for event in read_events(client, name, since_ms=start, errors=errors):
            key = event.event_id or f"{event.timestamp_ms}:{event.stream}:{event.message}"
            if key in seen:
                continue
            seen[key] = event.timestamp_ms
            start = max(start, event.timestamp_ms)
            yield event
        seen = {key: stamp for key, stamp in seen.items() if stamp >= start}
        if not keep_going():
            return
        client.sleep(poll_s)
