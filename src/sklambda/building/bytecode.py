"""Compile bytecode for the target Python, valid without source mtimes.

Lambda's task root and /opt are read-only, so Python cannot write a bytecode cache there: a
package without `.pyc` files recompiles every module it imports on every cold start. Zip
extraction does not keep mtimes, so the `.pyc` files use PEP 552's ``unchecked-hash`` mode.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def compile_tree(root: Path, interpreter: Path, lambda_path: str, *, beside: bool = False) -> int:
    """Compile every ``.py`` under ``root`` with ``interpreter``; returns the ``.pyc`` count.

    ``lambda_path`` is where ``root`` will be inside Lambda (``/var/task``, ``/opt``): source
    paths in the bytecode (and so in tracebacks) name it instead of the build machine's
    directory, which also makes the bytecode the same from one build to the next. ``beside``
    writes ``module.pyc`` next to ``module.py`` (the layout CPython imports without the source)
    instead of into ``__pycache__``.
    """
    subprocess.run(
        [
            str(interpreter),
            "-I",
            "-m",
            "compileall",
            "-q",
            *(["-b"] if beside else []),
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(root),
            "-p",
            lambda_path,
            str(root),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return sum(1 for _ in root.rglob("*.pyc"))
