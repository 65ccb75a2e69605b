"""How sklambda keeps files: directories written whole or not at all, content hashes, its cache.

- :func:`staging_dir` / :func:`replace_dir` / :func:`check_replaceable`: what existed before
  survives any failure, and a directory sklambda did not write is never replaced;
- :func:`sha256_file`: the digest bundles, packages and deploys record and check;
- :func:`cache_dir`: where what is downloaded or built once is reused (wheels, layers, runtimes).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from sklambda.errors import SklambdaError

CACHE_ENV = "SKLAMBDA_CACHE_DIR"


def cache_dir() -> Path:
    """``$SKLAMBDA_CACHE_DIR``, else ``$XDG_CACHE_HOME/sklambda``, else ``~/.cache/sklambda``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sklambda"


def sha256_file(path: Path) -> str:
    """The file's sha256, read in chunks (artifacts can be hundreds of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
