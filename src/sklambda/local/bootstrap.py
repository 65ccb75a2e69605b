"""The runtime directory of local environments: ``awslambdaric`` plus a tiny bootstrap script.

Lambda keeps its runtime client in ``/var/runtime``, apart from the function code. The emulator does
the same: for each interpreter version it installs the official runtime interface client
(``awslambdaric`` with ``simplejson`` and ``snapshot-restore-py``) into a cache directory once, and
writes there the bootstrap that an isolated interpreter (``-I -S``) runs to set ``sys.path`` the
way Lambda does before handing over to ``awslambdaric``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sklambda.files import CACHE_ENV, cache_dir
from sklambda.local.errors import RuntimeClientError
from sklambda.local.interpreters import Interpreter

__all__ = ["AWSLAMBDARIC_VERSION", "BOOTSTRAP_NAME", "cache_dir", "ensure_runtime"]

# Pinned so every environment (and every machine) runs the same runtime client; the version is
# part of the cache path, so raising it installs afresh next to the old one.
AWSLAMBDARIC_VERSION = "4.2.2"
BOOTSTRAP_NAME = "bootstrap.py"
_INSTALL_TIMEOUT_S = 600.0
_COMPLETE_MARKER = ".complete"

# Runs as __main__ under `python -I -S`: no site, no PYTHONPATH, no script directory on sys.path.
# Kept to the standard library and free of sklambda imports: it is a file, not a module.
BOOTSTRAP_SOURCE = '''\
"""Start awslambdaric the way Lambda's /var/runtime/bootstrap does (written by sklambda.local)."""
import os
import sys


def _main():
    opt, handler = sys.argv[1], sys.argv[2]
    task = os.environ["LAMBDA_TASK_ROOT"]
    runtime = os.path.dirname(os.path.abspath(__file__))
    version = "python%d.%d" % sys.version_info[:2]
    # Lambda's order: task root, layer site-packages, layer root, runtime, then the stdlib.
    sys.path[:0] = [
        task,
        os.path.join(opt, "python", "lib", version, "site-packages"),
        os.path.join(opt, "python"),
        runtime,
    ]
    os.chdir(task)
    sys.argv = [sys.argv[0], handler]
    import runpy

    runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)


_main()
'''


def ensure_runtime(interpreter: Interpreter) -> Path:
    """Return a runtime directory for ``interpreter``, installing ``awslambdaric`` once.

    Parameters
    ----------
    interpreter : Interpreter
        The interpreter the environments run; the runtime client has a compiled extension, so it
        is resolved for that interpreter's version, not the host's.

    Returns
    -------
    Path
        ``<cache>/runtime/awslambdaric-<version>-cpXY``, holding ``awslambdaric``, its
        dependencies and ``bootstrap.py``.

    Raises
    ------
    RuntimeClientError
        When the installation fails (the first one needs network access to PyPI).
    """
    tag = "cp" + interpreter.version.replace(".", "")
    root = cache_dir() / "runtime"
    target = root / f"awslambdaric-{AWSLAMBDARIC_VERSION}-{tag}"
    if not (target / _COMPLETE_MARKER).is_file():
        root.mkdir(parents=True, exist_ok=True)
        # A file lock, so parallel test workers or two emulators install once, not twice.
        with (root / f".{target.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (target / _COMPLETE_MARKER).is_file():
                _install(interpreter, target)
    _write_bootstrap(target)
    if target.stat().st_mode & 0o755 != 0o755:
        # Readable by the sandbox user (the staging directory was owner-only).
        target.chmod(0o755)
    return target


def _install(interpreter: Interpreter, target: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        requirement = f"awslambdaric=={AWSLAMBDARIC_VERSION}"
        uv = shutil.which("uv")
        if uv is not None:
            command = [uv, "pip", "install", "--quiet", "--python", str(interpreter.path)]
            command += ["--target", str(staging), requirement]
        else:
            command = [str(interpreter.path), "-m", "pip", "install", "--quiet"]
            command += ["--disable-pip-version-check", "--target", str(staging), requirement]
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=_INSTALL_TIMEOUT_S,
                env=env,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeClientError(f"could not run {command[0]}: {exc}") from exc
        if done.returncode != 0:
            raise RuntimeClientError(
                f"installing {requirement} for Python {interpreter.version} "
                f"({interpreter.path}) failed:\n{done.stderr.strip()[-2000:]}\n"
                "The first run needs network access to PyPI; later runs use the cache at "
                f"{target.parent} (set ${CACHE_ENV} to move it)."
            )
        (staging / _COMPLETE_MARKER).write_text(requirement + "\n", encoding="utf-8")
        if target.exists():
            # A half-written directory from an interrupted run (no marker): replace it.
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _write_bootstrap(target: Path) -> None:
    path = target / BOOTSTRAP_NAME
    try:
        if path.read_text(encoding="utf-8") == BOOTSTRAP_SOURCE:
            return
    except OSError:
        pass
    # Write-then-rename so an environment starting right now never reads half a file.
    fd, tmp = tempfile.mkstemp(prefix=".bootstrap-", dir=target)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(BOOTSTRAP_SOURCE)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
