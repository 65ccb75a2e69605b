"""The numpy layer of a lean model's numpy form: traced, slimmed, verified, within 12 MiB zipped.

Built once per target Python for the module (the layer cache makes reruns cheap); each test
reads the same package.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

import sklambda
from sklambda.building import BuildError, build
from sklambda.bundle.format import read_sample
from sklambda.local.interpreters import find_interpreter

pytestmark = pytest.mark.slow

BUDGET = 12 * 1024 * 1024  # the budget for the numpy layer, zipped
# numpy's parts no numpy form of a lean model imports (nor numpy's own import).
NEVER_IMPORTED = ("f2py", "distutils", "testing", "typing", "_pyinstaller", "random", "fft", "ma")


@pytest.fixture(scope="module")
def forest_bundle(houses_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("numpy-layer") / "forest"
    sklambda.train(
        str(houses_db),
        table="houses",
        target="band",
        features=["rooms", "area", "age", "district"],
        estimator="random-forest",
        out=out,
    )
    return out


@pytest.fixture(scope="module", params=["3.11", "3.12"])
def forest_numpy_dist(
    request: pytest.FixtureRequest, forest_bundle: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The forest's numpy form, for python3.11 (Amazon Linux 2: manylinux2014 numpy with its
    gfortran) and python3.12: both interpreters are on this machine, so no twin."""
    python = request.param
    if find_interpreter(python) is None:
        pytest.fail(f"python{python} is needed here to verify its numpy layer without a twin")
    out = tmp_path_factory.mktemp(f"numpy-layer-{python}") / "dist"
    return build(forest_bundle, out, python=python, numpy=True).dist


def _report(dist: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((dist / "build.json").read_text())
    return report


def test_the_numpy_layer_is_verified_and_within_12_mib(forest_numpy_dist: Path) -> None:
    report = _report(forest_numpy_dist)
    assert report["runtime"] == "lean" and set(report["layer_packages"]) == {"numpy"}
    verification = report["verification"]
    assert verification["ok"] is True and verification["twin"] is False
    assert verification["python"] == report["python"] and verification["label_mismatches"] == 0
    layer = report["artifacts"]["layer"]
    assert layer["zipped_bytes"] == (forest_numpy_dist / "layer.zip").stat().st_size
    assert layer["zipped_bytes"] <= BUDGET, layer
    assert report["bytecode"]["layout"] == "sourceless"


def test_the_build_report_records_what_each_rule_removed(forest_numpy_dist: Path) -> None:
    slim = _report(forest_numpy_dist)["slim"]
    saved = {rule["rule"]: rule for rule in slim["rules"]}
    assert list(saved) == [
        "installer",
        "tests",
        "sources",
        "data",
        "strip",
        "unimported",
        "extensions",
        "sourceless",
    ]
    for rule in ("installer", "tests", "sources", "unimported", "extensions"):
        assert saved[rule]["files"] > 0 and saved[rule]["bytes_saved"] > 0, saved[rule]
    numpy, libs = slim["packages"]["numpy"], slim["packages"]["numpy.libs"]
    assert numpy["after_bytes"] < numpy["before_bytes"] / 2
    assert libs["after_bytes"] == libs["before_bytes"]  # OpenBLAS: never stripped nor removed
    total = _report(forest_numpy_dist)["artifacts"]["layer"]["zipped_bytes"]
    assert numpy["zipped_bytes"] + libs["zipped_bytes"] <= total


def test_the_layer_ships_bytecode_and_only_what_predicting_imports(
    forest_numpy_dist: Path,
) -> None:
    with zipfile.ZipFile(forest_numpy_dist / "layer.zip") as zf:
        names = zf.namelist()
    assert "python/numpy/__init__.pyc" in names
    assert not [n for n in names if n.endswith((".py", ".pyi", ".h", ".c", ".a", ".pxd"))]
    assert not [n for n in names if "/tests/" in n or n.endswith(("/RECORD", "/conftest.pyc"))]
    assert not [n for n in names if n.startswith(("python/bin/", "python/.lock"))]
    for package in NEVER_IMPORTED:
        assert not [n for n in names if n.startswith(f"python/numpy/{package}/")], package
    extensions = {n.rsplit("/", 1)[1].split(".")[0] for n in names if n.endswith(".so")}
    assert {"_multiarray_umath", "_umath_linalg"} <= extensions
    assert not extensions & {"_simd", "_multiarray_tests", "_umath_tests", "_rational_tests"}
    assert [n for n in names if n.startswith("python/numpy.libs/libscipy_openblas")]
    assert [n for n in names if n.endswith(".dist-info/METADATA")]  # importlib.metadata


SANDBOX = r"""
import json, sys
task, site = sys.argv[1:3]
sys.path[:] = [task, site] + [p for p in sys.path if "site-packages" not in p]
from sklambda.runtime.lean_predict import load
predictor = load(task + "/model")
rows = json.loads(sys.stdin.read())
import numpy
outside = sorted(
    name for name, module in sys.modules.items()
    if name.split(".")[0] == "numpy" and getattr(module, "__file__", None)
    and not module.__file__.startswith(site)
)
print(json.dumps({
    "predictions": predictor.predict(rows),
    "probabilities": predictor.predict_proba(rows),
    "numpy": numpy.__file__,
    "outside": outside,
}))
"""


def test_the_layer_alone_imports_numpy_and_predicts_what_scikit_learn_does(
    forest_numpy_dist: Path, forest_bundle: Path, tmp_path: Path
) -> None:
    """Outside the emulator too: an isolated interpreter of the target Python that sees only the
    function's and the layer's files (``-I -S``) loads the model and predicts the bundle's rows."""
    for name, into in (("function.zip", "task"), ("layer.zip", "opt")):
        with zipfile.ZipFile(forest_numpy_dist / name) as zf:
            zf.extractall(tmp_path / into)
    model = sklambda.load(forest_bundle)
    features = [f["name"] for f in model.features]
    rows = read_sample(forest_bundle)["rows"]
    interpreter = find_interpreter(_report(forest_numpy_dist)["python"])
    assert interpreter is not None
    site = str(tmp_path / "opt" / "python")
    done = subprocess.run(
        [str(interpreter.path), "-I", "-S", "-B", "-c", SANDBOX, str(tmp_path / "task"), site],
        input=json.dumps([[row[f] for f in features] for row in rows]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert answer["numpy"].startswith(site) and answer["outside"] == []
    assert answer["predictions"] == list(model.predict(rows))
    for got, expected in zip(answer["probabilities"], model.predict_proba(rows), strict=True):
        assert got == pytest.approx(list(expected), abs=1e-9)


def test_verification_refuses_a_numpy_layer_slimmed_past_what_it_imports(
    forest_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trace that missed numpy.linalg (which ``import numpy`` imports): the rules remove it,
    and the emulator must catch the broken import, so nothing is written."""
    from sklambda.building import slim

    monkeypatch.setenv("SKLAMBDA_CACHE_DIR", str(tmp_path / "cache"))  # never cache the wreck
    real = slim.trace_imports

    def incomplete(*args: Any, **kwargs: Any) -> set[str]:
        return {f for f in real(*args, **kwargs) if not f.startswith("numpy/linalg/")}

    monkeypatch.setattr(slim, "trace_imports", incomplete)
    with pytest.raises(BuildError, match=r"(?s)failed verification.*nothing was written") as caught:
        build(forest_bundle, tmp_path / "dist", python="3.12", numpy=True)
    assert "linalg" in str(caught.value)
    assert not (tmp_path / "dist").exists()
