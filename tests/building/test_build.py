"""`sklambda build`: real packages, proven in the local emulator (real processes and sockets)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

import sklambda
from sklambda.building import BuildError, build
from sklambda.bundle.format import read_sample
from sklambda.local.interpreters import find_interpreter
from tests.support.events import ask_every_event_kind, url_event

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seed_package(seed_dist_312: Path) -> Path:
    return seed_dist_312  # built once per session (tests/conftest.py)


def test_seed_model_package_is_small_verified_and_compiled(seed_package: Path) -> None:
    from sklambda.dist import FORMAT_VERSION, read_report

    report = json.loads((seed_package / "build.json").read_text())
    assert report["format_version"] == FORMAT_VERSION
    assert read_report(seed_package, required=("artifacts", "verification")) == report
    assert sorted(p.name for p in seed_package.iterdir()) == ["build.json", "function.zip"]
    assert report["runtime"] == "lean" and "layer" not in report["artifacts"]
    assert report["handler"] == "sklambda_handler.handler"
    assert report["target"]["os"] == "Amazon Linux 2023"
    function = report["artifacts"]["function"]
    assert function["zipped_bytes"] == (seed_package / "function.zip").stat().st_size
    assert function["zipped_bytes"] <= 100 * 1024  # the budget for the seed model
    assert report["limits"]["unzipped_ok"] and report["limits"]["direct_upload_ok"]
    verification = report["verification"]
    assert verification["ok"] is True and verification["rows"] >= 60
    assert verification["twin"] is (find_interpreter("3.12") is None)
    assert verification["max_rel_error"] <= 1e-9


def test_the_seed_package_fits_its_budget_for_this_python_too(seed_dist: Path) -> None:
    # seed_dist targets this process's Python (3.11 here); bytecode sizes differ by version.
    report = json.loads((seed_dist / "build.json").read_text())
    assert report["artifacts"]["function"]["zipped_bytes"] <= 100 * 1024
    with zipfile.ZipFile(seed_dist / "function.zip") as zf:
        names = zf.namelist()
    assert "sklambda/runtime/dates.py" not in names  # no date feature, no date parsing shipped
    assert "sklambda/runtime/lean/linear.py" in names
    assert not any(n.endswith(("/svm.py", "/neighbors.py", "/transforms_more.py")) for n in names)
    assert "sklambda/runtime/lean/binary.py" not in names  # no lean.bin: no reader for one


def test_package_ships_unchecked_hash_bytecode_for_the_target(seed_package: Path) -> None:
    if find_interpreter("3.12") is None:
        pytest.fail("python3.12 is expected on development and CI machines (pyenv)")
    with zipfile.ZipFile(seed_package / "function.zip") as zf:
        names = zf.namelist()
        pycs = [n for n in names if n.endswith(".pyc")]
        assert "sklambda/runtime/__pycache__/lean_predict.cpython-312.pyc" in pycs
        for name in pycs:
            flags = int.from_bytes(zf.read(name)[4:8], "little")
            assert flags == 0b01, f"{name}: PEP 552 flags {flags:#b}, want unchecked-hash"
        assert not any("training" in n or "building" in n or "boto" in n for n in names)
        assert "model/sample.json" not in names  # sample rows may be private: not shipped


def test_seed_package_imports_at_init_only_what_a_prediction_needs(
    seed_package: Path, tmp_path: Path
) -> None:
    # A cold start pays for every module imported at INIT: the model card's (built at the first
    # GET), lean.bin's reader (a linear model has no lean.bin) and importlib wait until needed.
    with zipfile.ZipFile(seed_package / "function.zip") as zf:
        zf.extractall(tmp_path / "task")
    interpreter = find_interpreter("3.12")
    python = str(interpreter.path) if interpreter else sys.executable
    code = (
        "import sys, json; sys.path[:0] = [sys.argv[1]]; "
        "import sklambda_handler; "
        "wanted = ['sklambda.runtime.card', 'sklambda.runtime.lean.binary', 'importlib', "
        "'array', 'sklambda.runtime.lean.linear']; "
        "print(json.dumps({m: m in sys.modules for m in wanted}))"
    )
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", code, str(tmp_path / "task")],
        capture_output=True,
        text=True,
        check=True,
        env={"LAMBDA_TASK_ROOT": str(tmp_path / "task")},
    )
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert loaded == {
        "sklambda.runtime.card": False,
        "sklambda.runtime.lean.binary": False,
        "importlib": False,
        "array": False,
        "sklambda.runtime.lean.linear": True,  # the model itself is loaded at INIT
    }


def test_seed_package_imports_nothing_outside_the_standard_library(
    seed_package: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(seed_package / "function.zip") as zf:
        zf.extractall(tmp_path / "task")
    interpreter = find_interpreter("3.12")
    python = str(interpreter.path) if interpreter else sys.executable
    event = url_event({"instances": [[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]]})
    code = (
        "import sys, json; sys.path[:0] = [sys.argv[1]]; "
        "import sklambda_handler; before = set(sys.modules); "
        "r = sklambda_handler.handler(json.loads(sys.argv[2]), None); "
        "mods = {m.split('.')[0] for m in sys.modules}; "
        "foreign = sorted(m for m in mods if m not in sys.stdlib_module_names "
        "and m not in ('__main__', 'sklambda', 'sklambda_handler')); "
        "print(json.dumps({'status': r['statusCode'], 'foreign': foreign}))"
    )
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", code, str(tmp_path / "task"), json.dumps(event)],
        capture_output=True,
        text=True,
        check=True,
        env={"LAMBDA_TASK_ROOT": str(tmp_path / "task")},
    )
    # The last line: the handler writes its EMF metrics line first (stdlib only as well).
    assert json.loads(result.stdout.splitlines()[-1]) == {"status": 200, "foreign": []}


def test_building_twice_gives_the_same_function_zip(
    diabetes_bundle: Path, seed_package: Path, tmp_path: Path
) -> None:
    again = build(diabetes_bundle, tmp_path / "again", python="3.12")
    first = json.loads((seed_package / "build.json").read_text())
    assert (
        again.report["artifacts"]["function"]["sha256"] == first["artifacts"]["function"]["sha256"]
    )


CASES = [
    ("linear", "classification"),
    ("linear", "regression"),
    ("ridge", "regression"),
    ("lasso", "regression"),
    ("elastic-net", "regression"),
    ("decision-tree", "classification"),
    ("random-forest", "regression"),
    ("random-forest", "classification"),
    ("extra-trees", "classification"),
    ("gradient-boosting", "regression"),
    ("gradient-boosting", "classification"),
    ("mlp", "classification"),
    ("mlp", "regression"),
]


@pytest.mark.parametrize(("estimator", "task"), CASES)
def test_every_estimator_builds_verifies_and_answers_every_event_kind(
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
    result = build(tmp_path / "bundle", tmp_path / "dist", runtime="lean")
    assert result.report["verification"]["ok"]
    assert (tmp_path / "dist" / "layer.zip").exists() is bool(result.report["layer_packages"])
    model = sklambda.load(tmp_path / "bundle")
    rows = read_sample(tmp_path / "bundle")["rows"]
    answers = ask_every_event_kind(tmp_path / "dist", rows, proba=task == "classification")
    expected = model.predict(rows)
    for kind in ("url", "rest", "direct"):
        if task == "classification":
            assert answers[kind].get("predictions") == expected, (kind, answers[kind])
        else:
            assert answers[kind].get("predictions") == pytest.approx(expected, rel=1e-9), (
                kind,
                answers[kind],
            )
    if task == "classification":
        got = [[p[str(c)] for c in model.classes] for p in answers["url"]["probabilities"]]
        for g, e in zip(got, model.predict_proba(rows), strict=True):
            assert g == pytest.approx(e, abs=1e-9)
    assert answers["warm"]["warm"] is True


def test_numpy_layer_for_amazon_linux_2(tmp_path: Path) -> None:
    """python3.11 runs on glibc 2.26: the layer must hold a manylinux2014 numpy."""
    import numpy as np
    import pandas as pd
    from sklearn.neural_network import MLPClassifier

    X = pd.DataFrame({"a": np.linspace(0, 1, 40), "b": np.linspace(1, 0, 40) ** 2})
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2000, random_state=0).fit(
        X, (X["a"] > 0.5).astype(int)
    )
    sklambda.save(clf, tmp_path / "b", X_sample=X)
    report = build(tmp_path / "b", tmp_path / "dist", python="3.11").report
    assert report["target"]["platform"] == "x86_64-manylinux_2_17"
    assert set(report["layer_packages"]) == {"numpy"}
    with zipfile.ZipFile(tmp_path / "dist" / "layer.zip") as zf:
        names = zf.namelist()
    assert "python/numpy/__init__.pyc" in names  # bytecode only: sourceless
    tags = [n for n in names if n.startswith("python/numpy-") and n.endswith("/WHEEL")]
    wheel = zipfile.ZipFile(tmp_path / "dist" / "layer.zip").read(tags[0]).decode()
    assert "manylinux_2_17_x86_64" in wheel or "manylinux2014_x86_64" in wheel
    assert report["verification"]["ok"] and report["verification"]["python"] == "3.11"


def test_lean_runtime_refuses_a_model_it_cannot_serve(houses_frame: Any, tmp_path: Path) -> None:
    from sklearn.gaussian_process import GaussianProcessClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    # Every `train --estimator` has a lean form; a Gaussian process has none.
    X = houses_frame[["area", "rooms"]].head(60)
    model = Pipeline([("scale", StandardScaler()), ("model", GaussianProcessClassifier())])
    sklambda.save(model.fit(X, houses_frame["band"].head(60)), tmp_path / "b", X_sample=X)
    with pytest.raises(BuildError, match=r"GaussianProcessClassifier.*runtime='sklearn'"):
        build(tmp_path / "b", tmp_path / "dist", runtime="lean")
    assert not (tmp_path / "dist").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["b"]  # no staging left behind


def test_a_package_that_fails_verification_is_not_written(
    diabetes_bundle: Path, seed_package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sabotage the compiled model after the in-process check: the emulator must catch it."""
    import shutil

    import sklambda.building.forms as forms

    out = Path(shutil.copytree(seed_package, tmp_path / "dist"))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_lean = forms._lean

    def sabotaged(model: Any, rows: Any, numpy: bool | None = None) -> Any:
        lean, why = real_lean(model, rows, numpy)
        return type(lean)(spec=_shift_intercept(lean.spec), arrays=lean.arrays), why

    monkeypatch.setattr(forms, "_lean", sabotaged)
    with pytest.raises(BuildError, match="failed verification.*nothing was written"):
        build(diabetes_bundle, out, python="3.12")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def _shift_intercept(spec: dict[str, Any]) -> dict[str, Any]:
    spec = json.loads(json.dumps(spec))
    stack: list[Any] = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "intercept" in node:
                value = node["intercept"]
                node["intercept"] = (
                    [v + 1.0 for v in value] if isinstance(value, list) else value + 1.0
                )
                return spec
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    raise AssertionError("no intercept in the lean spec")


