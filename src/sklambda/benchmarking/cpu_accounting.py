"""CPU time and quota throttling of an environment, from the kernel's own counters.

Timings flake on a shared machine; these counters do not. ``/proc/<pid>/stat`` gives the CPU
time the runtime process used (threads and waited-for children included), and the ``cpu.stat``
of the cgroup the emulator put it in gives ``throttled_time``: how long the kernel held the
group back to keep it within Lambda's CPU share. A 128 MB environment (7 % of a vCPU) that
needs 100 ms of CPU is held back for about 1.3 s of it, whatever else the machine is doing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sklambda.local.cgroups import CGROUP_ROOT

__all__ = ["CpuCounters", "read_counters"]

GROUP_PREFIX = "sklambda-"
"""How :class:`sklambda.local.cgroups.Cgroup` names an environment's groups."""


@dataclass(frozen=True)
class CpuCounters:
    """Cumulative counters of one environment at one moment."""

    cpu_ms: float
    throttled_ms: float | None
    nr_throttled: int | None

    def since(self, earlier: CpuCounters | None) -> tuple[float, float | None]:
        """CPU and throttled milliseconds since ``earlier`` (since start, when None)."""
        if earlier is None:
            return self.cpu_ms, self.throttled_ms
        throttled = None
        if self.throttled_ms is not None and earlier.throttled_ms is not None:
            throttled = self.throttled_ms - earlier.throttled_ms
        return self.cpu_ms - earlier.cpu_ms, throttled


def _cpu_ms(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # utime, stime, cutime, cstime: fields 14-17 of proc(5), 11-14 after the command name.
    ticks = sum(int(value) for value in fields[11:15])
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def _cpu_group(pid: int) -> Path | None:
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        # Only a group the emulator made for this environment: any other is shared.
        if "cpu" in controllers.split(",") and Path(path).name.startswith(GROUP_PREFIX):
            return CGROUP_ROOT / "cpu" / path.lstrip("/")
    return None


def read_counters(pid: int) -> CpuCounters | None:
    """The counters of the environment whose runtime process is ``pid`` (None if it is gone)."""
    cpu = _cpu_ms(pid)
    if cpu is None:
        return None
    group = _cpu_group(pid)
    throttled: float | None = None
    periods: int | None = None
    if group is not None:
        try:
            stat = dict(line.split() for line in (group / "cpu.stat").read_text().splitlines())
            throttled = int(stat["throttled_time"]) / 1e6
            periods = int(stat["nr_throttled"])
        except (OSError, KeyError, ValueError):
            pass
    return CpuCounters(cpu, throttled, periods)
