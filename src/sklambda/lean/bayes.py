"""Naive Bayes → per-class log-likelihood terms for ``runtime/lean/bayes``.

Terms that do not depend on X (log priors, Gaussian normalisers, Bernoulli's negative
log-probabilities) are computed here with numpy exactly as scikit-learn computes them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sklambda.lean.compiler import _floats

__all__ = ["compile_naive_bayes"]


def compile_naive_bayes(est: Any, path: str) -> dict[str, Any]:
    name = type(est).__name__
    node: dict[str, Any] = {"op": "naive_bayes", "kind": name}
    if name == "GaussianNB":
        prior = [float(np.log(p)) for p in est.class_prior_]
        const = [float(-0.5 * np.sum(np.log(2.0 * np.pi * v))) for v in est.var_]
        node.update(
            prior=prior,
            const=const,
            theta=_floats(est.theta_, path, "theta_"),
            var=_floats(est.var_, path, "var_"),
        )
        return node
    flp = np.asarray(est.feature_log_prob_ if name != "CategoricalNB" else [], dtype=np.float64)
    if name == "BernoulliNB":
        neg_prob = np.log(1 - np.exp(flp))
        node.update(
            weights=_floats(flp - neg_prob, path, "feature_log_prob_"),
            bias=_floats(est.class_log_prior_ + neg_prob.sum(axis=1), path, "class_log_prior_"),
            binarize=None if est.binarize is None else float(est.binarize),
        )
    elif name in ("MultinomialNB", "ComplementNB"):
        if name == "ComplementNB" and len(est.classes_) != 1:
            bias = [0.0] * len(est.classes_)
        else:
            bias = _floats(est.class_log_prior_, path, "class_log_prior_")
        node.update(weights=_floats(flp, path, "feature_log_prob_"), bias=bias)
    else:  # CategoricalNB
        node.update(
            categorical=[_floats(f, path, "feature_log_prob_") for f in est.feature_log_prob_],
            bias=_floats(est.class_log_prior_, path, "class_log_prior_"),
        )
    return node
