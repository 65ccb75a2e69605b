"""Where sklambda keeps what it downloads or builds once and reuses (wheels, layers, runtimes)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SKLAMBDA_CACHE_DIR"


def cache_dir() -> Path:
    """``$SKLAMBDA_CACHE_DIR``, else ``$XDG_CACHE_HOME/sklambda``, else ``~/.cache/sklambda``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sklambda"
