"""XGBoost's and LightGBM's scikit-learn models save as skops files that load with no extra
trust: the types in those files are exactly the ones sklambda vouches for (the estimators, the
boosters whose ``__setstate__`` hands stored bytes to the library's parser, plain containers).
What such a model holds that is code (a custom objective) is still refused.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklambda.bundle import persistence
from sklambda.errors import UntrustedModelError

MODELS = {
    "XGBClassifier": lambda: xgb.XGBClassifier(n_estimators=3),
    "XGBRegressor": lambda: xgb.XGBRegressor(n_estimators=3),
    "XGBRFClassifier": lambda: xgb.XGBRFClassifier(n_estimators=3),
    "XGBRFRegressor": lambda: xgb.XGBRFRegressor(n_estimators=3),
    "LGBMClassifier": lambda: lgb.LGBMClassifier(n_estimators=3, verbose=-1),
    "LGBMRegressor": lambda: lgb.LGBMRegressor(n_estimators=3, verbose=-1),
}
# Besides scikit-learn's own and numpy's: what each library's files contain.
BOOSTER_TYPES = {
    "xgboost": {"xgboost.core.Booster"},  # and builtins.bytearray, its serialised bytes
    "lightgbm": {"collections.OrderedDict", "collections.defaultdict", "lightgbm.basic.Booster"},
}


def _fitted(name: str) -> tuple[Any, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y: Any = X[:, 0] + X[:, 1]
    if "Classifier" in name:
        y = np.digitize(y, [-0.5, 0.5])  # three classes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(StandardScaler(), MODELS[name]()).fit(X, y)
    return model, X


@pytest.mark.parametrize("name", sorted(MODELS))
def test_booster_models_save_and_load_without_trust(name: str, tmp_path: Path) -> None:
    import skops.io

    model, X = _fitted(name)
    path = tmp_path / "model.skops"
    assert persistence.dump(model, path, "skops") == []  # nothing needed the caller's trust
    library = "xgboost" if name.startswith("XGB") else "lightgbm"
    types = persistence.skops_types(path)
    foreign = {t for t in types if not t.startswith(("sklearn.", "numpy.", "builtins."))}
    assert foreign == BOOSTER_TYPES[library] | {f"{library}.sklearn.{name}"}
    assert ("builtins.bytearray" in types) == (library == "xgboost")
    assert set(skops.io.get_untrusted_types(file=path)) <= types  # the schema walk saw them all
    loaded = persistence.load(path, "skops")
    assert np.array_equal(loaded.predict(X), model.predict(X))
    if hasattr(model, "predict_proba"):
        assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))


def _objective(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return y_pred - y_true, np.ones_like(y_pred)


@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
def test_a_custom_objective_is_code_and_is_refused(library: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 2)), rng.normal(size=60)
    if library == "xgboost":
        model: Any = xgb.XGBRegressor(n_estimators=2, objective=_objective)
    else:
        model = lgb.LGBMRegressor(n_estimators=2, objective=_objective, verbose=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    with pytest.raises(UntrustedModelError, match="_objective"):
        persistence.dump(model, tmp_path / "model.skops", "skops")
    assert not (tmp_path / "model.skops").exists()


def test_a_defaultdict_s_factory_is_checked_like_any_other_type(tmp_path: Path) -> None:
    import collections
    import os

    from sklearn.dummy import DummyRegressor

    model = DummyRegressor().fit(np.zeros((3, 1)), np.zeros(3))
    model.extra_ = collections.defaultdict(os.getcwd)  # a factory that is code
    with pytest.raises(UntrustedModelError, match="getcwd"):
        persistence.dump(model, tmp_path / "model.skops", "skops")
