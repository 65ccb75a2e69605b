"""`sklambda serve`'s console and lifecycle: request blocks, --host checks, SIGTERM at any time."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli

pytestmark = pytest.mark.slow

TALKER = """
import sys


def handler(event, context):
    path = event["rawPath"]
    print(f"stdout line for {path}")
    print(f"stderr line for {path}", file=sys.stderr)
    return {"statusCode": 201 if path == "/made" else 200, "body": "ok"}
"""


@pytest.fixture(scope="module")
def talker(tmp_path_factory: pytest.TempPathFactory, local_dist_maker: Any) -> Path:
    return local_dist_maker(tmp_path_factory.mktemp("talker"), "talker", TALKER)


def start_serve(dist: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sklambda", "serve", str(dist), "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_shows_each_requests_lines_whole_with_method_path_and_status(talker: Path) -> None:
    process = start_serve(talker, "--concurrency", "4")
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[2]

        def get(i: int) -> int:
            path = "/made" if i % 2 else f"/r{i}"
            with urllib.request.urlopen(f"{url.rstrip('/')}{path}", timeout=60) as response:
                return response.status

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(get, range(40)))
        assert sorted(set(statuses)) == [200, 201]
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    lines = err.splitlines()
    access = [i for i, line in enumerate(lines) if re.match(r"^GET /\S+ \d{3}  ", line)]
    assert len(access) == 40
    for index in access:
        _, path, status = lines[index].split()[:3]
        # The block: the function's stdout and stderr lines, then its REPORT, never another's.
        block = lines[index + 1 : index + 4]
        assert block[0] == f"  stdout line for {path}" or block[1] == f"  stdout line for {path}"
        assert f"  stderr line for {path}" in block[:2]
        assert block[2].startswith("REPORT RequestId: ")
        assert status == ("201" if path == "/made" else "200")
    reports = [line for line in lines if "REPORT RequestId" in line]
    assert len(reports) == 40 and all(line.startswith("REPORT RequestId: ") for line in reports)
    assert all(line.count("REPORT") == 1 for line in reports)  # none merged


@pytest.mark.parametrize(
    "host", ["127.evil.example", "0.0.0.0", "192.168.1.10", "localhost.evil", "::ffff:8.8.8.8"]
)
def test_serve_refuses_non_loopback_hosts_in_one_line(talker: Path, host: str) -> None:
    result = run_cli("serve", str(talker), "--host", host, "--port", "0")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "loopback" in result.stderr


def test_a_dns_name_is_refused_without_resolving_it(talker: Path) -> None:
    from sklambda.local.errors import SettingsError
    from sklambda.local.function_url import check_loopback

    # .invalid never resolves (RFC 6761): a check that resolved would fail differently.
    with pytest.raises(SettingsError, match="never resolved"):
        check_loopback("127.0.0.1.invalid")
    assert check_loopback("127.0.0.2") == "127.0.0.2" and check_loopback("::1") == "::1"
    assert check_loopback("10.0.0.5", allow_any=True) == "10.0.0.5"
    with pytest.raises(SettingsError, match="allow-remote|allow_remote"):
        check_loopback("10.0.0.5")


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2, 0.6])
def test_sigterm_soon_after_start_always_stops_serve(talker: Path, delay: float) -> None:
    process = start_serve(talker)
    time.sleep(delay)
    process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"serve ignored a SIGTERM sent {delay} s after start")
    assert process.returncode in (0, -signal.SIGTERM)


def test_sigterm_once_serving_stops_cleanly(talker: Path) -> None:
    process = start_serve(talker)
    assert process.stdout is not None
    url = process.stdout.readline().split()[2]
    with urllib.request.urlopen(url, timeout=60) as response:
        assert json.loads(b'"' + response.read() + b'"') == "ok"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err


def test_serve_aws_iam_with_a_credentials_file(talker: Path, tmp_path: Path) -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps([{"access_key": "AKIACLI", "secret_key": "s3cret"}]))
    process = start_serve(talker, "--auth-type", "AWS_IAM", "--credentials", str(creds))
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[2]
        assert "AWS_IAM" in process.stdout.readline()

        def status(secret: str) -> int:
            request = AWSRequest(method="GET", url=f"{url}signed", data=b"")
            SigV4Auth(Credentials("AKIACLI", secret), "lambda", "us-east-1").add_auth(request)
            prepared = urllib.request.Request(f"{url}signed", headers=dict(request.headers))
            try:
                with urllib.request.urlopen(prepared, timeout=60) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code

        assert status("s3cret") == 200
        assert status("wrong") == 403
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "GET /signed 403" in err and "GET /signed 200" in err


def test_serve_cors_origin_answers_preflights(talker: Path) -> None:
    import http.client
    from urllib.parse import urlsplit

    process = start_serve(talker, "--cors-origin", "http://localhost:3000")
    try:
        assert process.stdout is not None
        parts = urlsplit(process.stdout.readline().split()[2])
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.request(
            "OPTIONS",
            "/predict",
            headers={
                "Origin": "http://localhost:3000",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        response = conn.getresponse()
        response.read()
        conn.close()
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert response.status == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "OPTIONS /predict 200" in err and "REPORT" not in err  # the function never ran
