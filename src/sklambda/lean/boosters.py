"""LightGBM's and XGBoost's scikit-learn-API models → their dumped trees, for
``runtime/lean/boosters``.

The runtime needs neither library. LightGBM: ``Booster.dump_model()`` gives every split
(feature, threshold, missing-value routing, categorical sets) and leaf value; the runtime walks
them as LightGBM's ``Tree::Decision`` does and sums leaves in double precision, tree after tree.
XGBoost: ``Booster.save_raw("json")`` gives every tree's float32 split conditions, default
directions, category sets and leaf values; the runtime walks them as XGBoost's predictor does
(``x < split`` in float32, a category code in the split's set goes right, NaN and ``missing``
follow the default child) and sums in float32 from XGBoost's own base margin.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sklambda.lean.compiler import _unsupported

__all__ = ["BOOSTERS", "XGBOOSTS", "compile_booster", "compile_xgboost"]

BOOSTERS = ("LGBMClassifier", "LGBMRegressor")
_MISSING = {"None": 0, "Zero": 1, "NaN": 2}
_LINKS = {
    "regression": "identity",
    "regression_l1": "identity",
    "huber": "identity",
    "fair": "identity",
    "quantile": "identity",
    "mape": "identity",
    "poisson": "exp",
    "gamma": "exp",
    "tweedie": "exp",
    "binary": "sigmoid",
    "multiclass": "softmax",
}


def _objective(est: Any, path: str, text: str) -> tuple[str, float]:
    name, *params = text.split()
    if name not in _LINKS:
        raise _unsupported(est, path, f"objective {name!r} is not")
    sigmoid = 1.0
    for param in params:
        key, _, value = param.partition(":")
        if key == "sigmoid":
            sigmoid = float(value)
    return _LINKS[name], sigmoid


def compile_booster(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    dump = est.booster_.dump_model()
    if dump.get("average_output"):
        raise _unsupported(est, path, "boosting_type='rf' (averaged output) is not")
    if getattr(est, "_n_classes", 2) > 2 and dump["num_class"] != est._n_classes:
        raise _unsupported(est, path, "a model whose classes differ from its trees is not")
    link, sigmoid = _objective(est, path, dump["objective"])
    columns: dict[str, list[Any]] = {
        n: [] for n in ("feature", "threshold", "left", "right", "default_left", "missing")
    }
    columns.update(categorical=[], category_set=[], value=[])
    category_sets: list[list[int]] = []
    roots = []

    def add(node: dict[str, Any]) -> int:
        index = len(columns["feature"])
        for values in columns.values():
            values.append(0)
        if "leaf_index" in node or "split_feature" not in node:
            columns["left"][index] = columns["right"][index] = -1
            columns["value"][index] = float(node.get("leaf_value", 0.0))
            return index
        columns["feature"][index] = int(node["split_feature"])
        columns["default_left"][index] = int(bool(node["default_left"]))
        columns["missing"][index] = _MISSING[node["missing_type"]]
        if node["decision_type"] == "==":
            columns["categorical"][index] = 1
            columns["category_set"][index] = len(category_sets)
            category_sets.append([int(c) for c in str(node["threshold"]).split("||")])
        elif node["decision_type"] == "<=":
            columns["threshold"][index] = float(node["threshold"])
        else:
            raise _unsupported(est, path, f"decision type {node['decision_type']!r} is not")
        left = add(node["left_child"])
        right = add(node["right_child"])
        columns["left"][index], columns["right"][index] = left, right
        return index

    for tree in dump["tree_info"]:
        roots.append(add(tree["tree_structure"]))
    key = path or "model"
    for name in ("feature", "left", "right", "category_set"):
        arrays[f"{key}/{name}"] = np.asarray(columns[name], dtype=np.int64)
    for name in ("default_left", "missing", "categorical"):
        arrays[f"{key}/{name}"] = np.asarray(columns[name], dtype=np.uint8)
    arrays[f"{key}/threshold"] = np.asarray(columns["threshold"], dtype=np.float64)
    arrays[f"{key}/value"] = np.asarray(columns["value"], dtype=np.float64)
    arrays[f"{key}/roots"] = np.asarray(roots, dtype=np.int64)
    return {
        "op": "lightgbm",
        "form": "python",
        "key": key,
        "n_features": int(dump["max_feature_idx"]) + 1,
        "trees_per_iteration": int(dump["num_tree_per_iteration"]),
        "link": link,
        "sigmoid": sigmoid,
        "category_sets": category_sets,
    }


# ---------------------------------------------------------------- XGBoost

XGBOOSTS = ("XGBClassifier", "XGBRegressor", "XGBRFClassifier", "XGBRFRegressor")
# objective -> the link XGBoost's PredTransform applies to the float32 margin.
_XGB_LINKS = {
    "reg:squarederror": "identity",
    "reg:squaredlogerror": "identity",
    "reg:absoluteerror": "identity",
    "reg:pseudohubererror": "identity",
    "reg:linear": "identity",
    "binary:logistic": "sigmoid",
    "reg:logistic": "sigmoid",
    "multi:softprob": "softmax",
    "count:poisson": "exp",
    "reg:gamma": "exp",
    "reg:tweedie": "exp",
}
_XGB_REFUSED = {
    "multi:softmax": (
        "its predict_proba is scipy's float32 softmax over numpy's exp, which the standard "
        "library cannot reproduce bit for bit; nearest supported: objective='multi:softprob' "
        "(the same trees and labels)"
    ),
    "binary:logitraw": "nearest supported: objective='binary:logistic'",
    "binary:hinge": "nearest supported: objective='binary:logistic'",
}


def _xgb_objective(est: Any, path: str, learner: dict[str, Any]) -> str:
    name = str(learner["objective"]["name"])
    if name in _XGB_REFUSED:
        raise _unsupported(est, path, f"objective {name!r} is not: {_XGB_REFUSED[name]}")
    if name not in _XGB_LINKS:
        supported = ", ".join(sorted(_XGB_LINKS))
        raise _unsupported(est, path, f"objective {name!r} is not (supported: {supported})")
    from sklearn.base import is_classifier

    link = _XGB_LINKS[name]
    if is_classifier(est) and link not in ("sigmoid", "softmax"):
        raise _unsupported(est, path, f"a classifier with objective {name!r} is not")
    return link


def _xgb_booster(est: Any, path: str, learner: dict[str, Any]) -> dict[str, Any]:
    """The gbtree model in XGBoost's JSON, or the refusal naming the step and what to use."""
    booster = learner["gradient_booster"]
    name = booster["name"]
    if name == "dart":
        raise _unsupported(
            est,
            path,
            "booster='dart' is not (its trees are reweighted by dropout at prediction); "
            "nearest supported: booster='gbtree'",
        )
    if name != "gbtree":
        raise _unsupported(
            est,
            path,
            f"booster={name!r} is not (a linear model); nearest supported: booster='gbtree', "
            "or a scikit-learn linear model (Ridge, LogisticRegression)",
        )
    model: dict[str, Any] = booster["model"]
    if any(model.get("cats", {}).get("enc") or []):
        # Categories from pandas columns are recoded by name at prediction; a request carries
        # them as text, which XGBoost's predict does not take from sklambda's rows.
        raise _unsupported(
            est,
            path,
            "categories learned from pandas category columns are not; nearest supported: the "
            "column's codes as numbers with feature_types=['c', ...], one-hot encoding "
            "(OneHotEncoder) before XGBoost, or LGBMClassifier/LGBMRegressor with "
            "categorical_feature",
        )
    if any(int(tree["tree_param"]["size_leaf_vector"]) > 1 for tree in model["trees"]):
        raise _unsupported(
            est, path, "multi_strategy='multi_output_tree' is not; nearest: 'one_output_per_tree'"
        )
    return model


