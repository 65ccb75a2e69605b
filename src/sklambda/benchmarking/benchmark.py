"""``sklambda.bench()``: cold and warm latency of built packages, by memory size.

The orchestration, one step per line of :func:`bench`: packages (a bundle is built and verified
first), the request each is sent, then per memory size either the local emulator with Lambda's
CPU share (:mod:`~sklambda.benchmarking.local_runs`) or the deployed function read through its
REPORT lines (:mod:`~sklambda.benchmarking.deployed`), gathered into the results file format
(:mod:`~sklambda.benchmarking.results`).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sklambda import limits
from sklambda.benchmarking.errors import BenchError
from sklambda.benchmarking.local_runs import LocalSettings, run_local
from sklambda.benchmarking.payloads import request_body
from sklambda.benchmarking.results import BenchResults, PackageResult, SizeResult
from sklambda.benchmarking.samples import Sample
from sklambda.local.cgroups import cpu_share as lambda_cpu_share
from sklambda.local.dist import Dist, load_dist

__all__ = ["DEFAULT_MEMORY", "Deployed", "Progress", "bench", "machine"]

DEFAULT_MEMORY = (1024,)


@dataclass(frozen=True)
class Progress:
    """Where a benchmark is: ``done`` of ``total`` invocations, and what it is doing."""

    done: int
    total: int
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Deployed:
    """A deployed function to measure instead of the local emulator."""

    name: str
    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None


class _Ticker:
    def __init__(self, total: int, sink: Callable[[Progress], None] | None) -> None:
        self.done, self.total, self.sink = 0, total, sink

    def say(self, message: str) -> None:
        if self.sink is not None:
            self.sink(Progress(self.done, self.total, message))

    def sample(self, label: str, sample: Sample) -> None:
        self.done += 1
        kind = "cold" if sample.cold else "warm"
        self.say(f"{label}: {kind} {sample.latency_ms:,.1f} ms")


def machine() -> str:
    """This machine in a few words: OS, architecture, CPU model, cores."""
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores"


def bench(
    packages: str | Path | Sequence[str | Path],
    *,
    cold: int = 5,
    warm: int = 20,
    rows: int = 1,
    memory: int | Sequence[int] | None = None,
    arch: str | None = None,
    deployed: Deployed | str | None = None,
    body: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    cpu_share: bool = True,
    memory_limit: bool = True,
    timeout: float = 60.0,
    on_progress: Callable[[Progress], None] | None = None,
) -> BenchResults:
    """Measure cold and warm latency of packages at one or more memory sizes.

    Parameters
    ----------
    packages : path or sequence of paths
        Package directories (``sklambda build``), or bundles (built and verified first).
    cold : int
        Cold starts per package and memory size, each in a fresh environment.
    warm : int
        Requests on a warm environment per package and memory size.
    rows : int
        Rows per request (drawn from the model's recorded feature ranges).
    memory : int or sequence of int, optional
        Memory sizes in MB (default 1,024 locally; a deployed function's own size).
    arch : str, optional
        The architecture the results stand for (default: the package's); prices follow it.
    deployed : Deployed or str, optional
        Measure this deployed function (its name, or :class:`Deployed` with region and
        endpoint) instead of the local emulator; then only one package.
    body : mapping, optional
        The request body to send instead of generated rows.
    env : mapping, optional
        Environment variables of the local function (e.g. ``OPENBLAS_NUM_THREADS``).
    cpu_share, memory_limit : bool
        Give each local environment Lambda's CPU share for its memory and a resident-memory
        limit (where the machine allows; :attr:`~sklambda.local.LocalFunction.enforcement`).
    timeout : float
        Seconds per local invocation (cold ones included).
    on_progress : callable, optional
        Receives a :class:`Progress` after each step.

    Returns
    -------
    BenchResults
        ``to_json()`` is the results file; ``write(path)`` writes it.
    """
    paths = [packages] if isinstance(packages, str | Path) else list(packages)
    sizes = _sizes(memory, deployed is not None)
    _check_counts(cold, warm, rows, paths, deployed)
    target = Deployed(deployed) if isinstance(deployed, str) else deployed
    ticker = _Ticker(len(paths) * len(sizes) * (cold + warm), on_progress)
    settings = LocalSettings(cpu_share, memory_limit, timeout, dict(env or {}))
    if env and target is not None:
        raise BenchError("env sets a local function's variables; a deployed one keeps its own")
    measured = []
    with contextlib.ExitStack() as stack:
        for path in paths:
            dist = load_dist(_package_dir(Path(path), stack, ticker))
            payload = request_body(dist.function_zip, rows, body)
            result = _package_result(dist, rows, arch, target)
            if target is None:
                result.sizes = [
                    _local_size(dist, size, cold, warm, payload, settings, ticker) for size in sizes
                ]
            else:
                result.sizes = _deployed_sizes(target, sizes, cold, warm, payload, ticker)
            measured.append(result)
    return BenchResults(measured, _now(), machine(), _version(), _notes(measured))


def _sizes(memory: int | Sequence[int] | None, deployed: bool) -> list[int | None]:
    if memory is None:
        return [None] if deployed else list(DEFAULT_MEMORY)
    sizes = [memory] if isinstance(memory, int) else list(memory)
    if not sizes:
        raise BenchError("give at least one memory size")
    for size in sizes:
        limits.check_memory(size, BenchError)
    return list(dict.fromkeys(sizes))


def _check_counts(
    cold: int, warm: int, rows: int, paths: list[Any], deployed: Deployed | str | None
) -> None:
    if cold < 0 or warm < 0 or cold + warm < 1:
        raise BenchError(f"ask for at least one cold or warm request, got cold={cold} warm={warm}")
    if rows < 1:
        raise BenchError(f"a request needs at least one row, got rows={rows}")
    if not paths:
        raise BenchError("give at least one package directory or bundle")
    if deployed is not None and len(paths) != 1:
        raise BenchError("a deployed function is one package: give one DIST with it")


def _package_dir(path: Path, stack: contextlib.ExitStack, ticker: _Ticker) -> Path:
    """A package directory; a bundle is built (and verified) into a temporary one first."""
    import tempfile

    from sklambda.bundle.format import MANIFEST

    if not (path / MANIFEST).is_file():
        return path
    from sklambda.building.builder import build

    ticker.say(f"building {path} first…")
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sklambda-bench-")))
    return build(path, tmp / path.name).dist


def _package_result(
    dist: Dist, rows: int, arch: str | None, target: Deployed | None
) -> PackageResult:
    runtime = dist.report.get("runtime")
    return PackageResult(
        name=dist.name,
        dist=str(dist.path),
        runtime=runtime if isinstance(runtime, str) else None,
        python=dist.python,
        arch=arch or dist.arch,
        rows=rows,
        where="local" if target is None else "deployed",
        function=None if target is None else target.name,
    )


def _local_size(
    dist: Dist,
    memory_mb: int | None,
    cold: int,
    warm: int,
    payload: bytes,
    settings: LocalSettings,
    ticker: _Ticker,
) -> SizeResult:
    assert memory_mb is not None
    label = f"{dist.name} {memory_mb} MB"
    ticker.say(f"{label}: starting")
    run = run_local(
        dist,
        memory_mb,
        cold=cold,
        warm=warm,
        body=payload,
        settings=settings,
        on_sample=lambda sample: ticker.sample(label, sample),
    )
    ticker.done += cold + warm - len(run.samples)  # samples skipped after a failure
    enforcement = run.enforcement
    vcpus = enforcement.vcpus if enforcement is not None else None
    reason = enforcement.reason if enforcement is not None else ""
    if not settings.cpu_share:
        reason = "not asked for (cpu_share=False)"
    return SizeResult(
        memory_mb=memory_mb,
        samples=run.samples,
        cpu_share={"applied": vcpus is not None, "vcpus": vcpus, "reason": reason},
        memory_limit=enforcement.memory if enforcement is not None else "address-space",
        request_bytes=len(payload),
        response_bytes=run.response_bytes,
        errors=run.errors,
    )


def _deployed_sizes(
    target: Deployed,
    sizes: list[int | None],
    cold: int,
    warm: int,
    payload: bytes,
    ticker: _Ticker,
) -> list[SizeResult]:
    from sklambda.aws.client import AwsClient
    from sklambda.benchmarking.deployed import ColdStarts, DeployedFunction
    from sklambda.local.url_events import post_event

    client = AwsClient(
        region=target.region, profile=target.profile, endpoint_url=target.endpoint_url
    )
    function = DeployedFunction(client, target.name)
    control = ColdStarts(client, target.name)
    out: list[SizeResult] = []
    try:
        for memory_mb in sizes:
            if memory_mb is not None:
                ticker.say(f"{target.name}: setting {memory_mb} MB")
                control.set_memory(memory_mb)
            samples: list[Sample] = []
            errors: list[str] = []
            response: int | None = None
            for index in range(cold + warm):
                if index < cold:
                    control.force()
                sample, response = function.invoke(json.dumps(post_event(payload)).encode())
                samples.append(sample)
                ticker.sample(target.name, sample)
                if sample.error is not None:
                    errors.append(f"{sample.error} at {sample.memory_size_mb} MB")
                    break
            size = memory_mb or (samples[0].memory_size_mb if samples else control.memory())
            out.append(
                SizeResult(
                    memory_mb=size,
                    samples=samples,
                    cpu_share={"applied": True, "vcpus": lambda_cpu_share(size), "reason": ""},
                    memory_limit="lambda",
                    request_bytes=len(payload),
                    response_bytes=response,
                    errors=errors,
                )
            )
    finally:
        if control.changed:
            ticker.say(f"{target.name}: restoring its configuration")
        control.restore()
    return out


def _notes(measured: list[PackageResult]) -> list[str]:
    notes: list[str] = []
    for package in measured:
        for size in package.sizes:
            if package.where == "local" and not size.cpu_share["applied"]:
                notes.append(
                    f"{package.name} at {size.memory_mb} MB: CPU not throttled "
                    f"({size.cpu_share['reason'] or 'unavailable'}); results are optimistic for "
                    "memory sizes under 1,769 MB"
                )
        if package.where == "local" and package.arch != _host_arch():
            notes.append(
                f"{package.name} stands for {package.arch} but was measured on {_host_arch()}"
            )
    if any(p.where == "local" for p in measured):
        notes.append(
            "measured in the local emulator with Lambda's CPU share; Lambda's own CPUs, disks "
            "and network differ, so read ratios between sizes and packages, not absolute times"
        )
    return list(dict.fromkeys(notes))


def _host_arch() -> str:
    return {"aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), "x86_64")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _version() -> str:
    from sklambda._version import __version__

    return __version__
