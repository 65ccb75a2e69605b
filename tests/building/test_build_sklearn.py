"""The scikit-learn runtime: pinned versions for the target, proven slimming, verified layers."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

import sklambda
from sklambda.building import BuildError, build
from sklambda.building.forms import LEAN_ONLY_LIBRARIES
from sklambda.bundle.format import library_versions, read_sample
from sklambda.training import ESTIMATORS
from tests.support.bundles import reseal
from tests.support.events import ask_every_event_kind

pytestmark = pytest.mark.slow
FEATURES = ["rooms", "area", "age", "district"]


# XGBoost and LightGBM have the lean form only: their refusal of --runtime sklearn is tested in
# tests/building/test_build_boosters.py.
SKLEARN_RUNTIME_ESTIMATORS = [e for e in ESTIMATORS if e not in LEAN_ONLY_LIBRARIES]


def test_only_the_booster_libraries_are_left_out_of_the_sklearn_runtime() -> None:
    assert set(ESTIMATORS) - set(SKLEARN_RUNTIME_ESTIMATORS) == {"xgboost", "lightgbm"}


@pytest.mark.parametrize("estimator", SKLEARN_RUNTIME_ESTIMATORS)
def test_every_estimator_builds_with_the_sklearn_runtime(
    estimator: str, houses_db: Path, tmp_path: Path
) -> None:
    task = "regression" if estimator in {"lasso", "elastic-net"} else "classification"
    target = "price" if task == "regression" else "band"
    sklambda.train(
        str(houses_db),
        table="houses",
        target=target,
        task=task,
        features=FEATURES,
        estimator=estimator,
        out=tmp_path / "bundle",
    )
    report = build(tmp_path / "bundle", tmp_path / "dist", runtime="sklearn", python="3.12").report
    assert report["runtime"] == "sklearn" and report["verification"]["ok"]
    assert report["layer_packages"]["scikit-learn"] == library_versions()["sklearn"]
    model = sklambda.load(tmp_path / "bundle")
    rows = read_sample(tmp_path / "bundle")["rows"]
    proba = bool(model.manifest["probabilities"])  # RidgeClassifier has no predict_proba
    answers = ask_every_event_kind(tmp_path / "dist", rows, proba=proba)
    assert answers["warm"]["warm"] is True
    for kind in ("url", "rest", "direct"):
        got = answers[kind]["predictions"]
        if task == "classification":
            assert got == model.predict(rows)
        else:
            assert got == pytest.approx(model.predict(rows), rel=1e-9)


@pytest.fixture(scope="module")
def gaussian_process(houses_frame: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Gaussian process classifier behind a scaler and an encoder: a model the lean runtime
    does not serve (every `train --estimator` has a lean form), so auto falls back."""
    from sklearn.compose import ColumnTransformer
    from sklearn.gaussian_process import GaussianProcessClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    out = tmp_path_factory.mktemp("b") / "gp"
    X = houses_frame[["rooms", "area", "district"]].fillna({"district": "north"}).head(80)
    encode = ColumnTransformer(
        [
            ("num", StandardScaler(), ["rooms", "area"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["district"]),
        ]
    )
    model = Pipeline([("encode", encode), ("model", GaussianProcessClassifier())])
    sklambda.save(model.fit(X, houses_frame["band"].head(80)), out, X_sample=X)
    return out


def test_auto_falls_back_to_sklearn_with_a_slim_proven_layer(
    gaussian_process: Path, tmp_path: Path
) -> None:
    report = build(gaussian_process, tmp_path / "dist", python="3.12").report
    assert report["runtime"] == "sklearn"
    assert any(
        "lean runtime not possible" in n and "GaussianProcessClassifier" in n
        for n in report["notes"]
    )
    rules = {r["rule"]: r for r in report["slim"]["rules"]}
    assert list(rules) == [
        "installer",
        "tests",
        "sources",
        "data",
        "strip",
        "unimported",
        "sourceless",
    ]
    for name in ("tests", "sources", "strip", "unimported"):
        assert rules[name]["bytes_saved"] > 1_000_000, name
    packages = report["slim"]["packages"]
    assert packages["scipy"]["after_bytes"] < packages["scipy"]["before_bytes"]
    assert packages["numpy.libs"]["after_bytes"] == packages["numpy.libs"]["before_bytes"]
    layer = report["artifacts"]["layer"]
    assert (
        layer["unzipped_bytes"] + report["artifacts"]["function"]["unzipped_bytes"] <= 262_144_000
    )
    assert report["bytecode"]["layout"] == "sourceless"
    with zipfile.ZipFile(tmp_path / "dist" / "layer.zip") as zf:
        names = set(zf.namelist())
    assert "python/sklearn/__init__.pyc" in names and "python/sklearn/__init__.py" not in names
    assert any(n.startswith("python/numpy-") and n.endswith("/METADATA") for n in names)
    assert not any("/tests/" in n for n in names if not n.endswith(".pyc"))
    with zipfile.ZipFile(tmp_path / "dist" / "function.zip") as zf:
        assert "model/model.pkl" in zf.namelist()
        assert "sklambda/runtime/sklearn_predict.py" in zf.namelist()


def test_strip_on_vendored_libs_is_caught_by_verification(
    gaussian_process: Path, tmp_path: Path
) -> None:
    """The trap every slimming tool fell into: verification must refuse to ship it."""
    with pytest.raises(BuildError, match=r"(?s)failed verification.*nothing was written") as caught:
        build(
            gaussian_process,
            tmp_path / "dist",
            runtime="sklearn",
            python="3.12",
            slim_rules=("installer", "strip-libs"),
        )
    assert "page-aligned" in str(caught.value) or "ImportError" in str(caught.value)
    assert not (tmp_path / "dist").exists()


def test_versions_the_target_cannot_have_are_refused_before_writing(
    gaussian_process: Path, tmp_path: Path
) -> None:
    """scikit-learn 1.9 ships no manylinux2014 wheels: python3.11 (Amazon Linux 2) can't have it."""
    with pytest.raises(BuildError) as caught:
        build(gaussian_process, tmp_path / "dist", runtime="sklearn", python="3.11")
    message = str(caught.value)
    here = library_versions()
    assert f"scikit-learn {here['sklearn']}" in message and f"numpy {here['numpy']}" in message
    assert "python3.11" in message and "retrain" in message
    # each caller reads the fix in its own language
    assert "python='3.12' or python='auto'" in message and "--python" not in message
    assert "--python 3.12 or --python auto" in caught.value.for_cli()
    assert not (tmp_path / "dist").exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_bundle_from_another_sklearn_is_refused_by_build(
    gaussian_process: Path, tmp_path: Path
) -> None:
    copy = Path(shutil.copytree(gaussian_process, tmp_path / "copy"))
    reseal(copy, lambda m: m["versions"].update(sklearn="1.7.2"))  # a bundle trained elsewhere
    with (
        pytest.warns(sklambda.SklambdaVersionWarning, match="sklearn 1.7.2"),
        pytest.raises(BuildError, match=r"trained with scikit-learn 1\.7\.2 but this environment"),
    ):
        build(copy, tmp_path / "dist")
    assert not (tmp_path / "dist").exists()


def test_image_context_holds_the_verified_tree_and_passes_hadolint(
    gaussian_process: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    report = build(gaussian_process, tmp_path / "dist", python="3.12", image=True).report
    dist = tmp_path / "dist"
    assert sorted(p.name for p in dist.iterdir()) == ["build.json", "image"]
    assert report["verification"]["ok"] and report["runtime"] == "sklearn"
    dockerfile = (dist / "image" / "Dockerfile").read_text()
    assert "FROM public.ecr.aws/lambda/python:3.12-x86_64" in dockerfile
    assert 'CMD ["sklambda_handler.handler"]' in dockerfile
    task = dist / "image" / "task"
    assert (task / "sklambda_handler.py").is_file() and (task / "model" / "model.pkl").is_file()
    assert (task / "sklearn" / "__init__.pyc").is_file()  # the slimmed layer, in the task root
    assert "docker build" in (dist / "image" / "README.md").read_text()
    hadolint = Path(sys.executable).with_name("hadolint")
    lint = subprocess.run(
        [str(hadolint), str(dist / "image" / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
