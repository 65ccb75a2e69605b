"""Safe changes: ``deploy --dry-run`` changes nothing, ``destroy`` asks first, ``--profile``.

Against moto's server on 127.0.0.1 through real boto3; the listing compared before and after a
dry run is what a user would list (functions with their configuration, aliases, URLs, policies,
roles with their policies, layers, buckets, EventBridge rules, alarms, log groups).
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

import boto3
import pytest

from sklambda.aws import (
    AwsClient,
    CredentialsError,
    DeployError,
    DeployOptions,
    NotConfirmedError,
    deploy,
    dry_run,
    promote,
    rollback,
    status,
)
from sklambda.cli.aws import add_parsers
from tests.support.aws import REGION, make_dist
from tests.support.aws import resource_listing as listing


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise SystemExit(f"usage error: {message}")


def _cli(*argv: str) -> int:
    parser = _Parser(prog="sklambda")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    handlers = add_parsers(commands, _Parser)
    args = parser.parse_args(argv)
    return int(handlers[args.command](args))


@pytest.fixture
def client(endpoint: str) -> AwsClient:
    return AwsClient(region=REGION, endpoint_url=endpoint)


def test_dry_run_of_a_first_deploy_changes_nothing(
    client: AwsClient, endpoint: str, tmp_path: Path
) -> None:
    dist = make_dist(tmp_path / "a", code="a", layer="L")
    before = listing(endpoint)
    lines = dry_run(client, dist, "dryfirst")
    assert listing(endpoint) == before
    assert "create execution role sklambda-dryfirst (logs only)" in lines
    assert "create function dryfirst (python3.12, x86_64)" in lines
    assert any(line.startswith("create layer version of sklambda-dryfirst") for line in lines)
    assert "create function URL (auth AWS_IAM)" in lines


def test_dry_run_of_a_redeploy_says_update_and_leave(
    client: AwsClient, endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(client, make_dist(tmp_path / "a", code="a"), "dryagain")
    same = dry_run(client, tmp_path / "a", "dryagain")
    assert "leave function dryagain (code and configuration as they are)" in same
    assert "leave alias live at version 1" in same
    assert "leave execution role sklambda-dryagain (its policy is rewritten as it is)" in same

    before = listing(endpoint)
    aws = ["--region", REGION, "--endpoint-url", endpoint]
    changed = make_dist(tmp_path / "b", code="b")
    assert _cli("deploy", str(changed), "--name", "dryagain", "--public", "--dry-run", *aws) == 0
    out = capsys.readouterr().out
    assert listing(endpoint) == before
    assert "dryagain in us-east-1: dry run, nothing changed" in out
    assert "update function dryagain: code" in out
    assert "update alias live: a new version, moved from 1" in out
    assert "create public permissions sklambda-public-url, sklambda-public-invoke" in out
    assert "function URL" in out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_destroy_asks_unless_yes(
    endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = AwsClient(region=REGION, endpoint_url=endpoint)
    deploy(client, make_dist(tmp_path / "a", code="a"), "careful-d")
    aws = ["--region", REGION, "--endpoint-url", endpoint]
    lam = boto3.client("lambda", region_name=REGION, endpoint_url=endpoint)

    def names() -> set[str]:
        return {f["FunctionName"] for f in lam.list_functions()["Functions"]}

    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal
    with pytest.raises(NotConfirmedError, match="pass --yes to confirm when not on a terminal"):
        _cli("destroy", "careful-d", *aws)
    assert "careful-d" in names()

    monkeypatch.setattr("sys.stdin", _Terminal("careful\n"))  # a wrong answer on a terminal
    with pytest.raises(NotConfirmedError, match="careful-d is left as it is"):
        _cli("destroy", "careful-d", *aws)
    assert "type careful-d to confirm" in capsys.readouterr().out
    assert "careful-d" in names()

    monkeypatch.setattr("sys.stdin", _Terminal("careful-d\n"))
    assert _cli("destroy", "careful-d", *aws) == 0
    assert "careful-d" not in names()


def test_destroy_refusal_is_one_line_exit_2(endpoint: str) -> None:
    from tests.support.cli import run_cli

    done = run_cli("destroy", "nobody", "--region", REGION, "--endpoint-url", endpoint)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "--yes" in done.stderr


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws_env: None) -> None:
    config = tmp_path / "config"
    config.write_text("[profile other]\nregion = eu-west-1\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[other]\naws_access_key_id = OTHERKEY\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # the environment's region beats a profile's


def test_profile_picks_region_and_credentials(profiles: None, endpoint: str) -> None:
    chosen = AwsClient(profile="other", endpoint_url=endpoint)
    assert chosen.region == "eu-west-1"
    assert chosen.session.get_credentials().access_key == "OTHERKEY"
    with pytest.raises(CredentialsError, match='no AWS profile named "othr".*did you mean other'):
        AwsClient(profile="othr", endpoint_url=endpoint)


def test_every_aws_command_takes_profile() -> None:
    from sklambda.cli import build_parser

    parser, _ = build_parser()
    for argv in (
        ["deploy", "d", "--name", "n"],
        ["status", "n"],
        ["rollback", "n"],
        ["destroy", "n"],
        ["logs", "n"],
        ["bench", "d", "--deployed", "n"],
        ["invoke", "n", "--remote", "--json", "{}"],
        ["alerts", "test", "n"],
        ["alerts", "remove", "n"],
        ["alerts", "telegram", "n", "--chat-id", "1", "--token-parameter", "t"],
    ):
        args = parser.parse_args([*argv, "--profile", "p"])
        assert args.profile == "p", argv


def test_canary_then_promote_or_rollback(client: AwsClient, endpoint: str, tmp_path: Path) -> None:
    lam = boto3.client("lambda", region_name=REGION, endpoint_url=endpoint)

    def routing() -> tuple[str, dict[str, float]]:
        alias = lam.get_alias(FunctionName="canaried", Name="live")
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return alias["FunctionVersion"], weights

    deploy(client, make_dist(tmp_path / "a", code="a"), "canaried")
    with pytest.raises(DeployError, match="no canary runs"):
        promote(client, "canaried")
    with pytest.raises(DeployError, match="percent between 1 and 99"):
        DeployOptions(canary=100)
    plan = dry_run(
        client, make_dist(tmp_path / "b", code="b"), "canaried", DeployOptions(canary=10)
    )
    assert "update alias live: a new version gets 10% (canary), version 1 the rest" in plan
    result = deploy(client, tmp_path / "b", "canaried", DeployOptions(canary=10))
    assert (result.version, result.canary, result.previous_version) == ("2", 10, "1")
    assert routing() == ("1", {"2": 0.1})
    assert status(client, "canaried").canary == {"2": 0.1}
    again = deploy(client, tmp_path / "b", "canaried", DeployOptions(canary=10))
    assert "canary: version 2 already gets 10% of live" in again.actions

    done = promote(client, "canaried")
    assert (done.from_version, done.to_version) == ("1", "2")
    assert routing() == ("2", {})

    deploy(client, make_dist(tmp_path / "c", code="c"), "canaried", DeployOptions(canary=25))
    assert routing() == ("2", {"3": 0.25})
    back = rollback(client, "canaried")  # ends the canary: all of live stays on 2
    assert (back.from_version, back.to_version) == ("3", "2")
    assert routing() == ("2", {})
