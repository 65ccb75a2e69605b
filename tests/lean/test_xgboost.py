"""XGBoost (an optional extra for training; the runtime needs none of it): the trees of
``save_raw("json")``, compiled and walked, reproduce XGBoost's own predictions and
probabilities on generated rows.

Float32 semantics (inputs at, just below and just above a split condition), missing values
(NaN, and a ``missing`` value other than NaN), zeros, values out of the training range and
infinities; binary, multiclass (softprob), regression, logistic regression, the log links
(poisson, gamma, tweedie), an early-stopped model, a random forest, and categorical splits on
category codes (unseen, negative, fractional and out-of-range codes included). Boosters and
objectives the runtime cannot reproduce are refused, naming the step and the alternative.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from hypothesis import given
from hypothesis import strategies as st

from sklambda.lean.compiler import (
    LeanModel,
    LeanUnsupportedError,
    check_equivalence,
    compile_estimator,
)
from tests.support.boosters import COLUMNS, FEW, data


def _target(name: str, y: np.ndarray) -> np.ndarray:
    if name in ("binary", "random_forest", "categorical"):
        return (y > np.median(y)).astype(int)
    if name == "multiclass":
        return np.digitize(y, np.quantile(y, [0.3, 0.6]))
    if name == "logistic":
        return (y > 0).astype(float)
    if name in ("poisson", "gamma", "tweedie"):
        return np.exp(y / 3)
    return y


MODELS = {
    "binary": lambda: xgb.XGBClassifier(n_estimators=20, max_depth=3),
    "multiclass": lambda: xgb.XGBClassifier(n_estimators=12, max_depth=3),
    "regression": lambda: xgb.XGBRegressor(n_estimators=25, max_depth=4),
    "missing_zero": lambda: xgb.XGBRegressor(n_estimators=15, missing=0.0),
    "absolute": lambda: xgb.XGBRegressor(n_estimators=15, objective="reg:absoluteerror"),
    "pseudohuber": lambda: xgb.XGBRegressor(n_estimators=15, objective="reg:pseudohubererror"),
    "logistic": lambda: xgb.XGBRegressor(n_estimators=15, objective="reg:logistic"),
    "poisson": lambda: xgb.XGBRegressor(n_estimators=15, objective="count:poisson"),
    "gamma": lambda: xgb.XGBRegressor(n_estimators=15, objective="reg:gamma"),
    "tweedie": lambda: xgb.XGBRegressor(n_estimators=15, objective="reg:tweedie"),
    "early_stopped": lambda: xgb.XGBRegressor(
        n_estimators=200, learning_rate=0.6, early_stopping_rounds=2
    ),
    "random_forest": lambda: xgb.XGBRFClassifier(n_estimators=8, max_depth=4),
    # column c holds category codes 0..4: partition splits, and one-hot-style ones
    "categorical": lambda: xgb.XGBClassifier(
        n_estimators=12, enable_categorical=True, feature_types=["q", "q", "c"], max_cat_to_onehot=1
    ),
    "categorical_onehot": lambda: xgb.XGBRegressor(
        n_estimators=12, enable_categorical=True, feature_types=["q", "q", "c"], max_cat_to_onehot=8
    ),
}


@functools.cache
def fitted(name: str) -> tuple[Any, LeanModel]:
    X, y = data()
    target = _target(name, y)
    model = MODELS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "early_stopped":
            noisy = target + np.random.default_rng(1).normal(size=len(target))
            model.fit(X[:300], target[:300], eval_set=[(X[300:], noisy[300:])], verbose=False)
            assert model.best_iteration < 199  # stopped: predict uses fewer trees than it has
        else:
            model.fit(X, target)
    return model, compile_estimator(model, COLUMNS)


@functools.cache
def split_points(name: str) -> list[float]:
    """Every split condition of the model, the float64 values next to it, and its float32
    neighbours: where a float64 comparison and XGBoost's float32 one part ways."""
    model, _ = fitted(name)
    points = set()
    for tree in model.get_booster().trees_to_dataframe().itertuples():
        if tree.Feature == "Leaf":
            continue
        t = float(np.float32(tree.Split))
        for v in (t, np.nextafter(t, -np.inf), np.nextafter(t, np.inf)):
            points.add(float(v))
        for v in (np.nextafter(np.float32(t), np.float32(-np.inf)), np.nextafter(np.float32(t), 1)):
            points.add(float(v))
    return sorted(points)


