"""One small typed client over boto3: Lambda, IAM, S3 and STS calls with errors translated.

The session, the region, the endpoint and the clock are arguments, so tests point it at moto's
server on loopback and nothing in sklambda sleeps or reads the time behind their back.
"""

from __future__ import annotations

import difflib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda import limits
from sklambda.aws.errors import (
    CredentialsError,
    DeployError,
    RegionError,
    no_credentials_message,
    no_region_message,
    translate,
)

if TYPE_CHECKING:
    import boto3

DIRECT_UPLOAD_LIMIT = limits.DIRECT_UPLOAD_BYTES
WAIT_TIMEOUT = 300.0  # seconds to wait for a function to become Active / Successful
_NOT_FOUND = {
    "ResourceNotFoundException",
    "NoSuchEntity",
    "NoSuchBucket",
    "NotFound",
    "404",
    "RepositoryNotFoundException",
    "ImageNotFoundException",
}


def known_lambda_regions(session: Any) -> set[str]:
    """Regions botocore knows Lambda in, over all partitions (aws, aws-cn, aws-us-gov...)."""
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("lambda", partition_name=partition))
    return regions


def _session(profile: str | None) -> Any:
    """A boto3 session for ``profile`` (None: the usual chain), a missing profile named."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.session.Session(profile_name=profile)
    except ProfileNotFound:
        import botocore.session

        known = botocore.session.Session().available_profiles
        close = difflib.get_close_matches(profile or "", known, n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise CredentialsError(
            f'no AWS profile named "{profile}" in your AWS config files{hint} '
            "(`aws configure --profile NAME` creates one; profiles: "
            f"{', '.join(known) or 'none'})"
        ) from None


class AwsClient:
    """The AWS calls sklambda makes, with botocore errors turned into :mod:`sklambda.aws.errors`.

    Parameters
    ----------
    session:
        A ``boto3.session.Session``; default: a new one (credentials and region from the usual
        AWS chain: environment, profile, SSO, instance role).
    region:
        Overrides the session's region.
    profile:
        A named profile of the AWS config files (``--profile``); ignored when ``session`` is
        given.
    endpoint_url:
        An AWS-compatible endpoint for every service (moto, LocalStack).
    clock, sleep:
        ``time.monotonic`` and ``time.sleep`` unless a test wants otherwise.
    direct_upload_limit:
        Artifacts larger than this (zipped bytes) go through S3. Lambda's limit is 50 MiB; tests
        lower it so they need not upload 50 MiB.
    """

    def __init__(
        self,
        *,
        session: boto3.session.Session | None = None,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        direct_upload_limit: int = DIRECT_UPLOAD_LIMIT,
    ) -> None:
        if session is None:
            session = _session(profile)
        self.session = session
        self.profile = profile
        self.region: str = region or self.session.region_name or ""
        if not self.region:
            raise RegionError(no_region_message())
        known = known_lambda_regions(self.session)
        if self.region not in known:
            close = difflib.get_close_matches(self.region, sorted(known), n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise RegionError(f'unknown AWS region "{self.region}"{hint}')
        if self.session.get_credentials() is None:
            raise CredentialsError(no_credentials_message())
        self.endpoint_url = endpoint_url
        self.clock = clock
        self.sleep = sleep
        self.direct_upload_limit = direct_upload_limit
        self._clients: dict[str, Any] = {}
        self._account: str | None = None

    # -- plumbing ---------------------------------------------------------------------------------

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            self._clients[service] = self.session.client(
                service,
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                # botocore's own retries cover throttling; long uploads need a long read timeout.
                config=Config(retries={"mode": "standard", "max_attempts": 5}, read_timeout=300),
            )
        return self._clients[service]

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """Call ``operation`` (API name, e.g. ``CreateFunction``); errors are translated."""
        from botocore import xform_name
        from botocore.exceptions import BotoCoreError, ClientError

        method = getattr(self._client(service), xform_name(operation))
        try:
            return dict(method(**params))
        except (ClientError, BotoCoreError) as exc:
            translated = translate(exc, service, operation)
            if translated is exc:
                raise
            raise translated from exc

    def maybe(self, service: str, operation: str, **params: Any) -> dict[str, Any] | None:
        """Like :meth:`call`, but ``None`` when the resource does not exist."""
        try:
            return self.call(service, operation, **params)
        except Exception as exc:
            if getattr(exc, "code", None) in _NOT_FOUND:
                return None
            raise

    def pages(self, service: str, operation: str, key: str, **params: Any) -> Iterator[Any]:
        """The items under ``key`` of every page of a paginated list call."""
        marker_in, marker_out = {
            "lambda": ("Marker", "NextMarker"),
            "iam": ("Marker", "Marker"),
        }[service]
        while True:
            page = self.call(service, operation, **params)
            yield from page.get(key, [])
            marker = page.get(marker_out)
            if not marker or (service == "iam" and not page.get("IsTruncated")):
                return
            params[marker_in] = marker

    @property
    def account_id(self) -> str:
        if self._account is None:
            self._account = str(self.call("sts", "GetCallerIdentity")["Account"])
        return self._account

    # -- Lambda -----------------------------------------------------------------------------------

    def get_function(self, name: str, qualifier: str | None = None) -> dict[str, Any] | None:
        """``GetFunction`` (configuration, code location, tags), or ``None`` if there is none."""
        params: dict[str, Any] = {"FunctionName": name}
        if qualifier:
            params["Qualifier"] = qualifier
        return self.maybe("lambda", "GetFunction", **params)

    def wait_ready(self, name: str, qualifier: str | None = None) -> dict[str, Any]:
        """Wait until the function (version) is Active and its last update Successful.

        Lambda refuses a second update while one is in progress, and a version published before
        the update finished would carry the old code; so every change waits here.
        """
        deadline = self.clock() + WAIT_TIMEOUT
        delay = 0.5
        while True:
            found = self.get_function(name, qualifier)
            if found is None:
                raise DeployError(f"function {name} disappeared while sklambda was waiting for it")
            config: dict[str, Any] = found["Configuration"]
            state = config.get("State", "Active")
            update = config.get("LastUpdateStatus", "Successful")
            if state == "Failed" or update == "Failed":
                reason = config.get("StateReason") or config.get("LastUpdateStatusReason") or "?"
                raise DeployError(
                    f"function {name} failed to become ready: {reason} "
                    f"(State={state}, LastUpdateStatus={update})"
                )
            if state == "Active" and update == "Successful":
                return config
            if self.clock() > deadline:
                raise DeployError(
                    f"function {name} is still State={state}, LastUpdateStatus={update} after "
                    f"{WAIT_TIMEOUT:.0f} s; run the command again to continue"
                )
            self.sleep(delay)
            delay = min(delay * 2, 5.0)

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Published versions (not ``$LATEST``), oldest first."""
        found = self.pages("lambda", "ListVersionsByFunction", "Versions", FunctionName=name)
        published = [v for v in found if v["Version"] != "$LATEST"]
        return sorted(published, key=lambda v: int(v["Version"]))

    def policy_statements(self, name: str, qualifier: str | None) -> list[dict[str, Any]]:
        """The resource policy's statements (empty when there is no policy)."""
        params: dict[str, Any] = {"FunctionName": name}
        if qualifier:
            params["Qualifier"] = qualifier
        found = self.maybe("lambda", "GetPolicy", **params)
        if not found:
            return []
        return list(json.loads(found["Policy"]).get("Statement", []))

    def layer_versions(self, layer_name: str) -> list[dict[str, Any]]:
        return list(
            self.pages("lambda", "ListLayerVersions", "LayerVersions", LayerName=layer_name)
        )

    # -- IAM ---------------------------------------------------------------------------------------

    def get_role(self, role_name: str) -> dict[str, Any] | None:
        found = self.maybe("iam", "GetRole", RoleName=role_name)
        if found is None:
            return None
        role: dict[str, Any] = found["Role"]
        # GetRole's Tags are not returned by every implementation; ListRoleTags always is.
        tags = self.call("iam", "ListRoleTags", RoleName=role_name).get("Tags", [])
        role["TagMap"] = {t["Key"]: t["Value"] for t in tags}
        return role

    # -- S3 ----------------------------------------------------------------------------------------

    def ensure_bucket(self, bucket: str) -> bool:
        """Create the bucket unless it exists; True when it was created."""
        if self.maybe("s3", "HeadBucket", Bucket=bucket) is not None:
            return False
        params: dict[str, Any] = {"Bucket": bucket}
        if self.region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self.call("s3", "CreateBucket", **params)
        return True

    def upload(self, path: Path, bucket: str, key: str) -> None:
        """Upload a file unless an object with that key (content-addressed) is already there."""
        if self.maybe("s3", "HeadObject", Bucket=bucket, Key=key) is not None:
            return
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            # upload_file switches to multipart for big files (a 200 MiB layer is one PUT too many).
            self._client("s3").upload_file(str(path), bucket, key)
        except (ClientError, BotoCoreError) as exc:
            translated = translate(exc, "s3", "PutObject")
            raise translated from exc

    def delete_prefix(self, bucket: str, prefix: str) -> int:
        """Delete every object under ``prefix``; the number deleted (0 if there is no bucket)."""
        deleted = 0
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
            if token:
                params["ContinuationToken"] = token
            page = self.maybe("s3", "ListObjectsV2", **params)
            if page is None:
                return deleted
            for item in page.get("Contents", []):
                self.call("s3", "DeleteObject", Bucket=bucket, Key=item["Key"])
                deleted += 1
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return deleted
