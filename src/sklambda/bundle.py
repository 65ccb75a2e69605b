"""The bundle: a trained model on disk that carries its own contract.

```
houses/
  manifest.json   format version, name, task, features, target, classes, metrics, versions,
                  sha256 of every other file, created_at
  model.skops     the fitted estimator (model.joblib only when asked for)
  sample.json     a few feature rows and the predictions made at training time
```
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import re
import shutil
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import persistence
from ._version import __version__
from .archive import sha256_file
from .atomic import check_replaceable, replace_dir, staging_dir
from .errors import BundleError, SklambdaError
from .runtime.contract import plain

if TYPE_CHECKING:
    import pandas as pd

    from .model import Model

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SAMPLE = "sample.json"
SAMPLE_ROWS = 20
# Lambda function names allow letters, digits, hyphens and underscores, up to 64 characters.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def library_versions() -> dict[str, str]:
    """Versions of what the model was fitted with; a build must match them."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": ".".join(map(str, sys.version_info[:3])), "sklambda": __version__}
    for dist, key in (
        ("scikit-learn", "sklearn"),
        ("numpy", "numpy"),
        ("scipy", "scipy"),
        ("skops", "skops"),
        ("joblib", "joblib"),
    ):
        with contextlib.suppress(PackageNotFoundError):
            out[key] = version(dist)
    return out


def content_digest(path: Path) -> str:
    """sha256 of what a model file holds, the same for the same fitted model.

    A skops file names its entries after Python object ids and stamps them with the time they
    were written, so two saves of one model differ byte for byte. Here the schema's ids and
    array-file names are renumbered in traversal order and each array file is hashed where it
    is referenced, so retraining with the same data and seed yields the same model version.
    """
    if not zipfile.is_zipfile(path):
        return sha256_file(path)
    with zipfile.ZipFile(path) as archive:
        if "schema.json" not in archive.namelist():
            return sha256_file(path)
        schema = json.loads(archive.read("schema.json"))
        renumbered: dict[Any, int] = {}
        digest = hashlib.sha256()

        def canonical(node: Any) -> Any:
            if isinstance(node, dict):
                out = {}
                for key in sorted(node):
                    value = node[key]
                    if key == "__id__":
                        value = renumbered.setdefault(value, len(renumbered))
                    elif key == "file" and isinstance(value, str) and value in archive.namelist():
                        digest.update(hashlib.sha256(archive.read(value)).digest())
                        value = renumbered.setdefault(value, len(renumbered))
                    else:
                        value = canonical(value)
                    out[key] = value
                return out
            if isinstance(node, list):
                return [canonical(v) for v in node]
            return node

        digest.update(json.dumps(canonical(schema), sort_keys=True).encode())
    return digest.hexdigest()


def check_name(name: str) -> str:
    """A model name usable as a Lambda function name."""
    if not NAME_PATTERN.match(name):
        raise BundleError(
            f'model name "{name}" is not usable as a Lambda function name; use 1-64 letters, '
            "digits, hyphens or underscores"
        )
    return name


def default_name(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:64]
    return cleaned or "model"


