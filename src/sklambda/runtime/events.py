"""Lambda events in, responses out: function URLs and API Gateway (payload 2.0 and 1.0),
direct invokes, and scheduled keep-warm pings. Standard library only.
"""

from __future__ import annotations

import json

from .contract import RequestError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit
JSON_HEADERS = {"content-type": "application/json"}


class HttpRequest:
    """The parts of an HTTP event the service routes on."""

    __slots__ = ("body", "method", "path", "query")

    def __init__(self, method: str, path: str, query: dict[str, str], body: bytes | None):
        self.method = method
        self.path = path
        self.query = query
        self.body = body


def is_warmup(event: Any) -> bool:
    """EventBridge schedules (``"detail-type": "Scheduled Event"``) or ``{"warmup": true}``."""
    return isinstance(event, dict) and (
        event.get("warmup") is True
        or event.get("detail-type") == "Scheduled Event"
        or (event.get("source") == "aws.events" and "detail" in event)
    )


def http_request(event: Any) -> HttpRequest | None:
    """The HTTP request inside a function URL / API Gateway event, or None for a direct invoke."""
    if not isinstance(event, dict):
        return None
    context = event.get("requestContext")
    if isinstance(context, dict) and isinstance(context.get("http"), dict):  # payload 2.0
        method = str(context["http"].get("method", "GET"))
        path = str(event.get("rawPath") or context["http"].get("path") or "/")
        query = event.get("queryStringParameters") or {}
    elif "httpMethod" in event and ("path" in event or "resource" in event):  # REST, 1.0
        method = str(event["httpMethod"])
        path = str(event.get("path") or event.get("resource") or "/")
        query = event.get("queryStringParameters") or {}
    else:
        return None
    return HttpRequest(method.upper(), path, dict(query), _body(event))


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


def http_response(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A function URL / API Gateway response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json.dumps(body, separators=(",", ":"), allow_nan=False),
        "isBase64Encoded": False,
    }
