"""``AWS_IAM`` on the local function URL: SigV4 checked against locally configured credentials.

AWS checks a function URL request signed with Signature Version 4 (service ``lambda``) against
IAM; here the expected signature is computed by botocore's own signer from the request as
received (the headers the client listed in ``SignedHeaders``, the path, the query, the body
hash) and the secret of the access key, looked up in credentials given to the emulator:

- ``serve(..., credentials=[IamCredentials(...)])`` (or a ``{"access_key": ..., ...}`` mapping);
- ``sklambda serve --credentials FILE``: a JSON list of such objects;
- otherwise ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` (/ ``AWS_SESSION_TOKEN``) of the
  serving process: what a boto3 client on the same machine signs with. Nothing else (no
  profiles, no instance metadata) is read: the emulator never reaches out for credentials.

What is not emulated: IAM policies (a valid signature is allowed; AWS also needs
``lambda:InvokeFunctionUrl``), presigned query-string signatures, and the real caller identity —
``authorizer.iam`` carries the account, user ARN and user id configured with the key.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sklambda.local.errors import SettingsError

__all__ = [
    "AUTH_TYPES",
    "AuthFailure",
    "IamCredentials",
    "SigV4Verifier",
    "credentials_from",
    "load_credentials_file",
]

AUTH_TYPES = ("NONE", "AWS_IAM")
SERVICE = "lambda"
# AWS refuses a signature whose X-Amz-Date is more than 5 minutes off.
MAX_SKEW = datetime.timedelta(minutes=5)
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


@dataclass(frozen=True)
class IamCredentials:
    """One caller the local ``AWS_IAM`` URL accepts, and who it is in ``authorizer.iam``."""

    access_key: str
    secret_key: str
    session_token: str | None = None
    account_id: str = "123456789012"
    user_arn: str | None = None
    user_id: str | None = None

    def authorizer(self) -> dict[str, Any]:
        """``requestContext.authorizer`` as AWS fills it for this caller."""
        user_id = (
            self.user_id
            or f"AIDA{hashlib.sha256(self.access_key.encode()).hexdigest()[:17].upper()}"
        )
        return {
            "iam": {
                "accessKey": self.access_key,
                "accountId": self.account_id,
                "callerId": user_id,
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": self.user_arn or f"arn:aws:iam::{self.account_id}:user/sklambda-local",
                "userId": user_id,
            }
        }


class AuthFailure(Exception):
    """A request the ``AWS_IAM`` URL refuses: a 403 with AWS's body."""

    def __init__(self, body: dict[str, str]) -> None:
        super().__init__(next(iter(body.values())))
        self.body = body


def credentials_from(
    given: Iterable[IamCredentials | Mapping[str, Any]] | IamCredentials | None,
    environ: Mapping[str, str] | None = None,
) -> tuple[IamCredentials, ...]:
    """The credentials to accept: those given, else the process's ``AWS_ACCESS_KEY_ID`` pair."""
    if isinstance(given, IamCredentials):
        given = [given]
    if given is not None:
        found = tuple(_credentials(item) for item in given)
        if found:
            return found
    env = os.environ if environ is None else environ
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return (IamCredentials(key, secret, env.get("AWS_SESSION_TOKEN") or None),)
    raise SettingsError(
        "an AWS_IAM function URL needs credentials to check signatures against: pass "
        "credentials=[IamCredentials(...)] (or `sklambda serve --credentials FILE`), or set "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )


def _credentials(item: IamCredentials | Mapping[str, Any]) -> IamCredentials:
    if isinstance(item, IamCredentials):
        return item
    if not isinstance(item, Mapping):
        raise SettingsError(
            f"credentials must be objects with access_key and secret_key, got {item!r}"
        )
    fields = set(IamCredentials.__dataclass_fields__)
    unknown = sorted(set(item) - fields)
    if unknown:
        raise SettingsError(f"unknown credentials keys {unknown}; known: {sorted(fields)}")
    if not isinstance(item.get("access_key"), str) or not isinstance(item.get("secret_key"), str):
        raise SettingsError("each credentials entry needs string access_key and secret_key")
    return IamCredentials(**item)


