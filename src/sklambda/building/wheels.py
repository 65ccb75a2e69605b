"""Resolve packages as wheels for a Lambda target, never for the build machine.

uv (a dependency of sklambda) installs into a folder for the target's platform tag and Python
version with binary wheels only; its cache keeps downloads between builds.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from sklambda.building.targets import Target
from sklambda.errors import SklambdaError


def uv_binary() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def host_platform() -> str:
    """uv's ``--python-platform`` for this machine (for twins verified here)."""
    import platform

    libc, version = platform.libc_ver()
    major, _, minor = version.partition(".")
    if libc != "glibc" or not minor.isdigit():
        return f"{platform.machine()}-manylinux_2_17"
    return f"{platform.machine()}-manylinux_{major}_{minor}"


def install(
    requirements: Sequence[str], into: Path, target: Target, *, platform: str | None = None
) -> dict[str, str]:
    """Install ``requirements`` for ``target`` into ``into``; returns ``{dist: version}``.

    ``platform`` overrides the target's platform tag (twins built for this machine).
    """
    command = [
        uv_binary(),
        "pip",
        "install",
        "--quiet",
        "--target",
        str(into),
        "--python-platform",
        platform or target.platform,
        "--python-version",
        target.python,
        "--only-binary",
        ":all:",
        "--no-compile",
        # Copies, not links into uv's cache: slimming edits files in place (GNU strip rewrites
        # hard-linked files where they are), which must never reach the cache.
        "--link-mode",
        "copy",
        *requirements,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()
        raise SklambdaError(
            f"cannot resolve {' '.join(requirements)} for {target.runtime} on {target.arch} "
            f"({target.platform}): {detail[-1] if detail else 'uv failed'}"
        )
    return installed_versions(into)


def installed_versions(folder: Path) -> dict[str, str]:
    """``{distribution: version}`` from the ``*.dist-info`` folders in ``folder``."""
    versions = {}
    for info in folder.glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].rpartition("-")
        versions[name.lower().replace("_", "-")] = version
    return dict(sorted(versions.items()))
