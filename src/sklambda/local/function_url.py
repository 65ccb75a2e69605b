"""The HTTP front on loopback: a function URL, plus the Lambda Invoke API path.

- ``POST /2015-03-31/functions/{name}/invocations`` is Lambda's Invoke API (what
  ``boto3.client("lambda", endpoint_url=...).invoke`` calls; ``function`` is accepted as the name,
  like AWS's Runtime Interface Emulator).
- Every other request, of any method and path, is a function URL request: it becomes a
  payload-2.0 event and the handler's result becomes the HTTP response. Configured like a
  deployed URL: ``auth_type`` (``NONE`` or ``AWS_IAM``, SigV4 checked by
  :mod:`sklambda.local.iam_auth`) and ``cors`` (answered by :mod:`sklambda.local.cors`).

HTTP itself (framing, timeouts, connection limit) is :mod:`sklambda.local.http_server`.
"""

from __future__ import annotations

import errno
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from sklambda.errors import Option, literal
from sklambda.local.cors import Cors
from sklambda.local.dist import Dist
from sklambda.local.errors import RequestTooLargeError, SettingsError, TooManyRequestsError
from sklambda.local.function import InvokeResult, LocalFunction
from sklambda.local.http_server import FrontLimits, FrontRequest, HttpFront
from sklambda.local.iam_auth import (
    AUTH_TYPES,
    AuthFailure,
    IamCredentials,
    SigV4Verifier,
    credentials_from,
)
from sklambda.local.lambda_api import LambdaAPI
from sklambda.local.runtime_api import MAX_PAYLOAD_BYTES, new_trace_id
from sklambda.local.url_events import (
    HttpResponse,
    build_event,
    error_response,
    result_to_response,
)

__all__ = ["FrontLimits", "LocalServer", "RequestRecord", "check_loopback", "serve"]


def check_loopback(host: str, *, allow_any: bool = False) -> str:
    """``host`` if it is a loopback address (``127.0.0.0/8``, ``::1``) or ``localhost``.

    Checked as an address, not by its spelling: ``127.evil.example`` is a DNS name and is refused
    before anything resolves it. ``allow_any`` accepts any IP address (never a DNS name): for
    serving into a container network on purpose.
    """
    import ipaddress

    if host == "localhost":
        return host
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None and (address.is_loopback or allow_any):
        return host
    if address is None:
        raise SettingsError(
            f"host must be a loopback address (127.0.0.1, ::1 or localhost), got {host!r}: "
            "a DNS name is never resolved, and nothing leaves this machine"
        )
    shown = literal(repr(host))
    raise SettingsError(
        f"host must be a loopback address (127.0.0.1, ::1 or localhost), got {shown}: the "
        "emulator runs a package's code; {0} serves on another address on purpose",
        Option("allow_remote"),
    )


@dataclass(frozen=True)
class RequestRecord:
    """One request the front answered, for access logs (``serve``'s ``on_request``).

    ``result`` is the invocation's (with its log lines and REPORT) when the function ran; None
    for answers the front gave itself (a preflight, a 403, a 413, a throttle).
    """

    method: str
    path: str
    status: int
    request_id: str
    duration_ms: float
    result: InvokeResult | None


