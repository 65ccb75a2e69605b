"""``sklambda.cost()``: the monthly cost of serving a model on Lambda, and what it is up against.

Inputs come from measured numbers — a results file of ``sklambda bench`` / ``sklambda tune``
(billed duration, INIT duration, memory, payload size) — or are given. The estimate prices
Lambda (:mod:`~sklambda.costing.lambda_pricing`) and each alternative
(:mod:`~sklambda.costing.alternatives`) at the same traffic, finds where each crosses Lambda
(:mod:`~sklambda.costing.break_even`), and cites every price row it used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklambda.costing.alternatives import (
    Alternative,
    api_gateway,
    check_instances,
    sagemaker_realtime,
    sagemaker_serverless,
    serverless_memory_for,
)
from sklambda.costing.break_even import BreakEven, break_even, short_count
from sklambda.costing.errors import CostError
from sklambda.costing.lambda_pricing import LambdaBill, LambdaUsage, lambda_bill
from sklambda.costing.prices import PriceBook, load_prices
from sklambda.costing.traffic import IDLE_RECYCLE_MIN, cold_share

__all__ = ["CostEstimate", "OptionCost", "cost"]

DEFAULT_PAYLOAD_BYTES = 1024
"""Request + response bytes when no measurement says otherwise (Serverless Inference data)."""


@dataclass(frozen=True)
class OptionCost:
    """An alternative priced at the estimate's traffic, and where it crosses Lambda."""

    alternative: Alternative
    monthly_usd: float
    crossing: BreakEven
    words: str


@dataclass(frozen=True)
class CostEstimate:
    """A month of serving, priced.

    Attributes
    ----------
    usage : LambdaUsage
        What was priced (traffic, billed duration, memory, cold share, ...).
    bill : LambdaBill
        Lambda's bill by part.
    options : list of OptionCost
        Each alternative with its monthly cost and break-even.
    book : PriceBook
        The prices used.
    notes : list of str
        What the estimate assumed or left out.
    """

    usage: LambdaUsage
    bill: LambdaBill
    options: list[OptionCost]
    book: PriceBook
    notes: list[str]
    lambda_at: Callable[[float], float] = field(repr=False)
    source: str = "given"

    @property
    def lambda_monthly_usd(self) -> float:
        return self.bill.total_usd

    def sentences(self) -> list[str]:
        """The break-evens in words, one per alternative."""
        return [option.words for option in self.options]

    def to_json(self) -> dict[str, Any]:
        """The estimate as ``sklambda cost --json`` prints it."""
        items = [
            "convention.hours_per_month",
            "lambda.requests",
            f"lambda.duration.{self.usage.arch}",
            "lambda.free_tier.requests",
            "lambda.free_tier.gb_seconds",
        ]
        if self.usage.provisioned:
            items += [
                f"lambda.provisioned.{k}.{self.usage.arch}" for k in ("concurrency", "duration")
            ]
        for option in self.options:
            items += [i for i in option.alternative.items if i not in items]
        return {
            "region": self.book.region,
            "inputs": _usage_json(self.usage) | {"from": self.source},
            "lambda_monthly_usd": self.bill.total_usd,
            "lambda_parts_usd": self.bill.parts(),
            "lambda_quantities": {
                "on_demand_gb_seconds": self.bill.on_demand_gb_s,
                "billable_gb_seconds": self.bill.billable_gb_s,
                "billable_requests": self.bill.billable_requests,
                "cold_requests": self.bill.cold_requests,
                "provisioned_share": self.bill.provisioned_share,
            },
            "alternatives": [_option_json(o) for o in self.options],
            "break_even_requests_per_month": {
                o.alternative.key: o.crossing.requests_per_month for o in self.options
            },
            "prices": {
                "file": str(self.book.path),
                "rows": [_row_json(row) for row in self.book.used(items)],
            },
            "notes": self.notes,
        }


