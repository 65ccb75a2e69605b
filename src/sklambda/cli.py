"""The `sklambda` command: a thin layer over the Python API.

Problems the user can fix print one line on stderr and exit with code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (plus exit code 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _csv_list(text: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected comma-separated names, e.g. rooms,age,area")
    return items


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1, got {text!r}"
        ) from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .building import RUNTIMES
    from .persistence import FORMATS
    from .targets import ARCHES, PYTHONS
    from .training import ESTIMATORS, TASKS

    parser = _Parser(
        prog="sklambda",
        description="Turn scikit-learn models into small, verified AWS Lambda services.",
    )
    parser.add_argument("--version", action="version", version=f"sklambda {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train a model from a SQL table into a bundle")
    train.add_argument("--db", required=True, help="SQLite file path or SQLAlchemy URL")
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--table", help="table to train on")
    source.add_argument("--query", help="SELECT whose rows to train on")
    train.add_argument("--target", required=True, help="column to predict")
    train.add_argument("--out", required=True, type=Path, help="bundle directory to write")
    train.add_argument("--name", help="model name (default: the table or --out name)")
    train.add_argument(
        "--features", type=_csv_list, help="columns to use (default: all but the target)"
    )
    train.add_argument("--task", choices=TASKS, default="auto")
    train.add_argument("--estimator", choices=ESTIMATORS, default="linear")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--test-size", type=_fraction, default=0.2)
    train.add_argument("--format", choices=FORMATS, default="skops")
    train.add_argument(
        "--no-sample-data",
        action="store_true",
        help="store synthetic sample rows instead of real ones (private data)",
    )

    imp = commands.add_parser("import", help="turn pickled model (+ scaler) files into a bundle")
    imp.add_argument("--model", required=True, type=Path, help="pickle/joblib model file")
    imp.add_argument("--scaler", type=Path, help="pickle/joblib scaler applied before the model")
    imp.add_argument("--features", type=_csv_list, help="feature names in model order: a,b,c")
    imp.add_argument("--out", required=True, type=Path)
    imp.add_argument("--name")
    imp.add_argument(
        "--trust-pickle", action="store_true", help="allow unpickling (it runs code from the file)"
    )

    predict = commands.add_parser("predict", help="predict with a bundle, print JSON")
    predict.add_argument("bundle", type=Path)
    given = predict.add_mutually_exclusive_group(required=True)
    given.add_argument("--json", dest="request", help="request JSON, e.g. '{\"instances\": [...]}'")
    given.add_argument("--csv", type=Path, help="CSV file with a header row of feature names")
    predict.add_argument("--probabilities", action="store_true", help="add class probabilities")
    predict.add_argument("--trust-pickle", action="store_true", help="for joblib bundles")

    build = commands.add_parser("build", help="build and verify a Lambda package for a bundle")
    build.add_argument("bundle", type=Path)
    build.add_argument("--out", required=True, type=Path, help="package directory to write")
    build.add_argument("--runtime", choices=RUNTIMES, default="auto")
    build.add_argument("--python", choices=PYTHONS, default=None, help="Lambda Python version")
    build.add_argument("--arch", choices=ARCHES, default="x86_64")
    build.add_argument("--trust-pickle", action="store_true", help="for joblib bundles")
    build.add_argument(
        "--image",
        action="store_true",
        help="write a container-image build context (DIST/image/) instead of zips",
    )

    serve = commands.add_parser(
        "serve", help="run a package (or a bundle) as a local Lambda function URL, no Docker"
    )
    serve.add_argument("dist", type=Path, help="package directory (or a bundle: built first)")
    serve.add_argument("--host", default="127.0.0.1", help="a loopback address")
    serve.add_argument("--port", type=int, default=9000)
    serve.add_argument("--concurrency", type=int, default=4)
    serve.add_argument("--memory", type=int, default=1024, help="MB, 128-10240")
    serve.add_argument("--timeout", type=float, default=30, help="seconds per invoke")

    invoke = commands.add_parser("invoke", help="run one request in a fresh local environment")
    invoke.add_argument("dist", type=Path, help="package directory (or a bundle: built first)")
    request = invoke.add_mutually_exclusive_group(required=True)
    request.add_argument(
        "--json", dest="request", help="request body, sent as POST / over a function URL"
    )
    request.add_argument("--event", type=Path, help="a Lambda event JSON file, sent as is")
    invoke.add_argument("--memory", type=int, default=1024, help="MB, 128-10240")
    invoke.add_argument("--timeout", type=float, default=30, help="seconds")

    info = commands.add_parser("info", help="show a bundle's model card")
    info.add_argument("bundle", type=Path)
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")

    from .aws.commands import add_parsers

    COMMANDS.update(add_parsers(commands, _Parser))
    return parser


def _cmd_train(args: argparse.Namespace) -> int:
    from .console import err_console, metrics_table, out_console, progress
    from .training import train

    with progress(f"training {args.estimator} on {args.table or 'query'}…"):
        result = train(
            args.db,
            table=args.table,
            query=args.query,
            target=args.target,
            out=args.out,
            name=args.name,
            features=args.features,
            task=args.task,
            estimator=args.estimator,
            seed=args.seed,
            test_size=args.test_size,
            format=args.format,
            sample_data=not args.no_sample_data,
        )
    manifest = result.manifest
    out = out_console()
    out.print(
        f"[bold]{manifest['name']}[/bold]: {manifest['task']} with "
        f"{len(manifest['features'])} features → {result.bundle}"
    )
    out.print(metrics_table(result.metrics))
    for note in result.notes:
        err_console().print(f"[yellow]note:[/yellow] {note}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from .legacy import import_legacy

    manifest = import_legacy(
        args.model,
        scaler=args.scaler,
        features=args.features,
        out=args.out,
        name=args.name,
        trust_pickle=args.trust_pickle,
    )
    names = [f["name"] for f in manifest["features"]]
    print(f"{manifest['name']}: {manifest['task']} with features {names} → {args.out}")
    return 0


def _csv_request(path: Path, manifest: dict[str, Any], probabilities: bool) -> dict[str, Any]:
    """A CSV file as a request: numbers parsed per the manifest, empty cells as null."""
    import csv

    from .errors import SklambdaError
    from .runtime.contract import RequestError

    if not path.is_file():
        raise SklambdaError(f"CSV file not found: {path}")
    kinds = {f["name"]: f["type"] for f in manifest["features"]}
    rows = []
    with path.open(newline="") as handle:
        for line, record in enumerate(csv.DictReader(handle), start=2):
            row: dict[str, Any] = {}
            for key, text in record.items():
                if key is None:
                    raise RequestError(
                        "wrong_length", f"{path.name} line {line}: more values than header columns"
                    )
                if text is None or text == "":
                    row[key] = None
                elif kinds.get(key) == "number":
                    try:
                        row[key] = float(text)
                    except ValueError:
                        raise RequestError(
                            "invalid_type",
                            f'{path.name} line {line}, column "{key}": "{text}" is not a number',
                            field=key,
                        ) from None
                else:
                    row[key] = text
            rows.append(row)
    request: dict[str, Any] = {"instances": rows}
    if probabilities:
        request["return_probabilities"] = True
    return request


def _cmd_predict(args: argparse.Namespace) -> int:
    import warnings

    from .bundle import load
    from .runtime.contract import parse_json

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load(args.bundle, trust_pickle=args.trust_pickle)
    for warning in caught:
        print(f"sklambda: warning: {warning.message}", file=sys.stderr)
    if args.csv is not None:
        request = _csv_request(args.csv, model.manifest, args.probabilities)
    else:
        request = parse_json(args.request)
        if args.probabilities and isinstance(request, dict):
            request["return_probabilities"] = True
    print(json.dumps(model.respond(request)))
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from .building import build
    from .console import build_table, out_console, progress

    with progress(f"building and verifying {args.bundle}…"):
        result = build(
            args.bundle,
            args.out,
            runtime=args.runtime,
            python=args.python,
            arch=args.arch,
            trust_pickle=args.trust_pickle,
            image=args.image,
        )
    console = out_console()
    for part in build_table(result.report):
        console.print(part)
    console.print(f"package: {result.dist}")
    return 0


def _package(path: Path, stack: Any) -> Path:
    """A package directory; a bundle is built (and verified) into a temporary one first."""
    import tempfile

    from .building import build
    from .bundle import MANIFEST
    from .console import progress

    if not (path / MANIFEST).is_file():
        return path
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sklambda-serve-")))
    with progress(f"building {path} first…"):
        return build(path, tmp / "dist").dist


def _print_log(line: Any) -> None:
    if line.stream == "platform" and line.text.startswith("REPORT"):
        print(line.text, file=sys.stderr, flush=True)


def _cmd_serve(args: argparse.Namespace) -> int:
    import contextlib
    import signal
    import threading

    from .local import serve

    with contextlib.ExitStack() as stack:
        dist = _package(args.dist, stack)
        server = stack.enter_context(
            serve(
                dist,
                host=args.host,
                port=args.port,
                concurrency=args.concurrency,
                memory=args.memory,
                timeout=args.timeout,
                on_log=_print_log,
            )
        )
        print(f"function URL: {server.url}  (Ctrl-C stops it)", flush=True)
        print(
            f"  curl -s {server.url} -H 'content-type: application/json' "
            "-d '{\"instances\": [...]}'",
            flush=True,
        )
        stop = threading.Event()
        # SIGTERM (service managers, `kill`) must shut environments down like Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


def _cmd_invoke(args: argparse.Namespace) -> int:
    import contextlib
    import uuid

    from .errors import SklambdaError
    from .local import LocalFunction
    from .local.url_events import build_event, result_to_response

    if args.event is not None:
        if not args.event.is_file():
            raise SklambdaError(f"event file not found: {args.event}")
        try:
            event = json.loads(args.event.read_text())
        except json.JSONDecodeError as exc:
            raise SklambdaError(f"{args.event} is not valid JSON ({exc})") from None
    else:
        event = build_event(
            method="POST",
            target="/",
            protocol="HTTP/1.1",
            headers=[("content-type", "application/json"), ("host", "localhost")],
            body=args.request.encode(),
            source_ip="127.0.0.1",
            request_id=str(uuid.uuid4()),
            trace_id=f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}",
        )
    with contextlib.ExitStack() as stack:
        dist = _package(args.dist, stack)
        function = stack.enter_context(
            LocalFunction(dist, memory=args.memory, timeout=args.timeout, concurrency=1)
        )
        result = function.invoke(event)
    if args.event is None and result.error is None:
        response = result_to_response(result.raw)
        print(f"HTTP {response.status}", file=sys.stderr)
        print(response.body.decode("utf-8", "replace"))
    else:
        print(json.dumps(result.payload))
    print(result.report.line, file=sys.stderr)
    return 1 if result.error else 0


def _cmd_info(args: argparse.Namespace) -> int:
    from .bundle import read_manifest
    from .console import model_card, out_console

    manifest = read_manifest(args.bundle)
    if args.json:
        print(json.dumps(manifest, indent=2))
        return 0
    console = out_console()
    for part in model_card(manifest):
        console.print(part)
    return 0


COMMANDS: dict[str, Any] = {
    "train": _cmd_train,
    "import": _cmd_import,
    "predict": _cmd_predict,
    "build": _cmd_build,
    "serve": _cmd_serve,
    "invoke": _cmd_invoke,
    "info": _cmd_info,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    from .errors import SklambdaError
    from .runtime.contract import RequestError

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except SklambdaError as exc:
        print(f"sklambda {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RequestError as exc:
        where = f" [{exc.field}]" if exc.field else ""
        print(f"sklambda {args.command}: error: {exc.code}{where}: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
