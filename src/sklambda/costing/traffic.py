"""How many requests are cold: the share that arrives after an environment was recycled.

Requests are taken to arrive as a Poisson process, at a rate that may follow a daily profile
(24 hourly weights). Lambda recycles an idle environment after some minutes; a request is cold
when the gap since the one before it is longer than that, which for exponential gaps happens
with probability ``exp(-rate × idle)``. The share of cold requests over a month is that
probability averaged over the requests of each hour of the day.

What this leaves out, on purpose: cold starts from scaling out (more requests in flight than
warm environments — a small share at steady traffic) and Lambda's periodic recycling of busy
environments (hours apart, not documented). Keep-warm pings more often than the idle time keep
one environment warm, so idle-gap cold starts then vanish.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sklambda.costing.errors import CostError

__all__ = ["IDLE_RECYCLE_MIN", "cold_share", "flat_profile"]

IDLE_RECYCLE_MIN = 5.0
"""Minutes an idle environment lives. Third parties measured 5–17 min (2019); the low end, so
cold starts are not undercounted (shared/reference/lambda.md, "Cold starts and mitigation")."""


def flat_profile() -> list[float]:
    """The same traffic every hour of the day."""
    return [1.0] * 24


def cold_share(
    requests_per_month: float,
    *,
    hours_per_month: float,
    idle_recycle_min: float = IDLE_RECYCLE_MIN,
    daily_profile: Sequence[float] | None = None,
    keep_warm_every_min: float | None = None,
) -> float:
    """The share of requests that start a new environment (0–1).

    Parameters
    ----------
    requests_per_month : float
        Traffic.
    hours_per_month : float
        The month's length (the price file's convention, 730 h).
    idle_recycle_min : float
        Minutes after which an idle environment is gone.
    daily_profile : sequence of 24 floats, optional
        Relative traffic in each hour of the day (any scale; default flat).
    keep_warm_every_min : float, optional
        Scheduled pings this often; more often than ``idle_recycle_min`` leaves no idle gap.
    """
    if requests_per_month <= 0:
        return 0.0
    if keep_warm_every_min is not None and keep_warm_every_min < idle_recycle_min:
        return 0.0
    weights = list(daily_profile) if daily_profile is not None else flat_profile()
    if len(weights) != 24 or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise CostError("a daily profile is 24 non-negative hourly weights, not all zero")
    total = sum(weights)
    seconds_per_hour_of_day = hours_per_month / 24 * 3600  # that hour, over every day of the month
    idle_s = idle_recycle_min * 60
    share = 0.0
    for weight in weights:
        fraction = weight / total
        rate = requests_per_month * fraction / seconds_per_hour_of_day
        share += fraction * math.exp(-rate * idle_s)
    return share
