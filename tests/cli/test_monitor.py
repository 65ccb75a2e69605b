"""The monitoring commands against moto: deploy --alarms, status, logs, alerts.

Through ``sklambda.cli.main`` (the real parser and its one-line errors), and the token path
through a real process reading stdin.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from sklambda.aws import AwsClient
from sklambda.cli import main
from sklambda.monitor.logs import follow
from tests.support.aws import REGION, make_dist

TOKEN = "555666777:AAStdinTokenThatMustNeverBePrinted_42"
RID = "6f0d2c1e-2b3a-4c5d-8e9f-0a1b2c3d4e5f"


@pytest.fixture
def aws(endpoint: str) -> list[str]:
    return ["--region", REGION, "--endpoint-url", endpoint]


@pytest.fixture
def logs(endpoint: str) -> Any:
    return boto3.client("logs", region_name=REGION, endpoint_url=endpoint)


def _put(logs: Any, name: str, messages: list[str], stream: str = "2026/11/21/[1]abc") -> None:
    group = f"/aws/lambda/{name}"
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now + i, "message": m} for i, m in enumerate(messages)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


LINES = [
    f"START RequestId: {RID} Version: 1",
    '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"sklambda","Dimensions":'
    '[["FunctionName"]],"Metrics":[{"Name":"Requests","Unit":"Count"},{"Name":"PredictLatency",'
    '"Unit":"Milliseconds"}]}]},"FunctionName":"f","Requests":1,"PredictLatency":0.25,'
    '"status":200}',
    json.dumps({"level": "ERROR", "requestId": RID, "errorType": "ZeroDivisionError"}),
    f"END RequestId: {RID}",
    f"REPORT RequestId: {RID}\tDuration: 2.04 ms\tBilled Duration: 3 ms\tMemory Size: 1024 MB\t"
    "Max Memory Used: 81 MB\tInit Duration: 812.30 ms",
]


def test_deploy_alarms_status_and_logs(aws, logs, tmp_path: Path, capsys) -> None:
    dist = str(make_dist(tmp_path / "dist"))
    code = main(["deploy", dist, "--name", "clim", "--alarms", "errors,latency",
                 "--log-retention-days", "7", *aws])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "log retention 7 days" in err and "created alarms errors, latency" in err
    _put(logs, "clim", LINES)

    assert main(["status", "clim", *aws]) == 0
    out = capsys.readouterr().out
    assert "log retention     7 days" in out
    alarm_table = out.split("alarms", 1)[1]
    rows = {line.split()[1]: line.split()[3] for line in alarm_table.splitlines() if "│ " in line}
    assert set(rows) == {"errors", "latency"}  # the state moto gives new alarms: OK
    assert set(rows.values()) <= {"OK", "ALARM", "INSUFFICIENT_DATA"}
    assert "last errors" in out and "ZeroDivisionError" in out
    assert main(["status", "clim", "--json", *aws]) == 0
    monitoring = json.loads(capsys.readouterr().out)["monitoring"]
    assert [a["kind"] for a in monitoring["alarms"]] == ["errors", "latency"]
    assert [e["kind"] for e in monitoring["last_errors"]] == ["error"]

    assert main(["logs", "clim", "--since", "1h", *aws]) == 0
    out = capsys.readouterr().out
    assert "REPORT  2.04 ms · billed 3 ms · 81/1024 MB · cold start 812 ms" in out
    assert "metrics Requests=1 PredictLatency=0.25 ms" in out
    assert "ERROR" in out and "ZeroDivisionError" in out
    assert main(["logs", "clim", "--since", "1h", "--errors", *aws]) == 0
    out = capsys.readouterr().out
    assert "ZeroDivisionError" in out and "REPORT" not in out and "metrics" not in out

    assert main(["deploy", dist, "--name", "clim", "--alarms", "bogus", *aws]) == 2
    assert 'unknown alarm "bogus"' in capsys.readouterr().err
    assert main(["logs", "clim", "--since", "yesterday", *aws]) == 2
    assert "neither a duration" in capsys.readouterr().err
    assert main(["logs", "never-deployed", *aws]) == 2
    assert "no log group /aws/lambda/never-deployed" in capsys.readouterr().err
    assert main(["destroy", "clim", "--yes", *aws]) == 0
    assert "deleted alarms errors, latency" in capsys.readouterr().out


def test_follow_prints_events_as_they_arrive(endpoint: str, logs, tmp_path: Path) -> None:
    from sklambda.aws import DeployOptions, deploy

    arrivals = [["a later line"], [f"REPORT RequestId: {RID}\tDuration: 1.00 ms"]]

    def sleep(_seconds: float) -> None:  # while follow waits, the function logs some more
        if arrivals:
            _put(logs, "followed", arrivals.pop(0))

    client = AwsClient(region=REGION, endpoint_url=endpoint, sleep=sleep)
    deploy(client, make_dist(tmp_path / "dist"), "followed", DeployOptions())
    _put(logs, "followed", ["first line"])
    polls = iter(range(3))
    seen = [
        e.message
        for e in follow(
            client, "followed", since_ms=0, keep_going=lambda: next(polls, None) is not None
        )
    ]
    assert seen == ["first line", "a later line", f"REPORT RequestId: {RID}\tDuration: 1.00 ms"]


def test_alerts_telegram_reads_the_token_from_stdin_and_never_prints_it(
    endpoint: str, aws, tmp_path: Path, capsys
) -> None:
    dist = str(make_dist(tmp_path / "dist"))
    assert main(["deploy", dist, "--name", "clialert", *aws]) == 0
    capsys.readouterr()
    done = subprocess.run(
        [sys.executable, "-m", "sklambda", "alerts", "telegram", "clialert", "--chat-id",
         "-100777", "--token-from-stdin", *aws],
        input=TOKEN + "\n", capture_output=True, text=True, timeout=300, env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert "alerts go to chat -100777 through sklambda-alerts-clialert" in done.stdout
    assert "token read from /sklambda/clialert/telegram-token" in done.stdout
    ssm = boto3.client("ssm", region_name=REGION, endpoint_url=endpoint)
    stored = ssm.get_parameter(Name="/sklambda/clialert/telegram-token", WithDecryption=True)
    assert stored["Parameter"]["Value"] == TOKEN

    assert main(["alerts", "remove", "clialert", *aws]) == 0
    assert "deleted notifier sklambda-alerts-clialert" in capsys.readouterr().out
    assert main(["alerts", "test", "clialert", *aws]) == 2
    assert "has no Telegram alerts" in capsys.readouterr().err
    bad = subprocess.run(
        [sys.executable, "-m", "sklambda", "alerts", "telegram", "clialert", "--chat-id", "1",
         "--token-from-stdin", *aws],
        input="oops-" + TOKEN[:12] + "\n", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "not a Telegram bot token" in bad.stderr
    assert TOKEN[:12] not in bad.stderr
    main(["destroy", "clialert", "--yes", *aws])


def test_alerts_package_writes_a_proven_package(tmp_path: Path, capsys) -> None:
    assert main(["alerts", "package", "--out", str(tmp_path / "notifier")]) == 0
    assert "proven in the local emulator" in capsys.readouterr().out
    report = json.loads((tmp_path / "notifier" / "build.json").read_text())
    assert report["kind"] == "notifier" and report["handler"] == "sklambda_notifier.handler"
    assert report["verification"]["ok"] is True
    assert (report["python"], report["arch"]) == ("3.12", "arm64")
    # The emulator's commands run it like any package (configured through its environment:
    # here there is none, and it says which setting is missing).
    event = tmp_path / "test-event.json"
    event.write_text('{"sklambda": "test"}')
    ran = subprocess.run(
        [sys.executable, "-m", "sklambda", "invoke", str(tmp_path / "notifier"), "--event",
         str(event)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ran.returncode == 1
    assert "TELEGRAM_CHAT_ID is not set" in json.loads(ran.stdout)["errorMessage"]
    assert "REPORT RequestId:" in ran.stderr
