"""Issue 16's coverage list, the parts the other lean tests leave out: each estimator fitted
once on the seeded data of ``test_properties`` and proven on Hypothesis rows (inside and far
outside the training ranges, missing values, unseen categories), as ``test_families`` does.

Also: every ufunc the FunctionTransformer allowlist trusts, every way a ColumnTransformer names
its columns, transformer weights, and the decision values (SVMs, outlier detectors) that
stacking and calibration build on.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor, make_column_selector
from sklearn.decomposition import IncrementalPCA
from sklearn.ensemble import IsolationForest, StackingClassifier
from sklearn.feature_selection import (
    RFE,
    GenericUnivariateSelect,
    SelectFdr,
    SelectFpr,
    SelectFromModel,
    SelectFwe,
    SelectPercentile,
    SequentialFeatureSelector,
    f_regression,
)
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import (
    GammaRegressor,
    Lasso,
    LassoLars,
    LassoLarsIC,
    LinearRegression,
    LogisticRegressionCV,
    OrthogonalMatchingPursuit,
    PassiveAggressiveRegressor,
    PoissonRegressor,
    QuantileRegressor,
    RANSACRegressor,
    Ridge,
    RidgeClassifierCV,
    SGDClassifier,
    TheilSenRegressor,
    TweedieRegressor,
)
from sklearn.naive_bayes import CategoricalNB, ComplementNB, MultinomialNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import (
    Binarizer,
    FunctionTransformer,
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    PowerTransformer,
    QuantileTransformer,
    RobustScaler,
    SplineTransformer,
    StandardScaler,
)
from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR, NuSVC, NuSVR, OneClassSVM

from sklambda.lean.compiler import LeanModel, check_equivalence, compile_estimator
from sklambda.lean.preprocessing import UFUNCS
from tests.lean.test_properties import FEATURES, NUMERIC, _fit, fitter, frame, rows
from tests.lean.test_properties import training_data as _training_data

pytestmark = [
    pytest.mark.filterwarnings("ignore:Found unknown categories:UserWarning"),
    # pandas 3 on make_column_selector(dtype_include=object), which still selects str columns
    pytest.mark.filterwarnings("ignore:For backward compatibility, 'str' dtypes"),
]

FEW = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


def _then(*steps: Any) -> Pipeline:
    """Numeric steps after the imputer (``test_properties.preprocess`` puts them there)."""
    return Pipeline([(f"s{i}", step) for i, step in enumerate(steps)])


def _positive(transform: Any, within: tuple[float, float] = (1, 2)) -> Pipeline:
    """``transform`` on values clipped into ``within``, inside the function's domain."""
    return _then(MinMaxScaler(feature_range=within, clip=True), transform)


_UNIT_DOMAIN = ("arccos", "arcsin", "arctanh")  # (-1, 1)


def _nonnegative(model: Any, target: str) -> Pipeline:
    return _fit(model, target, MinMaxScaler(clip=True))


def _ridge_after(transform: Any) -> Callable[[], Pipeline]:
    return lambda: _fit(Ridge(alpha=0.5), "reg", transform)


