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


def _aws_flags(parser: argparse._ActionsContainer) -> None:
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / your profile's)")
    parser.add_argument("--profile", help="named AWS profile (default: AWS_PROFILE / the chain)")
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


def count_or_off(text: str) -> int:
    """``N`` (0 or more) or ``off`` (0: remove the setting)."""
    if text.strip().lower() == "off":
        return 0
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected a count or "off", got {text!r}') from None
    if value < 0:
        raise argparse.ArgumentTypeError(f'expected a count or "off", got {text!r}')
    return value


def _operating_flags(parser: argparse.ArgumentParser) -> None:
    """Warm starts and concurrency (``None``: what is deployed stays as it is)."""
    group = parser.add_argument_group("warm starts and concurrency")
    group.add_argument(
        "--keep-warm",
        metavar="PERIOD",
        help="ping alias live on a schedule (5m, 15m, 1h) so environments stay warm; off removes",
    )
    group.add_argument(
        "--keep-warm-concurrency",
        type=int,
        default=1,
        metavar="N",
        help="N parallel pings per period keep N environments warm (default 1, at most 50)",
    )
    group.add_argument(
        "--provisioned",
        type=count_or_off,
        metavar="N",
        help="provisioned concurrency on live (waits until READY; billed while idle); off removes",
    )
    group.add_argument(
        "--max-concurrency",
        type=count_or_off,
        metavar="N",
        help="reserved concurrency: at most N at once, the URL answers 429 beyond; off removes",
    )
    group.add_argument(
        "--snapstart",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="SnapStart on published versions (python3.12+ zip; not with --provisioned)",
    )
    group.add_argument(
        "--canary",
        type=float,
        metavar="PERCENT",
        help="the new version gets PERCENT of live, the rest stays (promote/rollback ends it)",
    )
    cors = parser.add_argument_group("browsers (CORS)")
    cors.add_argument(
        "--cors-origin",
        action="append",
        metavar="URL",
        help="an origin that may call the URL from a browser, e.g. https://app.example.com "
        "(repeatable; '*' only with --public)",
    )
    cors.add_argument("--no-cors", action="store_true", help="remove the URL's CORS configuration")


