"""The HTTP front: function URL requests and the Invoke API (boto3), against real processes."""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from sklambda.local import LocalFunction, LocalServer, serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def web(local_dists: dict[str, Path]) -> Iterator[LocalServer]:
    with serve(local_dists["web"], port=0, timeout=20, concurrency=2) as server:
        yield server


@pytest.fixture(scope="module")
def basic_server(local_dists: dict[str, Path]) -> Iterator[LocalServer]:
    with serve(local_dists["basic"], port=0, timeout=20, concurrency=2) as server:
        yield server


def request(
    server: LocalServer,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> tuple[http.client.HTTPResponse, bytes]:
    """Send one raw request (repeated headers kept) and read the whole response."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.putrequest(method, target, skip_accept_encoding=True)
    for name, value in headers or []:
        conn.putheader(name, value)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def echoed(server: LocalServer, method: str, target: str, **kwargs: Any) -> dict[str, Any]:
    response, data = request(server, method, target, **kwargs)
    assert response.status == 200, data
    return json.loads(data)


def lambda_client(server: LocalServer) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        # Throttling must surface, not be retried away.
        config=Config(retries={"total_max_attempts": 1}),
    )


# -- requests → events ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_every_method_becomes_a_payload_2_event(web: LocalServer, method: str) -> None:
    event = echoed(web, method, "/some/path", headers=[("User-Agent", "pytest-agent")])
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/some/path"
    assert event["rawQueryString"] == ""
    assert "queryStringParameters" not in event
    assert "body" not in event
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"] == {
        "method": method,
        "path": "/some/path",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "pytest-agent",
    }
    assert context["accountId"] == "anonymous"
    assert context["stage"] == context["routeKey"] == "$default"
    assert context["domainName"] == event["headers"]["host"]
    assert isinstance(context["timeEpoch"], int)
    assert len(context["requestId"]) == 36


def test_head_gets_headers_without_a_body(web: LocalServer) -> None:
    response, data = request(web, "HEAD", "/")
    assert response.status == 200
    assert data == b""
    assert int(response.getheader("Content-Length")) > 0


def test_query_strings_and_repeated_headers(web: LocalServer) -> None:
    event = echoed(
        web,
        "GET",
        "/q?name=Jane&tag=a&tag=b&empty=&sp=a%20b",
        headers=[("X-Multi", "one"), ("x-multi", "two"), ("X-Single", "Value")],
    )
    assert event["rawQueryString"] == "name=Jane&tag=a&tag=b&empty=&sp=a%20b"
    assert event["queryStringParameters"] == {
        "name": "Jane",
        "tag": "a,b",
        "empty": "",
        "sp": "a b",
    }
    assert event["headers"]["x-multi"] == "one,two"
    assert event["headers"]["x-single"] == "Value"
    assert all(name == name.lower() for name in event["headers"])


def test_cookies_become_a_list(web: LocalServer) -> None:
    event = echoed(web, "GET", "/", headers=[("Cookie", "a=1; b=2"), ("Cookie", "c=3")])
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert "cookie" not in event["headers"]


def test_text_body_is_a_string(web: LocalServer) -> None:
    body = json.dumps({"instances": [[3, 20]], "name": "café"}).encode()
    event = echoed(
        web, "POST", "/predict", body=body, headers=[("Content-Type", "application/json")]
    )
    assert event["body"] == body.decode()
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/octet-stream", b"plain ascii but declared binary"),
        ("text/plain", b"\xff\xfe not utf-8 \x00"),
        ("image/png", bytes(range(256))),
    ],
)
def test_binary_body_is_base64(web: LocalServer, content_type: str, body: bytes) -> None:
    event = echoed(web, "PUT", "/upload", body=body, headers=[("Content-Type", content_type)])
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_chunked_request_body(web: LocalServer) -> None:
    parts = urlsplit(web.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(
        "POST",
        "/chunked",
        body=iter([b"hello ", b"chunked ", b"world"]),
        headers={"Content-Type": "text/plain"},
        encode_chunked=True,
    )
    event = json.loads(conn.getresponse().read())
    conn.close()
    assert event["body"] == "hello chunked world"


# -- results → responses --------------------------------------------------------------------------


def test_plain_json_result_is_a_200_json_response(web: LocalServer) -> None:
    response, data = request(web, "GET", "/plain")
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(data) == {"answer": 42}


def test_string_result_is_its_json_text(web: LocalServer) -> None:
    response, data = request(web, "GET", "/string")
    assert response.status == 200
    assert data == b'"Hello, world!"'


def test_binary_result_is_decoded(web: LocalServer) -> None:
    response, data = request(web, "GET", "/binary")
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/octet-stream"
    assert data == bytes(range(256))


def test_status_headers_and_cookies(web: LocalServer) -> None:
    response, data = request(web, "GET", "/cookies")
    assert response.status == 201
    assert data == b"made"
    assert response.getheader("x-custom") == "yes"
    assert response.headers.get_all("Set-Cookie") == ["a=1; Max-Age=60", "b=2; Path=/"]
    assert response.getheader("x-amzn-RequestId")


@pytest.mark.parametrize("path", ["/raise", "/malformed"])
def test_function_errors_are_502(web: LocalServer, path: str) -> None:
    response, data = request(web, "GET", path)
    assert response.status == 502
    assert json.loads(data) == {"message": "Internal Server Error"}


def test_init_error_through_the_url_is_502(local_dists: dict[str, Path]) -> None:
    with serve(local_dists["init_error"], port=0, timeout=10) as server:
        response, data = request(server, "GET", "/")
    assert response.status == 502
    assert json.loads(data) == {"message": "Internal Server Error"}


def test_request_over_6_mb_is_413(web: LocalServer) -> None:
    response, _ = request(web, "POST", "/", body=b"x" * (6 * 1024 * 1024 + 1))
    assert response.status == 413


# -- the Invoke API (boto3) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["basic", "function", "arn:aws:lambda:us-east-1:123456789012:function:basic"]
)
def test_boto3_invoke(basic_server: LocalServer, name: str) -> None:
    client = lambda_client(basic_server)
    response = client.invoke(FunctionName=name, Payload=json.dumps({"action": "echo", "n": 1}))
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    payload = json.loads(response["Payload"].read())
    assert payload["event"] == {"action": "echo", "n": 1}
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == payload["request_id"]


def test_boto3_invoke_with_log_tail(basic_server: LocalServer) -> None:
    """``LogType=Tail``: the invocation's own log, START to REPORT, base64 in ``LogResult``."""
    import base64

    client = lambda_client(basic_server)
    response = client.invoke(
        FunctionName="basic", Payload=json.dumps({"action": "echo"}), LogType="Tail"
    )
    request_id = json.loads(response["Payload"].read())["request_id"]
    tail = base64.b64decode(response["LogResult"]).decode()
    lines = tail.splitlines()
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert f"handling echo {request_id}" in tail  # what the handler printed
    assert lines[-2] == f"END RequestId: {request_id}"
    assert lines[-1].startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    assert "Billed Duration: " in lines[-1] and "Max Memory Used: " in lines[-1]
    # Without LogType there is no LogResult, as on AWS.
    plain = client.invoke(FunctionName="basic", Payload=json.dumps({"action": "echo"}))
    assert "LogResult" not in plain


def test_the_log_tail_is_the_last_4_kb() -> None:
    from sklambda.local.function import InvokeResult
    from sklambda.local.report import Report

    report = Report.build(
        request_id="r",
        duration_ms=1.0,
        memory_size_mb=128,
        max_memory_used_mb=1,
        init_duration_ms=None,
        log_stream="s",
    )
    lines = tuple(f"line {i:05d}" for i in range(1000))
    result = InvokeResult(None, None, report, b"", lines)
    tail = result.log_tail()
    assert len(tail.encode()) == 4096
    assert tail.endswith("line 00999\n")


def test_boto3_invoke_function_error(basic_server: LocalServer) -> None:
    response = lambda_client(basic_server).invoke(
        FunctionName="basic", Payload=json.dumps({"action": "raise"})
    )
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "the handler says no"


def test_boto3_invoke_init_error(local_dists: dict[str, Path]) -> None:
    with serve(local_dists["missing_import"], port=0, timeout=10) as server:
        response = lambda_client(server).invoke(FunctionName="function", Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "Runtime.ImportModuleError"


def test_boto3_errors_for_unknown_function_and_bad_json(basic_server: LocalServer) -> None:
    client = lambda_client(basic_server)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="other", Payload=b"{}")
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="basic", Payload=b"{not json")


