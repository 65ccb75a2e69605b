"""``sklambda.tune()``: benchmark a package over memory sizes and recommend one.

At each size the cost of an invocation is priced from its measured billed duration (Lambda
rounds every request up to 1 ms) at the price file's on-demand rates, free tier left out — the
marginal cost — plus INIT for the share of cold requests asked for. The recommendation
minimises a weighted score::

    score(m) = w_cost × cost(m) / min cost  +  w_speed × latency(m) / min latency

    strategy    w_cost  w_speed
    cost        1.0     0.0
    speed       0.0     1.0
    balanced    0.5     0.5

where ``latency(m)`` is the median warm duration, blended with the median cold start by
``cold_share``. Sizes whose score is within ``TIE_TOLERANCE`` (5 %) of the best count as equal
and the smallest of them wins: it costs least, and a few percent is within the noise of a
benchmark. Sizes that failed (out of memory, errors) are never recommended.

``apply_memory`` writes the choice to ``tuning.json`` in the package directory, where
``sklambda deploy`` reads it when ``--memory`` is not given.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklambda.benchmarking.benchmark import Progress, bench
from sklambda.benchmarking.errors import BenchError
from sklambda.benchmarking.results import BenchResults, SizeResult, write_document
from sklambda.costing.lambda_pricing import LambdaUsage, lambda_bill
from sklambda.costing.prices import PriceBook, load_prices
from sklambda.dist import BUILD_JSON, TUNING_JSON

__all__ = [
    "DEFAULT_TUNE_MEMORY",
    "STRATEGIES",
    "TIE_TOLERANCE",
    "TuneResult",
    "TunedSize",
    "apply_memory",
    "recommend",
    "tune",
    "tuned_memory",
]

DEFAULT_TUNE_MEMORY = (128, 256, 512, 1024, 1769, 3008)
STRATEGIES: dict[str, dict[str, float]] = {
    "cost": {"cost": 1.0, "speed": 0.0},
    "speed": {"cost": 0.0, "speed": 1.0},
    "balanced": {"cost": 0.5, "speed": 0.5},
}
TIE_TOLERANCE = 0.05
TUNING_FORMAT = "sklambda-tuning"
_PER = 1_000_000


@dataclass(frozen=True)
class TunedSize:
    """One memory size, priced and scored (``score`` None: not eligible, see ``excluded``)."""

    memory_mb: int
    latency_ms: float | None
    cost_per_invocation_usd: float | None
    score: float | None = None
    excluded: str = ""

    @property
    def cost_per_million_usd(self) -> float | None:
        c = self.cost_per_invocation_usd
        return None if c is None else c * _PER


@dataclass
class TuneResult:
    """The benchmark, each size priced and scored, and the recommended memory size."""

    bench: BenchResults
    strategy: str
    sizes: list[TunedSize]
    recommended_memory_mb: int
    book: PriceBook
    cold_share: float
    arch: str
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The bench results document, plus prices, scores and ``recommended_memory_mb``."""
        document = self.bench.to_json()
        by_memory = {size.memory_mb: size for size in self.sizes}
        for entry in document["packages"][0]["sizes"]:
            tuned = by_memory[entry["memory_mb"]]
            entry["latency_ms"] = tuned.latency_ms
            entry["cost_per_invocation_usd"] = tuned.cost_per_invocation_usd
            entry["cost_per_million_usd"] = tuned.cost_per_million_usd
            entry["score"] = tuned.score
            entry["excluded"] = tuned.excluded
        document["recommended_memory_mb"] = self.recommended_memory_mb
        document["tune"] = {
            "strategy": self.strategy,
            "weights": STRATEGIES[self.strategy],
            "tie_tolerance": TIE_TOLERANCE,
            "cold_share": self.cold_share,
            "arch": self.arch,
            "region": self.book.region,
            "prices": str(self.book.path),
        }
        document["notes"] = [*document["notes"], *self.notes]
        return document

    def write(self, path: str | Path) -> Path:
        return write_document(self.to_json(), path)


def _price(size: SizeResult, book: PriceBook, arch: str, cold_share: float) -> TunedSize:
    summary = size.to_json()
    warm, cold = summary["warm_ms"], summary["cold_ms"]
    if not size.ok or warm is None:
        why = "; ".join(size.errors) or "no warm requests measured"
        return TunedSize(size.memory_mb, None, None, excluded=why)
    latency = (
        warm["p50"] if cold is None else (1 - cold_share) * warm["p50"] + cold_share * cold["p50"]
    )
    usage = LambdaUsage(
        requests_per_month=_PER,
        billed_ms=summary["billed_warm_ms"],
        memory_mb=size.memory_mb,
        arch=arch,
        init_ms=summary["init_ms"] or 0.0,
        cold_share=cold_share,
        free_tier=False,
    )
    return TunedSize(size.memory_mb, latency, lambda_bill(usage, book).total_usd / _PER)


