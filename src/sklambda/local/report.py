"""REPORT records: what Lambda logs after every invoke."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Report", "peak_rss_mb"]


@dataclass(frozen=True)
class Report:
    """One invoke's REPORT record.

    Attributes
    ----------
    request_id : str
    duration_ms : float
        Event handed to the runtime → response (or error) received. On a timeout, the timeout.
    billed_duration_ms : int
        ``duration_ms`` rounded up to the millisecond, plus the init duration on cold starts
        (Lambda bills the INIT phase of on-demand zip functions since 2025-08-01).
    memory_size_mb : int
        The function's memory setting.
    max_memory_used_mb : int
        Peak resident memory of the environment's Python process so far (``VmHWM`` from
        ``/proc/<pid>/status``), like Lambda's figure a high-water mark over the environment's
        life. Processes the function starts are not counted.
    init_duration_ms : float or None
        Process start → first ``/next`` call, on cold starts only.
    status : str or None
        ``timeout`` or ``error`` when the environment failed (Lambda adds ``Status:``).
    error_type : str or None
        With ``status``: e.g. ``Runtime.ExitError``.
    log_stream : str
        The environment that served the invoke.
    """

    request_id: str
    duration_ms: float
    billed_duration_ms: int
    memory_size_mb: int
    max_memory_used_mb: int
    init_duration_ms: float | None
    status: str | None
    error_type: str | None
    log_stream: str

    @classmethod
    def build(
        cls,
        *,
        request_id: str,
        duration_ms: float,
        memory_size_mb: int,
        max_memory_used_mb: int,
        init_duration_ms: float | None,
        log_stream: str,
        status: str | None = None,
        error_type: str | None = None,
    ) -> Report:
        """Make a record, computing the billed duration."""
        billed = duration_ms + (init_duration_ms or 0.0)
        return cls(
            request_id=request_id,
            duration_ms=duration_ms,
            billed_duration_ms=max(1, math.ceil(billed)),
            memory_size_mb=memory_size_mb,
            max_memory_used_mb=max_memory_used_mb,
            init_duration_ms=init_duration_ms,
            status=status,
            error_type=error_type,
            log_stream=log_stream,
        )

    @property
    def line(self) -> str:
        """The record as Lambda writes it to the log."""
        text = (
            f"REPORT RequestId: {self.request_id}\tDuration: {self.duration_ms:.2f} ms\t"
            f"Billed Duration: {self.billed_duration_ms} ms\t"
            f"Memory Size: {self.memory_size_mb} MB\t"
            f"Max Memory Used: {self.max_memory_used_mb} MB\t"
        )
        if self.init_duration_ms is not None:
            text += f"Init Duration: {self.init_duration_ms:.2f} ms\t"
        if self.status is not None:
            text += f"Status: {self.status}\t"
            if self.error_type is not None:
                text += f"Error Type: {self.error_type}\t"
        return text.rstrip("\t")


def peak_rss_mb(pid: int) -> int | None:
    """Peak resident set size of a live process in MB (``VmHWM``), or None if unavailable."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            kilobytes = int(line.split()[1])
            return math.ceil(kilobytes / 1024)
    return None
