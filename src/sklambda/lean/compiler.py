"""Compile a fitted scikit-learn estimator into plain parameters for the lean runtime.

The lean runtime (:mod:`sklambda.runtime.lean_predict`) predicts without scikit-learn: pure
Python for linear pipelines, numpy for networks and trees. This module is the build side: it
reads the fitted attributes of each supported step into a JSON spec (plus numpy arrays for the
large models); :func:`~sklambda.lean.equivalence.check_equivalence` (re-exported here) proves on
data that the runtime reproduces scikit-learn's predictions.

scikit-learn is imported inside the functions that need it, so importing this module is cheap.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sklambda.lean import families
from sklambda.lean.equivalence import EquivalenceReport, check_equivalence
from sklambda.runtime import lean_predict
from sklambda.runtime.lean import binary
from sklambda.runtime.lean_predict import ARRAYS_FILE, FORMAT, SPEC_FILE, LeanPredictor

__all__ = [
    "SUPPORTED",
    "EquivalenceReport",
    "LeanModel",
    "LeanUnsupportedError",
    "check_equivalence",
    "compile_estimator",
]

_TRANSFORMERS = (
    "ColumnTransformer",
    "FunctionTransformer",
    "MaxAbsScaler",
    "MinMaxScaler",
    "OneHotEncoder",
    "Pipeline",
    "RobustScaler",
    "SimpleImputer",
    "StandardScaler",
)
_LINEAR_REGRESSORS = (
    "ElasticNet",
    "ElasticNetCV",
    "Lasso",
    "LassoCV",
    "LinearRegression",
    "Ridge",
    "RidgeCV",
)
_TREES = (
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
)
_MODELS = (
    *_LINEAR_REGRESSORS,
    "LogisticRegression",
    "MLPClassifier",
    "MLPRegressor",
    *_TREES,
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
)
SUPPORTED: tuple[str, ...] = tuple(
    sorted({*_TRANSFORMERS, *_MODELS, *families.TRANSFORMS, *families.MODELS})
)
"""Class names of the steps the lean runtime reproduces."""

_NUMPY_MODELS = {"mlp", "forest", "gradient_boosting"}
# Tree models that also have a stdlib form (runtime/lean/tree_walk, parameters in lean.bin).
_TWO_FORMS = {"forest", "gradient_boosting"}
_TYPECODES = {"f": "d", "i": "q", "u": "I", "b": "B"}


def _nearest(type_name: str) -> str:
    """The supported class closest to an unsupported one, for the error message."""
    module = type_name.rsplit(".", 1)[0]
    nearest = {
        "sklearn.svm": "SVC/SVR or LinearSVC/LinearSVR",
        "sklearn.neighbors": "KNeighborsClassifier/KNeighborsRegressor",
        "sklearn.ensemble": "HistGradientBoostingClassifier/Regressor or RandomForest*",
        "sklearn.linear_model": "Ridge, LogisticRegression or SGDClassifier/SGDRegressor",
        "sklearn.naive_bayes": "GaussianNB or MultinomialNB",
        "sklearn.preprocessing": "StandardScaler, OneHotEncoder or OrdinalEncoder",
        "sklearn.decomposition": "PCA or TruncatedSVD",
        "sklearn.tree": "DecisionTreeClassifier/Regressor",
        "sklearn.neural_network": "MLPClassifier/MLPRegressor",
        "xgboost.sklearn": "XGBClassifier/XGBRegressor",
        "lightgbm.sklearn": "LGBMClassifier/LGBMRegressor",
    }.get(module)
    return f"nearest supported: {nearest}; " if nearest else ""


class LeanUnsupportedError(Exception):
    """The estimator holds a step the lean runtime cannot reproduce.

    Attributes
    ----------
    step : str
        Path of the step inside the estimator, e.g. ``"preprocess/num/scaler"``.
    type_name : str
        Public class path of the step, e.g. ``"sklearn.svm.SVR"``.
    """

    def __init__(self, step: str, type_name: str, reason: str | None = None) -> None:
        self.step = step
        self.type_name = type_name
        what = f"step {step!r} ({type_name})".replace("'", '"')
        if reason:
            message = f"{what} is not supported by the lean runtime: {reason}"
        else:
            message = (
                f"{what} is not supported by the lean runtime ({_nearest(type_name)}or build "
                f"with --runtime sklearn); supported: {', '.join(SUPPORTED)}"
            )
        super().__init__(message)


@dataclass(frozen=True)
class LeanModel:
    """A compiled model: a JSON spec plus, for networks and trees, numpy arrays.

    Attributes
    ----------
    spec : dict
        JSON-serialisable description: ``format``, ``features``, ``task``, ``classes``,
        ``needs_numpy`` and ``graph`` (the transforms and the final model).
    arrays : dict of str to numpy.ndarray
        Large parameters: stored in ``lean.npz`` when ``needs_numpy``, else in ``lean.bin``
        (raw machine arrays, read with ``array.frombytes``; ``spec["binary"]`` indexes them).
    """

    spec: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def needs_numpy(self) -> bool:
        """Whether the runtime needs numpy to predict with this model."""
        return bool(self.spec["needs_numpy"])

    def binary(self) -> bytes:
        """The content of ``lean.bin`` (empty when the model has no stdlib arrays)."""
        if not self.spec.get("binary"):
            return b""
        return binary.pack(_stdlib_arrays(self.arrays))[0]

    def predictor(self) -> LeanPredictor:
        """The runtime predictor for this model, built in memory (from the bytes of
        ``lean.bin`` when it has one, so the stdlib form is proven as it will be loaded)."""
        index = self.spec.get("binary")
        if index:
            return lean_predict.from_spec(self.spec, binary.unpack(self.binary(), index))
        return lean_predict.from_spec(self.spec, self.arrays)

    def write(self, directory: Path) -> list[Path]:
        """Write ``lean.json`` (and ``lean.npz`` when there are arrays) into ``directory``.

        Parameters
        ----------
        directory : Path
            Created if missing.

        Returns
        -------
        list of Path
            The files written.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        spec_path = directory / SPEC_FILE
        spec_path.write_text(
            json.dumps(self.spec, allow_nan=False, separators=(",", ":")), encoding="utf-8"
        )
        written = [spec_path]
        if self.spec.get("binary"):
            binary_path = directory / binary.BINARY_FILE
            binary_path.write_bytes(self.binary())
            written.append(binary_path)
        elif self.arrays:
            arrays_path = directory / ARRAYS_FILE
            # np.savez writes plain .npy members; nothing in them needs pickle to load.
            np.savez(arrays_path, **self.arrays)  # type: ignore[arg-type]  # stubs: allow_pickle
            written.append(arrays_path)
        return written


