"""Write a directory in full or not at all: what existed before survives any failure."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .errors import SklambdaError


def check_replaceable(out: Path, marker: str, what: str) -> None:
    """Refuse to replace a directory that sklambda did not write (it lacks ``marker``)."""
    if out.exists() and not (out.is_dir() and (not any(out.iterdir()) or (out / marker).exists())):
        raise SklambdaError(
            f"{out} exists and is not a {what}; choose another --out (sklambda only replaces "
            f"{what}s it wrote)"
        )


def staging_dir(out: Path) -> Path:
    """A fresh directory beside ``out`` (same filesystem, so the final move is a rename).

    Always absolute: paths recorded while building (import traces) are compared with absolute
    module paths.
    """
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))


def replace_dir(staging: Path, out: Path) -> None:
    """Move a finished ``staging`` directory to ``out``; an old ``out`` goes only after."""
    os.chmod(staging, 0o755)
    if not out.exists():
        staging.rename(out)
        return
    retired = out.with_name(f".{out.name}.old-{os.getpid()}")
    out.rename(retired)
    try:
        staging.rename(out)
    except BaseException:
        retired.rename(out)
        raise
    shutil.rmtree(retired, ignore_errors=True)
