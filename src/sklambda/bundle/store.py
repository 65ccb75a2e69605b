"""Save and load bundles: a fitted estimator ↔ a bundle directory, written atomically."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda.bundle import persistence
from sklambda.bundle.format import (
    FORMAT_VERSION,
    MANIFEST,
    SAMPLE,
    SAMPLE_ROWS,
    check_name,
    content_digest,
    default_name,
    library_versions,
    read_manifest,
    seal,
    trust_vouched_here,
)
from sklambda.errors import BundleError, SklambdaError, UntrustedModelError
from sklambda.files import check_replaceable, replace_dir, sha256_file, staging_dir
from sklambda.runtime.contract import plain

if TYPE_CHECKING:
    import pandas as pd

    from sklambda.bundle.features import FeatureSpec
    from sklambda.bundle.format import Manifest
    from sklambda.bundle.model import Model


def _sample_value(value: Any) -> Any:
    """A JSON value for sample.json: plain Python, missing (NaN) as null."""
    value = plain(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _sample(
    estimator: Any,
    features: list[FeatureSpec],
    X_sample: pd.DataFrame | None,
    task: str,
    *,
    real: bool,
    seed: int,
) -> dict[str, Any]:
    """Sample rows with the predictions the training environment makes for them."""
    import warnings

    from sklambda.bundle.features import coerce_frame, frame_from_rows, synthetic_rows

    names = [f["name"] for f in features]
    if real and X_sample is not None and len(X_sample):
        picked = X_sample.sample(n=min(SAMPLE_ROWS, len(X_sample)), random_state=seed)
        frame = coerce_frame(picked, features)
        rows = [
            {n: _sample_value(v) for n, v in zip(names, rec, strict=True)}
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
        predictions = [_sample_value(p) for p in estimator.predict(model_input)]
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
    features: list[FeatureSpec],
    X_sample: pd.DataFrame | None = None,
    target: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    format: str = "skops",
    sample_data: bool = True,
    seed: int = 0,
    training: dict[str, Any] | None = None,
    trusted_types: tuple[str, ...] | list[str] = (),
) -> Manifest:
    """Write a fitted estimator and its manifest as a bundle directory, atomically.

    The bundle is assembled in a temporary directory beside ``out`` and moved into place only
    when complete, so a failure leaves an existing bundle at ``out`` untouched. A model holding
    types sklambda does not vouch for is refused before anything is written, unless named in
    ``trusted_types``; those it needed are recorded (and sealed) so later loads need not repeat
    them on this machine.
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
        needed = persistence.dump(
            estimator, staging / model_file, format, trusted_types=trusted_types
        )
        sample = _sample(estimator, features, X_sample, task, real=sample_data, seed=seed)
        (staging / SAMPLE).write_text(json.dumps(sample, indent=1) + "\n")
        files = {p.name: sha256_file(p) for p in sorted(staging.iterdir())}
        classes = getattr(estimator, "classes_", None)
        manifest: Manifest = {
            "format_version": FORMAT_VERSION,
            "name": name,
            "version": content_digest(staging / model_file)[:12],
            "task": task,
            "estimator_class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
            "features": features,
            "target": target,
            "classes": [_sample_value(c) for c in classes] if classes is not None else None,
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
            "trusted_types": needed,
            "files": files,
            "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        }
        manifest = seal(manifest)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        replace_dir(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def recorded_trust(manifest: Mapping[str, Any]) -> list[str]:
    """The ``trusted_types`` a (sealed) manifest records, when they were vouched for here."""
    recorded = manifest.get("trusted_types") or []
    if not isinstance(recorded, list) or not all(isinstance(t, str) for t in recorded):
        raise BundleError("the manifest's trusted_types is not a list of names; re-save the model")
    return recorded if recorded and trust_vouched_here(manifest) else []


def load(
    path: str | Path,
    *,
    trust_pickle: bool = False,
    trusted_types: tuple[str, ...] | list[str] = (),
) -> Model:
    """Load a bundle as a :class:`~sklambda.model.Model` with ``.predict(rows)``.

    Parameters
    ----------
    trust_pickle:
        Needed only for bundles saved with ``format="joblib"``: unpickling runs code.
    trusted_types:
        Extra ``module.Class`` names to accept in a skops model (your own transformers).
        Types vouched for when the bundle was saved on this machine are recorded in its sealed
        manifest and need not be repeated.
    """
    from sklambda.bundle.model import Model

    path = Path(path)
    manifest = read_manifest(path)
    model = manifest.get("model")
    if (
        not isinstance(model, dict)
        or model.get("format") not in persistence.FORMATS
        or model.get("file") not in manifest["files"]
    ):
        raise BundleError(f"{path / MANIFEST} names no model file it checks; re-save the model")
    honoured = recorded_trust(manifest)
    try:
        estimator = persistence.load(
            path / model["file"],
            model["format"],
            trust_pickle=trust_pickle,
            trusted_types=(*honoured, *trusted_types),
        )
    except UntrustedModelError as exc:
        if manifest.get("trusted_types") and not honoured:
            exc.template = exc.template.replace(
                ". They can run code",
                " (the manifest records them as trusted when saved, but not on this machine)"
                ". They can run code",
            )
            raise UntrustedModelError(exc.template, *exc.options) from None
        raise
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
    trusted_types: tuple[str, ...] | list[str] = (),
) -> Manifest:
    """Save any fitted estimator as a bundle.

    Parameters
    ----------
    trusted_types:
        ``module.Class`` (or ``module.function``) names of your own code inside the model that
        you vouch for; anything else sklambda does not trust is refused before writing.
    X_sample:
        A DataFrame of representative input rows (feature names, types, ranges and sample rows
        are taken from it), or a list of feature names (all numeric; the sample is then
        synthetic).
    """
    import pandas as pd
    from sklearn.base import is_classifier
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from sklambda.bundle.features import coerce_frame, describe

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
        trusted_types=trusted_types,
    )
