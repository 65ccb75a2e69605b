"""Deploying a package whose model lives in S3 (``build --model-from s3``).

- the files of ``DIST/model-files/`` are uploaded to ``s3://BUCKET/sklambda/NAME/model/`` under
  content-addressed keys (``<sha256>-<file>``), so an unchanged model is not uploaded again;
- the function gets ``SKLAMBDA_MODEL_BUCKET`` / ``SKLAMBDA_MODEL_PREFIX`` and an
  ``EphemeralStorage`` large enough for the files in ``/tmp`` (512 MB at least);
- the execution role sklambda made may ``s3:GetObject`` exactly those objects (an inline policy
  ``sklambda-model``); a role of the user's (``--role-arn``) is told what it needs.

``destroy`` deletes everything under ``sklambda/NAME/`` in the bucket recorded on the function.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda.aws.errors import DeployError

if TYPE_CHECKING:
    from sklambda.aws.client import AwsClient
    from sklambda.aws.package import Package

BUCKET_ENV = "SKLAMBDA_MODEL_BUCKET"
PREFIX_ENV = "SKLAMBDA_MODEL_PREFIX"
POLICY_NAME = "sklambda-model"
TMP_DEFAULT_MB = 512
TMP_MAX_MB = 10240
TMP_HEADROOM_MB = 64  # the partial file of a download, Python's own scratch


def model_store(package: Package) -> dict[str, Any] | None:
    found = package.report.get("model_store")
    return found if isinstance(found, dict) and found.get("kind") == "s3" else None


def prefix(name: str) -> str:
    return f"sklambda/{name}/model/"


def object_keys(name: str, store: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(file entry, key) of each model file (the key the handler computes too)."""
    from sklambda.runtime.model_store import object_key

    return [(entry, object_key(prefix(name), entry)) for entry in store["files"]]


def ephemeral_storage_mb(store: dict[str, Any]) -> int:
    """/tmp size that holds the model files: at least Lambda's default 512 MB."""
    needed = math.ceil(int(store["bytes"]) / 2**20) + TMP_HEADROOM_MB
    if needed > TMP_MAX_MB:
        raise DeployError(
            f"the model's files are {int(store['bytes']) / 2**20:,.0f} MiB: over the 10,240 MB "
            "/tmp a function can have; build a container image instead (build --image)"
        )
    return max(TMP_DEFAULT_MB, needed)


def environment(name: str, bucket: str) -> dict[str, str]:
    return {BUCKET_ENV: bucket, PREFIX_ENV: prefix(name)}


def upload(
    client: AwsClient, package: Package, name: str, bucket: str, store: dict[str, Any]
) -> str:
    """Upload each model file unless its content-addressed key is there; what was done."""
    from sklambda.files import sha256_file

    directory = Path(package.dist) / str(store.get("dir") or "model-files")
    sent = 0
    for entry, key in object_keys(name, store):
        path = directory / str(entry["name"])
        if not path.is_file():
            raise DeployError(f"{path} is missing; rebuild the package")
        if sha256_file(path) != entry["sha256"]:
            raise DeployError(
                f"{path} does not match the sha256 in build.json (changed after the build); "
                "rebuild the package"
            )
        if client.maybe("s3", "HeadObject", Bucket=bucket, Key=key) is None:
            client.upload(path, bucket, key)
            sent += 1
    count = len(store["files"])
    if not sent:
        return f"model files in s3://{bucket}/{prefix(name)} ({count}) already there"
    return f"uploaded {sent} of {count} model files to s3://{bucket}/{prefix(name)}"


def read_policy(partition: str, bucket: str, name: str, store: dict[str, Any]) -> dict[str, Any]:
    """s3:GetObject on exactly the model's objects."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [
                    f"arn:{partition}:s3:::{bucket}/{key}" for _, key in object_keys(name, store)
                ],
            }
        ],
    }
