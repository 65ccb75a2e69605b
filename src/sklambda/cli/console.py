"""How sklambda shows things to people: progress on stderr, tables and cards via rich."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from sklambda.bundle.features import FeatureSpec
    from sklambda.bundle.format import Manifest
    from sklambda.dist import BuildReport


def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def out_console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


class Spinner:
    """A spinner on stderr whose text follows a library's ``on_progress`` callback."""

    def __init__(self, status: Any) -> None:
        self._status = status

    def update(self, message: str) -> None:
        if self._status is not None:
            self._status.update(message)


@contextlib.contextmanager
def spinner(message: str) -> Iterator[Spinner]:
    """``with spinner("…") as s: work(on_progress=s.update)`` (silent off a terminal)."""
    console = err_console()
    if console.is_terminal:
        with console.status(message) as status:
            yield Spinner(status)
    else:
        yield Spinner(None)


@contextlib.contextmanager
def progress(message: str) -> Iterator[None]:
    """A spinner on stderr while long work runs (plain text when stderr is not a terminal)."""
    console = err_console()
    if console.is_terminal:
        with console.status(message):
            yield
    else:
        yield


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1 else f"{value:.4g}"
    return str(value)


def metrics_table(metrics: dict[str, float], title: str = "holdout metrics") -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        table.add_row(key, _fmt(value))
    return table


def _features_table(specs: list[FeatureSpec]) -> Any:
    from rich.table import Table

    from sklambda.runtime.dates import iso

    features = Table(title="features (request order)", title_justify="left")
    for column in ("#", "name", "type", "range / categories", "nullable"):
        features.add_column(column)
    for i, spec in enumerate(specs):
        kind = spec["type"]
        lo, hi = spec.get("min"), spec.get("max")
        if spec.get("date") is not None:
            values = "" if lo is None or hi is None else f"{iso(lo)} … {iso(hi)}"
            kind = "date"
        elif spec["type"] == "number":
            values = "" if lo is None else f"{_fmt(lo)} … {_fmt(hi)}"
        else:
            cats = spec.get("categories") or []
            values = ", ".join(cats[:6]) + (" …" if len(cats) > 6 else "")
        features.add_row(str(i), spec["name"], kind, values, "yes" if spec.get("nullable") else "")
    return features


def model_card(manifest: Manifest) -> list[Any]:
    """The renderables of `sklambda info`: summary, features, metrics, versions."""
    from rich.table import Table

    from sklambda.runtime.card import UNKNOWN_CATEGORY, unknown_categories

    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    target = manifest.get("target") or {}
    summary.add_row("model", f"{manifest['name']} (version {manifest.get('version')})")
    summary.add_row("task", manifest["task"])
    summary.add_row("estimator", manifest.get("estimator_class", "?"))
    if target:
        summary.add_row("target", f"{target.get('name')} ({target.get('dtype')})")
    if manifest.get("classes") is not None:
        summary.add_row("classes", ", ".join(map(str, manifest["classes"] or [])))
    summary.add_row("model file", f"{manifest['model']['file']} ({manifest['model']['format']})")
    sample = manifest.get("sample", {})
    summary.add_row(
        "sample", f"{sample.get('rows')} rows, {'synthetic' if sample.get('synthetic') else 'real'}"
    )
    summary.add_row("created", manifest.get("created_at", "?"))
    unknown = unknown_categories(manifest)
    if unknown is not None:
        summary.add_row("unknown categories", f"{unknown}: {UNKNOWN_CATEGORY[unknown]}")

    features = _features_table(manifest["features"])

    versions = Table(title="trained with", title_justify="left")
    versions.add_column("library")
    versions.add_column("version")
    for lib, version in manifest.get("versions", {}).items():
        versions.add_row(lib, version)
    parts: list[Any] = [summary, features]
    if manifest.get("metrics"):
        parts.append(metrics_table(manifest["metrics"] or {}))
    parts.append(versions)
    return parts


def _mb(n: int) -> str:
    """Sizes in binary units, as Lambda's limits are (50 MB = 52,428,800 bytes)."""
    if abs(n) >= 100 * 1024:
        return f"{n / 2**20:,.2f} MiB"
    return f"{n / 1024:,.1f} KiB"


def build_table(report: BuildReport) -> list[Any]:
    """The renderables of `sklambda build`: sizes against Lambda's limits, and the proof."""
    parts: list[Any] = [_artifacts_table(report)]
    slim = report.get("slim")
    if slim:
        parts += _slim_tables(slim)
    v = report["verification"]
    where = f"python{v['python']}" + (" (twin)" if v["twin"] else "")
    proof = (
        f"[green]verified[/green] in the local emulator on {where}: {v['rows']} rows over a "
        f"function URL, max relative error {v['max_rel_error']:.2g}, "
        f"{v['label_mismatches']} label mismatches, cold init {v['init_ms']} ms"
    )
    bytecode = report["bytecode"]
    pyc = (
        f"bytecode: {bytecode['files']} .pyc files (unchecked-hash)"
        if bytecode["shipped"]
        else f"[yellow]bytecode: none[/yellow] ({bytecode['reason']})"
    )
    layer = report.get("layer_packages") or {}
    extra = [f"layer: {', '.join(f'{k} {v}' for k, v in layer.items())}"] if layer else []
    return [*parts, proof, pyc, *extra, *(f"[yellow]note:[/yellow] {n}" for n in report["notes"])]


