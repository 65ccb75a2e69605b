"""Deploy, redeploy, rollback and destroy against moto's server on 127.0.0.1, through real boto3.

Nothing here invokes a function (moto would want Docker for that): what a deploy did is read
back through the same Lambda, IAM and S3 APIs a user would call.

What moto does not model, and so what these tests cannot show:
- function URL configs ignore ``Qualifier`` (moto keeps one URL per function); sklambda still
  asks for and reads the URL on ``live``;
- one resource policy per function whatever the qualifier, and policy conditions kept as raw
  request keys (``FunctionUrlAuthType``) instead of AWS's ``Condition`` blocks
  (``statement_matches`` accepts both);
- ``AddPermission`` with an existing statement id is accepted (AWS answers
  ResourceConflictException), so "no duplicate permissions" is checked by counting statements;
- updates never fail and functions are Active at once (a failing update is staged by a proxy).
"""

from __future__ import annotations

import http.server
import io
import json
import threading
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from sklambda.aws import (
    AwsClient,
    CredentialsError,
    DeployError,
    DeployOptions,
    NotManagedError,
    RegionError,
    deploy,
    destroy,
    plan_deploy,
    rollback,
    status,
)
from sklambda.aws.client import DIRECT_UPLOAD_LIMIT
from sklambda.aws.deployer import (
    LIVE,
    PUBLIC_INVOKE_SID,
    PUBLIC_URL_SID,
    role_name_for,
    statement_matches,
)
from tests.support.aws import REGION, make_dist

# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(endpoint: str, sleeps: list[float]) -> AwsClient:
    return AwsClient(region=REGION, endpoint_url=endpoint, sleep=sleeps.append)


@pytest.fixture
def aws(endpoint: str) -> dict[str, Any]:
    """Plain boto3 clients, to look at what sklambda did the way a user would."""
    return {
        service: boto3.client(service, region_name=REGION, endpoint_url=endpoint)
        for service in ("lambda", "iam", "s3")
    }


@pytest.fixture(scope="module")
def real_dist(seed_dist_312: Path) -> Path:
    """A real package of the diabetes model (lean runtime, no layer), built once per session."""
    return seed_dist_312


def _policy(aws: dict[str, Any], name: str) -> list[dict[str, Any]]:
    try:
        policy = aws["lambda"].get_policy(FunctionName=name, Qualifier=LIVE)["Policy"]
    except aws["lambda"].exceptions.ResourceNotFoundException:
        return []
    return list(json.loads(policy)["Statement"])


def _versions(aws: dict[str, Any], name: str) -> list[str]:
    found = aws["lambda"].list_versions_by_function(FunctionName=name)["Versions"]
    return [v["Version"] for v in found if v["Version"] != "$LATEST"]


def _layer_versions(aws: dict[str, Any], layer: str) -> list[int]:
    found = aws["lambda"].list_layer_versions(LayerName=layer)["LayerVersions"]
    return sorted(v["Version"] for v in found)


def _by_hand(aws: dict[str, Any], name: str, role: str) -> dict[str, Any]:
    """A function (and role) made without sklambda, as a user's existing resources."""
    arn = aws["iam"].create_role(
        RoleName=role,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'mine'\n")
    return dict(
        aws["lambda"].create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=arn,
            Handler="app.handler",
            Code={"ZipFile": buffer.getvalue()},
            Tags={"team": "data"},
        )
    )


# -- first deploy, redeploys -----------------------------------------------------------------------


