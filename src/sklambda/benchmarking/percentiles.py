"""Percentiles of a few samples, the way numpy's default (linear interpolation) computes them.

Benchmarks here take a handful of cold starts, so p90 and p99 are interpolated between the
largest samples; every summary carries ``n`` so a reader can tell.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["percentile", "summary"]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of ``values``, linearly interpolated."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float]) -> dict[str, float] | None:
    """``{"p50", "p90", "p99", "n"}`` of ``values`` (None when there are none)."""
    if not values:
        return None
    return {
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "n": len(values),
    }
