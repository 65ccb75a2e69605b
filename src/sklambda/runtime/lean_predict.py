"""Predict from a lean model: plain parameters, no scikit-learn.

This module runs inside AWS Lambda. It imports only the standard library at module level, and
of the model families in ``runtime/lean/`` only those the model uses; numpy is imported lazily,
and only by the numpy forms (networks, and trees when built with ``--numpy``). Large parameters
are read from ``lean.bin`` (``array.frombytes``) or, for the numpy forms, ``lean.npz``.
"""

from __future__ import annotations

import json
import os

from .contract import RequestError
from .lean.transforms import chain

# typing, collections.abc and pathlib cost milliseconds at import; cold starts pay for them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from .lean.values import Model

    Row = list[Any]

__all__ = [
    "ARRAYS_FILE",
    "BINARY_FILE",
    "FAMILIES",
    "FORMAT",
    "SPEC_FILE",
    "LeanPredictor",
    "from_spec",
    "load",
]

SPEC_FILE = "lean.json"
ARRAYS_FILE = "lean.npz"
BINARY_FILE = "lean.bin"  # .lean.binary's; that module (and array) loads only for a model with one
FORMAT = 1

# Model op -> the module of runtime/lean/ that builds it (``build(node, arrays, classes)``).
FAMILIES: dict[str, str] = {
    "linear": "linear",
    "logistic": "linear",
    "linear_classifier": "linear",
    "mlp": "networks",
    "forest": "trees",
    "gradient_boosting": "trees",
    "hist_gradient_boosting": "tree_walk",
    "svm": "svm",
    "neighbors": "neighbors",
    "naive_bayes": "bayes",
    "voting": "meta",
    "stacking": "meta",
    "bagging": "meta",
    "adaboost": "meta",
    "calibrated": "meta",
    "transformed_target": "meta",
    "pipeline": "meta",
    "isolation_forest": "tree_walk",
    "lightgbm": "boosters",
    "xgboost": "boosters",
}


def build_model(node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None) -> Model:
    """The runtime model for a compiled model node (imports only its family's module)."""
    op = node["op"]
    try:
        family = FAMILIES[op]
    except KeyError:
        known = sorted(FAMILIES)
        raise ValueError(f"lean model uses unknown model {op!r}; known: {known}") from None
    if node.get("form") == "python" and family == "trees":
        family = "tree_walk"
    # __import__, not importlib.import_module: importlib is one more module to load at INIT.
    module = __import__(f"{__package__}.lean.{family}", fromlist=["build"])
    return module.build(node, arrays, classes)


# ---------------------------------------------------------------- public surface


class LeanPredictor:
    """Predictions from a compiled model.

    Attributes
    ----------
    features : list of str
        Input feature names; each row passed to :meth:`predict` holds values in this order.
    task : str
        ``"regression"`` or ``"classification"``.
    classes : list or None
        Class labels, in the column order of :meth:`predict_proba`; None for regressors.
    """

    def __init__(self, spec: dict[str, Any], arrays: dict[str, Any]) -> None:
        if spec.get("format") != FORMAT:
            raise ValueError(
                f"lean model format {spec.get('format')!r} is not supported; this runtime "
                f"reads format {FORMAT}. Rebuild the package with the same sklambda version."
            )
        self.features: list[str] = list(spec["features"])
        self.task: str = spec["task"]
        self.classes: list[Any] | None = spec["classes"]
        graph = spec["graph"]
        self._transform = chain(graph["transforms"])
        self._model = build_model(graph["model"], arrays, self.classes)
        self._width = len(self.features)
        # Trees compare float32 inputs (as scikit-learn casts them): the contract bounds them so.
        model = graph["model"]
        self.float32_inputs: bool = bool(
            model.get("float32", model["op"] in ("forest", "gradient_boosting"))
        )

    def _prepare(self, rows: list[Row]) -> list[Row]:
        width = self._width
        transform = self._transform
        out = []
        for i, row in enumerate(rows):
            if len(row) != width:
                raise ValueError(
                    f"row {i} has {len(row)} values; the model expects {width}: {self.features}"
                )
            try:
                out.append(transform(list(row)))
            except RequestError as error:  # a value outside a step's domain: say which row
                error.message = f"row {i}: {error.message}"
                raise
        return out

    def predict(self, rows: list[Row]) -> list[Any]:
        """Predict one value per row.

        Parameters
        ----------
        rows : list of list
            Values in :attr:`features` order: float for numeric features, str for categorical
            ones, None for missing.

        Returns
        -------
        list
            Plain Python values: float for regressors (a list of floats per row for
            multi-output), the class label (as in scikit-learn's ``classes_``) for classifiers.
        """
        if not rows:
            return []
        return self._model.predict(self._prepare(rows))

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        """Class probabilities per row, in :attr:`classes` order (classifiers only).

        Raises
        ------
        TypeError
            If the model is a regressor.
        """
        if self.classes is None:
            raise TypeError("predict_proba is only available for classifiers")
        if not rows:
            return []
        return self._model.predict_proba(self._prepare(rows))


def from_spec(spec: dict[str, Any], arrays: dict[str, Any]) -> LeanPredictor:
    """Build a predictor from an in-memory spec and its arrays.

    Parameters
    ----------
    spec : dict
        The content of ``lean.json``.
    arrays : dict of str to numpy.ndarray
        The content of ``lean.npz``; empty for pure-Python models.

    Returns
    -------
    LeanPredictor
    """
    return LeanPredictor(spec, arrays)


def load(directory: str | Path) -> LeanPredictor:
    """Load a predictor from a directory holding ``lean.json`` (and ``lean.bin``/``lean.npz``).

    Parameters
    ----------
    directory : str or Path
        The directory written by ``LeanModel.write``.

    Returns
    -------
    LeanPredictor
    """
    directory = os.fspath(directory)
    with open(os.path.join(directory, SPEC_FILE), encoding="utf-8") as handle:
        spec = json.load(handle)
    arrays: dict[str, Any] = {}
    if spec.get("needs_numpy"):
        import numpy

        # allow_pickle=False: the file holds numbers only, never objects that run code on load.
        with numpy.load(os.path.join(directory, ARRAYS_FILE), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    index = spec.get("binary")
    if index:
        from .lean.binary import unpack

        with open(os.path.join(directory, BINARY_FILE), "rb") as handle:
            arrays.update(unpack(handle.read(), index))
    return LeanPredictor(spec, arrays)
