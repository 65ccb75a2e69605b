"""Unit tests of the lean compiler (sklambda.lean) and runtime (sklambda.runtime.lean_predict)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neighbors import RadiusNeighborsRegressor
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    SplineTransformer,
    StandardScaler,
)
from sklearn.tree import DecisionTreeClassifier

import sklambda.runtime.lean_predict as lean_predict
from sklambda.lean.compiler import (
    SUPPORTED,
    LeanModel,
    LeanUnsupportedError,
    check_equivalence,
    compile_estimator,
)

RUNTIME_DIR = Path(lean_predict.__file__).parent

pytestmark = pytest.mark.filterwarnings("ignore:Found unknown categories:UserWarning")


@pytest.fixture(scope="module")
def houses() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    n = 120
    X = pd.DataFrame(
        {
            "rooms": rng.integers(1, 8, size=n).astype(float),
            "age": rng.uniform(0, 80, size=n),
            "area": rng.normal(100, 30, size=n),
            "city": rng.choice(["oslo", "bergen", "tromso"], size=n).astype(object),
        }
    )
    X.loc[::10, "age"] = np.nan
    y = X["rooms"] * 20 + X["area"] - np.nan_to_num(X["age"].to_numpy()) / 4 + rng.normal(size=n)
    return X, y.to_numpy()


def far_rows(X: pd.DataFrame) -> pd.DataFrame:
    """The training rows plus copies pushed 10x beyond each numeric range."""
    far = X.copy()
    for column in X.columns:
        if X[column].dtype.kind == "f":
            low, high = X[column].min(), X[column].max()
            far[column] = np.where(np.arange(len(X)) % 2, high + 10 * (high - low), low * 10)
    return pd.concat([X, far], ignore_index=True)


def linear_pipeline(**ridge: Any) -> Pipeline:
    return Pipeline(
        [
            (
                "preprocess",
                ColumnTransformer(
                    [
                        (
                            "num",
                            Pipeline([("impute", SimpleImputer()), ("scaler", StandardScaler())]),
                            ["rooms", "age", "area"],
                        ),
                        ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"]),
                    ]
                ),
            ),
            ("model", Ridge(**ridge)),
        ]
    )


# ---------------------------------------------------------------- compile + equivalence


def test_linear_pipeline_is_pure_python_json(houses: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = houses
    pipe = linear_pipeline().fit(X, y)
    lean = compile_estimator(pipe, list(X.columns))
    assert lean.needs_numpy is False
    assert lean.arrays == {}
    assert lean.spec["format"] == 1
    assert lean.spec["features"] == ["rooms", "age", "area", "city"]
    assert lean.spec["task"] == "regression"
    assert lean.spec["classes"] is None
    # Strict JSON: no NaN/Infinity tokens, round-trips unchanged.
    assert json.loads(json.dumps(lean.spec, allow_nan=False)) == lean.spec
    report = check_equivalence(pipe, lean, far_rows(X))
    assert report.ok, report.detail
    assert report.rows == 2 * len(X)
    assert report.max_rel_error < 1e-12


def test_write_and_load_round_trip(houses: tuple[pd.DataFrame, np.ndarray], tmp_path: Path) -> None:
    X, y = houses
    pipe = linear_pipeline().fit(X, y)
    lean = compile_estimator(pipe, list(X.columns))
    written = lean.write(tmp_path / "bundle")
    assert [p.name for p in written] == ["lean.json"]
    assert not (tmp_path / "bundle" / "lean.npz").exists()
    report = check_equivalence(pipe, lean, X, directory=tmp_path / "bundle")
    assert report.ok, report.detail
    loaded = lean_predict.load(tmp_path / "bundle")
    row = [3.0, None, 120.0, "oslo"]
    assert loaded.predict([row]) == lean.predictor().predict([row])


def test_numpy_model_writes_npz_without_pickles(
    houses: tuple[pd.DataFrame, np.ndarray], tmp_path: Path
) -> None:
    X, y = houses
    pipe = Pipeline(
        [
            ("preprocess", linear_pipeline().steps[0][1]),
            ("model", RandomForestRegressor(n_estimators=5, random_state=0)),
        ]
    ).fit(X, y)
    lean = compile_estimator(pipe, list(X.columns), numpy=True)
    assert lean.needs_numpy is True
    written = lean.write(tmp_path)
    assert sorted(p.name for p in written) == ["lean.json", "lean.npz"]
    with np.load(tmp_path / "lean.npz", allow_pickle=False) as npz:
        assert set(npz.files) == set(lean.arrays)
        assert all(npz[name].dtype != object for name in npz.files)
    report = check_equivalence(pipe, lean, far_rows(X), directory=tmp_path)
    assert report.ok, report.detail


def test_predictions_are_plain_python_values(houses: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = houses
    for labels, expected_type in [
        (np.where(y > np.median(y), 1, 0), int),
        (y > np.median(y), bool),
        (np.where(y > np.median(y), "dear", "cheap"), str),
        (np.where(y > np.median(y), 1.0, 0.0), float),
    ]:
        pipe = Pipeline(
            [("preprocess", linear_pipeline().steps[0][1]), ("model", LogisticRegression())]
        ).fit(X, labels)
        predictor = compile_estimator(pipe, list(X.columns)).predictor()
        predictions = predictor.predict([[2.0, 10.0, 90.0, "oslo"], [7.0, 1.0, 200.0, "bergen"]])
        assert all(type(p) is expected_type for p in predictions)
        probabilities = predictor.predict_proba([[2.0, 10.0, 90.0, "oslo"]])
        assert all(type(p) is float for p in probabilities[0])
        json.dumps({"predictions": predictions, "probabilities": probabilities})


def test_multinomial_logistic_probabilities_sum_to_one(
    houses: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = houses
    labels = np.array(["a", "b", "c"])[np.digitize(y, np.quantile(y, [0.3, 0.7]))]
    pipe = Pipeline(
        [("preprocess", linear_pipeline().steps[0][1]), ("model", LogisticRegression())]
    ).fit(X, labels)
    lean = compile_estimator(pipe, list(X.columns))
    assert lean.spec["classes"] == ["a", "b", "c"]
    report = check_equivalence(pipe, lean, far_rows(X))
    assert report.ok, report.detail
    proba = lean.predictor().predict_proba([[4.0, 30.0, 100.0, "tromso"]])[0]
    assert sum(proba) == pytest.approx(1.0, abs=1e-12)


def test_multi_output_linear_regression() -> None:
    rng = np.random.default_rng(9)
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["p", "q", "r"])
    Y = np.column_stack([X["p"] * 2, X["q"] - X["r"]])
    pipe = Pipeline([("scale", StandardScaler()), ("model", LinearRegression())]).fit(X, Y)
    lean = compile_estimator(pipe, ["p", "q", "r"])
    out = lean.predictor().predict([[0.1, 0.2, 0.3]])
    assert len(out) == 1
    assert len(out[0]) == 2
    report = check_equivalence(pipe, lean, pd.concat([X, X * 10]))
    assert report.ok, report.detail


def test_column_transformer_by_index_drop_and_remainder() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 5)) * [1, 10, 100, 1, 5]
    y = X @ [1.0, -2.0, 0.5, 3.0, 0.1]
    ct = ColumnTransformer(
        [
            ("scaled", StandardScaler(), [0, 2]),
            ("kept", "passthrough", slice(3, 4)),
            ("gone", "drop", [1]),
        ],
        remainder=MinMaxScaler(clip=True),
    )
    pipe = Pipeline([("ct", ct), ("model", LinearRegression())]).fit(X, y)
    names = [f"x{i}" for i in range(5)]
    lean = compile_estimator(pipe, names)
    parts = lean.spec["graph"]["transforms"][0]["parts"]
    assert [p["columns"] for p in parts] == [[0, 2], [3], [4]]
    frame = pd.DataFrame(np.vstack([X, X * 10, -X * 10]), columns=names)
    report = check_equivalence(pipe, lean, frame)
    assert report.ok, report.detail


def test_remainder_passthrough_and_one_hot_drop_variants(
    houses: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = houses
    X = X.assign(age=X["age"].fillna(30.0), binary=np.where(X["rooms"] > 3, "big", "small"))
    for drop in ["first", "if_binary"]:
        ct = ColumnTransformer(
            [("cat", OneHotEncoder(drop=drop), ["city", "binary"])], remainder="passthrough"
        )
        pipe = Pipeline([("ct", ct), ("model", LinearRegression())]).fit(X, y)
        lean = compile_estimator(pipe, list(X.columns))
        report = check_equivalence(pipe, lean, far_rows(X))
        assert report.ok, (drop, report.detail)


def test_one_hot_numeric_and_given_categories(houses: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = houses
    encoder = OneHotEncoder(
        categories=[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], ["bergen", "oslo", "tromso", "paris"]],
        handle_unknown="infrequent_if_exist",
    )
    ct = ColumnTransformer([("cat", encoder, ["rooms", "city"])])
    pipe = Pipeline([("ct", ct), ("model", LinearRegression())]).fit(X, y)
    lean = compile_estimator(pipe, list(X.columns))
    query = pd.DataFrame(
        {"rooms": [1.0, 7.0, 99.0], "age": [1.0] * 3, "area": [1.0] * 3,
         "city": ["paris", "rome", "oslo"]}
    )  # fmt: skip
    report = check_equivalence(pipe, lean, query)
    assert report.ok, report.detail


def test_one_hot_error_on_unknown_raises_like_sklearn(
    houses: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = houses
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="error"), ["city"])])
    pipe = Pipeline([("ct", ct), ("model", LinearRegression())]).fit(X, y)
    predictor = compile_estimator(pipe, list(X.columns)).predictor()
    assert isinstance(predictor.predict([[1.0, 1.0, 1.0, "oslo"]])[0], float)
    with pytest.raises(ValueError, match="unknown categories"):
        pipe.predict(pd.DataFrame([[1.0, 1.0, 1.0, "rome"]], columns=X.columns))
    with pytest.raises(ValueError, match=r"unknown categories \['rome'\]"):
        predictor.predict([[1.0, 1.0, 1.0, "rome"]])


def test_missing_value_without_imputer_raises_like_sklearn() -> None:
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.0]})
    pipe = Pipeline([("scale", StandardScaler()), ("model", LinearRegression())])
    pipe.fit(X, [1.0, 2.0, 3.5])
    predictor = compile_estimator(pipe, ["a", "b"]).predictor()
    with pytest.raises(ValueError, match="NaN"):
        pipe.predict(pd.DataFrame({"a": [np.nan], "b": [1.0]}))
    with pytest.raises(ValueError, match="NaN"):
        predictor.predict([[None, 1.0]])


def test_imputer_missing_values_none_on_strings() -> None:
    X = pd.DataFrame({"c": pd.Series(["u", "v", None, "u", "w"], dtype=object)})
    y = [0, 1, 1, 0, 1]
    pipe = Pipeline(
        [
            ("impute", SimpleImputer(missing_values=None, strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
            ("model", LogisticRegression()),
        ]
    ).fit(X, y)
    lean = compile_estimator(pipe, ["c"])
    assert lean.spec["missing_as_none"] == ["c"]
    query = pd.DataFrame({"c": pd.Series([None, "w", "zzz"], dtype=object)})
    report = check_equivalence(pipe, lean, query)
    assert report.ok, report.detail
    assert lean.predictor().predict([[None]]) == pipe.predict(query.iloc[:1]).tolist()


def test_mlp_and_gradient_boosting_binary_labels(houses: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = houses
    labels = np.where(y > np.median(y), "yes", "no")
    for model in [
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=300, random_state=1),
        GradientBoostingClassifier(n_estimators=10, random_state=1),
        DecisionTreeClassifier(max_depth=4, random_state=1),
    ]:
        pipe = Pipeline([("preprocess", linear_pipeline().steps[0][1]), ("model", model)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe.fit(X, labels)
        # Networks need numpy; trees also have the stdlib form, which must agree as well.
        forms = [True] if isinstance(model, MLPClassifier) else [True, False]
        for numpy in forms:
            lean = compile_estimator(pipe, list(X.columns), numpy=numpy)
            assert lean.needs_numpy is numpy
            report = check_equivalence(pipe, lean, far_rows(X))
            assert report.ok, (type(model).__name__, numpy, report.detail)
            assert report.label_mismatches == 0


def test_tree_ensembles_are_bit_exact(houses: tuple[pd.DataFrame, np.ndarray]) -> None:
    # Same float32 splits and the same order of additions: not merely close, identical.
    X, y = houses
    numeric = far_rows(X[["rooms", "age", "area"]].fillna(0.0))
    few = X[["rooms", "age", "area"]].fillna(0.0).iloc[:12]
    labels = np.arange(12) % 3  # tiny noisy data: many tied votes
    forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(few, labels)
    lean = compile_estimator(forest, ["rooms", "age", "area"]).predictor()
    rows = numeric.to_numpy().tolist()
    assert lean.predict_proba(rows) == forest.predict_proba(numeric).tolist()
    assert lean.predict(rows) == forest.predict(numeric).tolist()
    boosting = GradientBoostingRegressor(n_estimators=40, random_state=0).fit(few, y[:12])
    lean = compile_estimator(boosting, ["rooms", "age", "area"]).predictor()
    assert lean.predict(rows) == boosting.predict(numeric).tolist()


# ---------------------------------------------------------------- check_equivalence is honest


def test_check_equivalence_detects_a_wrong_model(houses: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = houses
    pipe = linear_pipeline().fit(X, y)
    lean = compile_estimator(pipe, list(X.columns))
    spec = json.loads(json.dumps(lean.spec))
    spec["graph"]["model"]["intercept"][0] += 1e-6
    report = check_equivalence(pipe, LeanModel(spec=spec), X)
    assert not report.ok
    assert report.max_abs_error == pytest.approx(1e-6, rel=1e-3)
    assert "row 0" in report.detail


def test_check_equivalence_counts_label_mismatches(
    houses: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = houses
    labels = np.where(y > np.median(y), "yes", "no")
    pipe = Pipeline(
        [("preprocess", linear_pipeline().steps[0][1]), ("model", LogisticRegression())]
    ).fit(X, labels)
    lean = compile_estimator(pipe, list(X.columns))
    spec = json.loads(json.dumps(lean.spec))
    spec["classes"] = list(reversed(spec["classes"]))
    report = check_equivalence(pipe, LeanModel(spec=spec), X)
    assert not report.ok
    assert report.label_mismatches == len(X)


def test_check_equivalence_reports_runtime_failure(
    houses: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = houses
    pipe = linear_pipeline().fit(X, y)
    lean = compile_estimator(pipe, list(X.columns))
    spec = json.loads(json.dumps(lean.spec))
    spec["graph"]["model"]["coef"][0].pop()  # one coefficient short
    report = check_equivalence(pipe, LeanModel(spec=spec), X)
    assert not report.ok
    assert "lean runtime failed" in report.detail


# ---------------------------------------------------------------- unsupported estimators


@pytest.mark.parametrize(
    ("step", "path", "type_name"),
    [
        (
            GaussianProcessRegressor(),
            "model",
            "sklearn.gaussian_process.GaussianProcessRegressor",
        ),
        (
            RadiusNeighborsRegressor(radius=50.0),
            "model",
            "sklearn.neighbors.RadiusNeighborsRegressor",
        ),
    ],
)
def test_unsupported_model_names_step_and_type(
    houses: tuple[pd.DataFrame, np.ndarray], step: Any, path: str, type_name: str
) -> None:
    X, y = houses
    pipe = Pipeline([("preprocess", linear_pipeline().steps[0][1]), ("model", step)]).fit(X, y)
    with pytest.raises(LeanUnsupportedError) as info:
        compile_estimator(pipe, list(X.columns))
    assert info.value.step == path
    assert info.value.type_name == type_name
    assert f'step "{path}" ({type_name}) is not supported by the lean runtime' in str(info.value)
    assert "LinearRegression" in str(info.value)  # the message lists what is supported


@pytest.mark.parametrize(
    ("transformer", "type_name"),
    [
        (SplineTransformer(sparse_output=True), "sklearn.preprocessing.SplineTransformer"),
        (FunctionTransformer(np.sinc), "sklearn.preprocessing.FunctionTransformer"),
    ],
)
def test_unsupported_nested_transformer_names_its_path(
    houses: tuple[pd.DataFrame, np.ndarray], transformer: Any, type_name: str
) -> None:
    X, y = houses
    numeric = Pipeline([("impute", SimpleImputer()), ("poly", transformer)])
    pipe = Pipeline(
        [
            ("preprocess", ColumnTransformer([("num", numeric, ["rooms", "area"])])),
            ("model", LinearRegression()),
        ]
    ).fit(X, y)
    with pytest.raises(LeanUnsupportedError) as info:
        compile_estimator(pipe, list(X.columns))
    assert info.value.step == "preprocess/num/poly"
    assert info.value.type_name == type_name


def _with_rare_cities(X: pd.DataFrame) -> pd.DataFrame:
    rare = np.array(["narvik", "alta", "bodo", "oslo"], dtype=object)
    i = np.arange(len(X))
    return X.assign(city=np.where(i % 20 == 0, rare[(i // 20) % 4], X["city"]))  # 5 rare rows


@pytest.mark.parametrize("handle_unknown", ["infrequent_if_exist", "ignore", "error"])
def test_infrequent_categories_group_like_sklearn(
    houses: tuple[pd.DataFrame, np.ndarray], handle_unknown: str
) -> None:
    X, y = houses
    X = _with_rare_cities(X)
    encoder = OneHotEncoder(min_frequency=5, handle_unknown=handle_unknown, sparse_output=False)
    ct = ColumnTransformer([("cat", encoder, ["city", "rooms"])], remainder="passthrough")
    pipe = Pipeline([("ct", ct), ("model", LinearRegression())]).fit(X.fillna(0.0), y)
    assert pipe.named_steps["ct"].named_transformers_["cat"].infrequent_categories_[0] is not None
    lean = compile_estimator(pipe, list(X.columns))
    query = far_rows(X.fillna(0.0))
    cities = ["narvik", "alta", "oslo", "bergen", "rome", "tromso"] * len(query)
    query = query.assign(city=cities[: len(query)])
    if handle_unknown == "error":
        query = query[query["city"] != "rome"]
    query = query.assign(rooms=query["rooms"].round().clip(1, 7))
    report = check_equivalence(pipe, lean, query)
    assert report.ok, report.detail


def test_infrequent_categories_with_drop_are_refused_naming_the_step(
    houses: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = houses
    X = _with_rare_cities(X)
    ct = ColumnTransformer([("cat", OneHotEncoder(min_frequency=5, drop="first"), ["city"])])
    pipe = Pipeline([("ct", ct), ("model", LinearRegression())]).fit(X, y)
    with pytest.raises(LeanUnsupportedError, match="infrequent") as info:
        compile_estimator(pipe, list(X.columns))
    assert info.value.step == "ct/cat"


def test_bare_estimator_and_feature_name_checks(houses: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = houses
    numeric = X[["rooms", "area"]]
    model = LinearRegression().fit(numeric, y)
    lean = compile_estimator(model, ["rooms", "area"])
    assert check_equivalence(model, lean, numeric).ok
    with pytest.raises(ValueError, match="differ from the names"):
        compile_estimator(model, ["area", "rooms"])
    with pytest.raises(LeanUnsupportedError) as info:
        compile_estimator(GaussianProcessRegressor().fit(numeric, y), ["rooms", "area"])
    assert info.value.step == "estimator"
    assert info.value.type_name == "sklearn.gaussian_process.GaussianProcessRegressor"
    assert "GaussianProcessRegressor" not in SUPPORTED


# ---------------------------------------------------------------- runtime contract


def test_predictor_rejects_bad_input_and_format(houses: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = houses
    lean = compile_estimator(linear_pipeline().fit(X, y), list(X.columns))
    predictor = lean.predictor()
    assert predictor.features == ["rooms", "age", "area", "city"]
    assert predictor.predict([]) == []
    with pytest.raises(ValueError, match="row 0 has 3 values; the model expects 4"):
        predictor.predict([[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match="only available for classifiers"):
        predictor.predict_proba([[1.0, 2.0, 3.0, "oslo"]])
    with pytest.raises(ValueError, match="format 99 is not supported"):
        lean_predict.from_spec({**lean.spec, "format": 99}, {})


def _run_isolated(runtime_copy: Path, model_dir: Path, rows: list[list[Any]], *flags: str) -> Any:
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(runtime_copy)!r})
        from runtime import lean_predict
        predictor = lean_predict.load({str(model_dir)!r})
        out = predictor.predict(json.loads({json.dumps(rows)!r}))
        loaded = {{name: name in sys.modules for name in ("numpy", "sklearn", "sklambda")}}
        print(json.dumps({{"predictions": out, **loaded}}))
        """
    )
    result = subprocess.run(
        [sys.executable, *flags, "-c", script], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_linear_runtime_runs_standalone_without_numpy(
    houses: tuple[pd.DataFrame, np.ndarray], tmp_path: Path
) -> None:
    X, y = houses
    pipe = linear_pipeline().fit(X, y)
    lean = compile_estimator(pipe, list(X.columns))
    lean.write(tmp_path / "model")
    shutil.copytree(RUNTIME_DIR, tmp_path / "pkg" / "runtime")
    rows = [[3.0, None, 120.0, "oslo"], [1.0, 5.0, 80.0, "nowhere"]]
    # -I -S: no site-packages at all, so numpy could not be imported even if the code tried.
    out = _run_isolated(tmp_path / "pkg", tmp_path / "model", rows, "-I", "-S")
    assert out["numpy"] is False
    assert out["sklearn"] is False
    assert out["sklambda"] is False
    expected = pipe.predict(pd.DataFrame(rows, columns=X.columns).astype({"age": float}))
    assert out["predictions"] == pytest.approx(expected.tolist(), rel=1e-12)


def test_tree_runtime_standalone_imports_numpy_only(
    houses: tuple[pd.DataFrame, np.ndarray], tmp_path: Path
) -> None:
    X, y = houses
    pipe = Pipeline(
        [
            ("preprocess", linear_pipeline().steps[0][1]),
            ("model", RandomForestRegressor(n_estimators=4, random_state=0)),
        ]
    ).fit(X, y)
    compile_estimator(pipe, list(X.columns), numpy=True).write(tmp_path / "model")
    shutil.copytree(RUNTIME_DIR, tmp_path / "pkg" / "runtime")
    rows = [[3.0, None, 120.0, "oslo"]]
    out = _run_isolated(tmp_path / "pkg", tmp_path / "model", rows, "-I")
    assert out["numpy"] is True
    assert out["sklearn"] is False
    assert out["sklambda"] is False
    expected = pipe.predict(pd.DataFrame(rows, columns=X.columns).astype({"age": float}))
    assert out["predictions"] == expected.tolist()


def test_the_predictor_and_the_binary_module_name_the_same_file() -> None:
    # lean_predict names lean.bin without importing .lean.binary (a linear model needs neither).
    from sklambda.runtime import lean_predict
    from sklambda.runtime.lean import binary

    assert lean_predict.BINARY_FILE == binary.BINARY_FILE