def _usage_json(usage: LambdaUsage) -> dict[str, Any]:
    return {
        "requests_per_month": usage.requests_per_month,
        "billed_duration_ms": usage.billed_ms,
        "memory_mb": usage.memory_mb,
        "arch": usage.arch,
        "init_ms": usage.init_ms,
        "cold_share": usage.cold_share,
        "provisioned": usage.provisioned,
        "keep_warm_every_min": usage.keep_warm_every_min,
        "keep_warm_ms": usage.keep_warm_ms,
        "free_tier": usage.free_tier,
    }


def _option_json(option: OptionCost) -> dict[str, Any]:
    return {
        "key": option.alternative.key,
        "label": option.alternative.label,
        "kind": option.alternative.kind,
        "monthly_usd": option.monthly_usd,
        "break_even_requests_per_month": option.crossing.requests_per_month,
        "lambda_cheaper": option.crossing.lambda_cheaper,
        "break_even": option.words,
        "note": option.alternative.note,
    }


def _row_json(row: Any) -> dict[str, Any]:
    out = {
        "region": row.region,
        "item": row.item,
        "value": row.value,
        "unit": row.unit,
        "source": row.source,
        "quality": row.quality,
        "date_read": row.date_read,
    }
    if row.tier_above:
        out["tier_above"] = row.tier_above
    return out


@dataclass(frozen=True)
class _Measured:
    billed_ms: float
    memory_mb: int
    arch: str | None
    init_ms: float | None
    payload_bytes: float | None
    source: str


def _measured(
    results: str | Path | Mapping[str, Any] | None,
    package: str | None,
    memory_mb: int | None,
    duration_ms: float | None,
) -> _Measured:
    """Duration, memory, INIT and payload: from a results file, or as given."""
    if results is None:
        if duration_ms is None or memory_mb is None:
            raise CostError(
                "give a results file from sklambda bench or tune (results=...), or both "
                "duration_ms and memory_mb"
            )
        # Lambda rounds every request up to the next millisecond.
        return _Measured(float(math.ceil(duration_ms)), memory_mb, None, None, None, "given")
    from sklambda.benchmarking.results import pick_size

    chosen = pick_size(results, package=package, memory_mb=memory_mb)
    billed = float(math.ceil(duration_ms)) if duration_ms is not None else chosen.billed_warm_ms
    return _Measured(
        billed_ms=billed,
        memory_mb=chosen.memory_mb,
        arch=chosen.arch,
        init_ms=chosen.init_ms,
        payload_bytes=chosen.payload_bytes,
        source=chosen.describe(),
    )


