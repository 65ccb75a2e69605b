"""Realistic Lambda events, shaped like the ones AWS sends (see shared/reference/lambda.md)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

FUNCTION_URL_EVENT: dict[str, Any] = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/",
    "rawQueryString": "",
    "headers": {
        "content-type": "application/json",
        "host": "abc.lambda-url.us-east-1.on.aws",
        "user-agent": "curl/8.5.0",
        "x-amzn-trace-id": "Root=1-6740a2b0-0a1b2c3d4e5f",
        "x-forwarded-for": "203.0.113.7",
    },
    "requestContext": {
        "accountId": "anonymous",
        "apiId": "abc",
        "domainName": "abc.lambda-url.us-east-1.on.aws",
        "domainPrefix": "abc",
        "http": {
            "method": "POST",
            "path": "/",
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.7",
            "userAgent": "curl/8.5.0",
        },
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "routeKey": "$default",
        "stage": "$default",
        "time": "21/Nov/2026:10:00:00 +0000",
        "timeEpoch": 1795255200000,
    },
    "body": "",
    "isBase64Encoded": False,
}

REST_V1_EVENT: dict[str, Any] = {
    "resource": "/predict",
    "path": "/predict",
    "httpMethod": "POST",
    "headers": {
        "Content-Type": "application/json",
        "Host": "x.execute-api.us-east-1.amazonaws.com",
    },
    "multiValueHeaders": {"Content-Type": ["application/json"]},
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "pathParameters": None,
    "stageVariables": None,
    "requestContext": {
        "resourcePath": "/predict",
        "httpMethod": "POST",
        "path": "/prod/predict",
        "stage": "prod",
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "identity": {"sourceIp": "203.0.113.7"},
    },
    "body": "",
    "isBase64Encoded": False,
}

SCHEDULED_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-21T10:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/keep-warm"],
    "detail": {},
}


def url_event(
    body: Any = None,
    *,
    method: str = "POST",
    path: str = "/",
    raw_body: str | None = None,
    base64_body: bool = False,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A function URL (payload 2.0) event carrying ``body`` as JSON."""
    event = copy.deepcopy(FUNCTION_URL_EVENT)
    event["rawPath"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    if text is None:
        del event["body"]
    elif base64_body:
        event["body"] = base64.b64encode(text.encode()).decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = text
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    return event


def rest_event(body: Any, *, method: str = "POST", path: str = "/predict") -> dict[str, Any]:
    """An API Gateway REST (payload 1.0) proxy event."""
    event = copy.deepcopy(REST_V1_EVENT)
    event["httpMethod"] = method
    event["path"] = path
    event["resource"] = path
    event["body"] = json.dumps(body)
    return event


def ask_every_event_kind(dist: Any, rows: list[dict[str, Any]], proba: bool) -> dict[str, Any]:
    """Ask a built package, in the local emulator, over a function URL event, an API Gateway v1
    event, a direct invoke and a keep-warm ping; returns the decoded answers by kind."""
    from sklambda.local import LocalFunction

    with LocalFunction(dist, concurrency=1, timeout=120) as function:
        url = function.invoke(url_event({"instances": rows, "return_probabilities": proba}))
        rest = function.invoke(rest_event({"instances": rows}))
        direct = function.invoke({"instances": rows})
        warm = function.invoke(SCHEDULED_EVENT)
    for result in (url, rest, direct, warm):
        assert result.error is None, result.payload
    return {
        "url": json.loads(url.payload["body"]),
        "rest": json.loads(rest.payload["body"]),
        "direct": direct.payload,
        "warm": warm.payload,
    }