class LocalServer:
    """A running function URL + Invoke API front for a :class:`LocalFunction`.

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:<port>/``: use it as the function URL, or as boto3's
        ``endpoint_url``.
    function : LocalFunction
        The function it serves.
    auth_type : {"NONE", "AWS_IAM"}
    cors : Cors or None
    """

    def __init__(
        self,
        function: LocalFunction,
        host: str,
        port: int,
        *,
        owns_function: bool,
        auth_type: str = "NONE",
        credentials: Iterable[IamCredentials | Mapping[str, Any]] | IamCredentials | None = None,
        cors: Cors | Mapping[str, Any] | None = None,
        limits: FrontLimits | None = None,
        on_request: Callable[[RequestRecord], None] | None = None,
    ):
        if auth_type not in AUTH_TYPES:
            raise SettingsError(f"auth_type must be one of {list(AUTH_TYPES)}, got {auth_type!r}")
        self.function = function
        self.auth_type = auth_type
        self._verifier = (
            SigV4Verifier(credentials_from(credentials)) if auth_type == "AWS_IAM" else None
        )
        self.cors = Cors.from_aws(cors) if isinstance(cors, Mapping) else cors
        self._on_request = on_request
        self._owns_function = owns_function
        # Invoke / GetFunction and the asynchronous queue (sklambda.local.lambda_api).
        self.api = LambdaAPI(function)
        limits = limits or FrontLimits(max_body_bytes=MAX_PAYLOAD_BYTES)
        try:
            self._front = HttpFront(
                (host.strip("[]"), port), self._respond, limits, too_large=self._too_large
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SettingsError(
                    f"port {port} on {host} is already in use; pick another, or {{0}} for any "
                    "free one",
                    Option("port", 0),
                ) from None
            raise
        bound_host, bound_port = (str(part) for part in self._front.address)
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        self.url = f"http://{shown}:{bound_port}/"
        self.limits = limits
        self._closed = threading.Event()

    @property
    def connections(self) -> int:
        """Connections open right now (idle keep-alive ones included)."""
        return self._front.connections

    def wait(self) -> None:
        """Block until :meth:`close` (from another thread) or Ctrl-C."""
        try:
            while not self._closed.wait(0.5):
                pass
        except KeyboardInterrupt:
            self.close()

    def close(self) -> None:
        """Stop serving and, when :func:`serve` created the function, close it too."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._front.close()
        self.api.close()
        if self._owns_function:
            self.function.close()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the one dispatch point ------------------------------------------------------------------

    def _too_large(self, method: str, target: str) -> HttpResponse:
        if self.api.handles(method, target):
            return self.api.too_large()
        return error_response(413, "Request Entity Too Large")

    def _respond(self, request: FrontRequest) -> HttpResponse:
        start = time.perf_counter()
        if self.api.handles(request.method, request.target):
            # FrontRequest.get looks headers up case-insensitively, as lambda_api expects.
            response, result = self.api.dispatch_with_result(
                request.method, request.target, request, request.body
            )
        else:
            response, result = self._function_url(request)
        names = {name.lower() for name, _ in response.headers}
        request_id = result.request_id if result is not None else str(uuid.uuid4())
        if "x-amzn-requestid" not in names:
            response = HttpResponse(
                response.status,
                [*response.headers, ("x-amzn-RequestId", request_id)],
                response.body,
            )
        if self._on_request is not None:
            self._on_request(
                RequestRecord(
                    method=request.method,
                    path=request.path,
                    status=response.status,
                    request_id=request_id,
                    duration_ms=(time.perf_counter() - start) * 1000,
                    result=result,
                )
            )
        return response

    # -- function URL ----------------------------------------------------------------------------

    def _function_url(self, request: FrontRequest) -> tuple[HttpResponse, InvokeResult | None]:
        cors = self.cors
        lowered = {name.lower(): value for name, value in reversed(request.headers)}
        if cors is not None and Cors.is_preflight(request.method, lowered):
            return cors.preflight(lowered), None
        response, result = self._invoke_url(request)
        if cors is not None:
            response = cors.decorate(response, lowered.get("origin"))
        return response, result

    def _invoke_url(self, request: FrontRequest) -> tuple[HttpResponse, InvokeResult | None]:
        caller: IamCredentials | None = None
        if self._verifier is not None:
            try:
                caller = self._verifier.verify(
                    request.method, request.target, request.headers, request.body
                )
            except AuthFailure as failure:
                body = json.dumps(failure.body).encode()
                headers = [("Content-Type", "application/json")]
                return HttpResponse(403, headers, body), None
        request_id = str(uuid.uuid4())
        # A caller's X-Ray header is propagated as the invocation's trace, as AWS does.
        trace_id = request.header("x-amzn-trace-id") or new_trace_id()
        event = build_event(
            method=request.method,
            target=request.target,
            protocol=request.http_version,
            headers=request.headers,
            body=request.body,
            source_ip=request.client[0],
            request_id=request_id,
            trace_id=trace_id,
        )
        if caller is not None:
            context = event["requestContext"]
            # AWS: the function owner's account, and the signing caller under authorizer.iam.
            context["accountId"] = self.function.arn.split(":")[4]
            context["authorizer"] = caller.authorizer()
        function = self.function
        try:
            # The event's requestId and x-amzn-trace-id are the invocation's own, as on AWS.
            result = function.invoke_raw(
                json.dumps(event).encode(), request_id=request_id, trace_id=trace_id
            )
        except TooManyRequestsError:
            return error_response(429, "Rate Exceeded."), None
        except RequestTooLargeError:
            return error_response(413, "Request Entity Too Large"), None
        if result.error is not None:
            return error_response(502, "Internal Server Error"), result
        return result_to_response(result.raw), result


def serve(
    dist: str | Path | Dist | LocalFunction,
    host: str = "127.0.0.1",
    port: int = 9000,
    *,
    auth_type: str = "NONE",
    credentials: Iterable[IamCredentials | Mapping[str, Any]] | IamCredentials | None = None,
    cors: Cors | Mapping[str, Any] | None = None,
    limits: FrontLimits | None = None,
    on_request: Callable[[RequestRecord], None] | None = None,
    allow_remote: bool = False,
    **function_options: Any,
) -> LocalServer:
    """Serve a package locally as a function URL and Invoke API endpoint.

    Returns at once; the server runs in background threads until closed.

    Parameters
    ----------
    dist : str, Path, Dist or LocalFunction
        The package directory, or an existing function (which the server then does not close).
    host : str
        A loopback address: the emulator runs code from a package and is not meant to be
        reachable from other machines.
    port : int
        TCP port; ``0`` picks a free one (read it from ``.url``).
    auth_type : {"NONE", "AWS_IAM"}
        ``AWS_IAM``: requests to the URL must be SigV4-signed (service ``lambda``) with one of
        ``credentials``; others get AWS's 403. ``NONE`` (the local default, so ``curl`` works;
        a deployed URL defaults to ``AWS_IAM``) lets everything through.
    credentials : IamCredentials, or a list of them (or of dicts with the same keys)
        The callers an ``AWS_IAM`` URL accepts; default: the process's ``AWS_ACCESS_KEY_ID`` /
        ``AWS_SECRET_ACCESS_KEY``.
    cors : Cors or dict
        CORS settings in AWS's shape (``{"AllowOrigins": [...], ...}``); preflights are then
        answered by the front and CORS headers added to responses.
    limits : FrontLimits
        Backlog, connection limit, timeouts and sizes of the HTTP front.
    on_request : callable
        Called with a :class:`RequestRecord` for every answered request.
    allow_remote : bool
        Accept a non-loopback IP address as ``host`` (never a DNS name).
    **function_options
        Passed to :class:`LocalFunction` (``memory``, ``timeout``, ``concurrency``, ``env``,
        ``on_report``, ``on_log``, ...).

    Returns
    -------
    LocalServer
        With ``.url`` and ``.close()``; a context manager.

    Examples
    --------
    >>> with serve("dist/houses", port=0) as server:  # doctest: +SKIP
    ...     requests.post(server.url, json={"instances": [[3, 20]]}).json()
    """
    check_loopback(host, allow_any=allow_remote)
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise SettingsError(f"port must be 0-65535 (0 picks a free one), got {port}")
    front_options: dict[str, Any] = {
        "auth_type": auth_type,
        "credentials": credentials,
        "cors": cors,
        "limits": limits,
        "on_request": on_request,
    }
    if isinstance(dist, LocalFunction):
        if function_options:
            raise SettingsError(
                "function options apply only when serve() creates the function; got "
                f"{sorted(function_options)} with an existing LocalFunction"
            )
        return LocalServer(dist, host, port, owns_function=False, **front_options)
    function = LocalFunction(dist, **function_options)
    try:
        return LocalServer(function, host, port, owns_function=True, **front_options)
    except BaseException:
        function.close()
        raise
