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
- ``/tmp``: each environment has its own scratch directory (on disk, deleted with the
  environment). Where the host allows a mount namespace (root with ``CAP_SYS_ADMIN``; see
  :func:`isolation`) it is bind-mounted on ``/tmp`` in the environment's own namespace: private,
  empty at start, even for code that hard-codes ``/tmp``. Elsewhere it is ``TMPDIR`` only, and a
  hard-coded ``/tmp`` path reaches the host's shared one. The size (512 MB by default, up to
  10,240 MB) is the nearest honest thing in both cases: every file is bound by ``RLIMIT_FSIZE``
  (a write past it fails with ``EFBIG`` where Lambda's fails with ``ENOSPC`` once the whole of
  /tmp is full), and after each invoke the environment measures the directory and logs a warning
  when the total is over the size. A ``tmpfs`` would give the exact ``ENOSPC``, but its pages
  count toward the memory cgroup: a 128 MB function could not use its 512 MB /tmp. In the
  namespace ``/tmp`` also holds one directory, the environment's own tree
  (``/tmp/sklambda-env-*``, root-owned: code and layers).
- User: with the mount namespace on a root host, the function runs as uid/gid
  :data:`SANDBOX_UID` (Lambda's ``sbx_user1051``), not root; the interpreter and the runtime
  client are bind-mounted into the environment's tree when the sandbox user could not reach them
  where they are (e.g. under ``/root``).
"""

from __future__ import annotations

import ctypes
import functools
import os
import resource
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ADDRESS_SPACE_ALLOWANCE_MB",
    "FILE_DESCRIPTOR_LIMIT",
    "SANDBOX_UID",
    "Isolation",
    "MountPlan",
    "isolation",
    "make_preexec",
    "make_read_only",
    "make_writable",
    "reachable_by_others",
    "tree_size_mb",
]

SANDBOX_UID = 993
"""Lambda runs functions as ``sbx_user1051``, uid and gid 993."""
_CLONE_NEWNS = 0x00020000
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_PROBE = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x00020000) != 0:
    sys.exit("unshare(CLONE_NEWNS): " + os.strerror(ctypes.get_errno()))
if libc.mount(None, b"/", None, (1 << 18) | 16384, None) != 0:
    sys.exit("making / private: " + os.strerror(ctypes.get_errno()))
if libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 6, b"size=1m,mode=1777") != 0:
    sys.exit("mounting a tmpfs on /tmp: " + os.strerror(ctypes.get_errno()))
"""


@dataclass(frozen=True)
class Isolation:
    """What of Lambda's sandbox this host lets the emulator build.

    ``private_tmp``: a mount namespace with its own sized ``/tmp``; ``uid``: the sandbox user
    functions run as, or None (they run as the host's user); ``reason``: why not, in words.
    """

    private_tmp: bool
    uid: int | None
    reason: str = ""


@functools.cache
def isolation() -> Isolation:
    """Probe once per process whether environments can get a private /tmp and a non-root user."""
    if os.geteuid() != 0:
        return Isolation(
            False, None, "not root: no mount namespace, /tmp is a private TMPDIR directory"
        )
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Isolation(False, None, f"cannot probe mount namespaces ({exc})")
    if done.returncode != 0:
        why = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        return Isolation(
            False,
            None,
            f"no mount namespace ({why[0]}): /tmp is a private TMPDIR directory and the "
            "function runs as root",
        )
    return Isolation(True, SANDBOX_UID)


@dataclass(frozen=True)
class MountPlan:
    """The private mount namespace of one environment (made in its child before ``exec``).

    Attributes
    ----------
    workdir : Path
        The environment's tree; when under ``/tmp`` it is bound back at the same path inside
        the new ``/tmp``, read-only in effect (root-owned, in a sticky ``/tmp``).
    scratch : Path
        The environment's own directory, bind-mounted on ``/tmp``.
    binds : tuple of (source, target)
        Directories to bind-mount into the tree first (interpreter, runtime client).
    uid : int or None
        Switch to this uid/gid last, or stay.
    """

    workdir: Path
    scratch: Path
    binds: tuple[tuple[Path, Path], ...] = ()
    uid: int | None = None


def reachable_by_others(path: Path) -> bool:
    """Whether a user other than the owner can reach ``path`` (every ancestor searchable)."""
    path = path.resolve()
    try:
        for parent in (path, *path.parents):
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
        return bool(os.stat(path).st_mode & stat.S_IROTH)
    except OSError:
        return False


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
    memory_mb: int | None,
    then: Callable[[], None] | None = None,
    *,
    mounts: MountPlan | None = None,
    file_size_mb: int | None = None,
) -> Callable[[], None]:
    """Build the ``preexec_fn`` that confines an environment process.

    Parameters
    ----------
    memory_mb : int or None
        The function's memory setting; the address-space ceiling is this plus
        :data:`ADDRESS_SPACE_ALLOWANCE_MB`. None: no address-space ceiling (a memory cgroup
        enforces the real, resident limit instead, see :mod:`sklambda.local.cgroups`).
    then : callable, optional
        Run after the limits, still as root and before ``exec`` (joining the cgroups).
    mounts : MountPlan, optional
        A private mount namespace: its own ``/tmp``, binds, then the sandbox user.
    file_size_mb : int, optional
        ``RLIMIT_FSIZE``: the largest file the process may write (the bound of /tmp).
    """
    address_space = (
        None if memory_mb is None else (memory_mb + ADDRESS_SPACE_ALLOWANCE_MB) * 1024 * 1024
    )
    prctl = _prctl()
    _, nofile_hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    nofile = FILE_DESCRIPTOR_LIMIT
    if nofile_hard != resource.RLIM_INFINITY:
        nofile = min(nofile, nofile_hard)
    file_size = None if file_size_mb is None else file_size_mb * 1024 * 1024
    mount_namespace = _mount_namespace(mounts) if mounts is not None else None
    uid = mounts.uid if mounts is not None else None

    def confine() -> None:
        if address_space is not None:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        if file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        if then is not None:
            then()
        if mount_namespace is not None:
            mount_namespace()
        if prctl is not None:
            for cap in _DROPPED_CAPS:
                prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)

    return confine


