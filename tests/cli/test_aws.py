"""The deploy commands (flags → handlers → output) and ``sklambda.deploy``, against moto.

The CLI handlers are driven through a real argparse parser built by ``add_parsers``, exactly as
``sklambda.cli`` wires them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest

from sklambda.aws import AwsClient, CredentialsError
from sklambda.cli.aws import add_parsers
from sklambda.errors import BundleError
from tests.support.aws import REGION, make_dist


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise SystemExit(f"usage error: {message}")


@pytest.fixture
def cli() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    parser = _Parser(prog="sklambda")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    handlers = add_parsers(commands, _Parser)
    return parser, handlers


def run(cli: tuple[argparse.ArgumentParser, dict[str, Any]], *argv: str) -> int:
    parser, handlers = cli
    args = parser.parse_args(argv)
    return int(handlers[args.command](args))


def test_add_parsers_returns_the_deploy_commands(
    cli: tuple[argparse.ArgumentParser, dict[str, Any]],
) -> None:
    parser, handlers = cli
    assert sorted(handlers) == ["deploy", "destroy", "export", "promote", "rollback", "status"]
    args = parser.parse_args(
        [
            "deploy",
            "dist",
            "--name",
            "n",
            "--region",
            "eu-west-1",
            "--memory",
            "2048",
            "--timeout",
            "10",
            "--arch",
            "arm64",
            "--public",
            "--role-arn",
            "arn:aws:iam::1:role/r",
            "--s3-bucket",
            "b",
            "--endpoint-url",
            "http://127.0.0.1:1",
            "--env",
            "A=1",
            "--env",
            "B=x=y",
            "--adopt",
            "--image-uri",
            "img",
        ]
    )
    assert args.dist == Path("dist")
    assert (args.memory, args.timeout, args.arch, args.public, args.adopt) == (
        2048,
        10,
        "arm64",
        True,
        True,
    )
    assert args.env == [("A", "1"), ("B", "x=y")]
    assert (args.role_arn, args.s3_bucket, args.image_uri) == ("arn:aws:iam::1:role/r", "b", "img")
    defaults = parser.parse_args(["deploy", "dist", "--name", "n"])
    # No --memory: None, so deploy can take what `sklambda tune --apply` chose (else 1024).
    assert (defaults.memory, defaults.timeout, defaults.public, defaults.arch) == (
        None,
        30,
        False,
        None,
    )
    assert parser.parse_args(["rollback", "n", "--to", "3"]).to == "3"
    export = parser.parse_args(["export", "sam", "dist", "--name", "n", "--out", "o"])
    assert (export.kind, export.out) == ("sam", Path("o"))
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        parser.parse_args(["deploy", "dist", "--name", "n", "--env", "novalue"])
    with pytest.raises(SystemExit, match="invalid choice"):
        parser.parse_args(["export", "terraform", "dist", "--name", "n"])


def test_cli_deploy_status_rollback_destroy(
    cli: tuple[argparse.ArgumentParser, dict[str, Any]],
    endpoint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    aws = ["--region", REGION, "--endpoint-url", endpoint]
    dist_a = make_dist(tmp_path / "a", code="a")
    assert run(cli, "deploy", str(dist_a), "--name", "clifn", "--public", *aws) == 0
    out = capsys.readouterr().out
    assert "clifn: version 1 is live at" in out
    url = out.split("live at\n")[1].split()[0]
    assert url.startswith("https://")
    assert f"curl -s {url} -H 'content-type: application/json'" in out
    assert '{"instances": [{"x": 5.0}]}' in out

    dist_b = make_dist(tmp_path / "b", code="b")
    assert run(cli, "deploy", str(dist_b), "--name", "clifn", "--env", "K=V", *aws) == 0
    out = capsys.readouterr().out
    assert "version 2 is live" in out
    assert (
        'sklambda invoke clifn --remote --json \'{"instances": [{"x": 5.0}]}\' --region us-east-1'
        in out
    )

    assert run(cli, "status", "clifn", "--json", *aws) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["live_version"] == "2"
    assert info["url"] == url
    assert info["auth_type"] == "AWS_IAM"
    assert [v["version"] for v in info["versions"]] == ["1", "2"]

    assert run(cli, "status", "clifn", *aws) == 0
    table = capsys.readouterr().out
    assert "version 2" in table and url in table and "2 ← live" in table

    assert run(cli, "rollback", "clifn", *aws) == 0
    assert "live moved from version 2 to 1" in capsys.readouterr().out

    assert run(cli, "destroy", "clifn", "--yes", *aws) == 0
    out = capsys.readouterr().out
    assert "deleted function clifn and its versions" in out
    lam = boto3.client("lambda", region_name=REGION, endpoint_url=endpoint)
    assert "clifn" not in {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert run(cli, "destroy", "clifn", "--yes", *aws) == 0
    assert "nothing of sklambda's to remove" in capsys.readouterr().out


def test_cli_export(
    cli: tuple[argparse.ArgumentParser, dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dist = make_dist(tmp_path / "dist", layer="L")
    assert run(cli, "export", "sam", str(dist), "--name", "exp", "--out", str(tmp_path / "o")) == 0
    assert f"wrote {tmp_path / 'o' / 'template.yaml'}" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "function.zip",
        "layer.zip",
        "template.yaml",
    ]
    assert run(cli, "export", "serverless", str(dist), "--name", "exp") == 0
    assert (dist / "serverless.yml").is_file()


def test_one_call_deploy_of_an_estimator(
    endpoint: str,
    tmp_path: Path,
) -> None:
    from sklearn.linear_model import LinearRegression

    from sklambda.deploying import deploy as one_call

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"rooms": rng.integers(1, 6, 60).astype(float), "area": rng.normal(80, 9, 60)}
    )
    target = 30 * frame["rooms"] + 2 * frame["area"]
    model = LinearRegression().fit(frame, target)
    client = AwsClient(region=REGION, endpoint_url=endpoint)

    with pytest.raises(BundleError, match="needs X_sample"):
        one_call(model, name="houses", client=client)

    live = one_call(
        model, name="houses", X_sample=frame, public=True, client=client, out=tmp_path / "dist"
    )
    assert live.url.startswith("https://")
    assert live.version == "1"
    assert live.build["runtime"] == "lean"
    assert live.build["verification"]["ok"] is True
    assert live.dist == tmp_path / "dist"
    assert live.result.auth_type == "NONE"
    assert '"rooms": ' in live.example_command()

    # A package directory deploys as is (no rebuild), and unchanged it converges.
    again = one_call(tmp_path / "dist", name="houses", public=True, client=client)
    assert (again.url, again.version) == (live.url, "1")


def test_cli_errors_are_sklambda_errors(
    cli: tuple[argparse.ArgumentParser, dict[str, Any]],
    endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    with pytest.raises(CredentialsError):
        run(cli, "status", "x", "--region", REGION, "--endpoint-url", endpoint)
