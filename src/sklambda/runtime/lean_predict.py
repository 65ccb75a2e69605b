"""Predict from a lean model: plain parameters, no scikit-learn.

This module runs inside AWS Lambda. It imports only the standard library at module level;
numpy is imported lazily, and only when the compiled model holds arrays (networks and trees).
Linear pipelines (scalers, imputers, one-hot, linear and logistic models) run in pure Python.

The arithmetic mirrors scikit-learn's operation by operation (e.g. ``(x - mean) / scale``, not a
folded coefficient), so element-wise steps give bit-identical values and only sums and
exponentials may differ in the last bits. Tree inputs are rounded to float32, as scikit-learn
does before it walks a tree, so split decisions are identical.
"""

from __future__ import annotations

import json
import math
import os
from operator import mul

# typing, collections.abc and pathlib cost milliseconds at import; cold starts pay for them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path
    from typing import Any

__all__ = ["ARRAYS_FILE", "FORMAT", "SPEC_FILE", "LeanPredictor", "from_spec", "load"]

SPEC_FILE = "lean.json"
ARRAYS_FILE = "lean.npz"
FORMAT = 1

if TYPE_CHECKING:
    Row = list[Any]
    RowFn = Callable[[Row], Row]

_NAN = float("nan")


class _Missing:
    """Dictionary key standing for a missing category (None or NaN), which never equals itself."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING_KEY = _Missing()


def decode_number(value: Any) -> Any:
    """Decode a value written by ``sklambda.lean``: ``{"$float": "nan"}`` is a non-finite float.

    JSON has no NaN or infinity; the compiler writes them as a one-key object instead.
    """
    if isinstance(value, dict) and "$float" in value:
        return float(value["$float"])
    return value


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


_INFINITIES = (math.inf, -math.inf)


def _to_float(value: Any) -> float:
    # None is how the HTTP layer spells a missing number; scikit-learn sees it as NaN.
    return _NAN if value is None else float(value)


# ---------------------------------------------------------------- transforms (pure Python)


def _center_scale(center: list[float] | None, scale: list[float] | None) -> RowFn:
    """``(x - center) / scale``, either part optional: StandardScaler and RobustScaler alike."""
    if center is not None and scale is not None:
        pairs = list(zip(center, scale, strict=True))
        return lambda row: [(_to_float(v) - c) / s for v, (c, s) in zip(row, pairs, strict=True)]
    if center is not None:
        return lambda row: [_to_float(v) - c for v, c in zip(row, center, strict=True)]
    if scale is not None:
        return lambda row: [_to_float(v) / s for v, s in zip(row, scale, strict=True)]
    return lambda row: [_to_float(v) for v in row]


def _standard_scaler(node: dict[str, Any]) -> RowFn:
    return _center_scale(node["mean"], node["scale"])


def _minmax_scaler(node: dict[str, Any]) -> RowFn:
    pairs = list(zip(node["scale"], node["min"], strict=True))
    clip = node["clip"]
    if clip is None:
        return lambda row: [_to_float(v) * s + m for v, (s, m) in zip(row, pairs, strict=True)]
    low, high = clip

    def transform(row: Row) -> Row:
        out = []
        for v, (s, m) in zip(row, pairs, strict=True):
            x = _to_float(v) * s + m
            # np.clip keeps NaN; min()/max() alone would not.
            if x < low:
                x = float(low)
            elif x > high:
                x = float(high)
            out.append(x)
        return out

    return transform


def _robust_scaler(node: dict[str, Any]) -> RowFn:
    return _center_scale(node["center"], node["scale"])


def _maxabs_scaler(node: dict[str, Any]) -> RowFn:
    scale = node["scale"]
    return lambda row: [_to_float(v) / s for v, s in zip(row, scale, strict=True)]


def _imputer(node: dict[str, Any]) -> RowFn:
    kind = node["missing"]["kind"]
    marker = decode_number(node["missing"].get("value"))
    numeric = node["numeric"]
    fills = [decode_number(v) for v in node["fill"]]
    if numeric:
        fills = [float(v) for v in fills]
    keep = node["keep"]
    indicator = node["indicator"]

    if kind == "nan":
        is_missing = _is_missing
    elif kind == "none":

        def is_missing(value: Any) -> bool:
            return value is None

    else:

        def is_missing(value: Any) -> bool:
            return value == marker

    def transform(row: Row) -> Row:
        if numeric:
            filled = [fills[j] if is_missing(row[j]) else _to_float(row[j]) for j in keep]
        else:
            filled = [fills[j] if is_missing(row[j]) else row[j] for j in keep]
        if indicator:
            filled.extend(1.0 if is_missing(row[j]) else 0.0 for j in indicator)
        return filled

    return transform


def _category_key(value: Any) -> Any:
    return _MISSING_KEY if _is_missing(value) else value


def _one_hot(node: dict[str, Any]) -> RowFn:
    # Per input feature: category -> output position inside the block, or None when the
    # category is the dropped one (all zeros). Missing values share one key, like scikit-learn
    # which reads both None and NaN as NaN.
    # With infrequent grouping, "positions" gives each category's column (rare ones share the
    # "infrequent" column, which unknown categories take too with "infrequent_if_exist").
    lookups: list[dict[Any, int | None]] = []
    widths: list[int] = []
    unknown_at: list[int | None] = []
    ignore_unknown = node["handle_unknown"] != "error"
    for feature in node["features"]:
        lookup: dict[Any, int | None] = {}
        position = 0
        drop = feature["drop"]
        positions = feature.get("positions")
        for index, raw in enumerate(feature["categories"]):
            key = _category_key(decode_number(raw))
            if positions is not None:
                lookup[key] = positions[index]
            elif index == drop:
                lookup[key] = None
            else:
                lookup[key] = position
                position += 1
        lookups.append(lookup)
        widths.append(feature["width"] if positions is not None else position)
        into_infrequent = node["handle_unknown"] == "infrequent_if_exist"
        unknown_at.append(feature.get("infrequent") if into_infrequent else None)
    total = sum(widths)
    offsets = []
    start = 0
    for width in widths:
        offsets.append(start)
        start += width

    def transform(row: Row) -> Row:
        out = [0.0] * total
        for column, (value, lookup, offset) in enumerate(zip(row, lookups, offsets, strict=True)):
            key = _category_key(value)
            try:
                position = lookup[key]
            except (KeyError, TypeError):  # TypeError: an unhashable value is unknown too
                if ignore_unknown:
                    at = unknown_at[column]
                    if at is not None:
                        out[offset + at] = 1.0
                    continue
                raise ValueError(
                    f"Found unknown categories [{value!r}] in column {column} during transform"
                ) from None
            if position is not None:
                out[offset + position] = 1.0
        return out

    return transform


def _columns(node: dict[str, Any]) -> RowFn:
    parts: list[tuple[list[int], RowFn | None]] = [
        (part["columns"], _chain(part["steps"]) if part["steps"] else None)
        for part in node["parts"]
    ]

    def transform(row: Row) -> Row:
        out: Row = []
        for columns, fn in parts:
            selected = [row[i] for i in columns]
            out.extend(fn(selected) if fn is not None else selected)
        return out

    return transform


_TRANSFORMS: dict[str, Callable[[dict[str, Any]], RowFn]] = {
    "standard_scaler": _standard_scaler,
    "minmax_scaler": _minmax_scaler,
    "robust_scaler": _robust_scaler,
    "maxabs_scaler": _maxabs_scaler,
    "simple_imputer": _imputer,
    "one_hot": _one_hot,
    "columns": _columns,
}


def _chain(steps: Sequence[dict[str, Any]]) -> RowFn:
    fns = []
    for step in steps:
        try:
            factory = _TRANSFORMS[step["op"]]
        except KeyError:
            raise ValueError(
                f"lean model uses unknown transform {step['op']!r}; known: {sorted(_TRANSFORMS)}"
            ) from None
        fns.append(factory(step))
    if not fns:
        return lambda row: row
    if len(fns) == 1:
        return fns[0]

    def chained(row: Row) -> Row:
        for fn in fns:
            row = fn(row)
        return row

    return chained


# ---------------------------------------------------------------- models


def _expit(x: float) -> float:
    # scipy.special.expit computes 1 / (1 + exp(-x)); exp overflowing to inf gives 0.
    try:
        return 1.0 / (1.0 + math.exp(-x))
    except OverflowError:
        return 0.0


def _softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def _argmax(values: Sequence[float]) -> int:
    # First maximum wins, as with numpy.argmax.
    best = 0
    for i in range(1, len(values)):
        if values[i] > values[best]:
            best = i
    return best


def _check_finite(row: Row) -> list[float]:
    values = [_to_float(v) for v in row]
    for v in values:
        if v != v:
            raise ValueError("Input X contains NaN; the model does not accept missing values")
        if v in _INFINITIES:  # a finite input that overflowed in a transform: sklearn refuses it
            raise ValueError("Input X contains infinity or a value too large for dtype('float64')")
    return values


class _Model:
    """A final estimator: turns transformed rows into predictions."""

    def predict(self, rows: list[Row]) -> list[Any]:
        raise NotImplementedError

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        raise NotImplementedError


class _Linear(_Model):
    def __init__(self, node: dict[str, Any]) -> None:
        self.coef: list[list[float]] = node["coef"]
        self.intercept: list[float] = node["intercept"]
        self.squeeze: bool = node["squeeze"]
        widths = {len(coef) for coef in self.coef}
        if len(widths) != 1 or len(self.intercept) != len(self.coef):
            raise ValueError("lean model is malformed: coefficient rows differ in length")
        self.width = widths.pop()

    def _scores(self, row: Row) -> list[float]:
        x = _check_finite(row)
        if len(x) != self.width:
            # map() below would silently stop at the shorter list.
            raise ValueError(
                f"the model expects {self.width} values after preprocessing, got {len(x)}"
            )
        # Dot product first, intercept after: the order of scikit-learn's X @ coef.T + b.
        return [
            sum(map(mul, x, coef)) + b for coef, b in zip(self.coef, self.intercept, strict=True)
        ]

    def predict(self, rows: list[Row]) -> list[Any]:
        if self.squeeze:
            return [self._scores(row)[0] for row in rows]
        return [self._scores(row) for row in rows]


class _Logistic(_Linear):
    def __init__(self, node: dict[str, Any], classes: list[Any]) -> None:
        super().__init__(node)
        self.classes = classes
        self.binary = len(self.coef) == 1

    def predict(self, rows: list[Row]) -> list[Any]:
        classes = self.classes
        if self.binary:
            return [classes[1] if self._scores(row)[0] > 0 else classes[0] for row in rows]
        return [classes[_argmax(self._scores(row))] for row in rows]

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        out = []
        for row in rows:
            scores = self._scores(row)
            if self.binary:
                p = _expit(scores[0])
                out.append([1 - p, p])
            else:
                out.append(_softmax(scores))
        return out


class _NumpyModel(_Model):
    """Base for models evaluated on a float64 matrix (imports numpy on first use)."""

    def __init__(
        self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None
    ) -> None:
        import numpy

        self.np = numpy
        self.allow_nan: bool = node.get("allow_nan", False)
        self.classes = classes
        self.node = node
        self.arrays = arrays
        self.n_features: int | None = node.get("n_features")

    def _matrix(self, rows: list[Row]) -> Any:
        np = self.np
        X = np.array([[_to_float(v) for v in row] for row in rows], dtype=np.float64)
        if X.ndim != 2:
            X = X.reshape(len(rows), -1)
        if self.n_features is not None and X.shape[1] != self.n_features:
            raise ValueError(
                f"the model expects {self.n_features} values after preprocessing, got {X.shape[1]}"
            )
        if not self.allow_nan and np.isnan(X).any():
            raise ValueError("Input X contains NaN; the model does not accept missing values")
        if np.isinf(X).any():
            raise ValueError("Input X contains infinity or a value too large for dtype('float64')")
        return X

    def raw(self, X: Any) -> Any:
        raise NotImplementedError


class _MLP(_NumpyModel):
    def __init__(
        self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None
    ) -> None:
        super().__init__(node, arrays, classes)
        n = node["n_layers"]
        self.coefs = [arrays[f"{node['key']}/coef/{i}"] for i in range(n)]
        self.intercepts = [arrays[f"{node['key']}/intercept/{i}"] for i in range(n)]
        self.hidden = node["activation"]
        self.output = node["out_activation"]

    def _activate(self, name: str, a: Any) -> Any:
        np = self.np
        if name == "identity":
            return a
        if name == "logistic":
            with np.errstate(over="ignore"):
                return 1.0 / (1.0 + np.exp(-a))
        if name == "tanh":
            return np.tanh(a)
        if name == "relu":
            return np.maximum(a, 0)
        if name == "softmax":
            shifted = a - a.max(axis=1)[:, np.newaxis]
            e = np.exp(shifted)
            e /= e.sum(axis=1)[:, np.newaxis]
            return e
        raise ValueError(f"unknown activation {name!r}")

    def raw(self, X: Any) -> Any:
        a = X
        last = len(self.coefs) - 1
        for i, (coef, intercept) in enumerate(zip(self.coefs, self.intercepts, strict=True)):
            a = a @ coef
            a += intercept
            a = self._activate(self.hidden if i != last else self.output, a)
        return a

    def predict(self, rows: list[Row]) -> list[Any]:
        out = self.raw(self._matrix(rows))
        if self.classes is None:
            return (out.ravel() if out.shape[1] == 1 else out).tolist()
        if out.shape[1] == 1:
            # LabelBinarizer.inverse_transform thresholds at (pos_label + neg_label) / 2.
            return [self.classes[int(p > 0.5)] for p in out[:, 0].tolist()]
        return [self.classes[i] for i in out.argmax(axis=1).tolist()]

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        out = self.raw(self._matrix(rows))
        if out.shape[1] == 1:
            p = out[:, 0]
            return self.np.vstack([1 - p, p]).T.tolist()
        return out.tolist()


class _Trees:
    """All trees of an ensemble flattened into one set of node arrays."""

    def __init__(self, np: Any, arrays: dict[str, Any], key: str) -> None:
        self.np = np
        self.feature = arrays[f"{key}/feature"]
        self.threshold = arrays[f"{key}/threshold"]
        self.left = arrays[f"{key}/left"]
        self.right = arrays[f"{key}/right"]
        self.missing_left = arrays[f"{key}/missing_left"]
        self.value = arrays[f"{key}/value"]
        self.roots = arrays[f"{key}/roots"]

    def leaves(self, X: Any) -> Any:
        """Leaf index of every (row, tree) pair; all trees are walked together, level by level."""
        np = self.np
        # scikit-learn casts X to float32 and compares it with float64 thresholds.
        with np.errstate(over="ignore"):
            X32 = X.astype(np.float32)
        if np.isinf(X32).any():
            raise ValueError("Input X contains infinity or a value too large for dtype('float32')")
        n = X32.shape[0]
        node = np.broadcast_to(self.roots, (n, self.roots.shape[0])).copy()
        rows = np.arange(n)[:, np.newaxis]
        while True:
            left = self.left[node]
            active = left != -1
            if not active.any():
                return node
            feature = np.where(active, self.feature[node], 0)
            x = X32[rows, feature]
            go_left = x <= self.threshold[node]
            nan = np.isnan(x)
            if nan.any():
                go_left = np.where(nan, self.missing_left[node], go_left)
            node = np.where(active, np.where(go_left, left, self.right[node]), node)


class _Forest(_NumpyModel):
    """Decision trees and random / extra-trees forests: the mean of the trees' leaf values."""

    def __init__(
        self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None
    ) -> None:
        super().__init__(node, arrays, classes)
        self.trees = _Trees(self.np, arrays, node["key"])
        self.average = node["average"]

    def raw(self, X: Any) -> Any:
        leaves = self.trees.leaves(X)
        value = self.trees.value
        if not self.average:
            return value[leaves[:, 0]].copy()
        # add.accumulate adds tree after tree (sum() may reorder into pairwise sums): the order
        # scikit-learn's forests accumulate in, so results are identical and ties break alike.
        total = self.np.add.accumulate(value[leaves.T], axis=0)[-1]
        total /= leaves.shape[1]
        return total

    def predict(self, rows: list[Row]) -> list[Any]:
        out = self.raw(self._matrix(rows))
        if self.classes is None:
            return out[:, 0].tolist()
        return [self.classes[i] for i in out.argmax(axis=1).tolist()]

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        return self.raw(self._matrix(rows)).tolist()