def _value(name: str) -> st.SearchStrategy[float | None]:
    return st.one_of(
        st.sampled_from(split_points(name)),
        st.floats(-30, 30),
        st.sampled_from([0.0, -0.0, 1e30, -1e30, float("inf"), float("-inf")]),
        st.none(),
    )


@pytest.mark.parametrize("name", sorted(MODELS))
@FEW
@given(data=st.data())
def test_xgboost_matches_its_own_predictions(name: str, data: st.DataObject) -> None:
    model, lean = fitted(name)
    assert not lean.needs_numpy
    assert lean.spec["graph"]["model"]["float32"]  # the contract bounds inputs to float32
    category = st.one_of(
        st.integers(-2, 8),
        st.floats(-3, 10),
        st.sampled_from([-0.0, -0.5, 16777215.0, 16777216.0, 1e30, float("inf")]),
        st.none(),
    )
    row = st.tuples(_value(name), _value(name), category)
    batch = data.draw(st.lists(row, min_size=1, max_size=6))
    X = pd.DataFrame(batch, columns=COLUMNS, dtype=float)
    report = check_equivalence(model, lean, X)
    assert report.ok, report.detail
    assert report.max_abs_error == 0.0  # float32 arithmetic reproduced bit for bit


def test_a_pipeline_with_xgboost_compiles_from_the_lean_files(tmp_path: Any) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = data()
    frame = pd.DataFrame(X, columns=COLUMNS)
    pipeline = make_pipeline(StandardScaler(), xgb.XGBClassifier(n_estimators=10)).fit(
        frame, _target("multiclass", y)
    )
    lean = compile_estimator(pipeline, COLUMNS)
    written = {p.name for p in lean.write(tmp_path)}
    assert written == {"lean.json", "lean.bin"}
    report = check_equivalence(pipeline, lean, frame, directory=tmp_path)
    assert report.ok, report.detail


REFUSED = {
    "dart": (lambda: xgb.XGBClassifier(n_estimators=3, booster="dart"), "booster='gbtree'"),
    "gblinear": (
        lambda: xgb.XGBClassifier(n_estimators=3, booster="gblinear"),
        "booster='gbtree'",
    ),
    "softmax": (
        lambda: xgb.XGBClassifier(n_estimators=3, objective="multi:softmax"),
        "multi:softprob",
    ),
    "logitraw": (
        lambda: xgb.XGBClassifier(n_estimators=3, objective="binary:logitraw"),
        "binary:logistic",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_xgboost_does_differently_is_refused_naming_the_alternative(name: str) -> None:
    make, alternative = REFUSED[name]
    X, y = data()
    target = _target("multiclass" if name == "softmax" else "binary", y)
    model = make().fit(X, target)
    with pytest.raises(LeanUnsupportedError, match="is not supported") as caught:
        compile_estimator(model, COLUMNS)
    assert caught.value.step == "estimator"
    assert alternative in str(caught.value)


def test_the_categorical_models_split_on_categories() -> None:
    for name in ("categorical", "categorical_onehot"):
        _, lean = fitted(name)
        assert lean.spec["graph"]["model"]["category_sets"], name


def test_categories_from_pandas_columns_are_refused_naming_the_alternatives() -> None:
    X, y = data()
    frame = pd.DataFrame(X, columns=COLUMNS)
    frame["c"] = pd.Categorical(frame["c"].astype(int))
    model = xgb.XGBClassifier(n_estimators=3, enable_categorical=True)
    model.fit(frame, _target("binary", y))
    with pytest.raises(LeanUnsupportedError, match="pandas category columns") as caught:
        compile_estimator(model, COLUMNS)
    assert "feature_types=['c', ...]" in str(caught.value) and "OneHotEncoder" in str(caught.value)
