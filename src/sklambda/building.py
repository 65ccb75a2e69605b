"""`sklambda build`: a bundle → the smallest Lambda package that reproduces its predictions.

Nothing is written to ``out`` until the package has been proven: built in a staging directory,
cold-started in the local emulator, asked to predict, and compared with scikit-learn.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._version import __version__
from .archive import Artifact, write_zip
from .atomic import check_replaceable, replace_dir, staging_dir
from .errors import SklambdaError
from .targets import Target, target

RUNTIMES = ("auto", "lean", "sklearn")
HANDLER = "sklambda_handler.handler"
BUILD_JSON = "build.json"
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024  # zipped, through the API (larger: through S3)
UNZIPPED_LIMIT = 262_144_000  # function + layers, unzipped, as Lambda enforces it
# The runtime modules a lean package ships: standard library code only.
LEAN_MODULES = (
    *("__init__", "contract", "events", "card"),
    *("service", "handler", "lean_predict"),
)
PROBE_ROWS = 24
HANDLER_SOURCE = '''"""Lambda entry point written by sklambda build; the model loads at INIT."""

from sklambda.runtime.handler import handler

__all__ = ["handler"]
'''


class BuildError(SklambdaError):
    """The package cannot be built or did not prove itself; nothing was written."""


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


def _write_task_root(root: Path, manifest: dict[str, Any], lean: Any) -> None:
    runtime_src = Path(__file__).parent / "runtime"
    package = root / "sklambda"
    (package / "runtime").mkdir(parents=True)
    (package / "__init__.py").write_text('"""sklambda runtime package (Lambda side only)."""\n')
    for name in LEAN_MODULES:
        shutil.copy2(runtime_src / f"{name}.py", package / "runtime" / f"{name}.py")
    (root / "sklambda_handler.py").write_text(HANDLER_SOURCE)
    model_dir = root / "model"
    model_dir.mkdir()
    (model_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    lean.write(model_dir)


def _probe(model: Any) -> tuple[list[dict[str, Any]], list[Any], list[list[float]] | None]:
    """Rows to prove the package on, with scikit-learn's answers for them."""
    from .bundle import read_sample
    from .features import probe_rows

    features = model.features
    rows = list(read_sample(model.path)["rows"]) if model.path else []
    rows += probe_rows(features, PROBE_ROWS, seed=1, spread=1.0)
    rows += probe_rows(features, PROBE_ROWS, seed=2, spread=10.0)
    expected = model.predict(rows)
    proba = model.predict_proba(rows) if model.manifest.get("probabilities") else None
    return rows, expected, proba


def _lean(model: Any, rows: list[dict[str, Any]]) -> Any:
    from .features import frame_from_rows
    from .lean import LeanUnsupportedError, check_equivalence, compile_estimator

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


