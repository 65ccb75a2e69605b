"""Model files kept in S3 (``build --model-from s3``), fetched at INIT. Standard library only.

A package built this way holds the runtime and ``model/manifest.json`` plus ``model/remote.json``
(each model file's name, size and sha256). At INIT the handler downloads the files to ``/tmp``
with a SigV4-signed GET (urllib + hmac, the function's own credentials from
``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``), checks every sha256,
and refuses to load a file that does not match: the INIT fails with one clear log line.

Environment (set by ``sklambda deploy``): ``SKLAMBDA_MODEL_BUCKET``, ``SKLAMBDA_MODEL_PREFIX``;
``SKLAMBDA_S3_ENDPOINT`` points at another S3 (path-style; tests use moto's server on loopback,
the build's proof a stand-in serving the package's own files).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request

REMOTE_JSON = "remote.json"
MANIFEST = "manifest.json"
BUCKET_ENV = "SKLAMBDA_MODEL_BUCKET"
PREFIX_ENV = "SKLAMBDA_MODEL_PREFIX"
ENDPOINT_ENV = "SKLAMBDA_S3_ENDPOINT"
CHUNK = 1 << 20
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()  # a GET's body, signed like botocore signs it


class ModelIntegrityError(RuntimeError):
    """A model file from S3 is not the one the package was built with."""


def object_key(prefix: str, entry: dict[str, object]) -> str:
    """The S3 key of a model file: content-addressed under the function's prefix."""
    return f"{prefix}{entry['sha256']}-{entry['name']}"


def _sign(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signed_get(
    url: str,
    region: str,
    access_key: str,
    secret_key: str,
    token: str | None,
    now: datetime.datetime | None = None,
) -> dict[str, str]:
    """The headers of a SigV4-signed S3 GET of ``url`` (empty body)."""
    parts = urllib.parse.urlsplit(url)
    moment = now or datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017 - 3.10-safe
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    headers = {"host": parts.netloc, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": amz_date}
    if token:
        headers["x-amz-security-token"] = token
    names = sorted(headers)
    query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    )
    canonical = "\n".join(
        [
            "GET",
            urllib.parse.quote(parts.path or "/", safe="/-_.~"),
            query,
            "".join(f"{name}:{headers[name].strip()}\n" for name in names),
            ";".join(names),
            EMPTY_SHA256,
        ]
    )
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _sign(f"AWS4{secret_key}".encode(), day)
    for part in (region, "s3", "aws4_request"):
        key = _sign(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature}"
    )
    return headers


def object_url(bucket: str, key: str, region: str, endpoint: str | None) -> str:
    quoted = urllib.parse.quote(key, safe="/-_.~")
    if endpoint:  # path-style on another S3 (moto, MinIO, a VPC endpoint URL)
        return f"{endpoint.rstrip('/')}/{bucket}/{quoted}"
    suffix = ".cn" if region.startswith("cn-") else ""
    return f"https://{bucket}.s3.{region}.amazonaws.com{suffix}/{quoted}"


def _fetch(url: str, destination: str, env: dict[str, str]) -> str:
    """Download ``url`` to ``destination``; its sha256."""
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    access, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if not access or not secret:
        raise ModelIntegrityError(
            "sklambda: no AWS credentials in the environment to fetch the model from S3 "
            "(Lambda sets AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from the execution role)"
        )
    headers = signed_get(url, region, access, secret, env.get("AWS_SESSION_TOKEN"))
    request = urllib.request.Request(url, headers=headers)
    digest = hashlib.sha256()
    try:
        with (
            urllib.request.urlopen(request, timeout=60) as response,
            open(destination, "wb") as out,
        ):
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        raise ModelIntegrityError(
            f"sklambda: GET {url} answered {exc.code} ({exc.read()[:200]!r}); the execution role "
            "must allow s3:GetObject on the model's objects (sklambda deploy grants exactly those)"
        ) from None
    return digest.hexdigest()


def materialise(model_dir: str, env: dict[str, str] | None = None) -> str:
    """The directory to load the model from: ``model_dir`` itself, or (for a model kept in S3)
    a directory under ``/tmp`` holding the downloaded, verified files.

    Raises
    ------
    ModelIntegrityError
        A file's sha256 differs from the package's record (nothing is loaded), or it cannot be
        fetched.
    """
    remote_path = os.path.join(model_dir, REMOTE_JSON)
    if not os.path.isfile(remote_path):
        return model_dir
    env = dict(os.environ if env is None else env)
    with open(remote_path, encoding="utf-8") as handle:
        remote = json.load(handle)
    target = os.path.join(env.get("TMPDIR") or "/tmp", "sklambda-model")
    os.makedirs(target, exist_ok=True)
    shutil.copyfile(os.path.join(model_dir, MANIFEST), os.path.join(target, MANIFEST))
    bucket, prefix = env.get(BUCKET_ENV), env.get(PREFIX_ENV, "")
    if not bucket:
        raise ModelIntegrityError(
            f"sklambda: this package keeps its model in S3 but {BUCKET_ENV} is not set; deploy it "
            "with `sklambda deploy` (which uploads the files and sets it)"
        )
    endpoint = env.get(ENDPOINT_ENV)
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    for entry in remote["files"]:
        name = str(entry["name"])
        if os.sep in name or name.startswith("."):
            raise ModelIntegrityError(f"sklambda: bad model file name {name!r} in {REMOTE_JSON}")
        final = os.path.join(target, name)
        partial = final + ".part"
        source = object_url(bucket, object_key(prefix, entry), region, endpoint)
        got = _fetch(source, partial, env)
        if got != entry["sha256"]:
            os.remove(partial)
            message = (
                f"sklambda: refusing model file {name} from {source}: its sha256 is {got}, the "
                f"package was built with {entry['sha256']} (the object changed after the deploy); "
                "nothing was loaded. Redeploy the package to upload the right file."
            )
            print(message, file=sys.stderr, flush=True)
            raise ModelIntegrityError(message)
        os.replace(partial, final)
    return target
