"""The notifier package in the local emulator, on real CloudWatch Logs and SNS deliveries.

It reads its token from moto's SSM on loopback (SigV4-signed by the notifier itself, without
boto3) and posts to a Telegram stand-in on 127.0.0.1 over real HTTP. Every test ends by
checking that the token appeared in no log line and no answer.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from sklambda.local import LocalFunction, LogLine, serve
from sklambda.monitor.notifier import handler as notifier
from sklambda.monitor.notifier.awsapi import sign
from sklambda.monitor.standins import TelegramStandIn, html_problem
from tests.support.aws import FAKE_ENV, REGION
from tests.support.events import alarm_notification, logs_subscription_event, sns_event

TOKEN = "987654321:AAFakeTokenForTheStandInOnly_0123456"
PARAMETER = "/sklambda/houses/telegram-token"
RID = "0f5e3c2a-1b4d-4e6f-9a0b-1c2d3e4f5a6b"


@pytest.fixture(scope="module")
def notifier_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklambda.monitor.packaging import build_notifier

    return build_notifier(tmp_path_factory.mktemp("notifier") / "dist").dist


@pytest.fixture(scope="module")
def ssm(endpoint: str) -> str:
    """The token stored as a SecureString in moto's SSM, as `alerts telegram` stores it."""
    client = boto3.client("ssm", region_name=REGION, endpoint_url=endpoint)
    client.put_parameter(Name=PARAMETER, Value=TOKEN, Type="SecureString")
    return endpoint


@pytest.fixture
def telegram() -> Iterator[TelegramStandIn]:
    with TelegramStandIn(TOKEN) as standin:
        yield standin


@pytest.fixture
def log() -> Iterator[list[str]]:
    lines: list[str] = []
    yield lines
    assert lines, "the notifier logged nothing at all"
    assert not [line for line in lines if TOKEN in line], "the token was printed"


def _env(ssm: str, api_url: str, **extra: str) -> dict[str, str]:
    env = {
        notifier.API_URL_ENV: api_url,
        notifier.CHAT_ID_ENV: "-1001234567890",
        notifier.TOKEN_PARAMETER_ENV: PARAMETER,
        notifier.FUNCTION_ENV: "houses",
        notifier.MODEL_ENV: "houses",
        notifier.MODEL_VERSION_ENV: "3f2a9c0d1e4b",
        notifier.WINDOW_ENV: "0",
        "AWS_ENDPOINT_URL_SSM": ssm,
        **{k: v for k, v in FAKE_ENV.items() if k.startswith("AWS_") and "REGION" not in k},
    }
    env.update(extra)
    return env


@contextlib.contextmanager
def running(dist: Path, env: dict[str, str], log: list[str], **options: Any) -> Iterator[Any]:
    def keep(line: LogLine) -> None:
        log.append(line.text)

    options.setdefault("timeout", 30)
    with LocalFunction(dist, concurrency=1, memory=128, env=env, on_log=keep, **options) as fn:
        yield fn


def _ok(result: Any) -> dict[str, Any]:
    assert result.error is None, result.payload
    assert TOKEN not in json.dumps(result.payload)
    return dict(result.payload)


FAILURES = [
    f"START RequestId: {RID} Version: 3",
    json.dumps(
        {
            "level": "ERROR",
            "requestId": RID,
            "model": "houses",
            "modelVersion": "77aa00bb11cc",
            "errorType": "ZeroDivisionError",
            "errorMessage": "division by zero",
            "stackTrace": "Traceback (most recent call last):\n  ...\nZeroDivisionError",
        }
    ),
    f"END RequestId: {RID}",
    f"REPORT RequestId: {RID}\tDuration: 2.10 ms\tBilled Duration: 3 ms\tMemory Size: 1024 MB\t"
    "Max Memory Used: 81 MB\tStatus: error\tError Type: Runtime.Unknown",
    "[ERROR] KeyError: 'rooms'\rTraceback (most recent call last):\r  File \"/var/task/x.py\"",
    "2026-11-21T10:00:03.000Z 9a1b2c3d-0000-4000-8000-000000000001 Task timed out after 3.00 "
    "seconds",
    "REPORT RequestId: 9a1b2c3d-0000-4000-8000-000000000001\tDuration: 3000.00 ms\tBilled "
    "Duration: 3000 ms\tMemory Size: 1024 MB\tMax Memory Used: 90 MB\tStatus: timeout",
    "REPORT RequestId: 9a1b2c3d-0000-4000-8000-000000000002\tDuration: 812.00 ms\tBilled "
    "Duration: 813 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: "
    "Runtime.OutOfMemory",
    "INIT_REPORT Init Duration: 10000.12 ms\tPhase: init\tStatus: timeout",
    '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"Errors5xx":1,"ErrorCode":"missing_feature"}',
]