def _layer_zip(
    layer_root: Path,
    destination: Path,
    tgt: Target,
    packages: dict[str, str],
    interpreter: Any,
) -> tuple[Artifact, int]:
    """Compile and zip a layer, or reuse the same layer built before (same packages, target and
    compiler): compiling and zipping numpy is most of a build's time."""
    import hashlib

    from .bytecode import compile_tree
    from .cache import cache_dir

    key = hashlib.sha256(
        json.dumps(
            {
                "format": 2,
                "platform": tgt.platform,
                "python": tgt.python,
                "packages": packages,
                "compiler": str(interpreter.path) if interpreter else None,
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()[:24]
    cached = cache_dir() / "layers" / key
    meta_file = cached / "layer.json"
    if meta_file.is_file() and (cached / "layer.zip").is_file():
        meta = json.loads(meta_file.read_text())
        shutil.copy2(cached / "layer.zip", destination)
        artifact = Artifact(
            destination, meta["zipped"], meta["unzipped"], meta["files"], meta["sha256"]
        )
        if artifact.zipped == destination.stat().st_size:
            return artifact, meta["pyc"]
    pyc = compile_tree(layer_root, interpreter.path, "/opt") if interpreter else 0
    artifact = write_zip(layer_root, destination)
    cached.mkdir(parents=True, exist_ok=True)
    shutil.copy2(destination, cached / "layer.zip.tmp")
    (cached / "layer.zip.tmp").replace(cached / "layer.zip")
    meta = {
        "zipped": artifact.zipped,
        "unzipped": artifact.unzipped,
        "files": artifact.files,
        "sha256": artifact.sha256,
        "pyc": pyc,
    }
    meta_file.write_text(json.dumps(meta))
    return artifact, pyc


def build(
    bundle: str | Path,
    out: str | Path,
    *,
    runtime: str = "auto",
    python: str | None = None,
    arch: str = "x86_64",
    trust_pickle: bool = False,
) -> BuildResult:
    """Build, verify and write a Lambda package for a bundle.

    Parameters
    ----------
    bundle:
        A bundle directory (``sklambda train`` / ``sklambda.save``).
    out:
        The package directory to write: ``function.zip``, ``layer.zip`` when numpy is needed,
        ``build.json``. Replaced only after the new package verified.
    runtime:
        ``auto`` (the smallest runtime that reproduces the model), ``lean`` or ``sklearn``.
    python, arch:
        The Lambda runtime to target: ``3.11``…``3.14`` (default: this machine's version when
        Lambda has it, else 3.12) and ``x86_64`` or ``arm64``.
    """
    from .bundle import load
    from .bytecode import compile_tree
    from .interpreters import find_interpreter, host_version
    from .verify import verify_dist
    from .wheels import host_platform, install

    if runtime not in RUNTIMES:
        raise BuildError(f'unknown runtime "{runtime}"; choose one of {", ".join(RUNTIMES)}')
    tgt = target(python, arch)
    out = Path(out)
    check_replaceable(out, BUILD_JSON, "sklambda package")
    model = load(bundle, trust_pickle=trust_pickle)
    rows, expected, expected_proba = _probe(model)

    if runtime == "sklearn":
        raise BuildError(
            "the sklearn runtime is not available in this sklambda yet; use --runtime lean"
        )
    lean, why_not = _lean(model, rows)
    if lean is None:
        raise BuildError(
            f"{why_not}. This model needs the sklearn runtime, which this sklambda cannot build "
            "yet; nothing was written"
        )

    interpreter = find_interpreter(tgt.python)
    staging = staging_dir(out)
    try:
        task_root, layer_root, dist = staging / "task", staging / "layer", staging / "dist"
        dist.mkdir()
        _write_task_root(task_root, _packaged_manifest(model.manifest, "lean", tgt), lean)
        notes: list[str] = []
        pyc = compile_tree(task_root, interpreter.path, "/var/task") if interpreter else 0
        artifacts: dict[str, Artifact] = {"function": write_zip(task_root, dist / "function.zip")}
        layer_packages: dict[str, str] = {}
        if lean.needs_numpy:
            layer_packages = install(["numpy"], layer_root / "python", tgt)
            artifacts["layer"], layer_pyc = _layer_zip(
                layer_root, dist / "layer.zip", tgt, layer_packages, interpreter
            )
            pyc += layer_pyc
        bytecode: dict[str, Any] = {"shipped": False}
        if interpreter is not None:
            bytecode = {
                "shipped": True,
                "files": pyc,
                "invalidation": "unchecked-hash",
                "compiled_with": str(interpreter.path),
            }
        else:
            bytecode["reason"] = (
                f"no python{tgt.python} on this machine to compile with: every cold start "
                "compiles the modules it imports (see benchmarks/RESULTS.md for the cost)"
            )
            notes.append(f"no bytecode shipped: {bytecode['reason']}")
        unzipped = sum(a.unzipped for a in artifacts.values())
        limits = {
            "unzipped_total_bytes": unzipped,
            "unzipped_limit_bytes": UNZIPPED_LIMIT,
            "unzipped_ok": unzipped <= UNZIPPED_LIMIT,
            "direct_upload_limit_bytes": DIRECT_UPLOAD_LIMIT,
            "direct_upload_ok": all(a.zipped <= DIRECT_UPLOAD_LIMIT for a in artifacts.values()),
        }
        if not limits["unzipped_ok"]:
            raise BuildError(
                f"the package is {unzipped / 1e6:.1f} MB unzipped, over Lambda's 262.1 MB limit"
            )
        report: dict[str, Any] = {
            "sklambda": __version__,
            "name": model.name,
            "model": {
                "name": model.name,
                "version": model.manifest.get("version"),
                "task": model.task,
            },
            "runtime": "lean",
            "needs_numpy": lean.needs_numpy,
            "python": tgt.python,
            "arch": tgt.arch,
            "target": tgt.to_dict(),
            "handler": HANDLER,
            "layer_packages": layer_packages,
            "artifacts": {k: a.to_dict() for k, a in artifacts.items()},
            "limits": limits,
            "bytecode": bytecode,
            "notes": notes,
            "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        }
        (dist / BUILD_JSON).write_text(json.dumps(report, indent=2) + "\n")

        verify_at, python_path, twin = dist, None, False
        if interpreter is None:
            # Verify a twin: the same code with the same numpy release for this machine's Python.
            twin = True
            here = Target(host_version(), tgt.arch)
            twin_dist = staging / "twin"
            twin_dist.mkdir()
            shutil.copy2(dist / "function.zip", twin_dist / "function.zip")
            if layer_packages:
                twin_layer = staging / "twin-layer"
                wanted = layer_packages["numpy"]
                try:
                    install(
                        [f"numpy=={wanted}"], twin_layer / "python", here, platform=host_platform()
                    )
                except SklambdaError:
                    got = install(["numpy"], twin_layer / "python", here, platform=host_platform())
                    notes.append(
                        f"numpy {wanted} has no wheel for python{here.python}: the twin was "
                        f"verified with numpy {got.get('numpy')}"
                    )
                write_zip(twin_layer, twin_dist / "layer.zip")
            (twin_dist / BUILD_JSON).write_text(json.dumps({**report, "python": here.python}))
            verify_at = twin_dist
            notes.append(
                f"verified a twin for python{here.python} (the same function code): no "
                f"python{tgt.python} interpreter here"
            )
        verification = verify_dist(
            verify_at,
            task=model.task,
            rows=rows,
            expected=expected,
            expected_proba=expected_proba,
            python=python_path,
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
