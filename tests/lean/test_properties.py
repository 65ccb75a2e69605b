"""Property tests: the lean runtime reproduces scikit-learn on generated query rows.

Every supported estimator is fitted once on a small seeded dataset; Hypothesis then draws query
rows inside and far outside (10x) the training ranges, with missing values where imputers exist
and unseen categories where the encoder ignores them, and ``check_equivalence`` must hold.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    RobustScaler,
    StandardScaler,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from sklambda.lean.compiler import LeanModel, check_equivalence, compile_estimator

pytestmark = pytest.mark.filterwarnings("ignore:Found unknown categories:UserWarning")

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)

NUMERIC = ["a", "b", "d"]
CATEGORICAL = ["c"]
FEATURES = ["a", "b", "c", "d"]
CATEGORIES = ["x", "y", "z"]


@functools.cache
def training_data() -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    n = 150
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n) * 10,
            "b": rng.uniform(0, 5, size=n),
            "c": rng.choice(CATEGORIES, size=n).astype(object),
            "d": rng.integers(0, 4, size=n).astype(float),
        }
    )
    X.loc[::9, "a"] = np.nan
    X.loc[::13, "c"] = None
    signal = X["b"].to_numpy() * 3 + (X["c"] == "x") * 2 + np.nan_to_num(X["a"].to_numpy()) / 5
    y_reg = signal + rng.normal(size=n)
    y_bin = np.where(y_reg > np.median(y_reg), "high", "low")
    y_multi = np.array([0, 1, 2])[np.digitize(y_reg, np.quantile(y_reg, [0.33, 0.66]))]
    return X, y_reg, y_bin, y_multi


def preprocess(scaler: Any = None) -> ColumnTransformer:
    numeric = Pipeline(
        [("impute", SimpleImputer(strategy="median")), ("scale", scaler or StandardScaler())]
    )
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    return ColumnTransformer([("num", numeric, NUMERIC), ("cat", categorical, CATEGORICAL)])


def _fit(model: Any, target: str, scaler: Any = None) -> Pipeline:
    X, y_reg, y_bin, y_multi = training_data()
    y = {"reg": y_reg, "bin": y_bin, "multi": y_multi}[target]
    pipe = Pipeline([("preprocess", preprocess(scaler)), ("model", model)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of deliberately tiny fits
        return pipe.fit(X, y)


MODELS: dict[str, Callable[[], Pipeline]] = {
    "linear_regression": lambda: _fit(LinearRegression(), "reg"),
    "ridge": lambda: _fit(Ridge(alpha=0.5), "reg", MinMaxScaler()),
    "lasso": lambda: _fit(Lasso(alpha=0.05), "reg", RobustScaler()),
    "elastic_net": lambda: _fit(ElasticNet(alpha=0.05, l1_ratio=0.3), "reg", MaxAbsScaler()),
    "logistic_binary": lambda: _fit(LogisticRegression(), "bin"),
    "logistic_multinomial": lambda: _fit(LogisticRegression(C=0.5), "multi"),
    "mlp_regressor_relu": lambda: _fit(
        MLPRegressor(hidden_layer_sizes=(8, 4), max_iter=200, random_state=0), "reg"
    ),
    "mlp_regressor_tanh": lambda: _fit(
        MLPRegressor(hidden_layer_sizes=(6,), activation="tanh", max_iter=200, random_state=0),
        "reg",
    ),
    "mlp_classifier_logistic_binary": lambda: _fit(
        MLPClassifier(hidden_layer_sizes=(6,), activation="logistic", max_iter=200, random_state=0),
        "bin",
    ),
    "mlp_classifier_identity_multi": lambda: _fit(
        MLPClassifier(hidden_layer_sizes=(5,), activation="identity", max_iter=200, random_state=0),
        "multi",
    ),
    "mlp_classifier_relu_multi": lambda: _fit(
        MLPClassifier(hidden_layer_sizes=(8, 8), max_iter=200, random_state=0), "multi"
    ),
    "decision_tree_regressor": lambda: _fit(DecisionTreeRegressor(random_state=0), "reg"),
    "decision_tree_classifier": lambda: _fit(DecisionTreeClassifier(random_state=0), "multi"),
    "random_forest_regressor": lambda: _fit(
        RandomForestRegressor(n_estimators=12, random_state=0), "reg"
    ),
    "random_forest_classifier": lambda: _fit(
        RandomForestClassifier(n_estimators=12, random_state=0), "bin"
    ),
    "extra_trees_regressor": lambda: _fit(
        ExtraTreesRegressor(n_estimators=12, random_state=0), "reg"
    ),
    "extra_trees_classifier": lambda: _fit(
        ExtraTreesClassifier(n_estimators=12, random_state=0), "multi"
    ),
    "gradient_boosting_regressor": lambda: _fit(
        GradientBoostingRegressor(n_estimators=25, random_state=0), "reg"
    ),
    "gradient_boosting_regressor_huber_zero_init": lambda: _fit(
        GradientBoostingRegressor(n_estimators=25, loss="huber", init="zero", random_state=0),
        "reg",
    ),
    "gradient_boosting_binary": lambda: _fit(
        GradientBoostingClassifier(n_estimators=25, random_state=0), "bin"
    ),
    "gradient_boosting_binary_exponential": lambda: _fit(
        GradientBoostingClassifier(n_estimators=25, loss="exponential", random_state=0), "bin"
    ),
    "gradient_boosting_multiclass": lambda: _fit(
        GradientBoostingClassifier(n_estimators=15, random_state=0), "multi"
    ),
}


def fitter(
    models: dict[str, Callable[[], Pipeline]],
) -> Callable[[str], tuple[Pipeline, LeanModel]]:
    """``fitted(name)`` for a module's models: each fitted (warnings quiet) and compiled once."""

    @functools.cache
    def fitted(name: str) -> tuple[Pipeline, LeanModel]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe = models[name]()
        return pipe, compile_estimator(pipe, FEATURES)

    return fitted


