"""`sklambda build`: a bundle → the smallest Lambda package that reproduces its predictions.

Nothing is written to ``out`` until the package has been proven: built in a staging directory,
cold-started in the local emulator, asked to predict, and compared with scikit-learn.

:func:`build` only runs the phases, each one function with one job and a typed result:

options → target → load + skew check → probe (:mod:`.probe`) → choose form (:mod:`.forms`) →
stage task root (:mod:`.task_root`) → layers (:mod:`.layer`) → artifacts → report + limits
(:mod:`.report`) → verify (:mod:`.verify`) → write.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda.building.forms import RUNTIMES, Form, choose_form
from sklambda.building.slim import SAFE_RULES
from sklambda.building.targets import Target, pick_target
from sklambda.dist import BUILD_JSON, FUNCTION_ZIP, LAYER_ZIP, BuildReport
from sklambda.errors import BuildError
from sklambda.files import check_replaceable, replace_dir, staging_dir

if TYPE_CHECKING:
    from sklambda.building.machines import Machines
    from sklambda.building.probe import Probe
    from sklambda.building.zips import Artifact
    from sklambda.bundle.model import Model

__all__ = ["RUNTIMES", "SAFE_SLIM", "BuildResult", "build"]

# Slimming rules for the sklearn layer, in order (see sklambda.building.slim).
SAFE_SLIM = SAFE_RULES


@dataclass(frozen=True)
class BuildResult:
    """The package directory and its build.json report."""

    dist: Path
    report: BuildReport


def _check_options(runtime: str, slim_rules: tuple[str, ...]) -> None:
    from sklambda.building.slim import TRAP_RULES

    if runtime not in RUNTIMES:
        raise BuildError(f'unknown runtime "{runtime}"; choose one of {", ".join(RUNTIMES)}')
    unknown = [r for r in slim_rules if r not in SAFE_RULES + TRAP_RULES]
    if unknown:
        raise BuildError(f"unknown slimming rule {unknown[0]!r}; rules: {', '.join(SAFE_RULES)}")


def _load(bundle: str | Path, *, trust_pickle: bool, trusted_types: tuple[str, ...]) -> Model:
    """The bundle's model, refused when this environment's scikit-learn is not its own."""
    from sklambda.bundle.format import library_versions
    from sklambda.bundle.store import load

    model = load(bundle, trust_pickle=trust_pickle, trusted_types=trusted_types)
    trained = model.manifest.get("versions", {}).get("sklearn")
    here = library_versions().get("sklearn")
    if trained and here and trained != here:
        raise BuildError(
            f"the bundle was trained with scikit-learn {trained} but this environment has "
            f"{here}: loading it here may change the model. Build from an environment with "
            f"scikit-learn {trained} (e.g. `uv pip install scikit-learn=={trained}`), or retrain "
            "it here; nothing was written"
        )
    return model


def build(
    bundle: str | Path,
    out: str | Path,
    *,
    runtime: str = "auto",
    python: str | None = None,
    arch: str = "x86_64",
    trust_pickle: bool = False,
    trusted_types: tuple[str, ...] = (),
    slim_rules: tuple[str, ...] = SAFE_SLIM,
    image: bool = False,
    numpy: bool | None = None,
    batch_rows: int = 1,
    model_from: str = "auto",
    s3_bucket: str | None = None,
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
    trusted_types:
        Your own types inside the model that you vouch for (see :func:`sklambda.save`); types
        vouched for when the bundle was saved on this machine need not be repeated.
    slim_rules:
        Slimming rules for the scikit-learn layer (see :mod:`sklambda.building.slim`).
    image:
        Write a container-image build context (``out/image/``) instead of zips, for models whose
        dependencies exceed 250 MB; its file tree is what gets verified.
    numpy, batch_rows:
        Lean tree models have a stdlib form and a numpy form: ``True``/``False`` forces one;
        None builds both and keeps the faster for requests of ``batch_rows`` rows (see
        :mod:`sklambda.building.lean_forms`).
    model_from, s3_bucket:
        ``s3``: keep the model's files in S3 (uploaded by deploy, fetched and sha256-checked at
        INIT); ``auto``: only when the package would pass 250 MB unzipped; ``package``: never
        (:mod:`sklambda.building.model_s3`). ``s3_bucket`` is recorded for deploy.
    """
    from sklambda.building import model_s3
    from sklambda.building.machines import find_machines
    from sklambda.building.probe import probe

    _check_options(runtime, slim_rules)
    model_s3.check(model_from, s3_bucket, image)
    tgt = pick_target(python, arch, bundle, runtime)
    out = Path(out)
    check_replaceable(out, BUILD_JSON, "sklambda package")
    model = _load(bundle, trust_pickle=trust_pickle, trusted_types=trusted_types)
    probed = probe(model)
    form = choose_form(model, probed, runtime, slim_rules, numpy)
    if batch_rows < 1:
        raise BuildError(f"--batch-rows must be at least 1, got {batch_rows}")
    if form.runtime == "lean" and numpy is None and not image:
        from sklambda.building import lean_forms

        if lean_forms.has_two_forms(form.model):
            options: dict[str, Any] = {"runtime": runtime, "python": python, "arch": arch}
            options.update(trust_pickle=trust_pickle, trusted_types=trusted_types)
            options.update(slim_rules=slim_rules)
            return lean_forms.build_measured(build, bundle, out, batch_rows, **options)
    machines = find_machines(tgt)
    staging = staging_dir(out)
    try:
        report = _build_staged(
            staging,
            Path(bundle),
            model,
            probed,
            form,
            tgt,
            machines,
            image,
            model_store=(model_from, s3_bucket),
        )
        replace_dir(staging / "dist", out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(out, report)


def _build_staged(
    staging: Path,
    bundle: Path,
    model: Model,
    probed: Probe,
    form: Form,
    tgt: Target,
    machines: Machines,
    image: bool,
    model_store: tuple[str, str | None] = ("auto", None),
) -> BuildReport:
    """Stage, package, report and prove under ``staging``; the proven package is its ``dist/``.

    ``model_store``: ``(model_from, s3_bucket)`` of :mod:`sklambda.building.model_s3`."""
    from sklambda.building import model_s3
    from sklambda.building.image import replace_zips
    from sklambda.building.layer import build_layers
    from sklambda.building.report import bytecode_report, package_report, size_limits
    from sklambda.building.task_root import HANDLER, stage_task_root, zip_task_root
    from sklambda.building.verify import prove
    from sklambda.bundle.format import MANIFEST

    task_root, dist = staging / "task", staging / "dist"
    dist.mkdir()
    stage_task_root(task_root, model.manifest, form, tgt)
    layers = build_layers(
        staging, dist / LAYER_ZIP, tgt, form, machines, task_root, probed.ordered, model.manifest
    )
    function, pyc = zip_task_root(task_root, dist / FUNCTION_ZIP, machines.interpreter)
    artifacts: dict[str, Artifact] = {"function": function}
    if layers.layer is not None:
        artifacts["layer"] = layers.layer.artifact
        pyc += layers.layer.pyc
    stored = model_s3.split(
        model_store, task_root, dist, artifacts, image, form.notes, machines.interpreter
    )
    bytecode = bytecode_report(machines.interpreter, tgt, form, pyc)
    size = size_limits(artifacts, image=image, notes=form.notes)
    report = package_report(
        model=model,
        bundle_manifest=bundle / MANIFEST,
        form=form,
        tgt=tgt,
        handler=HANDLER,
        layers=layers,
        artifacts=artifacts,
        size=size,
        bytecode=bytecode,
    )
    if model.path and probed.rows:  # a real row of the bundle's sample, for deploy's "try it"
        report["example"] = probed.rows[0]
    if stored is not None:
        report["model_store"] = stored
    if image:
        version = str(model.manifest.get("version"))
        report["image"] = replace_zips(
            dist, staging, tgt, handler=HANDLER, name=model.name, version=version
        )
        report["artifacts"] = {}
    _write_report(dist, report)
    with model_s3.verification_env(dist, stored) as env:
        verification = prove(
            dist,
            staging,
            report,
            task=model.task,
            probe=probed,
            tgt=tgt,
            image=image,
            machines=machines,
            layers=layers,
            notes=form.notes,
            env=env,
        )
    report["verification"] = verification.to_dict()
    report["notes"] = form.notes
    _write_report(dist, report)
    return report


def _write_report(dist: Path, report: BuildReport) -> None:
    (dist / BUILD_JSON).write_text(json.dumps(report, indent=2) + "\n")