def test_a_batch_of_failures_is_one_message_saying_what_happened(
    notifier_dist, ssm, telegram, log
) -> None:
    stream = "2026/11/21/[$LATEST]6e1a7e3f0c2b4d5e8f9a0b1c2d3e4f5a"
    with running(notifier_dist, _env(ssm, telegram.url), log) as fn:
        answer = _ok(fn.invoke(logs_subscription_event(FAILURES, log_stream=stream)))
    assert answer == {"sent": 1, "kind": "logs", "failures": 5}
    [message] = telegram.messages
    assert message.chat_id == "-1001234567890" and message.parse_mode == "HTML"
    text = message.text
    assert "<b>houses</b>" in text and "<code>77aa00bb11cc</code>" in text  # version of the line
    # Each failed request once: the JSON error and its REPORT line are one error.
    assert "<b>1 timeout</b>" in text and "<b>1 out-of-memory</b>" in text
    assert "<b>1 init failure</b>" in text and "<b>2 errors</b>" in text
    assert f"sample request: <code>{RID}</code>" in text
    assert "between 10:00:00–10:00:00 UTC" in text
    href = "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:"
    assert href + "log-groups/log-group/$252Faws$252Flambda$252Fhouses/log-events/2026$252F" in text
    assert "ZeroDivisionError" in text  # the JSON error line is the sample shown
    assert html_problem(text) == "" and len(text) <= 4096


def test_a_burst_of_1000_errors_is_one_message(notifier_dist, ssm, telegram, log) -> None:
    burst = [
        json.dumps({"level": "ERROR", "requestId": f"00000000-0000-4000-8000-{i:012d}"})
        for i in range(1000)
    ]
    with running(notifier_dist, _env(ssm, telegram.url), log) as fn:
        answer = _ok(fn.invoke(logs_subscription_event(burst)))
    assert answer["sent"] == 1 and answer["failures"] == 1000
    assert len(telegram.messages) == 1
    assert "<b>1,000 errors</b>" in telegram.messages[0].text


def test_batches_within_the_window_are_folded_into_the_next_message(
    notifier_dist, ssm, telegram, log
) -> None:
    import time

    env = _env(ssm, telegram.url, **{notifier.WINDOW_ENV: "1"})
    error = json.dumps({"level": "ERROR", "requestId": RID})
    timeout = "REPORT RequestId: 9a1b2c3d-0000-4000-8000-0000000000aa\tStatus: timeout"
    with running(notifier_dist, env, log) as fn:
        first = _ok(fn.invoke(logs_subscription_event([error])))
        held = _ok(fn.invoke(logs_subscription_event([timeout, error])))
        time.sleep(1.1)  # the window of the test's notifier is one second
        later = _ok(fn.invoke(logs_subscription_event([error])))
    assert (first["sent"], held["sent"], later["sent"]) == (1, 0, 1)
    assert held["held"] is True
    assert len(telegram.messages) == 2
    assert "earlier, not sent one by one: <b>1 timeout</b>, <b>1 error</b>" in (
        telegram.messages[1].text
    )


def test_alarm_notifications_are_posted_with_their_state(notifier_dist, ssm, telegram, log) -> None:
    with running(notifier_dist, _env(ssm, telegram.url), log) as fn:
        _ok(fn.invoke(sns_event(alarm_notification())))
        _ok(fn.invoke(sns_event(alarm_notification(state="OK", reason="Threshold Crossed: 0"))))
    alarm, recovered = (m.text for m in telegram.messages)
    assert alarm.startswith("🔴 <b>ALARM</b> · <b>houses</b>")
    assert "alarm <b>sklambda-houses.errors</b>" in alarm
    assert "was greater than the threshold (1.0)" in alarm
    assert "#alarmsV2:alarm/sklambda-houses.errors" in alarm
    assert recovered.startswith("✅ <b>OK</b>")
    assert all(html_problem(t) == "" for t in (alarm, recovered))


