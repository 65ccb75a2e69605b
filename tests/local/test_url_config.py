"""The function URL configured as on AWS: AWS_IAM (SigV4) and CORS, through real processes (#11)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from sklambda.local import LocalServer, serve
from sklambda.local.cors import Cors
from sklambda.local.errors import SettingsError
from sklambda.local.iam_auth import IamCredentials

pytestmark = pytest.mark.slow

CALLER = IamCredentials(
    "AKIALOCALTEST0000001",
    "right-secret",
    account_id="111122223333",
    user_arn="arn:aws:iam::111122223333:user/alice",
    user_id="AIDALOCALALICE",
)

FRONT_HANDLER = """
import json, sys


def handler(event, context):
    path = event["rawPath"]
    if path == "/split":
        return {"statusCode": 200, "headers": {"x-evil": "a\\r\\nSet-Cookie: pwned=1"}, "body": "x"}
    if path == "/cors-headers":
        return {"statusCode": 200, "headers": {"access-control-allow-origin": "https://evil"},
                "body": "x"}
    if path == "/talk":
        print("to stdout from the function")
        print("to stderr from the function", file=sys.stderr)
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(event)}
"""


@pytest.fixture(scope="module")
def front_dist(tmp_path_factory: pytest.TempPathFactory, local_dist_maker: Any) -> Path:
    return local_dist_maker(tmp_path_factory.mktemp("front"), "front", FRONT_HANDLER)


@pytest.fixture(scope="module")
def iam_server(front_dist: Path) -> Iterator[LocalServer]:
    with serve(front_dist, port=0, timeout=20, auth_type="AWS_IAM", credentials=[CALLER]) as s:
        yield s


@pytest.fixture(scope="module")
def cors_server(front_dist: Path) -> Iterator[LocalServer]:
    cors = {
        "AllowOrigins": ["https://app.example.com"],
        "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["content-type", "x-custom"],
        "ExposeHeaders": ["x-amzn-requestid"],
        "MaxAge": 600,
    }
    with serve(front_dist, port=0, timeout=20, cors=cors) as s:
        yield s


def send(
    server: LocalServer,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(method, target, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response.headers, data


def signed(
    server: LocalServer, secret: str, method: str, target: str, body: bytes | None
) -> dict[str, str]:
    """Headers botocore's signer puts on the request (what any SigV4 client sends)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    host = urlsplit(server.url).netloc
    request = AWSRequest(
        method=method,
        url=f"http://{host}{target}",
        data=body or b"",
        headers={"content-type": "application/json"},
    )
    SigV4Auth(Credentials(CALLER.access_key, secret), "lambda", "us-east-1").add_auth(request)
    return dict(request.headers.items())


# -- AWS_IAM ---------------------------------------------------------------------------------------


def test_signed_with_the_right_secret_is_200_with_the_iam_authorizer(
    iam_server: LocalServer,
) -> None:
    body = b'{"instances": [[1, 2]]}'
    headers = signed(iam_server, "right-secret", "POST", "/predict?x=1&a=b", body)
    status, _, data = send(iam_server, "POST", "/predict?x=1&a=b", body, headers)
    assert status == 200, data
    context = json.loads(data)["requestContext"]
    assert context["authorizer"]["iam"] == {
        "accessKey": CALLER.access_key,
        "accountId": "111122223333",
        "callerId": "AIDALOCALALICE",
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": "arn:aws:iam::111122223333:user/alice",
        "userId": "AIDALOCALALICE",
    }
    # The function owner's account, no longer "anonymous".
    assert context["accountId"] == iam_server.function.arn.split(":")[4]


def test_signed_with_the_wrong_secret_is_403(iam_server: LocalServer) -> None:
    body = b'{"instances": [[1, 2]]}'
    headers = signed(iam_server, "wrong-secret", "POST", "/predict", body)
    status, response_headers, data = send(iam_server, "POST", "/predict", body, headers)
    assert status == 403
    assert response_headers["content-type"] == "application/json"
    assert "signature we calculated does not match" in json.loads(data)["message"]


def test_unsigned_and_tampered_requests_are_403(iam_server: LocalServer) -> None:
    status, _, data = send(iam_server, "GET", "/")
    assert (status, json.loads(data)) == (403, {"Message": "Forbidden"})
    body = b'{"instances": [[1, 2]]}'
    headers = signed(iam_server, "right-secret", "POST", "/predict", body)
    status, _, data = send(iam_server, "POST", "/predict", b'{"instances": [[9, 9]]}', headers)
    assert status == 403  # the body is not the one signed
    status, _, data = send(iam_server, "POST", "/other", body, headers)
    assert status == 403  # nor the path


