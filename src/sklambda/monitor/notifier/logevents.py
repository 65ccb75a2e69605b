"""CloudWatch Logs subscription payloads: decoded, each line classified, a batch summarised.

A subscription filter delivers ``{"awslogs": {"data": base64(gzip(json))}}``; the JSON holds
``messageType`` (``DATA_MESSAGE``, or ``CONTROL_MESSAGE`` when the subscription is checked),
``logGroup``, ``logStream``, ``subscriptionFilters`` and ``logEvents`` (``id``, ``timestamp``
in ms, ``message``). A batch is summarised as counts per kind of failure, each failed request
counted once (its ``[ERROR]`` line and its ``REPORT … Status: error`` line are one failure).

``sklambda logs`` and ``status`` classify lines with the same :func:`classify`.
"""

from __future__ import annotations

import base64
import gzip
import json
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TIMEOUT = "timeout"
OUT_OF_MEMORY = "out_of_memory"
INIT_FAILURE = "init_failure"
ERROR = "error"
KINDS = (TIMEOUT, OUT_OF_MEMORY, INIT_FAILURE, ERROR)  # most telling first
LABELS = {
    TIMEOUT: ("timeout", "timeouts"),
    OUT_OF_MEMORY: ("out-of-memory", "out-of-memory kills"),
    INIT_FAILURE: ("init failure", "init failures"),
    ERROR: ("error", "errors"),
}
# What the subscription filter sends here (CloudWatch Logs filter pattern syntax: ``?`` = or).
# Terms are case-sensitive: EMF lines ("Errors5xx", codes in lower case) do not match.
FILTER_PATTERN = (
    '?ERROR ?"Task timed out" ?"Status: timeout" ?"Status: error" '
    '?"Runtime.OutOfMemory" ?"Runtime.ExitError" ?MemoryError'
)
REQUEST_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def decode(event: Any) -> dict[str, Any] | None:
    """The subscription payload inside a Lambda event, or None when the event is not one."""
    if not (isinstance(event, dict) and isinstance(event.get("awslogs"), dict)):
        return None
    data = event["awslogs"].get("data")
    if not isinstance(data, str):
        raise ValueError('the "awslogs" event has no "data" string')
    payload = json.loads(gzip.decompress(base64.b64decode(data)))
    if not isinstance(payload, dict):
        raise ValueError("the awslogs data is not a JSON object")
    return payload


def encode(payload: dict[str, Any]) -> dict[str, Any]:
    """The Lambda event CloudWatch Logs delivers for ``payload`` (tests and the proof)."""
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    return {"awslogs": {"data": data}}


def classify(message: str) -> str | None:
    """The kind of failure a log line reports, or None for an ordinary line."""
    if message.lstrip().startswith("{"):
        fields = _json(message)
        if fields is not None:
            if "_aws" in fields:  # an EMF metrics line, however its values read
                return None
            if str(fields.get("level", "")).upper() in ("ERROR", "CRITICAL", "FATAL"):
                return ERROR
    if "INIT_REPORT" in message or "Phase: init" in message:
        return INIT_FAILURE if "Status:" in message else None
    if "Task timed out" in message or "Status: timeout" in message:
        return TIMEOUT
    if "Runtime.OutOfMemory" in message or "MemoryError" in message:
        return OUT_OF_MEMORY
    if "Runtime.ImportModuleError" in message or "Runtime.HandlerNotFound" in message:
        return INIT_FAILURE
    if (
        "[ERROR]" in message
        or "Status: error" in message
        or "Runtime.ExitError" in message
        or "Traceback (most recent call last)" in message
    ):
        return ERROR
    return None


def request_id(message: str) -> str | None:
    """The request id a line names (our JSON lines' ``requestId``, Lambda's text lines)."""
    fields = _json(message) if message.lstrip().startswith("{") else None
    if fields is not None and isinstance(fields.get("requestId"), str):
        return str(fields["requestId"])
    found = REQUEST_ID.search(message)
    return found.group(0) if found else None


def _json(message: str) -> dict[str, Any] | None:
    try:
        value = json.loads(message)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class Summary:
    """The failures of one batch of log events."""

    def __init__(self, log_group: str, log_stream: str):
        self.log_group = log_group
        self.log_stream = log_stream
        self.counts: dict[str, int] = {}
        self.sample_request: str | None = None
        self.sample_line = ""
        self.first_ms: int | None = None
        self.last_ms: int | None = None
        self.model_version: str | None = None
        self.model: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, kind: str, count: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + count


def summarize(payload: dict[str, Any]) -> Summary | None:
    """Counts per kind over a ``DATA_MESSAGE`` batch; None for control messages or no failure."""
    if payload.get("messageType") != "DATA_MESSAGE":
        return None
    summary = Summary(str(payload.get("logGroup", "")), str(payload.get("logStream", "")))
    by_request: dict[str, str] = {}  # request id → its most telling kind
    for event in payload.get("logEvents") or []:
        message = str(event.get("message", ""))
        kind = classify(message)
        if kind is None:
            continue
        stamp = event.get("timestamp")
        if isinstance(stamp, int):
            summary.first_ms = stamp if summary.first_ms is None else min(summary.first_ms, stamp)
            summary.last_ms = stamp if summary.last_ms is None else max(summary.last_ms, stamp)
        rid = request_id(message)
        _note_sample(summary, message, rid)
        if rid is None:
            summary.add(kind)
        elif rid not in by_request or KINDS.index(kind) < KINDS.index(by_request[rid]):
            by_request[rid] = kind
    for kind in by_request.values():
        summary.add(kind)
    return summary if summary.total else None


def _note_sample(summary: Summary, message: str, rid: str | None) -> None:
    fields = _json(message) if message.lstrip().startswith("{") else None
    if fields is not None:
        summary.model = summary.model or _text(fields.get("model"))
        summary.model_version = summary.model_version or _text(fields.get("modelVersion"))
    if rid and summary.sample_request is None:
        summary.sample_request = rid
    if not summary.sample_line or (fields is not None and not summary.sample_line.startswith("{")):
        summary.sample_line = message.strip()


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and value != "" else None
