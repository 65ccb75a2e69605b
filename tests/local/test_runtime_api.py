"""The Runtime API server spoken to directly over HTTP, as a runtime would (no processes)."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from sklambda.local.runtime_api import MAX_PAYLOAD_BYTES, Invocation, Outcome, RuntimeAPIServer

ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"


@pytest.fixture
def api() -> Iterator[RuntimeAPIServer]:
    server = RuntimeAPIServer()
    yield server
    server.close()


def call(
    api: RuntimeAPIServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(api.address, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), data


def next_in_background(pool: ThreadPoolExecutor, api: RuntimeAPIServer) -> Future:
    return pool.submit(call, api, "GET", "/2018-06-01/runtime/invocation/next")


def test_next_blocks_until_an_event_and_carries_lambdas_headers(api: RuntimeAPIServer) -> None:
    invocation = Invocation(b'{"x": 1}', function_arn=ARN, timeout_s=3, client_context='{"a":1}')
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = next_in_background(pool, api)
        assert api.wait_ready(10)  # the /next call marks the end of init
        assert not pending.done()
        before_ms = time.time() * 1000
        api.submit(invocation)
        status, headers, body = pending.result(timeout=10)
    assert status == 200
    assert body == b'{"x": 1}'
    assert headers["Lambda-Runtime-Aws-Request-Id"] == invocation.request_id
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == ARN
    assert headers["Lambda-Runtime-Trace-Id"].startswith("Root=1-")
    assert headers["Lambda-Runtime-Client-Context"] == '{"a":1}'
    deadline = int(headers["Lambda-Runtime-Deadline-Ms"])
    assert before_ms + 2000 <= deadline <= time.time() * 1000 + 3000
    assert invocation.delivered_at is not None


def deliver(api: RuntimeAPIServer, payload: bytes = b"{}") -> Invocation:
    invocation = Invocation(payload, function_arn=ARN, timeout_s=30)
    api.submit(invocation)
    status, _, _ = call(api, "GET", "/2018-06-01/runtime/invocation/next")
    assert status == 200
    return invocation


def test_response_is_accepted_with_202(api: RuntimeAPIServer) -> None:
    invocation = deliver(api)
    path = f"/2018-06-01/runtime/invocation/{invocation.request_id}/response"
    status, _, _ = call(api, "POST", path, body=b'{"ok": true}')
    assert status == 202
    assert invocation.outcome == Outcome(b'{"ok": true}')


def test_oversized_response_is_413_and_fails_the_invoke(api: RuntimeAPIServer) -> None:
    invocation = deliver(api)
    path = f"/2018-06-01/runtime/invocation/{invocation.request_id}/response"
    status, _, body = call(api, "POST", path, body=b"x" * (MAX_PAYLOAD_BYTES + 1))
    assert status == 413
    assert json.loads(body)["errorType"] == "RequestEntityTooLarge"
    assert invocation.outcome is not None
    assert invocation.outcome.error_type == "Function.ResponseSizeTooLarge"
    assert json.loads(invocation.outcome.payload)["errorType"] == "Function.ResponseSizeTooLarge"


def test_error_post_records_the_functions_error_document(api: RuntimeAPIServer) -> None:
    invocation = deliver(api)
    document = {"errorMessage": "bad", "errorType": "ValueError", "stackTrace": []}
    status, _, _ = call(
        api,
        "POST",
        f"/2018-06-01/runtime/invocation/{invocation.request_id}/error",
        body=json.dumps(document).encode(),
        headers={"Lambda-Runtime-Function-Error-Type": "Runtime.Unknown"},
    )
    assert status == 202
    assert invocation.outcome is not None
    assert invocation.outcome.error_type == "ValueError"
    assert json.loads(invocation.outcome.payload) == document


def test_init_error_fails_the_waiting_invocation(api: RuntimeAPIServer) -> None:
    invocation = Invocation(b"{}", function_arn=ARN, timeout_s=30)
    api.submit(invocation)
    document = {"errorMessage": "no module", "errorType": "Runtime.ImportModuleError"}
    status, _, _ = call(
        api, "POST", "/2018-06-01/runtime/init/error", body=json.dumps(document).encode()
    )
    assert status == 202
    assert api.wait_ready(1)
    assert api.init_error is not None
    assert invocation.wait_delivered(1)
    assert invocation.delivered_at is None
    assert invocation.outcome is not None
    assert invocation.outcome.error_type == "Runtime.ImportModuleError"


def test_unknown_request_id_and_paths_are_refused(api: RuntimeAPIServer) -> None:
    invocation = deliver(api)
    status, _, body = call(api, "POST", "/2018-06-01/runtime/invocation/nope/response", b"{}")
    assert status == 400
    assert json.loads(body)["errorType"] == "InvalidRequestID"
    assert not invocation.finished
    assert call(api, "GET", "/2018-06-01/runtime/other")[0] == 404
    assert call(api, "POST", "/2018-06-01/runtime/invocation/x/other", b"{}")[0] == 404


def test_a_finished_invocation_cannot_be_answered_twice(api: RuntimeAPIServer) -> None:
    invocation = deliver(api)
    path = f"/2018-06-01/runtime/invocation/{invocation.request_id}/response"
    assert call(api, "POST", path, body=b"1")[0] == 202
    status, _, body = call(api, "POST", path, body=b"2")
    # As AWS's Runtime Interface Emulator answers it (issue 11, item 10).
    assert status == 403
    assert json.loads(body)["errorType"] == "InvalidStateTransition"
    error_path = path.replace("/response", "/error")
    assert call(api, "POST", error_path, body=b"{}")[0] == 403
    assert invocation.outcome == Outcome(b"1")


def test_one_invocation_at_a_time(api: RuntimeAPIServer) -> None:
    api.submit(Invocation(b"{}", function_arn=ARN, timeout_s=1))
    with pytest.raises(RuntimeError, match="one invocation at a time"):
        api.submit(Invocation(b"{}", function_arn=ARN, timeout_s=1))


def test_close_releases_a_blocked_next(api: RuntimeAPIServer) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = next_in_background(pool, api)
        assert api.wait_ready(10)
        api.close()
        status, _, _ = pending.result(timeout=10)
    assert status == 410


def test_invocations_after_the_runtime_exited_fail_at_once(api: RuntimeAPIServer) -> None:
    pending = Invocation(b"{}", function_arn=ARN, timeout_s=30)
    api.submit(pending)
    api.runtime_exited(
        lambda request_id: Outcome(b"gone " + request_id.encode(), "Runtime.ExitError")
    )
    assert pending.outcome == Outcome(b"gone " + pending.request_id.encode(), "Runtime.ExitError")
    late = Invocation(b"{}", function_arn=ARN, timeout_s=30)
    api.submit(late)  # an environment found dead after its watcher ran must not hang a caller
    assert late.finished
    assert late.outcome is not None
    assert late.outcome.error_type == "Runtime.ExitError"


def test_an_init_error_before_the_first_event_fails_it_at_once(api: RuntimeAPIServer) -> None:
    document = {"errorMessage": "boom", "errorType": "RuntimeError", "stackTrace": []}
    call(api, "POST", "/2018-06-01/runtime/init/error", body=json.dumps(document).encode())
    invocation = Invocation(b"{}", function_arn=ARN, timeout_s=30)
    api.submit(invocation)
    assert invocation.outcome is not None
    assert invocation.outcome.error_type == "RuntimeError"
    assert json.loads(invocation.outcome.payload) == document