def test_first_deploy_of_a_real_package(
    client: AwsClient,
    aws: dict[str, Any],
    real_dist: Path,
    sleeps: list[float],
    diabetes_bundle: Path,
) -> None:
    result = deploy(client, real_dist, "diabetes")
    report = json.loads((real_dist / "build.json").read_text())

    assert result.version == "1"
    assert result.previous_version is None
    assert result.auth_type == "AWS_IAM"
    assert result.url.startswith("https://") and ".lambda-url.us-east-1.on.aws" in result.url
    assert any(a.startswith("created role") for a in result.actions)
    assert any(a == "created function diabetes" for a in result.actions)
    assert sleeps == []  # moto is ready at once: nothing waited

    fn = aws["lambda"].get_function(FunctionName="diabetes")
    config = fn["Configuration"]
    assert config["Runtime"] == "python3.12"
    assert config["Handler"] == "sklambda_handler.handler"
    assert config["Architectures"] == ["x86_64"]
    assert (config["MemorySize"], config["Timeout"]) == (1024, 30)
    assert config["Role"] == result.role_arn
    tags = fn["Tags"]
    assert tags["sklambda:managed"] == "true"
    assert tags["sklambda:model"] == report["model"]["name"] == "patients"
    assert tags["sklambda:model-version"] == report["model"]["version"]
    assert tags["sklambda:version"] == report["sklambda"]
    assert tags["sklambda:code-sha256"] == report["artifacts"]["function"]["sha256"]
    assert tags["sklambda:bundle-sha256"] == report["bundle_sha256"]

    alias = aws["lambda"].get_alias(FunctionName="diabetes", Name=LIVE)
    assert alias["FunctionVersion"] == "1"
    url = aws["lambda"].get_function_url_config(FunctionName="diabetes", Qualifier=LIVE)
    assert url["FunctionUrl"] == result.url
    assert url["AuthType"] == "AWS_IAM"
    assert _policy(aws, "diabetes") == []  # IAM auth: no resource-policy grants

    role_name = role_name_for("diabetes")
    role_tags = aws["iam"].list_role_tags(RoleName=role_name)["Tags"]
    assert {"Key": "sklambda:managed", "Value": "true"} in role_tags
    trust = aws["iam"].get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    policy = aws["iam"].get_role_policy(RoleName=role_name, PolicyName="sklambda-logs")
    document = policy["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    actions: set[str] = set()
    for statement in document["Statement"]:
        granted = statement["Action"]
        actions.update(granted if isinstance(granted, list) else [granted])
    assert actions == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
    assert document["Statement"][1]["Resource"].endswith(":log-group:/aws/lambda/diabetes:*")
    assert aws["iam"].list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []

    command = result.example_command()
    assert command.startswith("sklambda invoke diabetes --remote --json ")
    assert command.endswith(" --region us-east-1")
    # The row is a real one of the bundle's sample, recorded by the build.
    from sklambda.bundle.format import read_sample

    sample_row = read_sample(diabetes_bundle)["rows"][0]
    assert report["example"] == sample_row
    assert json.dumps({"instances": [sample_row]}) in command


def test_redeploy_unchanged_converges(
    client: AwsClient, aws: dict[str, Any], tmp_path: Path
) -> None:
    dist = make_dist(tmp_path / "dist", layer="numpy-ish")
    first = deploy(client, dist, "steady")
    second = deploy(client, dist, "steady")

    assert second.url == first.url
    assert second.version == first.version == "1"
    assert second.layer_arn == first.layer_arn
    assert second.previous_version == "1"
    assert _layer_versions(aws, "sklambda-steady") == [1]
    assert _versions(aws, "steady") == ["1"]
    assert any(a.startswith("reused layer sklambda-steady version 1") for a in second.actions)
    assert any(a.startswith("reused role") for a in second.actions)
    assert "steady unchanged" in second.actions
    assert not any("published" in a or "created" in a for a in second.actions)
    roles = [r for r in aws["iam"].list_roles()["Roles"] if r["RoleName"] == "sklambda-steady"]
    assert len(roles) == 1


def test_redeploy_changed_publishes_and_moves_live(
    client: AwsClient, aws: dict[str, Any], tmp_path: Path
) -> None:
    first = deploy(client, make_dist(tmp_path / "a", code="a", layer="L1"), "moving")
    second = deploy(client, make_dist(tmp_path / "b", code="b", layer="L1"), "moving")

    assert (first.version, second.version) == ("1", "2")
    assert second.previous_version == "1"
    assert second.url == first.url
    assert any("alias live moved from 1" in a for a in second.actions)
    assert any(a.startswith("updated code") for a in second.actions)
    assert aws["lambda"].get_alias(FunctionName="moving", Name=LIVE)["FunctionVersion"] == "2"
    assert _versions(aws, "moving") == ["1", "2"]
    assert _layer_versions(aws, "sklambda-moving") == [1]  # same layer content: reused
    tags = aws["lambda"].get_function(FunctionName="moving")["Tags"]
    assert tags["sklambda:model-version"] == "ver-b"

    # A new layer is published once; the function's configuration follows it.
    third = deploy(client, make_dist(tmp_path / "c", code="b", layer="L2"), "moving")
    assert third.version == "3"
    assert _layer_versions(aws, "sklambda-moving") == [1, 2]
    config = aws["lambda"].get_function_configuration(FunctionName="moving", Qualifier="3")
    assert [layer["Arn"] for layer in config["Layers"]] == [third.layer_arn]

    # Configuration alone (memory, env) is a change too.
    fourth = deploy(
        client,
        make_dist(tmp_path / "c", code="b", layer="L2"),
        "moving",
        DeployOptions(memory=2048, env={"MODE": "fast"}),
    )
    assert fourth.version == "4"
    config = aws["lambda"].get_function_configuration(FunctionName="moving", Qualifier="4")
    assert config["MemorySize"] == 2048
    assert config["Environment"]["Variables"] == {"MODE": "fast"}


def test_public_then_iam(client: AwsClient, aws: dict[str, Any], tmp_path: Path) -> None:
    dist = make_dist(tmp_path / "dist")
    public = deploy(client, dist, "open", DeployOptions(public=True))

    assert public.auth_type == "NONE"
    url = aws["lambda"].get_function_url_config(FunctionName="open", Qualifier=LIVE)
    assert url["AuthType"] == "NONE"
    statements = _policy(aws, "open")
    assert sorted(s["Sid"] for s in statements) == [PUBLIC_INVOKE_SID, PUBLIC_URL_SID]
    by_sid = {s["Sid"]: s for s in statements}
    url_grant, invoke_grant = by_sid[PUBLIC_URL_SID], by_sid[PUBLIC_INVOKE_SID]
    assert url_grant["Action"] == "lambda:InvokeFunctionUrl"
    assert url_grant["FunctionUrlAuthType"] == "NONE"
    assert invoke_grant["Action"] == "lambda:InvokeFunction"
    assert invoke_grant["InvokedViaFunctionUrl"] is True
    for statement in statements:
        assert statement["Principal"] == "*"
        assert statement["Resource"].endswith(":function:open:live")
        assert statement_matches(statement, statement["Sid"])
    assert public.example_command().startswith(f"curl -s {public.url} ")

    # Again: moto would accept duplicate statement ids, so a count shows sklambda adds none.
    again = deploy(client, dist, "open", DeployOptions(public=True))
    assert len(_policy(aws, "open")) == 2
    assert again.url == public.url
    assert not any("permission" in a for a in again.actions)

    private = deploy(client, dist, "open")
    assert private.auth_type == "AWS_IAM"
    assert private.url == public.url
    url = aws["lambda"].get_function_url_config(FunctionName="open", Qualifier=LIVE)
    assert url["AuthType"] == "AWS_IAM"
    assert _policy(aws, "open") == []
    assert any("removed public permissions" in a for a in private.actions)


def test_statement_matches_aws_rendering() -> None:
    """How AWS itself renders the two grants (conditions as Condition blocks)."""
    resource = "arn:aws:lambda:us-east-1:123456789012:function:open:live"
    url_grant = {
        "Sid": PUBLIC_URL_SID,
        "Effect": "Allow",
        "Principal": "*",
        "Action": "lambda:InvokeFunctionUrl",
        "Resource": resource,
        "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
    }
    invoke_grant = {
        "Sid": PUBLIC_INVOKE_SID,
        "Effect": "Allow",
        "Principal": "*",
        "Action": "lambda:InvokeFunction",
        "Resource": resource,
        "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}},
    }
    assert statement_matches(url_grant, PUBLIC_URL_SID)
    assert statement_matches(invoke_grant, PUBLIC_INVOKE_SID)
    assert not statement_matches({**url_grant, "Condition": {}}, PUBLIC_URL_SID)
    assert not statement_matches({**invoke_grant, "Resource": resource[:-5]}, PUBLIC_INVOKE_SID)
    assert not statement_matches({**invoke_grant, "Principal": {"AWS": "123"}}, PUBLIC_INVOKE_SID)


def test_big_artifacts_go_through_s3(
    endpoint: str, aws: dict[str, Any], tmp_path: Path, sleeps: list[float]
) -> None:
    assert (
        AwsClient(region=REGION, endpoint_url=endpoint).direct_upload_limit == DIRECT_UPLOAD_LIMIT
    )
    assert DIRECT_UPLOAD_LIMIT == 50 * 1024 * 1024
    small_limit = AwsClient(
        region=REGION, endpoint_url=endpoint, sleep=sleeps.append, direct_upload_limit=4096
    )
    dist = make_dist(tmp_path / "dist", code="big", layer="big-layer", padding=20_000)
    assert (dist / "function.zip").stat().st_size > 4096
    result = deploy(small_limit, dist, "heavy", DeployOptions(s3_bucket="models-bucket"))

    report = json.loads((dist / "build.json").read_text())
    keys = sorted(
        o["Key"] for o in aws["s3"].list_objects_v2(Bucket="models-bucket").get("Contents", [])
    )
    assert keys == [
        f"sklambda/heavy/function-{report['artifacts']['function']['sha256']}.zip",
        f"sklambda/heavy/layer-{report['artifacts']['layer']['sha256']}.zip",
    ]
    assert "created S3 bucket models-bucket" in result.actions
    config = aws["lambda"].get_function(FunctionName="heavy")
    assert config["Configuration"]["CodeSize"] == (dist / "function.zip").stat().st_size
    assert config["Tags"]["sklambda:s3-bucket"] == "models-bucket"

    again = deploy(small_limit, dist, "heavy", DeployOptions(s3_bucket="models-bucket"))
    assert again.version == result.version
    assert len(aws["s3"].list_objects_v2(Bucket="models-bucket")["Contents"]) == 2

    destroyed = destroy(small_limit, "heavy")
    assert "deleted 2 S3 objects in models-bucket" in destroyed.actions
    assert aws["s3"].list_objects_v2(Bucket="models-bucket").get("Contents", []) == []
    aws["s3"].head_bucket(Bucket="models-bucket")  # the bucket itself stays


# -- interrupted and failed runs -------------------------------------------------------------------


def test_interrupted_run_converges(client: AwsClient, aws: dict[str, Any], tmp_path: Path) -> None:
    dist = make_dist(tmp_path / "dist", layer="L")
    plan, _execute = plan_deploy(client, dist, "halfway")
    assert plan.describe() == [
        "execution role sklambda-halfway",
        "layer sklambda-halfway",
        "function halfway",
        "version and alias live",
        "function URL",
        "URL permissions",
        "log group /aws/lambda/halfway",  # its retention (30 days by default)
    ]
    for step in plan.steps[:3]:  # the run dies after the function was created
        step.run()
    assert _versions(aws, "halfway") == []

    result = deploy(client, dist, "halfway", DeployOptions(public=True))
    assert result.version == "1"
    assert _layer_versions(aws, "sklambda-halfway") == [1]
    assert len(_policy(aws, "halfway")) == 2
    assert aws["lambda"].get_alias(FunctionName="halfway", Name=LIVE)["FunctionVersion"] == "1"


def test_code_updated_but_not_published_leaves_live(
    client: AwsClient, aws: dict[str, Any], tmp_path: Path
) -> None:
    deploy(client, make_dist(tmp_path / "a", code="a"), "careful")
    plan, _ = plan_deploy(client, make_dist(tmp_path / "b", code="b"), "careful")
    for step in plan.steps[:2]:  # role, function update; then the run stops
        step.run()
    latest = aws["lambda"].get_function(FunctionName="careful")["Configuration"]["CodeSha256"]
    live = aws["lambda"].get_function(FunctionName="careful", Qualifier=LIVE)["Configuration"]
    assert live["Version"] == "1"
    assert live["CodeSha256"] != latest


class _FailingUpdates(http.server.BaseHTTPRequestHandler):
    """A proxy to moto that makes Lambda report every code update as Failed, as AWS does when
    an update cannot be applied (for example a layer that no longer exists)."""

    upstream = ""
    failed: set[str] = set()  # noqa: RUF012 - per-class state of this test double

    def _forward(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        request = urllib.request.Request(
            self.upstream + self.path,
            data=body,
            method=self.command,
            headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
        )
        try:
            with urllib.request.urlopen(request) as response:
                status, headers, data = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, headers, data = exc.code, exc.headers, exc.read()
        parts = self.path.split("?")[0].strip("/").split("/")
        if self.command == "PUT" and parts[-1] == "code" and status < 300:
            self.failed.add(parts[2])
        if (
            self.command == "GET"
            and len(parts) == 3
            and parts[1] == "functions"
            and parts[2] in self.failed
            and "Qualifier" not in self.path
        ):
            document = json.loads(data)
            document["Configuration"]["LastUpdateStatus"] = "Failed"
            document["Configuration"]["LastUpdateStatusReason"] = "layer version deleted"
            data = json.dumps(document).encode()
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_failed_update_leaves_live_on_previous_version(
    endpoint: str, client: AwsClient, aws: dict[str, Any], tmp_path: Path
) -> None:
    deploy(client, make_dist(tmp_path / "a", code="a"), "fragile")
    _FailingUpdates.upstream = endpoint
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FailingUpdates)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        failing = AwsClient(
            region=REGION, endpoint_url=f"http://127.0.0.1:{proxy.server_address[1]}"
        )
        with pytest.raises(DeployError, match="layer version deleted"):
            deploy(failing, make_dist(tmp_path / "b", code="b"), "fragile")
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert aws["lambda"].get_alias(FunctionName="fragile", Name=LIVE)["FunctionVersion"] == "1"
    assert _versions(aws, "fragile") == ["1"]


# -- rollback, status, destroy ---------------------------------------------------------------------


def test_rollback_and_status(client: AwsClient, aws: dict[str, Any], tmp_path: Path) -> None:
    for code in ("a", "b", "c"):
        deploy(client, make_dist(tmp_path / code, code=code), "history")
    before = status(client, "history")
    assert before.live_version == "3"
    assert [v.version for v in before.versions] == ["1", "2", "3"]
    assert before.auth_type == "AWS_IAM"
    assert before.managed
    assert before.memory == 1024 and before.runtime == "python3.12"

    back = rollback(client, "history")
    assert (back.from_version, back.to_version) == ("3", "2")
    assert aws["lambda"].get_alias(FunctionName="history", Name=LIVE)["FunctionVersion"] == "2"
    assert rollback(client, "history").to_version == "1"
    with pytest.raises(DeployError, match="oldest"):
        rollback(client, "history")
    assert rollback(client, "history", to="3").to_version == "3"
    with pytest.raises(DeployError, match="no version 9; it has 1, 2, 3"):
        rollback(client, "history", to="9")
    after = status(client, "history")
    assert after.live_version == "3"
    assert after.url == before.url


def test_destroy_removes_ours_only(client: AwsClient, aws: dict[str, Any], tmp_path: Path) -> None:
    _by_hand(aws, "neighbour", "neighbour-role")
    other_layer = aws["lambda"].publish_layer_version(
        LayerName="sklambda-doomed",  # same layer name, a version sklambda did not publish
        Description="hand-made",
        Content={"ZipFile": (make_dist(tmp_path / "x") / "function.zip").read_bytes()},
    )
    deploy(
        client, make_dist(tmp_path / "a", code="a", layer="L"), "doomed", DeployOptions(public=True)
    )
    deploy(
        client, make_dist(tmp_path / "b", code="b", layer="M"), "doomed", DeployOptions(public=True)
    )

    result = destroy(client, "doomed")
    assert "deleted function URL" in result.actions
    assert "deleted role sklambda-doomed" in result.actions
    assert aws["lambda"].list_functions()["Functions"]  # the neighbour is still there
    with pytest.raises(aws["lambda"].exceptions.ResourceNotFoundException):
        aws["lambda"].get_function(FunctionName="doomed")
    remaining = aws["lambda"].list_layer_versions(LayerName="sklambda-doomed")["LayerVersions"]
    assert [v["LayerVersionArn"] for v in remaining] == [other_layer["LayerVersionArn"]]
    role_names = {r["RoleName"] for r in aws["iam"].list_roles()["Roles"]}
    assert "sklambda-doomed" not in role_names
    assert "neighbour-role" in role_names
    assert aws["lambda"].get_function(FunctionName="neighbour")["Configuration"]["Handler"] == (
        "app.handler"
    )

    assert destroy(client, "doomed").actions == ()  # converged: nothing left to remove


def test_destroy_keeps_a_role_given_by_the_user(
    client: AwsClient, aws: dict[str, Any], tmp_path: Path
) -> None:
    arn = _by_hand(aws, "lender", "lent-role")["Role"]
    deploy(client, make_dist(tmp_path / "a"), "borrower", DeployOptions(role_arn=arn))
    assert aws["lambda"].get_function(FunctionName="borrower")["Tags"]["sklambda:role"] == (
        "external"
    )
    destroy(client, "borrower")
    assert aws["iam"].get_role(RoleName="lent-role")["Role"]["Arn"] == arn


# -- refusals and errors ---------------------------------------------------------------------------


def test_same_named_function_is_refused_unless_adopted(
    client: AwsClient, aws: dict[str, Any], tmp_path: Path
) -> None:
    original = _by_hand(aws, "theirs", "their-role")
    dist = make_dist(tmp_path / "a")
    with pytest.raises(NotManagedError, match="not created by sklambda.*--adopt"):
        deploy(client, dist, "theirs")
    with pytest.raises(NotManagedError):
        destroy(client, "theirs")
    with pytest.raises(NotManagedError):
        rollback(client, "theirs")
    untouched = aws["lambda"].get_function(FunctionName="theirs")
    assert untouched["Configuration"]["CodeSha256"] == original["CodeSha256"]
    assert "sklambda:managed" not in untouched["Tags"]
    assert _versions(aws, "theirs") == []

    adopted = deploy(client, dist, "theirs", DeployOptions(adopt=True))
    assert adopted.version == "1"
    taken = aws["lambda"].get_function(FunctionName="theirs")
    assert taken["Tags"]["sklambda:managed"] == "true"
    assert taken["Configuration"]["Handler"] == "sklambda_handler.handler"


def test_region_without_function_urls_is_refused_before_anything_is_made(
    endpoint: str, tmp_path: Path
) -> None:
    zurich = AwsClient(region="eu-central-2", endpoint_url=endpoint)
    with pytest.raises(RegionError, match="not offered in eu-central-2.*us-east-1"):
        deploy(zurich, make_dist(tmp_path / "a"), "swiss")
    lam = boto3.client("lambda", region_name="eu-central-2", endpoint_url=endpoint)
    assert lam.list_functions()["Functions"] == []
    iam = boto3.client("iam", region_name="eu-central-2", endpoint_url=endpoint)
    assert "sklambda-swiss" not in {r["RoleName"] for r in iam.list_roles()["Roles"]}


def test_unknown_and_missing_region(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(
        RegionError, match='unknown AWS region "us-esat-1"; did you mean .*us-east-1'
    ):
        AwsClient(region="us-esat-1", endpoint_url=endpoint)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(RegionError, match="no AWS region set: pass --region"):
        AwsClient(endpoint_url=endpoint)


def test_missing_credentials(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    with pytest.raises(CredentialsError, match="no AWS credentials found: run `aws configure`"):
        AwsClient(region=REGION, endpoint_url=endpoint)


def test_bad_options_and_names(client: AwsClient, tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="memory must be 128–10240 MB"):
        DeployOptions(memory=64)
    with pytest.raises(DeployError, match="timeout must be 1–900"):
        DeployOptions(timeout=901)
    with pytest.raises(DeployError, match="4 KB"):
        DeployOptions(env={"BIG": "x" * 5000})
    with pytest.raises(DeployError, match="not valid"):
        deploy(client, make_dist(tmp_path / "a"), "bad name!")
    with pytest.raises(DeployError, match="not a sklambda package"):
        deploy(client, tmp_path, "nothing")
    dist = make_dist(tmp_path / "b", layer="L")
    (dist / "layer.zip").write_bytes(b"tampered")
    with pytest.raises(DeployError, match="does not match the sha256"):
        deploy(client, dist, "tampered")
    with pytest.raises(DeployError, match="built for x86_64 and its layer"):
        deploy(
            client, make_dist(tmp_path / "c", layer="L"), "wrongarch", DeployOptions(arch="arm64")
        )


def test_image_context_needs_and_uses_an_image_uri(
    client: AwsClient, aws: dict[str, Any], tmp_path: Path
) -> None:
    dist = tmp_path / "image-dist"
    (dist / "image").mkdir(parents=True)
    (dist / "image" / "Dockerfile").write_text("FROM public.ecr.aws/lambda/python:3.12\n")
    report = {
        "name": "pictured",
        "model": {"name": "pictured", "version": "v1"},
        "arch": "arm64",
        "target": {"runtime": "python3.12"},
        "handler": "sklambda_handler.handler",
        "artifacts": {},
    }
    (dist / "build.json").write_text(json.dumps(report))
    with pytest.raises(DeployError, match="--image-uri"):
        deploy(client, dist, "pictured")
    uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/pictured:1"
    result = deploy(client, dist, "pictured", DeployOptions(image_uri=uri))
    fn = aws["lambda"].get_function(FunctionName="pictured")
    assert fn["Configuration"]["PackageType"] == "Image"
    assert fn["Configuration"]["Architectures"] == ["arm64"]
    assert fn["Code"]["ImageUri"] == uri
    assert deploy(client, dist, "pictured", DeployOptions(image_uri=uri)).version == result.version