def cost(
    *,
    requests_per_month: float | None = None,
    requests_per_second: float | None = None,
    daily_profile: Sequence[float] | None = None,
    results: str | Path | Mapping[str, Any] | None = None,
    package: str | None = None,
    duration_ms: float | None = None,
    memory_mb: int | None = None,
    arch: str | None = None,
    init_ms: float | None = None,
    cold_share: float | None = None,
    idle_recycle_min: float = IDLE_RECYCLE_MIN,
    provisioned: int = 0,
    keep_warm_every_min: float | None = None,
    keep_warm_ms: float = 1.0,
    keep_warm_concurrency: int = 1,
    free_tier: bool = True,
    region: str = "us-east-1",
    prices: str | Path | None = None,
    sagemaker_instances: Sequence[str] | None = None,
    sagemaker_count: int = 1,
    serverless_memory_mb: int | None = None,
    payload_bytes: float | None = None,
    api_gateway_kind: str | None = None,
) -> CostEstimate:
    """Price a month of serving a model on Lambda and against SageMaker.

    Parameters
    ----------
    requests_per_month, requests_per_second : float
        The traffic, one or the other (per second is averaged over the month).
    daily_profile : sequence of 24 floats, optional
        Relative traffic by hour of day; shapes the share of cold requests.
    results : path or mapping, optional
        A results file of ``sklambda bench``/``tune`` (or its JSON): the billed duration (mean
        of the measured warm requests), the memory, the INIT duration, the architecture and the
        payload size are read from it. ``package`` / ``memory_mb`` pick a run when it has
        several (a tune file's recommended size by default).
    duration_ms, memory_mb : optional
        Given instead of ``results`` (a duration is rounded up to the millisecond, as Lambda
        bills it); either one overrides what ``results`` says.
    arch : str, optional
        ``x86_64`` (default, or the results') or ``arm64``.
    init_ms : float, optional
        INIT duration of a cold start (default: the results' median, else 0: not priced).
    cold_share : float, optional
        Share of requests that are cold; default: from the traffic and ``idle_recycle_min``
        (:func:`sklambda.costing.traffic.cold_share`).
    provisioned : int
        Provisioned concurrency.
    keep_warm_every_min : float, optional
        A keep-warm ping this often (billed ``keep_warm_ms`` each).
    keep_warm_concurrency : int
        That many parallel pings each time (``deploy --keep-warm-concurrency``).
    free_tier : bool
        Apply Lambda's monthly free tier.
    region, prices :
        The price file (default: the one sklambda ships) and the region to read.
    sagemaker_instances : sequence of str, optional
        Real-time instance types to compare (default: every type priced for the region);
        ``sagemaker_count`` instances each.
    serverless_memory_mb : int, optional
        Serverless Inference memory (default: the smallest size ≥ the Lambda memory).
    payload_bytes : float, optional
        Request + response bytes (default: measured, else 1 KiB).
    api_gateway_kind : {"http", "rest"}, optional
        Also price Lambda behind API Gateway.

    Returns
    -------
    CostEstimate

    Raises
    ------
    CostError
        When inputs are missing or contradict each other; ``PricesError`` when the price file
        lacks a price asked for.
    """
    book = load_prices(prices, region)
    traffic = _traffic(book, requests_per_month, requests_per_second)
    measured = _measured(results, package, memory_mb, duration_ms)
    notes: list[str] = []
    init = init_ms if init_ms is not None else measured.init_ms
    if init is None:
        init = 0.0
        notes.append("no INIT duration given: cold starts are not priced (give init_ms)")

    def usage_at(n: float) -> LambdaUsage:
        share = cold_share
        if share is None:
            share = _cold_share(book, n, idle_recycle_min, daily_profile, keep_warm_every_min)
        return LambdaUsage(
            requests_per_month=n,
            billed_ms=measured.billed_ms,
            memory_mb=memory_mb or measured.memory_mb,
            arch=arch or measured.arch or "x86_64",
            init_ms=init,
            cold_share=share,
            provisioned=provisioned,
            keep_warm_every_min=keep_warm_every_min,
            keep_warm_ms=keep_warm_ms,
            keep_warm_concurrency=keep_warm_concurrency,
            free_tier=free_tier,
        )

    usage = usage_at(traffic)

    def lambda_at(n: float) -> float:
        return lambda_bill(usage_at(n), book).total_usd

    payload = payload_bytes if payload_bytes is not None else measured.payload_bytes
    alternatives = _alternatives(
        book,
        usage,
        _Choices(
            instances=sagemaker_instances,
            count=sagemaker_count,
            serverless_mb=serverless_memory_mb,
            payload_bytes=payload if payload is not None else DEFAULT_PAYLOAD_BYTES,
            gateway=api_gateway_kind,
        ),
        lambda_at,
        notes,
    )
    options = [_option(alt, usage, lambda_at) for alt in alternatives]
    notes += _assumptions(usage, cold_share is None, idle_recycle_min)
    return CostEstimate(
        usage, lambda_bill(usage, book), options, book, notes, lambda_at, measured.source
    )


def _traffic(book: PriceBook, per_month: float | None, per_second: float | None) -> float:
    if (per_month is None) == (per_second is None):
        raise CostError("give the traffic as requests_per_month or requests_per_second (one)")
    if per_second is not None:
        return per_second * book.value("convention.hours_per_month") * 3600
    assert per_month is not None
    return float(per_month)


