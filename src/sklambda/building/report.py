"""The build report (``build.json``): what was built, its sizes against Lambda's limits, bytecode.

The report's shape and its reader live in :mod:`sklambda.dist`; this module fills it in.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda import limits
from sklambda._version import __version__
from sklambda.dist import FORMAT_VERSION, BuildReport
from sklambda.errors import BuildError

if TYPE_CHECKING:
    from sklambda.building.forms import Form
    from sklambda.building.layer import Layers
    from sklambda.building.targets import Target
    from sklambda.building.zips import Artifact
    from sklambda.bundle.model import Model
    from sklambda.local.interpreters import Interpreter


def bytecode_report(
    interpreter: Interpreter | None, tgt: Target, form: Form, pyc: int
) -> dict[str, Any]:
    """Whether bytecode ships, and why not (adding a note) when the target's Python is absent."""
    if interpreter is not None:
        return {
            "shipped": True,
            "files": pyc,
            "invalidation": "unchecked-hash",
            "layout": "sourceless" if "sourceless" in form.slim_rules else "__pycache__",
            "compiled_with": str(interpreter.path),
        }
    reason = (
        f"no python{tgt.python} on this machine to compile with: every cold start "
        "compiles the modules it imports (measured with the scikit-learn runtime: 2.5x "
        "as long; see benchmarks/RESULTS.md)"
    )
    form.notes.append(f"no bytecode shipped: {reason}")
    return {"shipped": False, "reason": reason}


def size_limits(artifacts: dict[str, Artifact], *, image: bool, notes: list[str]) -> dict[str, Any]:
    """The package's sizes against Lambda's limits; a :class:`BuildError` when a zip is over."""
    unzipped = sum(a.unzipped for a in artifacts.values())
    if image:
        return {
            "image_bytes": unzipped,
            "image_limit_bytes": limits.IMAGE_BYTES,
            "image_ok": unzipped <= limits.IMAGE_BYTES,
        }
    checked = {
        "unzipped_total_bytes": unzipped,
        "unzipped_limit_bytes": limits.UNZIPPED_BYTES,
        "unzipped_ok": unzipped <= limits.UNZIPPED_BYTES,
        "direct_upload_limit_bytes": limits.DIRECT_UPLOAD_BYTES,
        "direct_upload_ok": all(a.zipped <= limits.DIRECT_UPLOAD_BYTES for a in artifacts.values()),
    }
    if not checked["unzipped_ok"]:
        raise BuildError(
            f"the package is {unzipped / 2**20:.1f} MiB unzipped, over Lambda's 250 MiB limit "
            "for a function and its layers; nothing was written"
        )
    if not checked["direct_upload_ok"]:
        notes.append("an artifact is over 50 MiB zipped: deploy uploads it through S3")
    return checked


def package_report(
    *,
    model: Model,
    bundle_manifest: Path,
    form: Form,
    tgt: Target,
    handler: str,
    layers: Layers,
    artifacts: dict[str, Artifact],
    size: dict[str, Any],
    bytecode: dict[str, Any],
) -> BuildReport:
    """The report written to ``build.json`` before verification adds its section."""
    from sklambda.files import sha256_file

    layer = layers.layer
    return {
        "format_version": FORMAT_VERSION,
        "sklambda": __version__,
        "name": model.name,
        "bundle_sha256": sha256_file(bundle_manifest),
        "model": {
            "name": model.name,
            "version": model.manifest.get("version"),
            "task": model.task,
        },
        "runtime": form.runtime,
        "python": tgt.python,
        "arch": tgt.arch,
        "target": tgt.to_dict(),
        "handler": handler,
        "layer_packages": layer.packages if layer else {},
        "slim": layer.slim if layer else None,
        "artifacts": {k: a.to_dict() for k, a in artifacts.items()},
        "limits": size,
        "bytecode": bytecode,
        "notes": form.notes,
        "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }
