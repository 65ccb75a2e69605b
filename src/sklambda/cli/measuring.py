"""How fast and how cheap: ``bench`` (latency), ``tune`` (memory size) and ``cost`` (the bill).

Thin handlers over :func:`sklambda.bench`, :func:`sklambda.tune` and :func:`sklambda.cost`:
they turn flags into arguments, show progress while benchmarks run, and print a table or the
JSON document (``--json``); charts (``--chart``) need the ``charts`` extra, checked before any
measuring starts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sklambda.cli.parsing import env_pair


def _memory_list(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected memory sizes in MB, comma-separated (e.g. 128,512,1024), got {text!r}"
        ) from None
    if not sizes:
        raise argparse.ArgumentTypeError("expected at least one memory size in MB")
    return sizes


def _profile(text: str) -> list[float]:
    try:
        weights = [float(part) for part in text.split(",")]
    except ValueError:
        weights = []
    if len(weights) != 24 or any(w < 0 for w in weights) or not any(weights):
        raise argparse.ArgumentTypeError(
            "expected 24 comma-separated non-negative weights, one per hour of the day (UTC)"
        )
    return weights


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1, got {text!r}")
    return value


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = -1
        if value < 0:
            raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
        return value

    return parse


def _body(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"the request body is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('the request body must be a JSON object, {"instances"…}')
    return value


def _run_flags(parser: argparse.ArgumentParser, cold: int, warm: int) -> None:
    parser.add_argument(
        "--cold",
        type=_positive(int),
        default=cold,
        help=f"cold starts per memory size (default {cold})",
    )
    parser.add_argument(
        "--warm",
        type=_positive(int),
        default=warm,
        help=f"warm requests per memory size (default {warm})",
    )
    parser.add_argument("--rows", type=int, default=1, help="rows per request (default 1)")
    parser.add_argument(
        "--arch",
        choices=("x86_64", "arm64"),
        help="architecture the results stand for (default: the package's)",
    )
    parser.add_argument("--body", type=_body, help="request body to send instead of generated rows")
    parser.add_argument(
        "--env",
        type=env_pair,
        action="append",
        default=[],
        metavar="K=V",
        help="environment variable of the local function (repeatable)",
    )
    parser.add_argument(
        "--no-cpu-share",
        action="store_true",
        help="do not throttle CPU to Lambda's share (results then optimistic for small sizes)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds per local invocation (default 60)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the results as one JSON document"
    )
    parser.add_argument("--chart", type=Path, metavar="FILE.png", help="write a PNG chart")


def add_parsers(commands: Any) -> dict[str, Any]:
    """Add ``bench``, ``tune`` and ``cost`` to ``commands`` (argparse subparsers)."""
    bench = commands.add_parser("bench", help="cold and warm latency of packages, by memory size")
    bench.add_argument(
        "dist", type=Path, nargs="+", help="package directories or bundles (built first)"
    )
    bench.add_argument(
        "--memory",
        type=_memory_list,
        help="MB, comma-separated (default 1024; deployed: as configured)",
    )
    _run_flags(bench, cold=5, warm=20)
    bench.add_argument(
        "--deployed", metavar="NAME", help="measure this deployed function (REPORT lines) instead"
    )
    bench.add_argument("--region", help="with --deployed: AWS region")
    bench.add_argument("--profile", help="with --deployed: named AWS profile")
    bench.add_argument("--endpoint-url", help="with --deployed: an AWS-compatible endpoint")
    bench.add_argument(
        "--out", type=Path, metavar="RESULTS.json", help="write the results file (read by cost)"
    )

    tune = commands.add_parser("tune", help="benchmark memory sizes and recommend one")
    tune.add_argument("dist", type=Path, help="package directory or bundle (built first)")
    tune.add_argument(
        "--memory", type=_memory_list, help="MB to try (default 128,256,512,1024,1769,3008)"
    )
    tune.add_argument(
        "--strategy",
        choices=("cost", "speed", "balanced"),
        default="balanced",
        help="what to minimise (default balanced: weights 0.5 cost, 0.5 speed)",
    )
    _run_flags(tune, cold=2, warm=10)
    tune.add_argument(
        "--cold-share",
        type=_share,
        default=0.0,
        help="share of requests expected cold, blended into latency and cost (default 0)",
    )
    tune.add_argument(
        "--region", default="us-east-1", help="prices of this region (default us-east-1)"
    )
    tune.add_argument("--prices", type=Path, help="a price file instead of sklambda's")
    tune.add_argument(
        "--out", type=Path, metavar="RESULTS.json", help="write the results file (read by cost)"
    )
    tune.add_argument(
        "--apply",
        action="store_true",
        help="write the choice to DIST/tuning.json, where `sklambda deploy` reads it",
    )

    cost = commands.add_parser(
        "cost", help="monthly cost on Lambda against SageMaker, and break-evens"
    )
    source = cost.add_mutually_exclusive_group()
    source.add_argument(
        "--from",
        dest="results",
        type=Path,
        metavar="RESULTS.json",
        help="a results file of bench or tune",
    )
    source.add_argument(
        "--duration-ms", type=float, help="duration of a request, ms (rounded up as Lambda bills)"
    )
    cost.add_argument("--memory", type=int, help="MB (with --duration-ms; picks a size of --from)")
    cost.add_argument("--package", help="with --from: which package of the results")
    traffic = cost.add_mutually_exclusive_group(required=True)
    traffic.add_argument(
        "--requests-per-month", type=float, metavar="N", help="requests in a month"
    )
    traffic.add_argument(
        "--requests-per-second", type=float, metavar="R", help="average over the month"
    )
    cost.add_argument(
        "--daily-profile",
        type=_profile,
        metavar="W0,…,W23",
        help="relative traffic by hour of day (shapes cold starts)",
    )
    cost.add_argument(
        "--arch", choices=("x86_64", "arm64"), help="architecture (default: the measured one)"
    )
    cost.add_argument(
        "--init-ms", type=float, help="INIT duration of a cold start (default: measured)"
    )
    cost.add_argument(
        "--cold-share",
        type=_share,
        help="share of requests that are cold (default: from the traffic)",
    )
    cost.add_argument(
        "--idle-recycle-min",
        type=float,
        default=5.0,
        help="minutes an idle environment lives (default 5)",
    )
    cost.add_argument(
        "--provisioned", type=_positive(int), default=0, help="provisioned concurrency"
    )
    cost.add_argument(
        "--keep-warm-every", type=float, metavar="MIN", help="a keep-warm ping every MIN minutes"
    )
    cost.add_argument(
        "--keep-warm-concurrency",
        type=_positive(int),
        default=1,
        metavar="N",
        help="N parallel pings each time, held 150 ms each as deploy schedules them (default 1)",
    )
    cost.add_argument("--no-free-tier", action="store_true", help="leave Lambda's free tier out")
    cost.add_argument("--region", default="us-east-1", help="prices of this region")
    cost.add_argument("--prices", type=Path, help="a price file instead of sklambda's")
    cost.add_argument(
        "--sagemaker-instance",
        action="append",
        metavar="TYPE",
        help="real-time instance type to compare (repeatable; default: every one priced)",
    )
    cost.add_argument(
        "--sagemaker-count", type=int, default=1, help="instances of each (default 1)"
    )
    cost.add_argument(
        "--serverless-memory", type=int, metavar="MB", help="Serverless Inference memory, 1024-6144"
    )
    cost.add_argument(
        "--api-gateway", choices=("http", "rest"), help="also price Lambda behind API Gateway"
    )
    cost.add_argument("--json", action="store_true", help="print the estimate as one JSON document")
    cost.add_argument("--chart", type=Path, metavar="FILE.png", help="write a PNG chart")
    return {"bench": cmd_bench, "tune": cmd_tune, "cost": cmd_cost}


def _usage_error(message: str) -> None:
    from sklambda.errors import SklambdaError

    raise SklambdaError(message)


def _charts_ready(chart: Path | None) -> None:
    """A chart asked for needs matplotlib: say so before measuring anything."""
    if chart is not None:
        from sklambda.plotting import require

        require()


def _print(renderables: list[Any]) -> None:
    from sklambda.cli.console import out_console

    console = out_console()
    for item in renderables:
        console.print(item)


def _keep_warm_pings(concurrency: int) -> dict[str, Any]:
    """N parallel pings are each held as ``deploy`` schedules them (sklambda.aws.warming)."""
    if concurrency <= 1:
        return {}
    from sklambda.aws.warming import HOLD_MS

    return {"keep_warm_concurrency": concurrency, "keep_warm_ms": float(HOLD_MS)}


def cmd_bench(args: argparse.Namespace) -> int:
    from sklambda.benchmarking import Deployed, bench
    from sklambda.cli.console import bench_table, progress_bar

    if (args.region or args.endpoint_url or args.profile) and not args.deployed:
        _usage_error("--region, --profile and --endpoint-url go with --deployed NAME")
    _charts_ready(args.chart)
    deployed = (
        Deployed(args.deployed, args.region, args.endpoint_url, args.profile)
        if args.deployed
        else None
    )
    with progress_bar("benchmarking…") as progress:
        results = bench(
            args.dist,
            cold=args.cold,
            warm=args.warm,
            rows=args.rows,
            memory=args.memory,
            arch=args.arch,
            deployed=deployed,
            body=args.body,
            env=dict(args.env),
            cpu_share=not args.no_cpu_share,
            timeout=args.timeout,
            on_progress=progress.update,
        )
    document = results.to_json()
    if args.out:
        results.write(args.out)
    if args.chart:
        from sklambda.benchmarking.charts import latency_chart

        latency_chart(document, args.chart)
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        _print(bench_table(document))
        _wrote(args.out, args.chart)
    return 0


def _wrote(*paths: Path | None) -> None:
    sys.stdout.flush()
    for path in paths:
        if path is not None:
            print(f"wrote {path}", file=sys.stderr)


def cmd_tune(args: argparse.Namespace) -> int:
    from sklambda.benchmarking.tuning import DEFAULT_TUNE_MEMORY, apply_memory, tune
    from sklambda.cli.console import progress_bar, tune_table

    _charts_ready(args.chart)
    from sklambda.dist import BUILD_JSON

    if args.apply and not (args.dist / BUILD_JSON).is_file():
        _usage_error(
            f"--apply writes the choice next to a built package, and {args.dist} is not one: "
            "build it first (sklambda build BUNDLE --out DIST), then tune DIST"
        )
    with progress_bar("tuning…") as progress:
        result = tune(
            args.dist,
            memory=args.memory or DEFAULT_TUNE_MEMORY,
            strategy=args.strategy,
            cold=args.cold,
            warm=args.warm,
            rows=args.rows,
            arch=args.arch,
            cold_share=args.cold_share,
            region=args.region,
            prices=args.prices,
            body=args.body,
            env=dict(args.env),
            cpu_share=not args.no_cpu_share,
            timeout=args.timeout,
            on_progress=progress.update,
        )
    document = result.to_json()
    if args.out:
        result.write(args.out)
    if args.chart:
        from sklambda.benchmarking.charts import tune_chart

        tune_chart(document, args.chart)
    applied = apply_memory(args.dist, result) if args.apply else None
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        _print(tune_table(document))
        _wrote(args.out, args.chart)
    memory = result.recommended_memory_mb
    if applied is not None:
        print(
            f"wrote {applied}: `sklambda deploy {args.dist}` now uses {memory} MB "
            "(--memory overrides)",
            file=sys.stderr,
        )
    else:
        print(
            f"deploy with: sklambda deploy {args.dist} --name NAME --memory {memory}",
            file=sys.stderr,
        )
    return 0


def cmd_cost(args: argparse.Namespace) -> int:
    from sklambda.cli.console import cost_table
    from sklambda.costing import cost

    if args.results is None and (args.duration_ms is None or args.memory is None):
        _usage_error("give --from RESULTS.json, or both --duration-ms and --memory")
    if args.package and args.results is None:
        _usage_error("--package picks a package of --from RESULTS.json")
    _charts_ready(args.chart)
    estimate = cost(
        requests_per_month=args.requests_per_month,
        requests_per_second=args.requests_per_second,
        daily_profile=args.daily_profile,
        results=args.results,
        package=args.package,
        duration_ms=args.duration_ms,
        memory_mb=args.memory,
        arch=args.arch,
        init_ms=args.init_ms,
        cold_share=args.cold_share,
        idle_recycle_min=args.idle_recycle_min,
        provisioned=args.provisioned,
        keep_warm_every_min=args.keep_warm_every,
        **_keep_warm_pings(args.keep_warm_concurrency),
        free_tier=not args.no_free_tier,
        region=args.region,
        prices=args.prices,
        sagemaker_instances=args.sagemaker_instance,
        sagemaker_count=args.sagemaker_count,
        serverless_memory_mb=args.serverless_memory,
        api_gateway_kind=args.api_gateway,
    )
    document = estimate.to_json()
    if args.chart:
        from sklambda.costing.charts import cost_chart

        cost_chart(estimate, args.chart)
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        _print(cost_table(document))
        _wrote(args.chart)
    return 0
