"""Lambda's Python runtimes: OS, glibc, and the wheel platform tags that load on each."""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda.errors import Option, SklambdaError

if TYPE_CHECKING:
    from sklambda.dist import TargetReport

ARCHES = ("x86_64", "arm64")


@dataclass(frozen=True)
class Target:
    """One Lambda runtime and architecture to build for."""

    python: str  # "3.12"
    arch: str  # "x86_64" | "arm64"
    reason: str = field(default="", compare=False)  # why --python auto chose this version

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
        out: TargetReport = {
            "python": self.python,
            "arch": self.arch,
            "runtime": self.runtime,
            "os": self.os,
            "glibc": self.glibc,
            "platform": self.platform,
        }
        if self.reason:
            out["chosen"] = self.reason
        return out


PYTHONS = ("3.11", "3.12", "3.13", "3.14")
AUTO = "auto"
# What ``--python`` / ``python=`` accept: a version, or ``auto`` (the default: see pick_target).
PYTHON_CHOICES = (AUTO, *PYTHONS)


def default_python() -> str:
    """The build machine's version when Lambda offers it, else 3.12."""
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return here if here in PYTHONS else "3.12"


def target(python: str | None = None, arch: str = "x86_64") -> Target:
    """Check and build a :class:`Target`."""
    python = python or default_python()
    if python not in PYTHONS:
        raise SklambdaError(
            f"Lambda has no python{python} runtime; choose one of {', '.join(PYTHONS)}, or {{0}} "
            "to pick the newest that can run the model",
            Option("python", AUTO),
        )
    if arch not in ARCHES:
        raise SklambdaError(f'unknown architecture "{arch}"; choose one of {", ".join(ARCHES)}')
    return Target(python, arch)


def trained_requirements(manifest: Mapping[str, Any]) -> list[str] | None:
    """The scikit-learn, numpy and scipy releases a bundle was trained with, as pins."""
    versions = manifest.get("versions", {})
    if not all(versions.get(lib) for lib in ("sklearn", "numpy", "scipy")):
        return None
    return [
        f"scikit-learn=={versions['sklearn']}",
        f"numpy=={versions['numpy']}",
        f"scipy=={versions['scipy']}",
    ]


def has_wheels(requirements: list[str], tgt: Target) -> bool:
    """Whether ``tgt``'s platform has binary wheels of exactly ``requirements`` (uv resolves them
    without installing; its cache makes the answer cheap after the first time)."""
    return _has_wheels(tuple(requirements), tgt.platform, tgt.python)


@functools.cache
def _has_wheels(requirements: tuple[str, ...], platform: str, python: str) -> bool:
    import subprocess
    import tempfile

    from sklambda.building.wheels import uv_binary

    with tempfile.TemporaryDirectory(prefix="sklambda-wheels-") as into:
        command = [
            uv_binary(),
            "pip",
            "install",
            "--dry-run",
            "--quiet",
            "--target",
            into,
            "--python-platform",
            platform,
            "--python-version",
            python,
            "--only-binary",
            ":all:",
            *requirements,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    return result.returncode == 0


def pick_target(python: str | None, arch: str, bundle: str | Path, runtime: str = "auto") -> Target:
    """The :class:`Target` to build ``bundle`` for; ``python`` ``auto`` (or None) chooses.

    ``auto`` picks the newest Lambda Python that can run the model as trained: unless the lean
    runtime was asked for, one whose platform has wheels of the scikit-learn, numpy and scipy
    releases the bundle records (what the scikit-learn runtime installs; numpy for the lean
    runtime comes with them). Among those, a version this machine has an interpreter of comes
    first: the package then ships bytecode compiled for it and is verified on the real version
    rather than a twin. The choice and its reason are in ``Target.reason``.
    """
    if python not in (None, AUTO):
        return target(python, arch)
    target(PYTHONS[-1], arch)  # the architecture is checked before anything is read
    from sklambda.bundle.format import read_manifest

    requirements = None if runtime == "lean" else trained_requirements(read_manifest(bundle))
    return python_for(requirements, arch, lean=runtime == "lean")


def python_for(requirements: list[str] | None, arch: str, *, lean: bool = False) -> Target:
    """The newest Lambda Python with wheels of ``requirements`` (see :func:`pick_target`)."""
    from sklambda.local.interpreters import find_interpreter

    newest_first = list(reversed(PYTHONS))
    here = [p for p in newest_first if find_interpreter(p) is not None]
    if requirements is None:
        chosen = here[0] if here else default_python()
        why = (
            "the lean runtime runs on every Lambda Python"
            if lean
            else "the bundle records no scikit-learn/numpy/scipy versions to match"
        )
        return Target(chosen, arch, f"python{chosen}: the newest here; {why}")
    trained = ", ".join(r.replace("==", " ") for r in requirements)
    able = [p for p in newest_first if has_wheels(requirements, Target(p, arch))]
    if not able:
        chosen = here[0] if here else default_python()
        return Target(
            chosen,
            arch,
            f"python{chosen}: the newest here; no Lambda Python has wheels of {trained} for "
            f"{arch}, so only the lean runtime can build this model",
        )
    local = [p for p in able if p in here]
    chosen = local[0] if local else able[0]
    without = [p for p in able if p > chosen]
    why = f"python{chosen}: the newest Lambda Python with wheels of {trained} for {arch}"
    if without:
        why += (
            f" that this machine can run (python{', python'.join(without)} would ship no "
            "bytecode and be verified through a twin)"
        )
    lacking = [p for p in newest_first if p not in able]
    if lacking:
        why += f"; python{', python'.join(lacking)} has no such wheels"
    return Target(chosen, arch, why)


def host_machine() -> str:
    """This machine's architecture as wheel tags name it (``x86_64``, ``aarch64``)."""
    import platform

    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def host_arch() -> str:
    """This machine's architecture as Lambda names it (``x86_64``, ``arm64``)."""
    return "arm64" if host_machine() == "aarch64" else "x86_64"
