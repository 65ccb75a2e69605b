"""How sklambda shows things to people: progress on stderr, tables and cards via rich."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


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


def model_card(manifest: dict[str, Any]) -> list[Any]:
    """The renderables of `sklambda info`: summary, features, metrics, versions."""
    from rich.table import Table

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
        summary.add_row("classes", ", ".join(map(str, manifest["classes"])))
    summary.add_row("model file", f"{manifest['model']['file']} ({manifest['model']['format']})")
    sample = manifest.get("sample", {})
    summary.add_row(
        "sample", f"{sample.get('rows')} rows, {'synthetic' if sample.get('synthetic') else 'real'}"
    )
    summary.add_row("created", manifest.get("created_at", "?"))

    features = Table(title="features (request order)", title_justify="left")
    for column in ("#", "name", "type", "range / categories", "nullable"):
        features.add_column(column)
    for i, spec in enumerate(manifest["features"]):
        if spec["type"] == "number":
            lo, hi = spec.get("min"), spec.get("max")
            values = "" if lo is None else f"{_fmt(lo)} … {_fmt(hi)}"
        else:
            cats = spec.get("categories") or []
            values = ", ".join(cats[:6]) + (" …" if len(cats) > 6 else "")
        features.add_row(
            str(i), spec["name"], spec["type"], values, "yes" if spec.get("nullable") else ""
        )

    versions = Table(title="trained with", title_justify="left")
    versions.add_column("library")
    versions.add_column("version")
    for lib, version in manifest.get("versions", {}).items():
        versions.add_row(lib, version)
    parts: list[Any] = [summary, features]
    if manifest.get("metrics"):
        parts.append(metrics_table(manifest["metrics"]))
    parts.append(versions)
    return parts


def _mb(n: int) -> str:
    """Sizes in binary units, as Lambda's limits are (50 MB = 52,428,800 bytes)."""
    if abs(n) >= 100 * 1024:
        return f"{n / 2**20:,.2f} MiB"
    return f"{n / 1024:,.1f} KiB"


def build_table(report: dict[str, Any]) -> list[Any]:
    """The renderables of `sklambda build`: sizes against Lambda's limits, and the proof."""
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
    limits = report["limits"]
    largest = max((a["zipped_bytes"] for a in report["artifacts"].values()), default=0)
    if not image:
        upload_left = limits["direct_upload_limit_bytes"] - largest
        unzipped_left = limits["unzipped_limit_bytes"] - limits["unzipped_total_bytes"]
        table.add_row(
            "headroom",
            f"{_mb(upload_left)} of 50 MiB upload" if upload_left >= 0 else "via S3 (> 50 MiB)",
            f"{_mb(unzipped_left)} of 250 MiB",
            "",
            style="dim",
        )
    parts: list[Any] = [table]
    slim = report.get("slim")
    if slim:
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
        parts += [packages, saved]
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
