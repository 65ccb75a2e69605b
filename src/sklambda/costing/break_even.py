"""Where two monthly costs cross, found numerically and said in words.

Lambda's bill is not a straight line (the free tier, INIT billing whose share of cold requests
falls as traffic grows, fixed costs of provisioned concurrency and pings), so the crossing is
searched: the cost difference is evaluated on a log grid of traffic from one request a month to
``MAX_REQUESTS``, and the first change of sign is narrowed down by bisection.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MAX_REQUESTS", "BreakEven", "break_even", "short_count"]

MAX_REQUESTS = 1e12
_POINTS_PER_DECADE = 40


@dataclass(frozen=True)
class BreakEven:
    """Where Lambda stops (or starts) being the cheaper of two.

    Attributes
    ----------
    requests_per_month : float or None
        The crossing; None when one is cheaper over the whole range searched.
    lambda_cheaper : str
        ``below`` (Lambda is cheaper below the crossing), ``above``, ``always`` or ``never``
        (over 1 … ``MAX_REQUESTS`` requests a month).
    """

    requests_per_month: float | None
    lambda_cheaper: str


def break_even(
    lambda_usd: Callable[[float], float], other_usd: Callable[[float], float]
) -> BreakEven:
    """The first traffic at which Lambda's and the other's monthly costs cross."""

    def diff(n: float) -> float:
        return lambda_usd(n) - other_usd(n)

    steps = int(math.log10(MAX_REQUESTS) * _POINTS_PER_DECADE)
    grid = [10 ** (i / _POINTS_PER_DECADE) for i in range(steps + 1)]
    previous = grid[0]
    cheaper = diff(previous) <= 0
    for n in grid[1:]:
        now = diff(n) <= 0
        if now != cheaper:
            crossing = _bisect(diff, previous, n, cheaper)
            return BreakEven(crossing, "below" if cheaper else "above")
        previous = n
    return BreakEven(None, "always" if cheaper else "never")


def _bisect(diff: Callable[[float], float], low: float, high: float, low_cheaper: bool) -> float:
    for _ in range(60):
        middle = math.sqrt(low * high)
        if (diff(middle) <= 0) == low_cheaper:
            low = middle
        else:
            high = middle
        if high / low < 1 + 1e-9:
            break
    return math.sqrt(low * high)


def short_count(n: float) -> str:
    """``38.2M``, ``1.5B``, ``850k``, ``120``: request counts the way people say them."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            value = n / size
            return f"{value:.3g}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return f"{n:.0f}"
