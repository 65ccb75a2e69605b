"""One CloudWatch Embedded Metric Format (EMF) line per invocation, and JSON error lines.

Standard library only (this module ships in every package). Lambda sends what a function prints
to CloudWatch Logs, and CloudWatch turns a JSON line shaped as EMF into metrics: no API call, no
boto3, no Powertools, nothing to wait for. The line of one invocation::

    {"_aws": {"Timestamp": 1795255200000, "CloudWatchMetrics": [
        {"Namespace": "sklambda",
         "Dimensions": [["FunctionName"], ["FunctionName", "ModelVersion"]],
         "Metrics": [{"Name": "Requests", "Unit": "Count"}, ...]},
        {"Namespace": "sklambda", "Dimensions": [["FunctionName", "ErrorCode"]],
         "Metrics": [{"Name": "ClientErrors", "Unit": "Count"}]},               (4xx only)
        {"Namespace": "sklambda", "Dimensions": [["FunctionName", "ModelVersion"]],
         "Metrics": [{"Name": "OutOfRangeRows.age", "Unit": "Count"}, ...]}]},  (drift only)
     "FunctionName": "houses", "ModelVersion": "3f2a9c0d1e4b", "Requests": 1, "Rows": 3, ...,
     "requestId": "…", "status": 200}

The core metrics are written on every line (zeros included) so that alarms can divide one by
another; per-feature counts only for features that had something to count, at most
``MAX_FEATURE_METRICS`` of them. ``SKLAMBDA_METRICS=0`` switches the line off (the service then
never imports this module: see ``service.METRICS_ENV``).
"""

from __future__ import annotations

import json
import os
import sys
import time

from .contract import OUT_OF_RANGE, UNKNOWN_CATEGORY

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAMESPACE = "sklambda"
MAX_METRICS = 100  # per line (the EMF specification: at most 100 MetricDefinitions per directive)
MAX_FEATURE_METRICS = 40  # per-feature counts on one line; the rest are counted, not named
MAX_DIMENSION_VALUE = 1024  # CloudWatch's limit for a dimension value
CORE_METRICS = (
    ("Requests", "Count"),
    ("Rows", "Count"),
    ("Errors4xx", "Count"),
    ("Errors5xx", "Count"),
    ("ColdStart", "Count"),
    ("OutOfRangeRows", "Count"),
    ("UnknownCategoryRows", "Count"),
)
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)  # made once
_FEATURE_PREFIX = {OUT_OF_RANGE: "OutOfRangeRows.", UNKNOWN_CATEGORY: "UnknownCategoryRows."}


def _dimension(value: Any) -> str:
    text = str(value).strip() if value is not None else ""
    return _printable(text or "unknown")[:MAX_DIMENSION_VALUE]


class Record:
    """What one invocation did, filled in as it runs."""

    __slots__ = ("cold", "counts", "predict_ms", "request_id", "rows")

    def __init__(self, request_id: str | None, cold: bool):
        self.request_id = request_id
        self.cold = cold
        self.rows = 0
        self.predict_ms: float | None = None
        # (kind, feature) → rows; a row counts once per feature, and once in the kind's total
        self.counts: dict[tuple[str, str], int] = {}

    def predicted(self, request: Any, seconds: float) -> None:
        """Note a prediction: its rows, how long it took, and the rows' range warnings.

        The warnings are the request contract's (``PredictRequest.warnings``, the ones the
        response carries): one implementation of the range check.
        """
        self.rows = len(request.rows)
        self.predict_ms = seconds * 1000.0
        warnings = request.warnings
        seen: set[tuple[str, str, int]] = set()
        for warning in warnings:
            kind, feature, row = warning["kind"], str(warning["feature"]), warning["row"]
            for key in ((kind, feature, row), (kind, "", row)):
                if key not in seen:
                    seen.add(key)
                    self.counts[key[:2]] = self.counts.get(key[:2], 0) + 1


