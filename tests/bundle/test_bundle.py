"""The bundle on disk: integrity, format versions, safe loading, atomic writes, save()."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sklambda
from sklambda.bundle.format import read_manifest, read_sample
from sklambda.errors import BundleError, UntrustedModelError
from tests.support.bundles import reseal


@pytest.fixture
def bundle_copy(diabetes_bundle: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(diabetes_bundle, tmp_path / "copy"))


def test_manifest_records_the_contract(diabetes_bundle: Path) -> None:
    manifest = read_manifest(diabetes_bundle)
    assert manifest["format_version"] == 1
    assert manifest["task"] == "regression"
    assert [f["name"] for f in manifest["features"]] == [
        "age",
        "sex",
        "bmi",
        "bp",
        "s1",
        "s2",
        "s3",
        "s4",
        "s5",
        "s6",
    ]
    age = manifest["features"][0]
    assert (age["type"], age["min"], age["max"]) == ("number", 19.0, 79.0)
    assert manifest["target"] == {"name": "progression", "dtype": "float64"}
    assert set(manifest["versions"]) >= {"python", "sklearn", "numpy", "scipy", "sklambda"}
    assert set(manifest["files"]) == {"model.skops", "sample.json"}
    assert manifest["model"] == {"file": "model.skops", "format": "skops"}
    assert manifest["training"]["source"] == {"url": "diabetes.db", "table": "patients"}
    assert manifest["created_at"].endswith("+00:00")


def test_edited_model_file_is_refused(bundle_copy: Path) -> None:
    with (bundle_copy / "model.skops").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BundleError, match="model.skops does not match its sha256"):
        sklambda.load(bundle_copy)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda m: m["classes"].reverse(), id="classes-reversed"),
        pytest.param(lambda m: m["features"][0].update(max=1e9), id="range-widened"),
        pytest.param(lambda m: m.update(trusted_types=["posix.system"]), id="trust-added"),
        pytest.param(lambda m: m.pop("seal"), id="seal-removed"),
    ],
)
def test_an_edited_manifest_is_refused(
    houses_classifier: Path, tmp_path: Path, edit: object
) -> None:
    copy = Path(shutil.copytree(houses_classifier, tmp_path / "copy"))
    sklambda.load(copy)  # as written: accepted
    manifest = json.loads((copy / "manifest.json").read_text())
    assert manifest["classes"] is not None and len(set(manifest["classes"])) > 1
    edit(manifest)  # type: ignore[operator]
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2))
    with pytest.raises(BundleError, match=r"manifest\.json .*(seal).*re-?(train|save)") as caught:
        sklambda.load(copy)
    assert "\n" not in str(caught.value)


def test_the_seal_covers_every_file_through_the_manifest(diabetes_bundle: Path) -> None:
    from sklambda.bundle.format import manifest_digest

    manifest = read_manifest(diabetes_bundle)
    assert manifest["seal"]["sha256"] == manifest_digest(manifest)
    assert set(manifest["files"]) == {"model.skops", "sample.json"}
    changed = {**manifest, "files": {**manifest["files"], "sample.json": "0" * 64}}
    assert manifest_digest(changed) != manifest["seal"]["sha256"]


def test_missing_file_is_refused(bundle_copy: Path) -> None:
    (bundle_copy / "sample.json").unlink()
    with pytest.raises(BundleError, match="sample.json is missing"):
        sklambda.load(bundle_copy)


def test_bundle_from_a_newer_sklambda_is_refused(bundle_copy: Path) -> None:
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    manifest["format_version"] = 99
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="newer sklambda.*format 99.*upgrade sklambda"):
        sklambda.load(bundle_copy)


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="bundle not found"):
        sklambda.load(tmp_path / "nothing")
    with pytest.raises(BundleError, match="no manifest.json"):
        sklambda.load(tmp_path)


def _save_custom(tmp_path: Path, func: object) -> tuple[Path, object]:
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    X = pd.DataFrame({"a": np.linspace(1, 5, 20), "b": np.linspace(2, 3, 20)})
    est = Pipeline([("f", FunctionTransformer(func)), ("m", LinearRegression())])
    est.fit(X, X["a"] * 2 + X["b"])
    sklambda.save(est, tmp_path / "custom", X_sample=X)
    return tmp_path / "custom", est


def double(X: object) -> object:
    """A user's own function: code sklambda cannot vouch for."""
    return X * 2  # type: ignore[operator]


def test_numpy_ufuncs_in_a_model_need_no_trust(tmp_path: Path) -> None:
    path, est = _save_custom(tmp_path, np.log1p)
    model = sklambda.load(path)
    row = pd.DataFrame({"a": [1.0], "b": [2.0]})
    assert model.predict([[1.0, 2.0]]) == list(est.predict(row))
    assert read_manifest(path)["trusted_types"] == []


