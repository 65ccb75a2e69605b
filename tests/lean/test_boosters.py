"""LightGBM (an optional extra for training; the runtime needs none of it): the dumped trees,
compiled and walked, reproduce LightGBM's own predictions on generated rows.

Missing values in every form LightGBM routes (NaN, zero as missing), categorical splits with
unseen and negative categories, binary, multiclass, regression and a log link.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sklambda.lean.compiler import LeanModel, check_equivalence, compile_estimator
from tests.support.boosters import COLUMNS, FEW, data

MODELS = {
    "binary": lambda: lgb.LGBMClassifier(n_estimators=20, verbose=-1),
    "multiclass_categorical": lambda: lgb.LGBMClassifier(
        n_estimators=15, verbose=-1, min_data_per_group=5, cat_smooth=1
    ),
    "regression_zero_as_missing": lambda: lgb.LGBMRegressor(
        n_estimators=20, verbose=-1, zero_as_missing=True
    ),
    "poisson": lambda: lgb.LGBMRegressor(n_estimators=15, objective="poisson", verbose=-1),
}


@functools.cache
def fitted(name: str) -> tuple[Any, LeanModel]:
    X, y = data()
    target: Any = y
    if name == "binary":
        target = np.where(y > np.median(y), "hi", "lo")
    elif name.startswith("multiclass"):
        target = np.digitize(y, np.quantile(y, [0.3, 0.6]))
    elif name == "poisson":
        target = np.exp(y / 3)
    model = MODELS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, target, categorical_feature=[2] if "categorical" in name else "auto")
    return model, compile_estimator(model, COLUMNS)


def _value(low: float, high: float) -> st.SearchStrategy[float | None]:
    return st.one_of(st.floats(low, high), st.sampled_from([0.0, -0.0]), st.none())


@pytest.mark.parametrize("name", sorted(MODELS))
@FEW
@given(
    batch=st.lists(
        st.tuples(_value(-30, 30), _value(-30, 30), st.one_of(st.integers(-2, 8), st.none())),
        min_size=1,
        max_size=6,
    )
)
def test_lightgbm_matches_its_own_predictions(name: str, batch: list[tuple[Any, ...]]) -> None:
    model, lean = fitted(name)
    assert not lean.needs_numpy
    X = pd.DataFrame(batch, columns=COLUMNS, dtype=float)
    report = check_equivalence(model, lean, X)
    assert report.ok, report.detail
