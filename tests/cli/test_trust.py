"""Standard models need no trust from the shell; a user's own code is vouched for by flag."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sklambda
from tests.bundle.test_bundle import double
from tests.cli.test_cli import _one_line_error, run_inprocess
from tests.support.cli import run_cli


def _frame() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(1, 9, 60), "b": rng.uniform(0, 3, 60)})
    return X, (X["a"] + X["b"] > 6).to_numpy().astype(int)


@pytest.mark.slow
def test_knn_pipeline_with_log1p_saves_builds_and_predicts_with_no_flag(tmp_path: Path) -> None:
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    X, y = _frame()
    est = make_pipeline(FunctionTransformer(np.log1p), StandardScaler(), KNeighborsClassifier(3))
    est.fit(X, y)
    sklambda.save(est, tmp_path / "knn", X_sample=X)

    row = {"a": 2.0, "b": 1.5}
    predicted = run_cli(
        "predict", str(tmp_path / "knn"), "--json", json.dumps({"instances": [row]})
    )
    assert predicted.returncode == 0, predicted.stderr
    expected = est.predict(pd.DataFrame([row]))[0]
    assert json.loads(predicted.stdout)["predictions"] == [int(expected)]

    built = run_cli(
        "build", str(tmp_path / "knn"), "--out", str(tmp_path / "dist"), "--python", "3.12"
    )
    assert built.returncode == 0, built.stderr
    report = json.loads((tmp_path / "dist" / "build.json").read_text())
    assert report["runtime"] == "lean"  # kNN and log1p both have lean forms
    assert report["verification"]["ok"] and report["verification"]["label_mismatches"] == 0


def test_own_code_is_vouched_for_with_trust_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    monkeypatch.setenv("SKLAMBDA_CACHE_DIR", str(tmp_path / "saved-here"))
    X, _ = _frame()
    y = X["a"] * 3
    est = make_pipeline(FunctionTransformer(double), LinearRegression()).fit(X, y)
    name = f"{double.__module__}.double"
    sklambda.save(est, tmp_path / "own", X_sample=X, trusted_types=[name])
    request = json.dumps({"instances": [{"a": 2.0, "b": 1.0}]})

    # Recorded at save on this machine: later commands need not repeat it.
    assert (
        run_inprocess(capsys, "predict", str(tmp_path / "own"), "--json", request).returncode == 0
    )
    # Elsewhere the shell user is told the flag, spelled for the shell.
    monkeypatch.setenv("SKLAMBDA_CACHE_DIR", str(tmp_path / "another-machine"))
    refused = run_inprocess(capsys, "predict", str(tmp_path / "own"), "--json", request)
    _one_line_error(refused, f"does not trust: {name}", f"--trust-type {name}")
    assert "trusted_types=" not in refused.stderr
    vouched = run_inprocess(
        capsys, "predict", str(tmp_path / "own"), "--json", request, "--trust-type", name
    )
    assert vouched.returncode == 0, vouched.stderr
    assert json.loads(vouched.stdout)["predictions"] == pytest.approx([6.0])


def test_import_refuses_untrusted_types_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import joblib
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, _ = _frame()
    est = make_pipeline(FunctionTransformer(double), LinearRegression()).fit(X.to_numpy(), X["a"])
    joblib.dump(est, tmp_path / "model.sav")
    args = ("import", "--model", str(tmp_path / "model.sav"), "--features", "a,b")
    out = tmp_path / "bundle"
    refused = run_inprocess(capsys, *args, "--out", str(out), "--trust-pickle")
    _one_line_error(refused, "would contain types", "--trust-type tests.bundle.test_bundle.double")
    assert not out.exists()
    name = "tests.bundle.test_bundle.double"
    done = run_inprocess(capsys, *args, "--out", str(out), "--trust-pickle", "--trust-type", name)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "manifest.json").read_text())["trusted_types"] == [name]
