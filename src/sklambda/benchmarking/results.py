"""The results file of ``bench`` and ``tune`` (``--out RESULTS.json``), which ``cost`` reads.

```
{"format": "sklambda-bench-results", "format_version": 1, "created_at": …, "machine": …,
 "packages": [{"name", "dist", "runtime", "python", "arch", "where": "local" | "deployed",
               "function", "rows",
               "sizes": [{"memory_mb", "cold_ms": {"p50", "p90", "p99", "n"}, "warm_ms": {…},
                          "init_ms", "billed_warm_ms", "max_memory_mb",
                          "cpu_share": {"applied", "vcpus", "reason"}, "memory_limit",
                          "request_bytes", "response_bytes", "errors", "samples": [...]}, …]}],
 "notes": [...],
 "recommended_memory_mb", "tune": {…}        (tune only)}
```

- ``cold_ms``: INIT + duration of invocations that started an environment (what Lambda's
  REPORT says the caller waited, without the network); ``warm_ms``: duration of the others;
  ``init_ms``: median INIT duration; ``billed_warm_ms``: mean billed duration of warm requests
  (each rounded up to 1 ms), the figure the cost model prices;
- ``cpu_share.applied`` false means the CPU was not throttled: results are then optimistic for
  memory sizes under 1,769 MB, and ``reason`` says why.

The format is versioned: a reader refuses a version it does not know rather than guess.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklambda.benchmarking.errors import BenchError
from sklambda.benchmarking.percentiles import summary
from sklambda.benchmarking.samples import Sample
from sklambda.errors import Option

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "BenchResults",
    "PackageResult",
    "Picked",
    "SizeResult",
    "load_results",
    "pick_size",
]

FORMAT = "sklambda-bench-results"
FORMAT_VERSION = 1


@dataclass
class SizeResult:
    """One package at one memory size."""

    memory_mb: int
    samples: list[Sample]
    cpu_share: dict[str, Any]
    memory_limit: str
    request_bytes: int
    response_bytes: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def cold(self) -> list[Sample]:
        return [s for s in self.samples if s.cold and s.error is None]

    @property
    def warm(self) -> list[Sample]:
        return [s for s in self.samples if not s.cold and s.error is None]

    @property
    def ok(self) -> bool:
        """Measured without failures (a size that ran out of memory is not)."""
        return not self.errors and bool(self.cold or self.warm)

    def to_json(self) -> dict[str, Any]:
        cold, warm = self.cold, self.warm
        inits = [s.init_ms for s in cold if s.init_ms is not None]
        used = [s.max_memory_mb for s in self.samples if s.max_memory_mb]
        cpu = [s.cpu_ms for s in cold if s.cpu_ms is not None]
        throttled = [s.throttled_ms for s in cold if s.throttled_ms is not None]
        return {
            "memory_mb": self.memory_mb,
            "cold_ms": summary([s.latency_ms for s in cold]),
            "warm_ms": summary([s.duration_ms for s in warm]),
            "init_ms": statistics.median(inits) if inits else None,
            "billed_warm_ms": statistics.fmean(s.billed_ms for s in warm) if warm else None,
            "max_memory_mb": max(used) if used else None,
            "cpu_share": self.cpu_share,
            "memory_limit": self.memory_limit,
            "wall_cold_ms": summary([s.wall_ms for s in cold]),
            "wall_warm_ms": summary([s.wall_ms for s in warm]),
            "cold_cpu_ms": summary(cpu),
            "cold_throttled_ms": summary(throttled),
            "request_bytes": self.request_bytes,
            "response_bytes": self.response_bytes,
            "errors": self.errors,
            "samples": [s.to_json() for s in self.samples],
        }


@dataclass
class PackageResult:
    """One package over the memory sizes measured."""

    name: str
    dist: str
    runtime: str | None
    python: str
    arch: str
    rows: int
    where: str = "local"
    function: str | None = None
    sizes: list[SizeResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dist": self.dist,
            "runtime": self.runtime,
            "python": self.python,
            "arch": self.arch,
            "where": self.where,
            "function": self.function,
            "rows": self.rows,
            "sizes": [size.to_json() for size in self.sizes],
        }


@dataclass
class BenchResults:
    """What ``sklambda.bench`` measured; :meth:`to_json` is the results file."""

    packages: list[PackageResult]
    created_at: str
    machine: str
    sklambda_version: str
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": self.created_at,
            "sklambda_version": self.sklambda_version,
            "machine": self.machine,
            "packages": [p.to_json() for p in self.packages],
            "notes": self.notes,
        }

    def write(self, path: str | Path) -> Path:
        """Write the results file (JSON)."""
        return write_document(self.to_json(), path)


def write_document(document: Mapping[str, Any], path: str | Path) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return target


def load_results(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A results document from a file (or as given), checked for its format and version."""
    if isinstance(source, Mapping):
        document: Any = dict(source)
        where = "the results"
    else:
        where = str(source)
        try:
            document = json.loads(Path(source).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BenchError(f"results file not found: {source}") from None
        except (OSError, ValueError) as exc:
            raise BenchError(f"{source} is not a readable JSON results file ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BenchError(
            f"{where} is not a sklambda results file (write one with sklambda bench --out)"
        )
    if document.get("format_version") != FORMAT_VERSION:
        raise BenchError(
            f"{where} has format_version {document.get('format_version')!r}; this sklambda "
            f"reads version {FORMAT_VERSION} (re-run the benchmark)"
        )
    return document


@dataclass(frozen=True)
class Picked:
    """The run a cost estimate prices, from a results file."""

    package: str
    memory_mb: int
    billed_warm_ms: float
    init_ms: float | None
    arch: str
    payload_bytes: float | None
    where: str

    def describe(self) -> str:
        return f"{self.package} at {self.memory_mb} MB ({self.where})"


def pick_size(
    source: str | Path | Mapping[str, Any],
    *,
    package: str | None = None,
    memory_mb: int | None = None,
) -> Picked:
    """One package at one memory size of a results file.

    ``package`` is needed when the file has several; ``memory_mb`` when a package has several
    sizes, unless the file is a tune result (its recommended size is then taken).
    """
    document = load_results(source)
    entry = _pick_package(document, package)
    sizes = {s["memory_mb"]: s for s in entry["sizes"]}
    wanted = memory_mb
    if wanted is None and document.get("recommended_memory_mb") in sizes:
        wanted = document["recommended_memory_mb"]
    if wanted is None:
        if len(sizes) != 1:
            raise BenchError(
                f"{entry['name']} was measured at {_list(sizes)} MB: pick one ({{0}})",
                Option("memory", next(iter(sizes))),
            )
        wanted = next(iter(sizes))
    if wanted not in sizes:
        raise BenchError(f"{entry['name']} was not measured at {wanted} MB, only {_list(sizes)}")
    size = sizes[wanted]
    if size.get("billed_warm_ms") is None:
        raise BenchError(
            f"{entry['name']} at {wanted} MB has no warm measurement to price "
            f"({'; '.join(size.get('errors') or []) or 'no warm samples'})"
        )
    request, response = size.get("request_bytes"), size.get("response_bytes")
    payload = float(request + response) if request is not None and response is not None else None
    return Picked(
        package=entry["name"],
        memory_mb=int(wanted),
        billed_warm_ms=float(size["billed_warm_ms"]),
        init_ms=size.get("init_ms"),
        arch=str(entry.get("arch") or "x86_64"),
        payload_bytes=payload,
        where=str(source) if not isinstance(source, Mapping) else "results",
    )


def _pick_package(document: Mapping[str, Any], package: str | None) -> dict[str, Any]:
    packages = document.get("packages") or []
    names = [p["name"] for p in packages]
    if package is not None:
        for entry in packages:
            if entry["name"] == package:
                return dict(entry)
        raise BenchError(f"no package {package!r} in the results; they hold {', '.join(names)}")
    if len(packages) != 1:
        raise BenchError(
            f"the results hold {len(packages)} packages ({', '.join(names)}): pick one ({{0}})",
            Option("package", names[0] if names else "NAME"),
        )
    return dict(packages[0])


def _list(sizes: Mapping[int, Any]) -> str:
    return ", ".join(str(m) for m in sorted(sizes))
