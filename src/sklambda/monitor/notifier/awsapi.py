"""SigV4-signed calls to AWS JSON APIs with the standard library: the bot token's two homes.

Why not boto3: Lambda's Python runtimes do ship boto3, but the local emulator (where every
package is proven) gives a function only its own files, and shipping boto3 would make a 20 KB
notifier a 15 MB one. Two read calls need no SDK: ``AmazonSSM.GetParameter`` (with decryption,
for a SecureString) and ``secretsmanager.GetSecretValue``, both ``application/x-amz-json-1.1``
POSTs signed with Signature Version 4 using the function's credentials from its environment
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, which Lambda sets).

Endpoints follow the SDKs' environment variables (``AWS_ENDPOINT_URL_SSM``,
``AWS_ENDPOINT_URL_SECRETS_MANAGER``, then ``AWS_ENDPOINT_URL``), so tests point them at moto's
server on loopback.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import urllib.error
import urllib.parse
import urllib.request

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

CONTENT_TYPE = "application/x-amz-json-1.1"
TIMEOUT_S = 10.0
SERVICES = {
    # service: (signing name, X-Amz-Target prefix, endpoint environment variable)
    "ssm": ("ssm", "AmazonSSM", "AWS_ENDPOINT_URL_SSM"),
    "secretsmanager": ("secretsmanager", "secretsmanager", "AWS_ENDPOINT_URL_SECRETS_MANAGER"),
}


class AwsApiError(Exception):
    """An AWS call failed; ``code`` is AWS's error type (``ParameterNotFound``...)."""

    def __init__(self, message: str, code: str = "", transient: bool = False):
        super().__init__(message)
        self.code = code
        self.transient = transient


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    service: str,
    region: str,
    access_key: str,
    secret_key: str,
    amz_date: str,
) -> str:
    """The ``Authorization`` header of a SigV4 request (every header given is signed).

    ``headers`` must hold ``host`` and ``x-amz-date`` (= ``amz_date``, ``YYYYMMDDTHHMMSSZ``).
    """
    parts = urllib.parse.urlsplit(url)
    signed = sorted((k.lower(), " ".join(str(v).split())) for k, v in headers.items())
    names = ";".join(k for k, _ in signed)
    query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    )
    canonical = "\n".join(
        [
            method,
            urllib.parse.quote(parts.path or "/", safe="/-_.~"),
            query,
            "".join(f"{k}:{v}\n" for k, v in signed),
            names,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(f"AWS4{secret_key}".encode(), amz_date[:8])
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={names}, "
        f"Signature={signature}"
    )


def endpoint(service: str, region: str, environ: Mapping[str, str]) -> str:
    """Where ``service`` is reached: an SDK endpoint variable, else AWS's regional endpoint."""
    variable = SERVICES[service][2]
    explicit = environ.get(variable) or environ.get("AWS_ENDPOINT_URL")
    if explicit:
        return explicit.rstrip("/") + "/"
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{service}.{region}.{suffix}/"


def call(
    service: str, operation: str, params: dict[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """POST one JSON API call signed with the environment's credentials; the decoded answer."""
    env = os.environ if environ is None else environ
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ""
    access, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if not (region and access and secret):
        raise AwsApiError(
            "no AWS credentials or region in the environment (AWS_ACCESS_KEY_ID, "
            "AWS_SECRET_ACCESS_KEY, AWS_REGION: Lambda sets them for the function's role)"
        )
    signing_name, prefix, _ = SERVICES[service]
    url = endpoint(service, region, env)
    body = json.dumps(params).encode()
    amz_date = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "host": urllib.parse.urlsplit(url).netloc,
        "content-type": CONTENT_TYPE,
        "x-amz-date": amz_date,
        "x-amz-target": f"{prefix}.{operation}",
    }
    if env.get("AWS_SESSION_TOKEN"):
        headers["x-amz-security-token"] = env["AWS_SESSION_TOKEN"]
    headers["authorization"] = sign(
        method="POST",
        url=url,
        headers=headers,
        body=body,
        service=signing_name,
        region=region,
        access_key=access,
        secret_key=secret,
        amz_date=amz_date,
    )
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return dict(json.loads(response.read() or b"{}"))
    except urllib.error.HTTPError as error:
        raise _api_error(service, operation, error) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise AwsApiError(
            f"{service} at {url} did not answer {operation} ({reason})", transient=True
        ) from None


def _api_error(service: str, operation: str, error: urllib.error.HTTPError) -> AwsApiError:
    try:
        detail = json.loads(error.read() or b"{}")
    except ValueError:
        detail = {}
    code = str(detail.get("__type", "")).rsplit("#", 1)[-1] or f"HTTP{error.code}"
    message = detail.get("message") or detail.get("Message") or error.reason
    return AwsApiError(
        f"{service} {operation} failed: {code}: {message}", code, transient=error.code >= 500
    )


def get_parameter(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The decrypted value of an SSM parameter (a SecureString for a secret)."""
    answer = call("ssm", "GetParameter", {"Name": name, "WithDecryption": True}, environ)
    return str(answer["Parameter"]["Value"])


def get_secret(secret_id: str, environ: Mapping[str, str] | None = None) -> str:
    """A Secrets Manager secret's string value."""
    answer = call("secretsmanager", "GetSecretValue", {"SecretId": secret_id}, environ)
    return str(answer["SecretString"])