def _xgb_trees(model: dict[str, Any], est: Any) -> list[tuple[dict[str, Any], int]]:
    """The trees ``est.predict`` sums (best_iteration's after early stopping), with groups."""
    trees = model["trees"]
    groups = [int(g) for g in model["tree_info"]]
    begin, end = est._get_iteration_range(None)
    if end:
        indptr = [int(i) for i in model["iteration_indptr"]]
        trees, groups = trees[indptr[begin] : indptr[end]], groups[indptr[begin] : indptr[end]]
    return list(zip(trees, groups, strict=True))


def _xgb_base_margin(raw: dict[str, Any], n_features: int) -> list[float]:
    """XGBoost's own starting margin per output: the model with every leaf set to zero,
    predicted by XGBoost (so base_score's transform is the library's, in float32)."""
    import json

    import xgboost

    zeroed = json.loads(json.dumps(raw))
    for tree in zeroed["learner"]["gradient_booster"]["model"]["trees"]:
        tree["split_conditions"] = [
            0.0 if left == -1 else cond
            for left, cond in zip(tree["left_children"], tree["split_conditions"], strict=True)
        ]
        tree["base_weights"] = [0.0] * len(tree["base_weights"])
    probe = xgboost.Booster()
    probe.load_model(bytearray(json.dumps(zeroed).encode()))
    margin = probe.inplace_predict(np.zeros((1, n_features)), predict_type="margin")
    return [float(v) for v in np.asarray(margin, dtype=np.float32).ravel()]


