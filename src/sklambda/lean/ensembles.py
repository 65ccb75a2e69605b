"""Models made of models → nodes of ``runtime/lean/meta`` whose parts are compiled models.

Voting, stacking, bagging and AdaBoost ensembles, CalibratedClassifierCV,
TransformedTargetRegressor and IsolationForest; each part (a model or
a pipeline) is compiled like a final estimator, with the classes it was fitted on (the
ensembles fit their parts on encoded labels).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sklambda.lean.compiler import (
    _class_name,
    _compile_model,
    _compile_transform,
    _floats,
    _join,
    _plain,
    _unsupported,
)

__all__ = ["compile_meta"]


def _model_or_pipeline(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    if _class_name(est) != "Pipeline":
        return _compile_model(est, path, arrays)
    *head, (last_name, last) = est.steps
    transforms: list[dict[str, Any]] = []
    for name, step in head:
        if step is None or step == "passthrough":
            continue
        transforms.extend(_compile_transform(step, _join(path, name)))
    return {
        "op": "pipeline",
        "transforms": transforms,
        "model": _model_or_pipeline(last, _join(path, last_name), arrays),
    }


def _part(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    from sklearn.base import is_classifier

    classes = [_plain(c) for c in est.classes_.tolist()] if is_classifier(est) else None
    return {"model": _model_or_pipeline(est, path, arrays), "classes": classes}


def _weights(est: Any, path: str) -> list[float] | None:
    weights = getattr(est, "_weights_not_none", None)
    return None if weights is None else _floats(weights, path, "weights")


def _named_parts(est: Any, path: str, arrays: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    names = [name for name, e in est.estimators if not (isinstance(e, str) and e == "drop")]
    return [
        _part(e, _join(path, name), arrays) for name, e in zip(names, est.estimators_, strict=True)
    ]


# Model ops whose runtime gives scikit-learn's decision_function (Model.decision).
_DECISION_OPS = (
    "logistic",
    "linear_classifier",
    "gradient_boosting",
    "hist_gradient_boosting",
    "svm",
)


def _innermost(part: dict[str, Any]) -> dict[str, Any]:
    """The model node of a part, inside its pipelines."""
    inner = part["model"]
    while inner["op"] == "pipeline":
        inner = inner["model"]
    return inner


def _voting(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    return {
        "op": "voting",
        "parts": _named_parts(est, path, arrays),
        "weights": _weights(est, path),
        "soft": getattr(est, "voting", None) == "soft",
        "classify": _class_name(est) == "VotingClassifier",
    }


def _stacking(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    parts = _named_parts(est, path, arrays)
    methods = [m for m in est.stack_method_ if m is not None]
    for method, part in zip(methods, parts, strict=True):
        if method == "decision_function" and _innermost(part)["op"] not in _DECISION_OPS:
            raise _unsupported(
                est,
                path,
                "decision_function of a part other than a linear model, an SVM or gradient "
                "boosting is not (set stack_method='predict_proba' where the part has it)",
            )
    classify = _class_name(est) == "StackingClassifier"
    return {
        "op": "stacking",
        "parts": parts,
        "methods": methods,
        "passthrough": bool(est.passthrough),
        "binary": classify and len(est.classes_) == 2,
        "final": _part(est.final_estimator_, _join(path, "final_estimator"), arrays),
    }


def _bagging(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    parts = [
        _part(e, _join(path, f"estimators_{i}"), arrays) for i, e in enumerate(est.estimators_)
    ]
    return {
        "op": "bagging",
        "parts": parts,
        "features": [[int(j) for j in f] for f in est.estimators_features_],
        "classify": _class_name(est) == "BaggingClassifier",
        "proba": [hasattr(e, "predict_proba") for e in est.estimators_],
    }


def _inverse(transformer: Any, path: str) -> dict[str, Any]:
    name = _class_name(transformer)
    if name == "FunctionTransformer":
        func = transformer.inverse_func
        if func is None:
            return {"kind": "identity"}
        from sklambda.lean.preprocessing import UFUNCS

        if isinstance(func, np.ufunc) and func.__name__ in UFUNCS and not transformer.inv_kw_args:
            return {"kind": "ufunc", "name": func.__name__}
    if name == "StandardScaler":
        return {
            "kind": "scale",
            "scale": None if transformer.scale_ is None else float(transformer.scale_[0]),
            "mean": float(transformer.mean_[0]) if transformer.with_mean else None,
        }
    if name == "RobustScaler":  # inverse_transform: y * scale_ + center_
        return {
            "kind": "scale",
            "scale": float(transformer.scale_[0]) if transformer.with_scaling else None,
            "mean": float(transformer.center_[0]) if transformer.with_centering else None,
        }
    if name == "MaxAbsScaler":
        return {"kind": "scale", "scale": float(transformer.scale_[0]), "mean": None}
    if name == "MinMaxScaler":  # inverse_transform: (y - min_) / scale_
        return {
            "kind": "minmax",
            "min": float(transformer.min_[0]),
            "scale": float(transformer.scale_[0]),
        }
    raise _unsupported(
        transformer,
        path,
        "only ufunc, identity, StandardScaler, RobustScaler, MinMaxScaler or MaxAbsScaler "
        "inverses are (e.g. func=np.log1p with inverse_func=np.expm1, or "
        "transformer=StandardScaler())",
    )


def _transformed_target(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    return {
        "op": "transformed_target",
        "part": _part(est.regressor_, _join(path, "regressor"), arrays),
        "inverse": _inverse(est.transformer_, _join(path, "transformer")),
    }


def _adaboost(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    parts = [
        _part(e, _join(path, f"estimators_{i}"), arrays) for i, e in enumerate(est.estimators_)
    ]
    weights = np.asarray(est.estimator_weights_, dtype=np.float64)
    return {
        "op": "adaboost",
        "parts": parts,
        "weights": _floats(weights[: len(parts)], path, "estimator_weights_"),
        "weight_sum": float(weights.sum()),
        "classify": _class_name(est) == "AdaBoostClassifier",
    }


def _calibrated(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    if est.method not in ("sigmoid", "isotonic"):
        raise _unsupported(est, path, f"method={est.method!r} is not (sigmoid, isotonic)")
    members = []
    for i, calibrated in enumerate(est.calibrated_classifiers_):
        base = calibrated.estimator
        part = _part(base, _join(path, f"calibrated_classifiers_{i}"), arrays)
        decision = hasattr(base, "decision_function")
        if decision and _innermost(part)["op"] not in _DECISION_OPS:
            raise _unsupported(
                est, path, f"decision_function of {_class_name(base) or 'the base'} is not"
            )
        calibrators: list[dict[str, Any]] = []
        for calibrator in calibrated.calibrators:
            if est.method == "sigmoid":
                calibrators.append({"a": float(calibrator.a_), "b": float(calibrator.b_)})
            else:
                calibrators.append(
                    {
                        "x": _floats(calibrator.X_thresholds_, path, "X_thresholds_"),
                        "y": _floats(calibrator.y_thresholds_, path, "y_thresholds_"),
                        "clip": calibrator.out_of_bounds == "clip",
                        "low": float(calibrator.X_min_),
                        "high": float(calibrator.X_max_),
                    }
                )
        classes = list(calibrated.classes)
        positions = [classes.index(c) for c in base.classes_]
        members.append(
            {"part": part, "decision": decision, "calibrators": calibrators, "positions": positions}
        )
    return {"op": "calibrated", "members": members, "method": est.method}


def _isolation_forest(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    from sklearn.ensemble._iforest import _average_path_length

    from sklambda.lean.compiler import _flatten_trees

    key = path or "model"
    _flatten_trees(list(est.estimators_), key, arrays, classify=False)
    subsample = est._max_features != est.n_features_in_
    features, depth = [], []
    for tree, columns, lengths, average in zip(
        est.estimators_,
        est.estimators_features_,
        est._decision_path_lengths,
        est._average_path_length_per_tree,
        strict=True,
    ):
        own = tree.tree_.feature.astype(np.int64)
        leaf = tree.tree_.children_left == -1
        mapped = np.asarray(columns, dtype=np.int64)[np.where(leaf, 0, own)] if subsample else own
        features.append(np.where(leaf, 0, mapped))
        depth.append(lengths + average - 1.0)  # per node, as scikit-learn adds it per leaf
    arrays[f"{key}/feature"] = np.concatenate(features)
    arrays[f"{key}/value"] = np.ascontiguousarray(np.concatenate(depth), dtype=np.float64)
    denominator = len(est.estimators_) * _average_path_length([est._max_samples])
    return {
        "op": "isolation_forest",
        "form": "python",
        "key": key,
        "n_features": int(est.n_features_in_),
        "denominator": float(denominator[0]),
        "offset": float(est.offset_),
        "allow_nan": True,
        "float32": True,
    }


def compile_meta(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    name = _class_name(est)
    if name in ("AdaBoostClassifier", "AdaBoostRegressor"):
        return _adaboost(est, path, arrays)
    if name == "CalibratedClassifierCV":
        return _calibrated(est, path, arrays)
    if name == "IsolationForest":
        return _isolation_forest(est, path, arrays)
    if name in ("VotingClassifier", "VotingRegressor"):
        return _voting(est, path, arrays)
    if name in ("StackingClassifier", "StackingRegressor"):
        return _stacking(est, path, arrays)
    if name in ("BaggingClassifier", "BaggingRegressor"):
        return _bagging(est, path, arrays)
    if name == "TransformedTargetRegressor":
        return _transformed_target(est, path, arrays)
    raise _unsupported(est, path)
