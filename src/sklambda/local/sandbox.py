"""Confinement of an environment process: memory ceiling, descriptor limit, read-only code.

Lambda's sandbox is a microVM; here it is an ordinary child process, so the limits are the ones a
process can get without privileges or extra dependencies:

- Memory: ``RLIMIT_AS`` set to the function's memory plus :data:`ADDRESS_SPACE_ALLOWANCE_MB`.
  ``RLIMIT_AS`` caps *virtual* memory, which is always larger than what Lambda limits (resident
  memory): every thread reserves a stack, glibc reserves malloc arenas, OpenBLAS reserves buffers.
  A cap of exactly ``memory`` would fail functions that Lambda runs fine, so the ceiling is
  generous: a function that allocates well past its memory still fails, with ``MemoryError``.
- Open files: 1,024, Lambda's limit.
- Read-only code: the extracted task root and layers are chmod-ed read-only. Permission bits do not
  stop root, so when the host runs as root the child also loses the capabilities that override
  them (``CAP_DAC_OVERRIDE``, ``CAP_DAC_READ_SEARCH``, ``CAP_FOWNER``) by dropping them from its
  bounding set before ``exec``.
"""

from __future__ import annotations

import ctypes
import os
import resource
import stat
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "ADDRESS_SPACE_ALLOWANCE_MB",
    "FILE_DESCRIPTOR_LIMIT",
    "make_preexec",
    "make_read_only",
    "make_writable",
]

ADDRESS_SPACE_ALLOWANCE_MB = 1024
FILE_DESCRIPTOR_LIMIT = 1024

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2
_CAP_FOWNER = 3
_CAP_SETPCAP = 8
_DROPPED_CAPS = (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER)


def _effective_caps() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return 0


def _prctl() -> Callable[..., int] | None:
    """Return libc's prctl when the child must and can drop capabilities, else None.

    Looked up in the parent: the child between fork and exec should only make the call.
    """
    if os.geteuid() != 0 or not _effective_caps() & (1 << _CAP_SETPCAP):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def make_preexec(
    memory_mb: int | None, then: Callable[[], None] | None = None
) -> Callable[[], None]:
    """Build the ``preexec_fn`` that confines an environment process.

    Parameters
    ----------
    memory_mb : int or None
        The function's memory setting; the address-space ceiling is this plus
        :data:`ADDRESS_SPACE_ALLOWANCE_MB`. None: no address-space ceiling (a memory cgroup
        enforces the real, resident limit instead, see :mod:`sklambda.local.cgroups`).
    then : callable, optional
        Run last, still before ``exec`` (joining the environment's cgroups).
    """
    address_space = (
        None if memory_mb is None else (memory_mb + ADDRESS_SPACE_ALLOWANCE_MB) * 1024 * 1024
    )
    prctl = _prctl()
    _, nofile_hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    nofile = FILE_DESCRIPTOR_LIMIT
    if nofile_hard != resource.RLIM_INFINITY:
        nofile = min(nofile, nofile_hard)

    def confine() -> None:
        if address_space is not None:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        if then is not None:
            then()
        if prctl is not None:
            for cap in _DROPPED_CAPS:
                prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)

    return confine


def make_read_only(root: Path) -> None:
    """Make a tree read-only: files 0o444 (0o555 when executable), directories 0o555."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                continue
            mode = os.stat(path).st_mode
            os.chmod(path, 0o555 if mode & stat.S_IXUSR else 0o444)
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o555)
    os.chmod(root, 0o555)


def make_writable(root: Path) -> None:
    """Undo :func:`make_read_only` so the tree can be deleted."""
    if not root.exists():
        return
    os.chmod(root, 0o755)
    for dirpath, dirnames, _ in os.walk(root):
        for name in dirnames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755)
