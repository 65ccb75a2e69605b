"""The HTTP front on loopback: a function URL, plus the Lambda Invoke API path.

- ``POST /2015-03-31/functions/{name}/invocations`` is Lambda's Invoke API (what
  ``boto3.client("lambda", endpoint_url=...).invoke`` calls; ``function`` is accepted as the name,
  like AWS's Runtime Interface Emulator).
- Every other request, of any method and path, is a function URL request: it becomes a
  payload-2.0 event and the handler's result becomes the HTTP response.
"""

from __future__ import annotations

import errno
import json
import socket
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from sklambda.errors import Option
from sklambda.local.dist import Dist
from sklambda.local.errors import RequestTooLargeError, SettingsError, TooManyRequestsError
from sklambda.local.function import LocalFunction
from sklambda.local.lambda_api import LambdaAPI
from sklambda.local.request_body import BodyTooLarge, read_body
from sklambda.local.runtime_api import MAX_PAYLOAD_BYTES, new_trace_id
from sklambda.local.url_events import (
    HttpResponse,
    build_event,
    error_response,
    result_to_response,
)

__all__ = ["LocalServer", "serve"]


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
        bound_host, bound_port = (str(part) for part in self._httpd.server_address[:2])
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        self.url = f"http://{shown}:{bound_port}/"
        self._closed = threading.Event()
        # Invoke / GetFunction and the asynchronous queue (sklambda.local.lambda_api).
        self.api = LambdaAPI(function)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"sklambda-url-{bound_port}",
            daemon=True,
        )
        self._thread.start()

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
        api = self.server.front.api
        is_api = api.handles(self.command, self.path)
        try:
            body = read_body(self.rfile, self.headers, MAX_PAYLOAD_BYTES)
        except BodyTooLarge:
            self.close_connection = True
            self._send(
                api.too_large() if is_api else error_response(413, "Request Entity Too Large")
            )
            return
        except ValueError as exc:
            self.close_connection = True
            self._send(error_response(400, str(exc)))
            return
        if is_api:
            self._send(api.dispatch(self.command, self.path, self.headers, body))
        else:
            self._function_url(body)

    # -- function URL --------------------------------------------------------------------------

    def _function_url(self, body: bytes | None) -> None:
        function = self.server.front.function
        # A caller's X-Ray header is propagated as the invocation's trace, as AWS does.
        request_id = str(uuid.uuid4())
        trace_id = self.headers.get("x-amzn-trace-id") or new_trace_id()
        event = build_event(
            method=self.command,
            target=self.path,
            protocol=self.request_version,
            headers=self.headers.items(),
            body=body,
            source_ip=self.client_address[0],
            request_id=request_id,
            trace_id=trace_id,
        )
        try:
            # The event's requestId and x-amzn-trace-id are the invocation's own, as on AWS.
            result = function.invoke_raw(
                json.dumps(event).encode(), request_id=request_id, trace_id=trace_id
            )
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
