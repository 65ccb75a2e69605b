"""The ``build`` command: a bundle → a verified Lambda package."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parsers(commands: Any) -> dict[str, Any]:
    """Add ``build`` to ``commands`` (argparse subparsers); returns its handler."""
    from sklambda.building.builder import RUNTIMES
    from sklambda.building.targets import ARCHES, PYTHON_CHOICES

    build = commands.add_parser("build", help="build and verify a Lambda package for a bundle")
    build.add_argument("bundle", type=Path, help="bundle directory (sklambda train / save)")
    build.add_argument("--out", required=True, type=Path, help="package directory to write")
    build.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="auto",
        help="lean: pure Python/numpy, small and fast to start; sklearn: a scikit-learn layer; "
        "auto: lean when it reproduces the model",
    )
    build.add_argument(
        "--python",
        choices=PYTHON_CHOICES,
        default="auto",
        help="Lambda Python version; auto: the newest with wheels of the versions the model "
        "was trained with (preferring one this machine can run, to ship bytecode)",
    )
    build.add_argument("--arch", choices=ARCHES, default="x86_64", help="Lambda architecture")
    build.add_argument("--trust-pickle", action="store_true", help="for joblib bundles")
    build.add_argument(
        "--trust-type",
        action="append",
        default=[],
        metavar="MODULE.NAME",
        help="a type or function of your own inside the model that you vouch for (repeatable; "
        "recorded in the bundle for later commands on this machine)",
    )
    build.add_argument(
        "--image",
        action="store_true",
        help="write a container-image build context (DIST/image/) instead of zips",
    )
    build.add_argument(
        "--numpy",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="lean trees: force the numpy form (--numpy) or the stdlib form (--no-numpy); "
        "default: build both and keep the faster, measured",
    )
    build.add_argument(
        "--batch-rows",
        type=int,
        default=1,
        help="rows per request the lean form is measured with (default 1)",
    )
    build.add_argument(
        "--model-from",
        choices=("auto", "package", "s3"),
        default="auto",
        help="s3: keep the model's files in S3, fetched and sha256-checked at INIT (auto: only "
        "when the package would pass 250 MB unzipped)",
    )
    build.add_argument(
        "--s3-bucket", help="with --model-from s3: the bucket deploy uploads the model to"
    )
    return {"build": cmd_build}


def cmd_build(args: argparse.Namespace) -> int:
    from sklambda.building.builder import build
    from sklambda.cli.console import build_table, out_console, progress

    with progress(f"building and verifying {args.bundle}…"):
        result = build(
            args.bundle,
            args.out,
            runtime=args.runtime,
            python=args.python,
            arch=args.arch,
            trust_pickle=args.trust_pickle,
            trusted_types=tuple(args.trust_type),
            image=args.image,
            numpy=args.numpy,
            batch_rows=args.batch_rows,
            model_from=args.model_from,
            s3_bucket=args.s3_bucket,
        )
    console = out_console()
    for part in build_table(result.report):
        console.print(part)
    chosen = result.report.get("target", {}).get("chosen")
    if chosen:
        console.print(f"--python auto: {chosen}", markup=False, highlight=False)
    console.print(f"package: {result.dist}")
    return 0
