"""LightGBM's scikit-learn-API models → their dumped trees, for ``runtime/lean/boosters``.

The runtime needs no LightGBM: ``Booster.dump_model()`` gives every split (feature, threshold,
missing-value routing, categorical sets) and leaf value; the runtime walks them as LightGBM's
``Tree::Decision`` does and sums leaves in double precision, tree after tree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sklambda.lean.compiler import _unsupported

__all__ = ["BOOSTERS", "compile_booster"]

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