def _cold_share(
    book: PriceBook,
    n: float,
    idle_recycle_min: float,
    profile: Sequence[float] | None,
    keep_warm_every_min: float | None,
) -> float:
    return cold_share(
        n,
        hours_per_month=book.value("convention.hours_per_month"),
        idle_recycle_min=idle_recycle_min,
        daily_profile=profile,
        keep_warm_every_min=keep_warm_every_min,
    )


@dataclass(frozen=True)
class _Choices:
    """Which alternatives to price, and how."""

    instances: Sequence[str] | None
    count: int
    serverless_mb: int | None
    payload_bytes: float
    gateway: str | None


def _alternatives(
    book: PriceBook,
    usage: LambdaUsage,
    choices: _Choices,
    lambda_at: Callable[[float], float],
    notes: list[str],
) -> list[Alternative]:
    found: list[Alternative] = []
    items = sorted(book.items("sagemaker.realtime."), key=book.value)  # cheapest first
    priced = [item.removeprefix("sagemaker.realtime.") for item in items]
    types = list(choices.instances) if choices.instances is not None else priced
    for instance in check_instances(book, types):
        found.append(
            sagemaker_realtime(
                book,
                instance,
                choices.count,
                billed_ms=usage.billed_ms,
                requests_per_month=usage.requests_per_month,
            )
        )
    if not types:
        notes.append(f"no SageMaker real-time prices for {book.region} in {book.path}")
    if book.has("sagemaker.serverless.duration") and book.has("sagemaker.serverless.data"):
        memory = choices.serverless_mb or serverless_memory_for(usage.memory_mb)
        found.append(
            sagemaker_serverless(
                book, memory, billed_ms=usage.billed_ms, payload_bytes=choices.payload_bytes
            )
        )
    elif choices.serverless_mb is not None:
        book.tiers("sagemaker.serverless.duration")  # raises, naming the missing price
    else:
        notes.append(f"no SageMaker Serverless Inference prices for {book.region}")
    if choices.gateway is not None:
        found.append(api_gateway(book, choices.gateway, lambda_at))
    return found


def _option(
    alt: Alternative, usage: LambdaUsage, lambda_at: Callable[[float], float]
) -> OptionCost:
    crossing = break_even(lambda_at, alt.monthly_usd)
    return OptionCost(
        alt, alt.monthly_usd(usage.requests_per_month), crossing, _words(alt, crossing, usage)
    )


def _words(alt: Alternative, crossing: BreakEven, usage: LambdaUsage) -> str:
    ms = f"{usage.billed_ms:g}" if usage.billed_ms >= 10 else f"{usage.billed_ms:.2g}"
    at = f"at {ms} ms and {usage.memory_mb:,} MB"
    if alt.kind == "lambda+api-gateway":
        return f"a function URL (free) is cheaper than {alt.label} at every volume: {alt.note}"
    if crossing.requests_per_month is None:
        if crossing.lambda_cheaper == "always":
            return (
                f"Lambda is cheaper than {alt.label} at every volume up to 1T requests/month {at}"
            )
        return f"{alt.label} is cheaper than Lambda at every volume {at}"
    where = short_count(crossing.requests_per_month)
    return (
        f"Lambda is cheaper than {alt.label} {crossing.lambda_cheaper} {where} requests/month {at}"
    )


def _assumptions(usage: LambdaUsage, derived_cold: bool, idle_min: float) -> list[str]:
    notes = []
    if derived_cold:
        share = f"{usage.cold_share:.3g}" if usage.cold_share >= 1e-6 else "< 1e-6"
        notes.append(
            f"cold share {share} from the traffic, with environments recycled "
            f"after {idle_min:g} idle minutes (Poisson arrivals; scale-out cold starts not "
            "counted)"
        )
    if usage.provisioned:
        notes.append("the free tier is not applied to provisioned concurrency")
    if usage.keep_warm_every_min is not None:
        notes.append(
            f"keep-warm pings ({usage.keep_warm_concurrency} each time) billed "
            f"{usage.keep_warm_ms:g} ms each; the scheduler's price is not included"
        )
    return notes
