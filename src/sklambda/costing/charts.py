"""Monthly cost against traffic (PNG, the ``charts`` extra): Lambda and every alternative.

Traffic on a log axis from a thousand requests a month up past the furthest break-even; the
break-evens are marked on Lambda's curve and the estimate's own traffic is a dotted line.
Costs under a cent are drawn at a cent (a log axis has no zero; Lambda's free tier is).
"""

from __future__ import annotations

from pathlib import Path

from sklambda.costing.break_even import MAX_REQUESTS, short_count
from sklambda.costing.estimate import CostEstimate
from sklambda.plotting import COLORS, figure, plain_log, save

__all__ = ["cost_chart"]

_FLOOR_USD = 0.01
_POINTS = 240


def _range(estimate: CostEstimate) -> tuple[float, float]:
    traffic = max(estimate.usage.requests_per_month, 1.0)
    crossings = [o.crossing.requests_per_month or 0.0 for o in estimate.options]
    low = min(1e3, traffic / 10)
    high = min(MAX_REQUESTS, max(1e9, traffic * 10, *(c * 10 for c in crossings)))
    return low, high


def cost_chart(estimate: CostEstimate, path: str | Path) -> Path:
    """Draw ``estimate``'s costs from a thousand requests/month past the break-evens."""
    low, high = _range(estimate)
    ratio = (high / low) ** (1 / (_POINTS - 1))
    traffic = [low * ratio**i for i in range(_POINTS)]
    fig = figure(10.0, 5.6)
    ax = fig.subplots()

    def floor(values: list[float]) -> list[float]:
        return [max(v, _FLOOR_USD) for v in values]

    usage = estimate.usage
    ax.plot(
        traffic,
        floor([estimate.lambda_at(n) for n in traffic]),
        color=COLORS[0],
        linewidth=2.5,
        label="Lambda (function URL)",
    )
    for i, option in enumerate(estimate.options, start=1):
        color = COLORS[i % len(COLORS)]
        curve = option.alternative.monthly_usd
        ax.plot(
            traffic, floor([curve(n) for n in traffic]), color=color, label=option.alternative.label
        )
        crossing = option.crossing.requests_per_month
        if crossing is not None:
            at = max(estimate.lambda_at(crossing), _FLOOR_USD)
            ax.plot([crossing], [at], marker="o", color=color, markersize=7)
            ax.annotate(
                short_count(crossing),
                (crossing, at),
                textcoords="offset points",
                xytext=(4, -12 - 10 * (i % 3)),
                fontsize=8,
                color=color,
            )
    ax.axvline(usage.requests_per_month, color="black", linestyle=":", alpha=0.6)
    ax.annotate(
        f"{short_count(usage.requests_per_month)}/month",
        (usage.requests_per_month, 1),
        xycoords=("data", "axes fraction"),
        xytext=(3, -12),
        textcoords="offset points",
        fontsize=8,
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log(ax.yaxis)
    ax.set_xlabel("requests per month")
    ax.set_ylabel("USD per month")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    free = "with" if usage.free_tier else "without"
    ax.set_title(
        f"Monthly cost at {usage.billed_ms:g} ms billed, {usage.memory_mb:,} MB, {usage.arch}, "
        f"{estimate.book.region}, {free} free tier (break-evens marked)"
    )
    return save(fig, path)
