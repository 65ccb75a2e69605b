"""The HTTP front on loopback: a function URL, plus the Lambda Invoke API path.

- ``POST /2015-03-31/functions/{name}/invocations`` is Lambda's Invoke API (what
  ``boto3.client("lambda", endpoint_url=...).invoke`` calls; ``function`` is accepted as the name,
  like AWS's Runtime Interface Emulator).
- Every other request, of any method and path, is a function URL request: it becomes a
  payload-2.0 event and the handler's result becomes the HTTP response.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import json
import re
import socket
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sklambda.errors import Option
from sklambda.local.dist import Dist
from sklambda.local.errors import RequestTooLargeError, SettingsError, TooManyRequestsError
from sklambda.local.function import InvokeResult, LocalFunction
from sklambda.local.request_body import BodyTooLarge, read_body
from sklambda.local.runtime_api import MAX_PAYLOAD_BYTES, new_trace_id
from sklambda.local.url_events import (
    HttpResponse,
    build_event,
    error_response,
    result_to_response,
)
from sklambda.runtime.contract import RequestError, parse_json

# An Invoke payload may be any event, for any handler: deeper than a request to the model
# service needs, but bounded before Python's parser recurses (the runtime parses it again).
INVOKE_MAX_DEPTH = 500

__all__ = ["LocalServer", "serve"]

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")


def check_loopback(host: str) -> str:
    """``host`` if it is a loopback address (``127.0.0.0/8``, ``::1``) or ``localhost``.

    Checked as an address, not by its spelling: ``127.evil.example`` is a DNS name and is refused
    before anything resolves it.
    """
    import ipaddress

    if host == "localhost":
        return host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise SettingsError(
            f"host must be a loopback address (127.0.0.1, ::1 or localhost), got {host!r}: "
            "nothing leaves this machine"
        )
    return host


class LocalServer:
    """A running function URL + Invoke API front for a :class:`LocalFunction`.

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:<port>/``: use it as the function URL, or as boto3's
        ``endpoint_url``.
    function : LocalFunction
        The function it serves.
    """

    def __init__(self, function: LocalFunction, host: str, port: int, *, owns_function: bool):
        self.function = function
        self._owns_function = owns_function
        server_class = _FrontServer6 if ":" in host else _FrontServer
        try:
            self._httpd = server_class((host, port), _FrontHandler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SettingsError(
                    f"port {port} on {host} is already in use; pick another, or {{0}} for any "
                    "free one",
                    Option("port", 0),
                ) from None
            raise
        self._httpd.front = self
        bound_host, bound_port = self._httpd.server_address[:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        self.url = f"http://{shown}:{bound_port}/"
        self._closed = threading.Event()
        self._background: set[threading.Thread] = set()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"sklambda-url-{bound_port}",
            daemon=True,
        )
        self._thread.start()

    def invoke_async(self, payload: bytes) -> str:
        """Run an ``Event`` invocation in the background; returns its request id."""
        request_id = str(uuid.uuid4())

        def run() -> None:
            try:
                # An async invoke has no caller to report to; REPORT and logs still record it.
                with contextlib.suppress(Exception):
                    self.function.invoke_raw(payload)
            finally:
                self._background.discard(threading.current_thread())

        thread = threading.Thread(target=run, name="sklambda-async-invoke", daemon=True)
        self._background.add(thread)
        thread.start()
        return request_id

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
        self._httpd.shutdown()
        self._httpd.server_close()
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


def serve(
    dist: str | Path | Dist | LocalFunction,
    host: str = "127.0.0.1",
    port: int = 9000,
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
    check_loopback(host)
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise SettingsError(f"port must be 0-65535 (0 picks a free one), got {port}")
    if isinstance(dist, LocalFunction):
        if function_options:
            raise SettingsError(
                "function options apply only when serve() creates the function; got "
                f"{sorted(function_options)} with an existing LocalFunction"
            )
        return LocalServer(dist, host, port, owns_function=False)
    function = LocalFunction(dist, **function_options)
    try:
        return LocalServer(function, host, port, owns_function=True)
    except BaseException:
        function.close()
        raise


class _FrontServer(ThreadingHTTPServer):
    daemon_threads = True
    front: LocalServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-response is routine, not a server fault.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _FrontServer6(_FrontServer):
    address_family = socket.AF_INET6


class _FrontHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the second waits ~40 ms for
    # the peer's delayed ACK on every exchange.
    disable_nagle_algorithm = True
    server: _FrontServer

    def log_message(self, format: str, *args: object) -> None:
        # Access logs would drown the function's own; REPORT lines carry the same facts.
        return

    def version_string(self) -> str:
        return "sklambda-local"

    def __getattr__(self, name: str) -> Any:
        # Function URLs accept any method: route every do_<METHOD> to one handler.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _send(self, response: HttpResponse, request_id: str | None = None) -> None:
        self.send_response(response.status)
        names = {name.lower() for name, _ in response.headers}
        for name, value in response.headers:
            if name.lower() in ("content-length", "transfer-encoding", "connection"):
                continue
            self.send_header(name, value)
        if request_id is not None and "x-amzn-requestid" not in names:
            self.send_header("x-amzn-RequestId", request_id)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _handle(self) -> None:
        try:
            body = read_body(self.rfile, self.headers, MAX_PAYLOAD_BYTES)
        except BodyTooLarge:
            self._send(error_response(413, "Request Entity Too Large"))
            return
        except ValueError as exc:
            self.close_connection = True
            self._send(error_response(400, str(exc)))
            return
        path = self.path.split("?", 1)[0]
        match = _INVOKE_PATH.match(path)
        if match is not None and self.command == "POST":
            self._invoke_api(unquote(match["name"]), body or b"")
        else:
            self._function_url(body)

    # -- function URL --------------------------------------------------------------------------

    def _function_url(self, body: bytes | None) -> None:
        function = self.server.front.function
        request_id = str(uuid.uuid4())
        event = build_event(
            method=self.command,
            target=self.path,
            protocol=self.request_version,
            headers=self.headers.items(),
            body=body,
            source_ip=self.client_address[0],
            request_id=request_id,
            trace_id=new_trace_id(),
        )
        try:
            result = function.invoke_raw(json.dumps(event).encode())
        except TooManyRequestsError:
            self._send(error_response(429, "Rate Exceeded."), request_id)
            return
        except RequestTooLargeError:
            self._send(error_response(413, "Request Entity Too Large"), request_id)
            return
        if result.error is not None:
            self._send(error_response(502, "Internal Server Error"), result.request_id)
            return
        self._send(result_to_response(result.raw), result.request_id)

    # -- Invoke API ----------------------------------------------------------------------------

    def _api_error(self, status: int, error_type: str, message: str) -> None:
        body = json.dumps({"Type": "User", "message": message}).encode()
        response = HttpResponse(
            status,
            [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type)],
            body,
        )
        self._send(response, str(uuid.uuid4()))

    def _names_this_function(self, name: str) -> bool:
        function = self.server.front.function
        qualifier = parse_qs(urlsplit(self.path).query).get("Qualifier", ["$LATEST"])[0]
        if qualifier != "$LATEST":
            return False
        if name.startswith("arn:"):
            name = name.split(":function:", 1)[-1]
        elif ":function:" in name:
            name = name.split(":function:", 1)[1]
        name, _, version = name.partition(":")
        return name in (function.name, "function") and version in ("", "$LATEST")

    def _invoke_api(self, name: str, payload: bytes) -> None:
        function = self.server.front.function
        if not self._names_this_function(name):
            self._api_error(
                404,
                "ResourceNotFoundException",
                f"Function not found: {name} (this emulator serves {function.arn}:$LATEST)",
            )
            return
        payload = payload or b"{}"
        try:  # the service's own parser: strict JSON, depth bounded before it recurses
            parse_json(payload, max_depth=INVOKE_MAX_DEPTH)
        except RequestError as error:
            self._api_error(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: {error.message}",
            )
            return
        invocation_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type == "DryRun":
            self._send(HttpResponse(204), str(uuid.uuid4()))
            return
        if invocation_type == "Event":
            request_id = self.server.front.invoke_async(payload)
            self._send(HttpResponse(202), request_id)
            return
        if invocation_type != "RequestResponse":
            self._api_error(
                400,
                "InvalidParameterValueException",
                f"InvocationType must be RequestResponse, Event or DryRun, got {invocation_type!r}",
            )
            return
        client_context = None
        encoded_context = self.headers.get("X-Amz-Client-Context")
        if encoded_context:
            try:
                client_context = base64.b64decode(encoded_context, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                self._api_error(
                    400, "InvalidRequestContentException", "Client context must be base64 JSON"
                )
                return
        try:
            result = function.invoke_raw(payload, client_context=client_context)
        except TooManyRequestsError as exc:
            self._api_error(429, "TooManyRequestsException", f"Rate Exceeded. {exc}")
            return
        except RequestTooLargeError as exc:
            self._api_error(413, "RequestTooLargeException", str(exc))
            return
        self._send(_invoke_response(result, self.headers.get("X-Amz-Log-Type")), result.request_id)


def _invoke_response(result: InvokeResult, log_type: str | None) -> HttpResponse:
    headers = [("Content-Type", "application/json"), ("X-Amz-Executed-Version", "$LATEST")]
    if result.error is not None:
        headers.append(("X-Amz-Function-Error", "Unhandled"))
    if log_type == "Tail":
        # The last 4 KB of the invocation's log, base64 (boto3 returns it as LogResult).
        tail = base64.b64encode(result.log_tail().encode()).decode()
        headers.append(("X-Amz-Log-Result", tail))
    return HttpResponse(200, headers, result.raw)
