"""Bring your own model: the tutorial's ``scaler.pkl`` + ``model.sav`` pickles into a bundle.

Unpickling runs whatever code the file holds, so nothing is loaded without ``trust_pickle``.
The bundle written is in the skops format: after the import, no pickle is needed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda.errors import BundleError, Option, UntrustedModelError

if TYPE_CHECKING:
    from sklambda.bundle.features import FeatureSpec
    from sklambda.bundle.format import Manifest


def _unpickle(path: Path, role: str) -> Any:
    import joblib

    try:
        return joblib.load(path)
    except Exception as exc:  # a pickle can fail in any way; say which file and why
        raise BundleError(f"cannot load the {role} {path}: {type(exc).__name__}: {exc}") from None


def _synthetic_ranges(scaler: Any, n: int) -> list[tuple[float | None, float | None]]:
    """Plausible feature ranges from what a fitted scaler remembers (for synthetic samples)."""
    if hasattr(scaler, "data_min_") and hasattr(scaler, "data_max_"):
        return [
            (float(lo), float(hi))
            for lo, hi in zip(scaler.data_min_, scaler.data_max_, strict=True)
        ]
    mean = getattr(scaler, "mean_", None)
    scale = getattr(scaler, "scale_", None)
    if mean is not None and scale is not None:
        return [(float(m - 2 * s), float(m + 2 * s)) for m, s in zip(mean, scale, strict=True)]
    return [(None, None)] * n


def import_legacy(
    model: str | Path,
    *,
    out: str | Path,
    scaler: str | Path | None = None,
    features: Sequence[str] | None = None,
    name: str | None = None,
    trust_pickle: bool = False,
    format: str = "skops",
    trusted_types: Sequence[str] = (),
) -> Manifest:
    """Turn a pickled model (and optionally its pickled scaler) into a bundle.

    Parameters
    ----------
    model, scaler:
        Pickle or joblib files, e.g. the tutorial's ``model.sav`` and ``scaler.pkl``.
    features:
        Feature names in the order the model takes them. May be omitted when the scaler or
        model was fitted on a DataFrame and remembers them.
    trust_pickle:
        Must be True: unpickling runs code from the file.
    trusted_types:
        Your own types inside the model to keep in the skops bundle (see :func:`sklambda.save`).
    """
    paths = [Path(model)] + ([Path(scaler)] if scaler is not None else [])
    for path in paths:  # before scikit-learn is imported: a typo is answered at once
        if not path.is_file():
            raise BundleError(f"file not found: {path}")
    if not trust_pickle:
        raise UntrustedModelError(
            f"{paths[0].name} is a pickle: loading it runs any code inside it. If you made it "
            "or trust its source, pass {0}",
            Option("trust_pickle"),
        )
    from sklearn.base import is_classifier
    from sklearn.pipeline import Pipeline

    from sklambda.bundle.format import default_name
    from sklambda.bundle.store import write_bundle

    estimator = _unpickle(Path(model), "model")
    if not hasattr(estimator, "predict"):
        raise BundleError(f"{model} holds a {type(estimator).__name__}, which has no predict()")
    fitted_by: Any = estimator
    if scaler is not None:
        scaler_obj = _unpickle(Path(scaler), "scaler")
        if not hasattr(scaler_obj, "transform"):
            raise BundleError(
                f"{scaler} holds a {type(scaler_obj).__name__}, which has no transform()"
            )
        fitted_by = scaler_obj
        estimator = Pipeline([("scaler", scaler_obj), ("model", estimator)])

    remembered = getattr(fitted_by, "feature_names_in_", None)
    names = [str(n) for n in features] if features else None
    if names is None:
        if remembered is None:
            raise BundleError(
                "the feature names are unknown (the model was fitted on bare arrays); pass "
                "--features a,b,c in the order the model takes them"
            )
        names = [str(n) for n in remembered]
    elif remembered is not None and list(remembered) != names:
        raise BundleError(
            f"--features {','.join(names)} does not match the names the model was fitted "
            f"with: {','.join(map(str, remembered))}"
        )
    expected = getattr(fitted_by, "n_features_in_", None)
    if expected is not None and expected != len(names):
        raise BundleError(f"the model takes {expected} features but --features names {len(names)}")

    ranges = _synthetic_ranges(fitted_by, len(names))
    specs: list[FeatureSpec] = [
        {"name": n, "type": "number", "dtype": "float64", "nullable": False, "min": lo, "max": hi}
        for n, (lo, hi) in zip(names, ranges, strict=True)
    ]
    task = "classification" if is_classifier(estimator) else "regression"
    return write_bundle(
        estimator,
        out,
        name=name or default_name(Path(out).name),
        task=task,
        features=specs,
        format=format,
        sample_data=False,
        training={"estimator": "imported", "files": [p.name for p in paths]},
        trusted_types=tuple(trusted_types),
    )
