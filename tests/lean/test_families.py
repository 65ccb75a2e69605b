"""Property tests for the families beyond the core: HistGradientBoosting, SVMs, neighbours,
naive Bayes, the wider linear family, ensembles and the added transformers.

Each model is fitted once on the seeded data of ``test_properties``; Hypothesis draws query
rows (inside and far outside the training ranges, missing values, unseen categories) and the
lean runtime must reproduce scikit-learn: labels identical, numbers within 1e-9.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.ensemble import (
    AdaBoostClassifier,
    AdaBoostRegressor,
    BaggingClassifier,
    BaggingRegressor,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
    VotingRegressor,
)
from sklearn.feature_selection import SelectKBest, VarianceThreshold, f_regression
from sklearn.linear_model import (
    ARDRegression,
    BayesianRidge,
    HuberRegressor,
    Lars,
    LinearRegression,
    LogisticRegression,
    PassiveAggressiveClassifier,
    Perceptron,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.naive_bayes import BernoulliNB, GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    KBinsDiscretizer,
    Normalizer,
    OrdinalEncoder,
    PolynomialFeatures,
    PowerTransformer,
    QuantileTransformer,
    StandardScaler,
    TargetEncoder,
)
from sklearn.svm import SVC, SVR, LinearSVC, NuSVC, NuSVR
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from sklambda.lean.compiler import LeanModel, check_equivalence, compile_estimator
from tests.lean.test_properties import (
    CATEGORICAL,
    FEATURES,
    NUMERIC,
    _fit,
    fitter,
    frame,
    rows,
    training_data,
)

pytestmark = pytest.mark.filterwarnings("ignore:Found unknown categories:UserWarning")

FEW = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


def _hist(model: Any, target: str) -> Pipeline:
    """HistGradientBoosting as a user writes it: categories ordinal-encoded, NaN kept."""
    X, y_reg, y_bin, y_multi = training_data()
    y = {"reg": y_reg, "bin": y_bin, "multi": y_multi}[target]
    encode = ColumnTransformer(
        [
            (
                "cat",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan),
                CATEGORICAL,
            ),
            ("num", "passthrough", NUMERIC),
        ]
    )
    return Pipeline([("encode", encode), ("model", model)]).fit(X, y)


def _voters() -> list[tuple[str, Any]]:
    return [
        ("lr", LogisticRegression()),
        ("nb", GaussianNB()),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
    ]


def _transformed(transformer: Any) -> Callable[[], Pipeline]:
    return lambda: _fit(Ridge(alpha=0.5), "reg", transformer)


MODELS: dict[str, Callable[[], Pipeline]] = {
    "hist_regressor": lambda: _hist(
        HistGradientBoostingRegressor(max_iter=20, categorical_features=[0]), "reg"
    ),
    "hist_binary": lambda: _hist(
        HistGradientBoostingClassifier(max_iter=20, categorical_features=[0]), "bin"
    ),
    "hist_multiclass": lambda: _hist(
        HistGradientBoostingClassifier(max_iter=8, categorical_features=[0]), "multi"
    ),
    "svc_rbf_binary": lambda: _fit(SVC(probability=True, random_state=0), "bin"),
    "svc_poly_multiclass": lambda: _fit(
        SVC(kernel="poly", degree=2, probability=True, random_state=0), "multi"
    ),
    "nusvc_sigmoid": lambda: _fit(NuSVC(kernel="sigmoid", nu=0.3), "multi"),
    "svr_linear": lambda: _fit(SVR(kernel="linear"), "reg"),
    "nusvr_rbf": lambda: _fit(NuSVR(), "reg"),
    "knn_classifier": lambda: _fit(KNeighborsClassifier(5), "multi"),
    "knn_regressor_distance": lambda: _fit(KNeighborsRegressor(4, weights="distance"), "reg"),
    "gaussian_nb": lambda: _fit(GaussianNB(), "multi"),
    "bernoulli_nb": lambda: _fit(BernoulliNB(binarize=0.0), "bin"),
    "sgd_log": lambda: _fit(SGDClassifier(loss="log_loss", random_state=0), "multi"),
    "sgd_modified_huber": lambda: _fit(SGDClassifier(loss="modified_huber", random_state=0), "bin"),
    "sgd_regressor": lambda: _fit(SGDRegressor(random_state=0), "reg"),
    "ridge_classifier": lambda: _fit(RidgeClassifier(), "multi"),
    "perceptron": lambda: _fit(Perceptron(random_state=0), "bin"),
    "passive_aggressive": lambda: _fit(PassiveAggressiveClassifier(random_state=0), "multi"),
    "linear_svc": lambda: _fit(LinearSVC(), "multi"),
    "huber": lambda: _fit(HuberRegressor(), "reg"),
    "bayesian_ridge": lambda: _fit(BayesianRidge(), "reg"),
    "ard": lambda: _fit(ARDRegression(), "reg"),
    "lars": lambda: _fit(Lars(), "reg"),
    "voting_soft": lambda: _fit(VotingClassifier(_voters(), voting="soft"), "multi"),
    "voting_hard_weighted": lambda: _fit(VotingClassifier(_voters(), weights=[2, 1, 1]), "bin"),
    "voting_regressor": lambda: _fit(
        VotingRegressor([("r", Ridge()), ("t", DecisionTreeRegressor(max_depth=3))]), "reg"
    ),
    "stacking": lambda: _fit(StackingClassifier(_voters(), passthrough=True), "bin"),
    "bagging_classifier": lambda: _fit(
        BaggingClassifier(DecisionTreeClassifier(), n_estimators=5, random_state=0), "multi"
    ),
    "bagging_regressor": lambda: _fit(
        BaggingRegressor(Ridge(), n_estimators=4, max_features=3, random_state=0), "reg"
    ),
    "adaboost_binary": lambda: _fit(AdaBoostClassifier(n_estimators=10, random_state=0), "bin"),
    "adaboost_regressor": lambda: _fit(
        AdaBoostRegressor(DecisionTreeRegressor(max_depth=3), n_estimators=8, random_state=0),
        "reg",
    ),
    "calibrated_sigmoid": lambda: _fit(CalibratedClassifierCV(LinearSVC()), "multi"),
    "calibrated_isotonic": lambda: _fit(
        CalibratedClassifierCV(GaussianNB(), method="isotonic"), "bin"
    ),
    "isolation_forest": lambda: _fit(IsolationForest(n_estimators=20, random_state=0), "reg"),
    "transformed_target": lambda: _fit(
        TransformedTargetRegressor(LinearRegression(), transformer=StandardScaler()), "reg"
    ),
    "pca_whiten": _transformed(PCA(2, whiten=True)),
    "truncated_svd": _transformed(TruncatedSVD(2)),
    "polynomial": _transformed(PolynomialFeatures(2)),
    "quantile_normal": _transformed(
        QuantileTransformer(n_quantiles=40, output_distribution="normal")
    ),
    "power": _transformed(PowerTransformer()),
    "kbins": _transformed(KBinsDiscretizer(n_bins=3, encode="onehot-dense")),
    "normalizer": _transformed(Normalizer()),
    "select_k_best": _transformed(SelectKBest(f_regression, k=2)),
    "variance_threshold": _transformed(VarianceThreshold(0.5)),
    "feature_union": _transformed(FeatureUnion([("s", StandardScaler()), ("p", PCA(1))])),
}


fitted = fitter(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
@FEW
@given(batch=rows())
def test_family_matches_sklearn(name: str, batch: list[list[Any]]) -> None:
    pipe, lean = fitted(name)
    assert not lean.needs_numpy
    report = check_equivalence(pipe, lean, frame(batch))
    assert report.ok, report.detail


@functools.cache
def encoder_pipelines() -> dict[str, Pipeline]:
    X, y_reg, _, _ = training_data()
    X = X.assign(b=X["b"] + 0.1)
    out = {}
    for name, encoder in {
        "ordinal": OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
        "target": TargetEncoder(random_state=0),
    }.items():
        ct = ColumnTransformer(
            [
                ("cat", encoder, CATEGORICAL),
                ("log", FunctionTransformer(np.log1p), ["b"]),
                ("num", "drop", ["a"]),
            ],
            remainder="passthrough",
        )
        out[name] = Pipeline([("ct", ct), ("model", Ridge())]).fit(X.fillna({"c": "x"}), y_reg)
    return out


@pytest.mark.parametrize("name", ["ordinal", "target"])
@FEW
@given(batch=rows(missing=False))
def test_encoders_and_ufuncs_match(name: str, batch: list[list[Any]]) -> None:
    pipe = encoder_pipelines()[name]
    lean = compile_estimator(pipe, FEATURES)
    # log1p's domain: b stays above -1 (scikit-learn would give NaN and the model refuse it).
    batch = [[a, abs(b), c, d] for a, b, c, d in batch]
    report = check_equivalence(pipe, lean, frame(batch))
    assert report.ok, report.detail


@functools.cache
def forest_forms() -> tuple[Any, LeanModel, LeanModel]:
    X, _, _, y_multi = training_data()
    forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(X[NUMERIC], y_multi)
    return (
        forest,
        compile_estimator(forest, NUMERIC, numpy=False),
        compile_estimator(forest, NUMERIC, numpy=True),
    )


@FEW
@given(batch=rows())
def test_forest_stdlib_form_is_bit_identical_to_numpy_form(batch: list[list[Any]]) -> None:
    forest, python, numpy = forest_forms()
    assert not python.needs_numpy and numpy.needs_numpy
    numeric = [[a, b, d] for a, b, _, d in batch]
    a, b = python.predictor(), numpy.predictor()
    assert a.predict(numeric) == b.predict(numeric)
    assert a.predict_proba(numeric) == b.predict_proba(numeric)  # exact, not approximate
    assert check_equivalence(forest, python, frame(batch)[NUMERIC]).ok


@functools.cache
def boosting_forms() -> tuple[Any, LeanModel, LeanModel]:
    X, _, _, y_multi = training_data()
    boosting = GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0)
    boosting.fit(X[NUMERIC].fillna(0.0), y_multi)  # three classes: three trees per stage
    return (
        boosting,
        compile_estimator(boosting, NUMERIC, numpy=False),
        compile_estimator(boosting, NUMERIC, numpy=True),
    )


@FEW
@given(batch=rows(missing=False))
def test_boosting_stdlib_form_is_bit_identical_to_numpy_form(batch: list[list[Any]]) -> None:
    boosting, python, numpy = boosting_forms()
    assert not python.needs_numpy and numpy.needs_numpy
    numeric = [[a, b, d] for a, b, _, d in batch]
    a, b = python.predictor(), numpy.predictor()
    assert a.predict(numeric) == b.predict(numeric)
    assert a.predict_proba(numeric) == b.predict_proba(numeric)  # exact, not approximate
    assert check_equivalence(boosting, python, frame(batch)[NUMERIC]).ok


def test_a_large_stored_training_set_is_named_in_the_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    from sklambda.lean import neighbors

    pipe, _ = fitted("knn_classifier")
    assert compile_estimator(pipe, FEATURES).spec["notes"] == []
    monkeypatch.setattr(neighbors, "LARGE_BYTES", 1024)
    notes = compile_estimator(pipe, FEATURES).spec["notes"]
    assert len(notes) == 1 and "stores its 150 training rows" in notes[0]
