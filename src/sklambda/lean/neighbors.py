"""KNeighborsClassifier/Regressor → the stored training set, searched in
``runtime/lean/neighbors`` by brute force, or through the model's own KD or ball tree when it
built one (``algorithm="auto"`` mostly does), as scikit-learn searches it."""

from __future__ import annotations

from typing import Any

import numpy as np

from sklambda.lean.compiler import _unsupported

__all__ = ["LARGE_BYTES", "compile_neighbors"]

LARGE_BYTES = 10 * 2**20
"""A stored training set above this size makes the package large; the node says so."""


def _store_tree(est: Any, key: str, arrays: dict[str, np.ndarray], node: dict[str, Any]) -> None:
    """The fitted KD or ball tree, so the runtime visits points in scikit-learn's order: among
    training rows at equal distances, which ones are the k nearest depends on that order."""
    _, idx_array, node_data, node_bounds = est._tree.get_arrays()
    node["tree"] = est._fit_method
    arrays[f"{key}/tree/idx"] = np.asarray(idx_array, dtype=np.int64)
    arrays[f"{key}/tree/start"] = np.asarray(node_data["idx_start"], dtype=np.int64)
    arrays[f"{key}/tree/end"] = np.asarray(node_data["idx_end"], dtype=np.int64)
    arrays[f"{key}/tree/leaf"] = np.asarray(node_data["is_leaf"], dtype=np.uint8)
    arrays[f"{key}/tree/radius"] = np.asarray(node_data["radius"], dtype=np.float64)
    # kd: each node's lower then upper corner; ball: its centroid
    arrays[f"{key}/tree/bounds"] = np.ascontiguousarray(node_bounds, dtype=np.float64).ravel()


def compile_neighbors(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    from sklearn.base import is_classifier

    metric = est.effective_metric_
    params = dict(est.effective_metric_params_ or {})
    p = float(params.pop("p", 2))
    if params.pop("w", None) is not None:
        raise _unsupported(est, path, "weighted Minkowski distances are not")
    if metric == "euclidean":
        metric, p = "minkowski", 2.0
    elif metric in ("manhattan", "cityblock", "l1"):
        metric, p = "minkowski", 1.0
    if metric not in ("minkowski", "chebyshev") or params:
        hint = (
            "; a Normalizer() step then metric='euclidean' finds the same neighbours"
            if metric == "cosine"
            else ""
        )
        raise _unsupported(
            est,
            path,
            f"metric {est.effective_metric_!r} is not (minkowski, euclidean, manhattan and "
            f"chebyshev are{hint})",
        )
    if not isinstance(est.weights, str) or est.weights not in ("uniform", "distance"):
        raise _unsupported(est, path, "weights other than 'uniform' and 'distance' are not")
    if getattr(est, "outputs_2d_", False) or np.ndim(est._y) != 1:
        raise _unsupported(est, path, "multi-output targets are not")
    if not isinstance(est._fit_X, np.ndarray):
        raise _unsupported(est, path, "a model fitted on a sparse matrix is not")
    key = path or "model"
    fit_X = np.ascontiguousarray(est._fit_X, dtype=np.float64)
    classify = is_classifier(est)
    arrays[f"{key}/X"] = fit_X.ravel()
    arrays[f"{key}/y"] = (
        np.asarray(est._y, dtype=np.int64) if classify else np.asarray(est._y, dtype=np.float64)
    )
    node: dict[str, Any] = {
        "op": "neighbors",
        "form": "python",
        "key": key,
        "n_features": int(fit_X.shape[1]),
        "n_neighbors": int(est.n_neighbors),
        "weights": est.weights,
        "metric": metric,
        "p": p,
        "classify": classify,
    }
    if est._fit_method in ("kd_tree", "ball_tree"):
        _store_tree(est, key, arrays, node)
    if fit_X.nbytes > LARGE_BYTES:
        node["note"] = (
            f"{path or 'the model'} stores its {fit_X.shape[0]} training rows "
            f"({fit_X.nbytes / 2**20:.1f} MiB) in the package; each prediction scans them all"
        )
    return node
