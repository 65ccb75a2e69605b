"""Lambda's CPU share and memory ceiling for one environment, through cgroup v1 where allowed.

Lambda gives a function CPU in proportion to its memory — 1,769 MB is one full vCPU, 128 MB is
7 % of one, and the share grows to 6 vCPUs at 10,240 MB — and kills an environment that uses
more memory than configured (``Runtime.OutOfMemory``). A child process gets neither by itself.
Where this machine lets the emulator write the cgroup-v1 ``cpu`` and ``memory`` controllers
(as root on a host that mounts them), each environment gets its own group:

- ``cpu.cfs_quota_us`` = share × ``cpu.cfs_period_us``: a 128 MB function really runs ~14×
  slower per CPU-bound step than one with a whole vCPU, as on Lambda;
- ``memory.limit_in_bytes`` = the function's memory: going over it ends in the kernel's OOM kill
  (counted in ``memory.oom_control``), and ``memory.max_usage_in_bytes`` is the peak;
- every process the runtime starts stays in the group, so :meth:`Cgroup.kill_all` leaves no
  descendant behind, whatever session it put itself in.

Where the controllers are missing or read-only, :func:`support` says why, and the caller runs the
environment unthrottled (and should say that results are optimistic for small memory sizes).
Groups are named ``sklambda-<owner pid>-<n>``; :func:`sweep_orphans` removes those of owners that
died without cleaning up.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from sklambda import limits

__all__ = ["CGROUP_ROOT", "Cgroup", "Support", "cpu_share", "support", "sweep_orphans"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
MAX_VCPUS = 6
_PREFIX = "sklambda-"
_counter = itertools.count()


def cpu_share(memory_mb: int) -> float:
    """The vCPUs Lambda gives a function of ``memory_mb`` (1,769 MB = 1.0, at most 6)."""
    return min(MAX_VCPUS, memory_mb / limits.MB_PER_VCPU)


@dataclass(frozen=True)
class Support:
    """What this machine lets the emulator enforce.

    ``cpu`` / ``memory``: whether the controller can be used; ``reason``: why not, in words.
    """

    cpu: bool
    memory: bool
    reason: str = ""


def _own_group(controller: str) -> Path:
    """This process's group in ``controller`` (new groups nest under it, inheriting its limits)."""
    base = CGROUP_ROOT / controller
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if controller in names.split(","):
                return base / path.lstrip("/")
    except (OSError, ValueError):
        pass
    return base


def _probe(controller: str, knob: str) -> str:
    """Empty when a child group can be made here and ``knob`` written, else the reason."""
    parent = _own_group(controller)
    if not (parent / knob).exists():
        return f"no cgroup-v1 {controller} controller at {parent}"
    probe = parent / f"{_PREFIX}probe-{os.getpid()}"
    try:
        probe.mkdir()
    except OSError as exc:
        return f"cannot create a {controller} cgroup under {parent} ({exc.strerror})"
    try:
        (probe / knob).write_text((probe / knob).read_text().strip() + "\n")
    except OSError as exc:
        return f"cannot write {controller} limits ({exc.strerror})"
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()
    return ""


@functools.cache
def support() -> Support:
    """Probe once per process whether CPU quota and memory limits can be enforced."""
    cpu_reason = _probe("cpu", "cpu.cfs_quota_us")
    memory_reason = _probe("memory", "memory.limit_in_bytes")
    reasons = [r for r in (cpu_reason, memory_reason) if r]
    return Support(cpu=not cpu_reason, memory=not memory_reason, reason="; ".join(reasons))


class Cgroup:
    """One environment's groups in the ``cpu`` and ``memory`` controllers.

    Create with :meth:`create`; put the child in with :meth:`join_from_child` (its
    ``preexec_fn``), so the quota applies from the first instruction; remove with :meth:`remove`.
    """

    def __init__(self, paths: dict[str, Path], memory_mb: int | None, vcpus: float | None):
        self.paths = paths
        self.memory_mb = memory_mb
        self.vcpus = vcpus
        self._procs = [str(path / "cgroup.procs") for path in paths.values()]

    @classmethod
    def create(cls, *, memory_mb: int, cpu: bool = True, memory: bool = True) -> Cgroup | None:
        """Groups enforcing ``memory_mb`` and its CPU share, or None where neither is possible.

        ``cpu``/``memory`` False leave that controller alone (e.g. CPU not throttled on purpose).
        """
        can = support()
        paths: dict[str, Path] = {}
        name = f"{_PREFIX}{os.getpid()}-{next(_counter)}"
        vcpus: float | None = None
        limit_mb: int | None = None
        try:
            if cpu and can.cpu:
                path = _own_group("cpu") / name
                path.mkdir()
                paths["cpu"] = path
                period = int((path / "cpu.cfs_period_us").read_text())
                vcpus = cpu_share(memory_mb)
                (path / "cpu.cfs_quota_us").write_text(str(max(1000, round(vcpus * period))))
            if memory and can.memory:
                path = _own_group("memory") / name
                path.mkdir()
                paths["memory"] = path
                (path / "memory.limit_in_bytes").write_text(str(memory_mb * 1024 * 1024))
                swap = path / "memory.memsw.limit_in_bytes"
                if swap.exists():  # no swap beyond the limit either: Lambda has none
                    with contextlib.suppress(OSError):
                        swap.write_text(str(memory_mb * 1024 * 1024))
                limit_mb = memory_mb
        except OSError:
            cls(paths, None, None).remove()
            return None
        if not paths:
            return None
        return cls(paths, limit_mb, vcpus)

    def join_from_child(self) -> None:
        """Move the calling process into the groups (run between fork and exec)."""
        pid = str(os.getpid()).encode()
        for procs in self._procs:
            fd = os.open(procs, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    def pids(self) -> set[int]:
        found: set[int] = set()
        for procs in self._procs:
            with contextlib.suppress(OSError, ValueError):
                found.update(int(p) for p in Path(procs).read_text().split())
        return found

    def peak_memory_mb(self) -> int | None:
        """The group's peak memory use in MB (resident + page cache it charged), if limited."""
        path = self.paths.get("memory")
        if path is None:
            return None
        try:
            return -(-int((path / "memory.max_usage_in_bytes").read_text()) // (1024 * 1024))
        except (OSError, ValueError):
            return None

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the group for going over the memory limit."""
        path = self.paths.get("memory")
        if path is None:
            return False
        try:
            for line in (path / "memory.oom_control").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value) > 0
        except (OSError, ValueError):
            pass
        return False

    def kill_all(self, timeout_s: float = 5.0) -> None:
        """SIGKILL every process in the group until none is left (new forks included)."""
        deadline = time.monotonic() + timeout_s
        while True:
            pids = self.pids()
            if not pids or time.monotonic() > deadline:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def remove(self) -> None:
        """Kill what is left and delete the groups (a group with processes cannot be removed)."""
        self.kill_all()
        for path in self.paths.values():
            for _ in range(100):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)  # the last exits are still being accounted


def sweep_orphans() -> list[Path]:
    """Remove sklambda groups whose owner process is gone (killed without cleaning up)."""
    removed: list[Path] = []
    for controller in ("cpu", "memory"):
        parent = _own_group(controller)
        for path in parent.glob(f"{_PREFIX}*"):
            try:
                owner = int(path.name[len(_PREFIX) :].split("-", 1)[0])
            except ValueError:
                continue
            if owner == os.getpid() or Path(f"/proc/{owner}").exists():
                continue
            orphan = Cgroup({controller: path}, None, None)
            orphan.remove()
            if not path.exists():
                removed.append(path)
    return removed
