"""Function URL translation: HTTP request → payload-2.0 event, handler result → HTTP response.

Pure functions, following the function URL documentation: lower-cased header names with repeated
headers comma-joined, ``cookie`` headers moved to a ``cookies`` list, repeated query parameters
comma-joined, text bodies as strings and binary ones base64-encoded, no ``body`` key without a
body; and on the way back a result with ``statusCode`` maps field by field while any other JSON
becomes a 200 ``application/json`` response whose body is that JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "HttpResponse",
    "build_event",
    "error_response",
    "is_text_content_type",
    "result_to_response",
]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TEXT_SUBTYPES = frozenset(
    {
        "json",
        "javascript",
        "ecmascript",
        "xml",
        "yaml",
        "x-yaml",
        "x-www-form-urlencoded",
        "graphql",
    }
)


@dataclass(frozen=True)
class HttpResponse:
    """An HTTP response to write: status, headers in order (repeats allowed), body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def is_text_content_type(content_type: str | None) -> bool:
    """Whether a body of this type travels as a string rather than base64.

    ``text/*``, JSON, JavaScript, XML, YAML and form data (and ``+json`` / ``+xml`` types) are
    text; a missing type is treated as text when the bytes are UTF-8.
    """
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = media.partition("/")
    if main == "text":
        return True
    return sub in _TEXT_SUBTYPES or sub.endswith(("+json", "+xml"))


def _request_time(epoch: float) -> str:
    tm = time.gmtime(epoch)
    # Month names spelled out here: strftime's %b follows the locale.
    return (
        f"{tm.tm_mday:02d}/{_MONTHS[tm.tm_mon - 1]}/{tm.tm_year}:"
        f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} +0000"
    )


def post_event(body: bytes, *, path: str = "/", host: str = "localhost") -> dict[str, Any]:
    """The event a ``POST`` of a JSON ``body`` to a function URL produces, with fresh ids.

    What ``sklambda invoke --json`` sends, and what benchmarks replay.
    """
    import uuid

    return build_event(
        method="POST",
        target=path,
        protocol="HTTP/1.1",
        headers=[("content-type", "application/json"), ("host", host)],
        body=body,
        source_ip="127.0.0.1",
        request_id=str(uuid.uuid4()),
        trace_id=f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}",
    )


def build_event(
    *,
    method: str,
    target: str,
    protocol: str,
    headers: Iterable[tuple[str, str]],
    body: bytes | None,
    source_ip: str,
    request_id: str,
    trace_id: str,
    now: float | None = None,
) -> dict[str, Any]:
    """Build the payload-2.0 event Lambda sends for a function URL request.

    Parameters
    ----------
    method : str
        The HTTP method, as sent.
    target : str
        The request target: path and query string, exactly as on the request line.
    protocol : str
        E.g. ``HTTP/1.1``.
    headers : iterable of (name, value)
        Request headers in order, repeats included.
    body : bytes or None
        The body; None or empty for body-less requests (then the event has no ``body``).
    source_ip : str
        Address of the immediate TCP peer.
    request_id, trace_id : str
        The invocation's request id and X-Ray trace header.
    now : float, optional
        Request time (epoch seconds); defaults to the current time.
    """
    epoch = time.time() if now is None else now
    raw_path, raw_query = _split_target(target)
    merged, cookies = _merge_headers(headers)
    host = merged.get("host", "localhost")
    merged.setdefault("x-amzn-trace-id", trace_id)
    merged.setdefault("x-forwarded-for", source_ip)
    merged.setdefault("x-forwarded-proto", "http")
    if ":" in host:
        merged.setdefault("x-forwarded-port", host.rsplit(":", 1)[1])
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = merged
    if raw_query:
        event["queryStringParameters"] = _query_parameters(raw_query)
    domain_prefix = host.split(":", 1)[0].split(".", 1)[0]
    event["requestContext"] = {
        "accountId": "anonymous",
        "apiId": domain_prefix,
        "domainName": host,
        "domainPrefix": domain_prefix,
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": protocol,
            "sourceIp": source_ip,
            "userAgent": merged.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": _request_time(epoch),
        "timeEpoch": int(epoch * 1000),
    }
    encoded = False
    if body:
        event["body"], encoded = _event_body(body, merged.get("content-type"))
    event["isBase64Encoded"] = encoded
    return event


def _split_target(target: str) -> tuple[str, str]:
    """``(raw path, raw query string)`` of a request target (origin or absolute form)."""
    if "://" in target:
        split = urlsplit(target)
        return split.path or "/", split.query
    raw_path, _, raw_query = target.partition("?")
    return raw_path, raw_query


def _merge_headers(headers: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Headers by lower-case name (repeats joined with commas), and the cookies apart."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    return merged, cookies


def _query_parameters(raw_query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def _event_body(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """``(body, is base64)``: UTF-8 text for text content types, else base64."""
    if is_text_content_type(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def error_response(
    status: int, message: str, extra: Iterable[tuple[str, str]] = ()
) -> HttpResponse:
    """A JSON error response in the function URL's own style: ``{"message": ...}``."""
    body = json.dumps({"message": message}).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), *extra], body)


def _bad_gateway() -> HttpResponse:
    return error_response(502, "Internal Server Error")


def result_to_response(raw: bytes) -> HttpResponse:
    """Turn the handler's result (the runtime's JSON bytes) into the HTTP response Lambda sends.

    A JSON object with ``statusCode`` is taken as a response description; anything else is the
    body of a 200 ``application/json`` response. A malformed description is a 502.
    """
    try:
        result = json.loads(raw) if raw else None
    except ValueError:
        return _bad_gateway()
    if not (isinstance(result, dict) and "statusCode" in result):
        return HttpResponse(200, [("Content-Type", "application/json")], raw)
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        return _bad_gateway()
    headers = _response_headers(result)
    body = _response_body(result)
    if headers is None or body is None:
        return _bad_gateway()
    return HttpResponse(status, headers, body)


def _response_headers(result: dict[str, Any]) -> list[tuple[str, str]] | None:
    """The described headers and ``Set-Cookie`` lines; None when malformed."""
    headers: list[tuple[str, str]] = []
    given = result.get("headers") or {}
    if not isinstance(given, dict):
        return None
    for name, value in given.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, str | int | float):
            return None
        headers.append((str(name), str(value)))
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        return None
    headers.extend(("Set-Cookie", cookie) for cookie in cookies)
    return headers


def _response_body(result: dict[str, Any]) -> bytes | None:
    """The described body as bytes; None when it claims base64 and is not."""
    body_value = result.get("body")
    if body_value is None:
        return b""
    if not isinstance(body_value, str):
        # A non-string body (a dict, say) is sent as its JSON text.
        return json.dumps(body_value).encode()
    if not result.get("isBase64Encoded"):
        return body_value.encode("utf-8")
    try:
        return base64.b64decode(body_value, validate=True)
    except (binascii.Error, ValueError):
        return None