def _mount_namespace(plan: MountPlan) -> Callable[[], None]:
    """The child's half of :class:`MountPlan`; everything it needs is prepared here."""
    libc = ctypes.CDLL(None, use_errno=True)
    mount = libc.mount
    mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    unshare = libc.unshare
    workdir = os.fsencode(plan.workdir)
    rebind = plan.workdir.is_relative_to("/tmp")
    scratch = os.fsencode(plan.scratch)
    binds = [(os.fsencode(src), os.fsencode(dst)) for src, dst in plan.binds]

    def check(result: int, what: str) -> None:
        if result != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"{what}: {os.strerror(errno)}")

    def enter() -> None:
        check(unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        check(mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "making / private")
        for source, target in binds:
            check(mount(source, target, None, _MS_BIND | _MS_REC, None), "bind " + str(target))
        tree = os.open(workdir, os.O_PATH | os.O_DIRECTORY) if rebind else -1
        check(mount(scratch, b"/tmp", None, _MS_BIND, None), "bind the scratch directory on /tmp")
        if rebind:
            os.makedirs(workdir, 0o755, exist_ok=True)
            source = f"/proc/self/fd/{tree}".encode()
            check(mount(source, workdir, None, _MS_BIND | _MS_REC, None), "bind the tree")
            os.close(tree)

    return enter


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


def tree_size_mb(root: Path) -> float:
    """Bytes of the regular files under ``root``, in MB (allocated blocks: sparse files count
    what they hold)."""
    total = 0
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            try:
                info = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                total += info.st_blocks * 512
    return total / (1024 * 1024)
