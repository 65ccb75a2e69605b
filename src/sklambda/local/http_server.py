"""The HTTP/1.1 server under the emulator's front: h11's framing on a thread per connection.

Why h11 and not ``http.server``: ``BaseHTTPRequestHandler`` decoded ``Transfer-Encoding:
xchunked`` as chunked, accepted conflicting or ``+1_0`` Content-Lengths, answered a malformed
request line without a status line and 414/431 as HTML, and had no timeout at all. h11 is a
maintained, pure-Python HTTP/1.1 state machine that refuses those framings as RFC 9112 asks; this
module adds what a server around it must do (measured in ``benchmarks/bench_front.py``: the warm
overhead stays under 1 ms):

- a listen backlog sized for bursts (:attr:`FrontLimits.backlog`, default 128);
- timeouts: an idle connection (before its first byte, and between keep-alive requests) is closed
  after ``idle_timeout``; a request head must arrive within ``header_timeout`` of its first byte
  (slow-loris) and its body within ``body_timeout`` (slow bodies) — those get a JSON 408;
- a connection limit: at ``max_connections`` a new connection evicts the one that has waited
  longest for a request (idle or still sending its head); only when every connection is busy
  in the function is the new one refused with a JSON 503;
- framing RFC 9112 calls ambiguous is refused with a JSON 4xx/5xx and the connection closed:
  unknown transfer codings (501), Transfer-Encoding together with Content-Length (400),
  conflicting or non-decimal Content-Length (400), HTTP versions other than 1.0/1.1 (505), a
  request line over the head limit (414), a head over it (431);
- response header names and values are checked (no CR, LF or other controls: no response
  splitting) before anything is written; the caller turns a bad one into a 502.
"""

from __future__ import annotations

import contextlib
import email.utils
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import h11

from sklambda.local.url_events import HttpResponse, error_response

__all__ = [
    "FrontLimits",
    "FrontRequest",
    "HttpFront",
    "bad_header",
    "json_error",
]

_RECV = 1 << 16
# A response header: a token name; a value of visible characters, spaces, tabs and obs-text.
_HEADER_NAME = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HEADER_VALUE = re.compile(rb"^[\t\x20-\x7e\x80-\xff]*$")
# Framing headers the server writes itself.
_OWN_HEADERS = frozenset({b"content-length", b"transfer-encoding", b"connection", b"date"})


