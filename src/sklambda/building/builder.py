"""`sklambda build`: a bundle → the smallest Lambda package that reproduces its predictions.

Nothing is written to ``out`` until the package has been proven: built in a staging directory,
cold-started in the local emulator, asked to predict, and compared with scikit-learn.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklambda import limits
from sklambda._version import __version__
from sklambda.building.slim import SAFE_RULES
from sklambda.building.targets import Target, host_arch, host_machine, pick_target
from sklambda.building.zips import Artifact, write_zip
from sklambda.dist import BUILD_JSON, FUNCTION_ZIP, LAYER_ZIP
from sklambda.errors import BuildError, Option, SklambdaError
from sklambda.files import check_replaceable, replace_dir, sha256_file, staging_dir

RUNTIMES = ("auto", "lean", "sklearn")
HANDLER = "sklambda_handler.handler"
# The runtime modules a package ships: standard library code only (plus the model's runtime).
RUNTIME_MODULES = ("__init__", "contract", "events", "card", "service", "handler", "metrics")
RUNTIME_MODULES += ("dates",)  # ISO dates for date features, imported by contract when needed
PREDICTOR_MODULES = {"lean": "lean_predict", "sklearn": "sklearn_predict"}
# Slimming rules for the sklearn layer, in order (see sklambda.slim).
SAFE_SLIM = SAFE_RULES
PROBE_ROWS = 24
HANDLER_SOURCE = '''"""Lambda entry point written by sklambda build; the model loads at INIT."""

from sklambda.runtime.handler import handler

__all__ = ["handler"]
'''


@dataclass(frozen=True)
class BuildResult:
    """The package directory and its build.json report."""

    dist: Path
    report: dict[str, Any]


def _packaged_manifest(manifest: dict[str, Any], runtime: str, tgt: Target) -> dict[str, Any]:
    packaged = {k: v for k, v in manifest.items() if k not in ("training", "files", "sample")}
    packaged["package"] = {
        "runtime": runtime,
        "sklambda": __version__,
        "target": tgt.to_dict(),
    }
    return packaged


def _write_task_root(root: Path, manifest: dict[str, Any], runtime: str, model: Any) -> None:
    """The function's files: handler, runtime modules, and the model in the runtime's form."""
    import pickle

    runtime_src = Path(__file__).parent.parent / "runtime"
    package = root / "sklambda"
    (package / "runtime").mkdir(parents=True)
    (package / "__init__.py").write_text('"""sklambda runtime package (Lambda side only)."""\n')
    for name in (*RUNTIME_MODULES, PREDICTOR_MODULES[runtime]):
        shutil.copy2(runtime_src / f"{name}.py", package / "runtime" / f"{name}.py")
    (root / "sklambda_handler.py").write_text(HANDLER_SOURCE)
    model_dir = root / "model"
    model_dir.mkdir()
    (model_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    if runtime == "lean":
        model.write(model_dir)
    else:
        with (model_dir / "model.pkl").open("wb") as handle:
            pickle.dump(model, handle, protocol=5)


def _probe(model: Any) -> tuple[list[dict[str, Any]], list[Any], list[list[float]] | None]:
    """Rows to prove the package on, with scikit-learn's answers for them."""
    from sklambda.bundle.features import probe_rows
    from sklambda.bundle.format import read_sample

    features = model.features
    rows = list(read_sample(model.path)["rows"]) if model.path else []
    rows += probe_rows(features, PROBE_ROWS, seed=1, spread=1.0)
    rows += probe_rows(features, PROBE_ROWS, seed=2, spread=10.0)
    expected = model.predict(rows)
    proba = model.predict_proba(rows) if model.manifest.get("probabilities") else None
    return rows, expected, proba


def _lean(model: Any, rows: list[dict[str, Any]]) -> Any:
    from sklambda.bundle.features import frame_from_rows
    from sklambda.lean.compiler import LeanUnsupportedError, check_equivalence, compile_estimator

    names = [f["name"] for f in model.features]
    try:
        lean = compile_estimator(model.estimator, names)
    except LeanUnsupportedError as exc:
        return None, str(exc)
    frame = frame_from_rows([[r[n] for n in names] for r in rows], model.features)
    report = check_equivalence(model.estimator, lean, frame)
    if not report.ok:
        return None, f"the lean form does not reproduce scikit-learn: {report.detail}"
    return lean, ""


