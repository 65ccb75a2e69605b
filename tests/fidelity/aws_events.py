"""AWS-shaped events, one per source the handler may meet, written after AWS's documented formats.

Shapes follow the Lambda developer guide (function URL payload, "Using Lambda with Amazon SQS /
Amazon S3 / Amazon SNS", EventBridge scheduled events), the API Gateway developer guide (HTTP API
payload 2.0 on ``$default`` and on a named stage; REST proxy payload 1.0) and the Elastic Load
Balancing guide (Lambda targets, with and without multi-value headers). Values are this
project's own; field names, nesting and encoding rules are AWS's.
"""

from __future__ import annotations

import copy
import json
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
TRACE = "Root=1-67891233-abcdef012345678912345678"


def _v2(
    body: str | None,
    *,
    method: str = "POST",
    raw_path: str = "/",
    stage: str = "$default",
    route_key: str = "$default",
    domain: str = "abcdefg123.lambda-url.us-east-1.on.aws",
    query: str = "",
    account: str = "anonymous",
) -> dict[str, Any]:
    prefix = domain.split(".", 1)[0]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": {
            "accept": "*/*",
            "content-type": "application/json",
            "host": domain,
            "user-agent": "python-requests/2.32.3",
            "x-amzn-trace-id": TRACE,
            "x-forwarded-for": "198.51.100.20",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": account,
            "apiId": prefix,
            "domainName": domain,
            "domainPrefix": prefix,
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "198.51.100.20",
                "userAgent": "python-requests/2.32.3",
            },
            "requestId": "b4a2c3d6-0e1f-4a5b-9c8d-7e6f5a4b3c2d",
            "routeKey": route_key,
            "stage": stage,
            "time": "21/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795255200000,
        },
        "isBase64Encoded": False,
    }
    if query:
        params: dict[str, str] = {}
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    if body is not None:
        event["body"] = body
    return event


def function_url(body: str | None, **kwargs: Any) -> dict[str, Any]:
    """A function URL with ``AuthType: NONE``."""
    return _v2(body, **kwargs)


def function_url_iam(body: str | None, **kwargs: Any) -> dict[str, Any]:
    """A function URL with ``AuthType: AWS_IAM``: the caller's identity in ``authorizer.iam``."""
    event = _v2(body, account=ACCOUNT, **kwargs)
    event["requestContext"]["authorizer"] = {
        "iam": {
            "accessKey": "AKIAIOSFODNN7EXAMPLE",
            "accountId": ACCOUNT,
            "callerId": "AIDACKCEVSQ6C2EXAMPLE",
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": f"arn:aws:iam::{ACCOUNT}:user/predictor",
            "userId": "AIDACKCEVSQ6C2EXAMPLE",
        }
    }
    return event


def http_api(body: str | None, *, stage: str = "$default", route: str = "/predict", **kw: Any):
    """An HTTP API (payload 2.0) route; a named stage is part of ``rawPath``."""
    raw_path = route if stage == "$default" else f"/{stage}{route}"
    method = kw.pop("method", "POST")
    return _v2(
        body,
        method=method,
        raw_path=raw_path,
        stage=stage,
        route_key="ANY /{proxy+}",
        domain="r3pmxmplak.execute-api.us-east-1.amazonaws.com",
        account=ACCOUNT,
        **kw,
    )


def rest_api(body: str | None, *, path: str = "/predict", method: str = "POST", **_: Any):
    """An API Gateway REST proxy integration (payload 1.0) on stage ``prod``."""
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {
            "Content-Type": "application/json",
            "Host": "x.execute-api.us-east-1.amazonaws.com",
        },
        "multiValueHeaders": {
            "Content-Type": ["application/json"],
            "Host": ["x.execute-api.us-east-1.amazonaws.com"],
        },
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "1234567890",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "198.51.100.20", "userAgent": "curl/8.5.0"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def alb(
    body: str | None,
    *,
    multi_value: bool = False,
    query: dict[str, list[str]] | None = None,
    path: str = "/predict",
    method: str = "POST",
    **_: Any,
) -> dict[str, Any]:
    """An Application Load Balancer request to a Lambda target group."""
    headers = {
        "content-type": "application/json",
        "host": "lambda-alb-123578498.us-east-1.elb.amazonaws.com",
        "user-agent": "curl/8.5.0",
        "x-amzn-trace-id": TRACE,
        "x-forwarded-for": "198.51.100.20",
        "x-forwarded-port": "80",
        "x-forwarded-proto": "http",
    }
    event: dict[str, Any] = {
        "requestContext": {
            "elb": {
                "targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:"
                "targetgroup/lambda-279XGJDqGZ5rsrHC2Fjr/49e9d65c45c6791a"
            }
        },
        "httpMethod": method,
        "path": path,
        "body": body or "",
        "isBase64Encoded": False,
    }
    query = query or {}
    if multi_value:
        event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
        event["multiValueQueryStringParameters"] = query
    else:
        event["headers"] = headers
        event["queryStringParameters"] = {k: v[-1] for k, v in query.items()}
    return event