def _plain(value: Any) -> Any:
    """A JSON value for sample.json: plain Python, missing (NaN) as null."""
    value = plain(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _sample(
    estimator: Any,
    features: list[dict[str, Any]],
    X_sample: pd.DataFrame | None,
    task: str,
    *,
    real: bool,
    seed: int,
) -> dict[str, Any]:
    """Sample rows with the predictions the training environment makes for them."""
    import warnings

    from .features import coerce_frame, frame_from_rows, synthetic_rows

    names = [f["name"] for f in features]
    if real and X_sample is not None and len(X_sample):
        picked = X_sample.sample(n=min(SAMPLE_ROWS, len(X_sample)), random_state=seed)
        frame = coerce_frame(picked, features)
        rows = [
            {n: _plain(v) for n, v in zip(names, rec, strict=True)}
            for rec in frame.itertuples(index=False)
        ]
    else:
        rows = synthetic_rows(features, SAMPLE_ROWS, seed=seed)
        real = False
    frame = frame_from_rows([[r[n] for n in names] for r in rows], features)
    model_input = (
        frame
        if getattr(estimator, "feature_names_in_", None) is not None
        else frame.to_numpy(dtype=float)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predictions = [_plain(p) for p in estimator.predict(model_input)]
        probabilities = None
        if task == "classification" and hasattr(estimator, "predict_proba"):
            probabilities = [
                [float(p) for p in row] for row in estimator.predict_proba(model_input)
            ]
    return {
        "synthetic": not real,
        "rows": rows,
        "predictions": predictions,
        "probabilities": probabilities,
    }


def write_bundle(
    estimator: Any,
    out: str | Path,
    *,
    name: str,
    task: str,
    features: list[dict[str, Any]],
    X_sample: pd.DataFrame | None = None,
    target: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    format: str = "skops",
    sample_data: bool = True,
    seed: int = 0,
    training: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write a fitted estimator and its manifest as a bundle directory, atomically.

    The bundle is assembled in a temporary directory beside ``out`` and moved into place only
    when complete, so a failure leaves an existing bundle at ``out`` untouched.
    """
    check_name(name)
    if format not in persistence.FORMATS:
        raise BundleError(
            f'unknown model format "{format}"; choices: {", ".join(persistence.FORMATS)}'
        )
    out = Path(out)
    try:
        check_replaceable(out, MANIFEST, "sklambda bundle")
    except SklambdaError as exc:
        raise BundleError(str(exc)) from None
    staging = staging_dir(out)
    try:
        model_file = persistence.MODEL_FILES[format]
        persistence.dump(estimator, staging / model_file, format)
        sample = _sample(estimator, features, X_sample, task, real=sample_data, seed=seed)
        (staging / SAMPLE).write_text(json.dumps(sample, indent=1) + "\n")
        files = {p.name: sha256_file(p) for p in sorted(staging.iterdir())}
        classes = getattr(estimator, "classes_", None)
        manifest = {
            "format_version": FORMAT_VERSION,
            "name": name,
            "version": content_digest(staging / model_file)[:12],
            "task": task,
            "estimator_class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
            "features": features,
            "target": target,
            "classes": [_plain(c) for c in classes] if classes is not None else None,
            "probabilities": task == "classification" and hasattr(estimator, "predict_proba"),
            "metrics": metrics,
            "model": {"file": model_file, "format": format},
            "sample": {
                "file": SAMPLE,
                "synthetic": sample["synthetic"],
                "rows": len(sample["rows"]),
            },
            "versions": library_versions(),
            "training": training,
            "files": files,
            "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        replace_dir(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def read_manifest(path: str | Path, *, verify: bool = True) -> dict[str, Any]:
    """Read and check a bundle's manifest (format version, and file hashes when ``verify``)."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not path.is_dir():
        raise BundleError(f"bundle not found: {path} (a directory written by `sklambda train`)")
    if not manifest_path.is_file():
        raise BundleError(f"{path} is not a sklambda bundle: it has no {MANIFEST}")
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise BundleError(f"{manifest_path} is not valid JSON ({exc})") from None
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise BundleError(f"{manifest_path} has no format_version; it was not written by sklambda")
    if version > FORMAT_VERSION:
        raise BundleError(
            f"{path} was written by a newer sklambda (bundle format {version}; this sklambda "
            f"{__version__} reads up to {FORMAT_VERSION}); upgrade sklambda"
        )
    if verify:
        for file_name, expected in manifest.get("files", {}).items():
            file_path = path / file_name
            if not file_path.is_file():
                raise BundleError(f"{path} is damaged: {file_name} is missing")
            if sha256_file(file_path) != expected:
                raise BundleError(
                    f"{path} is damaged or was edited: {file_name} does not match its sha256 "
                    "in the manifest; retrain or restore the bundle"
                )
    return manifest


def read_sample(path: str | Path) -> dict[str, Any]:
    """The bundle's verification sample: rows plus the predictions made at training time."""
    return json.loads((Path(path) / SAMPLE).read_text())


def load(
    path: str | Path, *, trust_pickle: bool = False, trusted_types: tuple[str, ...] = ()
) -> Model:
    """Load a bundle as a :class:`~sklambda.model.Model` with ``.predict(rows)``.

    Parameters
    ----------
    trust_pickle:
        Needed only for bundles saved with ``format="joblib"``: unpickling runs code.
    trusted_types:
        Extra ``module.Class`` names to accept in a skops model (your own transformers).
    """
    from .model import Model

    path = Path(path)
    manifest = read_manifest(path)
    model = manifest["model"]
    estimator = persistence.load(
        path / model["file"],
        model["format"],
        trust_pickle=trust_pickle,
        trusted_types=trusted_types,
    )
    return Model(manifest, estimator, path)


def save(
    estimator: Any,
    path: str | Path,
    *,
    X_sample: Any,
    name: str | None = None,
    format: str = "skops",
    sample_data: bool = True,
    metrics: dict[str, float] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Save any fitted estimator as a bundle.

    Parameters
    ----------
    X_sample:
        A DataFrame of representative input rows (feature names, types, ranges and sample rows
        are taken from it), or a list of feature names (all numeric; the sample is then
        synthetic).
    """
    import pandas as pd
    from sklearn.base import is_classifier
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from .features import coerce_frame, describe

    try:
        check_is_fitted(estimator)
    except NotFittedError:
        raise BundleError(
            f"this {type(estimator).__name__} is not fitted yet; call fit() before saving it"
        ) from None
    except TypeError as exc:
        raise BundleError(f"not a scikit-learn estimator: {exc}") from None
    frame: pd.DataFrame | None
    if isinstance(X_sample, pd.DataFrame):
        features = describe(X_sample)
        frame = coerce_frame(X_sample, features)
    else:
        names = [str(n) for n in X_sample]
        if not names:
            raise BundleError("X_sample is empty; pass a DataFrame or the feature names")
        features = [
            {
                "name": n,
                "type": "number",
                "dtype": "float64",
                "nullable": False,
                "min": None,
                "max": None,
            }
            for n in names
        ]
        frame = None
        sample_data = False
    expected = getattr(estimator, "n_features_in_", None)
    if expected is not None and expected != len(features):
        raise BundleError(
            f"the estimator expects {expected} features but {len(features)} names were given"
        )
    fitted_names = getattr(estimator, "feature_names_in_", None)
    if fitted_names is not None and list(fitted_names) != [f["name"] for f in features]:
        raise BundleError(
            f"the estimator was fitted on features {list(fitted_names)}, but X_sample has "
            f"{[f['name'] for f in features]}; pass the same columns in the same order"
        )
    task = "classification" if is_classifier(estimator) else "regression"
    return write_bundle(
        estimator,
        path,
        name=check_name(name) if name else default_name(Path(path).name),
        task=task,
        features=features,
        X_sample=frame,
        metrics=metrics,
        format=format,
        sample_data=sample_data,
        seed=seed,
        training={"estimator": "custom"},
    )
