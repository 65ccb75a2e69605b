"""SplineTransformer in the lean runtime: every extrapolation, inside and far outside the knots.

Hypothesis draws the spline's settings (degree, knots, extrapolation, bias, missing values) and
query rows; the lean transform must give scikit-learn's values (within 1e-9 of the batch's
largest), refuse with a 400 ``out_of_range`` exactly the rows scikit-learn refuses, and a
pipeline around it must pass ``check_equivalence``.
"""

from __future__ import annotations

import functools
import json
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler

from sklambda.lean.compiler import LeanModel, LeanUnsupportedError, compile_estimator
from sklambda.lean.equivalence import check_equivalence
from sklambda.runtime import lean_predict
from sklambda.runtime.contract import RequestError
from sklambda.runtime.lean.transforms import chain

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
FEATURES = ["a", "b", "c"]
MODES = ("error", "constant", "linear", "continue", "periodic")
EXPLICIT_KNOTS = np.array([[-12.0, -3.0, 0.0], [0.0, 0.0, 1.0], [1.5, 3.0, 2.0], [12.0, 6.0, 4.0]])


@functools.cache
def training() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    n = 90
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n) * 3,
            "b": rng.uniform(-2, 5, size=n),
            "c": rng.integers(0, 5, size=n).astype(float),  # ties: quantile knots repeat
        }
    )
    y = X["a"].to_numpy() ** 2 / 4 + np.sin(X["b"].to_numpy()) + X["c"].to_numpy()
    return X, y


Settings = tuple[str, int, int, str, bool, bool]


@functools.cache
def fitted(setting: Settings) -> tuple[Pipeline, LeanModel] | None:
    """(pipeline, lean) for these settings; None when scikit-learn cannot fit them."""
    mode, degree, n_knots, knots, bias, zeros = setting
    X, y = training()
    if zeros:
        X = X.copy()
        X.loc[::7, "a"] = np.nan
    spline = SplineTransformer(
        n_knots=n_knots,
        degree=degree,
        knots=EXPLICIT_KNOTS if knots == "array" else knots,
        extrapolation=mode,
        include_bias=bias,
        **({"handle_missing": "zeros"} if zeros else {}),
    )
    pipe = Pipeline([("spline", spline), ("scale", StandardScaler()), ("model", Ridge())])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe.fit(X, y)
    except (ValueError, IndexError):  # e.g. periodic with degree >= n_knots, no columns left
        return None
    return pipe, compile_estimator(pipe, FEATURES)


def _handles_missing() -> bool:
    return "handle_missing" in SplineTransformer().get_params()


settings_strategy = st.tuples(
    st.sampled_from(MODES),
    st.integers(0, 3),
    st.integers(2, 7),
    st.sampled_from(["uniform", "quantile", "array"]),
    st.booleans(),
    st.booleans() if _handles_missing() else st.just(False),
)


def _value(low: float, high: float) -> st.SearchStrategy[float]:
    span = high - low
    return st.one_of(
        st.floats(low, high),
        st.floats(low - 10 * span, high + 10 * span),
        st.sampled_from([low, high, 0.0]),
    )


def _rows(missing: bool) -> st.SearchStrategy[list[list[Any]]]:
    a: st.SearchStrategy[float | None] = _value(-12.0, 12.0)
    if missing:
        a = st.one_of(a, st.none())
    row = st.tuples(a, _value(-3.0, 6.0), _value(0.0, 4.0)).map(list)
    return st.lists(row, min_size=1, max_size=5)


def _frame(batch: list[list[Any]]) -> pd.DataFrame:
    return pd.DataFrame(batch, columns=FEATURES, dtype=float)


def _sklearn_transform(spline: SplineTransformer, X: pd.DataFrame) -> np.ndarray | None:
    """scikit-learn's spline values, or None when it refuses the rows."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(spline.transform(X))
    except (ValueError, IndexError):
        return None


@PROPERTY
@given(setting=settings_strategy, data=st.data())
def test_spline_values_match_sklearn_inside_and_beyond_the_knots(
    setting: Settings, data: st.DataObject
) -> None:
    model = fitted(setting)
    if model is None:
        return
    pipe, lean = model
    batch = data.draw(_rows(missing=setting[5]))
    X = _frame(batch)
    spline = pipe.named_steps["spline"]
    expected = _sklearn_transform(spline, X)
    transform = chain(lean.spec["graph"]["transforms"][:1])  # the spline node alone
    if expected is None:  # scikit-learn refuses: so must the runtime, as a request error
        with pytest.raises(RequestError) as refused:
            _ = [transform(list(row)) for row in batch]
        assert refused.value.status == 400 and refused.value.code == "out_of_range"
        return
    got = np.array([transform(list(row)) for row in batch])
    assert got.shape == expected.shape
    scale = max(float(np.abs(expected).max()), 1.0)
    assert np.abs(got - expected).max() <= 1e-9 * scale
    report = check_equivalence(pipe, lean, X)
    assert report.ok, report.detail


@pytest.mark.parametrize("mode", MODES)
def test_each_extrapolation_matches_far_outside_the_training_range(mode: str) -> None:
    model = fitted((mode, 3, 5, "uniform", True, False))
    assert model is not None
    pipe, lean = model
    beyond = _frame([[-50.0, 40.0, -9.0], [33.0, -20.0, 17.0]])
    inside = training()[0].iloc[:20]
    assert check_equivalence(pipe, lean, inside).ok
    if mode == "error":
        predictor = lean.predictor()
        with pytest.raises(RequestError) as refused:
            predictor.predict([[0.0, 1.0, 2.0], [-50.0, 1.0, 2.0]])
        message = refused.value.message
        assert message.startswith('row 1: step "spline" (SplineTransformer')
        assert "-50.0" in message and "extrapolation='constant'" in message
        with pytest.raises(ValueError, match="beyond the limits of the knots"):
            pipe.predict(beyond)
        return
    report = check_equivalence(pipe, lean, beyond)
    assert report.ok, report.detail


def test_the_spline_round_trips_through_its_files_and_json(tmp_path: Any) -> None:
    model = fitted(("linear", 2, 6, "quantile", False, False))
    assert model is not None
    pipe, lean = model
    lean.write(tmp_path)
    spec = json.loads((tmp_path / "lean.json").read_text())
    assert [n["op"] for n in spec["graph"]["transforms"]] == ["spline", "standard_scaler"]
    X = _frame([[-30.0, 9.0, 1.0], [0.5, 0.5, 0.5], [30.0, -9.0, 9.0]])
    predictor = lean_predict.load(tmp_path)
    assert predictor.predict(X.to_numpy().tolist()) == pytest.approx(
        pipe.predict(X).tolist(), rel=1e-9, abs=1e-9
    )


def test_sparse_output_is_refused_naming_the_step_and_the_fix() -> None:
    X, y = training()
    pipe = Pipeline([("features", SplineTransformer(sparse_output=True)), ("model", Ridge())])
    pipe.fit(X, y)
    with pytest.raises(LeanUnsupportedError, match='step "features".*sparse_output=False'):
        compile_estimator(pipe, FEATURES)
