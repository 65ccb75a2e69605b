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
OUT_OF_RANGE = "out_of_range"
UNKNOWN_CATEGORY = "unknown_category"
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

    def predicted(self, request: Any, seconds: float, features: Any) -> None:
        """Note a prediction: its rows, how long it took, and the rows' range warnings."""
        self.rows = len(request.rows)
        self.predict_ms = seconds * 1000.0
        warnings = getattr(request, "warnings", None)
        if warnings is None:  # until #10's PredictRequest.warnings lands: see _range_warnings
            warnings = _range_warnings(request.rows, features)
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
    features:
        The manifest's feature specs (for the range check until #10's warnings land).
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
        features: list[dict[str, Any]],
        *,
        on_demand: bool = True,
        write: Any = None,
    ):
        self.function_name = _dimension(function_name)
        self.model_name = model_name
        self.model_version = _dimension(model_version)
        self.features = features
        self._cold = on_demand
        self._write = write or _stdout

    @classmethod
    def from_environment(cls, manifest: dict[str, Any]) -> Metrics:
        """Metrics for the packaged ``manifest``, named as Lambda's environment says."""
        return cls(
            os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or manifest.get("name", ""),
            str(manifest.get("name", "")),
            str(manifest.get("version") or ""),
            list(manifest.get("features", [])),
            on_demand=os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand") == "on-demand",
        )

    def begin(self, context: Any) -> Record:
        """Start the record of an invocation (the first one of an environment is cold)."""
        cold, self._cold = self._cold, False
        return Record(getattr(context, "aws_request_id", None), cold)

    def end(self, record: Record, response: Any, *, warmup: bool = False) -> dict[str, Any]:
        """Write the invocation's line; returns the document written."""
        status, code = outcome(response)
        document = self.document(record, status, code, warmup=warmup)
        self._write(json.dumps(document, separators=(",", ":"), allow_nan=False))
        return document

    def document(
        self, record: Record, status: int, code: str | None, *, warmup: bool = False
    ) -> dict[str, Any]:
        """The EMF document of one invocation (see the module docstring)."""
        doc: dict[str, Any] = {
            "FunctionName": self.function_name,
            "ModelVersion": self.model_version,
        }
        directives: list[dict[str, Any]] = []
        if warmup:
            # A keep-warm ping is not a request; it only says whether it started an environment.
            core: list[tuple[str, str]] = [("Warmups", "Count"), ("ColdStart", "Count")]
            doc.update(Warmups=1, ColdStart=int(record.cold))
        else:
            core = list(CORE_METRICS)
            doc.update(
                Requests=1,
                Rows=record.rows,
                Errors4xx=int(400 <= status < 500),
                Errors5xx=int(status >= 500),
                ColdStart=int(record.cold),
                OutOfRangeRows=record.counts.get((OUT_OF_RANGE, ""), 0),
                UnknownCategoryRows=record.counts.get((UNKNOWN_CATEGORY, ""), 0),
            )
            if record.predict_ms is not None:
                core.append(("PredictLatency", "Milliseconds"))
                doc["PredictLatency"] = round(record.predict_ms, 3)
        directives.append(_directive([["FunctionName"], ["FunctionName", "ModelVersion"]], core))
        if code is not None and 400 <= status < 500:
            doc["ErrorCode"] = _dimension(code)
            doc["ClientErrors"] = 1
            directives.append(
                _directive([["FunctionName", "ErrorCode"]], [("ClientErrors", "Count")])
            )
        per_feature = self._per_feature(record, doc, room=MAX_METRICS - len(core) - 1)
        if per_feature:
            directives.append(_directive([["FunctionName", "ModelVersion"]], per_feature))
        doc["_aws"] = {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": directives}
        doc.update(model=self.model_name, status=status)
        if record.request_id:
            doc["requestId"] = record.request_id
        if code is not None:
            doc["errorCode"] = code
        return doc

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


# -- TEMPORARY: replace with #10's PredictRequest.warnings once it lands on main ----------------


def _range_warnings(rows: list[list[Any]], features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The warnings #10 adds to the request contract, computed here until it lands.

    Same shape as ``PredictRequest.warnings``: ``{"row", "feature", "kind", "value",
    "expected"}``, ``kind`` being ``out_of_range`` (a number outside the training min…max) or
    ``unknown_category`` (a category not seen in training, for features whose manifest says
    ``"unknown": "ignore"``).
    """
    found: list[dict[str, Any]] = []
    checks = []
    for index, spec in enumerate(features):
        if spec.get("type") == "number" and spec.get("min") is not None:
            checks.append((index, spec, OUT_OF_RANGE))
        elif spec.get("categories") is not None and spec.get("unknown") == "ignore":
            checks.append((index, spec, UNKNOWN_CATEGORY))
    for r, row in enumerate(rows):
        for index, spec, kind in checks:
            value = row[index]
            if value is None:
                continue
            if kind == OUT_OF_RANGE:
                low, high = spec["min"], spec.get("max")
                if value < low or (high is not None and value > high):
                    found.append(_warning(r, spec, kind, value, f"{low} … {high}"))
            elif value not in spec["categories"]:
                found.append(_warning(r, spec, kind, value, ", ".join(spec["categories"][:20])))
    return found


def _warning(
    row: int, spec: dict[str, Any], kind: str, value: Any, expected: str
) -> dict[str, Any]:
    return {"row": row, "feature": spec["name"], "kind": kind, "value": value, "expected": expected}
