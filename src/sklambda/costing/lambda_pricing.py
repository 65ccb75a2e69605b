"""Lambda's monthly bill: requests, tiered GB-seconds, INIT, provisioned concurrency, keep-warm.

The rules, each priced from the price file (:mod:`sklambda.costing.prices`):

- **requests**: every invocation (keep-warm pings included) at ``lambda.requests`` per million,
  less the free tier's requests;
- **on-demand duration**: billed duration × memory in GB-seconds, at ``lambda.duration.<arch>``
  whose tiers apply to the month's billable GB-s (first 6 B / next 9 B / over 15 B for x86;
  7.5 B / 11.25 B / over 18.75 B for arm64), less the free tier's GB-s;
- **INIT**: since 2025-08-01 Lambda bills the INIT phase of on-demand zip functions as duration,
  so every cold request adds ``init_ms`` × memory to the on-demand GB-s;
- **provisioned concurrency**: ``N`` environments × memory for every second of the month at
  ``lambda.provisioned.concurrency.<arch>`` (used or not), and the duration of the requests they
  serve at ``lambda.provisioned.duration.<arch>`` instead of the on-demand price. They serve the
  traffic up to their capacity (average concurrency = requests × duration / month, by Little's
  law); the rest spills to on-demand. Their requests are never cold. The free tier is not
  applied to them;
- **keep-warm**: a scheduled ping every ``K`` minutes is an invocation of ``keep_warm_ms``
  (answered without predicting); its requests and GB-s count with the others. The scheduler's
  own price is not included.

Where the free tier covers part of a quantity, each part (duration, INIT, keep-warm) keeps its
share of what is left to pay, in proportion to its GB-s (or requests): the parts always add up
to the bill.
"""

from __future__ import annotations

from dataclasses import dataclass

from sklambda.costing.errors import CostError
from sklambda.costing.prices import PriceBook

__all__ = ["ARCHITECTURES", "LambdaBill", "LambdaUsage", "lambda_bill", "tiered_cost"]

ARCHITECTURES = ("x86_64", "arm64")


@dataclass(frozen=True)
class LambdaUsage:
    """A month of a function's use.

    Attributes
    ----------
    requests_per_month : float
    billed_ms : float
        Billed duration of a (warm) request in ms: Lambda rounds each request up to 1 ms, so
        this is a whole number for one request or the mean of measured billed durations.
    memory_mb : int
    arch : str
        ``x86_64`` or ``arm64``.
    init_ms : float
        INIT duration of a cold start.
    cold_share : float
        Share of on-demand requests that are cold (0–1).
    provisioned : int
        Provisioned concurrency (environments kept initialised all month).
    keep_warm_every_min : float or None
        A keep-warm ping this often, or none.
    keep_warm_ms : float
        Billed duration of one ping.
    keep_warm_concurrency : int
        Parallel pings per period (``deploy --keep-warm-concurrency``; each held ``keep_warm_ms``).
    free_tier : bool
        Apply the monthly free tier.
    """

    requests_per_month: float
    billed_ms: float
    memory_mb: int
    arch: str = "x86_64"
    init_ms: float = 0.0
    cold_share: float = 0.0
    provisioned: int = 0
    keep_warm_every_min: float | None = None
    keep_warm_ms: float = 1.0
    free_tier: bool = True
    keep_warm_concurrency: int = 1

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise CostError(f"arch must be x86_64 or arm64, got {self.arch!r}")
        if self.requests_per_month < 0:
            raise CostError("requests per month cannot be negative")
        if self.billed_ms <= 0 or self.memory_mb <= 0:
            raise CostError("duration and memory must be positive")
        if not 0 <= self.cold_share <= 1:
            raise CostError(f"cold share must be 0–1, got {self.cold_share}")
        if self.init_ms < 0 or self.provisioned < 0:
            raise CostError("init duration and provisioned concurrency cannot be negative")
        if self.keep_warm_every_min is not None and self.keep_warm_every_min <= 0:
            raise CostError("keep-warm pings need a positive interval in minutes")

    @property
    def gb(self) -> float:
        return self.memory_mb / 1024


