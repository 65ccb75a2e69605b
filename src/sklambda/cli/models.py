"""The model commands: ``train``, ``import``, ``predict``, ``info``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sklambda.cli.parsing import csv_list, fraction

Handler = Any


def add_parsers(commands: Any) -> dict[str, Handler]:
    """Add the model commands to ``commands`` (argparse subparsers); returns their handlers."""
    from sklambda.bundle.persistence import FORMATS
    from sklambda.training import ESTIMATORS, TASKS, UNKNOWN_CATEGORY

    train = commands.add_parser("train", help="train a model from a SQL table into a bundle")
    train.add_argument("--db", required=True, help="SQLite file path or SQLAlchemy URL")
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--table", help="table to train on")
    source.add_argument("--query", help="SELECT whose rows to train on")
    train.add_argument("--target", required=True, help="column to predict")
    train.add_argument("--out", required=True, type=Path, help="bundle directory to write")
    train.add_argument("--name", help="model name (default: the table or --out name)")
    train.add_argument(
        "--features",
        type=csv_list,
        help="columns to use, a,b,c (default: all but the target, less empty, constant and "
        "ID-like columns; naming them overrides those choices)",
    )
    train.add_argument(
        "--task",
        choices=TASKS,
        default="auto",
        help="auto: regression for numbers with fractions or many values, else classification "
        "(the choice and its reason are printed)",
    )
    train.add_argument(
        "--estimator",
        choices=ESTIMATORS,
        default="linear",
        help="the model; linear is LinearRegression or LogisticRegression, scaled",
    )
    train.add_argument("--seed", type=int, default=0, help="randomness of split and estimator")
    train.add_argument(
        "--test-size", type=fraction, default=0.2, help="share of rows held out for the metrics"
    )
    train.add_argument(
        "--format",
        choices=FORMATS,
        default="skops",
        help="model file format: skops is safe to load; joblib is a pickle",
    )
    train.add_argument(
        "--unknown-category",
        choices=UNKNOWN_CATEGORY,
        default="error",
        help="a category training never saw: error = 400 unknown_category; ignore = encode it "
        "as the group of rare categories (fewer than 5 rows), or as none",
    )
    train.add_argument(
        "--no-sample-data",
        action="store_true",
        help="store synthetic sample rows instead of real ones (private data)",
    )

    imp = commands.add_parser("import", help="turn pickled model (+ scaler) files into a bundle")
    imp.add_argument("--model", required=True, type=Path, help="pickle/joblib model file")
    imp.add_argument("--scaler", type=Path, help="pickle/joblib scaler applied before the model")
    imp.add_argument("--features", type=csv_list, help="feature names in model order: a,b,c")
    imp.add_argument("--out", required=True, type=Path, help="bundle directory to write")
    imp.add_argument("--name", help="model name (default: the --out name)")
    imp.add_argument(
        "--trust-pickle", action="store_true", help="allow unpickling (it runs code from the file)"
    )
    imp.add_argument(
        "--trust-type",
        action="append",
        default=[],
        metavar="MODULE.NAME",
        help="a type or function of your own inside the model that you vouch for (repeatable; "
        "recorded in the bundle for later commands on this machine)",
    )

    predict = commands.add_parser("predict", help="predict with a bundle, print JSON")
    predict.add_argument("bundle", type=Path, help="bundle directory (sklambda train)")
    given = predict.add_mutually_exclusive_group(required=True)
    given.add_argument(
        "--json",
        dest="request",
        help="request JSON, e.g. '{\"instances\": [...]}'; @FILE reads a file, - reads stdin",
    )
    given.add_argument("--csv", type=Path, help="CSV file with a header row of feature names")
    predict.add_argument(
        "--out",
        type=Path,
        help="with --csv: write the CSV's rows with prediction (and probability) columns here",
    )
    predict.add_argument(
        "--ignore-extra",
        action="store_true",
        help="with --csv: ignore columns the model does not use (a target, an ID)",
    )
    predict.add_argument("--probabilities", action="store_true", help="add class probabilities")
    predict.add_argument("--trust-pickle", action="store_true", help="for joblib bundles")
    predict.add_argument(
        "--trust-type",
        action="append",
        default=[],
        metavar="MODULE.NAME",
        help="a type or function of your own inside the model that you vouch for (repeatable; "
        "recorded in the bundle for later commands on this machine)",
    )

    info = commands.add_parser("info", help="show a bundle's model card")
    info.add_argument("bundle", type=Path, help="bundle directory (sklambda train)")
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")
    return {"train": cmd_train, "import": cmd_import, "predict": cmd_predict, "info": cmd_info}


def cmd_train(args: argparse.Namespace) -> int:
    from sklambda.cli.console import err_console, metrics_table, out_console, progress
    from sklambda.training import train

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
            unknown_category=args.unknown_category,
        )
    manifest = result.manifest
    out = out_console()
    for decision in result.decisions:
        out.print(f"  {decision}", markup=False, highlight=False)
    out.print(
        f"[bold]{manifest['name']}[/bold]: {manifest['task']} with "
        f"{len(manifest['features'])} features → {result.bundle}"
    )
    out.print(metrics_table(result.metrics))
    for note in result.notes:
        err_console().print(f"[yellow]note:[/yellow] {note}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from sklambda.bundle.legacy import import_legacy

    manifest = import_legacy(
        args.model,
        scaler=args.scaler,
        features=args.features,
        out=args.out,
        name=args.name,
        trust_pickle=args.trust_pickle,
        trusted_types=args.trust_type,
    )
    names = [f["name"] for f in manifest["features"]]
    print(f"{manifest['name']}: {manifest['task']} with features {names} → {args.out}")
    return 0


class CsvInput:
    """A CSV file read as a request: its header, its raw records, and the request."""

    def __init__(self, header: list[str], records: list[list[str]], request: dict[str, Any]):
        self.header = header
        self.records = records
        self.request = request


def read_csv(
    path: Path, manifest: Mapping[str, Any], probabilities: bool, ignore_extra: bool = False
) -> CsvInput:
    """A CSV file as a request: numbers parsed per the manifest, empty cells as null.

    Columns the model does not use are refused (naming ``--ignore-extra``) unless
    ``ignore_extra``, when they are left out of the request (and kept in :attr:`records`).
    """
    import csv

    from sklambda.errors import SklambdaError
    from sklambda.runtime.contract import RequestError

    if not path.is_file():
        raise SklambdaError(f"CSV file not found: {path}")
    # Date features go to the contract as written: it reads ISO text (and numbers) for them.
    kinds = {f["name"]: "date" if f.get("date") else f["type"] for f in manifest["features"]}
    rows = []
    records: list[list[str]] = []
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        extra = [name for name in header if name not in kinds]
        if extra and not ignore_extra:
            raise RequestError(
                "unknown_feature",
                f'{path.name}: column "{extra[0]}" is not a feature of the model (it takes '
                f"{list(kinds)}); pass --ignore-extra to leave such columns (a target, an ID) out",
                field=extra[0],
            )
        used = [(i, name) for i, name in enumerate(header) if name in kinds]
        for line, record in enumerate(reader, start=2):
            if len(record) > len(header):
                raise RequestError(
                    "wrong_length", f"{path.name} line {line}: more values than header columns"
                )
            record = record + [""] * (len(header) - len(record))
            row: dict[str, Any] = {}
            for i, key in used:
                text = record[i]
                if text == "":
                    row[key] = None
                elif kinds[key] == "number":
                    try:
                        row[key] = float(text)
                    except ValueError:
                        raise RequestError(
                            "invalid_type",
                            f'{path.name} line {line}, column "{key}": "{text}" is not a number',
                            field=key,
                        ) from None
                elif kinds.get(key) == "date":
                    try:
                        row[key] = float(text)  # days since 1970-01-01
                    except ValueError:
                        row[key] = text  # ISO text, read by the contract
                else:
                    row[key] = text
            rows.append(row)
            records.append(record)
    request: dict[str, Any] = {"instances": rows}
    if probabilities:
        request["return_probabilities"] = True
    return CsvInput(header, records, request)


def request_text(given: str) -> str:
    """``--json``'s value: the JSON itself, ``@FILE`` to read a file, ``-`` to read stdin."""
    from sklambda.errors import SklambdaError

    if given == "-":
        return sys.stdin.read()
    if given.startswith("@"):
        path = Path(given[1:])
        if not path.is_file():
            raise SklambdaError(f"request file not found: {path} (from --json {given})")
        return path.read_text(encoding="utf-8")
    return given


