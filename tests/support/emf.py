"""The CloudWatch Embedded Metric Format specification's rules, to validate EMF lines against.

Source: "Specification: Embedded metric format", Amazon CloudWatch User Guide
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
CloudWatch_Embedded_Metric_Format_Specification.html). ``SCHEMA`` is the JSON schema published
there (trimmed of its ``$id``/``title``/``examples`` annotations, which validate nothing); it
states the 9-key DimensionSet limit of the published schema, stricter than the 30 that CloudWatch
accepts today, so a line valid here is valid under either. The rules the schema cannot express
(targets on the root node, their types, counts) are checked by :func:`check_emf`.
"""

from __future__ import annotations

import json
import numbers
from typing import Any

_NAME = {"type": "string", "pattern": "^(.*)$", "minLength": 1, "maxLength": 255}
UNITS = (
    "Seconds|Microseconds|Milliseconds|Bytes|Kilobytes|Megabytes|Gigabytes|Terabytes|Bits|"
    "Kilobits|Megabits|Gigabits|Terabits|Percent|Count|Bytes\\/Second|Kilobytes\\/Second|"
    "Megabytes\\/Second|Gigabytes\\/Second|Terabytes\\/Second|Bits\\/Second|Kilobits\\/Second|"
    "Megabits\\/Second|Gigabits\\/Second|Terabits\\/Second|Count\\/Second|None"
)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "properties": {
                "Timestamp": {"type": "integer"},
                "CloudWatchMetrics": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "properties": {
                            "Namespace": _NAME,
                            "Dimensions": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "array",
                                    "minItems": 0,
                                    "maxItems": 9,
                                    "items": _NAME,
                                },
                            },
                            "Metrics": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["Name"],
                                    "properties": {
                                        "Name": _NAME,
                                        "Unit": {"type": "string", "pattern": f"^({UNITS})$"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}
MAX_EVENT_BYTES = 256 * 1024  # "the same limits as standard CloudWatch Logs events"
MAX_METRICS_PER_LINE = 100  # sklambda's rule (the spec's per directive, over the whole line)


def parse_emf(line: str) -> dict[str, Any] | None:
    """The document of an EMF log line, or None when the line is not one."""
    stripped = line.strip()
    if not stripped.startswith("{"):
        return None
    try:
        document = json.loads(stripped)
    except ValueError:
        return None
    if isinstance(document, dict) and "_aws" in document:
        return document
    return None


def check_emf(line: str) -> dict[str, Any]:
    """Validate one log line against the specification; returns its document.

    Raises ``AssertionError`` naming the broken rule.
    """
    import jsonschema

    assert len(line.encode()) <= MAX_EVENT_BYTES, "over 256 KB"
    # "a valid JSON object with no additional data at the beginning or end"
    document = json.loads(line)
    assert isinstance(document, dict), "the root must be an object"
    jsonschema.validate(document, SCHEMA)
    total = 0
    for directive in document["_aws"]["CloudWatchMetrics"]:
        metrics = directive["Metrics"]
        assert len(metrics) <= 100, "more than 100 MetricDefinitions in a directive"
        names = [m["Name"] for m in metrics]
        assert len(names) == len(set(names)), f"a metric is defined twice: {names}"
        total += len(metrics)
        for dimension_set in directive["Dimensions"]:
            for key in dimension_set:
                assert key in document, f"dimension {key!r} is not a member of the root node"
                value = document[key]
                assert isinstance(value, str), f"dimension target {key!r} must be a string"
                # CloudWatch's Dimension rules: 1-1024 ASCII characters, not only whitespace.
                assert value.strip() and value.isascii() and len(value) <= 1024, (key, value)
        for name in names:
            assert name in document, f"metric {name!r} is not a member of the root node"
            value = document[name]
            if isinstance(value, list):
                assert len(value) <= 100, f"metric {name!r} has over 100 values"
                assert all(_number(v) for v in value), f"metric {name!r} has a non-number"
            else:
                assert _number(value), f"metric target {name!r} must be a number, got {value!r}"
    assert total <= MAX_METRICS_PER_LINE, f"{total} metrics on one line"
    return document


def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def metric_names(document: dict[str, Any]) -> set[str]:
    return {
        metric["Name"]
        for directive in document["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }
