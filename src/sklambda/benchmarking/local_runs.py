"""Cold and warm invocations of a package in the local emulator, at one memory size.

Each cold sample is a fresh :class:`~sklambda.local.LocalFunction` (a new environment: package
unpacked, process started, handler imported); the warm samples follow the first cold one on
the same environment. Every environment gets Lambda's CPU share for the memory size and a
resident-memory limit where the machine allows it (:mod:`sklambda.local.cgroups`); what was
applied is recorded with the results, because without the quota small memory sizes look as fast
as large ones.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sklambda.benchmarking.cpu_accounting import CpuCounters, read_counters
from sklambda.benchmarking.errors import BenchError
from sklambda.benchmarking.samples import Sample
from sklambda.errors import Option
from sklambda.local import LocalFunction
from sklambda.local.dist import Dist
from sklambda.local.function import Enforcement
from sklambda.local.url_events import post_event, result_to_response

__all__ = ["LocalSettings", "SizeRun", "run_local"]


@dataclass(frozen=True)
class LocalSettings:
    """How the emulator runs benchmark environments."""

    cpu_share: bool = True
    memory_limit: bool = True
    timeout: float = 60.0
    env: Mapping[str, str] = field(default_factory=dict)
    """The function's environment variables (as configured on Lambda)."""


@dataclass
class SizeRun:
    """The samples of one package at one memory size, and what the emulator enforced."""

    memory_mb: int
    samples: list[Sample] = field(default_factory=list)
    enforcement: Enforcement | None = None
    response_bytes: int | None = None
    errors: list[str] = field(default_factory=list)


def run_local(
    dist: Dist,
    memory_mb: int,
    *,
    cold: int,
    warm: int,
    body: bytes,
    settings: LocalSettings,
    on_sample: Callable[[Sample], None] | None = None,
) -> SizeRun:
    """``cold`` fresh environments and ``warm`` requests on the first; stops at a failure."""
    run = SizeRun(memory_mb)
    python = None
    # Warm requests need an environment that started; when no cold sample is asked for, its
    # start is still needed but not recorded.
    for index in range(max(cold, 1 if warm else 0)):
        with LocalFunction(
            dist,
            memory=memory_mb,
            concurrency=1,
            timeout=settings.timeout,
            cpu_share=settings.cpu_share,
            memory_cgroup=settings.memory_limit,
            env=settings.env,
            python=python,
        ) as function:
            python = function.interpreter.path
            run.enforcement = function.enforcement
            first, counters = _invoke(function, body, None, run)
            if index < cold:
                _keep(run, first, on_sample)
            if first.error is not None:
                return run
            for _ in range(warm if index == 0 else 0):
                sample, counters = _invoke(function, body, counters, run)
                _keep(run, sample, on_sample)
                if sample.error is not None:
                    return run
    return run


def _keep(run: SizeRun, sample: Sample, on_sample: Callable[[Sample], None] | None) -> None:
    run.samples.append(sample)
    if sample.error is not None:
        run.errors.append(f"{sample.error} at {run.memory_mb} MB")
    if on_sample is not None:
        on_sample(sample)


def _invoke(
    function: LocalFunction, body: bytes, before: CpuCounters | None, run: SizeRun
) -> tuple[Sample, CpuCounters | None]:
    event = json.dumps(post_event(body)).encode()
    start = time.perf_counter()
    result = function.invoke_raw(event)
    wall_ms = (time.perf_counter() - start) * 1000
    error = result.error
    if error is None:
        response = result_to_response(result.raw)
        run.response_bytes = len(response.body)
        if 400 <= response.status < 500:
            raise BenchError(
                f"{function.name} answered HTTP {response.status} to the benchmark request "
                f"({response.body[:200].decode('utf-8', 'replace')}); give a request it "
                "accepts ({0})",
                Option("body", '{"instances": [...]}'),
            )
        if response.status >= 500:
            error = f"HTTP {response.status}"
    envs = function.environments
    counters = read_counters(envs[0].pid) if envs else None
    cpu_ms, throttled_ms = counters.since(before) if counters else (None, None)
    report = result.report
    sample = Sample(
        cold=report.init_duration_ms is not None,
        duration_ms=report.duration_ms,
        billed_ms=report.billed_duration_ms,
        init_ms=report.init_duration_ms,
        max_memory_mb=report.max_memory_used_mb,
        memory_size_mb=report.memory_size_mb,
        wall_ms=wall_ms,
        cpu_ms=cpu_ms,
        throttled_ms=throttled_ms,
        error=error,
    )
    return sample, counters
