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