SCHEDULE: dict[str, Any] = {
    "version": "0",
    "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": ACCOUNT,
    "time": "2026-11-21T10:00:00Z",
    "region": REGION,
    "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/sklambda-keep-warm"],
    "detail": {},
}

EC2_STATE_CHANGE: dict[str, Any] = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": ACCOUNT,
    "time": "2026-11-21T10:00:00Z",
    "region": REGION,
    "resources": [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-abcd1111"],
    "detail": {"instance-id": "i-abcd1111", "state": "pending"},
}


def sqs(body: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795255200000",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1795255200001",
                },
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:predictions",
                "awsRegion": REGION,
            }
        ]
    }


S3_PUT: dict[str, Any] = {
    "Records": [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": REGION,
            "eventTime": "2026-11-21T10:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AWS:AIDAINPONIXQXHT3IKHL2"},
            "requestParameters": {"sourceIPAddress": "198.51.100.20"},
            "responseElements": {
                "x-amz-request-id": "D82B88E5F771F645",
                "x-amz-id-2": "vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYB",
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "batch-rows",
                "bucket": {
                    "name": "prediction-batches",
                    "ownerIdentity": {"principalId": "A3I5XTEXAMAI3E"},
                    "arn": "arn:aws:s3:::prediction-batches",
                },
                "object": {
                    "key": "rows/2026-11-21.json",
                    "size": 1305107,
                    "eTag": "b21b84d653bb07b05b1e6b33684dc11b",
                    "sequencer": "0C0F6F405D6ED209E1",
                },
            },
        }
    ]
}


def sns(message: str) -> dict[str, Any]:
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:predictions"
    return {
        "Records": [
            {
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
                "EventSource": "aws:sns",
                "Sns": {
                    "SignatureVersion": "1",
                    "Timestamp": "2026-11-21T10:00:00.000Z",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
                    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "Message": message,
                    "MessageAttributes": {},
                    "Type": "Notification",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "TopicArn": topic,
                    "Subject": "rows",
                },
            }
        ]
    }


def every_event(request: dict[str, Any]) -> dict[str, Any]:
    """The suite: name → event, all carrying ``request`` where they carry a body."""
    body = json.dumps(request)
    return {
        "function_url": function_url(body),
        "function_url_iam": function_url_iam(body, raw_path="/predict"),
        "function_url_card": function_url(None, method="GET"),
        "function_url_head": function_url(None, method="HEAD"),
        "function_url_options": function_url(None, method="OPTIONS", raw_path="/predict"),
        "function_url_single_flag": function_url(body, query="probabilities=true"),
        "function_url_repeated_flag": function_url(
            body, query="probabilities=true&probabilities=true"
        ),
        "function_url_conflicting_flag": function_url(
            body, query="probabilities=true&probabilities=false"
        ),
        "http_api_default": http_api(body),
        "http_api_named_stage": http_api(body, stage="dev"),
        "http_api_named_stage_card": http_api(None, stage="dev", route="/", method="GET"),
        "rest_api": rest_api(body),
        "alb": alb(body),
        "alb_multi_value": alb(body, multi_value=True),
        "alb_multi_value_repeated_flag": alb(
            body, multi_value=True, query={"probabilities": ["true", "true"]}
        ),
        "schedule": copy.deepcopy(SCHEDULE),
        "eventbridge_other": copy.deepcopy(EC2_STATE_CHANGE),
        "sqs": sqs(body),
        "s3": copy.deepcopy(S3_PUT),
        "sns": sns(body),
    }


UNSUPPORTED = {"eventbridge_other": "aws.ec2", "sqs": "aws:sqs", "s3": "aws:s3", "sns": "aws:sns"}
