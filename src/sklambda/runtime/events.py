"""Lambda events in, responses out: function URLs and API Gateway (payload 2.0 and 1.0),
Application Load Balancer, direct invokes, and scheduled keep-warm pings. Standard library only.

- An HTTP API on a named stage puts the stage in ``rawPath`` (``/dev/predict``); it is stripped,
  so routes match on every stage.
- ALB events are answered as ELB documents them: with ``statusDescription``, and with
  ``multiValueHeaders`` instead of ``headers`` when the target group sends multi-value headers.
- Events of other sources — SQS, SNS, S3, DynamoDB/Kinesis streams, Kafka, CloudWatch Logs,
  EventBridge events other than the keep-warm schedule — raise :class:`UnsupportedEventError`:
  the invocation fails, so Lambda retries the records and sends them to the dead-letter queue or
  failure destination, instead of counting them as processed.
"""

from __future__ import annotations

import json

from .contract import RequestError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit
JSON_HEADERS = {"content-type": "application/json"}


class UnsupportedEventError(Exception):
    """An event from a source the model service does not answer (SQS, SNS, S3, streams...).

    Raised, not answered: a failed invocation is what makes Lambda retry the event and
    dead-letter it.
    """


class HttpRequest:
    """The parts of an HTTP event the service routes on."""

    __slots__ = ("body", "kind", "method", "multi_value", "path", "query")

    def __init__(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: bytes | None,
        kind: str = "v2",
        multi_value: bool = False,
    ):
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.kind = kind
        """``v2`` (function URL, HTTP API), ``v1`` (REST API) or ``alb``."""
        self.multi_value = multi_value
        """The ALB target group sends (and expects) ``multiValueHeaders``."""


def is_warmup(event: Any) -> bool:
    """EventBridge schedules (``"detail-type": "Scheduled Event"``) or ``{"warmup": true}``."""
    return isinstance(event, dict) and (
        event.get("warmup") is True
        or (event.get("detail-type") == "Scheduled Event" and event.get("source") == "aws.events")
    )


def event_source(event: Any) -> str | None:
    """The AWS service that sent a non-HTTP event (``aws:sqs``, ``aws.ec2``...), else None."""
    if not isinstance(event, dict):
        return None
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        first = records[0]
        source = first.get("eventSource") or first.get("EventSource")
        if isinstance(source, str):
            return source
    if isinstance(event.get("eventSource"), str) and "records" in event:  # Kafka / MSK
        return event["eventSource"]
    if isinstance(event.get("awslogs"), dict):
        return "aws:logs"
    if "detail-type" in event and "source" in event and "detail" in event:  # EventBridge
        return str(event["source"])
    return None


def unsupported(source: str) -> UnsupportedEventError:
    return UnsupportedEventError(
        f"this function answers HTTP requests (function URL, API Gateway, ALB), direct invokes "
        f"and keep-warm pings, not {source} events; the invocation fails so that Lambda retries "
        "the event and sends it to the dead-letter queue or on-failure destination"
    )


def http_request(event: Any) -> HttpRequest | None:
    """The HTTP request inside a function URL / API Gateway / ALB event, or None for a direct
    invoke."""
    if not isinstance(event, dict):
        return None
    context = event.get("requestContext")
    if isinstance(context, dict) and isinstance(context.get("http"), dict):  # payload 2.0
        method = str(context["http"].get("method", "GET"))
        path = str(event.get("rawPath") or context["http"].get("path") or "/")
        stage = context.get("stage")
        # An HTTP API on a named stage sends /<stage>/<route>; $default sends the route.
        if isinstance(stage, str) and stage and stage != "$default":
            prefix = f"/{stage}"
            if path == prefix or path.startswith(prefix + "/"):
                path = path[len(prefix) :] or "/"
        query = _single_values(event.get("queryStringParameters"))
        kind, multi = "v2", False
    elif "httpMethod" in event and ("path" in event or "resource" in event):  # REST 1.0, ALB
        method = str(event["httpMethod"])
        path = str(event.get("path") or event.get("resource") or "/")
        alb = isinstance(context, dict) and "elb" in context
        multi = alb and isinstance(event.get("multiValueHeaders"), dict)
        multi_query = event.get("multiValueQueryStringParameters")
        if isinstance(multi_query, dict) and multi_query:
            query = {
                str(k): ",".join(str(v) for v in (vs if isinstance(vs, list) else [vs]))
                for k, vs in multi_query.items()
            }
        else:
            query = _single_values(event.get("queryStringParameters"))
        kind = "alb" if alb else "v1"
    else:
        return None
    return HttpRequest(method.upper(), path, query, _body(event), kind, multi)


def _single_values(query: Any) -> dict[str, str]:
    if not isinstance(query, dict):
        return {}
    return {str(k): str(v) for k, v in query.items()}


def _body(event: dict[str, Any]) -> bytes | None:
    raw = event.get("body")
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise RequestError("invalid_request", "the event body must be a string", field="body")
    if event.get("isBase64Encoded"):
        if len(raw) > MAX_BODY_BYTES * 4 // 3 + 4:
            raise _too_large()
        import base64  # only for binary bodies
        import binascii

        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError(
                "invalid_body",
                "the body is marked base64 but is not valid base64; send JSON as plain text "
                "with content-type application/json",
                field="body",
            ) from None
    else:
        data = raw.encode("utf-8", "surrogatepass")
    if len(data) > MAX_BODY_BYTES:
        raise _too_large()
    return data


def _too_large() -> RequestError:
    return RequestError(
        "payload_too_large",
        "the body is over 6 MB, Lambda's limit for a synchronous request; split the batch",
        field="body",
        status=413,
    )


# Made once: json.dumps with arguments makes an encoder per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def http_response(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A function URL / API Gateway response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": _ENCODER.encode(body),
        "isBase64Encoded": False,
    }


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    500: "Internal Server Error",
}


def shape_response(request: HttpRequest, response: dict[str, Any]) -> dict[str, Any]:
    """Fit a response to the event it answers: no body for ``HEAD``; ALB's document shape."""
    if request.method == "HEAD":
        response = {**response, "body": ""}
    if request.kind != "alb":
        return response
    status = response["statusCode"]
    shaped = {**response, "statusDescription": f"{status} {_REASONS.get(status, '')}".rstrip()}
    if request.multi_value:
        headers = shaped.pop("headers", {}) or {}
        shaped["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
    return shaped
