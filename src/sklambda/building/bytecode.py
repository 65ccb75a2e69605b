"""Compile bytecode for the target Python, valid without source mtimes.

Lambda's task root and /opt are read-only, so Python cannot write a bytecode cache there: a
package without `.pyc` files recompiles every module it imports on every cold start. Zip
extraction does not keep mtimes, so the `.pyc` files use PEP 552's ``unchecked-hash`` mode.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

# Run by the target interpreter: each module compiled without its docstrings (asserts and line
# numbers kept, so tracebacks still point into the shipped source), as unchecked-hash bytecode.
_WITHOUT_DOCSTRINGS = """
import ast, importlib.util, sys
from importlib._bootstrap_external import _code_to_hash_pyc
from pathlib import Path

def strip(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \\
                    and isinstance(first.value.value, str):
                body.pop(0)
                if not body:
                    body.append(ast.copy_location(ast.Pass(), first))
    return tree

root, lambda_path = Path(sys.argv[1]), sys.argv[2]
for path in sorted(root.rglob("*.py")):
    source = path.read_bytes()
    dfile = lambda_path + "/" + path.relative_to(root).as_posix()
    code = compile(strip(ast.parse(source, dfile)), dfile, "exec", dont_inherit=True)
    data = _code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False)
    target = Path(importlib.util.cache_from_source(str(path)))
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(bytes(data))
"""


def compile_without_docstrings(root: Path, interpreter: Path, lambda_path: str) -> int:
    """As :func:`compile_tree` (into ``__pycache__``), leaving docstrings out of the bytecode.

    For sklambda's own runtime in the task root, which never reads ``__doc__``: its docstrings
    are a third of its bytecode, and the seed model's package has a 100 KiB budget. The source
    still ships beside the bytecode, whole, so a traceback shows the line.
    """
    subprocess.run(
        [str(interpreter), "-I", "-c", _WITHOUT_DOCSTRINGS, str(root), lambda_path],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return sum(1 for _ in root.rglob("*.pyc"))


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
