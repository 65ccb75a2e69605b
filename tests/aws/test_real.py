"""Opt-in: deploy to real AWS, call the public URL, compare the prediction, destroy.

Runs only with ``SKLAMBDA_AWS_IT=1`` and AWS credentials (and region) in the environment; it
creates a function named ``sklambda-it-<random>`` and removes it again, even when it fails.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest


def _why_skipped() -> str | None:
    if os.environ.get("SKLAMBDA_AWS_IT") != "1":
        return "talks to real AWS: set SKLAMBDA_AWS_IT=1 (and AWS credentials) to run it"
    # Looked at only once opted in, so a normal run never walks the credential chain.
    import boto3

    if boto3.session.Session().get_credentials() is None:
        return "SKLAMBDA_AWS_IT=1 but no AWS credentials were found"
    return None


pytestmark = [pytest.mark.aws, pytest.mark.slow]


def test_deploy_call_destroy_on_real_aws(diabetes_bundle: Path, tmp_path: Path) -> None:
    reason = _why_skipped()
    if reason:
        pytest.skip(reason)
    from sklambda.aws import AwsClient, DeployOptions, deploy, destroy
    from sklambda.building import build
    from sklambda.bundle.format import read_sample
    from sklambda.bundle.store import load

    dist = build(diabetes_bundle, tmp_path / "dist", python="3.12").dist
    client = AwsClient(region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    name = f"sklambda-it-{uuid.uuid4().hex[:8]}"
    rows = read_sample(diabetes_bundle)["rows"][:3]
    expected = load(diabetes_bundle).respond({"instances": rows})["predictions"]
    try:
        result = deploy(client, dist, name, DeployOptions(public=True, memory=512))
        body = json.dumps({"instances": rows}).encode()
        deadline = time.monotonic() + 90
        while True:  # a new URL and its permissions take a few seconds to answer
            request = urllib.request.Request(
                result.url, data=body, headers={"content-type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    answer = json.loads(response.read())
                break
            except urllib.error.HTTPError as exc:
                if exc.code not in (403, 502, 503) or time.monotonic() > deadline:
                    raise
                time.sleep(5)
        assert answer["predictions"] == pytest.approx(expected, rel=1e-9)
    finally:
        destroy(client, name)
    assert client.get_function(name) is None
