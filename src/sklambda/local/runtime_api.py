"""The Lambda Runtime API (``/2018-06-01/runtime/...``) for one execution environment.

Lambda runs one Runtime API endpoint per sandbox; so does the emulator: each environment gets its
own server on an ephemeral loopback port, which tells unambiguously which environment is asking
for its next event. An :class:`Invocation` is handed over by :meth:`RuntimeAPIServer.submit` and
delivered to the runtime's blocking ``GET .../invocation/next``; the runtime's ``response`` or
``error`` post (or an ``init/error``, or the process dying) finishes it.
"""

from __future__ import annotations

import json
import secrets
import select
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sklambda import limits
from sklambda.local.request_body import BodyTooLarge, read_body

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "Invocation",
    "Outcome",
    "RuntimeAPIServer",
    "error_payload",
    "new_trace_id",
]

MAX_PAYLOAD_BYTES = limits.SYNC_PAYLOAD_BYTES
_PREFIX = "/2018-06-01/runtime"
_EXTENSION = "/2020-01-01/extension"
_EXT_NAME = "Lambda-Extension-Name"
_EXT_ID = "Lambda-Extension-Identifier"
_NEXT = f"{_PREFIX}/invocation/next"
_INIT_ERROR = f"{_PREFIX}/init/error"
_ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
# Waiting threads wake this often to notice shutdown (serve_forever's own poll interval too).
_POLL_S = 0.05


@dataclass(frozen=True)
class Outcome:
    """How an invocation ended.

    Attributes
    ----------
    payload : bytes
        The function's response, or the error document (``errorMessage``, ``errorType``, …).
    error_type : str or None
        None on success; else the error's type, e.g. ``Runtime.ImportModuleError``.
    status : str or None
        What Lambda writes as ``Status:`` in the REPORT line (``timeout``, ``error``), if anything.
    """

    payload: bytes
    error_type: str | None = None
    status: str | None = None


def error_payload(error_type: str, message: str) -> bytes:
    """Serialise an error document the way Lambda returns platform errors."""
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def new_trace_id() -> str:
    """Return an X-Ray trace header value like Lambda's ``Lambda-Runtime-Trace-Id``."""
    root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    return f"Root={root};Parent={secrets.token_hex(8)};Sampled=0"