def test_unknown_key_and_expired_signature_are_403(iam_server: LocalServer) -> None:
    headers = signed(iam_server, "right-secret", "GET", "/", None)
    headers["Authorization"] = headers["Authorization"].replace(CALLER.access_key, "AKIAUNKNOWN")
    status, _, data = send(iam_server, "GET", "/", None, headers)
    assert status == 403 and "security token" in json.loads(data)["message"]
    old = signed(iam_server, "right-secret", "GET", "/", None)
    stamp = old["X-Amz-Date"]
    old["X-Amz-Date"] = f"{int(stamp[:4]) - 1}{stamp[4:]}"
    status, _, data = send(iam_server, "GET", "/", None, old)
    assert status == 403


def test_aws_iam_without_any_credentials_is_a_settings_error(
    front_dist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    with pytest.raises(SettingsError, match="AWS_ACCESS_KEY_ID"):
        serve(front_dist, port=0, auth_type="AWS_IAM")


def test_a_none_url_stays_anonymous(front_dist: Path) -> None:
    with serve(front_dist, port=0, timeout=20) as server:
        status, _, data = send(server, "GET", "/")
    context = json.loads(data)["requestContext"]
    assert status == 200 and context["accountId"] == "anonymous" and "authorizer" not in context


# -- CORS ------------------------------------------------------------------------------------------


def test_preflight_is_answered_by_the_front(cors_server: LocalServer) -> None:
    before = len(cors_server.function.reports)
    status, headers, data = send(
        cors_server,
        "OPTIONS",
        "/predict",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type, X-Custom",
        },
    )
    assert status == 200 and data == b""
    assert headers["access-control-allow-origin"] == "https://app.example.com"
    assert set(headers["access-control-allow-methods"].split(", ")) == {"GET", "POST"}
    assert headers["access-control-allow-headers"] == "content-type, x-custom"
    assert headers["access-control-max-age"] == "600"
    assert len(cors_server.function.reports) == before  # the function never ran


def test_preflight_from_another_origin_gets_no_allow_headers(cors_server: LocalServer) -> None:
    status, headers, _ = send(
        cors_server,
        "OPTIONS",
        "/",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert status == 200 and "access-control-allow-origin" not in headers


def test_responses_carry_the_urls_cors_headers_not_the_functions(
    cors_server: LocalServer,
) -> None:
    status, headers, _ = send(
        cors_server, "GET", "/cors-headers", headers={"Origin": "https://app.example.com"}
    )
    assert status == 200
    assert headers.get_all("access-control-allow-origin") == ["https://app.example.com"]
    assert headers["access-control-expose-headers"] == "x-amzn-requestid"
    status, headers, _ = send(cors_server, "GET", "/", headers={"Origin": "https://evil.example"})
    assert status == 200 and "access-control-allow-origin" not in headers


def test_without_cors_a_preflight_reaches_the_function(front_dist: Path) -> None:
    with serve(front_dist, port=0, timeout=20) as server:
        status, _, data = send(
            server,
            "OPTIONS",
            "/",
            headers={"Origin": "https://a.example", "Access-Control-Request-Method": "POST"},
        )
    assert status == 200 and json.loads(data)["requestContext"]["http"]["method"] == "OPTIONS"


def test_cors_round_trips_awss_shape() -> None:
    config = {
        "AllowOrigins": ["https://a.example"],
        "AllowMethods": ["GET"],
        "AllowHeaders": ["content-type"],
        "ExposeHeaders": ["x-a"],
        "MaxAge": 60,
        "AllowCredentials": True,
    }
    assert Cors.from_aws(config).to_aws() == config
    with pytest.raises(SettingsError, match="unknown CORS keys"):
        Cors.from_aws({"AllowOrigin": ["*"]})
    with pytest.raises(SettingsError, match="scheme and host"):
        Cors(allow_origins=("app.example.com",))


# -- the handler's response headers ----------------------------------------------------------------


def test_a_handler_header_with_crlf_is_a_502_not_a_split_response(front_dist: Path) -> None:
    with serve(front_dist, port=0, timeout=20) as server:
        status, headers, data = send(server, "GET", "/split")
    assert status == 502
    assert "set-cookie" not in headers and b"pwned" not in data
    assert json.loads(data) == {"message": "Internal Server Error"}


def test_an_invoke_over_6_mb_is_request_too_large_for_boto3(front_dist: Path) -> None:
    import boto3
    from botocore.config import Config

    with serve(front_dist, port=0, timeout=20) as server:
        client = boto3.client(
            "lambda",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"total_max_attempts": 1}),
        )
        with pytest.raises(client.exceptions.RequestTooLargeException):
            client.invoke(FunctionName="front", Payload=b'"' + b"x" * (6 * 1024 * 1024) + b'"')
