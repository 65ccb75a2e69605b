"""The HTTP front's own behaviour: framing, timeouts, connection limit, header checks (#15).

Most tests drive :class:`HttpFront` with a handler in this process (no function, fast); the
acceptance load check and response splitting go through a real package in the emulator.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sklambda.local import serve
from sklambda.local.http_server import FrontLimits, FrontRequest, HttpFront
from sklambda.local.url_events import HttpResponse

OK = HttpResponse(200, [("Content-Type", "application/json")], b'{"ok": true}')


def _echo(request: FrontRequest) -> HttpResponse:
    body = json.dumps(
        {
            "method": request.method,
            "target": request.target,
            "body": None if request.body is None else request.body.decode("latin-1"),
        }
    ).encode()
    return HttpResponse(200, [("Content-Type", "application/json")], body)


@pytest.fixture
def front() -> Iterator[HttpFront]:
    server = HttpFront(("127.0.0.1", 0), _echo, FrontLimits(idle_timeout=5, header_timeout=2))
    yield server
    server.close()


def exchange(front: HttpFront, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes (or ``timeout``)."""
    with socket.create_connection(front.address, timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), raw[:200]
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


# -- framing (RFC 9112) --------------------------------------------------------------------------

AMBIGUOUS = {
    "unknown transfer coding": (
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        501,
    ),
    "coding list ending in chunked": (
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        501,
    ),
    "Transfer-Encoding and Content-Length": (
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    "conflicting Content-Length": (
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        400,
    ),
    "Content-Length +1_0": (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1_0\r\n\r\n", 400),
    "negative Content-Length": (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
    "malformed request line": (b"GARBAGE\r\n\r\n", 400),
    "space before the colon": (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    "HTTP/1.1 without Host": (b"GET / HTTP/1.1\r\n\r\n", 400),
    "HTTP/2.0 on the wire": (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    "request line over the limit": (
        b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
        414,
    ),
    "head over the limit": (
        b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X-Big: " + b"b" * 70_000 + b"\r\n\r\n",
        431,
    ),
    "bad chunk size": (
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n",
        400,
    ),
}


@pytest.mark.parametrize("case", sorted(AMBIGUOUS))
def test_ambiguous_framing_is_a_json_error_with_a_status_line_then_close(
    front: HttpFront, case: str
) -> None:
    data, status = AMBIGUOUS[case]
    raw = exchange(front, data)
    got, headers, body = parse(raw)
    assert got == status
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert json.loads(body)["message"]


def test_good_framings_are_accepted_keep_alive_and_pipelined(front: HttpFront) -> None:
    data = (
        b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
        b"POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nde\r\n1\r\nf\r\n0\r\n\r\n"
        b"GET /c?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    )
    raw = exchange(front, data)
    answers = [json.loads(part.split(b"\r\n\r\n", 1)[1]) for part in _split_responses(raw)]
    assert answers == [
        {"method": "POST", "target": "/a", "body": "abc"},
        {"method": "POST", "target": "/b", "body": "def"},
        {"method": "GET", "target": "/c?x=1", "body": None},
    ]


def test_expect_100_continue_is_answered_before_the_body(front: HttpFront) -> None:
    with socket.create_connection(front.address, timeout=5) as sock:
        sock.sendall(
            b"POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n"
            b"Connection: close\r\n\r\n"
        )
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 ")
        sock.sendall(b"hi")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    assert json.loads(parse(raw)[2])["body"] == "hi"


def _split_responses(raw: bytes) -> list[bytes]:
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        length = int(parse(head + b"\r\n\r\n")[1]["content-length"])
        out.append(head + b"\r\n\r\n" + rest[:length])
        raw = rest[length:]
    return out


def test_body_over_the_limit_is_413_and_the_client_reads_it() -> None:
    limits = FrontLimits(max_body_bytes=1000)
    server = HttpFront(("127.0.0.1", 0), _echo, limits)
    try:
        raw = exchange(
            server, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000
        )
    finally:
        server.close()
    assert parse(raw)[0] == 413


# -- response headers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        ("X-Evil", "a\r\nSet-Cookie: pwned=1"),
        ("X-Evil", "a\nb"),
        ("X-Evil", "nul\x00"),
        ("Bad Name", "v"),
        ("X-Evil\r\nSet-Cookie", "pwned=1"),
    ],
)
def test_a_response_header_with_cr_lf_or_controls_becomes_a_502(header: tuple[str, str]) -> None:
    evil = HttpResponse(200, [header], b"{}")
    server = HttpFront(("127.0.0.1", 0), lambda request: evil, FrontLimits())
    try:
        raw = exchange(server, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    finally:
        server.close()
    status, headers, body = parse(raw)
    assert status == 502
    assert "set-cookie" not in headers and b"pwned" not in raw
    assert json.loads(body) == {"message": "Internal Server Error"}


# -- timeouts and the connection limit -----------------------------------------------------------


def test_slow_loris_head_gets_408_within_the_header_timeout() -> None:
    server = HttpFront(("127.0.0.1", 0), _echo, FrontLimits(header_timeout=0.5))
    try:
        with socket.create_connection(server.address, timeout=5) as sock:
            start = time.monotonic()
            sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")
            chunks = []
            for _ in range(20):  # one header byte every 0.1 s: never completes in time
                try:
                    sock.sendall(b"X")
                except OSError:
                    break
                time.sleep(0.1)
            sock.settimeout(2)
            with contextlib.suppress(OSError):
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
            elapsed = time.monotonic() - start
    finally:
        server.close()
    assert parse(b"".join(chunks))[0] == 408
    assert elapsed < 2.5


def test_short_body_gets_408_within_the_body_timeout() -> None:
    server = HttpFront(("127.0.0.1", 0), _echo, FrontLimits(body_timeout=0.5))
    try:
        start = time.monotonic()
        raw = exchange(server, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        elapsed = time.monotonic() - start
    finally:
        server.close()
    assert parse(raw)[0] == 408
    assert elapsed < 2


def test_the_listen_backlog_is_sized_for_bursts(front: HttpFront) -> None:
    # ss shows a listening socket's backlog in Send-Q.
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{front.address[1]}"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[2]) >= 128, out


def test_at_the_limit_a_new_connection_evicts_the_longest_idle_one() -> None:
    server = HttpFront(("127.0.0.1", 0), _echo, FrontLimits(max_connections=4, idle_timeout=30))
    try:
        idle = [socket.create_connection(server.address, timeout=5) for _ in range(4)]
        time.sleep(0.2)
        assert server.connections == 4
        raw = exchange(server, b"GET /fresh HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        assert json.loads(parse(raw)[2])["target"] == "/fresh"
        assert idle[0].recv(10) == b""  # the oldest was closed to make room
        for sock in idle:
            sock.close()
    finally:
        server.close()


def test_when_every_connection_is_busy_a_new_one_gets_a_json_503() -> None:
    release = threading.Event()

    def blocking(request: FrontRequest) -> HttpResponse:
        release.wait(10)
        return OK

    server = HttpFront(("127.0.0.1", 0), blocking, FrontLimits(max_connections=2))
    try:
        with ThreadPoolExecutor(2) as pool:
            busy = [
                pool.submit(
                    exchange, server, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                )
                for _ in range(2)
            ]
            time.sleep(0.3)
            status, headers, body = parse(exchange(server, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
            release.set()
            assert [parse(f.result())[0] for f in busy] == [200, 200]
    finally:
        release.set()
        server.close()
    assert status == 503 and headers["content-type"] == "application/json"
    assert "busy" in json.loads(body)["message"]


# -- the acceptance load check (#15), through a real package -------------------------------------


@pytest.mark.slow
def test_bursts_idle_sockets_and_good_requests(local_dists: dict[str, Path]) -> None:
    """64 simultaneous connects × 3 rounds: no failure; 200 idle sockets closed within the idle
    timeout; good requests answered all along."""
    limits = FrontLimits(idle_timeout=1.5, max_connections=128)
    with serve(local_dists["web"], port=0, timeout=20, concurrency=2, limits=limits) as server:
        address = ("127.0.0.1", int(server.url.rsplit(":", 1)[1].strip("/")))

        def one(path: str) -> int:
            with socket.create_connection(address, timeout=10) as sock:
                sock.sendall(
                    f"GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".encode()
                )
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
            return parse(data)[0]

        with ThreadPoolExecutor(64) as pool:
            for _ in range(3):
                statuses = list(pool.map(one, ["/plain"] * 64))
                assert statuses == [200] * 64

        idle = [socket.create_connection(address, timeout=5) for _ in range(200)]
        opened = time.monotonic()
        answered = [one("/plain")]
        while time.monotonic() < opened + limits.idle_timeout + 0.5:
            answered.append(one("/plain"))
        assert set(answered) == {200} and len(answered) > 5
        # By now every idle socket has been closed by the server (idle timeout or eviction).
        closed = 0
        for sock in idle:
            sock.settimeout(0.5)
            try:
                closed += sock.recv(1) == b""
            except ConnectionResetError:
                closed += 1
            except TimeoutError:
                pass
            sock.close()
        assert closed == 200
        deadline = time.monotonic() + 3
        while server.connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.connections == 0


@pytest.mark.slow
def test_the_served_function_url_refuses_ambiguous_framing_in_json(
    local_dists: dict[str, Path],
) -> None:
    """The same hostile requests through ``serve()``: a status line and a JSON error each."""
    with serve(local_dists["web"], port=0, timeout=20) as server:
        address = ("127.0.0.1", int(server.url.rsplit(":", 1)[1].strip("/")))
        got = {}
        for case, (data, _) in sorted(AMBIGUOUS.items()):
            with socket.create_connection(address, timeout=10) as sock:
                sock.sendall(data)
                raw = b""
                with contextlib.suppress(OSError):
                    while chunk := sock.recv(65536):
                        raw += chunk
            status = int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.1 ") else None
            body_is_json = False
            with contextlib.suppress(ValueError):
                body_is_json = "message" in json.loads(raw.partition(b"\r\n\r\n")[2])
            got[case] = (status, body_is_json)
    assert got == {case: (status, True) for case, (_, status) in AMBIGUOUS.items()}
