"""What the hardened HTTP front (h11 on a thread per connection) costs, against ``http.server``.

- Front only, no function: a keep-alive POST answered with a fixed JSON body by
  ``sklambda.local.http_server.HttpFront`` (h11) and by the standard library's
  ``ThreadingHTTPServer`` (what the front used before), over loopback.
- The whole warm path with the tiny echo package of ``bench_emulator.py``: the handler called
  in-process, ``LocalFunction.invoke`` (Runtime API round trip) and the function URL over HTTP.
  "Warm overhead" is the function URL's median minus the in-process call (target ≤ 1 ms).

Usage: ``uv run python benchmarks/bench_front.py [--requests N]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_emulator import EVENT, build_echo_dist, in_process_handler_ms, median_ms
from results import write_section

from sklambda.local import serve
from sklambda.local.http_server import FrontLimits, HttpFront
from sklambda.local.url_events import HttpResponse

ANSWER = json.dumps({"predictions": [231.4], "model": {"name": "m", "version": "v"}}).encode()
PAYLOAD = json.dumps({"instances": [[3.0, 20.0, 95.5]]}).encode()


class _StdlibHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)


def round_trip_ms(host: str, port: int, requests: int) -> float:
    conn = http.client.HTTPConnection(host, port)
    try:

        def one() -> None:
            conn.request("POST", "/", body=PAYLOAD, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            assert response.status == 200

        for _ in range(20):
            one()
        return median_ms(one, requests)
    finally:
        conn.close()


def stdlib_front_ms(requests: int) -> float:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StdlibHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        return round_trip_ms("127.0.0.1", server.server_address[1], requests)
    finally:
        server.shutdown()
        server.server_close()


def h11_front_ms(requests: int) -> float:
    reply = HttpResponse(200, [("Content-Type", "application/json")], ANSWER)
    front = HttpFront(("127.0.0.1", 0), lambda request: reply, FrontLimits())
    try:
        return round_trip_ms("127.0.0.1", front.address[1], requests)
    finally:
        front.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    n = args.requests
    # Interleaved, best of three medians each: the machine is shared and noisy.
    stdlib = min(stdlib_front_ms(n) for _ in range(3))
    h11_only = min(h11_front_ms(n) for _ in range(3))
    with tempfile.TemporaryDirectory() as scratch:
        dist = build_echo_dist(Path(scratch))
        direct = in_process_handler_ms(dist, n)
        with serve(dist, port=0, concurrency=1) as server:
            server.function.invoke(EVENT)
            port = int(server.url.rsplit(":", 1)[1].strip("/"))
            invokes, urls = [], []
            for _ in range(3):  # interleaved, best of three each
                invokes.append(median_ms(lambda: server.function.invoke(EVENT), n))
                urls.append(round_trip_ms("127.0.0.1", port, n))
            invoke, url = min(invokes), min(urls)
    body = "\n".join(
        [
            f"Front only (no function), keep-alive POST on loopback, median of {n} "
            "(best of 3 runs):",
            "",
            "| server | ms per request |",
            "|---|---:|",
            f"| `http.server.ThreadingHTTPServer` (the front before) | {stdlib:.3f} |",
            f"| `HttpFront` on h11 (strict framing, timeouts, limits) | {h11_only:.3f} |",
            "",
            f"Whole warm path, tiny echo package (python3.12), median of {n} (best of 3, "
            "interleaved):",
            "",
            "| path | ms |",
            "|---|---:|",
            f"| handler called in-process | {direct:.3f} |",
            f"| `LocalFunction.invoke` (Runtime API round trip) | {invoke:.3f} |",
            f"| function URL over HTTP (h11 front) | {url:.3f} |",
            "",
            f"- h11 front vs `http.server`: **{h11_only - stdlib:+.3f} ms** per request",
            f"- load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
            "(a shared machine: the Runtime API round trip, not the front, moves with it)",
            f"- function URL warm overhead (URL − in-process): **{url - direct:.2f} ms** "
            "(target ≤ 1 ms)",
        ]
    )
    print(body)
    write_section("bench_front.py", body)


if __name__ == "__main__":
    main()
