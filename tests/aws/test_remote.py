"""``sklambda invoke NAME --remote``: a SigV4-signed POST to the function URL, or the Invoke API.

The signature is checked by a server on 127.0.0.1 that verifies it the way AWS does, with
botocore's own SigV4 code: it rebuilds the canonical request from what arrived (method, path,
query, the signed headers, the body's sha256), signs it with the caller's secret at the request's
own ``X-Amz-Date``, and compares. A wrong secret, or a body changed on the way, fails.

What moto cannot show: its Invoke runs nothing without Docker and returns no log; the request
(``Qualifier=live``, ``LogType=Tail``, the payload) is read from a recording stand-in in front of
moto, and the REPORT line from the local emulator's Invoke API, which serves alias ``live``.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from sklambda.aws import AwsClient, deploy
from sklambda.aws.remote import csv_request, invoke_remote, signed_headers
from tests.support.aws import REGION, make_dist
from tests.support.lambda_standin import lambda_standin


def verify_sigv4(
    method: str, url: str, headers: dict[str, str], body: bytes, secret: str, token: str | None
) -> str:
    """ "" when the request's SigV4 signature is right for ``secret``, else why not."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    authorization = headers.get("Authorization") or headers.get("authorization") or ""
    if not authorization.startswith("AWS4-HMAC-SHA256 "):
        return "not SigV4"
    fields = dict(part.strip().split("=", 1) for part in authorization[17:].split(","))
    access_key, date, region, service, _ = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    lowered = {k.lower(): v for k, v in headers.items()}
    lowered.setdefault("host", urlsplit(url).netloc)  # headers as signed, before sending
    for needed in ("host", "x-amz-date"):
        if needed not in signed:
            return f"{needed} is not signed"
    rebuilt = AWSRequest(
        method=method, url=url, data=body, headers={h: lowered[h] for h in signed if h != "host"}
    )
    rebuilt.headers["host"] = lowered["host"]
    rebuilt.context["timestamp"] = lowered["x-amz-date"]
    auth = SigV4Auth(Credentials(access_key, secret, token), service, region)
    canonical = auth.canonical_request(rebuilt)
    expected = auth.signature(auth.string_to_sign(rebuilt, canonical), rebuilt)
    if expected != fields["Signature"]:
        return "signature does not match"
    if service != "lambda" or date != lowered["x-amz-date"][:8]:
        return "wrong scope"
    return ""


class _Verifier(http.server.BaseHTTPRequestHandler):
    secret = "testing"
    seen: list[dict[str, Any]] = []  # noqa: RUF012 - per-class state of this test double

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = dict(self.headers.items())
        url = f"http://{self.headers['host']}{self.path}"
        problem = verify_sigv4(
            "POST", url, headers, body, self.secret, headers.get("X-Amz-Security-Token")
        )
        self.seen.append({"headers": headers, "body": body, "problem": problem})
        status, answer = (403, {"message": problem}) if problem else (200, {"predictions": [1.5]})
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def verifier() -> Iterator[str]:
    _Verifier.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Verifier)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/predict?explain=no"
    server.shutdown()
    server.server_close()


def test_signed_request_verifies_and_a_forgery_does_not(aws_env: None, verifier: str) -> None:
    client = AwsClient(region=REGION)
    body = json.dumps({"instances": [{"x": 5.0}]}).encode()
    answer = invoke_remote(client, "anything", body, url=verifier)
    assert (answer.status, json.loads(answer.body)) == (200, {"predictions": [1.5]})
    (seen,) = _Verifier.seen
    assert seen["problem"] == "" and seen["body"] == body
    assert seen["headers"]["X-Amz-Security-Token"] == "testing"  # session token signed along
    assert "Credential=testing/" in seen["headers"]["Authorization"]
    assert f"/{REGION}/lambda/aws4_request" in seen["headers"]["Authorization"]

    # Negative controls: the verifier is not vacuous.
    headers = signed_headers(client, verifier, body)
    secret_wrong = verify_sigv4("POST", verifier, headers, body, "other-secret", "testing")
    assert secret_wrong == "signature does not match"
    tampered = verify_sigv4("POST", verifier, headers, body + b" ", "testing", "testing")
    assert tampered == "signature does not match"