def test_functions_inside_a_model_are_refused_before_writing_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKLAMBDA_CACHE_DIR", str(tmp_path / "cache"))
    name = f"{__name__}.double"
    with pytest.raises(UntrustedModelError, match=r"trust: " + name.replace(".", r"\.")) as caught:
        _save_custom(tmp_path, double)
    assert f"trusted_types=[{name!r}]" in str(caught.value)
    assert caught.value.for_cli().endswith(f"--trust-type {name}")
    assert not (tmp_path / "custom").exists()  # nothing written
    assert {p.name for p in tmp_path.iterdir()} <= {"cache"}  # no staging directory left


def _save_trusting(tmp_path: Path, func: object, name: str) -> tuple[Path, object]:
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    X = pd.DataFrame({"a": np.linspace(1, 5, 20), "b": np.linspace(2, 3, 20)})
    est = Pipeline([("f", FunctionTransformer(func)), ("m", LinearRegression())])
    est.fit(X, X["a"] * 2 + X["b"])
    sklambda.save(est, tmp_path / "custom", X_sample=X, trusted_types=[name])
    return tmp_path / "custom", est


def test_trust_given_at_save_is_recorded_sealed_and_honoured_on_this_machine_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKLAMBDA_CACHE_DIR", str(tmp_path / "here"))
    name = f"{__name__}.double"
    path, est = _save_trusting(tmp_path, double, name)
    assert read_manifest(path)["trusted_types"] == [name]
    row = pd.DataFrame({"a": [1.0], "b": [2.0]})
    assert sklambda.load(path).predict([[1.0, 2.0]]) == list(est.predict(row))
    # On another machine (another key) the recorded trust is not enough: the user vouches.
    monkeypatch.setenv("SKLAMBDA_CACHE_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(UntrustedModelError, match="does not trust: " + name.replace(".", r"\.")):
        sklambda.load(path)
    with pytest.raises(UntrustedModelError, match="records them as trusted when saved, but not"):
        sklambda.load(path)
    assert sklambda.load(path, trusted_types=[name]).predict([[1.0, 2.0]]) == list(est.predict(row))


def test_the_types_written_in_the_bundle_are_never_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bundle cannot grant itself trust: a forged trusted_types list, even resealed."""
    import copy

    monkeypatch.setenv("SKLAMBDA_CACHE_DIR", str(tmp_path / "attacker"))
    path, _ = _save_trusting(tmp_path, copy.copy, "copy.copy")
    monkeypatch.setenv("SKLAMBDA_CACHE_DIR", str(tmp_path / "victim"))
    with pytest.raises(UntrustedModelError, match=r"copy\.copy"):
        sklambda.load(path)
    # The same list added to a bundle's manifest by hand: the seal no longer matches.
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["trusted_types"] = ["copy.copy", "posix.system"]
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="manifest.json does not match its seal"):
        sklambda.load(path)


def test_joblib_bundle_needs_trust(houses_db: Path, tmp_path: Path) -> None:
    sklambda.train(
        str(houses_db),
        table="houses",
        target="price",
        features=["rooms", "area"],
        format="joblib",
        out=tmp_path / "j",
    )
    assert (tmp_path / "j" / "model.joblib").is_file()
    with pytest.raises(UntrustedModelError, match="model.joblib is a pickle.*trust_pickle=True"):
        sklambda.load(tmp_path / "j")
    model = sklambda.load(tmp_path / "j", trust_pickle=True)
    assert len(model.predict([[3, 80.0]])) == 1


def test_failed_write_leaves_the_old_bundle_intact(bundle_copy: Path) -> None:
    before = {p.name: p.read_bytes() for p in bundle_copy.iterdir()}
    frame = pd.DataFrame({"x": range(20), "y": range(20)})
    with pytest.raises(BundleError):
        sklambda.train(frame=frame, target="y", out=bundle_copy, name="bad name!")
    assert {p.name: p.read_bytes() for p in bundle_copy.iterdir()} == before
    assert [p.name for p in bundle_copy.parent.iterdir()] == ["copy"]  # no staging left behind


def test_rewriting_a_bundle_replaces_it(bundle_copy: Path) -> None:
    frame = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) * 3})
    result = sklambda.train(frame=frame, target="y", out=bundle_copy, name="tiny")
    assert read_manifest(bundle_copy)["name"] == "tiny"
    assert result.manifest["features"][0]["name"] == "x"


def test_refuses_to_overwrite_a_directory_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("years of work")
    frame = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0)})
    with pytest.raises(BundleError, match="is not a sklambda bundle"):
        sklambda.train(frame=frame, target="y", out=tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "years of work"


def test_save_any_fitted_estimator_with_a_frame(houses_frame: pd.DataFrame, tmp_path: Path) -> None:
    from sklearn.ensemble import RandomForestClassifier

    X = houses_frame[["rooms", "area"]]
    est = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, houses_frame["band"])
    manifest = sklambda.save(est, tmp_path / "rf", X_sample=X, name="bands")
    assert manifest["task"] == "classification"
    assert manifest["classes"] == ["high", "low"]
    assert manifest["sample"]["synthetic"] is False
    model = sklambda.load(tmp_path / "rf")
    assert model.predict(X.head(7)) == list(est.predict(X.head(7)))


def test_save_with_feature_names_uses_synthetic_sample(tmp_path: Path) -> None:
    from sklearn.linear_model import Ridge

    est = Ridge().fit(np.random.default_rng(0).random((30, 3)), np.arange(30.0))
    manifest = sklambda.save(est, tmp_path / "r", X_sample=["a", "b", "c"])
    assert manifest["sample"]["synthetic"] is True
    model = sklambda.load(tmp_path / "r")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.predict([{"a": 1, "b": 2, "c": 3}]) == pytest.approx(
            est.predict(np.array([[1.0, 2.0, 3.0]]))
        )


def test_save_refuses_unfitted_and_mismatched(tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    with pytest.raises(BundleError, match="not fitted yet; call fit"):
        sklambda.save(LinearRegression(), tmp_path / "u", X_sample=["a"])
    est = LinearRegression().fit(np.ones((5, 2)), np.arange(5.0))
    with pytest.raises(BundleError, match="expects 2 features but 3"):
        sklambda.save(est, tmp_path / "m", X_sample=["a", "b", "c"])


def test_version_skew_warns_when_loading(bundle_copy: Path) -> None:
    reseal(bundle_copy, lambda m: m["versions"].update(sklearn="0.24.2"))  # trained elsewhere
    with pytest.warns(sklambda.SklambdaVersionWarning, match="sklearn 0.24.2"):
        sklambda.load(bundle_copy)


def test_same_model_same_version_regardless_of_save_time(
    houses_frame: pd.DataFrame, tmp_path: Path
) -> None:
    from sklearn.linear_model import Ridge

    X = houses_frame[["rooms", "area"]]
    est = Ridge().fit(X, houses_frame["price"])
    a = sklambda.save(est, tmp_path / "a", X_sample=X)
    b = sklambda.save(est, tmp_path / "b", X_sample=X)
    c = sklambda.save(Ridge(alpha=3).fit(X, houses_frame["price"]), tmp_path / "c", X_sample=X)
    assert a["version"] == b["version"] != c["version"]


def test_no_sample_data_stores_synthetic_rows_only(
    houses_db: Path, houses_frame: pd.DataFrame, tmp_path: Path
) -> None:
    result = sklambda.train(
        str(houses_db),
        table="houses",
        target="price",
        features=["rooms", "area", "district"],
        sample_data=False,
        out=tmp_path / "private",
    )
    sample = read_sample(tmp_path / "private")
    assert result.manifest["sample"]["synthetic"] is True and sample["synthetic"] is True
    real = {tuple(r) for r in houses_frame[["rooms", "area", "district"]].itertuples(index=False)}
    rows = [(r["rooms"], r["area"], r["district"]) for r in sample["rows"]]
    assert not real.intersection(rows)  # no training row was stored
    for rooms, area, district in rows:  # but every row is inside the recorded ranges
        assert 1 <= rooms <= 6 and houses_frame["area"].min() <= area <= houses_frame["area"].max()
        assert district in {"centre", "north", "south"}
    assert sklambda.load(tmp_path / "private").predict(sample["rows"]) == sample["predictions"]


def test_model_predict_takes_arrays_frames_dicts_and_lists(houses_classifier: Path) -> None:
    model = sklambda.load(houses_classifier)
    rows = [
        {"rooms": 3.0, "area": 80.0, "age": None, "district": "north"},
        {"rooms": 6.0, "area": 150.0, "age": 2.0, "district": "centre"},
    ]
    names = [f["name"] for f in model.features]
    expected = model.predict(rows)
    frame = pd.DataFrame(rows)
    frame["id"] = [7, 8]  # a column the model does not use
    as_array = np.array([[r[n] for n in names] for r in rows], dtype=object)
    assert model.predict(frame) == expected
    assert model.predict(as_array) == expected
    assert model.predict([[r[n] for n in names] for r in rows]) == expected
    assert model.predict([tuple(r[n] for n in names) for r in rows]) == expected
    assert model.predict({n: [r[n] for r in rows] for n in names}) == expected  # columns
    assert model.predict(rows[1]) == expected[1:]  # one row by name
    assert model.predict(frame.iloc[1]) == expected[1:]  # a Series: one row
    np.testing.assert_allclose(model.predict_proba(frame), model.predict_proba(rows))


def test_model_predict_takes_a_float_array_with_nan_as_missing(diabetes_bundle: Path) -> None:
    model = sklambda.load(diabetes_bundle)
    X = np.array([[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]] * 3, dtype=np.float64)
    got = model.predict(X)
    assert got == pytest.approx(
        model.estimator.predict(pd.DataFrame(X, columns=model.estimator.feature_names_in_)).tolist()
    )
    assert all(isinstance(p, float) for p in got)
    assert model.predict(X.astype(np.int64)) == pytest.approx(model.predict(np.trunc(X)))
    from sklambda.runtime.contract import RequestError

    with pytest.raises(RequestError, match="2-D array"):
        model.predict(X[0])
    X[1, 2] = np.nan  # bmi had no missing values in training
    with pytest.raises(RequestError, match=r"instances\[1\]\[2\]"):
        model.predict(X)
