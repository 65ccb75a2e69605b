"""Lambda's Python runtimes: OS, glibc, and the wheel platform tags that load on each."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sklambda.errors import SklambdaError

if TYPE_CHECKING:
    from sklambda.dist import TargetReport

ARCHES = ("x86_64", "arm64")


@dataclass(frozen=True)
class Target:
    """One Lambda runtime and architecture to build for."""

    python: str  # "3.12"
    arch: str  # "x86_64" | "arm64"

    @property
    def runtime(self) -> str:
        return f"python{self.python}"

    @property
    def os(self) -> str:
        return "Amazon Linux 2" if self.python == "3.11" else "Amazon Linux 2023"

    @property
    def glibc(self) -> str:
        return "2.26" if self.python == "3.11" else "2.34"

    @property
    def machine(self) -> str:
        return "aarch64" if self.arch == "arm64" else "x86_64"

    @property
    def platform(self) -> str:
        """uv's ``--python-platform``: the newest manylinux the runtime's glibc loads."""
        # Amazon Linux 2 (glibc 2.26) loads manylinux2014 (= 2_17) wheels only.
        tag = "manylinux_2_17" if self.python == "3.11" else "manylinux_2_34"
        return f"{self.machine}-{tag}"

    def to_dict(self) -> TargetReport:
        return {
            "python": self.python,
            "arch": self.arch,
            "runtime": self.runtime,
            "os": self.os,
            "glibc": self.glibc,
            "platform": self.platform,
        }


PYTHONS = ("3.11", "3.12", "3.13", "3.14")


def default_python() -> str:
    """The build machine's version when Lambda offers it, else 3.12."""
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return here if here in PYTHONS else "3.12"


def target(python: str | None = None, arch: str = "x86_64") -> Target:
    """Check and build a :class:`Target`."""
    python = python or default_python()
    if python not in PYTHONS:
        raise SklambdaError(
            f"Lambda has no python{python} runtime; choose one of {', '.join(PYTHONS)}"
        )
    if arch not in ARCHES:
        raise SklambdaError(f'unknown architecture "{arch}"; choose one of {", ".join(ARCHES)}')
    return Target(python, arch)


def host_machine() -> str:
    """This machine's architecture as wheel tags name it (``x86_64``, ``aarch64``)."""
    import platform

    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def host_arch() -> str:
    """This machine's architecture as Lambda names it (``x86_64``, ``arm64``)."""
    return "arm64" if host_machine() == "aarch64" else "x86_64"