fitted = fitter(MODELS)


def _numeric(column: str, *, missing: bool) -> st.SearchStrategy[float | None]:
    X = training_data()[0]
    low, high = float(X[column].min()), float(X[column].max())
    span = high - low
    values = st.one_of(
        st.floats(low, high),
        st.floats(low - 10 * span, high + 10 * span),  # far outside the training range
        st.sampled_from([low, high, 0.0, -0.0]),
    )
    return st.one_of(values, st.none()) if missing else values


def rows(*, missing: bool = True, unknown: bool = True) -> st.SearchStrategy[list[list[Any]]]:
    category = st.sampled_from(CATEGORIES + (["never-seen"] if unknown else []))
    if missing:
        category = st.one_of(category, st.none())
    row = st.tuples(
        _numeric("a", missing=missing),
        _numeric("b", missing=missing),
        category,
        _numeric("d", missing=missing),
    ).map(list)
    return st.lists(row, min_size=1, max_size=6)


def frame(batch: list[list[Any]]) -> pd.DataFrame:
    X = pd.DataFrame(batch, columns=FEATURES)
    for column in NUMERIC:
        X[column] = X[column].astype(float)
    X["c"] = X["c"].astype(object)
    return X


@pytest.mark.parametrize("name", sorted(MODELS))
@PROPERTY
@given(batch=rows())
def test_lean_matches_sklearn(name: str, batch: list[list[Any]]) -> None:
    pipe, lean = fitted(name)
    report = check_equivalence(pipe, lean, frame(batch))
    assert report.ok, report.detail
    assert report.rows == len(batch)


# ---------------------------------------------------------------- trees on raw features


@functools.cache
def raw_tree_models() -> dict[str, Any]:
    X, y_reg, _, y_multi = training_data()
    numeric = X[NUMERIC]
    return {
        "tree": DecisionTreeRegressor(random_state=0).fit(numeric, y_reg),
        "forest": RandomForestClassifier(n_estimators=8, random_state=0).fit(numeric, y_multi),
        "boosting": GradientBoostingRegressor(n_estimators=20, random_state=0).fit(
            numeric.fillna(0.0), y_reg
        ),
    }


def _near_thresholds(model: Any, feature: int) -> list[float]:
    trees = getattr(model, "estimators_", [model])
    values: list[float] = []
    for tree in np.ravel(trees):
        t = tree.tree_
        for threshold in t.threshold[t.feature == feature][:10]:
            # float64 neighbours of a threshold round to float32 on either side of it.
            values += [
                float(threshold),
                float(np.nextafter(threshold, np.inf)),
                float(np.nextafter(threshold, -np.inf)),
                float(np.float32(threshold)),
            ]
    return values