@dataclass(frozen=True)
class FrontLimits:
    """Limits of the HTTP front: backlog, connections, timeouts (seconds) and sizes (bytes)."""

    backlog: int = 128
    max_connections: int = 128
    idle_timeout: float = 30.0
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    write_timeout: float = 30.0
    max_head_bytes: int = 64 * 1024
    max_body_bytes: int = 6 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("backlog", "max_connections", "max_head_bytes", "max_body_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"FrontLimits.{name} must be at least 1")
        for name in ("idle_timeout", "header_timeout", "body_timeout", "write_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"FrontLimits.{name} must be a positive number of seconds")


@dataclass(frozen=True)
class FrontRequest:
    """One complete request as the front received it.

    ``headers`` keep the order, repeats and spelling of the request (values decoded as
    ISO-8859-1, HTTP's own charset); ``body`` is None when the request had no body framing.
    """

    method: str
    target: str
    http_version: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    client: tuple[str, int]

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def get(self, name: str, default: str | None = None) -> str | None:
        """Like ``email.message.Message.get``: the first value of ``name``, or ``default``."""
        value = self.header(name)
        return default if value is None else value

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


Respond = Callable[[FrontRequest], HttpResponse]


def bad_header(name: str, value: str) -> bool:
    """Whether a response header cannot be written as is (bad name, CR/LF or control in value)."""
    return not (
        _HEADER_NAME.match(name.encode("utf-8", "replace"))
        and _HEADER_VALUE.match(value.encode("utf-8", "replace"))
    )


def json_error(status: int, message: str) -> HttpResponse:
    """A JSON error in the function URL's style: ``{"message": ...}``."""
    return error_response(status, message)


class _Refused(Exception):
    """The request cannot be served; answer ``reply`` and close the connection."""

    def __init__(self, reply: HttpResponse) -> None:
        super().__init__(reply.status)
        self.reply = reply


class _Gone(Exception):
    """The connection ended (peer closed, idle timeout, eviction): close without a word."""


def _timed_out(reply: HttpResponse | None) -> Exception:
    return _Refused(reply) if reply is not None else _Gone()


class _Connection:
    def __init__(self, front: HttpFront, sock: socket.socket, address: tuple[str, int]) -> None:
        self.front = front
        self.sock = sock
        self.client = (str(address[0]), int(address[1]))
        # monotonic time since the connection waits for a request (idle or reading its head);
        # None while a request is being served. Guarded by front._lock.
        self.waiting_since: float | None = time.monotonic()
        self.evicted = False
        self.last_had_newline = False

    # -- reading ----------------------------------------------------------------------------

    def _fill(self, conn: h11.Connection, deadline: float, on_timeout: HttpResponse | None) -> bool:
        """Receive once into ``conn``; False on EOF. A timeout answers ``on_timeout``."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _timed_out(on_timeout)
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(_RECV)
        except TimeoutError:
            raise _timed_out(on_timeout) from None
        except OSError:
            raise _Gone() from None
        self.last_had_newline = b"\n" in data
        conn.receive_data(data)
        return bool(data)

    def _read_head(self, conn: h11.Connection) -> h11.Request | None:
        limits = self.front.limits
        deadline = time.monotonic() + limits.idle_timeout
        timeout_reply: HttpResponse | None = None  # idle: close silently
        started = False
        saw_line_end = False
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                status = exc.error_status_hint
                if status == 431 and not saw_line_end:
                    raise _Refused(
                        json_error(414, f"request line over {limits.max_head_bytes} bytes")
                    ) from None
                if status == 431:
                    message = f"request head over {limits.max_head_bytes} bytes"
                else:
                    message = f"malformed request: {exc}"
                raise _Refused(json_error(status, message)) from None
            if isinstance(event, h11.Request):
                # h11's limit applies to a head still incomplete in its buffer; one that
                # arrived whole in a single read is measured here.
                if len(event.target) > limits.max_head_bytes:
                    raise _Refused(
                        json_error(414, f"request line over {limits.max_head_bytes} bytes")
                    )
                size = len(event.target) + sum(len(n) + len(v) + 4 for n, v in event.headers)
                if size > limits.max_head_bytes:
                    raise _Refused(
                        json_error(431, f"request head over {limits.max_head_bytes} bytes")
                    )
                return event
            if isinstance(event, h11.ConnectionClosed):
                return None
            if event is not h11.NEED_DATA:  # pragma: no cover - h11 yields nothing else here
                raise _Gone()
            before = time.monotonic()
            if not self._fill(conn, deadline, timeout_reply):
                continue  # EOF fed to h11: it reports ConnectionClosed or an error
            if not started:
                started = True
                deadline = before + limits.header_timeout
                timeout_reply = json_error(
                    408, f"request head not received within {limits.header_timeout:g} s"
                )
            saw_line_end = saw_line_end or self.last_had_newline

    def _check_framing(self, request: h11.Request) -> None:
        names = [name for name, _ in request.headers]
        if b"transfer-encoding" in names and b"content-length" in names:
            raise _Refused(
                json_error(
                    400,
                    "Transfer-Encoding and Content-Length together are ambiguous (RFC 9112 "
                    "§6.3); send one of them",
                )
            )
        if request.http_version not in (b"1.0", b"1.1"):
            raise _Refused(
                json_error(505, f"HTTP/{request.http_version.decode()} is not supported; use 1.1")
            )

    def _read_body(self, conn: h11.Connection, request: h11.Request) -> bytes | None:
        limits = self.front.limits
        framed = any(
            name in (b"content-length", b"transfer-encoding") for name, _ in request.headers
        )
        deadline = time.monotonic() + limits.body_timeout
        timeout = json_error(408, f"request body not received within {limits.body_timeout:g} s")
        parts: list[bytes] = []
        total = 0
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise _Refused(
                    json_error(exc.error_status_hint, f"malformed body: {exc}")
                ) from None
            if isinstance(event, h11.Data):
                total += len(event.data)
                if total > limits.max_body_bytes:
                    raise _Refused(self.front.too_large(request))
                parts.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(parts) if framed else None
            elif event is h11.NEED_DATA:
                if conn.they_are_waiting_for_100_continue:
                    # curl waits a second for this before sending a body over 1 KB.
                    self.sock.settimeout(limits.write_timeout)
                    self.sock.sendall(
                        conn.send(h11.InformationalResponse(status_code=100, headers=[]))
                    )
                if not self._fill(conn, deadline, timeout):
                    continue
            else:
                raise _Gone()

    # -- writing ----------------------------------------------------------------------------

    def _write(self, conn: h11.Connection, reply: HttpResponse, *, head: bool) -> None:
        headers: list[tuple[bytes, bytes]] = []
        for name, value in reply.headers:
            raw_name = name.encode("utf-8")
            if raw_name.lower() in _OWN_HEADERS:
                continue
            headers.append((raw_name, value.encode("utf-8")))
        headers.append((b"Date", self.front.date()))
        headers.append((b"Content-Length", str(len(reply.body)).encode()))
        data = conn.send(h11.Response(status_code=reply.status, headers=headers))
        if reply.body and not head:
            data += conn.send(h11.Data(data=reply.body))
        data += conn.send(h11.EndOfMessage())
        self.sock.settimeout(self.front.limits.write_timeout)
        self.sock.sendall(data)

    def _write_raw_error(self, reply: HttpResponse) -> None:
        """An error before (or instead of) h11's own response: always followed by a close."""
        reason = _REASONS.get(reply.status, "Error")
        lines = [f"HTTP/1.1 {reply.status} {reason}"]
        lines += [
            f"{name}: {value}"
            for name, value in reply.headers
            if name.lower().encode() not in _OWN_HEADERS and not bad_header(name, value)
        ]
        lines += [f"Content-Length: {len(reply.body)}", "Connection: close"]
        head = "".join(f"{line}\r\n" for line in lines).encode("utf-8")
        head += b"Date: " + self.front.date() + b"\r\n\r\n"
        with contextlib.suppress(OSError):
            self.sock.settimeout(self.front.limits.write_timeout)
            self.sock.sendall(head + reply.body)
            self._linger()

    def _linger(self) -> None:
        """Half-close, then drain what the client still sends, so it reads the answer first.

        Closing with unread bytes makes the kernel reset the connection, and a client still
        sending its body would see the reset instead of the 4xx.
        """
        self.sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + 2.0
        drained = 0
        while drained < 4 * self.front.limits.max_body_bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self.sock.settimeout(remaining)
            data = self.sock.recv(_RECV)
            if not data:
                return
            drained += len(data)

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._serve()
        except _Gone:
            pass
        except _Refused as refused:
            self._write_raw_error(refused.reply)
        except OSError:
            pass
        except Exception:
            # A fault of the front itself: say so on the console and to the client, once.
            traceback.print_exc(file=sys.stderr)
            self._write_raw_error(
                json_error(500, "the local front failed on this request (a bug in sklambda)")
            )
        finally:
            self.front._forget(self)
            with contextlib.suppress(OSError):
                self.sock.close()

    def _serve(self) -> None:
        conn = h11.Connection(
            h11.SERVER, max_incomplete_event_size=self.front.limits.max_head_bytes
        )
        while True:
            event = self._read_head(conn)
            if event is None:
                return
            if not self.front._busy(self):
                return
            self._check_framing(event)
            body = self._read_body(conn, event)
            request = FrontRequest(
                method=event.method.decode("ascii"),
                target=event.target.decode("iso-8859-1"),
                http_version=f"HTTP/{event.http_version.decode('ascii')}",
                headers=tuple(
                    (name.decode("iso-8859-1"), value.decode("iso-8859-1"))
                    for name, value in event.headers.raw_items()
                ),
                body=body,
                client=self.client,
            )
            reply = self.front.respond_safely(request)
            self._write(conn, reply, head=request.method == "HEAD")
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            try:
                conn.start_next_cycle()
            except h11.LocalProtocolError:
                return
            self.front._waiting(self)


class HttpFront:
    """Accepts connections on a listening socket and serves each on its own thread.

    Parameters
    ----------
    address : (host, port)
        Where to listen; port 0 picks a free one.
    respond : callable
        ``FrontRequest -> HttpResponse``; called on the connection's thread.
    limits : FrontLimits
    too_large : callable, optional
        ``(method, target) -> HttpResponse`` for a body over the limit (default: a JSON 413).
    """

    def __init__(
        self,
        address: tuple[str, int],
        respond: Respond,
        limits: FrontLimits | None = None,
        *,
        too_large: Callable[[str, str], HttpResponse] | None = None,
    ) -> None:
        self.limits = limits or FrontLimits()
        self._respond = respond
        self._too_large = too_large
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._sock = socket.create_server(address, family=family, backlog=self.limits.backlog)
        self.address: tuple[str, int] = self._sock.getsockname()[:2]
        self._sock.settimeout(0.2)
        self._lock = threading.Lock()
        self._connections: set[_Connection] = set()
        self._closed = threading.Event()
        self._date = (0, b"")
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"sklambda-front-{self.address[1]}", daemon=True
        )
        self._thread.start()

    @property
    def connections(self) -> int:
        """Open connections right now."""
        with self._lock:
            return len(self._connections)

    def date(self) -> bytes:
        now = int(time.time())
        if self._date[0] != now:
            self._date = (now, email.utils.formatdate(now, usegmt=True).encode())
        return self._date[1]

    def too_large(self, request: h11.Request) -> HttpResponse:
        """The answer to a body over ``max_body_bytes`` (by method and target)."""
        if self._too_large is not None:
            return self._too_large(
                request.method.decode("ascii"), request.target.decode("iso-8859-1")
            )
        return json_error(413, "Request Entity Too Large")

    def respond_safely(self, request: FrontRequest) -> HttpResponse:
        try:
            reply = self._respond(request)
        except Exception:
            # A fault of the front itself, not of the function: say so, keep serving.
            traceback.print_exc(file=sys.stderr)
            return json_error(500, "the local front failed on this request (a bug in sklambda)")
        if any(bad_header(name, value) for name, value in reply.headers):
            return json_error(502, "Internal Server Error")
        return reply

    # -- connection registry ----------------------------------------------------------------

    def _admit(self, sock: socket.socket, address: tuple[str, int]) -> _Connection | None:
        with self._lock:
            if len(self._connections) >= self.limits.max_connections:
                waiting = [c for c in self._connections if c.waiting_since is not None]
                if not waiting:
                    return None
                victim = min(waiting, key=lambda c: c.waiting_since or 0.0)
                victim.evicted = True
                self._connections.discard(victim)
                with contextlib.suppress(OSError):
                    victim.sock.shutdown(socket.SHUT_RDWR)
            connection = _Connection(self, sock, address)
            self._connections.add(connection)
            return connection

    def _busy(self, connection: _Connection) -> bool:
        with self._lock:
            if connection.evicted:
                return False
            connection.waiting_since = None
            return True

    def _waiting(self, connection: _Connection) -> None:
        with self._lock:
            connection.waiting_since = time.monotonic()

    def _forget(self, connection: _Connection) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                sock, address = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._closed.is_set():
                    return
                time.sleep(0.05)  # EMFILE and the like: let connections finish
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = self._admit(sock, address)
            if connection is None:
                self._refuse(sock)
                continue
            threading.Thread(target=connection.run, name="sklambda-front-conn", daemon=True).start()

    def _refuse(self, sock: socket.socket) -> None:
        reply = json_error(
            503,
            f"all {self.limits.max_connections} connections are busy in the function; retry",
        )
        head = (
            f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(reply.body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        ).encode()
        with contextlib.suppress(OSError):
            sock.settimeout(1.0)
            sock.sendall(head + reply.body)
            sock.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            sock.close()

    def close(self) -> None:
        """Stop accepting, end every open connection, wait for the accept thread."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self._sock.close()
        with self._lock:
            open_connections = list(self._connections)
        for connection in open_connections:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)


_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}
