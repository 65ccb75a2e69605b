"""One measured invocation, and the REPORT line it is read from when the function is deployed.

Lambda writes ``REPORT RequestId: … Duration: 2.04 ms Billed Duration: 3 ms Memory Size: 1024 MB
Max Memory Used: 81 MB Init Duration: 812.30 ms`` after every invocation; ``Init Duration`` is
there only when the invocation started a new environment, which is how a cold start is told
from a warm one — locally and on AWS alike.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Sample", "parse_report_line"]

_FIELDS = {
    "duration_ms": re.compile(r"(?<!Billed )(?<!Init )(?<!Restore )Duration: ([\d.]+) ms"),
    "billed_ms": re.compile(r"Billed Duration: (\d+) ms"),
    "memory_size_mb": re.compile(r"Memory Size: (\d+) MB"),
    "max_memory_mb": re.compile(r"Max Memory Used: (\d+) MB"),
    "init_ms": re.compile(r"Init Duration: ([\d.]+) ms"),
}


@dataclass(frozen=True)
class Sample:
    """One invocation as measured.

    Attributes
    ----------
    cold : bool
        It started a new environment (its REPORT had an Init Duration).
    duration_ms, billed_ms, init_ms, max_memory_mb, memory_size_mb
        From the REPORT record.
    wall_ms : float
        The caller's view, invoke call → answer: locally that includes unpacking the package
        and starting the process; for a deployed function, the network round trip.
    cpu_ms, throttled_ms : float or None
        Locally, CPU time of the runtime process and the time the kernel held its CPU group back
        to keep it within its quota, over this invocation (a cold one: init included).
    error : str or None
        The invocation's error type (``Runtime.OutOfMemory``…), if it failed.
    """

    cold: bool
    duration_ms: float
    billed_ms: int
    init_ms: float | None
    max_memory_mb: int
    memory_size_mb: int
    wall_ms: float
    cpu_ms: float | None = None
    throttled_ms: float | None = None
    error: str | None = None

    @property
    def latency_ms(self) -> float:
        """What Lambda measured for the caller: INIT (when cold) plus the invocation."""
        return (self.init_ms or 0.0) + self.duration_ms

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sample:
        fields: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__}
        return cls(**fields)


def parse_report_line(log: str) -> dict[str, Any] | None:
    """The fields of the last REPORT line in ``log`` (None if there is none)."""
    lines = [line for line in log.splitlines() if line.startswith("REPORT ")]
    if not lines:
        return None
    line = lines[-1]
    found: dict[str, Any] = {}
    for key, pattern in _FIELDS.items():
        match = pattern.search(line)
        if match is None:
            found[key] = None
        elif key in ("duration_ms", "init_ms"):
            found[key] = float(match.group(1))
        else:
            found[key] = int(match.group(1))
    if found["duration_ms"] is None or found["billed_ms"] is None:
        return None
    status = re.search(r"Status: (\w+)", line)
    found["status"] = status.group(1) if status else None
    return found
