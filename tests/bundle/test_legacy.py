"""The tutorial's two pickles (scaler.pkl + model.sav) become a bundle that predicts the same."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

import sklambda
from sklambda.errors import BundleError, UntrustedModelError

FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


@pytest.fixture(scope="module")
def tutorial(diabetes_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Exactly what the tutorial does: pandas from SQLite, fit, pickle two files."""
    import sqlite3

    import pandas as pd
    from sklearn.linear_model import LinearRegression
    from sklearn.preprocessing import StandardScaler

    with sqlite3.connect(diabetes_db) as conn:
        df = pd.read_sql("SELECT * FROM patients", conn)
    X, y = df[FEATURES], df["progression"]
    scaler = StandardScaler().fit(X)
    model = LinearRegression().fit(scaler.transform(X), y)
    folder = tmp_path_factory.mktemp("tutorial")
    with open(folder / "scaler.pkl", "wb") as f:
        pickle.dump(scaler, f)
    with open(folder / "model.sav", "wb") as f:
        pickle.dump(model, f)
    rows = np.array(
        [
            [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87],
            [48, 1, 21.6, 87, 183, 103.2, 70, 3, 3.8918, 69],
        ]
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = model.predict(scaler.transform(rows))  # the tutorial's own prediction code
    assert any("feature names" in str(w.message) for w in caught)  # the warning users get
    return {"folder": folder, "rows": rows, "expected": expected}


def test_import_predicts_exactly_what_the_tutorial_predicts(tutorial: dict, tmp_path: Path) -> None:
    folder = tutorial["folder"]
    manifest = sklambda.import_legacy(
        folder / "model.sav",
        scaler=folder / "scaler.pkl",
        features=FEATURES,
        out=tmp_path / "imported",
        trust_pickle=True,
    )
    assert manifest["model"]["format"] == "skops"  # no pickle needed from now on
    assert manifest["sample"]["synthetic"] is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name warning, no warning at all
        model = sklambda.load(tmp_path / "imported")
        got = model.predict(tutorial["rows"].tolist())
        by_name = model.predict([dict(zip(FEATURES, r, strict=True)) for r in tutorial["rows"]])
    assert got == list(tutorial["expected"])
    assert by_name == got


def test_feature_names_come_from_the_scaler_when_omitted(tutorial: dict, tmp_path: Path) -> None:
    folder = tutorial["folder"]
    manifest = sklambda.import_legacy(
        folder / "model.sav", scaler=folder / "scaler.pkl", out=tmp_path / "i", trust_pickle=True
    )
    assert [f["name"] for f in manifest["features"]] == FEATURES


def test_pickles_are_not_loaded_without_trust(tutorial: dict, tmp_path: Path) -> None:
    folder = tutorial["folder"]
    with pytest.raises(
        UntrustedModelError, match="model.sav is a pickle: loading it runs any code"
    ):
        sklambda.import_legacy(
            folder / "model.sav",
            scaler=folder / "scaler.pkl",
            features=FEATURES,
            out=tmp_path / "i",
        )
    assert not (tmp_path / "i").exists()


def test_untrusted_pickle_code_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):  # what a malicious model file does
            return (Path.touch, (marker,))

    (tmp_path / "evil.sav").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(UntrustedModelError):
        sklambda.import_legacy(tmp_path / "evil.sav", features=["a"], out=tmp_path / "o")
    assert not marker.exists()


def test_wrong_feature_names_or_count(tutorial: dict, tmp_path: Path) -> None:
    folder = tutorial["folder"]
    with pytest.raises(BundleError, match="does not match the names the model was fitted with"):
        sklambda.import_legacy(
            folder / "model.sav",
            scaler=folder / "scaler.pkl",
            features=[f"x{i}" for i in range(10)],
            out=tmp_path / "a",
            trust_pickle=True,
        )
    with pytest.raises(BundleError, match="takes 10 features but --features names 2"):
        sklambda.import_legacy(
            folder / "model.sav", features=["a", "b"], out=tmp_path / "b", trust_pickle=True
        )


def test_model_fitted_on_arrays_gets_arrays(tmp_path: Path) -> None:
    """A bare-array model (no names) still predicts without warnings, in --features order."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.random((60, 3))
    y = (X[:, 0] > 0.5).astype(int)
    clf = LogisticRegression().fit(X, y)
    (tmp_path / "clf.sav").write_bytes(pickle.dumps(clf))
    manifest = sklambda.import_legacy(
        tmp_path / "clf.sav", features=["a", "b", "c"], out=tmp_path / "b", trust_pickle=True
    )
    assert manifest["task"] == "classification"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = sklambda.load(tmp_path / "b")
        assert model.predict(X[:5].tolist()) == clf.predict(X[:5]).tolist()
        np.testing.assert_allclose(model.predict_proba(X[:5].tolist()), clf.predict_proba(X[:5]))


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="file not found: .*nope.sav"):
        sklambda.import_legacy(
            tmp_path / "nope.sav", features=["a"], out=tmp_path / "o", trust_pickle=True
        )
