"""What the local emulator costs on top of the function itself.

- Warm request: the handler called in-process vs the same event through ``LocalFunction.invoke``
  (Runtime API round trip) vs an HTTP request to the function URL front.
- Cold start: a bare ``python -I -S`` importing the handler module vs a new environment's
  ``Init Duration`` (REPORT) and the whole first invoke as the caller sees it.

Usage: ``uv run python benchmarks/bench_emulator.py [DIST] [--requests N] [--colds N]``.
Without DIST a tiny echo package (Python 3.12) is built in a temporary directory.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).parent))
from results import write_section

from sklambda.local import LocalFunction, load_dist, serve
from sklambda.local.bootstrap import ensure_runtime

ECHO_HANDLER = "def handler(event, context):\n    return {'echo': event}\n"
EVENT = {"instances": [[3.0, 20.0, 95.5]]}


def build_echo_dist(root: Path) -> Path:
    dist = root / "echo"
    dist.mkdir()
    with zipfile.ZipFile(dist / "function.zip", "w") as zipped:
        zipped.writestr("echo_handler.py", ECHO_HANDLER)
    meta = {"runtime": "lean", "python": "3.12", "handler": "echo_handler.handler"}
    (dist / "build.json").write_text(json.dumps(meta))
    return dist


def median_ms(run: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def in_process_handler_ms(dist: Path, repeat: int) -> float:
    """Import the handler from the zip in this process and call it directly."""
    meta = load_dist(dist)
    module_name, function_name = meta.handler.rsplit(".", 1)
    with tempfile.TemporaryDirectory() as extracted:
        with zipfile.ZipFile(meta.function_zip) as zipped:
            zipped.extractall(extracted)
        sys.path.insert(0, extracted)
        try:
            module = __import__(module_name)
            handler = getattr(module, function_name)
            return median_ms(lambda: handler(json.loads(json.dumps(EVENT)), None), repeat)
        finally:
            sys.path.remove(extracted)


def bare_work_ms(dist: Path, repeat: int) -> float:
    """The same work without the emulator: the package's interpreter, isolated, imports
    awslambdaric's bootstrap and the handler module and answers one event in process."""
    function = LocalFunction(dist)
    function.close()
    runtime_dir = ensure_runtime(function.interpreter)
    meta = load_dist(dist)
    module_name, function_name = meta.handler.rsplit(".", 1)
    with tempfile.TemporaryDirectory() as extracted:
        with zipfile.ZipFile(meta.function_zip) as zipped:
            zipped.extractall(extracted)
        # -I leaves the working directory off sys.path; put the code there as Lambda does.
        code = (
            f"import sys, json; sys.path[:0] = [{extracted!r}, {str(runtime_dir)!r}]; "
            f"import awslambdaric.bootstrap; import {module_name}; "
            f"{module_name}.{function_name}(json.loads({json.dumps(EVENT)!r}), None)"
        )
        command = [str(function.interpreter.path), "-I", "-S", "-c", code]
        return median_ms(lambda: subprocess.run(command, cwd=extracted, check=True), repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", nargs="?", type=Path)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--colds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        dist = args.dist or build_echo_dist(Path(scratch))
        payload = json.dumps(EVENT).encode()

        direct = in_process_handler_ms(dist, args.requests)
        with serve(dist, port=0, concurrency=1) as server:
            server.function.invoke(EVENT)  # the cold start is measured below, not here
            invoke = median_ms(lambda: server.function.invoke(EVENT), args.requests)
            parts = urlsplit(server.url)
            conn = http.client.HTTPConnection(parts.hostname, parts.port)

            def url_request() -> None:
                conn.request(
                    "POST", "/", body=payload, headers={"Content-Type": "application/json"}
                )
                conn.getresponse().read()

            url = median_ms(url_request, args.requests)
            conn.close()

        bare = bare_work_ms(dist, args.colds)
        inits: list[float] = []
        firsts: list[float] = []
        for _ in range(args.colds):
            with LocalFunction(dist, concurrency=1) as function:
                start = time.perf_counter()
                result = function.invoke(EVENT)
                firsts.append((time.perf_counter() - start) * 1000)
                assert result.report.init_duration_ms is not None
                inits.append(result.report.init_duration_ms)
        init, first = statistics.median(inits), statistics.median(firsts)

    body = "\n".join(
        [
            f"Package: {'a tiny echo handler (python3.12)' if args.dist is None else dist}.",
            "",
            f"| warm request (median of {args.requests}) | ms | vs in-process |",
            "|---|---:|---:|",
            f"| handler called in-process | {direct:.3f} | 1× |",
            f"| `LocalFunction.invoke` (Runtime API round trip) | {invoke:.3f} | "
            f"+{invoke - direct:.3f} ms |",
            f"| function URL over HTTP on loopback | {url:.3f} | +{url - direct:.3f} ms |",
            "",
            f"| cold start (median of {args.colds}) | ms | vs bare |",
            "|---|---:|---:|",
            "| bare process: interpreter + `import awslambdaric.bootstrap` + handler + one event "
            f"| {bare:.1f} | 1.00× |",
            f"| emulator, request in → answer out, fresh environment | {first:.1f} | "
            f"{first / bare:.2f}× |",
            f"| emulator REPORT `Init Duration` | {init:.1f} | |",
            "",
            f"- function URL overhead on a warm request: **{url - direct:.2f} ms** "
            "(target ≤ 1 ms at the median)",
            f"- cold start through the emulator / bare process: **{first / bare:.2f}×** "
            "(target ≤ 1.3×)",
        ]
    )
    print(body)
    write_section("bench_emulator.py", body)


if __name__ == "__main__":
    main()
