"""SVC, NuSVC, SVR, NuSVR and OneClassSVM → support vectors, dual coefficients and the kernel,
evaluated as libsvm does (one-vs-one votes for labels, Platt scaling and pairwise coupling for
probabilities) by ``runtime/lean/svm``."""

from __future__ import annotations

from typing import Any

import numpy as np

from sklambda.lean.compiler import _floats, _unsupported

__all__ = ["compile_svm"]


def compile_svm(est: Any, path: str) -> dict[str, Any]:
    if est.kernel not in ("linear", "poly", "rbf", "sigmoid"):
        raise _unsupported(est, path, f"kernel={est.kernel!r} is not (linear, poly, rbf, sigmoid)")
    if getattr(est, "_sparse", False):
        raise _unsupported(est, path, "a model fitted on a sparse matrix is not")
    classify = est._impl in ("c_svc", "nu_svc")
    node: dict[str, Any] = {
        "op": "svm",
        "kernel": est.kernel,
        "gamma": float(est._gamma),
        "coef0": float(est.coef0),
        "degree": int(est.degree),
        "support_vectors": _floats(est.support_vectors_, path, "support_vectors_"),
        "dual_coef": _floats(est._dual_coef_, path, "dual_coef_"),
        # libsvm's decision value is sum - rho; scikit-learn keeps -rho as _intercept_.
        "intercept": _floats(est._intercept_, path, "intercept_"),
        "n_support": [int(n) for n in est._n_support],
        "classify": classify,
        "one_class": est._impl == "one_class",
        "prob_a": None,
        "prob_b": None,
    }
    if classify:
        if est.break_ties and est.decision_function_shape == "ovr" and len(est.classes_) > 2:
            raise _unsupported(est, path, "break_ties=True is not")
        node["ovr"] = est.decision_function_shape == "ovr"
        if est.probability:
            node["prob_a"] = _floats(np.asarray(est._probA), path, "probA_")
            node["prob_b"] = _floats(np.asarray(est._probB), path, "probB_")
    return node
