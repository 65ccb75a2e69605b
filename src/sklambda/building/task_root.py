"""The function's files (Lambda's task root): handler, runtime modules, the model in its form."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda._version import __version__
from sklambda.building.zips import Artifact, write_zip

if TYPE_CHECKING:
    from sklambda.building.forms import Form
    from sklambda.building.targets import Target
    from sklambda.bundle.format import Manifest
    from sklambda.local.interpreters import Interpreter

HANDLER = "sklambda_handler.handler"
# The runtime modules a package ships: standard library code only (plus the model's runtime).
RUNTIME_MODULES = (
    "__init__",
    "contract",
    "events",
    "card",
    "service",
    "handler",
    "metrics",
)
# Shipped only to models with a date feature: contract imports it when a date arrives.
DATES_MODULE = "dates"
PREDICTOR_MODULES = {"lean": "lean_predict", "sklearn": "sklearn_predict"}
HANDLER_SOURCE = '''"""Lambda entry point written by sklambda build; the model loads at INIT."""

from sklambda.runtime.handler import handler

__all__ = ["handler"]
'''


def packaged_manifest(manifest: Manifest, runtime: str, tgt: Target) -> dict[str, Any]:
    """The bundle's manifest without training details and sample rows, plus package info."""
    dropped = ("training", "files", "sample", "seal")  # the seal is the bundle's, not this copy's
    packaged = {k: v for k, v in manifest.items() if k not in dropped}
    packaged["package"] = {
        "runtime": runtime,
        "sklambda": __version__,
        "target": tgt.to_dict(),
        "bundle_seal": (manifest.get("seal") or {}).get("sha256"),
    }
    return packaged


def lean_modules(spec: dict[str, Any], lean_src: Path) -> set[str]:
    """The modules of ``runtime/lean/`` a compiled model can import.

    ``lean_predict`` imports ``transforms`` itself, ``binary`` for a model with ``lean.bin``
    (``spec["binary"]``), and one family module per model
    op (``FAMILIES``; a tree model in its stdlib form walks in ``tree_walk``; a transform beyond
    ``transforms.CORE`` lives in ``transforms_more``, or where ``transforms.HOMES`` says, e.g.
    ``splines``); each of those
    imports its siblings with ``from .x import``. The closure over those imports is what the
    package needs: shipping every family would triple the seed model's zip.
    """
    import ast

    from sklambda.lean.compiler import graph_nodes
    from sklambda.runtime.lean.transforms import CORE, HOMES
    from sklambda.runtime.lean_predict import FAMILIES

    wanted = {"__init__", "transforms"} | ({"binary"} if spec.get("binary") else set())
    for node in graph_nodes(spec.get("graph", {})):
        family = FAMILIES.get(node["op"])
        if family == "trees" and node.get("form") == "python":
            family = "tree_walk"
        if family is None:  # a transform
            op = node["op"]
            family = "transforms" if op in CORE else HOMES.get(op, "transforms_more")
        wanted.add(family)
    todo, seen = list(wanted), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        tree = ast.parse((lean_src / f"{name}.py").read_text())
        for stmt in ast.walk(tree):
            if isinstance(stmt, ast.ImportFrom) and stmt.level == 1 and stmt.module:
                todo.append(stmt.module)
    return seen


def stage_task_root(root: Path, manifest: Manifest, form: Form, tgt: Target) -> None:
    """Write the function's files under ``root``: handler, runtime modules, the model."""
    import pickle

    from sklambda.bundle.format import MANIFEST

    runtime_src = Path(__file__).parent.parent / "runtime"
    package = root / "sklambda"
    (package / "runtime").mkdir(parents=True)
    (package / "__init__.py").write_text('"""sklambda runtime package (Lambda side only)."""\n')
    dates = [DATES_MODULE] if any(f.get("date") for f in manifest["features"]) else []
    for name in (*RUNTIME_MODULES, *dates, PREDICTOR_MODULES[form.runtime]):
        shutil.copy2(runtime_src / f"{name}.py", package / "runtime" / f"{name}.py")
    if form.runtime == "lean":  # only the model families this model imports, and theirs
        (package / "runtime" / "lean").mkdir()
        for name in sorted(lean_modules(form.model.spec, runtime_src / "lean")):
            shutil.copy2(runtime_src / "lean" / f"{name}.py", package / "runtime" / "lean")
    (root / "sklambda_handler.py").write_text(HANDLER_SOURCE)
    model_dir = root / "model"
    model_dir.mkdir()
    packaged = packaged_manifest(manifest, form.runtime, tgt)
    (model_dir / MANIFEST).write_text(json.dumps(packaged, indent=1) + "\n")
    if form.runtime == "lean":
        form.model.write(model_dir)
    else:
        with (model_dir / "model.pkl").open("wb") as handle:
            pickle.dump(form.model, handle, protocol=5)


def zip_task_root(
    root: Path, destination: Path, interpreter: Interpreter | None
) -> tuple[Artifact, int]:
    """Compile the task root's bytecode (when the target's Python is here) and zip it.

    Returns the ``function.zip`` artifact and the number of ``.pyc`` files compiled.
    """
    from sklambda.building.bytecode import compile_without_docstrings

    pyc = compile_without_docstrings(root, interpreter.path, "/var/task") if interpreter else 0
    return write_zip(root, destination), pyc