def test_build_refuses_to_overwrite_what_it_did_not_write(
    diabetes_bundle: Path, tmp_path: Path
) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "notes.txt").write_text("mine")
    with pytest.raises(sklambda.SklambdaError, match="is not a sklambda package"):
        build(diabetes_bundle, tmp_path / "dist")
    assert (tmp_path / "dist" / "notes.txt").read_text() == "mine"


def test_unknown_runtime_python_and_arch(diabetes_bundle: Path, tmp_path: Path) -> None:
    with pytest.raises(sklambda.SklambdaError, match="no python3.9 runtime"):
        build(diabetes_bundle, tmp_path / "d", python="3.9")
    with pytest.raises(sklambda.SklambdaError, match='unknown architecture "ppc"'):
        build(diabetes_bundle, tmp_path / "d", arch="ppc")
    with pytest.raises(BuildError, match='unknown runtime "fast"'):
        build(diabetes_bundle, tmp_path / "d", runtime="fast")


def test_arm64_ships_aarch64_wheels_and_verifies_a_host_twin(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd
    from sklearn.neural_network import MLPRegressor

    X = pd.DataFrame({"a": np.linspace(0, 1, 40), "b": np.linspace(1, 0, 40) ** 2})
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=2000, random_state=0).fit(
        X, X["a"] * 3 + X["b"]
    )
    sklambda.save(reg, tmp_path / "b", X_sample=X)
    report = build(tmp_path / "b", tmp_path / "dist", python="3.12", arch="arm64").report
    assert report["target"]["platform"] == "aarch64-manylinux_2_34"
    with zipfile.ZipFile(tmp_path / "dist" / "layer.zip") as zf:
        binaries = [n for n in zf.namelist() if n.endswith(".so")]
    assert binaries and all("aarch64" in n or "x86_64" not in n for n in binaries)
    assert any("aarch64" in n for n in binaries)
    verification = report["verification"]
    assert verification["ok"] and verification["twin"] is True
    assert any("not arm64" in note for note in report["notes"])
    # An unverified numpy layer is not slimmed: bytecode beside the sources, as installed.
    assert report["slim"] is None and report["bytecode"]["layout"] == "__pycache__"
