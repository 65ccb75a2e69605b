"""The scikit-learn runtime inside Lambda: a fitted model that takes plain arrays.

The model file is a pickle that `sklambda build` wrote itself, from a model it loaded through
its skops allowlist and proved against the bundle; the package is the user's own artifact.
Loading skops in Lambda would cost every cold start its import (~1.5 s for `import skops.io` in
the team's reference measurements, shared/reference/prior-art.md). numpy and scikit-learn come
from the layer.
"""

from __future__ import annotations

import json
import os
import pickle
import warnings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MODEL_FILE = "model.pkl"
MANIFEST_FILE = "manifest.json"


class SklearnPredictor:
    """Predict with a packaged scikit-learn model from rows in manifest order."""

    def __init__(self, estimator: Any, feature_types: list[str]):
        self.estimator = estimator
        self.numeric = all(t == "number" for t in feature_types)
        self.float32_inputs = compares_as_float32(estimator)

    def _matrix(self, rows: list[list[Any]]) -> Any:
        import numpy

        if self.numeric:
            return numpy.array(rows, dtype=numpy.float64)  # None becomes nan
        nan = float("nan")
        return numpy.array([[nan if v is None else v for v in row] for row in rows], dtype=object)

    def predict(self, rows: list[list[Any]]) -> list[Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.estimator.predict(self._matrix(rows)).tolist()

    def predict_proba(self, rows: list[list[Any]]) -> list[list[float]]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.estimator.predict_proba(self._matrix(rows)).tolist()


def compares_as_float32(estimator: Any) -> bool:
    """Whether the model's final step walks decision trees, which cast their input to float32.

    Duck-typed (a fitted tree has ``tree_``; ensembles hold trees in ``estimators_``), so it
    needs no scikit-learn import: a value beyond float32's range is then refused by the request
    contract as scikit-learn's ``check_array(dtype=float32)`` refuses it.
    """
    final = estimator
    while hasattr(final, "steps"):
        final = final.steps[-1][1]
    if hasattr(final, "tree_"):
        return True
    members = getattr(final, "estimators_", None)
    if members is None:
        return False
    flat: list[Any] = []
    for member in members:
        if hasattr(member, "tree_") or not hasattr(member, "__iter__"):
            flat.append(member)
        else:
            flat.extend(member)
    return any(hasattr(member, "tree_") for member in flat)


def load(directory: str) -> SklearnPredictor:
    """Load the packaged model from ``directory`` (``model.pkl`` + ``manifest.json``)."""
    directory = os.fspath(directory)
    with open(os.path.join(directory, MANIFEST_FILE), encoding="utf-8") as handle:
        manifest = json.load(handle)
    with open(os.path.join(directory, MODEL_FILE), "rb") as handle:
        estimator = pickle.load(handle)
    return SklearnPredictor(estimator, [f["type"] for f in manifest["features"]])
