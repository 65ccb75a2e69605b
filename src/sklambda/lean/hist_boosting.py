"""HistGradientBoostingClassifier/Regressor → flattened trees for ``runtime/lean/tree_walk``.

Numeric splits compare float64 values (HistGradientBoosting does not round to float32);
categorical splits test bitsets, with unknown and negative categories routed as missing, as
scikit-learn's ``_predict_one_from_raw_data`` does. The estimator's own preprocessor (an
OrdinalEncoder that puts categorical columns first) becomes ordinary transform steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sklambda.lean.compiler import _compile_transform, _floats, _join, _unsupported

__all__ = ["compile_hist_gradient_boosting"]

_PARTS = (
    *("feature", "threshold", "left", "right", "missing_left", "value"),
    *("categorical", "bitset", "cat_bitsets"),
)


def _flatten(predictors: list[Any], key: str, arrays: dict[str, np.ndarray]) -> None:
    parts: dict[str, list[np.ndarray]] = {name: [] for name in _PARTS}
    roots = []
    offset = 0
    bitsets = 0
    for predictor in predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        roots.append(offset)
        parts["feature"].append(np.where(leaf, 0, nodes["feature_idx"]).astype(np.int64))
        parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
        parts["left"].append(np.where(leaf, -1, nodes["left"].astype(np.int64) + offset))
        parts["right"].append(np.where(leaf, -1, nodes["right"].astype(np.int64) + offset))
        parts["missing_left"].append(nodes["missing_go_to_left"].astype(np.bool_))
        parts["value"].append(nodes["value"].astype(np.float64))
        categorical = nodes["is_categorical"].astype(np.bool_) & ~leaf
        parts["categorical"].append(categorical)
        parts["bitset"].append(
            np.where(categorical, nodes["bitset_idx"].astype(np.int64), 0) + bitsets
        )
        raw = np.asarray(predictor.raw_left_cat_bitsets, dtype=np.uint32).reshape(-1, 8)
        parts["cat_bitsets"].append(raw.ravel())
        bitsets += raw.shape[0]
        offset += len(nodes)
    for name, values in parts.items():
        arrays[f"{key}/{name}"] = np.ascontiguousarray(np.concatenate(values))
    arrays[f"{key}/roots"] = np.asarray(roots, dtype=np.int64)


def compile_hist_gradient_boosting(
    est: Any, path: str, arrays: dict[str, np.ndarray]
) -> dict[str, Any]:
    from sklearn.base import is_classifier

    loss = type(est._loss).__name__
    link = type(est._loss.link).__name__
    if is_classifier(est):
        if loss not in ("HalfBinomialLoss", "HalfMultinomialLoss"):
            raise _unsupported(est, path, f"loss {loss} is not")
        link_name = "identity"
    elif link == "IdentityLink":
        link_name = "identity"
    elif link == "LogLink":
        link_name = "exp"
    else:
        raise _unsupported(est, path, f"the {link} link is not")
    key = path or "model"
    predictors = [p for iteration in est._predictors for p in iteration]
    _flatten(predictors, key, arrays)
    known, f_idx_map = est._bin_mapper.make_known_categories_bitsets()
    arrays[f"{key}/known_bitsets"] = np.ascontiguousarray(known, dtype=np.uint32).ravel()
    arrays[f"{key}/f_idx_map"] = np.ascontiguousarray(f_idx_map, dtype=np.uint32)
    model = {
        "op": "hist_gradient_boosting",
        "form": "python",
        "n_features": int(est.n_features_in_),
        "key": key,
        "init": _floats(np.ravel(est._baseline_prediction), path, "baseline prediction"),
        "trees_per_stage": int(est.n_trees_per_iteration_),
        "link": link_name,
        "float32": False,
        "allow_nan": True,
    }
    preprocessor = getattr(est, "_preprocessor", None)
    if preprocessor is None:
        return model
    steps = _compile_transform(preprocessor, _join(path, "_preprocessor"))
    return {"op": "pipeline", "transforms": steps, "model": model}
