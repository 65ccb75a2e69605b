"""The monitoring commands: ``logs`` and ``alerts`` (``telegram``, ``package``, ``test``,
``remove``), the ``--alarms`` / ``--log-retention-days`` flags of ``deploy`` and ``export``, and
the monitoring part of ``status``. Thin: flags into :mod:`sklambda.monitor`, results printed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Handler = Callable[[argparse.Namespace], int]


def _aws_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / your profile's)")
    parser.add_argument("--profile", help="named AWS profile (default: AWS_PROFILE / the chain)")
    parser.add_argument(
        "--endpoint-url", help="an AWS-compatible endpoint (moto, LocalStack) instead of AWS"
    )


def _client(args: argparse.Namespace) -> Any:
    from sklambda.aws.client import AwsClient

    return AwsClient(
        region=args.region, profile=getattr(args, "profile", None), endpoint_url=args.endpoint_url
    )


# -- deploy / export flags ------------------------------------------------------------------------


def add_deploy_flags(parser: argparse.ArgumentParser) -> None:
    """``--alarms [LIST]``, ``--log-retention-days D`` and the alarm thresholds."""
    from sklambda.monitor.options import ALARM_KINDS, DEFAULT_RETENTION_DAYS

    group = parser.add_argument_group("monitoring")
    group.add_argument(
        "--alarms",
        nargs="?",
        const="default",
        metavar="LIST",
        help=f"CloudWatch alarms to an SNS topic sklambda owns: default (all: "
        f"{', '.join(ALARM_KINDS)}), a comma-separated choice, or none to remove them; "
        "without the flag a redeploy keeps what is there (none at first)",
    )
    group.add_argument(
        "--log-retention-days",
        type=int,
        default=DEFAULT_RETENTION_DAYS,
        metavar="D",
        help=f"keep the function's logs D days (default {DEFAULT_RETENTION_DAYS}; 0 leaves the "
        "retention as it is)",
    )
    group.add_argument(
        "--latency-p99-ms", type=float, default=1000.0, help="latency alarm (default 1000)"
    )
    group.add_argument(
        "--error-rate", type=float, default=1.0, metavar="PERCENT", help="errors alarm (default 1)"
    )
    group.add_argument("--drift-percent", type=float, default=10.0, help="drift alarm (default 10)")


def monitor_options(args: argparse.Namespace) -> Any:
    """The :class:`MonitorOptions` the deploy flags ask for."""
    from sklambda.monitor.options import MonitorOptions, parse_alarms

    return MonitorOptions(
        alarms=parse_alarms(args.alarms) if args.alarms is not None else None,
        log_retention_days=args.log_retention_days or None,
        latency_p99_ms=args.latency_p99_ms,
        error_rate_percent=args.error_rate,
        drift_percent=args.drift_percent,
    )


# -- the commands ---------------------------------------------------------------------------------


def add_parsers(commands: Any, parser_class: type[argparse.ArgumentParser]) -> dict[str, Handler]:
    """Add ``logs`` and ``alerts`` to ``commands``; returns ``{command: handler}``."""
    logs = commands.add_parser("logs", help="a deployed function's log events, read for you")
    logs.add_argument("name", help="the Lambda function name")
    logs.add_argument("--since", default="10m", help="30s, 10m, 2h, 1d or an ISO time (10m)")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    logs.add_argument(
        "--errors", action="store_true", help="only errors, timeouts, init failures, OOM"
    )
    logs.add_argument("--limit", type=int, help="at most the last N events")
    _aws_flags(logs)

    alerts = commands.add_parser("alerts", help="Telegram alerts for a deployed function")
    kinds = alerts.add_subparsers(dest="alerts_command", required=True, parser_class=parser_class)
    telegram = kinds.add_parser(
        "telegram", help="deploy the notifier: errors, timeouts, OOM and alarms to a chat"
    )
    telegram.add_argument("name", help="the deployed function to watch")
    telegram.add_argument("--chat-id", required=True, help="the chat, group or @channel")
    source = telegram.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--token-from-stdin",
        action="store_true",
        help="read the bot token from stdin and store it as an SSM SecureString",
    )
    source.add_argument(
        "--token-parameter", metavar="SSM_NAME", help="an SSM SecureString holding the token"
    )
    source.add_argument("--token-secret", metavar="NAME", help="a Secrets Manager secret instead")
    telegram.add_argument(
        "--api-url", help="the Bot API base URL (default https://api.telegram.org)"
    )
    telegram.add_argument("--dist", type=Path, help="a notifier package (`alerts package`)")
    telegram.add_argument(
        "--window", type=float, default=60.0, metavar="SECONDS",
        help="fold failures within SECONDS of a message into the next one (default 60)",
    )  # fmt: skip
    _aws_flags(telegram)

    package = kinds.add_parser("package", help="write the notifier's package, proven locally")
    package.add_argument("--out", type=Path, required=True, help="the package directory")
    package.add_argument("--python", default="3.12", help="Lambda Python (default 3.12)")
    package.add_argument(
        "--arch", choices=("x86_64", "arm64"), default="arm64", help="Lambda architecture"
    )

    for verb, what in (("test", "send a test message"), ("remove", "remove the notifier")):
        sub = kinds.add_parser(verb, help=what)
        sub.add_argument("name", help="the deployed function")
        _aws_flags(sub)
    return {"logs": cmd_logs, "alerts": cmd_alerts}


def _when(ms: int) -> str:
    import time

    return time.strftime("%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}"


def render(event: Any) -> str:
    """One log event as a line of rich markup."""
    from rich.markup import escape

    stamp = f"[dim]{_when(event.timestamp_ms)}[/dim]"
    f = event.fields
    if event.kind == "report" or (event.failed and event.message.startswith("REPORT")):
        parts = [f"{f.get('duration_ms', 0):.2f} ms", f"billed {f.get('billed_ms', 0):g} ms"]
        if "max_memory_mb" in f:
            parts.append(f"{f['max_memory_mb']:g}/{f.get('memory_mb', 0):g} MB")
        if "init_ms" in f:
            parts.append(f"[yellow]cold start {f['init_ms']:.0f} ms[/yellow]")
        if "status" in f:
            parts.append(f"[bold red]{escape(str(f['status']))}[/bold red]")
        return f"{stamp} [blue]REPORT[/blue]  " + " · ".join(parts)
    if event.kind == "metrics":
        shown = []
        for key, value in f.items():
            if key in ("status", "ErrorCode"):
                continue
            unit = " ms" if key == "PredictLatency" else ""
            shown.append(f"{escape(key)}={value:g}{unit}" if isinstance(value, float | int) else "")
        code = f" [yellow]{escape(str(f['ErrorCode']))}[/yellow]" if "ErrorCode" in f else ""
        return f"{stamp} [cyan]metrics[/cyan] " + " ".join(s for s in shown if s) + code
    text = escape(event.message.replace("\r", "\n"))
    if event.failed:
        label = event.kind.replace("_", " ").upper()
        return f"{stamp} [bold red]{label}[/bold red] [red]{text}[/red]"
    if event.kind == "platform":
        return f"{stamp} [dim]{text}[/dim]"
    return f"{stamp} {text}"


def cmd_logs(args: argparse.Namespace) -> int:
    from sklambda.cli.console import out_console
    from sklambda.monitor.logs import follow, parse_since, read_events

    since = parse_since(args.since)
    client = _client(args)
    console = out_console()
    if not args.follow:
        events = read_events(
            client, args.name, since_ms=since, errors=args.errors, limit=args.limit
        )
        for event in events:
            console.print(render(event), soft_wrap=True)
        if not events:
            print(
                f"no {'failures' if args.errors else 'log events'} since {args.since}",
                file=sys.stderr,
            )
        return 0
    try:
        for event in follow(client, args.name, since_ms=since, errors=args.errors):
            console.print(render(event), soft_wrap=True)
    except KeyboardInterrupt:
        pass
    return 0


def _read_token() -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("bot token (not echoed): ").strip()
    return sys.stdin.readline().strip()


def cmd_alerts(args: argparse.Namespace) -> int:
    command = args.alerts_command
    if command == "package":
        from sklambda.cli.console import spinner
        from sklambda.monitor.packaging import build_notifier

        with spinner("building the notifier…") as progress:
            built = build_notifier(
                args.out, python=args.python, arch=args.arch, on_progress=progress.update
            )
        v = built.report["verification"]
        print(f"wrote {built.dist} (notifier for python{args.python} on {args.arch})")
        print(f"  proven in the local emulator: {'; '.join(v['checks'])}")
        return 0
    if command == "test":
        from sklambda.monitor.alerts import send_test

        send_test(_client(args), args.name)
        print(f"{args.name}: test message sent")
        return 0
    if command == "remove":
        from sklambda.monitor.alerts import remove_alerts

        done = remove_alerts(_client(args), args.name)
        for action in done or [f"{args.name}: no Telegram alerts to remove"]:
            print(f"  {action}")
        return 0
    return _telegram(args)


def _telegram(args: argparse.Namespace) -> int:
    from sklambda.cli.console import err_console, spinner
    from sklambda.monitor.alerts import TokenSource, setup_telegram, token_parameter_name

    if args.token_from_stdin:
        token = TokenSource(parameter=token_parameter_name(args.name), value=_read_token())
    elif args.token_secret:
        token = TokenSource(secret=args.token_secret)
    else:
        token = TokenSource(parameter=args.token_parameter)
    console = err_console()
    with spinner(f"Telegram alerts for {args.name}…") as progress:
        result = setup_telegram(
            _client(args),
            args.name,
            chat_id=args.chat_id,
            token=token,
            api_url=args.api_url,
            dist=args.dist,
            window_s=args.window,
            on_progress=progress.update,
        )
    for action in result.actions:
        console.print(f"  {action}")
    where = result.token_parameter or result.token_secret
    print(f"{args.name}: alerts go to chat {args.chat_id} through {result.notifier}")
    print(f"  token read from {where} (never stored elsewhere)")
    print(f"  try it: sklambda alerts test {args.name}")
    return 0


# -- status ---------------------------------------------------------------------------------------


def print_health(health: Any) -> None:
    """The monitoring lines of ``sklambda status``."""
    from sklambda.cli.console import out_console

    retention = health.log_retention_days
    print(f"{'log retention':<17} {f'{retention} days' if retention else 'never expires'}")
    print(f"{'alerts':<17} {f'Telegram via {health.alerts}' if health.alerts else 'none'}")
    if not health.alarms:
        print(f"{'alarms':<17} none (deploy with --alarms)")
    console = out_console()
    if health.alarms:
        from rich.table import Table

        table = Table(title="alarms", title_justify="left")
        for column in ("alarm", "state", "since"):
            table.add_column(column)
        colour = {"ALARM": "bold red", "OK": "green"}
        for alarm in health.alarms:
            style = colour.get(alarm["state"], "yellow")
            table.add_row(alarm["kind"], f"[{style}]{alarm['state']}[/{style}]", alarm["since"])
        console.print(table)
    if health.last_errors:
        console.print("[bold]last errors[/bold] (past day)")
        for event in health.last_errors:
            console.print(render(event), soft_wrap=True)
    for note in health.unreadable:
        print(f"{'not shown':<17} {note}")
