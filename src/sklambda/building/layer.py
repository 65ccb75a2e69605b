"""The layer (numpy / scikit-learn for the target): install, slim, compile, zip — and its cache.

A layer built before from the same inputs (platform, Python, package releases, compiler,
slimming rules and import trace) is reused from the cache instead of rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda.building.zips import Artifact, write_zip
from sklambda.dist import LAYER_ZIP
from sklambda.errors import BuildError, Option, SklambdaError

if TYPE_CHECKING:
    from sklambda.building.forms import Form
    from sklambda.building.machines import Machines
    from sklambda.building.targets import Target
    from sklambda.bundle.format import Manifest
    from sklambda.local.interpreters import Interpreter

CACHE_FORMAT = 6
"""Bumped when a cached layer's contents would change for the same inputs (6: the numpy layer
is traced and slimmed like the scikit-learn layer and deflated at level 9; static libraries,
conftest.py and dist-info RECORD files go from both)."""


@dataclass
class LayerResult:
    artifact: Artifact
    pyc: int
    packages: dict[str, str]
    slim: dict[str, Any] | None
    loaded: set[str]


@dataclass(frozen=True)
class Layers:
    """The target's layer (None when the runtime needs none) and the twin's, if one is proven."""

    layer: LayerResult | None
    twin: LayerResult | None


def _cache_key(
    tgt: Target,
    platform: str | None,
    packages: dict[str, str],
    interpreter: Interpreter | None,
    slim_rules: tuple[str, ...],
    loaded: set[str],
    roots: tuple[str, ...],
) -> str:
    return hashlib.sha256(
        json.dumps(
            {
                "format": CACHE_FORMAT,
                "platform": platform or tgt.platform,
                "python": tgt.python,
                "packages": packages,
                "compiler": str(interpreter.path) if interpreter else None,
                "slim": slim_rules,
                "loaded": sorted(loaded) if slim_rules else [],
                "roots": list(roots) if slim_rules else [],
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()[:24]


def _from_cache(cached: Path, destination: Path) -> tuple[Artifact, dict[str, Any]] | None:
    """The cached layer copied to ``destination`` with its metadata, if whole."""
    meta_file = cached / "layer.json"
    if not (meta_file.is_file() and (cached / LAYER_ZIP).is_file()):
        return None
    meta = json.loads(meta_file.read_text())
    shutil.copy2(cached / LAYER_ZIP, destination)
    artifact = Artifact(
        destination, meta["zipped"], meta["unzipped"], meta["files"], meta["sha256"]
    )
    if artifact.zipped != destination.stat().st_size:
        return None
    return artifact, meta


def _to_cache(cached: Path, artifact: Artifact, pyc: int, slim: dict[str, Any] | None) -> None:
    cached.mkdir(parents=True, exist_ok=True)
    # Unique temporary names, then renames: two builds filling the same entry never mix bytes,
    # and a reader sees a whole zip (checked against the metadata's size) or none.
    tmp_zip = cached / f"layer.zip.{os.getpid()}.tmp"
    shutil.copy2(artifact.path, tmp_zip)
    tmp_zip.replace(cached / LAYER_ZIP)
    meta = {
        "zipped": artifact.zipped,
        "unzipped": artifact.unzipped,
        "files": artifact.files,
        "sha256": artifact.sha256,
        "pyc": pyc,
        "slim": slim,
    }
    tmp_meta = cached / f"layer.json.{os.getpid()}.tmp"
    tmp_meta.write_text(json.dumps(meta))
    tmp_meta.replace(cached / "layer.json")


def _trace(
    site: Path,
    interpreter: Interpreter | None,
    task_root: Path | None,
    trace_rows: list[list[Any]] | None,
    runtime: str,
) -> set[str]:
    """The modules the function imports when it predicts (empty without an interpreter)."""
    from sklambda.building.slim import trace_imports

    if interpreter is None or task_root is None:
        return set()
    try:
        return trace_imports(interpreter.path, site, task_root, trace_rows or [], runtime)
    except RuntimeError as exc:
        raise BuildError(str(exc)) from None


def _compile(layer_root: Path, interpreter: Interpreter | None, slim_rules: tuple[str, ...]) -> int:
    from sklambda.building.bytecode import compile_tree

    if interpreter is None:
        return 0
    if "sourceless" in slim_rules:
        return sum(1 for _ in (layer_root / "python").rglob("*.pyc"))
    return compile_tree(layer_root, interpreter.path, "/opt")


def build_layer(
    layer_root: Path,
    destination: Path,
    tgt: Target,
    requirements: list[str],
    *,
    interpreter: Interpreter | None,
    platform: str | None = None,
    slim_rules: tuple[str, ...] = (),
    task_root: Path | None = None,
    trace_rows: list[list[Any]] | None = None,
    loaded: set[str] | None = None,
    runtime: str = "sklearn",
) -> LayerResult:
    """Install, slim, compile and zip a layer; reuse one built before from the same inputs.

    ``interpreter`` (of the layer's Python version, or None) traces and compiles. A layer built
    without one may reuse the import trace of a twin (``loaded``). ``runtime``: the runtime
    traced and the layer's kind (``sklearn``, or ``lean`` for the numpy layer).
    """
    from sklambda.building.slim import NUMPY_ROOTS, SKLEARN_ROOTS, apply_rules
    from sklambda.building.wheels import install
    from sklambda.files import cache_dir

    site = layer_root / "python"
    packages = install(requirements, site, tgt, platform=platform)
    if slim_rules and loaded is None:
        loaded = _trace(site, interpreter, task_root, trace_rows, runtime)
    loaded = loaded or set()
    roots = NUMPY_ROOTS if runtime == "lean" else SKLEARN_ROOTS
    key = _cache_key(tgt, platform, packages, interpreter, slim_rules, loaded, roots)
    cached = cache_dir() / "layers" / key
    hit = _from_cache(cached, destination)
    if hit is not None:
        artifact, meta = hit
        return LayerResult(artifact, meta["pyc"], packages, meta.get("slim"), loaded)
    slim_report = None
    if slim_rules:
        compiler = interpreter.path if interpreter is not None else None
        slim_report = apply_rules(site, slim_rules, loaded, compiler, roots=roots).to_dict()
    pyc = _compile(layer_root, interpreter, slim_rules)
    # The numpy layer has a 12 MiB budget: deflate's best level, ~100 KB (~1%) smaller.
    artifact = write_zip(layer_root, destination, compresslevel=9 if runtime == "lean" else 6)
    if slim_report is not None:
        _add_zipped_sizes(slim_report, destination)
    _to_cache(cached, artifact, pyc, slim_report)
    return LayerResult(artifact, pyc, packages, slim_report, loaded)


def _add_zipped_sizes(slim_report: dict[str, Any], layer_zip: Path) -> None:
    """Zipped bytes per top-level package, read from the layer's own entries."""
    import zipfile

    zipped: dict[str, int] = {}
    with zipfile.ZipFile(layer_zip) as zf:
        for info in zf.infolist():
            top = info.filename.removeprefix("python/").split("/", 1)[0]
            name = top.split("-")[0] if top.endswith(".dist-info") else top
            name = name.removesuffix(".py").removesuffix(".pyc")
            zipped[name] = zipped.get(name, 0) + info.compress_size
    for name, sizes in slim_report["packages"].items():
        sizes["zipped_bytes"] = zipped.get(name, 0)


def twin_layer(
    staging: Path,
    requirements: list[str],
    machines: Machines,
    slim_rules: tuple[str, ...],
    task_root: Path,
    rows: list[list[Any]],
    notes: list[str],
) -> LayerResult:
    """The layer for this machine's Python and architecture (same releases), to prove a twin."""
    from sklambda.building.wheels import host_platform

    (staging / "twin-dist").mkdir()
    destination = staging / "twin-dist" / LAYER_ZIP
    here = machines.here
    kwargs: dict[str, Any] = {
        "interpreter": machines.host,
        "platform": host_platform(),
        "slim_rules": slim_rules,
        "task_root": task_root,
        "trace_rows": rows,
    }
    try:
        return build_layer(staging / "twin-layer", destination, here, requirements, **kwargs)
    except SklambdaError:
        if requirements != [r for r in requirements if r.startswith("numpy==")]:
            raise
        # numpy for the lean runtime: the newest the target has may be newer than this
        # machine's Python can install; the twin takes the newest it can.
        shutil.rmtree(staging / "twin-layer", ignore_errors=True)
        result = build_layer(staging / "twin-layer", destination, here, ["numpy"], **kwargs)
        notes.append(
            f"the twin was verified with numpy {result.packages.get('numpy')}, the newest for "
            f"python{here.python}"
        )
        return result


def build_layers(
    staging: Path,
    destination: Path,
    tgt: Target,
    form: Form,
    machines: Machines,
    task_root: Path,
    rows: list[list[Any]],
    manifest: Manifest,
) -> Layers:
    """The target's layer for ``form`` at ``destination``, and the twin's when one is proven."""
    if not form.requirements:
        return Layers(None, None)
    twin: LayerResult | None = None
    if machines.twin and form.runtime == "sklearn":
        # No python{target} here: a twin layer for this machine's Python (same releases)
        # is traced and verified instead, and lends its trace to the target's slimming.
        twin = twin_layer(
            staging, form.requirements, machines, form.slim_rules, task_root, rows, form.notes
        )
    slim_rules, loaded = form.slim_rules, twin.loaded if twin else None
    if form.runtime == "lean" and machines.twin:
        # The numpy layer is slimmed (by the lean runtime's own import trace) only when this
        # very layer is verified: a twin may hold another numpy release than the target's.
        # The form records the rules its layer was built with (build.json's bytecode layout).
        slim_rules = form.slim_rules = ()
    try:
        layer = build_layer(
            staging / "layer",
            destination,
            tgt,
            form.requirements,
            interpreter=machines.interpreter,
            slim_rules=slim_rules,
            task_root=task_root,
            trace_rows=rows,
            loaded=loaded,
            runtime=form.runtime,
        )
    except SklambdaError as exc:
        if form.runtime != "sklearn":
            raise
        raise unavailable(manifest, tgt, exc) from None
    if machines.twin and form.runtime == "lean":
        pinned = [f"numpy=={layer.packages['numpy']}"]
        twin = twin_layer(staging, pinned, machines, (), task_root, rows, form.notes)
    return Layers(layer, twin)


def unavailable(manifest: Manifest, tgt: Target, exc: Exception) -> BuildError:
    """Why the trained versions cannot be installed for ``tgt``, and the two ways out."""
    versions = manifest.get("versions", {})
    trained = ", ".join(
        f"{name} {versions.get(key)}"
        for name, key in (("scikit-learn", "sklearn"), ("numpy", "numpy"), ("scipy", "scipy"))
    )
    newer = [Option("python", "3.12")] if tgt.python == "3.11" else []
    return BuildError(
        f"the model was trained with {trained}, which {tgt.runtime} ({tgt.os}, glibc "
        f"{tgt.glibc}) cannot install ({exc}). Two ways out: build for "
        + ("{0} or " if newer else "")
        + f"{{{len(newer)}}} (the newest Lambda Python with those wheels), or retrain in an "
        f"environment with versions {tgt.runtime} has; nothing was written",
        *newer,
        Option("python", "auto"),
    )
