"""Editing a bundle's manifest the way only its writer can: the edit, then a fresh seal."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sklambda.bundle.format import MANIFEST, seal


def reseal(bundle: Path, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Apply ``change`` to the manifest and seal it again (a bundle written elsewhere so)."""
    path = bundle / MANIFEST
    manifest = json.loads(path.read_text())
    change(manifest)
    manifest = seal(manifest)
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
