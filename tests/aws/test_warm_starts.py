"""Warm starts and concurrency: keep-warm schedules, reserved and provisioned concurrency,
SnapStart — against moto's server on 127.0.0.1 through real boto3.

What moto 5 cannot show, and how these tests get around it:
- EventBridge rules are stored but never fire, so that pings reach ``live`` is not shown; what
  is checked is the rule, its targets (ARN of ``live``, the constant input the handler answers)
  and the permission ``events.amazonaws.com`` needs. That N overlapping pings keep N
  environments is the handler's hold (tests/runtime/test_service.py), not provable here.
- moto has no provisioned concurrency and no ``GetAccountSettings``: a stand-in in front of moto
  (tests/support/lambda_standin.py) answers them as AWS does (``IN_PROGRESS`` then ``READY``).
- reserved concurrency is stored; the 429 beyond it is not (moto does not invoke). Its quota
  check is moto's own (``MOTO_LAMBDA_CONCURRENCY_QUOTA``).
- moto accepts ``SnapStart`` and always reports ``ApplyOn: None``; what sklambda sent is read
  from the stand-in's record of the request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from sklambda.aws import AwsClient, DeployError, DeployOptions, deploy, destroy, dry_run, status
from sklambda.aws.warming import HOLD_MS
from tests.support.aws import REGION, make_dist
from tests.support.lambda_standin import lambda_standin


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(endpoint: str, sleeps: list[float]) -> AwsClient:
    return AwsClient(region=REGION, endpoint_url=endpoint, sleep=sleeps.append)


@pytest.fixture
def aws(endpoint: str) -> dict[str, Any]:
    return {
        service: boto3.client(service, region_name=REGION, endpoint_url=endpoint)
        for service in ("lambda", "events")
    }


def _rules(aws: dict[str, Any], name: str) -> dict[str, Any]:
    rules = aws["events"].list_rules(NamePrefix=f"sklambda-{name}-warm-")["Rules"]
    return {
        rule["Name"]: {
            "schedule": rule["ScheduleExpression"],
            "targets": aws["events"].list_targets_by_rule(Rule=rule["Name"])["Targets"],
            "arn": rule["Arn"],
        }
        for rule in rules
    }


def _statements(aws: dict[str, Any], name: str) -> dict[str, Any]:
    try:
        policy = aws["lambda"].get_policy(FunctionName=name, Qualifier="live")["Policy"]
    except aws["lambda"].exceptions.ResourceNotFoundException:
        return {}
    return {s["Sid"]: s for s in json.loads(policy)["Statement"]}


def test_keep_warm_schedule_created_resized_kept_removed(
    client: AwsClient, aws: dict[str, Any], tmp_path: Path
) -> None:
    dist = make_dist(tmp_path / "a", code="a")
    plan = dry_run(client, dist, "warmfn", DeployOptions(keep_warm="5m", keep_warm_concurrency=7))
    assert "create keep-warm: 7 pings rate(5 minutes)" in plan
    assert _rules(aws, "warmfn") == {}

    result = deploy(client, dist, "warmfn", DeployOptions(keep_warm="5m", keep_warm_concurrency=7))
    assert "keep-warm: 7 pings rate(5 minutes)" in result.actions
    rules = _rules(aws, "warmfn")
    assert sorted(rules) == ["sklambda-warmfn-warm-1", "sklambda-warmfn-warm-2"]
    targets = [t for rule in rules.values() for t in rule["targets"]]
    assert [len(rule["targets"]) for _, rule in sorted(rules.items())] == [5, 2]
    assert {rule["schedule"] for rule in rules.values()} == {"rate(5 minutes)"}
    assert {t["Arn"] for t in targets} == {f"{result.function_arn.rsplit(':', 1)[0]}:warmfn:live"}
    pings = sorted((json.loads(t["Input"]) for t in targets), key=lambda p: p["ping"])
    assert pings == [
        {"warmup": True, "concurrency": 7, "ping": i, "hold_ms": HOLD_MS} for i in range(7)
    ]
    statements = _statements(aws, "warmfn")
    for index, rule in enumerate(sorted(rules), start=1):
        grant = json.dumps(statements[f"sklambda-keep-warm-{index}"])
        assert "events.amazonaws.com" in grant and rules[rule]["arn"] in grant
        assert "lambda:InvokeFunction" in grant

    assert status(client, "warmfn").operating["keep_warm"] == {
        "schedule": "rate(5 minutes)",
        "pings": 7,
    }
    again = deploy(client, dist, "warmfn", DeployOptions(keep_warm="5m", keep_warm_concurrency=7))
    assert not [a for a in again.actions if "keep-warm" in a]  # converged: nothing to do

    smaller = deploy(
        client, dist, "warmfn", DeployOptions(keep_warm="10m", keep_warm_concurrency=2)
    )
    assert "keep-warm: 2 pings rate(10 minutes)" in smaller.actions
    rules = _rules(aws, "warmfn")
    assert list(rules) == ["sklambda-warmfn-warm-1"]
    assert rules["sklambda-warmfn-warm-1"]["schedule"] == "rate(10 minutes)"
    assert len(rules["sklambda-warmfn-warm-1"]["targets"]) == 2
    assert "sklambda-keep-warm-2" not in _statements(aws, "warmfn")

    deploy(client, make_dist(tmp_path / "b", code="b"), "warmfn")  # no --keep-warm: kept
    assert list(_rules(aws, "warmfn")) == ["sklambda-warmfn-warm-1"]

    off = deploy(client, dist, "warmfn", DeployOptions(keep_warm="off"))
    assert "removed keep-warm schedule (1 rules)" in off.actions
    assert _rules(aws, "warmfn") == {}
    assert not [s for s in _statements(aws, "warmfn") if s.startswith("sklambda-keep-warm")]

    deploy(client, dist, "warmfn", DeployOptions(keep_warm="1h", keep_warm_concurrency=3))
    assert _rules(aws, "warmfn")["sklambda-warmfn-warm-1"]["schedule"] == "rate(1 hour)"
    gone = destroy(client, "warmfn")
    assert "removed keep-warm schedule (1 rules)" in gone.actions
    assert _rules(aws, "warmfn") == {}


def test_keep_warm_of_another_function_is_not_touched(
    client: AwsClient, aws: dict[str, Any], tmp_path: Path
) -> None:
    dist = make_dist(tmp_path / "a", code="a")
    deploy(client, dist, "pair-warm", DeployOptions(keep_warm="5m"))
    deploy(client, dist, "pair", DeployOptions(keep_warm="5m"))
    # "sklambda-pair-warm-" is a prefix of the other function's rules too.
    deploy(client, dist, "pair", DeployOptions(keep_warm="off"))
    assert list(_rules(aws, "pair-warm")) == ["sklambda-pair-warm-warm-1"]
    destroy(client, "pair-warm")
    destroy(client, "pair")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"keep_warm": "5 seconds"}, "a period like 5m"),
        ({"keep_warm": "0m"}, "between 1m and 24h"),
        ({"keep_warm": "5m", "keep_warm_concurrency": 51}, "1-50"),
        ({"keep_warm_concurrency": 3}, "goes with --keep-warm PERIOD"),
        ({"snapstart": True, "provisioned": 2}, "cannot be combined: Lambda does not support"),
        ({"max_concurrency": -1}, "0 \\(remove\\) or more"),
    ],
)
def test_bad_operating_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(DeployError, match=message):
        DeployOptions(**options)


def test_reserved_concurrency_set_removed_and_quota_refusal(
    client: AwsClient, aws: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = make_dist(tmp_path / "a", code="a")
    result = deploy(client, dist, "capped", DeployOptions(max_concurrency=5))
    assert "reserved concurrency 5 (beyond it the URL answers 429)" in result.actions
    assert (
        aws["lambda"].get_function_concurrency(FunctionName="capped")[
            "ReservedConcurrentExecutions"
        ]
        == 5
    )
    assert status(client, "capped").operating["reserved_concurrency"] == 5
    assert "leave reserved concurrency 5" in dry_run(
        client, dist, "capped", DeployOptions(max_concurrency=5)
    )
    deploy(client, dist, "capped", DeployOptions(max_concurrency=0))
    assert "ReservedConcurrentExecutions" not in aws["lambda"].get_function_concurrency(
        FunctionName="capped"
    )
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "150")  # read by moto's server per call
    with pytest.raises(DeployError, match="unreserved concurrency would fall below 100"):
        deploy(client, dist, "capped", DeployOptions(max_concurrency=80))


def test_provisioned_concurrency_waits_ready_and_checks_room(
    endpoint: str, tmp_path: Path, sleeps: list[float]
) -> None:
    dist = make_dist(tmp_path / "a", code="a")
    with lambda_standin(endpoint, unreserved=150) as standin:
        client = AwsClient(region=REGION, endpoint_url=standin.url, sleep=sleeps.append)
        deploy(client, dist, "kept")
        sent_before = len(standin.requests)
        with pytest.raises(DeployError, match="at most 50 can be provisioned here"):
            deploy(client, dist, "kept", DeployOptions(provisioned=60))
        changed = [m for m, _, _ in standin.requests[sent_before:] if m in ("PUT", "POST")]
        assert changed == []  # refused while planning: nothing was changed

        result = deploy(client, dist, "kept", DeployOptions(provisioned=20))
        assert any(a.startswith("provisioned concurrency 20 on live") for a in result.actions)
        assert standin.provisioned[("kept", "live")]["Status"] == "READY"
        shown = status(client, "kept").operating
        assert shown["provisioned"] == {"requested": 20, "status": "READY"}
        assert sleeps  # it waited while the config was IN_PROGRESS

        # Already 20 provisioned: they count as room when changing the number.
        assert "leave provisioned concurrency 20" in dry_run(
            client, dist, "kept", DeployOptions(provisioned=20)
        )
        deploy(client, dist, "kept", DeployOptions(provisioned=60))
        assert (
            standin.provisioned[("kept", "live")]["RequestedProvisionedConcurrentExecutions"] == 60
        )

        with pytest.raises(DeployError, match="more than the function's reserved concurrency"):
            deploy(client, dist, "kept", DeployOptions(provisioned=10, max_concurrency=5))
        with pytest.raises(DeployError, match="has provisioned concurrency: pass --provisioned 0"):
            deploy(client, dist, "kept", DeployOptions(snapstart=True))

        deploy(client, dist, "kept", DeployOptions(provisioned=0))
        assert ("kept", "live") not in standin.provisioned


def test_snapstart_sent_for_python312_and_refused_before(endpoint: str, tmp_path: Path) -> None:
    old = make_dist(tmp_path / "old", code="old")
    report = json.loads((old / "build.json").read_text())
    report["target"]["runtime"] = "python3.11"
    report["python"] = "3.11"
    (old / "build.json").write_text(json.dumps(report))
    with lambda_standin(endpoint) as standin:
        client = AwsClient(region=REGION, endpoint_url=standin.url)
        with pytest.raises(DeployError, match="--snapstart needs python3.12 or newer"):
            deploy(client, old, "snappy", DeployOptions(snapstart=True))
        deploy(
            client, make_dist(tmp_path / "new", code="new"), "snappy", DeployOptions(snapstart=True)
        )
        created = [
            body
            for method, path, body in standin.requests
            if method == "POST" and path == "/2015-03-31/functions"
        ]
        assert created[-1]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        updates = [
            body
            for method, path, body in standin.requests
            if method == "PUT" and path == "/2015-03-31/functions/snappy/configuration"
        ]
        assert updates == []
        # Off is what moto reports, so --no-snapstart changes nothing here; on an existing
        # function --snapstart is an update of its configuration.
        deploy(client, tmp_path / "new", "snappy", DeployOptions(snapstart=False))
        deploy(client, tmp_path / "new", "snappy", DeployOptions(snapstart=True))
        updates = [
            body
            for method, path, body in standin.requests
            if method == "PUT" and path == "/2015-03-31/functions/snappy/configuration"
        ]
        assert [u["SnapStart"] for u in updates] == [{"ApplyOn": "PublishedVersions"}]
