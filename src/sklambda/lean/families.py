"""Which compiler reads which scikit-learn class, beyond the core in :mod:`compiler`.

``compiler`` asks :func:`compile_model` / :func:`compile_transform` for classes it does not
handle itself; the family modules are imported only when one of their classes is compiled.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["MODELS", "TRANSFORMS", "compile_model", "compile_transform"]

# Regressors that predict X @ coef_ + intercept_.
LINEAR_REGRESSORS = (
    "ARDRegression",
    "BayesianRidge",
    "HuberRegressor",
    "Lars",
    "LarsCV",
    "LassoLars",
    "LassoLarsCV",
    "LassoLarsIC",
    "LinearSVR",
    "MultiTaskElasticNet",
    "MultiTaskLasso",
    "OrthogonalMatchingPursuit",
    "OrthogonalMatchingPursuitCV",
    "PassiveAggressiveRegressor",
    "QuantileRegressor",
    "SGDRegressor",
    "TheilSenRegressor",
)
GLMS = ("GammaRegressor", "PoissonRegressor", "TweedieRegressor")
# Classifiers whose decision_function is X @ coef_.T + intercept_.
LINEAR_CLASSIFIERS = (
    "LinearSVC",
    "LogisticRegressionCV",
    "PassiveAggressiveClassifier",
    "Perceptron",
    "RidgeClassifier",
    "RidgeClassifierCV",
    "SGDClassifier",
)
HIST_BOOSTING = ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor")
SVMS = ("NuSVC", "NuSVR", "OneClassSVM", "SVC", "SVR")
NEIGHBORS = ("KNeighborsClassifier", "KNeighborsRegressor")
NAIVE_BAYES = ("BernoulliNB", "CategoricalNB", "ComplementNB", "GaussianNB", "MultinomialNB")
META = (
    "AdaBoostClassifier",
    "AdaBoostRegressor",
    "BaggingClassifier",
    "BaggingRegressor",
    "CalibratedClassifierCV",
    "IsolationForest",
    "StackingClassifier",
    "StackingRegressor",
    "TransformedTargetRegressor",
    "VotingClassifier",
    "VotingRegressor",
)
# Regressors whose predict is their fitted ``estimator_``'s.
WRAPPERS = ("RANSACRegressor",)
BOOSTERS = ("LGBMClassifier", "LGBMRegressor")  # LightGBM's scikit-learn API (extra)
XGBOOSTS = ("XGBClassifier", "XGBRFClassifier", "XGBRFRegressor", "XGBRegressor")  # (extra)
MODELS: tuple[str, ...] = (
    *BOOSTERS,
    *XGBOOSTS,
    *LINEAR_REGRESSORS,
    *WRAPPERS,
    *GLMS,
    *LINEAR_CLASSIFIERS,
    *HIST_BOOSTING,
    *SVMS,
    *NEIGHBORS,
    *NAIVE_BAYES,
    *META,
)
SELECTORS = (
    "GenericUnivariateSelect",
    "RFE",
    "RFECV",
    "SelectFdr",
    "SelectFpr",
    "SelectFromModel",
    "SelectFwe",
    "SelectKBest",
    "SelectPercentile",
    "SequentialFeatureSelector",
    "VarianceThreshold",
)
TRANSFORMS: tuple[str, ...] = (
    "Binarizer",
    "FeatureUnion",
    "IncrementalPCA",
    "KBinsDiscretizer",
    "MissingIndicator",
    "Normalizer",
    "OrdinalEncoder",
    "PCA",
    "PolynomialFeatures",
    "PowerTransformer",
    "QuantileTransformer",
    "SplineTransformer",
    "TargetEncoder",
    "TruncatedSVD",
    *SELECTORS,
)


def _linear_classifier(est: Any, path: str) -> dict[str, Any]:
    from sklambda.lean.compiler import _linear

    node = _linear(est, path, "linear_classifier")
    name = type(est).__name__
    if name == "LogisticRegressionCV":
        node["proba"] = "softmax"
    elif name == "SGDClassifier" and est.loss == "log_loss":
        node["proba"] = "ovr"
    elif name == "SGDClassifier" and est.loss == "modified_huber":
        node["proba"] = "modified_huber"
    else:
        node["proba"] = None
    return node


def _glm(est: Any, path: str) -> dict[str, Any]:
    from sklambda.lean.compiler import _linear, _unsupported

    link = type(est._base_loss.link).__name__
    node = _linear(est, path, "linear")
    if link == "LogLink":
        node["link"] = "exp"
    elif link != "IdentityLink":
        raise _unsupported(est, path, f"the {link} link is not")
    return node


def _booster(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """LightGBM's and XGBoost's scikit-learn-API models (their libraries are extras)."""
    from sklambda.lean import boosters

    name = type(est).__name__
    if name in BOOSTERS and type(est).__module__.startswith("lightgbm"):
        return boosters.compile_booster(est, path, arrays)
    if name in XGBOOSTS and type(est).__module__.startswith("xgboost"):
        return boosters.compile_xgboost(est, path, arrays)
    return None


def compile_model(est: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """The model node for ``est``, or None when no family here reads its class."""
    from sklambda.lean.compiler import _linear

    name = type(est).__name__
    if type(est).__module__.startswith(("lightgbm", "xgboost")):
        return _booster(est, path, arrays)
    if not type(est).__module__.startswith("sklearn."):
        return None
    if name in LINEAR_REGRESSORS:
        return _linear(est, path, "linear")
    if name in GLMS:
        return _glm(est, path)
    if name in LINEAR_CLASSIFIERS:
        return _linear_classifier(est, path)
    return _family_model(est, name, path, arrays)


def _family_model(
    est: Any, name: str, path: str, arrays: dict[str, np.ndarray]
) -> dict[str, Any] | None:
    """The model node of a class whose compiler lives in a module of its own."""
    if name in WRAPPERS:  # predicts with the one estimator it fitted
        from sklambda.lean.compiler import _compile_model, _join

        return _compile_model(est.estimator_, _join(path, "estimator_"), arrays)
    if name in HIST_BOOSTING:
        from sklambda.lean.hist_boosting import compile_hist_gradient_boosting

        return compile_hist_gradient_boosting(est, path, arrays)
    if name in SVMS:
        from sklambda.lean.kernels import compile_svm

        return compile_svm(est, path)
    if name in NEIGHBORS:
        from sklambda.lean.neighbors import compile_neighbors

        return compile_neighbors(est, path, arrays)
    if name in NAIVE_BAYES:
        from sklambda.lean.bayes import compile_naive_bayes

        return compile_naive_bayes(est, path)
    if name in META:
        from sklambda.lean.ensembles import compile_meta

        return compile_meta(est, path, arrays)
    return None


def compile_transform(est: Any, path: str) -> list[dict[str, Any]] | None:
    """The transform nodes for ``est``, or None when no family here reads its class."""
    from sklambda.lean import preprocessing

    name = type(est).__name__
    if name in SELECTORS:
        return preprocessing.compile_selector(est, path)
    compile_one = preprocessing.TRANSFORMS.get(name)
    return None if compile_one is None else compile_one(est, path)