def _positive_target(model: Any) -> Callable[[], Pipeline]:
    def fit() -> Pipeline:
        pipe = _fit(LinearRegression(), "reg")  # the same preprocessing, refitted below
        X, y_reg, _, _ = _training_data()
        pipe.steps[-1] = ("model", model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pipe.fit(X, np.exp(y_reg / 5))

    return fit


def _categorical_nb() -> Pipeline:
    X, _, _, y_multi = _training_data()

    def encoded(name: str) -> tuple[str, Pipeline, list[str]]:
        impute = SimpleImputer(strategy="most_frequent")
        return name, Pipeline([("i", impute), ("o", OrdinalEncoder())]), [name]

    encode = ColumnTransformer([encoded("c"), encoded("d")])
    return Pipeline([("encode", encode), ("model", CategoricalNB())]).fit(X, y_multi)


def _stack_svms() -> Pipeline:
    parts = [("ovo", SVC(decision_function_shape="ovo")), ("poly", SVC(kernel="poly"))]
    return _fit(StackingClassifier(parts, cv=3), "multi")


MODELS: dict[str, Callable[[], Pipeline]] = {
    # transforms
    "binarizer": _ridge_after(Binarizer(threshold=0.2)),
    "normalizer_l1": _ridge_after(_then(StandardScaler(), Normalizer("l1"))),
    "normalizer_max": _ridge_after(_then(StandardScaler(), Normalizer("max"))),
    "incremental_pca": _ridge_after(_then(StandardScaler(), IncrementalPCA(2))),
    "kbins_quantile_onehot": _ridge_after(
        KBinsDiscretizer(4, encode="onehot", strategy="quantile")
    ),
    "kbins_kmeans_ordinal": _ridge_after(KBinsDiscretizer(3, encode="ordinal", strategy="kmeans")),
    "polynomial_interactions": _ridge_after(
        PolynomialFeatures(3, interaction_only=True, include_bias=False)
    ),
    "power_box_cox": _ridge_after(_positive(PowerTransformer(method="box-cox"))),
    "quantile_uniform": _ridge_after(QuantileTransformer(n_quantiles=30)),
    "spline_periodic": _ridge_after(SplineTransformer(n_knots=4, extrapolation="periodic")),
    "select_percentile": _ridge_after(SelectPercentile(f_regression, percentile=50)),
    "select_fpr": _ridge_after(SelectFpr(f_regression, alpha=0.5)),
    "select_fdr": _ridge_after(SelectFdr(f_regression, alpha=0.5)),
    "select_fwe": _ridge_after(SelectFwe(f_regression, alpha=0.5)),
    "generic_univariate": _ridge_after(
        GenericUnivariateSelect(f_regression, mode="k_best", param=2)
    ),
    "select_from_model": _ridge_after(SelectFromModel(Lasso(alpha=0.3))),
    "rfe": _ridge_after(RFE(Ridge(), n_features_to_select=2)),
    "sequential_selector": _ridge_after(
        SequentialFeatureSelector(Ridge(), n_features_to_select=2, cv=2)
    ),
    "union_weighted_with_passthrough": _ridge_after(
        FeatureUnion(
            [("s", StandardScaler()), ("p", "passthrough"), ("x", "drop")],
            transformer_weights={"s": 2.0, "p": 0.5},
        )
    ),
    # linear family
    "ridge_classifier_cv": lambda: _fit(RidgeClassifierCV(), "bin"),
    "logistic_cv": lambda: _fit(LogisticRegressionCV(cv=3), "multi"),
    "sgd_hinge": lambda: _fit(SGDClassifier(random_state=0), "multi"),
    "linear_svc_binary": lambda: _fit(LinearSVC(), "bin"),
    "linear_svr": lambda: _fit(LinearSVR(), "reg"),
    "passive_aggressive_regressor": lambda: _fit(PassiveAggressiveRegressor(random_state=0), "reg"),
    "quantile_regressor": lambda: _fit(QuantileRegressor(alpha=0.0), "reg"),
    "lasso_lars": lambda: _fit(LassoLars(alpha=0.01), "reg"),
    "lasso_lars_ic": lambda: _fit(LassoLarsIC(), "reg"),
    "omp": lambda: _fit(OrthogonalMatchingPursuit(), "reg"),
    "theil_sen": lambda: _fit(TheilSenRegressor(random_state=0), "reg"),
    "ransac": lambda: _fit(RANSACRegressor(random_state=0), "reg"),
    "poisson": _positive_target(PoissonRegressor()),
    "gamma": _positive_target(GammaRegressor()),
    "tweedie_log_link": _positive_target(TweedieRegressor(power=1.5)),
    "tweedie_identity_link": _positive_target(TweedieRegressor(power=0, link="identity")),
    # others
    "svc_linear_proba": lambda: _fit(SVC(kernel="linear", probability=True, random_state=0), "bin"),
    "svc_sigmoid_proba": lambda: _fit(
        SVC(kernel="sigmoid", probability=True, random_state=0), "multi"
    ),
    "nusvc_poly_proba": lambda: _fit(
        NuSVC(kernel="poly", nu=0.3, probability=True, random_state=0), "bin"
    ),
    "svr_poly": lambda: _fit(SVR(kernel="poly", degree=2), "reg"),
    "svr_sigmoid": lambda: _fit(SVR(kernel="sigmoid"), "reg"),
    "nusvr_linear": lambda: _fit(NuSVR(kernel="linear"), "reg"),
    "one_class_svm": lambda: _fit(OneClassSVM(nu=0.2), "reg"),
    "multinomial_nb": lambda: _nonnegative(MultinomialNB(), "multi"),
    "complement_nb": lambda: _nonnegative(ComplementNB(), "bin"),
    "categorical_nb": _categorical_nb,
    "calibrated_svc": lambda: _fit(CalibratedClassifierCV(SVC(), cv=3), "multi"),
    "stacking_svm_decisions": _stack_svms,
    "target_minmax": lambda: _fit(
        TransformedTargetRegressor(Ridge(), transformer=MinMaxScaler()), "reg"
    ),
    "target_robust": lambda: _fit(
        TransformedTargetRegressor(Ridge(), transformer=RobustScaler()), "reg"
    ),
    "target_maxabs": lambda: _fit(
        TransformedTargetRegressor(Ridge(), transformer=MaxAbsScaler()), "reg"
    ),
    "isolation_forest_max_features": lambda: _fit(
        IsolationForest(n_estimators=15, max_features=2, random_state=0), "reg"
    ),
}
for _name in UFUNCS:
    _within = (-0.9, 0.9) if _name in _UNIT_DOMAIN else (1.0, 2.0)
    MODELS[f"ufunc_{_name}"] = _ridge_after(
        _positive(FunctionTransformer(getattr(np, _name)), _within)
    )


fitted = fitter(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
@FEW
@given(batch=rows())
def test_listed_estimator_matches_sklearn(name: str, batch: list[list[Any]]) -> None:
    pipe, lean = fitted(name)
    assert not lean.needs_numpy
    X = frame(batch)
    if name == "categorical_nb":  # known categories only (scikit-learn fails on others)
        X = X.assign(d=X["d"].round().clip(0, 3), c=X["c"].replace("never-seen", "x"))
    report = check_equivalence(pipe, lean, X)
    assert report.ok, report.detail


@pytest.mark.parametrize("name", ["svc_sigmoid_proba", "nusvc_poly_proba", "one_class_svm"])
@FEW
@given(batch=rows())
def test_svm_decision_values_match_decision_function(name: str, batch: list[list[Any]]) -> None:
    pipe, lean = fitted(name)
    X = frame(batch)
    X["c"] = X["c"].where(X["c"].notna(), np.nan)  # missing as scikit-learn's imputer reads it
    predictor = lean.predictor()
    got = np.asarray(predictor._model.decision(predictor._prepare(X.to_numpy().tolist())))
    expected = np.asarray(pipe.decision_function(X), dtype=np.float64).reshape(len(X), -1)
    assert np.abs(got - expected).max() <= 1e-9 * max(float(np.abs(expected).max()), 1.0)


SPECIAL = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -2.5, 2.5, 1e-300, -1e-300, 5e-324, 1e10]
SPECIAL += [-1e10, 710.0, -710.0, 1e300, -1e300, 1.7e308, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("name", UFUNCS)
def test_each_allowlisted_ufunc_answers_as_numpy_everywhere(name: str) -> None:
    from sklambda.runtime.lean.transforms_more import UFUNCS as RUNTIME_UFUNCS

    with np.errstate(all="ignore"):
        expected = getattr(np, name)(np.array(SPECIAL)).astype(np.float64).tolist()
    got = [RUNTIME_UFUNCS[name](x) for x in SPECIAL]
    for x, g, e in zip(SPECIAL, got, expected, strict=True):
        same = g == e or (math.isnan(g) and math.isnan(e))
        assert same or abs(g - e) <= 1e-12 * abs(e), (name, x, g, e)


# ---------------------------------------------------------------- ColumnTransformer forms


COLUMN_FORMS: dict[str, tuple[Any, Any]] = {
    "names": (["c"], ["a", "b"]),
    "indices": ([2], [0, 1]),
    "boolean_masks": ([False, False, True, False], [True, True, False, False]),
    "slices": (slice(2, 3), slice(0, 2)),
    "callables": (lambda X: ["c"], lambda X: ["a", "b"]),
    "selectors": (
        make_column_selector(dtype_include=object),
        make_column_selector(pattern="^[ab]$"),
    ),
}
REMAINDERS: dict[str, Callable[[], Any]] = {
    "passthrough": lambda: "passthrough",
    "drop": lambda: "drop",
    "estimator": lambda: Pipeline([("i", SimpleImputer()), ("s", StandardScaler())]),
}


@functools.cache
def column_pipeline(form: str, remainder: str) -> tuple[Pipeline, LeanModel]:
    X, y_reg, _, _ = _training_data()
    categorical, numeric = COLUMN_FORMS[form]
    ct = ColumnTransformer(
        [
            (
                "cat",
                Pipeline(
                    [
                        ("i", SimpleImputer(strategy="most_frequent")),
                        ("o", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                categorical,
            ),
            ("num", Pipeline([("i", SimpleImputer()), ("s", StandardScaler())]), numeric),
        ],
        remainder=REMAINDERS[remainder](),
        transformer_weights={"num": 3.0, "remainder": 0.5},
    )
    pipe = Pipeline([("ct", ct), ("model", Ridge())]).fit(X, y_reg)
    return pipe, compile_estimator(pipe, FEATURES)


@pytest.mark.parametrize("remainder", sorted(REMAINDERS))
@pytest.mark.parametrize("form", sorted(COLUMN_FORMS))
@FEW
@given(batch=rows())
def test_column_transformer_forms_match(form: str, remainder: str, batch: list[list[Any]]) -> None:
    pipe, lean = column_pipeline(form, remainder)
    X = frame(batch)
    if remainder == "passthrough":  # d goes to Ridge untouched: no missing values there
        X = X.assign(d=X["d"].fillna(1.0))
    report = check_equivalence(pipe, lean, X)
    assert report.ok, report.detail


@functools.cache
def missing_indicator_pipeline(features: str) -> tuple[Pipeline, LeanModel]:
    X, y_reg, _, _ = _training_data()
    X = X[NUMERIC].copy()
    X.loc[::7, "b"] = np.nan  # a has missing values too; d has none
    union = FeatureUnion(
        [
            ("impute", SimpleImputer()),
            ("missing", MissingIndicator(features=features, error_on_new=False)),
        ]
    )
    pipe = Pipeline([("union", union), ("model", Ridge())]).fit(X, y_reg)
    return pipe, compile_estimator(pipe, NUMERIC)


@pytest.mark.parametrize("features", ["missing-only", "all"])
@FEW
@given(batch=rows())
def test_missing_indicator_matches(features: str, batch: list[list[Any]]) -> None:
    pipe, lean = missing_indicator_pipeline(features)
    X = pd.DataFrame([[a, b, d] for a, b, _, d in batch], columns=NUMERIC, dtype=float)
    report = check_equivalence(pipe, lean, X)
    assert report.ok, report.detail


def test_isolation_forest_scores_match_score_samples_and_decision_function() -> None:
    pipe, lean = fitted("isolation_forest_max_features")
    X = frame(_training_data()[0].to_numpy().tolist()[:40])
    predictor = lean.predictor()
    prepared = predictor._prepare(X.to_numpy().tolist())
    model = predictor._model
    scores = [model.score(row) for row in prepared]
    assert scores == pytest.approx(pipe.score_samples(X).tolist(), rel=1e-12)
    decisions = [d[0] for d in model.decision(prepared)]
    assert decisions == pytest.approx(pipe.decision_function(X).tolist(), rel=1e-9, abs=1e-12)
    assert predictor.predict(X.to_numpy().tolist()) == pipe.predict(X).tolist()


# ---------------------------------------------------------------- neighbours at equal distances


@functools.cache
def tied_neighbors(algorithm: str, metric: str, weights: str, k: int) -> tuple[Any, LeanModel]:
    """kNN on whole-number features, where many training rows sit at the same distance."""
    rng = np.random.default_rng(11)
    X = pd.DataFrame(rng.integers(0, 4, size=(200, 3)).astype(float), columns=NUMERIC)
    y = rng.integers(0, 3, size=200)
    model = KNeighborsClassifier(k, weights=weights, metric=metric, algorithm=algorithm)
    model.fit(X, y)
    return model, compile_estimator(model, NUMERIC)


@pytest.mark.parametrize("k", [5, 8])
@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev"])
@pytest.mark.parametrize("algorithm", ["kd_tree", "ball_tree"])
def test_neighbors_at_equal_distances_are_the_ones_sklearn_keeps(
    algorithm: str, metric: str, weights: str, k: int
) -> None:
    model, lean = tied_neighbors(algorithm, metric, weights, k)
    rng = np.random.default_rng(12)
    grid = rng.integers(-2, 6, size=(300, 3)) + rng.choice([0.0, 0.5], size=(300, 3))
    report = check_equivalence(model, lean, pd.DataFrame(grid, columns=NUMERIC))
    assert report.ok, report.detail


@functools.cache
def spread_neighbors(algorithm: str, metric: str) -> Any:
    """The runtime model of a kNN on continuous features (ties are rare)."""
    rng = np.random.default_rng(13)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=NUMERIC)
    model = KNeighborsClassifier(5, metric=metric, algorithm=algorithm)
    model.fit(X, rng.integers(0, 3, size=300))
    return compile_estimator(model, NUMERIC).predictor()._model


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev", "minkowski"])
@pytest.mark.parametrize("algorithm", ["kd_tree", "ball_tree"])
def test_the_untied_shortcut_answers_as_the_tree_walk(algorithm: str, metric: str) -> None:
    # Without near ties the k nearest are found from the fast distances, not by walking the
    # tree: the rows, their order and the distances' bits are the walk's.
    model = spread_neighbors(algorithm, metric)
    rng = np.random.default_rng(14)
    shortcut = 0
    for x in rng.normal(size=(200, 3)).tolist():
        untied = model._untied(x, model.tree)
        if untied is not None:
            shortcut += 1
            assert untied == model.tree.query(x, model.k)
    assert shortcut > 150  # continuous data: almost every row takes the shortcut


def test_tied_neighbors_are_left_to_the_tree_walk() -> None:
    _, lean = tied_neighbors("kd_tree", "euclidean", "uniform", 5)
    model = lean.predictor()._model
    rng = np.random.default_rng(12)
    rows = (rng.integers(-2, 6, size=(50, 3)) + 0.0).tolist()
    assert all(model._untied(x, model.tree) is None for x in rows)