def test_429_retry_after_is_waited_out(notifier_dist, ssm, telegram, log) -> None:
    telegram.rate_limit(1, retry_after=1)
    with running(notifier_dist, _env(ssm, telegram.url), log) as fn:
        result = fn.invoke(notifier.TEST_EVENT)
    assert _ok(result) == {"sent": 1, "kind": "test"}
    assert telegram.requests == 2 and len(telegram.messages) == 1
    assert result.report.duration_ms >= 1000  # it waited the second Telegram asked for


def test_rate_limited_past_the_time_left_fails_so_lambda_retries(
    notifier_dist, ssm, telegram, log
) -> None:
    telegram.rate_limit(1, retry_after=30)
    with running(notifier_dist, _env(ssm, telegram.url), log, timeout=5) as fn:
        result = fn.invoke(notifier.TEST_EVENT)
    assert result.error == "TelegramUnavailable"
    assert "rate-limits this bot for 30 s" in result.payload["errorMessage"]
    assert "Lambda retries" in result.payload["errorMessage"]
    assert telegram.messages == []


def test_a_telegram_that_is_down_fails_the_invocation_and_says_why(notifier_dist, ssm, log) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with running(notifier_dist, _env(ssm, down), log) as fn:
        result = fn.invoke(logs_subscription_event(FAILURES))
    assert result.error == "TelegramUnavailable"
    message = result.payload["errorMessage"]
    assert f"the Telegram Bot API at {down} did not answer" in message
    assert "Connection refused" in message and "Lambda retries the event" in message
    assert any("[ERROR] sklambda notifier: the Telegram Bot API" in line for line in log)


def test_a_refused_token_says_how_to_fix_it(notifier_dist, ssm, log) -> None:
    other = TelegramStandIn("111:another-bot-entirely-xxxxxxxxxxxxxxx")
    with other, running(notifier_dist, _env(ssm, other.url), log) as fn:
        result = fn.invoke(notifier.TEST_EVENT)
    assert result.error == "TelegramUnauthorized"
    assert "--token-from-stdin" in result.payload["errorMessage"]
    assert TOKEN not in json.dumps(result.payload)


def test_a_missing_parameter_is_named(notifier_dist, ssm, telegram, log) -> None:
    env = _env(ssm, telegram.url, **{notifier.TOKEN_PARAMETER_ENV: "/sklambda/nope"})
    with running(notifier_dist, env, log) as fn:
        result = fn.invoke(notifier.TEST_EVENT)
    assert result.error == "NotifierError"
    assert "cannot read the bot token from /sklambda/nope" in result.payload["errorMessage"]
    assert "ParameterNotFound" in result.payload["errorMessage"]


def test_control_messages_and_ordinary_lines_send_nothing(
    notifier_dist, ssm, telegram, log
) -> None:
    quiet = [f"START RequestId: {RID} Version: 3", FAILURES[-1], "predicting 3 rows"]
    with running(notifier_dist, _env(ssm, telegram.url), log) as fn:
        control = _ok(fn.invoke(logs_subscription_event([], message_type="CONTROL_MESSAGE")))
        ordinary = _ok(fn.invoke(logs_subscription_event(quiet)))
        unknown = fn.invoke({"something": "else"})
    assert control["sent"] == ordinary["sent"] == 0
    assert telegram.messages == []
    assert unknown.error == "NotifierError"


def test_long_hostile_lines_stay_within_telegrams_limit(notifier_dist, ssm, telegram, log) -> None:
    hostile = '[ERROR] <script>alert("x")</script> & ' + '<b>"&' * 5000
    with running(notifier_dist, _env(ssm, telegram.url), log) as fn:
        _ok(fn.invoke(logs_subscription_event([hostile])))
    [message] = telegram.messages  # the stand-in refuses bad HTML and texts over 4,096
    assert len(message.text) <= 4096 and "&lt;script&gt;" in message.text


