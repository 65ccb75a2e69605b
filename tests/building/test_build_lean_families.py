"""The lean families beyond the core, built for real: trained, packaged, proven in the emulator.

Also the two lean forms of a tree model: the build measures both and keeps one, and the
stdlib form it keeps predicts the numpy form's bits.
"""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sklambda
from sklambda.building import build
from sklambda.bundle.format import read_sample
from sklambda.lean.compiler import compile_estimator
from sklambda.runtime import lean_predict
from tests.support.events import ask_every_event_kind

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("estimator", "task"),
    [
        ("hist-gradient-boosting", "classification"),
        ("knn", "regression"),
    ],
)
def test_new_estimators_train_build_lean_without_a_layer_and_answer(
    estimator: str, task: str, houses_db: Path, tmp_path: Path
) -> None:
    target = "band" if task == "classification" else "price"
    sklambda.train(
        str(houses_db),
        table="houses",
        target=target,
        task=task,
        features=["rooms", "area", "age", "district"],
        estimator=estimator,
        out=tmp_path / "bundle",
    )
    result = build(tmp_path / "bundle", tmp_path / "dist")  # runtime auto
    assert result.report["runtime"] == "lean"
    assert result.report["verification"]["ok"]
    assert not (tmp_path / "dist" / "layer.zip").exists()
    model = sklambda.load(tmp_path / "bundle")
    rows = read_sample(tmp_path / "bundle")["rows"]
    answers = ask_every_event_kind(tmp_path / "dist", rows, proba=task == "classification")
    expected = model.predict(rows)
    if task == "classification":
        assert answers["url"].get("predictions") == expected
        got = [[p[str(c)] for c in model.classes] for p in answers["url"]["probabilities"]]
        for g, e in zip(got, model.predict_proba(rows), strict=True):
            assert g == pytest.approx(e, abs=1e-9)
    else:
        assert answers["url"].get("predictions") == pytest.approx(expected, rel=1e-9)


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.uniform(size=n),
            "city": rng.choice(["oslo", "rome", "lima"], n).astype(object),
        }
    )


def test_hist_gradient_boosting_with_a_categorical_column_builds_lean_on_auto(
    tmp_path: Path,
) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    X = _frame(300, 0)
    X.loc[::9, "a"] = np.nan
    y = np.where(X["a"].fillna(0) + (X["city"] == "oslo") > 0.5, "yes", "no")
    encode = ColumnTransformer(
        [
            (
                "city",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan),
                ["city"],
            )
        ],
        remainder="passthrough",
    )
    model = Pipeline(
        [("encode", encode), ("model", HistGradientBoostingClassifier(categorical_features=[0]))]
    ).fit(X, y)
    # joblib: the skops allowlist on main does not yet trust HistGradientBoosting's internal
    # check_array partial (h4-integrity widens it); the lean path is what this test is about.
    sklambda.save(model, tmp_path / "b", X_sample=X, name="hgb", format="joblib")
    report = build(tmp_path / "b", tmp_path / "dist", trust_pickle=True).report
    assert report["runtime"] == "lean"
    assert report["verification"]["ok"] and report["verification"]["label_mismatches"] == 0
    assert report["layer_packages"] == {}


def test_a_100_tree_forest_builds_without_a_layer_by_measurement_and_matches_numpy_bits(
    tmp_path: Path,
) -> None:
    from sklearn.ensemble import RandomForestClassifier

    X = _frame(300, 1)[["a", "b"]]
    y = np.where(X["a"] + X["b"] > 0.6, "yes", "no")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        forest = RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0).fit(X, y)
    sklambda.save(forest, tmp_path / "b", X_sample=X, name="forest")
    report = build(tmp_path / "b", tmp_path / "dist").report
    assert report["runtime"] == "lean" and report["layer_packages"] == {}
    assert not (tmp_path / "dist" / "layer.zip").exists()
    form = report["lean_form"]
    assert form["chosen"] == "python" and form["batch_rows"] == 1
    for name in ("python", "numpy"):  # both measured, both recorded
        assert form[name]["cold_start_ms"] > 0 and form[name]["warm_ms"] > 0
    with zipfile.ZipFile(tmp_path / "dist" / "function.zip") as zf:
        zf.extractall(tmp_path / "task")
    spec = json.loads((tmp_path / "task" / "model" / "lean.json").read_text())
    assert spec["needs_numpy"] is False and (tmp_path / "task" / "model" / "lean.bin").is_file()
    packaged = lean_predict.load(tmp_path / "task" / "model")
    numpy_form = compile_estimator(forest, ["a", "b"], numpy=True).predictor()
    query = _frame(200, 2)[["a", "b"]].to_numpy() * 3
    rows = [*query.tolist(), [None, 0.5], [0.1, None]]
    assert packaged.predict(rows) == numpy_form.predict(rows)
    assert packaged.predict_proba(rows) == numpy_form.predict_proba(rows)
    assert packaged.predict(rows[:200]) == forest.predict(query).tolist()


def test_a_spline_model_ships_its_module_alone_and_refuses_beyond_its_knots_with_a_400(
    tmp_path: Path,
) -> None:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import SplineTransformer

    from sklambda.local import LocalFunction
    from sklambda.local.url_events import post_event, result_to_response

    X = _frame(120, 3)[["a", "b"]]  # b spans [0, 1]: probes near it go beyond its knots
    y = np.sin(3 * X["a"]) + X["b"] ** 2
    model = Pipeline(
        [("spline", SplineTransformer(n_knots=6, extrapolation="error")), ("model", Ridge())]
    ).fit(X, y)
    sklambda.save(model, tmp_path / "b", X_sample=X, name="spline")
    report = build(tmp_path / "b", tmp_path / "dist").report
    assert report["runtime"] == "lean" and report["verification"]["ok"]
    with zipfile.ZipFile(tmp_path / "dist" / "function.zip") as zf:
        names = zf.namelist()
    assert "sklambda/runtime/lean/splines.py" in names
    assert not any(n.endswith("/transforms_more.py") for n in names)
    inside = {"a": float(X["a"].iloc[0]), "b": 0.5}
    bodies = [{"instances": [inside]}, {"instances": [inside, {"a": 0.0, "b": 7.5}]}]
    with LocalFunction(tmp_path / "dist", concurrency=1) as function:
        good, bad = (
            result_to_response(function.invoke(post_event(json.dumps(b).encode())).raw)
            for b in bodies
        )
    assert good.status == 200
    assert json.loads(good.body)["predictions"] == pytest.approx(
        model.predict(pd.DataFrame([inside])).tolist(), rel=1e-9
    )
    error = json.loads(bad.body)["error"]
    assert bad.status == 400 and error["code"] == "out_of_range"
    assert error["message"].startswith('row 1: step "spline"') and "7.5" in error["message"]
