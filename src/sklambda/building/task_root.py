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
# dates: ISO dates for date features, imported by contract only when a date arrives
RUNTIME_MODULES = (
    "__init__",
    "contract",
    "dates",
    "events",
    "card",
    "service",
    "handler",
    "metrics",
)
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


def stage_task_root(root: Path, manifest: Manifest, form: Form, tgt: Target) -> None:
    """Write the function's files under ``root``: handler, runtime modules, the model."""
    import pickle

    from sklambda.bundle.format import MANIFEST

    runtime_src = Path(__file__).parent.parent / "runtime"
    package = root / "sklambda"
    (package / "runtime").mkdir(parents=True)
    (package / "__init__.py").write_text('"""sklambda runtime package (Lambda side only)."""\n')
    for name in (*RUNTIME_MODULES, PREDICTOR_MODULES[form.runtime]):
        shutil.copy2(runtime_src / f"{name}.py", package / "runtime" / f"{name}.py")
    if form.runtime == "lean":  # the model families (each imported only by the models that use it)
        skip = shutil.ignore_patterns("__pycache__")
        shutil.copytree(runtime_src / "lean", package / "runtime" / "lean", ignore=skip)
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
    from sklambda.building.bytecode import compile_tree

    pyc = compile_tree(root, interpreter.path, "/var/task") if interpreter else 0
    return write_zip(root, destination), pyc