def _operating_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``DeployOptions`` fields of :func:`_operating_flags`."""
    from sklambda.errors import SklambdaError

    if args.no_cors and args.cors_origin:
        raise SklambdaError("--cors-origin and --no-cors contradict each other; pass one")
    origins = () if args.no_cors else (tuple(args.cors_origin) if args.cors_origin else None)
    return {
        "keep_warm": args.keep_warm,
        "keep_warm_concurrency": args.keep_warm_concurrency,
        "provisioned": args.provisioned,
        "max_concurrency": args.max_concurrency,
        "snapstart": args.snapstart,
        "cors_origins": origins,
        "canary": getattr(args, "canary", None),
    }


def add_remote_flags(invoke: argparse.ArgumentParser) -> None:
    """``invoke NAME --remote [--via url|invoke]`` (the local ``invoke`` command's AWS side)."""
    group = invoke.add_argument_group("calling the deployed function (--remote)")
    group.add_argument(
        "--remote",
        action="store_true",
        help="DIST is a deployed function's NAME: call it on AWS (SigV4-signed, no awscurl)",
    )
    group.add_argument(
        "--via",
        choices=("url", "invoke"),
        default="url",
        help="url: POST to its function URL (default); invoke: the Lambda Invoke API "
        "(prints the REPORT line)",
    )
    group.add_argument("--url", help="with --via url: call this URL instead of the one on live")
    _aws_flags(group)


def cmd_invoke_remote(args: argparse.Namespace) -> int:
    """``sklambda invoke NAME --remote``: status on stderr, body on stdout, REPORT on stderr."""
    import sys

    from sklambda.aws.remote import csv_request, invoke_remote, json_request
    from sklambda.errors import SklambdaError

    if getattr(args, "event", None) is not None:
        raise SklambdaError("--event is for local invokes; with --remote pass --json or --csv")
    from sklambda.cli.local import exit_code
    from sklambda.cli.models import request_text

    if args.csv is not None:
        body = csv_request(args.csv)
    else:
        body = json_request(request_text(args.request))
    client = _client(args)
    response = invoke_remote(client, str(args.dist), body, via=args.via, url=args.url)
    error = f", {response.function_error}" if response.function_error else ""
    print(f"HTTP {response.status}{error} ({response.via}: {response.target})", file=sys.stderr)
    print(response.body.decode("utf-8", "replace"))
    if response.report:
        print(response.report, file=sys.stderr)
    if response.function_error:
        return 1
    return exit_code(response.status)  # 2xx: 0, 4xx: 2, 5xx: 1 (as the local invoke)


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
        "--create-repository",
        action="store_true",
        help="with --image-uri: create the ECR repository if missing (then push, deploy again)",
    )
    deploy.add_argument(
        "--adopt",
        action="store_true",
        help="take over a same-named function that sklambda did not create",
    )
    deploy.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be created, updated or left alone, and change nothing",
    )
    _operating_flags(deploy)
    add_deploy_flags(deploy)

    status = subparsers.add_parser("status", help="show a deployed function")
    status.add_argument("name", help="the function name given to deploy")
    _aws_flags(status)
    status.add_argument("--json", action="store_true", help="print JSON")

    rollback = subparsers.add_parser(
        "rollback", help="point alias live at an earlier version (or end a canary)"
    )
    rollback.add_argument("name", help="the function name given to deploy")
    rollback.add_argument("--to", metavar="VERSION", help="default: the version before live's")
    _aws_flags(rollback)

    promote = subparsers.add_parser(
        "promote", help="end a canary: all of alias live to the canary's version"
    )
    promote.add_argument("name", help="the function name given to deploy")
    _aws_flags(promote)

    destroy = subparsers.add_parser(
        "destroy", help="remove a deployed function and what sklambda created for it"
    )
    destroy.add_argument("name", help="the function name given to deploy")
    destroy.add_argument(
        "--yes", action="store_true", help="do not ask (required when not on a terminal)"
    )
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
        _operating_flags(sub)
        add_deploy_flags(sub)

    return {
        "deploy": cmd_deploy,
        "status": cmd_status,
        "rollback": cmd_rollback,
        "promote": cmd_promote,
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

    return AwsClient(
        region=args.region, profile=getattr(args, "profile", None), endpoint_url=args.endpoint_url
    )


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
        create_repository=args.create_repository,
        monitoring=monitor_options(args),
        **_operating_options(args),
    )
    client = _client(args)
    if args.dry_run:
        from sklambda.aws.deployer import dry_run

        lines = dry_run(client, args.dist, args.name, options)
        print(f"{args.name} in {client.region}: dry run, nothing changed; deploy would")
        for line in lines:
            print(f"  {line}")
        return 0
    console = err_console()
    with spinner(f"deploying {args.name}…") as progress:
        result = deploy(
            client,
            args.dist,
            args.name,
            options,
            on_action=lambda said: console.print(f"  {said}"),
            on_progress=progress.update,
        )
    if result.canary is not None:
        print(
            f"{result.name}: version {result.version} gets {result.canary:g}% of live (canary), "
            f"version {result.previous_version} the rest; `sklambda promote {result.name}` "
            f"sends it all, `sklambda rollback {result.name}` none"
        )
    print(f"{result.name}: version {result.version} is live at")
    print(f"  {result.url}  (auth {result.auth_type})")
    print("try it:")
    profile = f" --profile {args.profile}" if args.profile else ""
    print(f"  {result.example_command()}{profile}")
    if result.auth_type == "AWS_IAM":
        print(
            "  (signed with SigV4 from your credentials; callers need lambda:InvokeFunctionUrl "
            "and lambda:InvokeFunction on the function)"
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
    operating = info.operating or {}
    warm = operating.get("keep_warm")
    rows.append(
        (
            "keep-warm",
            f"{warm['pings']} pings {warm['schedule']}"
            if isinstance(warm, dict)
            else str(warm or "off"),
        )
    )
    provisioned = operating.get("provisioned")
    rows.append(
        (
            "concurrency",
            f"reserved {operating.get('reserved_concurrency') or 'none'}, provisioned "
            + (
                f"{provisioned['requested']} ({provisioned['status']})"
                if isinstance(provisioned, dict)
                else str(provisioned or "none")
            )
            + f", SnapStart {operating.get('snapstart', 'None')}",
        )
    )
    cors = operating.get("cors")
    if cors:
        rows.append(("CORS origins", ", ".join(cors.get("AllowOrigins") or [])))
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


def cmd_promote(args: argparse.Namespace) -> int:
    from sklambda.aws.versions import promote

    result = promote(_client(args), args.name)
    print(f"{result.name}: live moved from version {result.from_version} to {result.to_version}")
    return 0


def confirm_destroy(name: str, region: str, yes: bool) -> None:
    """Go on only with ``--yes``, or when the user types the name on a terminal."""
    import sys

    from sklambda.aws.errors import NotConfirmedError

    if yes:
        return
    if not sys.stdin.isatty():
        raise NotConfirmedError(
            f"destroy deletes {name} in {region} (its URL, versions, layer, role, schedule and "
            "alarms): pass --yes to confirm when not on a terminal"
        )
    print(
        f"destroy deletes {name} in {region}: its URL, versions, layer, role, keep-warm "
        "schedule and alarms (the log group stays).",
        file=sys.stderr,
    )
    try:
        answer = input(f"type {name} to confirm: ")
    except EOFError:
        answer = ""
    if answer.strip() != name:
        raise NotConfirmedError(f"not confirmed: {name} is left as it is")


def cmd_destroy(args: argparse.Namespace) -> int:
    from sklambda.aws.teardown import destroy

    client = _client(args)
    confirm_destroy(args.name, client.region, args.yes)
    result = destroy(client, args.name)
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
        **_operating_options(args),
    )
    path = export(args.kind, args.dist, args.name, args.out, options)
    print(f"wrote {path}")
    return 0