def _artifacts_table(report: BuildReport) -> Any:
    """Each artifact's sizes, and the headroom under Lambda's limits."""
    from rich.table import Table

    table = Table(
        title=f"{report['name']}: {report['runtime']} runtime for {report['target']['runtime']} "
        f"({report['arch']}, {report['target']['os']})",
        title_justify="left",
    )
    for column in ("artifact", "zipped", "unzipped", "files"):
        table.add_column(column, justify="left" if column == "artifact" else "right")
    for artifact in report["artifacts"].values():
        table.add_row(
            artifact["file"],
            _mb(artifact["zipped_bytes"]),
            _mb(artifact["unzipped_bytes"]),
            str(artifact["files"]),
        )
    image = report.get("image")
    if image:
        table.add_row("image/task", "—", _mb(image["task_bytes"]), str(image["files"]))
        table.add_row("image/Dockerfile", f"FROM {image['base']}", image["platform"], "")
        return table
    limits = report["limits"]
    largest = max((a["zipped_bytes"] for a in report["artifacts"].values()), default=0)
    upload_left = limits["direct_upload_limit_bytes"] - largest
    unzipped_left = limits["unzipped_limit_bytes"] - limits["unzipped_total_bytes"]
    table.add_row(
        "headroom",
        f"{_mb(upload_left)} of 50 MiB upload" if upload_left >= 0 else "via S3 (> 50 MiB)",
        f"{_mb(unzipped_left)} of 250 MiB",
        "",
        style="dim",
    )
    return table


def _slim_tables(slim: dict[str, Any]) -> list[Any]:
    """The layer by package (installed, shipped, zipped) and what each slimming rule saved."""
    from rich.table import Table

    packages = Table(title="layer by package (slimmed, proven)", title_justify="left")
    for column in ("package", "installed", "shipped", "zipped"):
        packages.add_column(column, justify="left" if column == "package" else "right")
    rows = sorted(slim["packages"].items(), key=lambda kv: -kv[1]["after_bytes"])
    for name, sizes in rows:
        if sizes["after_bytes"] < 100 * 1024 and sizes["before_bytes"] < 100 * 1024:
            continue  # dist-info folders and tiny modules would drown the table
        packages.add_row(
            name,
            _mb(sizes["before_bytes"]),
            _mb(sizes["after_bytes"]),
            _mb(sizes.get("zipped_bytes", 0)),
        )
    saved = Table(title="slimming rules", title_justify="left")
    saved.add_column("rule")
    saved.add_column("files", justify="right")
    saved.add_column("saved", justify="right")
    for rule in slim["rules"]:
        saved.add_row(rule["description"], str(rule["files"]), _mb(rule["bytes_saved"]))
    return [packages, saved]


# -- bench, tune, cost -------------------------------------------------------------------------


class ProgressBar:
    """A progress bar on stderr that follows ``bench``/``tune``'s ``on_progress`` events."""

    def __init__(self, bar: Any, task: Any) -> None:
        self._bar = bar
        self._task = task

    def update(self, event: Any) -> None:
        if self._bar is not None:
            total = event.total or None
            self._bar.update(
                self._task, completed=event.done, total=total, description=event.message
            )


@contextlib.contextmanager
def progress_bar(message: str) -> Iterator[ProgressBar]:
    """``with progress_bar("…") as p: bench(..., on_progress=p.update)`` (silent off a terminal)."""
    console = err_console()
    if not console.is_terminal:
        yield ProgressBar(None, None)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        yield ProgressBar(bar, bar.add_task(message, total=None))


def _ms(stat: dict[str, Any] | None, key: str = "p50") -> str:
    if not stat:
        return "—"
    value = stat[key]
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"


def _spread(stat: dict[str, Any] | None) -> str:
    if not stat:
        return "—"
    return " / ".join(_ms(stat, key) for key in ("p50", "p90", "p99"))


def _cpu(size: dict[str, Any]) -> str:
    share = size["cpu_share"]
    if share["applied"]:
        return f"{share['vcpus']:.2f}"
    return "[yellow]all[/yellow]"


