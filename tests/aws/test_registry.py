"""``deploy --image-uri URI --create-repository``: the ECR repository made when missing, the
deploy stopped (nothing else changed) until the image is pushed — against moto's server."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from sklambda.aws import AwsClient, DeployError, DeployOptions, deploy, dry_run
from sklambda.aws.registry import parse_image_uri
from tests.support.aws import REGION

URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/pictured:v1"


def _image_dist(path: Path) -> Path:
    (path / "image").mkdir(parents=True)
    (path / "image" / "Dockerfile").write_text("FROM public.ecr.aws/lambda/python:3.12\n")
    report = {
        "name": "ecr-pictured",
        "model": {"name": "ecr-pictured", "version": "v1"},
        "arch": "x86_64",
        "target": {"runtime": "python3.12"},
        "handler": "sklambda_handler.handler",
        "artifacts": {},
    }
    (path / "build.json").write_text(json.dumps(report))
    return path


def test_repository_created_then_deploy_waits_for_the_push(endpoint: str, tmp_path: Path) -> None:
    client = AwsClient(region=REGION, endpoint_url=endpoint)
    ecr = boto3.client("ecr", region_name=REGION, endpoint_url=endpoint)
    lam = boto3.client("lambda", region_name=REGION, endpoint_url=endpoint)
    dist = _image_dist(tmp_path / "dist")
    options = DeployOptions(image_uri=URI, create_repository=True)
    assert dry_run(client, dist, "ecr-pictured", options)[0] == (
        "create ECR repository team/pictured (then push the image before deploying)"
    )
    with pytest.raises(
        DeployError,
        match="created ECR repository team/pictured; the image .* is "
        "not in ECR yet; push it.*docker push " + URI.replace(".", r"\."),
    ):
        deploy(client, dist, "ecr-pictured", options)
    (repository,) = ecr.describe_repositories(repositoryNames=["team/pictured"])["repositories"]
    tags = ecr.list_tags_for_resource(resourceArn=repository["repositoryArn"])["tags"]
    assert {"Key": "sklambda:managed", "Value": "true"} in tags
    assert "ecr-pictured" not in {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    iam = boto3.client("iam", region_name=REGION, endpoint_url=endpoint)
    with pytest.raises(iam.exceptions.NoSuchEntityException):  # nothing else was made
        iam.get_role(RoleName="sklambda-ecr-pictured")

    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "digest": "sha256:" + "0" * 64,
            "size": 1,
            "mediaType": "application/vnd.docker.container.image.v1+json",
        },
        "layers": [],
    }
    ecr.put_image(repositoryName="team/pictured", imageManifest=json.dumps(manifest), imageTag="v1")
    assert dry_run(client, dist, "ecr-pictured", options)[0] == "leave ECR repository team/pictured"
    result = deploy(client, dist, "ecr-pictured", options)
    assert lam.get_function(FunctionName="ecr-pictured")["Code"]["ImageUri"] == URI
    assert result.version == "1"


def test_image_uri_parsing_and_refusals() -> None:
    assert parse_image_uri(URI) == (
        "123456789012",
        "us-east-1",
        "team/pictured",
        {"imageTag": "v1"},
    )
    digest = "sha256:" + "a" * 64
    assert parse_image_uri(f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/r@{digest}")[3] == {
        "imageDigest": digest
    }
    with pytest.raises(DeployError, match="not an ECR image URI"):
        parse_image_uri("docker.io/library/python:3.12")
    with pytest.raises(DeployError, match="--create-repository goes with --image-uri"):
        DeployOptions(create_repository=True)