def test_invoke_payload_nested_thousands_deep_is_a_400_not_a_dropped_connection(
    basic_server: LocalServer,
) -> None:
    """The front parses with the service's parser: depth is bounded before it recurses."""
    deep = b"[" * 5000 + b"]" * 5000
    response, body = request(
        basic_server, "POST", "/2015-03-31/functions/basic/invocations", body=deep
    )
    assert response.status == 400
    assert response.getheader("x-amzn-ErrorType") == "InvalidRequestContentException"
    assert "5000 deep" in json.loads(body)["message"]
    client = lambda_client(basic_server)
    nested = {"action": "echo", "n": json.loads("[" * 400 + "]" * 400)}  # deep, but bounded
    answer = json.loads(
        client.invoke(FunctionName="basic", Payload=json.dumps(nested))["Payload"].read()
    )
    assert answer["event"] == nested


def test_boto3_dry_run_and_event_invocations(basic_server: LocalServer) -> None:
    client = lambda_client(basic_server)
    assert client.invoke(FunctionName="basic", InvocationType="DryRun")["StatusCode"] == 204
    accepted = client.invoke(
        FunctionName="basic", InvocationType="Event", Payload=json.dumps({"action": "echo"})
    )
    assert accepted["StatusCode"] == 202


def test_boto3_throttled_when_all_environments_are_busy(
    local_dists: dict[str, Path],
) -> None:
    import socket
    from concurrent.futures import ThreadPoolExecutor

    function = LocalFunction(local_dists["basic"], timeout=20, concurrency=1, max_wait=0)
    with (
        function,
        serve(function, port=0) as server,
        socket.create_server(("127.0.0.1", 0)) as gate,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        gate.settimeout(30)
        client = lambda_client(server)
        blocked = pool.submit(
            client.invoke,
            FunctionName="basic",
            Payload=json.dumps({"action": "block", "port": gate.getsockname()[1]}),
        )
        conn, _ = gate.accept()
        with conn:
            with pytest.raises(client.exceptions.TooManyRequestsException):
                client.invoke(FunctionName="basic", Payload=b"{}")
            conn.sendall(b"!")
            assert blocked.result(timeout=30)["StatusCode"] == 200


def test_serve_refuses_non_loopback_hosts(local_dists: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="loopback"):
        serve(local_dists["web"], host="0.0.0.0", port=0)