@dataclass(frozen=True)
class LambdaBill:
    """The month's Lambda bill in USD, by part, with the quantities behind it."""

    requests_usd: float
    duration_usd: float
    init_usd: float
    provisioned_usd: float
    keep_warm_usd: float
    on_demand_gb_s: float
    billable_gb_s: float
    billable_requests: float
    cold_requests: float
    provisioned_share: float

    @property
    def total_usd(self) -> float:
        return (
            self.requests_usd
            + self.duration_usd
            + self.init_usd
            + self.provisioned_usd
            + self.keep_warm_usd
        )

    def parts(self) -> dict[str, float]:
        return {
            "requests": self.requests_usd,
            "duration": self.duration_usd,
            "init": self.init_usd,
            "provisioned": self.provisioned_usd,
            "keep_warm": self.keep_warm_usd,
        }


def tiered_cost(gb_s: float, book: PriceBook, item: str) -> float:
    """The price of ``gb_s`` billable GB-seconds under ``item``'s tiers."""
    tiers = book.tiers(item)
    cost = 0.0
    for i, tier in enumerate(tiers):
        upper = tiers[i + 1].tier_above if i + 1 < len(tiers) else float("inf")
        portion = min(gb_s, upper) - tier.tier_above
        if portion <= 0:
            break
        cost += portion * tier.value
    return cost


def _share(total_usd: float, part: float, whole: float) -> float:
    return total_usd * part / whole if whole > 0 else 0.0


def lambda_bill(usage: LambdaUsage, book: PriceBook) -> LambdaBill:
    """The month's Lambda bill for ``usage`` at ``book``'s prices (see the module's rules)."""
    seconds = book.value("convention.hours_per_month") * 3600
    billed_s = usage.billed_ms / 1000
    n = usage.requests_per_month
    # Provisioned environments take the traffic up to their capacity; the rest is on-demand.
    provisioned_share = 0.0
    if usage.provisioned > 0:
        concurrency = n * billed_s / seconds
        provisioned_share = 1.0 if concurrency <= 0 else min(1.0, usage.provisioned / concurrency)
    on_demand = n * (1 - provisioned_share)
    cold = on_demand * usage.cold_share
    pings = 0.0
    if usage.keep_warm_every_min is not None:
        pings = seconds / 60 / usage.keep_warm_every_min * max(1, usage.keep_warm_concurrency)

    duration_gb_s = on_demand * billed_s * usage.gb
    init_gb_s = cold * usage.init_ms / 1000 * usage.gb
    ping_gb_s = pings * usage.keep_warm_ms / 1000 * usage.gb
    on_demand_gb_s = duration_gb_s + init_gb_s + ping_gb_s
    free_gb_s = book.value("lambda.free_tier.gb_seconds") if usage.free_tier else 0.0
    billable_gb_s = max(0.0, on_demand_gb_s - free_gb_s)
    compute_usd = tiered_cost(billable_gb_s, book, f"lambda.duration.{usage.arch}")

    all_requests = n + pings
    free_requests = book.value("lambda.free_tier.requests") if usage.free_tier else 0.0
    billable_requests = max(0.0, all_requests - free_requests)
    request_usd = billable_requests * book.value("lambda.requests") / 1e6

    provisioned_usd = 0.0
    if usage.provisioned > 0:
        idle = usage.provisioned * usage.gb * seconds
        served = n * provisioned_share * billed_s * usage.gb
        provisioned_usd = idle * book.value(
            f"lambda.provisioned.concurrency.{usage.arch}"
        ) + served * book.value(f"lambda.provisioned.duration.{usage.arch}")
    return LambdaBill(
        requests_usd=_share(request_usd, n, all_requests),
        duration_usd=_share(compute_usd, duration_gb_s, on_demand_gb_s),
        init_usd=_share(compute_usd, init_gb_s, on_demand_gb_s),
        provisioned_usd=provisioned_usd,
        keep_warm_usd=_share(request_usd, pings, all_requests)
        + _share(compute_usd, ping_gb_s, on_demand_gb_s),
        on_demand_gb_s=on_demand_gb_s,
        billable_gb_s=billable_gb_s,
        billable_requests=billable_requests,
        cold_requests=cold,
        provisioned_share=provisioned_share,
    )