class _GradientBoosting(_NumpyModel):
    def __init__(
        self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None
    ) -> None:
        super().__init__(node, arrays, classes)
        self.trees = _Trees(self.np, arrays, node["key"])
        self.init = self.np.asarray(node["init"], dtype=self.np.float64)
        self.learning_rate = float(node["learning_rate"])
        self.k = int(node["trees_per_stage"])
        self.loss = node["loss"]

    def raw(self, X: Any) -> Any:
        np = self.np
        leaves = self.trees.leaves(X)
        value = self.trees.value[:, 0]
        n = X.shape[0]
        # Trees are stored stage-major (stage 0 class 0, stage 0 class 1, ...). add.accumulate
        # adds init, then stage after stage: the order of scikit-learn's predict_stages
        # (out += learning_rate * value), so the result is identical, not merely close.
        steps = (self.learning_rate * value[leaves.T]).reshape(-1, self.k, n).transpose(0, 2, 1)
        start = np.broadcast_to(self.init, (1, n, self.k))
        return np.add.accumulate(np.concatenate([start, steps]), axis=0)[-1]

    def predict(self, rows: list[Row]) -> list[Any]:
        raw = self.raw(self._matrix(rows))
        if self.classes is None:
            return raw[:, 0].tolist()
        if self.k == 1:
            return [self.classes[int(r >= 0)] for r in raw[:, 0].tolist()]
        return [self.classes[i] for i in raw.argmax(axis=1).tolist()]

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        np = self.np
        raw = self.raw(self._matrix(rows))
        if self.k == 1:
            r = raw[:, 0]
            if self.loss == "exponential":
                r = 2 * r
            with np.errstate(over="ignore"):
                p = 1.0 / (1.0 + np.exp(-r))
            return np.vstack([1 - p, p]).T.tolist()
        shifted = raw - raw.max(axis=1)[:, np.newaxis]
        e = np.exp(shifted)
        e /= e.sum(axis=1)[:, np.newaxis]
        return e.tolist()


