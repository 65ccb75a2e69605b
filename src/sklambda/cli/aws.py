"""The deploy commands of the CLI: ``deploy``, ``status``, ``rollback``, ``destroy``, ``export``.

``add_parsers`` adds them to the CLI's subparsers and returns their handlers, so ``sklambda.cli``
wires them with one call. Handlers are thin: they parse flags into the functions of
:mod:`sklambda.aws` and print; errors propagate as :class:`~sklambda.errors.SklambdaError`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sklambda.cli.monitor import add_deploy_flags, monitor_options
from sklambda.cli.parsing import env_pair

Handler = Callable[[argparse.Namespace], int]
DEFAULT_MEMORY_MB = 1024


def _aws_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / your profile's)")
    parser.add_argument(
        "--endpoint-url", help="an AWS-compatible endpoint (moto, LocalStack) instead of AWS"
    )


def _shape_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--memory",
        type=int,
        help="MB, 128-10240 (default: what `sklambda tune --apply` chose, else 1024)",
    )
    parser.add_argument("--timeout", type=int, default=30, help="seconds, 1-900 (default 30)")
    parser.add_argument(
        "--arch", choices=("x86_64", "arm64"), help="default: what the package was built for"
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="function URL without auth (AuthType NONE); default AWS_IAM (SigV4-signed callers)",
    )
    parser.add_argument(
        "--env",
        type=env_pair,
        action="append",
        default=[],
        metavar="K=V",
        help="environment variable (repeatable)",
    )


def add_parsers(subparsers: Any, parser_class: type[argparse.ArgumentParser]) -> dict[str, Handler]:
    """Add the deploy commands to ``subparsers``; returns ``{command: handler}``.

    Parameters
    ----------
    subparsers:
        What ``ArgumentParser.add_subparsers`` returned.
    parser_class:
        The parser class for nested subcommands (``export sam`` / ``export serverless``).
    """
    deploy = subparsers.add_parser(
        "deploy", help="deploy a package to AWS Lambda behind a function URL"
    )
    deploy.add_argument("dist", type=Path, help="package directory from `sklambda build`")
    deploy.add_argument("--name", required=True, help="Lambda function name")
    _aws_flags(deploy)
    _shape_flags(deploy)
    deploy.add_argument("--role-arn", help="execution role to use (default: one sklambda creates)")
    deploy.add_argument(
        "--s3-bucket", help="bucket for artifacts over 50 MiB zipped (created if missing)"
    )
    deploy.add_argument(
        "--image-uri", help="container image (ECR) to deploy, for packages built as an image"
    )
    deploy.add_argument(
        "--adopt",
        action="store_true",
        help="take over a same-named function that sklambda did not create",
    )
    add_deploy_flags(deploy)

    status = subparsers.add_parser("status", help="show a deployed function")
    status.add_argument("name", help="the function name given to deploy")
    _aws_flags(status)
    status.add_argument("--json", action="store_true", help="print JSON")

    rollback = subparsers.add_parser("rollback", help="point alias live at an earlier version")
    rollback.add_argument("name", help="the function name given to deploy")
    rollback.add_argument("--to", metavar="VERSION", help="default: the version before live's")
    _aws_flags(rollback)

    destroy = subparsers.add_parser(
        "destroy", help="remove a deployed function and what sklambda created for it"
    )
    destroy.add_argument("name", help="the function name given to deploy")
    _aws_flags(destroy)

    export = subparsers.add_parser("export", help="write a SAM template or a serverless.yml")
    kinds = export.add_subparsers(dest="kind", required=True, parser_class=parser_class)
    for kind, what in (("sam", "template.yaml (AWS SAM)"), ("serverless", "serverless.yml")):
        sub = kinds.add_parser(kind, help=f"write {what}")
        sub.add_argument("dist", type=Path, help="package directory from `sklambda build`")
        sub.add_argument("--name", required=True, help="Lambda function name")
        sub.add_argument(
            "--out", type=Path, help="directory to write (default: the package directory)"
        )
        _shape_flags(sub)
        add_deploy_flags(sub)

    return {
        "deploy": cmd_deploy,
        "status": cmd_status,
        "rollback": cmd_rollback,
        "destroy": cmd_destroy,
        "export": cmd_export,
    }


def _memory(args: argparse.Namespace) -> int:
    """``--memory``, else the size ``sklambda tune --apply`` chose for the package, else 1024."""
    if args.memory is not None:
        return int(args.memory)
    from sklambda.benchmarking.tuning import tuned_memory

    tuned = tuned_memory(args.dist)
    if tuned is None:
        return DEFAULT_MEMORY_MB
    import sys

    print(f"memory: {tuned} MB, chosen by sklambda tune (--memory overrides)", file=sys.stderr)
    return tuned


def _client(args: argparse.Namespace) -> Any:
    from sklambda.aws.client import AwsClient

    return AwsClient(region=args.region, endpoint_url=args.endpoint_url)


def cmd_deploy(args: argparse.Namespace) -> int:
    from sklambda.aws.deployer import DeployOptions, deploy
    from sklambda.cli.console import err_console, spinner

    options = DeployOptions(
        memory=_memory(args),
        timeout=args.timeout,
        arch=args.arch,
        public=args.public,
        role_arn=args.role_arn,
        s3_bucket=args.s3_bucket,
        env=dict(args.env),
        adopt=args.adopt,
        image_uri=args.image_uri,
        monitoring=monitor_options(args),
    )
    console = err_console()
    with spinner(f"deploying {args.name}…") as progress:
        result = deploy(
            _client(args),
            args.dist,
            args.name,
            options,
            on_action=lambda said: console.print(f"  {said}"),
            on_progress=progress.update,
        )
    print(f"{result.name}: version {result.version} is live at")
    print(f"  {result.url}  (auth {result.auth_type})")
    print("try it:")
    print(f"  {result.example_command()}")
    if result.auth_type == "AWS_IAM":
        print(
            "  (callers sign with SigV4 and need lambda:InvokeFunctionUrl and "
            "lambda:InvokeFunction on the function; `pip install awscurl`)"
        )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from sklambda.aws.versions import status
    from sklambda.cli.console import out_console
    from sklambda.cli.monitor import print_health
    from sklambda.monitor.watch import health

    client = _client(args)
    info = status(client, args.name)
    watched = health(client, args.name)
    if args.json:
        document = {**info.to_dict(), "monitoring": watched.to_dict()}
        print(json.dumps(document, indent=2, default=str))
        return 0
    import base64

    from rich.table import Table

    # Plain lines, so a URL is never wrapped or cropped by the table layout.
    rows = [
        ("function", f"{info.name} ({info.region})"),
        ("live", f"version {info.live_version}" if info.live_version else "no alias"),
        ("URL", f"{info.url} (auth {info.auth_type})" if info.url else "none"),
        ("public grants", ", ".join(info.public_permissions) or "none"),
        ("runtime", f"{info.runtime} on {info.arch}"),
        ("memory / timeout", f"{info.memory} MB / {info.timeout} s"),
        ("code size", f"{info.code_size:,} bytes"),
        ("last update", f"{info.last_modified} ({info.last_update_status})"),
        (
            "model",
            f"{info.tags.get('sklambda:model', '?')} "
            f"{info.tags.get('sklambda:model-version', '')}".strip(),
        ),
    ]
    if not info.managed:
        rows.append(("note", "not created by sklambda"))
    for key, value in rows:
        print(f"{key:<17} {value}")
    versions = Table(title="versions", title_justify="left")
    for column in ("version", "code sha256", "published"):
        versions.add_column(column)
    for v in info.versions:
        mark = " ← live" if v.version == info.live_version else ""
        try:
            digest = base64.b64decode(v.code_sha256).hex()[:12]
        except ValueError:
            digest = v.code_sha256[:12]
        versions.add_row(f"{v.version}{mark}", digest, v.last_modified)
    out_console().print(versions)
    print_health(watched)
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from sklambda.aws.versions import rollback

    result = rollback(_client(args), args.name, args.to)
    if result.from_version == result.to_version:
        print(f"{result.name}: live already at version {result.to_version}")
    else:
        print(
            f"{result.name}: live moved from version {result.from_version} to {result.to_version}"
        )
    return 0


def cmd_destroy(args: argparse.Namespace) -> int:
    from sklambda.aws.teardown import destroy

    result = destroy(_client(args), args.name)
    if not result.actions:
        print(f"{result.name}: nothing of sklambda's to remove")
    for action in result.actions:
        print(f"  {action}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from sklambda.aws.deployer import DeployOptions
    from sklambda.aws.templates import export

    options = DeployOptions(
        memory=_memory(args),
        timeout=args.timeout,
        arch=args.arch,
        public=args.public,
        env=dict(args.env),
        monitoring=monitor_options(args),
    )
    path = export(args.kind, args.dist, args.name, args.out, options)
    print(f"wrote {path}")
    return 0
