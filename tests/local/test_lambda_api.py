"""The Invoke API of the local front through boto3: qualifiers, GetFunction, error types,
LogType=Tail, and asynchronous invokes (issue 11 items 7-8, issue 15 item 6)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sklambda.local import LocalFunction, LocalServer, serve

pytestmark = pytest.mark.slow

ASYNC_HANDLER = """
import json, os, time

def handler(event, context):
    if event.get("fail"):
        print("attempt for", context.aws_request_id)
        raise RuntimeError("always fails")
    time.sleep(event.get("sleep", 0))
    print("ran", event.get("n"))
    return {"n": event.get("n"), "request_id": context.aws_request_id}
"""


def lambda_client(server: LocalServer) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def api_dist(tmp_path_factory: pytest.TempPathFactory, local_dist_maker) -> Path:
    return local_dist_maker(tmp_path_factory.mktemp("api"), "api", ASYNC_HANDLER)


@pytest.fixture(scope="module")
def server(api_dist: Path) -> Iterator[LocalServer]:
    with serve(api_dist, port=0, timeout=20, concurrency=2) as running:
        yield running


def test_qualifier_live_with_log_tail_returns_the_answer_and_the_log(server: LocalServer) -> None:
    """Issue 11's acceptance: ``invoke(..., Qualifier="live", LogType="Tail")``."""
    client = lambda_client(server)
    response = client.invoke(
        FunctionName="api", Qualifier="live", LogType="Tail", Payload=json.dumps({"n": 7})
    )
    answer = json.loads(response["Payload"].read())
    assert answer["n"] == 7
    assert response["ExecutedVersion"] == "1"
    tail = base64.b64decode(response["LogResult"]).decode()
    assert f"START RequestId: {answer['request_id']}" in tail
    assert "ran 7" in tail
    assert f"REPORT RequestId: {answer['request_id']}" in tail


@pytest.mark.parametrize(
    ("name", "qualifier", "executed"),
    [
        ("api", "$LATEST", "$LATEST"),
        ("api", "3", "3"),
        ("api:live", None, "1"),
        ("arn:aws:lambda:us-east-1:123456789012:function:api:live", None, "1"),
        ("123456789012:function:api", None, "$LATEST"),
    ],
)
def test_versions_and_aliases_are_the_same_package(
    server: LocalServer, name: str, qualifier: str | None, executed: str
) -> None:
    kwargs = {"Qualifier": qualifier} if qualifier else {}
    response = lambda_client(server).invoke(FunctionName=name, Payload=b'{"n": 1}', **kwargs)
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == executed


def test_unknown_qualifier_and_mismatch_are_lambdas_errors(server: LocalServer) -> None:
    client = lambda_client(server)
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="staging"):
        client.invoke(FunctionName="api", Qualifier="staging", Payload=b"{}")
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="derived"):
        client.invoke(FunctionName="api:live", Qualifier="2", Payload=b"{}")


def test_get_function_gives_the_configuration_and_a_code_location(server: LocalServer) -> None:
    client = lambda_client(server)
    found = client.get_function(FunctionName="api", Qualifier="live")
    config = found["Configuration"]
    assert config["FunctionName"] == "api"
    assert config["FunctionArn"].endswith(":function:api:live")
    assert config["Runtime"] == "python3.12" and config["Handler"] == "api_handler.handler"
    assert config["MemorySize"] == 1024 and config["Timeout"] == 20
    assert config["EphemeralStorage"] == {"Size": 512}
    assert found["Code"]["Location"].startswith("file://")
    assert found["Code"]["Location"].endswith("function.zip")
    assert client.get_function_configuration(FunctionName="api")["Version"] == "$LATEST"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName="other")


def test_over_6_mb_is_request_too_large_exception(server: LocalServer) -> None:
    client = lambda_client(server)
    with pytest.raises(client.exceptions.RequestTooLargeException):
        client.invoke(FunctionName="api", Payload=b'{"b": "' + b"x" * (6 * 1024 * 1024) + b'"}')


def test_async_over_1_mb_is_refused(server: LocalServer) -> None:
    client = lambda_client(server)
    big = b'{"b": "' + b"x" * (1024 * 1024) + b'"}'
    with pytest.raises(client.exceptions.RequestTooLargeException, match="1048576"):
        client.invoke(FunctionName="api", InvocationType="Event", Payload=big)


def test_forty_event_invokes_all_run_even_when_no_environment_is_free(api_dist: Path) -> None:
    """Issue 15 item 6: accepted (202) means run, not dropped after ``max_wait``."""
    from concurrent.futures import ThreadPoolExecutor

    function = LocalFunction(api_dist, timeout=20, concurrency=1, max_wait=0.05)
    with function, serve(function, port=0) as running, ThreadPoolExecutor(1) as pool:
        client = lambda_client(running)
        # A synchronous caller holds the only environment for a second while the events come.
        held = pool.submit(client.invoke, FunctionName="api", Payload=b'{"n": -1, "sleep": 1}')
        deadline = time.monotonic() + 30
        while not function.environments and time.monotonic() < deadline:
            time.sleep(0.02)
        for n in range(40):
            reply = client.invoke(
                FunctionName="api", InvocationType="Event", Payload=json.dumps({"n": n})
            )
            assert reply["StatusCode"] == 202
        assert held.result(timeout=30)["StatusCode"] == 200
        assert running.api.wait_idle(60)
        ran = [r for r in function.reports if r.status is None]
    assert len(ran) == 41
    assert running.api.stats.succeeded == 40 and running.api.stats.accepted == 40


def test_a_failing_event_is_tried_three_times_then_counted_failed(api_dist: Path) -> None:
    function = LocalFunction(api_dist, timeout=20, concurrency=1)
    with function, serve(function, port=0) as running:
        running.api.retry_delays = (0.0, 0.0)
        reply = lambda_client(running).invoke(
            FunctionName="api", InvocationType="Event", Payload=b'{"fail": true}'
        )
        request_id = reply["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
        assert running.api.wait_idle(60)
        attempts = [r for r in function.reports if r.request_id == request_id]
    assert len(attempts) == 3  # the first try and Lambda's two retries, same request id
    assert running.api.stats.failed == 1 and running.api.stats.retries == 2


def test_a_full_queue_is_a_clear_429(api_dist: Path) -> None:
    from sklambda.local.lambda_api import LambdaAPI

    function = LocalFunction(api_dist, timeout=20, concurrency=1)
    with function, serve(function, port=0) as running:
        running.api = LambdaAPI(function, queue_size=2)
        client = lambda_client(running)
        statuses = []
        errors = []
        for _ in range(6):
            try:
                statuses.append(
                    client.invoke(
                        FunctionName="api", InvocationType="Event", Payload=b'{"sleep": 1}'
                    )["StatusCode"]
                )
            except client.exceptions.TooManyRequestsException as exc:
                errors.append(str(exc))
        assert errors, statuses
        assert "asynchronous queue is full (2 events" in errors[0]
        running.api.close()
        # What was still queued is not run, and is counted.
        assert running.api.stats.dropped_at_close >= 1
        started = time.monotonic()
    assert time.monotonic() - started < 30
