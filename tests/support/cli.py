"""The real `sklambda` command, run as a user runs it: a fresh process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `sklambda` CLI in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "sklambda", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )
