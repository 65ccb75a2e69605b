"""The local Lambda commands: ``serve`` (a function URL on loopback) and ``invoke`` (one event)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any


def add_parsers(commands: Any) -> dict[str, Any]:
    """Add ``serve`` and ``invoke`` to ``commands`` (argparse subparsers); returns handlers."""
    serve = commands.add_parser(
        "serve", help="run a package (or a bundle) as a local Lambda function URL, no Docker"
    )
    serve.add_argument("dist", type=Path, help="package directory (or a bundle: built first)")
    serve.add_argument("--host", default="127.0.0.1", help="a loopback address")
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="accept a non-loopback IP address for --host (never a DNS name)",
    )
    serve.add_argument("--port", type=int, default=9000, help="port of the function URL (0: any)")
    serve.add_argument(
        "--concurrency", type=int, default=4, help="execution environments at most (like Lambda's)"
    )
    serve.add_argument("--memory", type=int, default=1024, help="MB, 128-10240")
    serve.add_argument("--timeout", type=float, default=30, help="seconds per invoke")
    serve.add_argument(
        "--auth-type",
        choices=["NONE", "AWS_IAM"],
        default="NONE",
        help="AWS_IAM: requests must be SigV4-signed, as a deployed URL's default (NONE here)",
    )
    serve.add_argument(
        "--credentials",
        type=Path,
        help="JSON list of {access_key, secret_key, account_id, ...} an AWS_IAM URL accepts "
        "(default: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="URL",
        help="allow this browser origin (repeatable; '*' for any): CORS as on the deployed URL",
    )
    serve.add_argument(
        "--ephemeral-storage", type=int, default=512, help="/tmp size in MB, 512-10240"
    )
    serve.add_argument(
        "--no-cpu-share",
        action="store_true",
        help="do not give environments Lambda's CPU share for --memory (1,769 MB = 1 vCPU)",
    )

    invoke = commands.add_parser("invoke", help="run one request in a fresh local environment")
    invoke.add_argument("dist", type=Path, help="package directory (or a bundle: built first)")
    request = invoke.add_mutually_exclusive_group(required=True)
    request.add_argument(
        "--json",
        dest="request",
        help="request body, sent as POST / over a function URL; @FILE reads a file, - stdin",
    )
    request.add_argument("--event", type=Path, help="a Lambda event JSON file, sent as is")
    request.add_argument("--csv", type=Path, help="rows of a CSV file (header line) as instances")
    invoke.add_argument("--memory", type=int, default=1024, help="MB, 128-10240")
    invoke.add_argument("--timeout", type=float, default=30, help="seconds")
    invoke.add_argument(
        "--ephemeral-storage", type=int, default=512, help="/tmp size in MB, 512-10240"
    )
    for sub in (serve, invoke):
        sub.add_argument(
            "--trust-type",
            action="append",
            default=[],
            metavar="MODULE.NAME",
            help="when given a bundle: a type of your own inside the model that you vouch for",
        )
    from sklambda.cli.aws import add_remote_flags

    add_remote_flags(invoke)
    return {"serve": cmd_serve, "invoke": cmd_invoke}


def package_for(
    path: Path, stack: contextlib.ExitStack, trusted_types: tuple[str, ...] = ()
) -> Path:
    """A package directory; a bundle is built (and verified) into a temporary one first."""
    import tempfile

    from sklambda.building.builder import build
    from sklambda.bundle.format import MANIFEST
    from sklambda.cli.console import progress

    if not (path / MANIFEST).is_file():
        return path
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sklambda-serve-")))
    with progress(f"building {path} first…"):
        return build(path, tmp / "dist", trusted_types=trusted_types).dist


class ServeLog:
    """``serve``'s console: one writer, each request's block written whole.

    A block is the access line (method, path, status, time, request id), the function's own
    stdout/stderr lines indented under it, and the REPORT line; blocks of concurrent requests
    never interleave. Lines written outside any request (during init) are shown as they come.
    """

    def __init__(self, stream: Any = None) -> None:
        import threading

        self._stream = stream if stream is not None else sys.stderr
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        with self._lock:
            self._stream.write(text)
            self._stream.flush()

    def on_log(self, line: Any) -> None:
        if line.request_id is None:
            self.write(f"  {line.text}\n")

    def on_request(self, record: Any) -> None:
        out = [
            f"{record.method} {record.path} {record.status}  {record.duration_ms:.1f} ms  "
            f"{record.request_id}"
        ]
        if record.result is not None:
            for text in record.result.log_lines:
                if text.startswith(("START RequestId:", "END RequestId:")):
                    continue
                out.append(text if text.startswith("REPORT RequestId:") else f"  {text}")
        self.write("".join(f"{line}\n" for line in out))


def _check_settings(args: argparse.Namespace) -> None:
    """Settings checked before a package is read or built: a typo costs nothing."""
    from sklambda import limits
    from sklambda.local.errors import SettingsError

    limits.check_memory(args.memory, SettingsError)
    limits.check_timeout(args.timeout, SettingsError)
    storage = getattr(args, "ephemeral_storage", limits.TMP_DEFAULT_MB)
    if not limits.TMP_DEFAULT_MB <= storage <= limits.TMP_MAX_MB:
        raise SettingsError(
            f"--ephemeral-storage must be {limits.TMP_DEFAULT_MB}–{limits.TMP_MAX_MB} MB "
            f"(Lambda's range for /tmp), got {storage}"
        )
    if getattr(args, "host", None) is not None:
        from sklambda.local.function_url import check_loopback

        check_loopback(args.host, allow_any=getattr(args, "allow_remote", False))
    port = getattr(args, "port", None)
    if port is not None and not 0 <= port <= 65535:
        raise SettingsError(f"port must be 0-65535 (0 picks a free one), got {port}")


def cmd_serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    stop = threading.Event()

    def on_sigterm(signum: int, frame: Any) -> None:
        # Raised in the main thread wherever it is (building, starting, waiting), so the
        # ExitStack below always closes the environments; later signals are ignored while
        # it does.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop.set()
        raise KeyboardInterrupt

    # Installed first: a supervisor's stop that comes right after the start must stop it too.
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        return _serve(args, stop)
    except KeyboardInterrupt:
        return 0


def _serve(args: argparse.Namespace, stop: Any) -> int:
    from sklambda.local import serve
    from sklambda.local.cors import Cors
    from sklambda.local.iam_auth import credentials_from, load_credentials_file

    _check_settings(args)
    credentials = load_credentials_file(args.credentials) if args.credentials else None
    if args.auth_type == "AWS_IAM":
        credentials = credentials_from(credentials)  # refused before anything is built
    cors = (
        Cors.for_origins(args.cors_origin, signed=args.auth_type == "AWS_IAM")
        if args.cors_origin
        else None
    )
    console = ServeLog()
    with contextlib.ExitStack() as stack:
        dist = package_for(args.dist, stack, tuple(args.trust_type))
        server = stack.enter_context(
            serve(
                dist,
                host=args.host,
                port=args.port,
                allow_remote=args.allow_remote,
                auth_type=args.auth_type,
                credentials=credentials,
                cors=cors,
                on_request=console.on_request,
                concurrency=args.concurrency,
                memory=args.memory,
                timeout=args.timeout,
                on_log=console.on_log,
                # Lambda's CPU for the memory size where cgroups allow it (build verification
                # keeps it off: its answers, not its speed, are what it checks).
                cpu_share=not args.no_cpu_share,
                ephemeral_storage=args.ephemeral_storage,
            )
        )
        print(f"function URL: {server.url}  (Ctrl-C stops it)", flush=True)
        if args.auth_type == "AWS_IAM":
            print("  auth: AWS_IAM (requests must be SigV4-signed, service lambda)", flush=True)
        else:
            print(
                "  auth: NONE (a deployed URL defaults to AWS_IAM; --auth-type AWS_IAM checks "
                "signatures here too)",
                flush=True,
            )
        print(
            f"  curl -s {server.url} -H 'content-type: application/json' "
            "-d '{\"instances\": [...]}'",
            flush=True,
        )
        # A timeout, so the main thread wakes regularly to run signal handlers.
        while not stop.wait(0.5):
            pass
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    from sklambda.cli.models import request_text
    from sklambda.errors import SklambdaError
    from sklambda.local import LocalFunction
    from sklambda.local.lambda_api import INVOKE_MAX_DEPTH
    from sklambda.local.url_events import post_event, result_to_response
    from sklambda.runtime.contract import RequestError, parse_json

    if args.remote:
        from sklambda.cli.aws import cmd_invoke_remote

        return cmd_invoke_remote(args)
    _check_settings(args)
    if args.csv is not None:
        from sklambda.aws.remote import csv_request

        args.request = csv_request(args.csv).decode()
    if args.event is not None:
        if not args.event.is_file():
            raise SklambdaError(f"event file not found: {args.event}")
        try:  # the parser the Invoke front uses: strict JSON, depth bounded
            event = parse_json(args.event.read_bytes(), max_depth=INVOKE_MAX_DEPTH)
        except RequestError as exc:
            raise SklambdaError(f"{args.event} is not valid JSON ({exc.message})") from None
    else:
        event = post_event(request_text(args.request).encode())
    with contextlib.ExitStack() as stack:
        dist = package_for(args.dist, stack, tuple(args.trust_type))
        function = stack.enter_context(
            LocalFunction(
                dist,
                memory=args.memory,
                timeout=args.timeout,
                concurrency=1,
                ephemeral_storage=args.ephemeral_storage,
            )
        )
        result = function.invoke(event)
    status: int | None = None
    if args.event is None and result.error is None:
        response = result_to_response(result.raw)
        status = response.status
        print(f"HTTP {status}", file=sys.stderr)
        print(response.body.decode("utf-8", "replace"))
    else:
        print(json.dumps(result.payload))
        status = _answer_status(result.payload)
    print(result.report.line, file=sys.stderr)
    if result.error:
        return 1
    return exit_code(status)


def exit_code(status: int | None) -> int:
    """0 only for a 2xx answer; a 4xx (the request was refused) is 2, a 5xx is 1."""
    if status is None or 200 <= status < 300:
        return 0
    return 2 if 400 <= status < 500 else 1


def _answer_status(payload: Any) -> int | None:
    """The HTTP status an event's answer carries: ``statusCode``, or a direct invoke's error."""
    if not isinstance(payload, dict):
        return None
    status = payload.get("statusCode")
    if isinstance(status, int) and not isinstance(status, bool):
        return status
    error = payload.get("error")
    if isinstance(error, dict) and "code" in error:  # the service's answer to a direct invoke
        return 500 if error["code"] == "internal_error" else 400
    return None