def _refuse_skew(model: Any) -> None:
    """A model is only rebuilt under the scikit-learn it was trained with."""
    from sklambda.bundle.format import library_versions

    trained = model.manifest.get("versions", {}).get("sklearn")
    here = library_versions().get("sklearn")
    if trained and here and trained != here:
        raise BuildError(
            f"the bundle was trained with scikit-learn {trained} but this environment has "
            f"{here}: loading it here may change the model. Build from an environment with "
            f"scikit-learn {trained} (e.g. `uv pip install scikit-learn=={trained}`), or retrain "
            "it here; nothing was written"
        )


def _pinned(manifest: dict[str, Any]) -> list[str]:
    versions = manifest.get("versions", {})
    missing = [lib for lib in ("sklearn", "numpy", "scipy") if not versions.get(lib)]
    if missing:
        raise BuildError(
            f"the bundle does not record the {', '.join(missing)} version it was trained with; "
            "retrain or re-save it with this sklambda"
        )
    return [
        f"scikit-learn=={versions['sklearn']}",
        f"numpy=={versions['numpy']}",
        f"scipy=={versions['scipy']}",
    ]


def _rows_in_order(model: Any, rows: list[dict[str, Any]]) -> list[list[Any]]:
    names = [f["name"] for f in model.features]
    return [[r[n] for n in names] for r in rows]


def _adapted(model: Any, rows: list[dict[str, Any]]) -> Any:
    """The array-taking copy of the model, proven in process to predict what it predicts."""
    from sklambda.building.forms import adapt_for_arrays
    from sklambda.building.verify import compare
    from sklambda.runtime.sklearn_predict import SklearnPredictor

    adapted = adapt_for_arrays(model.estimator, [f["name"] for f in model.features])
    predictor = SklearnPredictor(adapted, [f["type"] for f in model.features])
    ordered = _rows_in_order(model, rows)
    _, _, mismatches, problem = compare(model.task, predictor.predict(ordered), model.predict(rows))
    if problem or mismatches:
        raise BuildError(f"the model cannot be served from plain arrays: {problem}")
    return adapted


@dataclass
class LayerResult:
    artifact: Artifact
    pyc: int
    packages: dict[str, str]
    slim: dict[str, Any] | None
    loaded: set[str]