class Metrics:
    """Writes the EMF line of every invocation of one packaged model.

    Parameters
    ----------
    function_name, model_name, model_version:
        The ``FunctionName`` and ``ModelVersion`` dimensions, and the model named on each line.
    on_demand:
        False for provisioned concurrency, whose environments start before any request: their
        first invocation is not a cold start a caller waited for.
    write:
        Where lines go (default: stdout, which Lambda sends to CloudWatch Logs).
    """

    def __init__(
        self,
        function_name: str,
        model_name: str,
        model_version: str,
        *,
        on_demand: bool = True,
        write: Any = None,
    ):
        self.function_name = _dimension(function_name)
        self.model_name = model_name
        self.model_version = _dimension(model_version)
        self._cold = on_demand
        self._write = write or _stdout
        self._shapes: dict[tuple[bool, bool, bool], str] = {}
        self._head: str | None = None  # :meth:`_plain_line`'s constant parts
        self._tail: str | None = None

    @classmethod
    def from_environment(cls, manifest: dict[str, Any]) -> Metrics:
        """Metrics for the packaged ``manifest``, named as Lambda's environment says."""
        return cls(
            os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or manifest.get("name", ""),
            str(manifest.get("name", "")),
            str(manifest.get("version") or ""),
            on_demand=os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand") == "on-demand",
        )

    def begin(self, context: Any) -> Record:
        """Start the record of an invocation (the first one of an environment is cold)."""
        cold, self._cold = self._cold, False
        return Record(getattr(context, "aws_request_id", None), cold)

    def end(self, record: Record, response: Any, *, warmup: bool = False) -> str:
        """Write the invocation's line; returns it."""
        status, code = outcome(response)
        line = self.line(record, status, code, warmup=warmup)
        self._write(line)
        return line

    def document(
        self, record: Record, status: int, code: str | None, *, warmup: bool = False
    ) -> dict[str, Any]:
        """The EMF document of one invocation, as a dict (the line, parsed)."""
        return dict(json.loads(self.line(record, status, code, warmup=warmup)))

    def line(self, record: Record, status: int, code: str | None, *, warmup: bool = False) -> str:
        """The EMF line of one invocation (see the module docstring).

        The metric directives are the same from one invocation to the next (but for the rare
        per-feature counts), so they are serialised once per shape: a warm invocation then
        only serialises its values.
        """
        if code is None and not warmup and not record.counts:
            request_id = record.request_id
            if request_id is None or isinstance(request_id, str):
                return self._plain_line(record, status, request_id)
        return self._line(record, status, code, warmup=warmup)

    def _plain_line(self, record: Record, status: int, request_id: str | None) -> str:
        """:meth:`_line` of an invocation without an error code or a drift count (every
        ordinary request), formatted without building and serialising a dict: the same text
        (ints and floats print as JSON prints them; strings go through JSON's own encoder)."""
        latency = record.predict_ms
        shape = (False, latency is not None, False)
        directives = self._shapes.get(shape)
        if directives is None:
            directives = self._shapes[shape] = _directives(*shape)
        tail = self._tail
        if tail is None:
            tail = self._tail = (
                f',"model":{_ENCODER.encode(self.model_name)},"status":'
                if isinstance(self.model_name, str)
                else None
            )
        if tail is None:
            return self._line(record, status, None)
        head = self._head
        if head is None:
            head = self._head = (
                f'"FunctionName":{_ENCODER.encode(self.function_name)},'
                f'"ModelVersion":{_ENCODER.encode(self.model_version)},"Requests":1,"Rows":'
            )
        timing = "" if latency is None else f',"PredictLatency":{round(latency, 3)!r}'
        ids = "" if not request_id else f',"requestId":{_ENCODER.encode(request_id)}'
        return (
            f'{{"_aws":{{"Timestamp":{int(time.time() * 1000)},"CloudWatchMetrics":{directives}}},'
            f"{head}{int(record.rows)},"
            f'"Errors4xx":{int(400 <= status < 500)},"Errors5xx":{int(status >= 500)},'
            f'"ColdStart":{int(record.cold)},"OutOfRangeRows":0,"UnknownCategoryRows":0'
            f"{timing}{tail}{int(status)}{ids}}}"
        )

    def _line(self, record: Record, status: int, code: str | None, *, warmup: bool = False) -> str:
        """The line of any invocation, from a dict of its values."""
        values: dict[str, Any] = {
            "FunctionName": self.function_name,
            "ModelVersion": self.model_version,
        }
        if warmup:
            # A keep-warm ping is not a request; it only says whether it started an environment.
            values.update(Warmups=1, ColdStart=int(record.cold))
        else:
            values.update(
                Requests=1,
                Rows=record.rows,
                Errors4xx=int(400 <= status < 500),
                Errors5xx=int(status >= 500),
                ColdStart=int(record.cold),
                OutOfRangeRows=record.counts.get((OUT_OF_RANGE, ""), 0),
                UnknownCategoryRows=record.counts.get((UNKNOWN_CATEGORY, ""), 0),
            )
            if record.predict_ms is not None:
                values["PredictLatency"] = round(record.predict_ms, 3)
        client_error = code is not None and 400 <= status < 500
        if client_error:
            values["ErrorCode"] = _dimension(code)
            values["ClientErrors"] = 1
        shape = (warmup, record.predict_ms is not None, client_error)
        directives = self._shapes.get(shape)
        if directives is None:
            directives = self._shapes[shape] = _directives(*shape)
        room = MAX_METRICS - (2 if warmup else len(CORE_METRICS) + 2)
        per_feature = self._per_feature(record, values, room)
        if per_feature:
            extra = json.dumps(
                _directive([["FunctionName", "ModelVersion"]], per_feature), separators=(",", ":")
            )
            directives = directives[:-1] + "," + extra + "]"
        values.update(model=self.model_name, status=status)
        if record.request_id:
            values["requestId"] = record.request_id
        if code is not None:
            values["errorCode"] = code
        head = (
            f'{{"_aws":{{"Timestamp":{int(time.time() * 1000)},"CloudWatchMetrics":{directives}}},'
        )
        return head + _ENCODER.encode(values)[1:]

    def _per_feature(self, record: Record, doc: dict[str, Any], room: int) -> list[tuple[str, str]]:
        counts: dict[str, int] = {}
        for kind, feature in sorted(k for k in record.counts if k[1]):
            name = _metric_name(_FEATURE_PREFIX.get(kind, f"{kind}.") + feature)
            # Two names that print alike (say "a\tb" and "a b") share one metric.
            counts[name] = counts.get(name, 0) + record.counts[(kind, feature)]
        limit = min(MAX_FEATURE_METRICS, room)
        metrics = []
        for name in list(counts)[:limit]:
            doc[name] = counts[name]
            metrics.append((name, "Count"))
        if len(counts) > limit:
            doc["featuresNotNamed"] = len(counts) - limit  # a property, not a metric
        return metrics