def test_failures_of_a_real_function_in_the_emulator_reach_the_chat(
    notifier_dist, ssm, telegram, log, local_dists
) -> None:
    """The chain: a package that raises and one that times out, their log as Lambda writes it,
    delivered as CloudWatch Logs would, one message."""
    lines: list[LogLine] = []
    with LocalFunction(local_dists["basic"], timeout=0.5, on_log=lines.append) as model:
        assert model.invoke({"action": "raise"}).error == "ValueError"
        assert model.invoke({"action": "sleep", "seconds": 5}).error == "Sandbox.Timedout"
    event = logs_subscription_event([line.text for line in lines], log_stream=lines[0].log_stream)
    with running(notifier_dist, _env(ssm, telegram.url), log) as fn:
        answer = _ok(fn.invoke(event))
    assert answer["sent"] == 1
    text = telegram.messages[0].text
    assert "<b>1 timeout</b>, <b>1 error</b>" in text
    assert "ValueError: the handler says no" in text


def test_serve_runs_the_package_and_alerts_test_reaches_it(
    notifier_dist, ssm, telegram, log, monkeypatch
) -> None:
    """`sklambda serve` runs the package `alerts package` wrote, and `alerts test` (through
    the Invoke API of the emulator standing in for Lambda) sends the test message."""
    from sklambda.aws import AwsClient
    from sklambda.monitor.alerts import notifier_name, send_test

    def keep(line: LogLine) -> None:
        log.append(line.text)

    name = notifier_name("houses")
    env = _env(ssm, telegram.url)
    with serve(notifier_dist, port=0, name=name, env=env, on_log=keep) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", server.url.rstrip("/"))
        answer = send_test(AwsClient(region=REGION), "houses")
    assert answer == {"sent": 1, "kind": "test"}
    assert "reach this chat" in telegram.messages[0].text


def test_the_signature_is_the_one_botocore_computes() -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = "http://127.0.0.1:5000/"
    body = json.dumps({"Name": PARAMETER, "WithDecryption": True}).encode()
    stamp = "20261121T100000Z"
    headers = {
        "host": "127.0.0.1:5000",
        "content-type": "application/x-amz-json-1.1",
        "x-amz-date": stamp,
        "x-amz-target": "AmazonSSM.GetParameter",
        "x-amz-security-token": "session-token",
    }
    ours = sign(
        method="POST", url=url, headers=headers, body=body, service="ssm", region=REGION,
        access_key="AKIDEXAMPLE", secret_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        amz_date=stamp,
    )  # fmt: skip
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    request.context["timestamp"] = stamp
    auth = SigV4Auth(
        Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token"),
        "ssm",
        REGION,
    )
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    assert ours.endswith(f"Signature={signature}")
    assert f"SignedHeaders={auth.signed_headers(auth.headers_to_sign(request))}," in ours


def test_the_package_imports_only_the_standard_library(notifier_dist, tmp_path) -> None:
    """Imported as Lambda imports it: isolated, with only the package's own files."""
    import zipfile

    zipfile.ZipFile(notifier_dist / "function.zip").extractall(tmp_path)
    code = (
        f"import sys, json\nsys.path.insert(0, {str(tmp_path)!r})\n"
        "import sklambda_notifier\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", code], capture_output=True, text=True, check=True
    )
    loaded = json.loads(out.stdout)
    foreign = {m.split(".")[0] for m in loaded} - set(sys.stdlib_module_names) - {"__main__"}
    assert foreign == {"sklambda", "sklambda_notifier"}
    assert all(m.startswith("sklambda.monitor") for m in loaded if m.startswith("sklambda."))


def test_the_token_can_live_in_secrets_manager(notifier_dist, ssm, telegram, log) -> None:
    secrets = boto3.client("secretsmanager", region_name=REGION, endpoint_url=ssm)
    secrets.create_secret(Name="houses/telegram-bot", SecretString=TOKEN)
    env = _env(ssm, telegram.url, AWS_ENDPOINT_URL_SECRETS_MANAGER=ssm)
    del env[notifier.TOKEN_PARAMETER_ENV]
    env[notifier.TOKEN_SECRET_ENV] = "houses/telegram-bot"
    with running(notifier_dist, env, log) as fn:
        assert _ok(fn.invoke(notifier.TEST_EVENT))["sent"] == 1
    assert telegram.messages[0].token == TOKEN
