"""What the same traffic costs elsewhere: SageMaker endpoints, and API Gateway in front of Lambda.

- **SageMaker real-time endpoint**: ``count`` instances (at least one) billed every hour of the
  month at ``sagemaker.realtime.<type>``, whatever the traffic. When the average concurrency the
  traffic needs (requests × duration / month) exceeds the instances' vCPUs, one endpoint of that
  size cannot serve it: the estimate says so rather than silently adding instances.
- **SageMaker Serverless Inference**: memory of 1–6 GB (1 GB steps), billed per GB-second of
  processing at ``sagemaker.serverless.duration`` — taken here to last as long as the request
  does on Lambda at the same memory (not measured on SageMaker) — plus
  ``sagemaker.serverless.data`` per GB of request and response. Its cold starts and its
  two-month free tier are not priced.
- **API Gateway in front of Lambda** (instead of a function URL, which costs nothing extra):
  ``api_gateway.http`` or ``api_gateway.rest`` per million requests on top of Lambda's bill;
  the 12-month free tier is not applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sklambda.costing.errors import CostError
from sklambda.costing.prices import PriceBook

__all__ = [
    "SERVERLESS_MEMORY_MB",
    "Alternative",
    "api_gateway",
    "check_instances",
    "sagemaker_realtime",
    "sagemaker_serverless",
    "serverless_memory_for",
]

SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
"""Memory sizes SageMaker Serverless Inference offers."""
_GB_BYTES = 1024**3


@dataclass(frozen=True)
class Alternative:
    """One way to serve the model other than Lambda behind a function URL.

    ``monthly_usd(requests_per_month)`` prices any traffic (the break-even search calls it);
    ``items`` are the price rows it uses; ``note`` says what the figure leaves out or warns of.
    """

    key: str
    label: str
    kind: str
    monthly_usd: Callable[[float], float]
    items: tuple[str, ...]
    note: str = ""
    busy: Callable[[float], float] | None = None
    """For an instance endpoint: the share of its vCPUs the traffic keeps busy."""


def sagemaker_realtime(
    book: PriceBook, instance: str, count: int, *, billed_ms: float, requests_per_month: float
) -> Alternative:
    """An always-on real-time endpoint of ``count`` × ``instance``."""
    if count < 1:
        raise CostError("a SageMaker real-time endpoint has at least one instance")
    item = f"sagemaker.realtime.{instance}"
    row = book.row(item)
    hours = book.value("convention.hours_per_month")
    monthly = count * row.value * hours
    note = ""
    vcpus = row.extra.get("vcpus")
    seconds = hours * 3600
    busy = None
    if isinstance(vcpus, int | float) and vcpus > 0:

        def busy(requests: float) -> float:
            return requests * billed_ms / 1000 / seconds / (count * vcpus)

        if busy(requests_per_month) > 1:
            note = (
                f"at {requests_per_month:,.0f} requests/month the traffic needs "
                f"{busy(requests_per_month):.0%} of the {count * vcpus:g} vCPUs of {count} × "
                f"{instance}: one endpoint of that size cannot serve it"
            )
    suffix = f" ×{count}" if count > 1 else ""
    return Alternative(
        key=f"sagemaker-realtime:{instance}",
        label=f"SageMaker {instance}{suffix}",
        kind="sagemaker-realtime",
        monthly_usd=lambda _requests: monthly,
        items=(item, "convention.hours_per_month"),
        note=note,
        busy=busy,
    )


def serverless_memory_for(memory_mb: int) -> int:
    """The smallest Serverless Inference memory size at least ``memory_mb`` (6 GB at most)."""
    for size in SERVERLESS_MEMORY_MB:
        if size >= memory_mb:
            return size
    return SERVERLESS_MEMORY_MB[-1]


def sagemaker_serverless(
    book: PriceBook, memory_mb: int, *, billed_ms: float, payload_bytes: float
) -> Alternative:
    """Serverless Inference at ``memory_mb`` (one of 1,024…6,144)."""
    if memory_mb not in SERVERLESS_MEMORY_MB:
        raise CostError(
            f"SageMaker Serverless Inference offers {', '.join(map(str, SERVERLESS_MEMORY_MB))} "
            f"MB, not {memory_mb}"
        )
    per_gb_s = book.value("sagemaker.serverless.duration")
    per_gb = book.value("sagemaker.serverless.data")
    per_request = (
        billed_ms / 1000 * memory_mb / 1024 * per_gb_s + payload_bytes / _GB_BYTES * per_gb
    )
    return Alternative(
        key=f"sagemaker-serverless:{memory_mb}",
        label=f"SageMaker Serverless {memory_mb // 1024} GB",
        kind="sagemaker-serverless",
        monthly_usd=lambda requests: requests * per_request,
        items=("sagemaker.serverless.duration", "sagemaker.serverless.data"),
        note="duration assumed equal to Lambda's; cold starts not priced",
    )


def api_gateway(
    book: PriceBook, kind: str, lambda_monthly: Callable[[float], float]
) -> Alternative:
    """Lambda behind an API Gateway ``http`` or ``rest`` API instead of a function URL."""
    if kind not in ("http", "rest"):
        raise CostError(f"API Gateway kind must be http or rest, got {kind!r}")
    item = f"api_gateway.{kind}"
    per_million = book.value(item)
    return Alternative(
        key=f"lambda+api-gateway:{kind}",
        label=f"Lambda + API Gateway {kind.upper() if kind == 'rest' else 'HTTP'} API",
        kind="lambda+api-gateway",
        monthly_usd=lambda requests: lambda_monthly(requests) + requests * per_million / 1e6,
        items=(item,),
        note=f"API Gateway adds ${per_million:.2f} per million requests to Lambda's bill",
    )


def check_instances(book: PriceBook, instances: list[str]) -> list[str]:
    """``instances`` if the price file has each, else a :class:`CostError` listing what it has."""
    known = [item.removeprefix("sagemaker.realtime.") for item in book.items("sagemaker.realtime.")]
    unknown = [i for i in instances if i not in known]
    if unknown:
        raise CostError(
            f"no SageMaker price for {', '.join(unknown)} in {book.region} in {book.path}; "
            f"priced: {', '.join(known) or 'none'}"
        )
    return instances