def _metric_name(text: str) -> str:
    """At most 255 characters of printable ASCII: what CloudWatch takes as a metric name."""
    return _printable(text)[:255]


def _printable(text: str) -> str:
    if text.isascii() and text.isprintable():
        return text
    return "".join(c if c.isascii() and c.isprintable() else "_" for c in text)


def _directives(warmup: bool, latency: bool, client_error: bool) -> str:
    """The ``CloudWatchMetrics`` JSON of one shape of line."""
    core = [("Warmups", "Count"), ("ColdStart", "Count")] if warmup else list(CORE_METRICS)
    if latency and not warmup:
        core.append(("PredictLatency", "Milliseconds"))
    found = [_directive([["FunctionName"], ["FunctionName", "ModelVersion"]], core)]
    if client_error:
        found.append(_directive([["FunctionName", "ErrorCode"]], [("ClientErrors", "Count")]))
    return json.dumps(found, separators=(",", ":"))


def _directive(dimensions: list[list[str]], metrics: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "Namespace": NAMESPACE,
        "Dimensions": dimensions,
        "Metrics": [{"Name": name, "Unit": unit} for name, unit in metrics],
    }


def outcome(response: Any) -> tuple[int, str | None]:
    """``(status, error code or None)`` of what the service answered.

    HTTP answers carry their status (their body is parsed only when it is an error, and then it
    is small); a direct invoke answers the body itself, an ``{"error": ...}`` for a failure.
    """
    if isinstance(response, dict) and isinstance(response.get("statusCode"), int):
        status = response["statusCode"]
        if status < 400:
            return status, None
        try:
            error = json.loads(response.get("body") or "{}").get("error", {})
        except (ValueError, AttributeError):
            return status, None
        return status, error.get("code") if isinstance(error, dict) else None
    if isinstance(response, dict) and isinstance(response.get("error"), dict):
        code = response["error"].get("code")
        return (500 if code == "internal_error" else 400), code
    return 200, None


def error_line(
    request_id: str | None,
    *,
    function_name: str | None,
    model: dict[str, Any],
    error: BaseException,
    trace: str,
) -> str:
    """A structured JSON log line for a fault of the service (one CloudWatch event, not one per
    traceback line), with the request id the alert and ``sklambda logs`` show."""
    return json.dumps(
        {
            "level": "ERROR",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "requestId": request_id,
            "function": function_name,
            "model": model.get("name"),
            "modelVersion": model.get("version"),
            "errorCode": "internal_error",
            "errorType": type(error).__name__,
            "errorMessage": str(error)[:1000],
            "stackTrace": trace,
        },
        separators=(",", ":"),
        default=str,
    )


def _stdout(line: str) -> None:
    # Flushed at once: a line still in the buffer when the invocation ends would be logged with
    # the next one (or lost when the environment is frozen for good).
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