def _xgb_category_sets(tree: dict[str, Any], category_sets: list[list[int]]) -> list[int]:
    """Per node of ``tree``: -1, or the index in ``category_sets`` of the categories its
    categorical split sends right (XGBoost's ``common::Decision``: the others go left)."""
    per_node = [-1] * len(tree["left_children"])
    categories = tree["categories"]
    for node, begin, size in zip(
        tree["categories_nodes"],
        tree["categories_segments"],
        tree["categories_sizes"],
        strict=True,
    ):
        per_node[int(node)] = len(category_sets)
        category_sets.append([int(c) for c in categories[int(begin) : int(begin) + int(size)]])
    return per_node


def compile_xgboost(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """XGBoost's gbtree model as flat node arrays; thresholds and leaves are float32 values."""
    import json

    booster = est.get_booster()
    raw = json.loads(booster.save_raw("json"))
    learner = raw["learner"]
    link = _xgb_objective(est, path, learner)
    model = _xgb_booster(est, path, learner)
    missing = float(est.missing) if est.missing is not None else float("nan")
    if math.isinf(missing):
        raise _unsupported(est, path, "missing=inf is not (only NaN or a finite value)")
    n_features = int(learner["learner_model_param"]["num_feature"])
    n_outputs = max(1, int(learner["learner_model_param"]["num_class"]))
    if int(learner["learner_model_param"].get("num_target", 1)) > 1:
        raise _unsupported(est, path, "multi-output regression is not")
    names = ("feature", "threshold", "left", "right", "default_left", "roots", "group")
    columns: dict[str, list[Any]] = {n: [] for n in (*names, "category_set")}
    category_sets: list[list[int]] = []
    for tree, group in _xgb_trees(model, est):
        offset = len(columns["feature"])
        columns["roots"].append(offset)
        columns["group"].append(group)
        columns["category_set"].extend(_xgb_category_sets(tree, category_sets))
        for left, right, feature, cond, default_left in zip(
            tree["left_children"],
            tree["right_children"],
            tree["split_indices"],
            tree["split_conditions"],
            tree["default_left"],
            strict=True,
        ):
            leaf = int(left) == -1
            columns["left"].append(-1 if leaf else int(left) + offset)
            columns["right"].append(-1 if leaf else int(right) + offset)
            columns["feature"].append(0 if leaf else int(feature))
            # A leaf's value is its split_condition (XGBoost stores both in one field).
            columns["threshold"].append(float(np.float32(cond)))
            columns["default_left"].append(int(bool(default_left)))
    key = path or "model"
    for name in ("feature", "left", "right", "roots", "group", "category_set"):
        arrays[f"{key}/{name}"] = np.asarray(columns[name], dtype=np.int64)
    arrays[f"{key}/default_left"] = np.asarray(columns["default_left"], dtype=np.uint8)
    arrays[f"{key}/threshold"] = np.asarray(columns["threshold"], dtype=np.float64)
    base = _xgb_base_margin(raw, n_features)
    return {
        "op": "xgboost",
        "form": "python",
        "key": key,
        "n_features": n_features,
        "n_outputs": n_outputs,
        "base_margin": base if len(base) == n_outputs else base[:1] * n_outputs,
        "link": link,
        "missing": None if math.isnan(missing) else float(np.float32(missing)),
        "category_sets": category_sets,
        # XGBoost reads its inputs as float32: the request contract bounds them so.
        "float32": True,
    }