def _layer(
    layer_root: Path,
    destination: Path,
    tgt: Target,
    requirements: list[str],
    *,
    interpreter: Any,
    platform: str | None = None,
    slim_rules: tuple[str, ...] = (),
    task_root: Path | None = None,
    trace_rows: list[list[Any]] | None = None,
    loaded: set[str] | None = None,
) -> LayerResult:
    """Install, slim, compile and zip a layer; reuse one built before from the same inputs.

    ``interpreter`` (of the layer's Python version, or None) traces and compiles. A layer built
    without one may reuse the import trace of a twin (``loaded``).
    """
    import hashlib

    from sklambda.building.bytecode import compile_tree
    from sklambda.building.slim import apply_rules, trace_imports
    from sklambda.building.wheels import install
    from sklambda.files import cache_dir

    site = layer_root / "python"
    packages = install(requirements, site, tgt, platform=platform)
    if slim_rules and loaded is None:
        if interpreter is None or task_root is None:
            loaded = set()
        else:
            try:
                loaded = trace_imports(interpreter.path, site, task_root, trace_rows or [])
            except RuntimeError as exc:
                raise BuildError(str(exc)) from None
    loaded = loaded or set()
    key = hashlib.sha256(
        json.dumps(
            {
                "format": 5,
                "platform": platform or tgt.platform,
                "python": tgt.python,
                "packages": packages,
                "compiler": str(interpreter.path) if interpreter else None,
                "slim": slim_rules,
                "loaded": sorted(loaded) if slim_rules else [],
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()[:24]
    cached = cache_dir() / "layers" / key
    meta_file = cached / "layer.json"
    if meta_file.is_file() and (cached / LAYER_ZIP).is_file():
        meta = json.loads(meta_file.read_text())
        shutil.copy2(cached / LAYER_ZIP, destination)
        artifact = Artifact(
            destination, meta["zipped"], meta["unzipped"], meta["files"], meta["sha256"]
        )
        if artifact.zipped == destination.stat().st_size:
            return LayerResult(artifact, meta["pyc"], packages, meta.get("slim"), loaded)
    slim_report = None
    if slim_rules:
        compiler = interpreter.path if interpreter is not None else None
        slim_report = apply_rules(site, slim_rules, loaded, compiler).to_dict()
    if interpreter is None:
        pyc = 0
    elif "sourceless" in slim_rules:
        pyc = sum(1 for _ in site.rglob("*.pyc"))
    else:
        pyc = compile_tree(layer_root, interpreter.path, "/opt")
    artifact = write_zip(layer_root, destination)
    if slim_report is not None:
        _add_zipped_sizes(slim_report, destination)
    cached.mkdir(parents=True, exist_ok=True)
    # Unique temporary names, then renames: two builds filling the same entry never mix bytes,
    # and a reader sees a whole zip (checked against the metadata's size) or none.
    tmp_zip = cached / f"layer.zip.{os.getpid()}.tmp"
    shutil.copy2(destination, tmp_zip)
    tmp_zip.replace(cached / LAYER_ZIP)
    meta = {
        "zipped": artifact.zipped,
        "unzipped": artifact.unzipped,
        "files": artifact.files,
        "sha256": artifact.sha256,
        "pyc": pyc,
        "slim": slim_report,
    }
    tmp_meta = cached / f"layer.json.{os.getpid()}.tmp"
    tmp_meta.write_text(json.dumps(meta))
    tmp_meta.replace(meta_file)
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


def _choose(model: Any, rows: list[dict[str, Any]], runtime: str) -> tuple[str, Any, list[str]]:
    """``(runtime, model in that runtime's form, notes)``."""
    if runtime in ("auto", "lean"):
        lean, why_not = _lean(model, rows)
        if lean is not None:
            return "lean", lean, []
        if runtime == "lean":
            raise BuildError(
                f"{why_not}; build it with {{0}} (or auto); nothing was written",
                Option("runtime", "sklearn"),
            )
        return "sklearn", _adapted(model, rows), [f"lean runtime not possible ({why_not})"]
    return "sklearn", _adapted(model, rows), []


def build(
    bundle: str | Path,
    out: str | Path,
    *,
    runtime: str = "auto",
    python: str | None = None,
    arch: str = "x86_64",
    trust_pickle: bool = False,
    slim_rules: tuple[str, ...] = SAFE_SLIM,
    image: bool = False,
) -> BuildResult:
    """Build, verify and write a Lambda package for a bundle.

    Parameters
    ----------
    bundle:
        A bundle directory (``sklambda train`` / ``sklambda.save``).
    out:
        The package directory to write: ``function.zip``, ``layer.zip`` when the runtime needs
        one, ``build.json``. Replaced only after the new package verified.
    runtime:
        ``auto`` (the lean runtime when it reproduces the model, else scikit-learn), ``lean`` or
        ``sklearn``.
    python, arch:
        The Lambda runtime to target: ``3.11``…``3.14``, or ``auto`` (None, the default: the
        newest that can run the model as trained, see :func:`~.targets.pick_target`), and
        ``x86_64`` or ``arm64``.
    slim_rules:
        Slimming rules for the scikit-learn layer (see :mod:`sklambda.slim`).
    image:
        Write a container-image build context (``out/image/``) instead of zips, for models whose
        dependencies exceed 250 MB; its file tree is what gets verified.
    """
    from sklambda.building.bytecode import compile_tree
    from sklambda.building.verify import verify_dist
    from sklambda.bundle.format import MANIFEST
    from sklambda.bundle.store import load
    from sklambda.local.interpreters import find_interpreter, host_version

    if runtime not in RUNTIMES:
        raise BuildError(f'unknown runtime "{runtime}"; choose one of {", ".join(RUNTIMES)}')
    from sklambda.building.slim import TRAP_RULES

    unknown = [r for r in slim_rules if r not in SAFE_RULES + TRAP_RULES]
    if unknown:
        raise BuildError(f"unknown slimming rule {unknown[0]!r}; rules: {', '.join(SAFE_RULES)}")
    tgt = pick_target(python, arch, bundle, runtime)
    out = Path(out)
    check_replaceable(out, BUILD_JSON, "sklambda package")
    model = load(bundle, trust_pickle=trust_pickle)
    _refuse_skew(model)
    rows, expected, expected_proba = _probe(model)
    chosen, packaged_model, notes = _choose(model, rows, runtime)
    if chosen == "lean":
        requirements = ["numpy"] if packaged_model.needs_numpy else []
        layer_slim: tuple[str, ...] = ()
    else:
        requirements = _pinned(model.manifest)
        layer_slim = slim_rules
    ordered_rows = _rows_in_order(model, rows)

    interpreter = find_interpreter(tgt.python)
    # This machine can only run binaries of its own architecture and interpreters it has: when
    # the target differs in either, a twin (same code, same releases) is what gets verified.
    foreign_arch = tgt.machine != host_machine()
    twin = interpreter is None or foreign_arch
    host = interpreter if interpreter is not None else find_interpreter(host_version())
    here = Target(tgt.python if interpreter is not None else host_version(), host_arch())
    staging = staging_dir(out)
    try:
        task_root, dist = staging / "task", staging / "dist"
        dist.mkdir()
        packaged = _packaged_manifest(model.manifest, chosen, tgt)
        _write_task_root(task_root, packaged, chosen, packaged_model)
        twin_layer: LayerResult | None = None
        if twin and requirements and chosen == "sklearn":
            # No python{target} here: a twin layer for this machine's Python (same releases)
            # is traced and verified instead, and lends its trace to the target's slimming.
            twin_layer = _twin_layer(
                staging, requirements, here, host, layer_slim, task_root, ordered_rows, notes
            )
        layer: LayerResult | None = None
        if requirements:
            try:
                layer = _layer(
                    staging / "layer",
                    dist / LAYER_ZIP,
                    tgt,
                    requirements,
                    interpreter=interpreter,
                    slim_rules=layer_slim,
                    task_root=task_root,
                    trace_rows=ordered_rows,
                    loaded=twin_layer.loaded if twin_layer else None,
                )
            except SklambdaError as exc:
                if chosen != "sklearn":
                    raise
                raise _unavailable(model.manifest, tgt, exc) from None
            if twin and chosen == "lean":
                pinned = [f"numpy=={layer.packages['numpy']}"]
                twin_layer = _twin_layer(
                    staging, pinned, here, host, (), task_root, ordered_rows, notes
                )
        pyc = compile_tree(task_root, interpreter.path, "/var/task") if interpreter else 0
        artifacts: dict[str, Artifact] = {"function": write_zip(task_root, dist / FUNCTION_ZIP)}
        if layer is not None:
            artifacts["layer"] = layer.artifact
            pyc += layer.pyc
        bytecode: dict[str, Any] = {"shipped": False}
        if interpreter is not None:
            bytecode = {
                "shipped": True,
                "files": pyc,
                "invalidation": "unchecked-hash",
                "layout": "sourceless" if "sourceless" in layer_slim else "__pycache__",
                "compiled_with": str(interpreter.path),
            }
        else:
            bytecode["reason"] = (
                f"no python{tgt.python} on this machine to compile with: every cold start "
                "compiles the modules it imports (measured with the scikit-learn runtime: 2.5x "
                "as long; see benchmarks/RESULTS.md)"
            )
            notes.append(f"no bytecode shipped: {bytecode['reason']}")
        unzipped = sum(a.unzipped for a in artifacts.values())
        size_limits = {
            "unzipped_total_bytes": unzipped,
            "unzipped_limit_bytes": limits.UNZIPPED_BYTES,
            "unzipped_ok": unzipped <= limits.UNZIPPED_BYTES,
            "direct_upload_limit_bytes": limits.DIRECT_UPLOAD_BYTES,
            "direct_upload_ok": all(
                a.zipped <= limits.DIRECT_UPLOAD_BYTES for a in artifacts.values()
            ),
        }
        if image:
            size_limits = {
                "image_bytes": unzipped,
                "image_limit_bytes": limits.IMAGE_BYTES,
                "image_ok": unzipped <= limits.IMAGE_BYTES,
            }
        elif not size_limits["unzipped_ok"]:
            raise BuildError(
                f"the package is {unzipped / 2**20:.1f} MiB unzipped, over Lambda's 250 MiB limit "
                "for a function and its layers; nothing was written"
            )
        if not image and not size_limits["direct_upload_ok"]:
            notes.append("an artifact is over 50 MiB zipped: deploy uploads it through S3")
        report: dict[str, Any] = {
            "sklambda": __version__,
            "name": model.name,
            "bundle_sha256": sha256_file(Path(bundle) / MANIFEST),
            "model": {
                "name": model.name,
                "version": model.manifest.get("version"),
                "task": model.task,
            },
            "runtime": chosen,
            "python": tgt.python,
            "arch": tgt.arch,
            "target": tgt.to_dict(),
            "handler": HANDLER,
            "layer_packages": layer.packages if layer else {},
            "slim": layer.slim if layer else None,
            "artifacts": {k: a.to_dict() for k, a in artifacts.items()},
            "limits": size_limits,
            "bytecode": bytecode,
            "notes": notes,
            "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        }
        if image:
            report["image"] = _image_context(dist, staging, tgt, model)
            report["artifacts"] = {}
        (dist / BUILD_JSON).write_text(json.dumps(report, indent=2) + "\n")

        verify_at = dist
        if image:
            # The image's own file tree, run as the emulator runs a zip: what ships is proven.
            verify_at = staging / "image-as-zip"
            verify_at.mkdir()
            write_zip(dist / "image" / "task", verify_at / FUNCTION_ZIP)
            (verify_at / BUILD_JSON).write_text(json.dumps(report))
        if twin:
            verify_at = staging / "twin"
            verify_at.mkdir()
            shutil.copy2(dist / FUNCTION_ZIP, verify_at / FUNCTION_ZIP)
            if twin_layer is not None:
                shutil.copy2(twin_layer.artifact.path, verify_at / LAYER_ZIP)
            (verify_at / BUILD_JSON).write_text(json.dumps({**report, "python": here.python}))
            why = (
                f"this machine is {here.arch}, not {tgt.arch}"
                if foreign_arch
                else f"no python{tgt.python} interpreter here"
            )
            notes.append(
                f"verified a twin for python{here.python} on {here.arch} (the same function code "
                f"and package releases): {why}"
            )
        verification = verify_dist(
            verify_at,
            task=model.task,
            rows=rows,
            expected=expected,
            expected_proba=expected_proba,
            python=None,
            twin=twin,
        )
        if not verification.ok:
            raise BuildError(
                f"the package failed verification ({verification.detail}); nothing was written"
            )
        report["verification"] = verification.to_dict()
        report["notes"] = notes
        (dist / BUILD_JSON).write_text(json.dumps(report, indent=2) + "\n")
        replace_dir(dist, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(out, report)


def _image_context(dist: Path, staging: Path, tgt: Target, model: Any) -> dict[str, Any]:
    """Replace the zips in ``dist`` by an image build context holding what they hold."""
    import zipfile

    from sklambda.building.image import write_context

    task = staging / "image-task"
    with zipfile.ZipFile(dist / FUNCTION_ZIP) as zf:
        zf.extractall(task)
    site = None
    if (dist / LAYER_ZIP).exists():
        with zipfile.ZipFile(dist / LAYER_ZIP) as zf:
            zf.extractall(staging / "image-layer")
        site = staging / "image-layer" / "python"
        (dist / LAYER_ZIP).unlink()
    (dist / FUNCTION_ZIP).unlink()
    context = write_context(
        dist,
        task,
        site,
        tgt,
        handler=HANDLER,
        name=model.name,
        version=str(model.manifest.get("version")),
    )
    files = [p for p in (context / "task").rglob("*") if p.is_file()]
    return {
        "context": "image",
        "dockerfile": "image/Dockerfile",
        "base": f"public.ecr.aws/lambda/python:{tgt.python}-{tgt.arch}",
        "platform": "linux/arm64" if tgt.arch == "arm64" else "linux/amd64",
        "task_bytes": sum(p.stat().st_size for p in files),
        "files": len(files),
    }


def _twin_layer(
    staging: Path,
    requirements: list[str],
    here: Target,
    host: Any,
    slim_rules: tuple[str, ...],
    task_root: Path,
    rows: list[list[Any]],
    notes: list[str],
) -> LayerResult:
    from sklambda.building.wheels import host_platform

    (staging / "twin-dist").mkdir()
    destination = staging / "twin-dist" / LAYER_ZIP
    kwargs = {
        "interpreter": host,
        "platform": host_platform(),
        "slim_rules": slim_rules,
        "task_root": task_root,
        "trace_rows": rows,
    }
    try:
        return _layer(staging / "twin-layer", destination, here, requirements, **kwargs)
    except SklambdaError:
        if requirements != [r for r in requirements if r.startswith("numpy==")]:
            raise
        # numpy for the lean runtime: the newest the target has may be newer than this
        # machine's Python can install; the twin takes the newest it can.
        shutil.rmtree(staging / "twin-layer", ignore_errors=True)
        result = _layer(staging / "twin-layer", destination, here, ["numpy"], **kwargs)
        notes.append(
            f"the twin was verified with numpy {result.packages.get('numpy')}, the newest for "
            f"python{here.python}"
        )
        return result


def _unavailable(manifest: dict[str, Any], tgt: Target, exc: Exception) -> BuildError:
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
