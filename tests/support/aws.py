"""AWS test helpers: a fake credential environment for moto, and small hand-made packages."""

from __future__ import annotations

import hashlib
import json
import random
import zipfile
from pathlib import Path
from typing import Any

REGION = "us-east-1"
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    # Never reach for instance metadata or a real profile from a test.
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent/sklambda-test-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/sklambda-test-credentials",
}
FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def zip_files(path: Path, files: dict[str, bytes], stored: bool = False) -> str:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_dist(
    path: Path,
    *,
    code: str = "v1",
    layer: str | None = None,
    padding: int = 0,
    arch: str = "x86_64",
) -> Path:
    """A small hand-made package (the content is never run: moto does not invoke)."""
    path.mkdir(parents=True, exist_ok=True)
    manifest = {"name": "tiny", "features": [{"name": "x", "type": "number", "min": 0, "max": 10}]}
    files = {
        "sklambda_handler.py": (
            f"VERSION = {code!r}\ndef handler(event, context):\n    return 1\n"
        ).encode(),
        "model/manifest.json": json.dumps(manifest).encode(),
    }
    if padding:
        # Incompressible bytes, stored: the zip is as big as asked.
        files["model/padding.bin"] = random.Random(code).randbytes(padding)
    artifacts: dict[str, Any] = {}
    sha = zip_files(path / "function.zip", files, stored=bool(padding))
    artifacts["function"] = {
        "file": "function.zip",
        "zipped_bytes": (path / "function.zip").stat().st_size,
        "sha256": sha,
    }
    if layer is not None:
        layer_files = {"python/dep.py": f"LAYER = {layer!r}\n".encode()}
        if padding:
            layer_files["python/padding.bin"] = random.Random(layer).randbytes(padding)
        sha = zip_files(path / "layer.zip", layer_files, stored=bool(padding))
        artifacts["layer"] = {
            "file": "layer.zip",
            "zipped_bytes": (path / "layer.zip").stat().st_size,
            "sha256": sha,
        }
    report = {
        "name": "tiny",
        "model": {"name": "tiny", "version": f"ver-{code}", "task": "regression"},
        "runtime": "lean",
        "python": "3.12",
        "arch": arch,
        "target": {"python": "3.12", "arch": arch, "runtime": "python3.12"},
        "handler": "sklambda_handler.handler",
        "artifacts": artifacts,
    }
    (path / "build.json").write_text(json.dumps(report))
    return path


def resource_listing(endpoint: str) -> dict[str, Any]:
    """Everything a deploy could create or change, as plain data."""
    import boto3

    c = {
        s: boto3.client(s, region_name=REGION, endpoint_url=endpoint)
        for s in ("lambda", "iam", "s3", "events", "cloudwatch", "logs")
    }
    lam = c["lambda"]
    functions = {}
    for fn in lam.list_functions()["Functions"]:
        name = fn["FunctionName"]
        fn.pop("LastModified", None)
        aliases = lam.list_aliases(FunctionName=name)["Aliases"]
        try:  # moto has no ListFunctionUrlConfigs
            urls = lam.get_function_url_config(FunctionName=name, Qualifier="live")
            urls.pop("ResponseMetadata", None)
        except lam.exceptions.ResourceNotFoundException:
            urls = None
        try:
            policy = lam.get_policy(FunctionName=name)["Policy"]
        except lam.exceptions.ResourceNotFoundException:
            policy = None
        versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
        functions[name] = {
            "config": fn,
            "aliases": aliases,
            "urls": urls,
            "policy": policy,
            "versions": [v["Version"] for v in versions],
            "concurrency": lam.get_function_concurrency(FunctionName=name).get(
                "ReservedConcurrentExecutions"
            ),
        }
    roles = {
        r["RoleName"]: c["iam"].list_role_policies(RoleName=r["RoleName"])["PolicyNames"]
        for r in c["iam"].list_roles()["Roles"]
    }
    return {
        "functions": functions,
        "roles": roles,
        "layers": lam.list_layers()["Layers"],
        "buckets": [b["Name"] for b in c["s3"].list_buckets()["Buckets"]],
        "rules": c["events"].list_rules()["Rules"],
        "alarms": [a["AlarmName"] for a in c["cloudwatch"].describe_alarms()["MetricAlarms"]],
        "log_groups": [g["logGroupName"] for g in c["logs"].describe_log_groups()["logGroups"]],
    }