def bench_table(document: dict[str, Any]) -> list[Any]:
    """The renderables of `sklambda bench`: one row per package and memory size, then notes."""
    from rich.table import Table

    where = {p.get("where") for p in document["packages"]}
    table = Table(
        title="latency in ms, p50 / p90 / p99 (cold = INIT + duration)",
        title_justify="left",
    )
    columns = (
        "package",
        "memory",
        "CPU",
        "cold p50/p90/p99",
        "warm p50/p90/p99",
        "init",
        "max mem",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "package" else "right")
    for package in document["packages"]:
        for size in package["sizes"]:
            table.add_row(
                package["name"],
                f"{size['memory_mb']:,} MB",
                _cpu(size),
                _spread(size["cold_ms"]),
                _spread(size["warm_ms"]),
                "—" if size["init_ms"] is None else _ms({"p50": size["init_ms"]}),
                "—" if size["max_memory_mb"] is None else f"{size['max_memory_mb']} MB",
            )
            for error in size["errors"]:
                table.add_row("", "", "", f"[red]{error}[/red]", "", "", "")
    counts = {(s["cold_ms"] or {}).get("n", 0) for p in document["packages"] for s in p["sizes"]}
    caption = f"{'deployed' if where == {'deployed'} else 'local'}; cold n = "
    table.caption = caption + ", ".join(str(c) for c in sorted(counts))
    return [table, *(f"[yellow]note:[/yellow] {n}" for n in document["notes"])]


def tune_table(document: dict[str, Any]) -> list[Any]:
    """The renderables of `sklambda tune`: each size priced and scored, the recommendation."""
    from rich.table import Table

    package = document["packages"][0]
    tune = document["tune"]
    chosen = document["recommended_memory_mb"]
    table = Table(
        title=f"{package['name']}: memory sizes ({tune['arch']}, {tune['region']} prices)",
        title_justify="left",
    )
    for column in (
        "memory",
        "CPU",
        "cold p50 ms",
        "warm p50 ms",
        "billed ms",
        "$ / 1M req",
        "score",
    ):
        table.add_column(column, justify="right")
    for size in package["sizes"]:
        mark = " ←" if size["memory_mb"] == chosen else ""
        cost = size.get("cost_per_million_usd")
        table.add_row(
            f"{size['memory_mb']:,} MB{mark}",
            _cpu(size),
            _ms(size["cold_ms"]),
            _ms(size["warm_ms"]),
            "—" if size["billed_warm_ms"] is None else f"{size['billed_warm_ms']:.3g}",
            "—" if cost is None else f"${cost:,.2f}",
            "—" if size.get("score") is None else f"{size['score']:.3f}",
            style="bold green" if mark else ("red" if size.get("excluded") else None),
        )
    weights = ", ".join(f"{k} {v:g}" for k, v in tune["weights"].items())
    verdict = (
        f"recommended: [bold]{chosen:,} MB[/bold] for {tune['strategy']} "
        f"(weights {weights}; within {tune['tie_tolerance']:.0%} of the best, the smallest wins)"
    )
    return [table, verdict, *(f"[yellow]note:[/yellow] {n}" for n in document["notes"])]


def cost_table(document: dict[str, Any]) -> list[Any]:
    """The renderables of `sklambda cost`: Lambda's bill by part, each alternative, break-evens."""
    from rich.table import Table

    inputs = document["inputs"]
    heading = (
        f"[bold]Lambda[/bold]: {inputs['requests_per_month']:,.0f} requests/month at "
        f"{inputs['billed_duration_ms']:g} ms billed, {inputs['memory_mb']:,} MB, "
        f"{inputs['arch']}, {document['region']}"
    )
    if inputs["from"] != "given":
        heading += f" (measured: {inputs['from']})"
    bill = Table()
    bill.add_column("part")
    bill.add_column("USD / month", justify="right")
    for part, usd in document["lambda_parts_usd"].items():
        bill.add_row(part.replace("_", "-"), f"{usd:,.2f}")
    bill.add_row("total", f"{document['lambda_monthly_usd']:,.2f}", style="bold")
    others = Table(title="against", title_justify="left")
    for column in ("option", "USD / month", "break-even requests/month"):
        others.add_column(column, justify="left" if column == "option" else "right")
    for option in document["alternatives"]:
        crossing = option["break_even_requests_per_month"]
        others.add_row(
            option["label"],
            f"{option['monthly_usd']:,.2f}",
            "—" if crossing is None else f"{crossing:,.0f}",
        )
    words = [f"• {option['break_even']}" for option in document["alternatives"]]
    warnings = [
        f"[yellow]note:[/yellow] {o['label']}: {o['note']}"
        for o in document["alternatives"]
        if o["note"] and o["kind"] != "lambda+api-gateway"  # its sentence says it
    ]
    rows = document["prices"]["rows"]
    dates = sorted({r["date_read"] for r in rows})
    weak = sorted({".".join(r["item"].split(".")[:2]) for r in rows if r["quality"] != "primary"})
    cited = f"prices: {document['prices']['file']} (read {', '.join(dates)})"
    if weak:
        cited += f"; secondary or unconfirmed sources for {', '.join(weak)}"
    notes = [f"[yellow]note:[/yellow] {n}" for n in document["notes"]]
    return [heading, bill, others, *words, *warnings, *notes, f"[dim]{cited}[/dim]"]