def _model(node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None) -> _Model:
    op = node["op"]
    if op == "linear":
        return _Linear(node)
    if op == "logistic":
        if classes is None:
            raise ValueError("a logistic model needs classes")
        return _Logistic(node, classes)
    if op == "mlp":
        return _MLP(node, arrays, classes)
    if op == "forest":
        return _Forest(node, arrays, classes)
    if op == "gradient_boosting":
        return _GradientBoosting(node, arrays, classes)
    raise ValueError(
        f"lean model uses unknown model {op!r}; known: "
        "['forest', 'gradient_boosting', 'linear', 'logistic', 'mlp']"
    )


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
        self._transform = _chain(graph["transforms"])
        self._model = _model(graph["model"], arrays, self.classes)
        self._width = len(self.features)
        # Trees compare float32 inputs (as scikit-learn casts them): the contract bounds them so.
        self.float32_inputs: bool = graph["model"]["op"] in ("forest", "gradient_boosting")

    def _prepare(self, rows: list[Row]) -> list[Row]:
        width = self._width
        transform = self._transform
        out = []
        for i, row in enumerate(rows):
            if len(row) != width:
                raise ValueError(
                    f"row {i} has {len(row)} values; the model expects {width}: {self.features}"
                )
            out.append(transform(list(row)))
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
    """Load a predictor from a directory holding ``lean.json`` (and ``lean.npz`` if needed).

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
    return LeanPredictor(spec, arrays)
