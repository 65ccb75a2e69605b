"""``sklambda export``: a SAM template that passes cfn-lint; a serverless.yml for the Framework."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sklambda.aws import DeployError, DeployOptions, export
from sklambda.aws.templates import to_yaml
from tests.support.aws import make_dist


def _lint(path: Path) -> list[str]:
    from cfnlint.api import lint_file

    return [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in lint_file(path)]


@pytest.mark.parametrize("public", [False, True], ids=["iam", "public"])
def test_sam_template_passes_cfn_lint(tmp_path: Path, public: bool) -> None:
    dist = make_dist(tmp_path / "dist", layer="L")
    options = DeployOptions(public=public, memory=2048, timeout=60, env={"MODE": "fast"})
    path = export("sam", dist, "houses", tmp_path / "out", options)

    assert path == tmp_path / "out" / "template.yaml"
    assert _lint(path) == []
    template = yaml.safe_load(path.read_text())
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    function = template["Resources"]["ModelFunction"]["Properties"]
    assert function["AutoPublishAlias"] == "live"
    assert function["FunctionUrlConfig"] == {"AuthType": "NONE" if public else "AWS_IAM"}
    assert function["CodeUri"] == "function.zip"
    assert function["Layers"] == [{"Ref": "ModelLayer"}]
    assert (function["MemorySize"], function["Timeout"]) == (2048, 60)
    assert function["Environment"] == {"Variables": {"MODE": "fast"}}
    assert function["Tags"]["sklambda:managed"] == "true"
    layer = template["Resources"]["ModelLayer"]["Properties"]
    assert layer["ContentUri"] == "layer.zip"
    assert (tmp_path / "out" / "layer.zip").read_bytes() == (dist / "layer.zip").read_bytes()
    permission = template["Resources"].get("PublicUrlInvokePermission")
    if public:
        assert permission["Properties"]["InvokedViaFunctionUrl"] is True
        assert permission["Properties"]["Action"] == "lambda:InvokeFunction"
        assert permission["Properties"]["FunctionName"] == {"Ref": "ModelFunction.Alias"}
    else:
        assert permission is None
    assert template["Outputs"]["FunctionUrl"]["Value"] == {
        "Fn::GetAtt": ["ModelFunctionUrl", "FunctionUrl"]
    }


def test_cfn_lint_catches_a_broken_template(tmp_path: Path) -> None:
    """The lint above is not vacuous: a wrong reference or property is reported."""
    path = export("sam", make_dist(tmp_path / "dist"), "houses")
    text = path.read_text()
    assert "ModelLayer" not in text  # no layer in this package: no layer resource
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        text.replace('"ModelFunctionUrl"', '"NoSuchUrl"').replace("MemorySize", "MemorySise")
    )
    problems = _lint(broken)
    assert any("NoSuchUrl" in p for p in problems)
    assert any("MemorySise" in p for p in problems)


def test_serverless_config(tmp_path: Path) -> None:
    dist = make_dist(tmp_path / "dist", layer="L", arch="arm64")
    path = export("serverless", dist, "houses", options=DeployOptions(public=True))
    assert path == dist / "serverless.yml"
    config = yaml.safe_load(path.read_text())
    assert config["service"] == "houses"
    assert config["provider"] == {
        "name": "aws",
        "runtime": "python3.12",
        "architecture": "arm64",
        "memorySize": 1024,
        "timeout": 30,
        "logRetentionInDays": 30,  # sklambda's default retention
    }
    function = config["functions"]["predict"]
    assert function["handler"] == "sklambda_handler.handler"
    assert function["package"] == {"artifact": "function.zip"}
    assert function["url"] is True
    assert function["layers"] == [{"Ref": "ModelLambdaLayer"}]
    assert config["layers"]["model"]["package"] == {"artifact": "layer.zip"}
    grant = config["resources"]["Resources"]["PublicUrlInvokePermission"]["Properties"]
    assert grant["InvokedViaFunctionUrl"] is True

    private = yaml.safe_load(export("serverless", dist, "houses").read_text())
    assert private["functions"]["predict"]["url"] == {"authorizer": "aws_iam"}
    assert "resources" not in private


def test_to_yaml_round_trips() -> None:
    value = {
        "a": "text: with colon",
        "b": [1, 2.5, True, "x"],
        "c": {"d": [{"e": "f", "g": []}], "h": {}},
        "sklambda:managed": "true",
        "quote": 'say "hi"\nnew line',
    }
    assert yaml.safe_load(to_yaml(value)) == value


def test_export_refusals(tmp_path: Path) -> None:
    dist = make_dist(tmp_path / "dist")
    with pytest.raises(DeployError, match="choose sam or serverless"):
        export("terraform", dist, "houses")
    with pytest.raises(DeployError, match="not valid"):
        export("sam", dist, "no spaces")
