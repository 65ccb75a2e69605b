"""A stand-in in front of moto's server for the Lambda APIs moto 5 does not have.

Real HTTP on 127.0.0.1, reached through real boto3: requests moto knows are forwarded to it (and
recorded, so a test can see what was sent, e.g. ``SnapStart`` that moto drops); these are
answered here, the way AWS answers them:

- ``GetAccountSettings`` (``UnreservedConcurrentExecutions`` as the test sets it);
- ``Put/Get/DeleteProvisionedConcurrencyConfig`` on a qualifier, reporting ``IN_PROGRESS`` on the
  first read after a put and ``READY`` after, as provisioning does.
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit


class _State:
    def __init__(self, upstream: str, unreserved: int) -> None:
        self.upstream = upstream
        self.unreserved = unreserved
        self.provisioned: dict[tuple[str, str], dict[str, Any]] = {}
        self.reads: dict[tuple[str, str], int] = {}
        self.requests: list[tuple[str, str, Any]] = []  # (method, path, JSON body or None)
        self.raw: list[tuple[str, str, dict[str, str], bytes]] = []  # with query and headers
        self.lock = threading.Lock()


class _Handler(http.server.BaseHTTPRequestHandler):
    state: _State

    def _reply(self, status: int, document: Any = None, error: str = "") -> None:
        data = b"" if document is None else json.dumps(document).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        if error:
            self.send_header("x-amzn-ErrorType", error)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        state = self.state
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        with state.lock:
            state.requests.append((self.command, url.path, parsed))
            state.raw.append((self.command, self.path, dict(self.headers.items()), body))
        if parts[:2] == ["2016-08-19", "account-settings"]:
            self._reply(
                200,
                {
                    "AccountLimit": {
                        "ConcurrentExecutions": 1000,
                        "UnreservedConcurrentExecutions": state.unreserved,
                    },
                    "AccountUsage": {"FunctionCount": 1},
                },
            )
            return
        if len(parts) == 4 and parts[3] == "provisioned-concurrency":
            key = (parts[2], query.get("Qualifier", ""))
            with state.lock:
                if self.command == "PUT":
                    wanted = int(parsed["ProvisionedConcurrentExecutions"])
                    state.provisioned[key] = {
                        "RequestedProvisionedConcurrentExecutions": wanted,
                        "AvailableProvisionedConcurrentExecutions": 0,
                        "AllocatedProvisionedConcurrentExecutions": 0,
                        "Status": "IN_PROGRESS",
                        "LastModified": "2026-12-02T06:00:00.000+0000",
                    }
                    state.reads[key] = 0
                    self._reply(202, state.provisioned[key])
                    return
                found = state.provisioned.get(key)
                if found is None:
                    self._reply(
                        404,
                        {"Type": "User", "message": "No Provisioned Concurrency Config found"},
                        "ProvisionedConcurrencyConfigNotFoundException",
                    )
                    return
                if self.command == "DELETE":
                    del state.provisioned[key]
                    self._reply(204)
                    return
                state.reads[key] += 1
                if state.reads[key] > 1:
                    wanted = found["RequestedProvisionedConcurrentExecutions"]
                    found.update(
                        Status="READY",
                        AvailableProvisionedConcurrentExecutions=wanted,
                        AllocatedProvisionedConcurrentExecutions=wanted,
                    )
                self._reply(200, found)
                return
        self._forward(body)

    def _forward(self, body: bytes) -> None:
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        # urllib would call a body without a type a form, and moto would parse it as one.
        if body and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/octet-stream"
        request = urllib.request.Request(
            self.state.upstream + self.path, data=body or None, method=self.command, headers=headers
        )
        try:
            with urllib.request.urlopen(request) as response:
                status, headers, data = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, headers, data = exc.code, exc.headers, exc.read()
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


class StandIn:
    """The running stand-in: its ``url``, what it was sent, its provisioned configs."""

    def __init__(self, state: _State, url: str) -> None:
        self._state = state
        self.url = url

    @property
    def requests(self) -> list[tuple[str, str, Any]]:
        return list(self._state.requests)

    @property
    def raw(self) -> list[tuple[str, str, dict[str, str], bytes]]:
        return list(self._state.raw)

    @property
    def provisioned(self) -> dict[tuple[str, str], dict[str, Any]]:
        return self._state.provisioned

    def set_unreserved(self, value: int) -> None:
        self._state.unreserved = value


@contextmanager
def lambda_standin(upstream: str, unreserved: int = 900) -> Iterator[StandIn]:
    state = _State(upstream, unreserved)
    handler = type("Handler", (_Handler,), {"state": state})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StandIn(state, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