def write_csv_out(
    out: Path, given: CsvInput, body: dict[str, Any], classes: list[Any] | None
) -> None:
    """The input rows with a ``prediction`` column (and ``probability_<class>`` columns)."""
    import csv

    labels = [str(c) for c in classes or []] if "probabilities" in body else []
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*given.header, "prediction", *(f"probability_{c}" for c in labels)])
        probabilities = body.get("probabilities") or [{}] * len(given.records)
        for record, prediction, proba in zip(
            given.records, body["predictions"], probabilities, strict=True
        ):
            writer.writerow([*record, prediction, *(proba[c] for c in labels)])


def print_warnings(body: dict[str, Any]) -> None:
    """A response's range warnings, one line each on stderr."""
    for warning in body.get("warnings", []):
        what = (
            "outside the training range"
            if warning["kind"] == "out_of_range"
            else "an unknown category (encoded as none of the known ones)"
        )
        print(
            f"sklambda: warning: row {warning['row']}: {warning['feature']} = "
            f"{warning['value']!r} is {what}; trained on {warning['expected']}",
            file=sys.stderr,
        )


def cmd_predict(args: argparse.Namespace) -> int:
    import warnings

    from sklambda.bundle.store import load
    from sklambda.errors import SklambdaError
    from sklambda.runtime.contract import parse_json

    if (args.out is not None or args.ignore_extra) and args.csv is None:
        raise SklambdaError("--out and --ignore-extra go with --csv")
    text = request_text(args.request) if args.request is not None else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load(args.bundle, trust_pickle=args.trust_pickle, trusted_types=args.trust_type)
    for warning in caught:
        print(f"sklambda: warning: {warning.message}", file=sys.stderr)
    given: CsvInput | None = None
    if args.csv is not None:
        given = read_csv(args.csv, model.manifest, args.probabilities, args.ignore_extra)
        request: Any = given.request
    else:
        request = parse_json(text or "")
        if args.probabilities and isinstance(request, dict):
            request["return_probabilities"] = True
    body = model.respond(request)
    print_warnings(body)
    if given is not None and args.out is not None:
        write_csv_out(args.out, given, body, model.classes)
        print(f"{len(given.records)} rows → {args.out}", file=sys.stderr)
        return 0
    print(json.dumps(body))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from sklambda.bundle.format import read_manifest
    from sklambda.cli.console import model_card, out_console

    manifest = read_manifest(args.bundle)
    if args.json:
        print(json.dumps(manifest, indent=2))
        return 0
    console = out_console()
    for part in model_card(manifest):
        console.print(part)
    return 0
