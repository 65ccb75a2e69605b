"""Latency charts of ``bench`` and ``tune`` results (PNG, the ``charts`` extra).

- :func:`latency_chart`: cold and warm latency (median, whisker to p90) by memory size, one
  line per package; with a single memory size, bars by package — the picture of the published
  "cold start grows with model size" benchmark;
- :func:`tune_chart`: latency and cost per million requests by memory size, the recommended
  size marked.

Both take the results document (``to_json()`` or a results file's JSON), so a chart can be
redrawn from a file without measuring again.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sklambda.plotting import COLORS, ChartError, figure, plain_log, save

__all__ = ["latency_chart", "tune_chart"]


def _where(document: Mapping[str, Any]) -> str:
    sizes = [s for p in document["packages"] for s in p["sizes"]]
    if all(p.get("where") == "deployed" for p in document["packages"]):
        return "deployed function (REPORT lines)"
    if all(s["cpu_share"]["applied"] for s in sizes):
        return "local emulator, Lambda's CPU share per memory size"
    return "local emulator, CPU NOT throttled: small sizes look faster than on Lambda"


def _stat(size: Mapping[str, Any], key: str) -> tuple[float, float] | None:
    stat = size.get(key)
    return None if not stat else (stat["p50"], stat["p90"])


def latency_chart(document: Mapping[str, Any], path: str | Path) -> Path:
    """Cold and warm latency of every package in ``document``; returns the PNG's path."""
    packages = document["packages"]
    if not packages or not any(p["sizes"] for p in packages):
        raise ChartError("the results hold no measurement to draw")
    fig = figure()
    axes = fig.subplots(1, 2)
    by_memory = any(len(p["sizes"]) > 1 for p in packages)
    for ax, key, title in ((axes[0], "cold_ms", "cold start"), (axes[1], "warm_ms", "warm")):
        if by_memory:
            _lines_by_memory(ax, packages, key)
        else:
            _bars_by_package(ax, packages, key)
        ax.set_title(f"{title} (median, whisker to p90)")
        ax.set_ylabel("ms (INIT + duration)" if key == "cold_ms" else "ms (duration)")
        ax.set_yscale("log")
        plain_log(ax.yaxis)
        ax.grid(True, which="major", axis="y", alpha=0.3)
    if by_memory:
        axes[0].legend(fontsize=8)
    fig.suptitle(f"Latency by {'memory size' if by_memory else 'model'} — {_where(document)}")
    return save(fig, path)


def _lines_by_memory(ax: Any, packages: list[Mapping[str, Any]], key: str) -> None:
    ticks: set[int] = set()
    for i, package in enumerate(packages):
        points = [(s["memory_mb"], _stat(s, key)) for s in package["sizes"]]
        good = [(m, st) for m, st in points if st is not None]
        failed = [m for m, st in points if st is None]
        ticks.update(m for m, _ in points)
        color = COLORS[i % len(COLORS)]
        if good:
            xs = [m for m, _ in good]
            p50 = [st[0] for _, st in good]
            upper = [st[1] - st[0] for _, st in good]
            ax.errorbar(
                xs,
                p50,
                yerr=[[0] * len(xs), upper],
                marker="o",
                capsize=3,
                color=color,
                label=package["name"],
            )
        for memory in failed:
            ax.annotate(
                "failed",
                (memory, 0.02),
                xycoords=("data", "axes fraction"),
                color=color,
                ha="center",
                fontsize=7,
            )
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(ticks), [f"{m:,}" for m in sorted(ticks)], rotation=45)
    ax.minorticks_off()
    ax.set_xlabel("memory (MB)")


def _bars_by_package(ax: Any, packages: list[Mapping[str, Any]], key: str) -> None:
    names, p50, upper = [], [], []
    for package in packages:
        stat = _stat(package["sizes"][0], key) if package["sizes"] else None
        names.append(package["name"])
        p50.append(stat[0] if stat else 0.0)
        upper.append(stat[1] - stat[0] if stat else 0.0)
    colors = [COLORS[i % len(COLORS)] for i in range(len(names))]
    bars = ax.bar(names, p50, yerr=[[0] * len(names), upper], capsize=3, color=colors)
    ax.bar_label(bars, labels=[f"{v:,.1f}" if v else "failed" for v in p50], fontsize=8)
    memory = {s["memory_mb"] for p in packages for s in p["sizes"]}
    ax.set_xlabel(f"package, at {', '.join(f'{m:,}' for m in sorted(memory))} MB")
    ax.tick_params(axis="x", labelrotation=30)


def tune_chart(document: Mapping[str, Any], path: str | Path) -> Path:
    """Latency and cost per million requests by memory size, the recommendation marked."""
    package = document["packages"][0]
    sizes = [s for s in package["sizes"] if s.get("cost_per_million_usd") is not None]
    if not sizes:
        raise ChartError("no memory size was measured without failing: nothing to draw")
    chosen = document["recommended_memory_mb"]
    memory = [s["memory_mb"] for s in sizes]
    fig = figure()
    latency_ax, cost_ax = fig.subplots(1, 2)
    for key, label, color in (("warm_ms", "warm", COLORS[0]), ("cold_ms", "cold start", COLORS[1])):
        points = [(s["memory_mb"], s[key]["p50"]) for s in sizes if s.get(key)]
        if points:
            latency_ax.plot(*zip(*points, strict=True), marker="o", color=color, label=label)
    latency_ax.set_yscale("log")
    plain_log(latency_ax.yaxis)
    latency_ax.set_ylabel("median ms")
    latency_ax.legend(fontsize=8)
    latency_ax.set_title("latency")
    costs = [s["cost_per_million_usd"] for s in sizes]
    colors = [COLORS[2] if m == chosen else COLORS[7] for m in memory]
    bars = cost_ax.bar([f"{m:,}" for m in memory], costs, color=colors)
    cost_ax.bar_label(bars, labels=[f"${c:,.2f}" for c in costs], fontsize=8)
    cost_ax.set_ylabel("USD per million requests")
    cost_ax.set_xlabel("memory (MB)")
    cost_ax.set_title("cost per million requests (billed duration, no free tier)")
    for ax in (latency_ax,):
        ax.set_xscale("log", base=2)
        ax.set_xticks(memory, [f"{m:,}" for m in memory], rotation=45)
        ax.minorticks_off()
        ax.set_xlabel("memory (MB)")
        ax.axvline(chosen, color=COLORS[2], linestyle="--", alpha=0.7)
        ax.grid(True, which="both", axis="y", alpha=0.3)
    strategy = document.get("tune", {}).get("strategy", "?")
    fig.suptitle(
        f"{package['name']}: recommended {chosen:,} MB for {strategy} — {_where(document)}"
    )
    return save(fig, path)
