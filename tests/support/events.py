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


# -- monitoring: what CloudWatch Logs and SNS deliver to a subscribed function ------------------


def logs_subscription_event(
    messages: list[str],
    *,
    log_group: str = "/aws/lambda/houses",
    log_stream: str = "2026/11/21/[$LATEST]6e1a7e3f0c2b4d5e8f9a0b1c2d3e4f5a",
    message_type: str = "DATA_MESSAGE",
    start_ms: int = 1795255200000,
) -> dict[str, Any]:
    """A CloudWatch Logs subscription delivery as AWS documents it (Lambda developer guide,
    "Using Lambda with CloudWatch Logs"): ``{"awslogs": {"data": base64(gzip(json))}}``."""
    import gzip

    payload = {
        "messageType": message_type,
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": ["sklambda-alerts"],
        "logEvents": [
            {
                "id": f"3719564183945{i:010d}",
                "timestamp": start_ms + i,
                "message": message,
            }
            for i, message in enumerate(messages)
        ]
        if message_type == "DATA_MESSAGE"
        else [],
    }
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    return {"awslogs": {"data": data}}


def alarm_notification(
    name: str = "sklambda-houses.errors",
    *,
    state: str = "ALARM",
    reason: str = (
        "Threshold Crossed: 1 out of the last 1 datapoints [4.2 (21/11/26 10:00:00)] was greater "
        "than the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition)."
    ),
    description: str = "sklambda houses: 5xx answers above 1% of invocations in 5 minutes",
) -> dict[str, Any]:
    """The JSON CloudWatch publishes to SNS when an alarm changes state."""
    return {
        "AlarmName": name,
        "AlarmDescription": description,
        "AWSAccountId": "123456789012",
        "AlarmConfigurationUpdatedTimestamp": "2026-11-21T09:00:00.000+0000",
        "NewStateValue": state,
        "NewStateReason": reason,
        "StateChangeTime": "2026-11-21T10:05:00.000+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}",
        "OldStateValue": "OK" if state == "ALARM" else "ALARM",
        "OKActions": ["arn:aws:sns:us-east-1:123456789012:sklambda-houses-alarms"],
        "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:sklambda-houses-alarms"],
        "InsufficientDataActions": [],
        "Trigger": {
            "Period": 300,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 1.0,
            "TreatMissingData": "notBreaching",
            "Metrics": [],
        },
    }


def sns_event(message: dict[str, Any], subject: str = "ALARM") -> dict[str, Any]:
    """An SNS delivery to a subscribed Lambda function (Lambda developer guide, "Using Lambda
    with Amazon SNS")."""
    topic = "arn:aws:sns:us-east-1:123456789012:sklambda-houses-alarms"
    return {
        "Records": [
            {
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic}:21be56ed-a058-49f5-8c98-aedd2564c486",
                "EventSource": "aws:sns",
                "Sns": {
                    "SignatureVersion": "1",
                    "Timestamp": "2026-11-21T10:05:01.000Z",
                    "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
                    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "Message": json.dumps(message),
                    "MessageAttributes": {},
                    "Type": "Notification",
                    "UnsubscribeUrl": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}:21be56ed",
                    "TopicArn": topic,
                    "Subject": f'{subject}: "{message.get("AlarmName")}" in US East (N. Virginia)',
                },
            }
        ]
    }
