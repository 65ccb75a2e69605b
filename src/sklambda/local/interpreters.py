"""Find CPython interpreters of a given minor version on this machine.

Packages are built and run locally for the Python version of the Lambda runtime they target
(``python3.12``, …), which is often not the version running sklambda. This module finds such an
interpreter without downloading anything: ``pythonX.Y`` on ``PATH``, ``uv python find`` and
pyenv's versions folder, in that order. Every candidate is run once to confirm its version (a
pyenv shim on ``PATH`` exists for every installed version but only works for the active ones), and
the interpreter's own ``sys.executable`` is kept, so callers get a real binary rather than a shim.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sklambda.local.errors import SettingsError

__all__ = ["Interpreter", "find_interpreter", "find_python", "host_version", "inspect_python"]

_VERSION_RE = re.compile(r"^3\.\d{1,2}$")
_PROBE = "import sys; print(sys.version_info[0], sys.version_info[1]); print(sys.executable)"
_PROBE_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Interpreter:
    """A verified CPython interpreter.

    Attributes
    ----------
    path : Path
        The interpreter's own ``sys.executable`` (never a shim).
    version : str
        Its minor version, e.g. ``"3.12"``.
    """

    path: Path
    version: str


def host_version() -> str:
    """Return the minor version of the running interpreter, e.g. ``"3.11"``."""
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def find_python(version: str) -> Path | None:
    """Find a CPython interpreter of exactly ``version`` (e.g. ``"3.12"``).

    Parameters
    ----------
    version : str
        Major and minor version, ``"3.X"``.

    Returns
    -------
    Path or None
        The interpreter's executable, or None when none of ``pythonX.Y`` on ``PATH``,
        ``uv python find`` (no downloads) or pyenv's versions folder yields a working one.

    Raises
    ------
    SettingsError
        When ``version`` is not of the form ``"3.X"``.
    """
    found = find_interpreter(version)
    return found.path if found is not None else None


def inspect_python(path: str | Path) -> Interpreter | None:
    """Run the interpreter at ``path`` once and return it with its version, or None if it fails."""
    return _probe(Path(path), None)


def find_interpreter(version: str) -> Interpreter | None:
    """Like :func:`find_python`, returning an :class:`Interpreter`."""
    if not _VERSION_RE.match(version):
        raise SettingsError(f'python version must look like "3.12", got {version!r}')
    return _find_cached(version, os.environ.get("PATH", ""), os.environ.get("PYENV_ROOT", ""))


# PATH and PYENV_ROOT are part of the key so a changed environment (tests, activated venvs) is
# searched again instead of answering from a stale cache.
@functools.cache
def _find_cached(version: str, path_env: str, pyenv_root: str) -> Interpreter | None:
    if version == host_version():
        # The running interpreter is the cheapest correct answer; no probe needed.
        return Interpreter(Path(sys.executable), version)
    for candidate in _candidates(version, path_env, pyenv_root):
        found = _probe(candidate, version)
        if found is not None:
            return found
    return None


def _candidates(version: str, path_env: str, pyenv_root: str) -> list[Path]:
    candidates: list[Path] = []
    on_path = shutil.which(f"python{version}", path=path_env)
    if on_path:
        candidates.append(Path(on_path))
    from_uv = _uv_find(version, path_env)
    if from_uv is not None:
        candidates.append(from_uv)
    root = Path(pyenv_root) if pyenv_root else Path.home() / ".pyenv"
    # Newest patch release first: sorted by the numeric patch, not lexically (3.12.10 > 3.12.9).
    pyenv = sorted(
        (root / "versions").glob(f"{version}.*/bin/python{version}"),
        key=lambda p: _patch_key(p.parent.parent.name),
        reverse=True,
    )
    candidates.extend(pyenv)
    return candidates


def _patch_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in name.split("."))


def _uv_find(version: str, path_env: str) -> Path | None:
    uv = shutil.which("uv", path=path_env)
    if uv is None:
        return None
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    try:
        done = subprocess.run(
            [uv, "python", "find", "--no-python-downloads", version],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT_S,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = done.stdout.strip()
    return Path(out) if done.returncode == 0 and out else None


def _probe(candidate: Path, version: str | None) -> Interpreter | None:
    try:
        done = subprocess.run(
            [str(candidate), "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.split("\n")
    if done.returncode != 0 or len(lines) < 2:
        return None
    found = ".".join(lines[0].split())
    if version is not None and found != version:
        return None
    executable = Path(lines[1].strip() or candidate)
    return Interpreter(executable, found)