def recommend(sizes: Sequence[TunedSize], strategy: str) -> tuple[int, list[TunedSize]]:
    """The recommended memory size, and ``sizes`` with their scores (see the module doc)."""
    if strategy not in STRATEGIES:
        raise BenchError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    eligible = [s for s in sizes if not s.excluded and s.latency_ms]
    if not eligible:
        reasons = "; ".join(f"{s.memory_mb} MB: {s.excluded}" for s in sizes)
        raise BenchError(f"no memory size ran without failing ({reasons})")
    weights = STRATEGIES[strategy]
    best_cost = min(s.cost_per_invocation_usd or 0.0 for s in eligible)
    best_latency = min(s.latency_ms or 0.0 for s in eligible)
    scored = {
        s.memory_mb: weights["cost"] * (s.cost_per_invocation_usd or 0.0) / best_cost
        + weights["speed"] * (s.latency_ms or 0.0) / best_latency
        for s in eligible
    }
    best = min(scored.values())
    chosen = min(m for m, score in scored.items() if score <= best * (1 + TIE_TOLERANCE))
    out = [
        TunedSize(
            s.memory_mb,
            s.latency_ms,
            s.cost_per_invocation_usd,
            scored.get(s.memory_mb),
            s.excluded,
        )
        for s in sizes
    ]
    return chosen, out


def tune(
    package: str | Path,
    *,
    memory: Sequence[int] = DEFAULT_TUNE_MEMORY,
    strategy: str = "balanced",
    cold: int = 2,
    warm: int = 10,
    rows: int = 1,
    arch: str | None = None,
    cold_share: float = 0.0,
    region: str = "us-east-1",
    prices: str | Path | None = None,
    body: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    cpu_share: bool = True,
    memory_limit: bool = True,
    timeout: float = 60.0,
    on_progress: Callable[[Progress], None] | None = None,
) -> TuneResult:
    """Benchmark ``package`` at each memory size and recommend one for ``strategy``.

    Parameters
    ----------
    package : path
        A package directory, or a bundle (built first).
    memory : sequence of int
        Memory sizes in MB to try.
    strategy : {"cost", "speed", "balanced"}
        What to minimise (weights in the module's docstring).
    cold, warm, rows :
        Cold starts, warm requests and rows per request at each size (see :func:`bench`).
    arch : str, optional
        Architecture to price (default: the package's).
    cold_share : float
        Share of requests expected cold (0–1): blends cold starts into latency and INIT into
        cost. 0 (the default) scores steady warm traffic.
    region, prices :
        Where to read prices (default: sklambda's price file, us-east-1).
    on_progress : callable, optional
        Receives :class:`~sklambda.benchmarking.benchmark.Progress` updates.

    Returns
    -------
    TuneResult
    """
    if strategy not in STRATEGIES:
        raise BenchError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    if not 0 <= cold_share <= 1:
        raise BenchError(f"cold share must be 0–1, got {cold_share}")
    book = load_prices(prices, region)
    results = bench(
        package,
        cold=cold,
        warm=warm,
        rows=rows,
        memory=list(memory),
        arch=arch,
        body=body,
        env=env,
        cpu_share=cpu_share,
        memory_limit=memory_limit,
        timeout=timeout,
        on_progress=on_progress,
    )
    measured = results.packages[0]
    priced = [_price(size, book, measured.arch, cold_share) for size in measured.sizes]
    chosen, scored = recommend(priced, strategy)
    notes = [f"{s.memory_mb} MB not recommended: {s.excluded}" for s in scored if s.excluded]
    return TuneResult(results, strategy, scored, chosen, book, cold_share, measured.arch, notes)


def apply_memory(dist: str | Path, result: TuneResult) -> Path:
    """Write the recommendation to ``dist/tuning.json``, where ``sklambda deploy`` reads it."""
    root = Path(dist)
    if not (root / BUILD_JSON).is_file():
        raise BenchError(
            f"{root} is not a package directory (no {BUILD_JSON}); --apply writes the choice "
            "next to the package that deploy uploads: build it first (sklambda build --out DIST)"
        )
    document = {
        "format": TUNING_FORMAT,
        "memory_mb": result.recommended_memory_mb,
        "strategy": result.strategy,
        "measured_at": result.bench.created_at,
        "sizes_tried": [s.memory_mb for s in result.sizes],
    }
    return write_document(document, root / TUNING_JSON)


def tuned_memory(dist: str | Path) -> int | None:
    """The memory size ``sklambda tune --apply`` chose for this package, if any."""
    path = Path(dist) / TUNING_JSON
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise BenchError(f"{path} is not readable JSON ({exc}); delete it or re-run tune") from None
    if not isinstance(document, dict) or document.get("format") != TUNING_FORMAT:
        raise BenchError(f"{path} is not a sklambda tuning file; delete it or re-run tune")
    memory = document.get("memory_mb")
    if not isinstance(memory, int):
        raise BenchError(f"{path} is not a sklambda tuning file; delete it or re-run tune")
    return memory