# ---------------------------------------------------------------- helpers


def _stdlib_arrays(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """numpy arrays as ``array.array`` of the same values (float64, int64, uint32, uint8)."""
    from array import array

    out = {}
    for name, values in arrays.items():
        code = _TYPECODES[values.dtype.kind]
        dtype = {"d": np.float64, "q": np.int64, "I": np.uint32, "B": np.uint8}[code]
        out[name] = array(code, np.ascontiguousarray(values, dtype=dtype).ravel().tobytes())
    return out


def graph_nodes(node: Any) -> list[dict[str, Any]]:
    """Every node (a dict with an ``op``) in a compiled graph: transforms and models, nested
    ones included (meta models hold models, unions hold transforms)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "op" in node:
            found.append(node)
        for value in node.values():
            found.extend(graph_nodes(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(graph_nodes(value))
    return found


def _model_nodes(node: Any) -> list[dict[str, Any]]:
    """Every model node in a compiled graph (models carry a ``key``)."""
    return [n for n in graph_nodes(node) if "key" in n]


def _type_name(obj: Any) -> str:
    cls = type(obj)
    module = cls.__module__
    # sklearn.svm._classes -> sklearn.svm: the public path users import from.
    public = ".".join(part for part in module.split(".") if not part.startswith("_"))
    return f"{public}.{cls.__name__}"


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _plain(value: Any) -> Any:
    """A JSON-safe Python value; non-finite floats become ``{"$float": "nan"}``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": repr(value)}
    return value


def _floats(values: Any, path: str, what: str) -> list[Any]:
    array = np.asarray(values, dtype=np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f'step "{path}" has non-finite {what}; refit the model before compiling')
    return array.tolist()


def _unsupported(est: Any, path: str, reason: str | None = None) -> LeanUnsupportedError:
    return LeanUnsupportedError(path, _type_name(est), reason)


def _class_name(est: Any) -> str:
    return type(est).__name__ if type(est).__module__.startswith("sklearn.") else ""


# ---------------------------------------------------------------- transforms


def _compile_transform(est: Any, path: str) -> list[dict[str, Any]]:
    """The lean nodes of transform ``est``: a pipeline's steps in order, else one node."""
    name = _class_name(est)
    if name == "Pipeline":
        return _pipeline(est, path)
    compile_one = _TRANSFORMS.get(name)
    if compile_one is not None:
        return [compile_one(est, path)]
    more = families.compile_transform(est, path) if name else None
    if more is None:
        raise _unsupported(est, path)
    return more


def _pipeline(est: Any, path: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for step_name, step in est.steps:
        if step is None or step == "passthrough":
            continue
        nodes.extend(_compile_transform(step, _join(path, step_name)))
    return nodes


def _standard_scaler(est: Any, path: str) -> dict[str, Any]:
    return {
        "op": "standard_scaler",
        "mean": _floats(est.mean_, path, "mean_") if est.with_mean else None,
        "scale": _floats(est.scale_, path, "scale_") if est.scale_ is not None else None,
    }


def _minmax_scaler(est: Any, path: str) -> dict[str, Any]:
    return {
        "op": "minmax_scaler",
        "scale": _floats(est.scale_, path, "scale_"),
        "min": _floats(est.min_, path, "min_"),
        "clip": [float(v) for v in est.feature_range] if est.clip else None,
    }


def _robust_scaler(est: Any, path: str) -> dict[str, Any]:
    return {
        "op": "robust_scaler",
        "center": _floats(est.center_, path, "center_") if est.with_centering else None,
        "scale": _floats(est.scale_, path, "scale_") if est.with_scaling else None,
    }


def _maxabs_scaler(est: Any, path: str) -> dict[str, Any]:
    return {"op": "maxabs_scaler", "scale": _floats(est.scale_, path, "scale_")}


def weighted(steps: list[dict[str, Any]], weights: Any, name: str) -> list[dict[str, Any]]:
    """``steps`` then the output times ``transformer_weights[name]`` (when it has one)."""
    weight = (weights or {}).get(name)
    if weight is None:
        return steps
    return [*steps, {"op": "weight", "factor": float(weight)}]


def _column_transformer(ct: Any, path: str) -> dict[str, Any]:
    original = {name: trans for name, trans, _ in ct.transformers}
    original["remainder"] = ct.remainder
    parts = []
    for name, trans, _columns in ct.transformers_:
        if isinstance(trans, str) and trans == "drop":
            continue
        # Resolved at fit time from names, indices, slices, masks or callables alike.
        columns = [int(i) for i in ct._transformer_to_input_indices.get(name, [])]
        if not columns:
            continue
        passthrough = isinstance(original.get(name), str) and original[name] == "passthrough"
        steps = [] if passthrough else _compile_transform(trans, _join(path, name))
        parts.append({"columns": columns, "steps": weighted(steps, ct.transformer_weights, name)})
    return {"op": "columns", "parts": parts}


def _simple_imputer(est: Any, path: str) -> dict[str, Any]:
    from sklearn.utils._mask import _get_mask

    missing = est.missing_values
    if missing is None:
        marker: dict[str, Any] = {"kind": "none"}
    elif isinstance(missing, float) and math.isnan(missing):
        marker = {"kind": "nan"}
    elif isinstance(missing, str | int | float) and not isinstance(missing, bool):
        marker = {"kind": "value", "value": _plain(missing)}
    else:
        raise _unsupported(est, path, f"missing_values={missing!r} is not")
    statistics = est.statistics_
    if est.keep_empty_features:
        keep = list(range(len(statistics)))
    else:
        keep = np.flatnonzero(~_get_mask(statistics, np.nan)).tolist()
    fill_dtype = getattr(est, "_fill_dtype", statistics.dtype)
    numeric = fill_dtype.kind in "fiub"
    indicator: list[int] = []
    if est.add_indicator:
        if est.indicator_.features != "missing-only":
            # features="all" would need every column's mask; nothing else is different.
            indicator = list(range(len(statistics)))
        else:
            indicator = [int(i) for i in est.indicator_.features_]
    return {
        "op": "simple_imputer",
        "missing": marker,
        "numeric": numeric,
        "fill": [_plain(v) for v in statistics.tolist()],
        "keep": keep,
        "indicator": indicator,
    }


def _one_hot(est: Any, path: str) -> dict[str, Any]:
    drop_idx = est.drop_idx_
    grouped = getattr(est, "_infrequent_enabled", False) and any(
        c is not None for c in est.infrequent_categories_
    )
    if grouped and drop_idx is not None:
        raise _unsupported(
            est, path, "it groups infrequent categories and drops one; the scikit-learn runtime can"
        )
    features = []
    for i, categories in enumerate(est.categories_):
        drop = None if drop_idx is None or drop_idx[i] is None else int(drop_idx[i])
        feature: dict[str, Any] = {
            "categories": [_plain(c) for c in categories.tolist()],
            "drop": drop,
        }
        mapping = est._default_to_infrequent_mappings[i] if grouped else None
        if mapping is not None:
            # Rare categories share the block's last column, where unknown ones go too
            # (handle_unknown="infrequent_if_exist").
            feature["positions"] = [int(p) for p in mapping.tolist()]
            feature["width"] = int(est._n_features_outs[i])
            feature["infrequent"] = feature["width"] - 1
        features.append(feature)
    # 'infrequent_if_exist' without infrequent categories treats unknowns as 'ignore' does.
    return {"op": "one_hot", "features": features, "handle_unknown": est.handle_unknown}


# The transforms compiled here, each to one node (the rarer ones: sklambda.lean.families).
_TRANSFORMS: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    "ColumnTransformer": _column_transformer,
    "StandardScaler": _standard_scaler,
    "MinMaxScaler": _minmax_scaler,
    "RobustScaler": _robust_scaler,
    "MaxAbsScaler": _maxabs_scaler,
    "SimpleImputer": _simple_imputer,
    "OneHotEncoder": _one_hot,
}


# ---------------------------------------------------------------- final models


def _compile_model(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    name = _class_name(est)
    if name in _LINEAR_REGRESSORS:
        return _linear(est, path, "linear")
    if name == "LogisticRegression":
        return _linear(est, path, "logistic")
    if name in ("MLPRegressor", "MLPClassifier"):
        return _mlp(est, path, arrays)
    if name in _TREES:
        return _forest(est, path, arrays)
    if name in ("GradientBoostingRegressor", "GradientBoostingClassifier"):
        return _gradient_boosting(est, path, arrays)
    node = families.compile_model(est, path, arrays)
    if node is None:
        raise _unsupported(est, path)
    return node


def _linear(est: Any, path: str, op: str) -> dict[str, Any]:
    coef = np.asarray(est.coef_, dtype=np.float64)
    squeeze = coef.ndim == 1
    coef = np.atleast_2d(coef)
    intercept = np.broadcast_to(np.asarray(est.intercept_, dtype=np.float64), (coef.shape[0],))
    return {
        "op": op,
        "coef": _floats(coef, path, "coef_"),
        "intercept": _floats(intercept, path, "intercept_"),
        "squeeze": squeeze,
    }


def _mlp(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    binarizer = getattr(est, "_label_binarizer", None)
    if binarizer is not None and binarizer.y_type_ not in ("binary", "multiclass"):
        raise _unsupported(est, path, f"{binarizer.y_type_} targets are not")
    key = path or "model"
    for i, (coef, intercept) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
        arrays[f"{key}/coef/{i}"] = np.ascontiguousarray(coef)
        arrays[f"{key}/intercept/{i}"] = np.ascontiguousarray(intercept)
    return {
        "op": "mlp",
        "n_features": int(est.n_features_in_),
        "key": key,
        "n_layers": len(est.coefs_),
        "activation": est.activation,
        "out_activation": est.out_activation_,
        "allow_nan": False,
    }


def _trees_store_counts() -> bool:
    import sklearn

    major, minor = (int(part) for part in sklearn.__version__.split(".")[:2])
    return (major, minor) < (1, 4)


def _flatten_trees(
    trees: list[Any], key: str, arrays: dict[str, np.ndarray], classify: bool
) -> None:
    features, thresholds, lefts, rights, missing, values, roots = [], [], [], [], [], [], []
    offset = 0
    for tree in trees:
        t = tree.tree_
        left = t.children_left.astype(np.int64)
        right = t.children_right.astype(np.int64)
        leaf = left == -1
        roots.append(offset)
        features.append(np.where(leaf, 0, t.feature).astype(np.int64))
        thresholds.append(t.threshold.astype(np.float64))
        lefts.append(np.where(leaf, -1, left + offset))
        rights.append(np.where(leaf, -1, right + offset))
        # scikit-learn < 1.3 trees have no missing-value routing: nothing goes left.
        go_left = getattr(t, "missing_go_to_left", None)
        missing.append(
            np.zeros(t.node_count, np.bool_) if go_left is None else go_left.astype(np.bool_)
        )
        value = t.value[:, 0, :]
        if classify and _trees_store_counts():
            # Before scikit-learn 1.4 a classifier's leaves hold weighted counts, and
            # predict_proba divides each tree's row by its sum; do that division here, the same
            # way, so the runtime's arithmetic matches bit for bit.
            normalizer = value.sum(axis=1)[:, np.newaxis]
            normalizer[normalizer == 0.0] = 1.0
            value = value / normalizer
        values.append(value if classify else value[:, :1])
        offset += t.node_count
    arrays[f"{key}/feature"] = np.concatenate(features)
    arrays[f"{key}/threshold"] = np.concatenate(thresholds)
    arrays[f"{key}/left"] = np.concatenate(lefts)
    arrays[f"{key}/right"] = np.concatenate(rights)
    arrays[f"{key}/missing_left"] = np.concatenate(missing)
    arrays[f"{key}/value"] = np.ascontiguousarray(np.concatenate(values).astype(np.float64))
    arrays[f"{key}/roots"] = np.asarray(roots, dtype=np.int64)


def _allows_nan(est: Any) -> bool:
    """Whether the estimator takes NaN inputs (scikit-learn ≥ 1.6 tags, or the older dict)."""
    tags = getattr(est, "__sklearn_tags__", None)
    if tags is not None:
        try:
            return bool(tags().input_tags.allow_nan)
        except AttributeError:
            pass
    old = getattr(est, "_get_tags", None)
    return bool(old().get("allow_nan", False)) if old is not None else False


def _forest(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    from sklearn.base import is_classifier

    if est.n_outputs_ != 1:
        raise _unsupported(est, path, "multi-output trees are not")
    trees = list(getattr(est, "estimators_", [est]))
    key = path or "model"
    _flatten_trees(trees, key, arrays, is_classifier(est))
    first = trees[0]
    allow_nan = _allows_nan(first) and getattr(first, "monotonic_cst", None) is None
    return {
        "op": "forest",
        "n_features": int(est.n_features_in_),
        "key": key,
        "average": hasattr(est, "estimators_"),
        "allow_nan": allow_nan,
    }


def _gradient_boosting(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    init = est.init_
    if not (isinstance(init, str) and init == "zero") and not isinstance(
        init, DummyClassifier | DummyRegressor
    ):
        raise _unsupported(est, path, f"init={_type_name(init)} is not (only 'zero' or default)")
    # With 'zero' or a Dummy prior the initial raw prediction does not depend on X.
    probe = np.zeros((1, est.n_features_in_), dtype=np.float32)
    raw_init = est._raw_predict_init(probe)[0]
    key = path or "model"
    stages = est.estimators_
    _flatten_trees([tree for stage in stages for tree in stage], key, arrays, classify=False)
    return {
        "op": "gradient_boosting",
        "n_features": int(est.n_features_in_),
        "key": key,
        "init": _floats(raw_init, path, "initial raw prediction"),
        "learning_rate": float(est.learning_rate),
        "trees_per_stage": int(stages.shape[1]),
        "loss": est.loss,
        "allow_nan": False,
    }


def _missing_as_none(transforms: list[dict[str, Any]], n_features: int) -> list[int]:
    """Input columns whose first step is a ``SimpleImputer(missing_values=None)``.

    scikit-learn tells None from NaN in object columns: at transform time an imputer for NaN
    leaves None alone, one for None leaves NaN alone. The runtime reads both as "missing", so
    the two agree when scikit-learn receives missing values as NaN, except in these columns,
    which must receive None.
    """

    def first_is_none_imputer(steps: list[dict[str, Any]]) -> bool:
        return (
            bool(steps)
            and steps[0]["op"] == "simple_imputer"
            and (steps[0]["missing"]["kind"] == "none")
        )

    if not transforms:
        return []
    first = transforms[0]
    if first["op"] == "columns":
        return sorted(
            {
                i
                for part in first["parts"]
                if first_is_none_imputer(part["steps"])
                for i in part["columns"]
            }
        )
    return list(range(n_features)) if first_is_none_imputer(transforms) else []


# ---------------------------------------------------------------- public API


def compile_estimator(
    estimator: Any, feature_names: list[str], *, numpy: bool | None = None
) -> LeanModel:
    """Compile a fitted estimator into a :class:`LeanModel`.

    Parameters
    ----------
    estimator : sklearn estimator
        A fitted Pipeline or estimator with ``predict``.
    feature_names : list of str
        Input feature names in the order rows will hold them; must equal the estimator's
        ``feature_names_in_`` when it has one.
    numpy : bool, optional
        Trees, forests and gradient boosting have two forms: pure Python over ``lean.bin``
        (``False``, and the default) or numpy over ``lean.npz`` (``True``); both predict the
        same bits. Networks need numpy: ``False`` makes them unsupported.

    Returns
    -------
    LeanModel

    Raises
    ------
    LeanUnsupportedError
        If a step has no lean implementation; the error names the step path and class.
    ValueError
        If ``feature_names`` does not match what the estimator was fitted on.
    """
    from sklearn.base import is_classifier
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    feature_names = [str(f) for f in feature_names]
    fitted_names = getattr(estimator, "feature_names_in_", None)
    if fitted_names is not None and list(fitted_names) != feature_names:
        raise ValueError(
            f"feature_names {feature_names} differ from the names the estimator was fitted on: "
            f"{list(fitted_names)}; pass them in that order"
        )
    n_in = getattr(estimator, "n_features_in_", None)
    if n_in is not None and n_in != len(feature_names):
        raise ValueError(
            f"{len(feature_names)} feature names given; the estimator expects {n_in} features"
        )

    transforms: list[dict[str, Any]] = []
    arrays: dict[str, np.ndarray] = {}
    est, path = estimator, ""
    while _class_name(est) == "Pipeline":
        *head, (last_name, last) = est.steps
        for step_name, step in head:
            if step is None or step == "passthrough":
                continue
            transforms.extend(_compile_transform(step, _join(path, step_name)))
        est, path = last, _join(path, last_name)
    if est is None or est == "passthrough":
        raise LeanUnsupportedError(path, "passthrough", "the pipeline has no final estimator")
    model = _compile_model(est, path or "estimator", arrays)

    none_columns = _missing_as_none(transforms, len(feature_names))
    classifier = is_classifier(est)
    classes = [_plain(c) for c in est.classes_.tolist()] if classifier else None
    for node in _model_nodes(model):
        if node["op"] in _TWO_FORMS:
            node["form"] = "numpy" if numpy else "python"
        elif node["op"] in _NUMPY_MODELS and numpy is False:
            raise _unsupported(est, path or "estimator", f"{node['op']} has no form without numpy")
    needs_numpy = any(
        n["op"] in _NUMPY_MODELS and n.get("form") != "python" for n in _model_nodes(model)
    )
    spec = {
        "format": FORMAT,
        "features": feature_names,
        "task": "classification" if classifier else "regression",
        "classes": classes,
        "needs_numpy": needs_numpy,
        "binary": None if needs_numpy or not arrays else binary.pack(_stdlib_arrays(arrays))[1],
        "missing_as_none": [feature_names[i] for i in none_columns],
        # e.g. a kNN model storing a large training set in the package
        "notes": [n["note"] for n in _model_nodes(model) if "note" in n],
        "graph": {"transforms": transforms, "model": model},
    }
    return LeanModel(spec=spec, arrays=arrays)
