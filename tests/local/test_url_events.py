"""Function URL translation as pure functions: requests → payload-2.0 events, results → HTTP."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sklambda.local.url_events import build_event, is_text_content_type, result_to_response

NOW = 1795255200.123  # 2026-11-21T10:00:00.123Z


def make_event(**overrides: object) -> dict:
    arguments: dict = {
        "method": "POST",
        "target": "/",
        "protocol": "HTTP/1.1",
        "headers": [("Host", "abc.lambda-url.us-east-1.on.aws"), ("User-Agent", "curl/8.5.0")],
        "body": None,
        "source_ip": "203.0.113.7",
        "request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "trace_id": "Root=1-5759e988-bd862e3fe1be46a994272793",
        "now": NOW,
    }
    arguments.update(overrides)
    return build_event(**arguments)


def test_event_matches_the_documented_shape() -> None:
    event = make_event(
        target="/my/path?parameter1=value1&parameter1=value2&parameter2=value",
        headers=[
            ("Host", "abc.lambda-url.us-east-1.on.aws"),
            ("Content-Type", "application/json"),
            ("User-Agent", "curl/8.5.0"),
            ("Cookie", "cookie1; cookie2"),
        ],
        body=b'{"rows": [[1.0, 2.0]]}',
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/my/path"
    assert event["rawQueryString"] == "parameter1=value1&parameter1=value2&parameter2=value"
    assert event["cookies"] == ["cookie1", "cookie2"]
    assert event["queryStringParameters"] == {"parameter1": "value1,value2", "parameter2": "value"}
    assert event["body"] == '{"rows": [[1.0, 2.0]]}'
    assert event["isBase64Encoded"] is False
    assert event["requestContext"] == {
        "accountId": "anonymous",
        "apiId": "abc",
        "domainName": "abc.lambda-url.us-east-1.on.aws",
        "domainPrefix": "abc",
        "http": {
            "method": "POST",
            "path": "/my/path",
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.7",
            "userAgent": "curl/8.5.0",
        },
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "routeKey": "$default",
        "stage": "$default",
        "time": "21/Nov/2026:10:00:00 +0000",
        "timeEpoch": 1795255200123,
    }
    assert event["headers"]["content-type"] == "application/json"
    assert event["headers"]["x-forwarded-for"] == "203.0.113.7"
    assert "cookie" not in event["headers"]


def test_bodyless_request_has_no_body_key() -> None:
    for body in (None, b""):
        event = make_event(method="GET", body=body)
        assert "body" not in event
        assert event["isBase64Encoded"] is False


def test_absolute_form_target() -> None:
    event = make_event(target="http://abc.example/p?q=1")
    assert event["rawPath"] == "/p"
    assert event["rawQueryString"] == "q=1"


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("text/csv", True),
        ("application/x-www-form-urlencoded", True),
        ("application/vnd.api+json", True),
        ("application/xml", True),
        (None, True),
        ("application/octet-stream", False),
        ("image/png", False),
        ("application/x-parquet", False),
    ],
)
def test_text_content_types(content_type: str | None, text: bool) -> None:
    assert is_text_content_type(content_type) is text


header_names = st.text(alphabet="abcdefgXYZ-", min_size=1, max_size=8).filter(
    lambda n: n.lower() not in {"host", "cookie", "user-agent"} and not n.startswith("x-")
)
header_values = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=","),
    min_size=1,
    max_size=10,
)


@given(st.lists(st.tuples(header_names, header_values), max_size=12))
def test_headers_are_lower_cased_and_repeats_comma_joined(pairs: list[tuple[str, str]]) -> None:
    event = make_event(headers=pairs)
    expected: dict[str, list[str]] = {}
    for name, value in pairs:
        expected.setdefault(name.lower(), []).append(value)
    for name, values in expected.items():
        assert event["headers"][name] == ",".join(values)


query_keys = st.text(alphabet="abcxyz_", min_size=1, max_size=5)
query_values = st.text(max_size=8).filter(lambda v: "," not in v)


@given(st.lists(st.tuples(query_keys, query_values), min_size=1, max_size=10))
def test_query_parameters_are_decoded_and_repeats_comma_joined(
    pairs: list[tuple[str, str]],
) -> None:
    raw = "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)
    event = make_event(target=f"/?{raw}")
    assert event["rawQueryString"] == raw
    expected: dict[str, list[str]] = {}
    for key, value in pairs:
        expected.setdefault(key, []).append(value)
    assert event["queryStringParameters"] == {k: ",".join(v) for k, v in expected.items()}


@given(st.binary(min_size=1, max_size=200), st.sampled_from(["application/octet-stream", None]))
def test_any_body_round_trips(body: bytes, content_type: str | None) -> None:
    headers = [("Content-Type", content_type)] if content_type else []
    event = make_event(headers=headers, body=body)
    if event["isBase64Encoded"]:
        assert base64.b64decode(event["body"]) == body
    else:
        assert event["body"].encode("utf-8") == body
        assert content_type is None


# -- results ------------------------------------------------------------------------------------


def test_result_without_status_code_is_a_json_200() -> None:
    raw = json.dumps({"message": "Hello, world!"}).encode()
    response = result_to_response(raw)
    assert response.status == 200
    assert response.headers == [("Content-Type", "application/json")]
    assert response.body == raw


@pytest.mark.parametrize("value", ["Hello, world!", [1, 2], 3.5, None, True])
def test_non_object_results_are_their_json_text(value: object) -> None:
    raw = json.dumps(value).encode()
    response = result_to_response(raw)
    assert response.status == 200
    assert response.body == raw


def test_full_response_description() -> None:
    result = {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain", "X-Count": 3},
        "body": "made",
        "cookies": ["a=1; Max-Age=60", "b=2"],
        "isBase64Encoded": False,
    }
    response = result_to_response(json.dumps(result).encode())
    assert response.status == 201
    assert response.headers == [
        ("Content-Type", "text/plain"),
        ("X-Count", "3"),
        ("Set-Cookie", "a=1; Max-Age=60"),
        ("Set-Cookie", "b=2"),
    ]
    assert response.body == b"made"


def test_base64_body_is_decoded_and_missing_body_is_empty() -> None:
    encoded = base64.b64encode(b"\x00\xff").decode()
    result = {"statusCode": 200, "body": encoded, "isBase64Encoded": True}
    assert result_to_response(json.dumps(result).encode()).body == b"\x00\xff"
    assert result_to_response(b'{"statusCode": 204}').body == b""


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "200"},
        {"statusCode": 99},
        {"statusCode": True},
        {"statusCode": 200, "headers": ["x"]},
        {"statusCode": 200, "headers": {"x": {"nested": 1}}},
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
    ],
)
def test_malformed_response_description_is_502(result: dict) -> None:
    response = result_to_response(json.dumps(result).encode())
    assert response.status == 502
    assert json.loads(response.body) == {"message": "Internal Server Error"}
