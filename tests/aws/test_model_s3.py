"""Models kept in S3: built past a lowered threshold, deployed to moto's server (objects, the role's
scoped policy, the environment, /tmp), then run in the local emulator, where the handler fetches
the files from moto's S3 over loopback with its own SigV4 GET, checks their sha256 and answers;
a tampered object is refused at INIT with a clear log line.

What moto cannot show: it does not check SigV4 signatures nor IAM policies, so the handler's
signature is compared with botocore's for the same request (``test_handler_signs_s3_gets_as_
botocore_does``) and the policy is checked as written (exactly the objects' ARNs).
"""

from __future__ import annotations

import datetime
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from sklambda.aws import AwsClient, DeployOptions, deploy, destroy, dry_run
from tests.support.aws import FAKE_ENV, REGION


@pytest.fixture(scope="module")
def s3_dist(diabetes_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The diabetes model built with a threshold of 1,000 bytes: its files go to S3."""
    from sklambda.building import build

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SKLAMBDA_S3_MODEL_THRESHOLD_BYTES", "1000")
        out = tmp_path_factory.mktemp("s3model") / "dist"
        yield build(diabetes_bundle, out, python="3.12").dist


def _expected(bundle: Path, rows: list[dict[str, Any]]) -> list[float]:
    from sklambda.bundle.store import load

    return [float(v) for v in load(bundle).predict(rows)]


@pytest.mark.slow
def test_build_keeps_the_model_out_of_the_package(s3_dist: Path) -> None:
    report = json.loads((s3_dist / "build.json").read_text())
    store = report["model_store"]
    assert store["kind"] == "s3" and "SKLAMBDA_S3_MODEL_THRESHOLD_BYTES" in store["why"]
    names = sorted(f["name"] for f in store["files"])
    assert names == sorted(p.name for p in (s3_dist / "model-files").iterdir())
    with zipfile.ZipFile(s3_dist / "function.zip") as archive:
        inside = {n for n in archive.namelist() if n.startswith("model/")}
        remote = json.loads(archive.read("model/remote.json"))
        shipped = archive.namelist()
    # The fetcher ships only in packages that need it (a seed package stays under 100 KB).
    assert "sklambda/runtime/model_store.py" in shipped
    assert any(n.startswith("sklambda/runtime/__pycache__/model_store.") for n in shipped)
    assert inside == {"model/manifest.json", "model/remote.json"}
    assert remote["files"] == store["files"]
    assert report["verification"]["ok"] is True  # proven with the files fetched as at INIT


@pytest.mark.slow
def test_deployed_the_s3_way_and_answers_in_the_emulator(
    s3_dist: Path, diabetes_bundle: Path, endpoint: str
) -> None:
    from sklambda.bundle.format import read_sample
    from sklambda.local import LocalFunction
    from sklambda.local.url_events import post_event, result_to_response
    from tests.support.aws import resource_listing as listing

    client = AwsClient(region=REGION, endpoint_url=endpoint)
    before = listing(endpoint)
    options = DeployOptions(keep_warm="5m", cors_origins=("https://app.example.com",))
    plan = dry_run(client, s3_dist, "bigmodel", options)
    assert listing(endpoint) == before  # a dry run of everything at once changes nothing
    files = len(json.loads((s3_dist / "build.json").read_text())["model_store"]["files"])
    assert f"create bucket sklambda-123456789012-us-east-1 and upload {files} model files" in plan
    assert "create keep-warm: 1 pings rate(5 minutes)" in plan
    result = deploy(client, s3_dist, "bigmodel")
    assert any(
        a.startswith("uploaded 1 of 1 model files") or "model files" in a for a in result.actions
    )
    store = json.loads((s3_dist / "build.json").read_text())["model_store"]
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint)
    iam = boto3.client("iam", region_name=REGION, endpoint_url=endpoint)
    lam = boto3.client("lambda", region_name=REGION, endpoint_url=endpoint)
    config = lam.get_function_configuration(FunctionName="bigmodel")
    variables = config["Environment"]["Variables"]
    bucket, prefix = variables["SKLAMBDA_MODEL_BUCKET"], variables["SKLAMBDA_MODEL_PREFIX"]
    assert bucket == "sklambda-123456789012-us-east-1" and prefix == "sklambda/bigmodel/model/"
    assert config["EphemeralStorage"] == {"Size": 512}
    keys = [f"{prefix}{f['sha256']}-{f['name']}" for f in store["files"]]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(keys)
    for entry, key in zip(store["files"], keys, strict=True):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == (s3_dist / "model-files" / entry["name"]).read_bytes()
    policy = iam.get_role_policy(RoleName="sklambda-bigmodel", PolicyName="sklambda-model")
    document = policy["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    (statement,) = document["Statement"]
    assert statement["Action"] == "s3:GetObject"
    resources = statement["Resource"]
    resources = resources if isinstance(resources, list) else [resources]
    assert sorted(resources) == sorted(f"arn:aws:s3:::{bucket}/{k}" for k in keys)

    again = deploy(client, s3_dist, "bigmodel")
    assert any("already there" in a for a in again.actions)  # content-addressed: not re-sent

    # The emulator runs the function with the environment Lambda would give it, S3 at moto.
    env = {
        **{
            k: FAKE_ENV[k]
            for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
        },
        **variables,
        "SKLAMBDA_S3_ENDPOINT": endpoint,
    }
    rows = read_sample(diabetes_bundle)["rows"][:5]
    with LocalFunction(s3_dist, memory=512, concurrency=1, env=env) as function:
        answer = function.invoke(post_event(json.dumps({"instances": rows}).encode()))
    assert answer.error is None, answer.log_lines
    response = result_to_response(answer.raw)
    assert response.status == 200
    got = json.loads(response.body)["predictions"]
    assert got == pytest.approx(_expected(diabetes_bundle, rows))
    assert answer.report.init_duration_ms is not None  # a cold start: the fetch happened in INIT

    # Someone replaces an object in the bucket: INIT refuses it, with a clear line in the log.
    s3.put_object(Bucket=bucket, Key=keys[0], Body=b'{"tampered": true}')
    log: list[str] = []
    with LocalFunction(
        s3_dist, memory=512, concurrency=1, env=env, on_log=lambda line: log.append(line.text)
    ) as function:
        refused = function.invoke(post_event(json.dumps({"instances": rows}).encode()))
    assert refused.error is not None
    text = "\n".join(log)
    assert f"refusing model file {store['files'][0]['name']}" in text
    assert "sha256" in text and "nothing was loaded" in text

    gone = destroy(client, "bigmodel")
    assert any(a.startswith("deleted") and "S3 objects" in a for a in gone.actions)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)


def test_handler_signs_s3_gets_as_botocore_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from sklambda.runtime.model_store import object_url, signed_get

    url = object_url("bucket-1", "sklambda/f/model/ab12-lean.json", "eu-west-1", None)
    assert url == "https://bucket-1.s3.eu-west-1.amazonaws.com/sklambda/f/model/ab12-lean.json"
    moment = datetime.datetime(2026, 12, 2, 6, 0, 0, tzinfo=datetime.UTC)
    ours = signed_get(url, "eu-west-1", "AKID", "SECRET", "TOKEN", now=moment)

    request = AWSRequest(
        method="GET", url=url, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
    )
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: moment.replace(tzinfo=None))
    S3SigV4Auth(Credentials("AKID", "SECRET", "TOKEN"), "s3", "eu-west-1").add_auth(request)
    assert ours["authorization"] == request.headers["Authorization"]
    # A different secret signs differently: the comparison above is not vacuous.
    other = signed_get(url, "eu-west-1", "AKID", "OTHER", "TOKEN", now=moment)
    assert other["authorization"] != request.headers["Authorization"]


def test_tmp_size_threshold_and_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    from sklambda.aws import DeployError
    from sklambda.aws.model_objects import ephemeral_storage_mb
    from sklambda.building import model_s3
    from sklambda.errors import BuildError

    assert ephemeral_storage_mb({"bytes": 10 * 2**20}) == 512  # Lambda's default is enough
    assert ephemeral_storage_mb({"bytes": 3000 * 2**20}) == 3000 + 64
    with pytest.raises(DeployError, match="over the 10,240 MB"):
        ephemeral_storage_mb({"bytes": 10_300 * 2**20})
    monkeypatch.delenv("SKLAMBDA_S3_MODEL_THRESHOLD_BYTES", raising=False)
    assert model_s3.wanted("auto", 262_144_000, image=False) == (False, "")
    assert model_s3.wanted("auto", 262_144_001, image=False)[0] is True
    assert model_s3.wanted("package", 10**12, image=False) == (False, "")
    monkeypatch.setenv("SKLAMBDA_S3_MODEL_THRESHOLD_BYTES", "5")
    assert model_s3.wanted("auto", 6, image=False)[0] is True
    with pytest.raises(BuildError, match="for zip packages"):
        model_s3.check("s3", None, image=True)
    with pytest.raises(BuildError, match="--s3-bucket goes with --model-from s3"):
        model_s3.check("package", "b", image=False)