class Invocation:
    """One event on its way through an environment.

    Parameters
    ----------
    payload : bytes
        The event, as JSON bytes.
    function_arn : str
        Sent as ``Lambda-Runtime-Invoked-Function-Arn``.
    timeout_s : float
        The function timeout; the deadline header is delivery time plus this.
    client_context : str or None
        JSON sent as ``Lambda-Runtime-Client-Context``.
    """

    def __init__(
        self,
        payload: bytes,
        *,
        function_arn: str,
        timeout_s: float,
        client_context: str | None = None,
        request_id: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        self.request_id = request_id or str(uuid.uuid4())
        self.payload = payload
        self.function_arn = function_arn
        self.timeout_s = timeout_s
        self.client_context = client_context
        self.trace_id = trace_id or new_trace_id()
        self.created_at = time.perf_counter()
        self.delivered_at: float | None = None
        self.finished_at: float | None = None
        self.deadline_ms: int | None = None
        self.outcome: Outcome | None = None
        self.on_deliver: Callable[[Invocation], None] | None = None
        """Called once, just before the event goes to the runtime (the environment writes
        START there, so nothing the handler prints can precede it)."""
        self._cond = threading.Condition()

    def deliver(self) -> None:
        """Mark the event as handed to the runtime; starts the timeout clock."""
        if self.on_deliver is not None:
            self.on_deliver(self)
        with self._cond:
            self.delivered_at = time.perf_counter()
            self.deadline_ms = int((time.time() + self.timeout_s) * 1000)
            self._cond.notify_all()

    def finish(self, outcome: Outcome) -> bool:
        """Record the outcome; returns False when another outcome got there first."""
        with self._cond:
            if self.outcome is not None:
                return False
            self.outcome = outcome
            self.finished_at = time.perf_counter()
            self._cond.notify_all()
            return True

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    def wait_delivered(self, timeout: float) -> bool:
        """Wait until delivered or finished (an init error finishes it undelivered)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self.delivered_at is not None or self.outcome is not None,
                max(timeout, 0.0),
            )

    def wait_finished(self, timeout: float) -> bool:
        """Wait until an outcome is recorded."""
        with self._cond:
            return self._cond.wait_for(lambda: self.outcome is not None, max(timeout, 0.0))


class _Extension:
    """An extension registered through the Extensions API, and the events it has to take."""

    def __init__(self, name: str, events: set[str]) -> None:
        self.id = str(uuid.uuid4())
        self.name = name
        self.events = events
        self.queue: list[dict[str, Any]] = []
        self.waiting = False


class RuntimeAPIServer:
    """A Runtime API endpoint on ``127.0.0.1`` for one environment.

    It also serves the minimal Extensions API (``/2020-01-01/extension``: ``register``,
    ``event/next``, ``init/error``, ``exit/error``): an event is delivered to the runtime only
    once every registered extension waits in ``event/next`` (Lambda's init and invoke phases end
    when the runtime *and* the extensions are done); each delivery sends ``INVOKE`` to the
    extensions that asked for it, and :meth:`shutdown_extensions` sends ``SHUTDOWN``.

    Attributes
    ----------
    address : str
        ``host:port``, the value of ``AWS_LAMBDA_RUNTIME_API``.
    ready_at : float or None
        ``time.perf_counter()`` of the runtime's first ``/next`` call: the end of its init.
    init_error : bytes or None
        The body of ``POST /runtime/init/error``, when the runtime reported one.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: Invocation | None = None
        self._current: Invocation | None = None
        self._closed = False
        self._exit_outcome: Callable[[str], Outcome] | None = None
        self.ready_at: float | None = None
        self.init_error: bytes | None = None
        self._init_error_type: str | None = None
        self._extensions: dict[str, _Extension] = {}
        self.extension_errors: list[tuple[str, str, bytes]] = []
        """``(extension name, init|exit, body)`` of the error posts extensions made."""
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.api = self
        port = self._httpd.server_address[1]
        self.address = f"127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": _POLL_S},
            name=f"sklambda-runtime-api-{port}",
            daemon=True,
        )
        self._thread.start()

    def submit(self, invocation: Invocation) -> None:
        """Queue ``invocation`` for the runtime's next ``/next`` call.

        After :meth:`runtime_exited` the invocation is finished at once with the exit outcome.
        """
        with self._cond:
            if self._pending is not None or (
                self._current is not None and not self._current.finished
            ):
                raise RuntimeError("an environment runs one invocation at a time")
            init_error, exit_outcome = self.init_error, self._exit_outcome
            if init_error is None and exit_outcome is None:
                self._pending = invocation
                self._cond.notify_all()
        # A fast runtime can fail its init before the first event is even submitted.
        if init_error is not None:
            invocation.finish(_init_error_outcome(init_error, self._init_error_type))
        elif exit_outcome is not None:
            invocation.finish(exit_outcome(invocation.request_id))

    def wait_ready(self, timeout: float) -> bool:
        """Wait for the end of init: first ``/next``, an init error, or :meth:`close`."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self.ready_at is not None or self.init_error is not None or self._closed,
                timeout,
            )

    def runtime_exited(self, outcome_for: Callable[[str], Outcome]) -> None:
        """The runtime process is gone: finish the pending and running invocations, and any
        later one, with ``outcome_for(request_id)``."""
        with self._cond:
            self._exit_outcome = outcome_for
            victims = [inv for inv in (self._pending, self._current) if inv is not None]
            self._pending = None
            self._cond.notify_all()
        for inv in victims:
            inv.finish(outcome_for(inv.request_id))

    def close(self) -> None:
        """Stop serving; blocked ``/next`` calls return without an event."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- called from request handler threads --------------------------------------------------

    def _next(self, connection: socket.socket) -> Invocation | None:
        with self._cond:
            if self.ready_at is None:
                self.ready_at = time.perf_counter()
                self._cond.notify_all()
            while (self._pending is None or not self._extensions_idle()) and not self._closed:
                self._cond.wait(_POLL_S * 20)
            # A runtime killed while waiting in /next leaves this call behind: the event must
            # stay pending (and fail as undelivered) rather than go to a dead socket.
            if self._closed or _peer_closed(connection):
                return None
            invocation, self._pending = self._pending, None
            assert invocation is not None  # the wait above ends with one pending, or closed
            self._current = invocation
            deadline_ms = int((time.time() + invocation.timeout_s) * 1000)
            for extension in self._extensions.values():
                if "INVOKE" in extension.events:
                    extension.queue.append(
                        {
                            "eventType": "INVOKE",
                            "deadlineMs": deadline_ms,
                            "requestId": invocation.request_id,
                            "invokedFunctionArn": invocation.function_arn,
                            "tracing": {"type": "X-Amzn-Trace-Id", "value": invocation.trace_id},
                        }
                    )
            self._cond.notify_all()
        invocation.deliver()
        return invocation

    # -- Extensions API ------------------------------------------------------------------------

    def _extensions_idle(self) -> bool:
        return all(e.waiting and not e.queue for e in self._extensions.values())

    @property
    def extensions(self) -> list[str]:
        """Names of the registered extensions."""
        with self._cond:
            return [e.name for e in self._extensions.values()]

    def wait_extensions_idle(self, timeout: float) -> bool:
        """Wait until every registered extension waits in ``event/next`` with nothing queued."""
        with self._cond:
            return self._cond.wait_for(lambda: self._extensions_idle() or self._closed, timeout)

    def wait_registered(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` extensions have registered."""
        with self._cond:
            return self._cond.wait_for(
                lambda: len(self._extensions) >= count or self._closed, timeout
            )

    def shutdown_extensions(self, deadline_ms: int) -> bool:
        """Queue ``SHUTDOWN`` for extensions that registered for it; False when none did."""
        with self._cond:
            told = False
            for extension in self._extensions.values():
                if "SHUTDOWN" in extension.events:
                    extension.queue.append(
                        {
                            "eventType": "SHUTDOWN",
                            "shutdownReason": "spindown",
                            "deadlineMs": deadline_ms,
                        }
                    )
                    told = True
            self._cond.notify_all()
        return told

    def _register(self, name: str, events: set[str]) -> _Extension:
        extension = _Extension(name, events)
        with self._cond:
            self._extensions[extension.id] = extension
            self._cond.notify_all()
        return extension

    def _extension_next(self, extension_id: str) -> dict[str, Any] | None:
        with self._cond:
            extension = self._extensions.get(extension_id)
            if extension is None:
                return None
            extension.waiting = True
            self._cond.notify_all()
            while not extension.queue and not self._closed:
                self._cond.wait(_POLL_S * 20)
            if self._closed and not extension.queue:
                return None
            extension.waiting = False
            event = extension.queue.pop(0)
            self._cond.notify_all()
            return event

    def _running(self, request_id: str) -> Invocation | None:
        """The delivered invocation ``request_id`` names (finished or not), else None."""
        with self._cond:
            current = self._current
        if current is None or current.request_id != request_id:
            return None
        return current

    def _init_failed(self, body: bytes, error_type: str | None) -> None:
        with self._cond:
            self.init_error = body
            self._init_error_type = error_type
            pending, self._pending = self._pending, None
            self._cond.notify_all()
        if pending is not None:
            pending.finish(_init_error_outcome(body, error_type))


def _init_error_outcome(body: bytes, header_type: str | None) -> Outcome:
    body_type = _error_type_of(body)
    kind = header_type if body_type == "Unhandled" and header_type else body_type
    return Outcome(body, kind, status="error")


def _peer_closed(connection: socket.socket) -> bool:
    # The runtime sends nothing after its GET, so a readable socket means the peer hung up.
    poller = select.poll()
    poller.register(connection, select.POLLIN | select.POLLHUP | select.POLLERR)
    if not poller.poll(0):
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _error_type_of(body: bytes) -> str:
    try:
        doc = json.loads(body)
    except ValueError:
        return "Unhandled"
    if isinstance(doc, dict) and isinstance(doc.get("errorType"), str):
        return doc["errorType"]
    return "Unhandled"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: RuntimeAPIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A runtime killed mid-request (timeout, shutdown) is routine, not a server fault.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the second waits ~40 ms for
    # the peer's delayed ACK on every exchange.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        # Runtime API traffic is protocol noise, not function logs.
        return

    def version_string(self) -> str:
        return "sklambda-local-rapid"

    def _reply(self, status: int, doc: dict[str, str] | None = None) -> None:
        body = json.dumps(doc).encode() if doc is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _extension_get(self) -> None:
        api = self.server.api
        if self.path != f"{_EXTENSION}/event/next":
            self._reply(HTTPStatus.NOT_FOUND, {"errorType": "NotFound", "errorMessage": self.path})
            return
        event = api._extension_next(self.headers.get(_EXT_ID, ""))
        if event is None:
            self.close_connection = True
            self._reply(
                HTTPStatus.FORBIDDEN,
                {"errorType": "Extension.UnknownExtensionIdentifier", "errorMessage": "unknown"},
            )
            return
        body = json.dumps(event).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Lambda-Extension-Event-Identifier", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(body)

    def _extension_post(self, body: bytes) -> None:
        api = self.server.api
        if self.path == f"{_EXTENSION}/register":
            name = self.headers.get(_EXT_NAME)
            try:
                events = json.loads(body or b"{}").get("events", [])
            except (ValueError, AttributeError):
                events = None
            if not name or not isinstance(events, list):
                self._reply(
                    HTTPStatus.BAD_REQUEST,
                    {
                        "errorType": "InvalidRequest",
                        "errorMessage": f"send the {_EXT_NAME} header and a JSON body "
                        '{"events": ["INVOKE", "SHUTDOWN"]}',
                    },
                )
                return
            extension = api._register(name, {str(e) for e in events})
            doc = json.dumps(
                {"functionName": "", "functionVersion": "$LATEST", "handler": ""}
            ).encode()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(doc)))
            self.send_header(_EXT_ID, extension.id)
            self.end_headers()
            self.wfile.write(doc)
            return
        for kind in ("init", "exit"):
            if self.path == f"{_EXTENSION}/{kind}/error":
                with api._cond:
                    known = api._extensions.get(self.headers.get(_EXT_ID, ""))
                name = known.name if known is not None else "?"
                api.extension_errors.append((name, kind, body))
                self._reply(HTTPStatus.ACCEPTED, {"status": "OK"})
                return
        self._reply(HTTPStatus.NOT_FOUND, {"errorType": "NotFound", "errorMessage": self.path})

    def do_GET(self) -> None:
        if self.path.startswith(_EXTENSION):
            self._extension_get()
            return
        if self.path != _NEXT:
            self._reply(HTTPStatus.NOT_FOUND, {"errorType": "NotFound", "errorMessage": self.path})
            return
        invocation = self.server.api._next(self.connection)
        if invocation is None:
            self.close_connection = True
            self._reply(HTTPStatus.GONE, {"errorType": "Shutdown", "errorMessage": "closing"})
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(invocation.payload)))
        self.send_header("Lambda-Runtime-Aws-Request-Id", invocation.request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(invocation.deadline_ms))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", invocation.function_arn)
        self.send_header("Lambda-Runtime-Trace-Id", invocation.trace_id)
        if invocation.client_context is not None:
            self.send_header("Lambda-Runtime-Client-Context", invocation.client_context)
        self.end_headers()
        self.wfile.write(invocation.payload)

    def do_POST(self) -> None:
        try:
            body = read_body(self.rfile, self.headers, MAX_PAYLOAD_BYTES) or b""
            too_large = False
        except BodyTooLarge:
            body, too_large = b"", True
        except ValueError as exc:
            self.close_connection = True
            self._reply(
                HTTPStatus.BAD_REQUEST, {"errorType": "InvalidRequest", "errorMessage": str(exc)}
            )
            return
        api = self.server.api
        if self.path.startswith(_EXTENSION):
            self._extension_post(body)
            return
        error_type = self.headers.get(_ERROR_TYPE_HEADER)
        if self.path == _INIT_ERROR:
            api._init_failed(body, error_type)
            self._reply(HTTPStatus.ACCEPTED, {"status": "OK"})
            return
        self._invocation_post(body, too_large=too_large, error_type=error_type)

    def _invocation_post(self, body: bytes, *, too_large: bool, error_type: str | None) -> None:
        """``/invocation/<id>/response`` or ``/error``: the invocation's answer."""
        api = self.server.api
        parts = self.path[len(_PREFIX) :].split("/") if self.path.startswith(_PREFIX) else []
        # ['', 'invocation', '<id>', 'response' | 'error']
        if len(parts) != 4 or parts[1] != "invocation" or parts[3] not in ("response", "error"):
            self._reply(HTTPStatus.NOT_FOUND, {"errorType": "NotFound", "errorMessage": self.path})
            return
        invocation = api._running(parts[2])
        if invocation is None:
            self._reply(
                HTTPStatus.BAD_REQUEST,
                {"errorType": "InvalidRequestID", "errorMessage": "Invalid request ID"},
            )
            return
        if invocation.finished:
            # AWS's Runtime Interface Emulator: the invoke already has its answer (or timed
            # out), so a second /response or /error is a state transition it refuses.
            self._reply(
                HTTPStatus.FORBIDDEN,
                {
                    "errorType": "InvalidStateTransition",
                    "errorMessage": f"invocation {parts[2]} has already been answered",
                },
            )
            return
        if too_large:
            self._refuse_too_large(invocation)
            return
        if parts[3] == "response":
            invocation.finish(Outcome(body))
        else:
            # The body names the exception class; the header only a coarse category.
            body_type = _error_type_of(body)
            invocation.finish(Outcome(body, error_type if body_type == "Unhandled" else body_type))
        self._reply(HTTPStatus.ACCEPTED, {"status": "OK"})

    def _refuse_too_large(self, invocation: Invocation) -> None:
        """A response over Lambda's 6 MB: the invoke fails, the runtime hears 413."""
        invocation.finish(
            Outcome(
                error_payload(
                    "Function.ResponseSizeTooLarge",
                    "Response payload size exceeded maximum allowed payload size "
                    f"({MAX_PAYLOAD_BYTES} bytes).",
                ),
                "Function.ResponseSizeTooLarge",
                status="error",
            )
        )
        self._reply(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            {
                "errorType": "RequestEntityTooLarge",
                "errorMessage": "Exceeded maximum allowed payload size "
                f"({MAX_PAYLOAD_BYTES} bytes).",
            },
        )