@pytest.mark.parametrize("kind", ["tree", "forest", "boosting"])
@PROPERTY
@given(data=st.data())
def test_trees_split_like_sklearn_at_thresholds(kind: str, data: st.DataObject) -> None:
    model = raw_tree_models()[kind]
    lean = compile_estimator(model, NUMERIC)
    allow_missing = kind != "boosting"  # gradient boosting rejects NaN in scikit-learn too
    batch = []
    for _ in range(data.draw(st.integers(1, 5))):
        row = []
        for i, column in enumerate(NUMERIC):
            near = _near_thresholds(model, i)
            choice = st.one_of(_numeric(column, missing=allow_missing), st.sampled_from(near))
            row.append(data.draw(choice))
        batch.append(row)
    X = pd.DataFrame(batch, columns=NUMERIC).astype(float)
    report = check_equivalence(model, lean, X)
    assert report.ok, report.detail


# ---------------------------------------------------------------- each transformer on its own


TRANSFORMERS: dict[str, Callable[[], Any]] = {
    "standard_no_mean": lambda: StandardScaler(with_mean=False),
    "standard_no_std": lambda: StandardScaler(with_std=False),
    "minmax_clip": lambda: MinMaxScaler(feature_range=(-1, 2), clip=True),
    "robust_no_centering": lambda: RobustScaler(with_centering=False, quantile_range=(10, 90)),
    "maxabs": MaxAbsScaler,
}

IMPUTERS: dict[str, Callable[[], SimpleImputer]] = {
    "mean": lambda: SimpleImputer(strategy="mean"),
    "median": lambda: SimpleImputer(strategy="median", add_indicator=True),
    "most_frequent": lambda: SimpleImputer(strategy="most_frequent"),
    "constant": lambda: SimpleImputer(strategy="constant", fill_value=-3.5),
}


@functools.cache
def scaler_pipeline(name: str, imputer: str) -> tuple[Pipeline, LeanModel]:
    X, y_reg, _, _ = training_data()
    pipe = Pipeline(
        [
            (
                "preprocess",
                ColumnTransformer(
                    [
                        (
                            "num",
                            Pipeline(
                                [("impute", IMPUTERS[imputer]()), ("scale", TRANSFORMERS[name]())]
                            ),
                            NUMERIC,
                        ),
                        (
                            "cat",
                            OneHotEncoder(drop="first", handle_unknown="ignore"),
                            CATEGORICAL,
                        ),
                    ]
                ),
            ),
            ("model", Ridge(alpha=0.1)),
        ]
    )
    X = X.assign(c=X["c"].fillna("x"))
    pipe.fit(X, y_reg)
    lean = compile_estimator(pipe, FEATURES)
    assert not lean.needs_numpy
    return pipe, lean


@pytest.mark.parametrize(
    ("scaler", "imputer"),
    [(s, i) for s in sorted(TRANSFORMERS) for i in sorted(IMPUTERS)],
)
@PROPERTY
@given(batch=rows(missing=True, unknown=True))
def test_scalers_and_imputers_match(scaler: str, imputer: str, batch: list[list[Any]]) -> None:
    pipe, lean = scaler_pipeline(scaler, imputer)
    # The categorical column has no imputer here: None would be an unknown category to both
    # sides, but the test is about the numeric steps, so keep it present.
    batch = [[a, b, c if c is not None else "y", d] for a, b, c, d in batch]
    report = check_equivalence(pipe, lean, frame(batch))
    assert report.ok, report.detail


@functools.cache
def string_imputer_pipeline(strategy: str) -> tuple[Pipeline, LeanModel]:
    X, _, y_bin, _ = training_data()
    imputer = (
        SimpleImputer(strategy="constant", fill_value="missing")
        if strategy == "constant"
        else SimpleImputer(strategy="most_frequent")
    )
    pipe = Pipeline(
        [
            (
                "preprocess",
                ColumnTransformer(
                    [
                        (
                            "cat",
                            Pipeline(
                                [
                                    ("impute", imputer),
                                    ("onehot", OneHotEncoder(handle_unknown="ignore")),
                                ]
                            ),
                            ["c"],
                        ),
                        ("num", SimpleImputer(), [0, 1]),  # by position: a, b
                    ],
                    remainder="drop",
                ),
            ),
            ("model", LogisticRegression()),
        ]
    )
    pipe.fit(X, y_bin)
    return pipe, compile_estimator(pipe, FEATURES)


@pytest.mark.parametrize("strategy", ["most_frequent", "constant"])
@PROPERTY
@given(batch=rows())
def test_string_imputers_match(strategy: str, batch: list[list[Any]]) -> None:
    pipe, lean = string_imputer_pipeline(strategy)
    report = check_equivalence(pipe, lean, frame(batch))
    assert report.ok, report.detail