def load_credentials_file(path: Path) -> tuple[IamCredentials, ...]:
    """Read ``[{"access_key": ..., "secret_key": ..., "account_id": ...}, ...]`` from JSON."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"cannot read credentials file {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise SettingsError(f"credentials file {path} is not valid JSON: {exc}") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise SettingsError(f"credentials file {path} must hold a JSON list of credentials")
    return tuple(_credentials(item) for item in data)


class SigV4Verifier:
    """Checks SigV4 ``Authorization`` headers against known credentials."""

    def __init__(self, credentials: Iterable[IamCredentials]) -> None:
        self._by_key = {c.access_key: c for c in credentials}

    def verify(
        self,
        method: str,
        target: str,
        headers: Iterable[tuple[str, str]],
        body: bytes | None,
        now: datetime.datetime | None = None,
    ) -> IamCredentials:
        """The caller's credentials, or :class:`AuthFailure` with AWS's 403 body."""
        values: dict[str, list[str]] = {}
        for name, value in headers:
            values.setdefault(name.lower(), []).append(value)
        scope = _parse_authorization(_first(values, "authorization"))
        known = self._by_key.get(scope.access_key)
        if known is None:
            raise _denied("The security token included in the request is invalid.")
        stamp = _first(values, "x-amz-date") or ""
        _check_time(stamp, scope.day, now or datetime.datetime.now(datetime.UTC))
        token = _first(values, "x-amz-security-token")
        if known.session_token is not None and token != known.session_token:
            raise _denied("The security token included in the request is invalid.")
        payload_hash = _first(values, "x-amz-content-sha256")
        if payload_hash is not None and payload_hash not in (
            hashlib.sha256(body or b"").hexdigest(),
            _UNSIGNED_PAYLOAD,
        ):
            raise _denied(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        expected = _expected_signature(known, token, scope, stamp, method, target, values, body)
        if not hmac.compare_digest(expected, scope.signature):
            raise _denied(_MISMATCH)
        return known


@dataclass(frozen=True)
class _Scope:
    access_key: str
    day: str
    region: str
    signed: tuple[str, ...]
    signature: str


def _first(values: Mapping[str, list[str]], name: str) -> str | None:
    found = values.get(name)
    return found[0] if found else None


def _denied(message: str) -> AuthFailure:
    return AuthFailure({"message": message})


def _parse_authorization(authorization: str | None) -> _Scope:
    if not authorization:
        raise AuthFailure({"Message": "Forbidden"})
    match = _AUTHORIZATION.match(authorization.strip())
    if match is None:
        raise _denied(f"Authorization header is not a SigV4 signature: {authorization[:40]!r}")
    parts = match["credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise _denied(f"Credential should be scoped correctly: {match['credential']!r}")
    access_key, day, region, service, _ = parts
    if service != SERVICE:
        raise _denied(f"Credential should be scoped to correct service: '{SERVICE}'.")
    signed = tuple(match["signed"].split(";"))
    if "host" not in signed:
        raise _denied("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    return _Scope(access_key, day, region, signed, match["signature"])


def _check_time(stamp: str, day: str, current: datetime.datetime) -> None:
    try:
        when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except ValueError:
        raise _denied("Missing or malformed X-Amz-Date header (YYYYMMDDTHHMMSSZ).") from None
    if stamp[:8] != day:
        raise _denied(
            "Date in Credential scope does not match YYYYMMDD from X-Amz-Date: "
            f"{day} != {stamp[:8]}"
        )
    if abs(current - when) > MAX_SKEW:
        raise _denied(
            f"Signature expired: {stamp} is now earlier than "
            f"{(current - MAX_SKEW).strftime('%Y%m%dT%H%M%SZ')} "
            f"({current.strftime('%Y%m%dT%H%M%SZ')} - 5 min.)"
        )


def _expected_signature(
    known: IamCredentials,
    token: str | None,
    scope: _Scope,
    stamp: str,
    method: str,
    target: str,
    values: Mapping[str, list[str]],
    body: bytes | None,
) -> str:
    """The signature botocore's signer computes for this request with the known secret."""
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    host = _first(values, "host") or "localhost"
    if not target.startswith("/"):  # absolute-form target
        split = urlsplit(target)
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
    request = AWSRequest(
        method=method,
        url=f"http://{host}{target}",
        headers={name: ",".join(values.get(name, [])) for name in scope.signed},
        data=body or b"",
    )
    request.context["timestamp"] = stamp
    signer = _signer_class()(
        Credentials(known.access_key, known.secret_key, token), SERVICE, scope.region
    )
    signer.signed = scope.signed
    canonical = signer.canonical_request(request)
    return str(signer.signature(signer.string_to_sign(request, canonical), request))


@functools.cache
def _signer_class() -> Any:
    """botocore's SigV4 signer, made to sign exactly the headers the client listed."""
    from botocore.auth import SigV4Auth
    from botocore.compat import HTTPHeaders

    class SignedHeadersOnly(SigV4Auth):
        signed: tuple[str, ...] = ()

        def headers_to_sign(self, request: Any) -> Any:
            chosen = HTTPHeaders()
            for name in self.signed:
                chosen[name] = request.headers.get(name, "")
            return chosen

    return SignedHeadersOnly
