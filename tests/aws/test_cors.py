"""``deploy --cors-origin``: the URL's Cors through moto's server, the record in deploy.json that
``serve`` can read, and the SAM / serverless exports (SAM linted by cfn-lint).

What moto cannot show: it never answers a preflight (no URL is served), and an update without
``Cors`` keeps the old one, so removing CORS (``--no-cors``) is checked as the request sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from sklambda.aws import AwsClient, DeployError, DeployOptions, deploy, dry_run, export
from sklambda.aws.cors import recorded_cors
from tests.support.aws import REGION, make_dist
from tests.support.lambda_standin import lambda_standin


@pytest.fixture
def client(endpoint: str) -> AwsClient:
    return AwsClient(region=REGION, endpoint_url=endpoint)


def _cors(endpoint: str, name: str) -> Any:
    lam = boto3.client("lambda", region_name=REGION, endpoint_url=endpoint)
    return lam.get_function_url_config(FunctionName=name, Qualifier="live").get("Cors")


def test_cors_configured_recorded_and_converged(
    client: AwsClient, endpoint: str, tmp_path: Path
) -> None:
    dist = make_dist(tmp_path / "a", code="a")
    origins = ("https://App.example.com", "http://localhost:3000")
    result = deploy(client, dist, "browser", DeployOptions(cors_origins=origins))
    assert "created function URL (AWS_IAM, CORS)" in result.actions
    expected = {
        "AllowOrigins": ["http://localhost:3000", "https://app.example.com"],
        "AllowMethods": ["GET", "POST"],
        "AllowHeaders": [
            "content-type",
            "authorization",
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-content-sha256",
        ],
        "MaxAge": 600,
    }
    assert _cors(endpoint, "browser") == expected
    assert recorded_cors(dist) == expected  # for `sklambda serve` of the same package

    again = deploy(client, dist, "browser", DeployOptions(cors_origins=origins))
    assert not [a for a in again.actions if "URL" in a]
    kept = deploy(client, dist, "browser")  # no --cors-origin: left as it is
    assert not [a for a in kept.actions if "URL" in a]
    assert _cors(endpoint, "browser") == expected

    plan = dry_run(client, dist, "browser", DeployOptions(cors_origins=("https://b.example",)))
    assert "update function URL: CORS origins https://b.example" in plan
    moved = deploy(client, dist, "browser", DeployOptions(cors_origins=("https://b.example",)))
    assert "function URL CORS origins: https://b.example" in moved.actions
    assert _cors(endpoint, "browser")["AllowOrigins"] == ["https://b.example"]
    assert recorded_cors(dist)["AllowOrigins"] == ["https://b.example"]


def test_no_cors_sends_an_empty_configuration(endpoint: str, tmp_path: Path) -> None:
    dist = make_dist(tmp_path / "a", code="a")
    with lambda_standin(endpoint) as standin:
        client = AwsClient(region=REGION, endpoint_url=standin.url)
        deploy(client, dist, "uncors", DeployOptions(cors_origins=("https://a.example",)))
        result = deploy(client, dist, "uncors", DeployOptions(cors_origins=()))
        assert "function URL CORS origins: none" in result.actions
        sent = [b for m, p, b in standin.requests if m == "PUT" and p.endswith("/uncors/url")]
        assert sent[-1]["Cors"] == {}
    assert recorded_cors(dist) is None


def test_star_only_for_public_urls(client: AwsClient, endpoint: str, tmp_path: Path) -> None:
    with pytest.raises(DeployError, match=r"'\*' is only for a public URL"):
        DeployOptions(cors_origins=("*",))
    for bad in ("app.example.com", "https://app.example.com/path", "ftp://x"):
        with pytest.raises(DeployError, match="scheme://host"):
            DeployOptions(cors_origins=(bad,))
    dist = make_dist(tmp_path / "a", code="a")
    deploy(client, dist, "anyone", DeployOptions(public=True, cors_origins=("*",)))
    assert _cors(endpoint, "anyone") == {
        "AllowOrigins": ["*"],
        "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["content-type", "authorization"],
        "MaxAge": 600,
    }


def test_exports_carry_cors_and_concurrency(tmp_path: Path) -> None:
    from cfnlint.api import lint_file

    dist = make_dist(tmp_path / "dist")
    options = DeployOptions(
        cors_origins=("https://app.example.com",),
        keep_warm="5m",
        keep_warm_concurrency=2,
        max_concurrency=10,
        provisioned=2,
    )
    path = export("sam", dist, "houses", tmp_path / "out", options)
    assert [f"{m.rule.id} {m.message}" for m in lint_file(path)] == []
    function = yaml.safe_load(path.read_text())["Resources"]["ModelFunction"]["Properties"]
    assert function["FunctionUrlConfig"]["Cors"]["AllowOrigins"] == ["https://app.example.com"]
    assert function["FunctionUrlConfig"]["Cors"]["AllowMethods"] == ["GET", "POST"]
    assert function["ReservedConcurrentExecutions"] == 10
    assert function["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": 2}
    assert sorted(function["Events"]) == ["KeepWarm0", "KeepWarm1"]
    assert function["Events"]["KeepWarm1"]["Properties"]["Schedule"] == "rate(5 minutes)"

    snap = export("sam", dist, "snap", tmp_path / "snap", DeployOptions(snapstart=True))
    assert yaml.safe_load(snap.read_text())["Resources"]["ModelFunction"]["Properties"][
        "SnapStart"
    ] == {"ApplyOn": "PublishedVersions"}

    config = yaml.safe_load(export("serverless", dist, "houses", options=options).read_text())
    url = config["functions"]["predict"]["url"]
    assert url["authorizer"] == "aws_iam"
    assert url["cors"]["allowedOrigins"] == ["https://app.example.com"]
    assert url["cors"]["maxAge"] == 600
    assert config["functions"]["predict"]["reservedConcurrency"] == 10
    events = config["functions"]["predict"]["events"]
    assert [e["schedule"]["input"]["ping"] for e in events] == [0, 1]
