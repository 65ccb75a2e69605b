"""Call a deployed function: ``sklambda invoke NAME --remote``.

- ``via="url"`` (default): POST to the function URL on ``live``. An ``AWS_IAM`` URL needs a
  SigV4-signed request: signed here with botocore's own signer (service ``lambda``) and the
  credentials of the usual chain (environment, ``--profile``, SSO, instance role), so no awscurl.
  A public URL gets the same signed request, which it ignores.
- ``via="invoke"``: the Lambda Invoke API on ``live`` with ``LogType=Tail``, so the REPORT line
  of the invocation (duration, memory, init) comes back with the answer. The handler takes the
  request itself as a direct-invoke event and answers with the body.
"""

from __future__ import annotations

import base64
import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda.aws.errors import AwsError, DeployError
from sklambda.errors import SklambdaError

if TYPE_CHECKING:
    from sklambda.aws.client import AwsClient

LIVE = "live"
VIAS = ("url", "invoke")
TIMEOUT = 60.0


@dataclass(frozen=True)
class RemoteResponse:
    """What came back: HTTP status (Invoke API: its status code), body, the REPORT line."""

    via: str
    status: int
    body: bytes
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    report: str | None = None
    function_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status < 400 and self.function_error is None


def _number(text: str) -> Any:
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def csv_request(path: str | Path) -> bytes:
    """A CSV file with a header row → ``{"instances": [{column: value}, ...]}`` (numbers as
    numbers, empty cells as null)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [{k: _number(v or "") for k, v in row.items()} for row in csv.DictReader(handle)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SklambdaError(f"cannot read {path} as CSV ({exc})") from None
    if not rows:
        raise SklambdaError(f"{path} has no rows under its header line")
    return json.dumps({"instances": rows}).encode()


def json_request(text: str) -> bytes:
    try:
        json.loads(text)
    except ValueError as exc:
        raise SklambdaError(
            f"--json is not valid JSON ({exc}); e.g. --json '{{\"instances\": [{{...}}]}}'"
        ) from None
    return text.encode()


def signed_headers(
    client: AwsClient, url: str, body: bytes, method: str = "POST"
) -> dict[str, str]:
    """Headers of a SigV4-signed request (service ``lambda``, the client's region)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials = client.session.get_credentials()
    if credentials is None:
        from sklambda.aws.errors import CredentialsError, no_credentials_message

        raise CredentialsError(no_credentials_message())
    request = AWSRequest(
        method=method, url=url, data=body, headers={"content-type": "application/json"}
    )
    SigV4Auth(credentials.get_frozen_credentials(), "lambda", client.region).add_auth(request)
    return dict(request.headers.items())


def function_url(client: AwsClient, name: str) -> str:
    found = client.maybe("lambda", "GetFunctionUrlConfig", FunctionName=name, Qualifier=LIVE)
    if found is None:
        raise DeployError(
            f"{name} has no function URL on {LIVE} in {client.region}; deploy it "
            f"(`sklambda deploy DIST --name {name}`) or call it with --via invoke"
        )
    return str(found["FunctionUrl"])


def invoke_url(
    client: AwsClient, name: str, body: bytes, *, url: str | None = None, timeout: float = TIMEOUT
) -> RemoteResponse:
    """POST ``body`` to the function URL (or ``url``), SigV4-signed."""
    import urllib.error
    import urllib.request

    target = url or function_url(client, name)
    headers = signed_headers(client, target, body)
    request = urllib.request.Request(target, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return RemoteResponse(
                "url", response.status, response.read(), target, dict(response.headers.items())
            )
    except urllib.error.HTTPError as exc:
        return RemoteResponse("url", exc.code, exc.read(), target, dict(exc.headers.items()))
    except (urllib.error.URLError, OSError) as exc:
        raise AwsError(f"cannot reach {target}: {getattr(exc, 'reason', exc)}") from None


def invoke_api(client: AwsClient, name: str, body: bytes) -> RemoteResponse:
    """The Lambda Invoke API on ``live``, with the REPORT line from the log tail."""
    out = client.call(
        "lambda",
        "Invoke",
        FunctionName=name,
        Qualifier=LIVE,
        Payload=body,
        LogType="Tail",
    )
    payload = out["Payload"].read()
    log = base64.b64decode(out.get("LogResult") or "").decode("utf-8", "replace")
    report = next((line for line in log.splitlines() if line.startswith("REPORT")), None)
    return RemoteResponse(
        "invoke",
        int(out.get("StatusCode", 200)),
        payload,
        f"{name}:{LIVE}",
        report=report,
        function_error=out.get("FunctionError"),
    )


def invoke_remote(
    client: AwsClient, name: str, body: bytes, *, via: str = "url", url: str | None = None
) -> RemoteResponse:
    """Call the deployed function ``name`` with a request body (``{"instances": [...]}``)."""
    if via not in VIAS:
        raise SklambdaError(f'--via must be url or invoke, got "{via}"')
    if via == "invoke":
        if url:
            raise SklambdaError("--url goes with --via url (the Invoke API has no URL)")
        return invoke_api(client, name, body)
    return invoke_url(client, name, body, url=url)