def test_cli_remote_invoke_via_url_with_csv(
    aws_env: None, verifier: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sklambda.cli import main

    rows = tmp_path / "rows.csv"
    rows.write_text("rooms,area,district\n3,81.5,north\n,70,south\n")
    assert json.loads(csv_request(rows)) == {
        "instances": [
            {"rooms": 3.0, "area": 81.5, "district": "north"},
            {"rooms": None, "area": 70.0, "district": "south"},
        ]
    }
    code = main(
        ["invoke", "houses", "--remote", "--csv", str(rows), "--url", verifier, "--region", REGION]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert f"HTTP 200 (url: {verifier})" in captured.err
    assert json.loads(captured.out) == {"predictions": [1.5]}
    assert _Verifier.seen[-1]["problem"] == ""

    _Verifier.secret = "rotated"  # the server now expects another secret: refused (4xx: exit 2)
    try:
        assert main(["invoke", "houses", "--remote", "--json", "{}", "--url", verifier]) == 2
        assert "HTTP 403" in capsys.readouterr().err
    finally:
        _Verifier.secret = "testing"


def test_remote_invoke_via_invoke_api(endpoint: str, tmp_path: Path) -> None:
    dist = make_dist(tmp_path / "a", code="a")
    with lambda_standin(endpoint) as standin:
        client = AwsClient(region=REGION, endpoint_url=standin.url)
        deploy(client, dist, "called")
        body = json.dumps({"instances": [{"x": 5.0}]}).encode()
        answer = invoke_remote(client, "called", body, via="invoke")
        assert answer.via == "invoke" and answer.target == "called:live"
        assert answer.status == 200
        (sent,) = [
            r for r in standin.raw if r[1].startswith("/2015-03-31/functions/called/invocations")
        ]
        method, path, headers, payload = sent
        assert method == "POST" and path.endswith("?Qualifier=live")
        assert headers["X-Amz-Log-Type"] == "Tail"
        assert payload == body
        assert answer.report is None  # moto returns no log (see the module docstring)


def test_remote_invoke_refusals(aws_env: None, endpoint: str) -> None:
    from sklambda.aws import DeployError
    from sklambda.errors import SklambdaError

    client = AwsClient(region=REGION, endpoint_url=endpoint)
    with pytest.raises(DeployError, match="has no function URL on live"):
        invoke_remote(client, "nobody-here", b"{}")
    with pytest.raises(SklambdaError, match="--url goes with --via url"):
        invoke_remote(client, "x", b"{}", via="invoke", url="http://127.0.0.1:1/")


@pytest.mark.slow
def test_via_invoke_prints_the_report_line_from_the_emulator(
    aws_env: None, local_dists: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The emulator's Invoke API answers alias ``live`` with ``LogType=Tail`` as Lambda does."""
    from sklambda.cli import main
    from sklambda.local import serve

    with serve(local_dists["basic"], port=0) as server:
        client = AwsClient(region=REGION, endpoint_url=server.url)
        answer = invoke_remote(client, "function", b'{"action": "echo"}', via="invoke")
        assert answer.status == 200 and answer.function_error is None
        assert answer.report is not None and answer.report.startswith("REPORT RequestId: ")
        assert "Init Duration" in answer.report  # the first invoke was a cold start
        argv = ["invoke", "function", "--remote", "--via", "invoke", "--json", "{}"]
        assert main([*argv, "--endpoint-url", server.url, "--region", REGION]) == 0
    err = capsys.readouterr().err
    assert "HTTP 200 (invoke: function:live)" in err
    assert "REPORT RequestId: " in err
