"""sklambda in the environments its users have: scikit-learn 1.7.2 with numpy 2.2.6 on Python 3.11.

That is the newest set python3.11 on Amazon Linux 2 (glibc 2.26) can install, and the one where
deleting every `tests/` folder breaks `import sklearn` (numpy.testing imports
numpy/_core/tests/_natype.py), so it is also where the slimming trap is shown to be caught.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from sklambda.interpreters import find_interpreter
from sklambda.wheels import uv_binary

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
OLD = ["scikit-learn==1.7.2", "numpy==2.2.6", "scipy==1.16.3"]


@pytest.fixture(scope="module")
def old_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the old releases, sklambda's other dependencies, and this source tree."""
    interpreter = find_interpreter("3.11")
    if interpreter is None:
        pytest.fail("python3.11 is expected on development and CI machines (pyenv)")
    venv = tmp_path_factory.mktemp("old") / "venv"
    uv = uv_binary()
    subprocess.run([uv, "venv", "-q", "--python", str(interpreter.path), str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "-q",
            "--python",
            str(python),
            *OLD,
            "pandas",
            "skops",
            "sqlalchemy",
            "rich",
            "uv",
        ],
        check=True,
        timeout=600,
    )
    return python


def run_old(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [str(python), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def old_bundle(old_env: Path, diabetes_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("oldwork")
    result = run_old(
        old_env,
        "-m",
        "sklambda",
        "train",
        "--db",
        str(diabetes_db),
        "--table",
        "patients",
        "--target",
        "progression",
        "--estimator",
        "ridge",
        "--out",
        "bundle",
        cwd=work,
    )
    assert result.returncode == 0, result.stderr
    versions = json.loads((work / "bundle" / "manifest.json").read_text())["versions"]
    assert (versions["sklearn"], versions["numpy"]) == ("1.7.2", "2.2.6")
    return work / "bundle"


def test_sklearn_runtime_for_amazon_linux_2_from_an_old_environment(
    old_env: Path, old_bundle: Path
) -> None:
    work = old_bundle.parent
    result = run_old(
        old_env,
        "-m",
        "sklambda",
        "build",
        "bundle",
        "--out",
        "dist-sklearn",
        "--runtime",
        "sklearn",
        "--python",
        "3.11",
        cwd=work,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((work / "dist-sklearn" / "build.json").read_text())
    assert report["target"]["platform"] == "x86_64-manylinux_2_17"
    packages = report["layer_packages"]
    assert (packages["scikit-learn"], packages["numpy"], packages["scipy"]) == (
        "1.7.2",
        "2.2.6",
        "1.16.3",
    )
    assert report["verification"]["ok"] and report["verification"]["python"] == "3.11"
    assert report["verification"]["twin"] is False
    with zipfile.ZipFile(work / "dist-sklearn" / "layer.zip") as zf:
        names = set(zf.namelist())
    # the one test module numpy 2.2 imports at run time was kept; the rest of the tests went
    assert "python/numpy/_core/tests/_natype.pyc" in names
    assert "python/numpy/_core/tests/test_multiarray.pyc" not in names


def test_lean_runtime_from_an_old_environment(old_env: Path, old_bundle: Path) -> None:
    work = old_bundle.parent
    result = run_old(
        old_env,
        "-m",
        "sklambda",
        "build",
        "bundle",
        "--out",
        "dist-lean",
        "--python",
        "3.11",
        cwd=work,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((work / "dist-lean" / "build.json").read_text())
    assert report["runtime"] == "lean" and report["verification"]["ok"]


def test_deleting_every_tests_folder_breaks_import_and_verification_catches_it(
    old_env: Path, old_bundle: Path
) -> None:
    work = old_bundle.parent
    code = (
        "from sklambda.building import build, BuildError\n"
        "try:\n"
        "    build('bundle', 'dist-trap', runtime='sklearn', python='3.11',\n"
        "          slim_rules=('installer', 'tests-all', 'sources'))\n"
        "except BuildError as exc:\n"
        "    print('REFUSED', exc)\n"
    )
    result = run_old(old_env, "-c", code, cwd=work)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("REFUSED"), result.stdout
    assert "failed verification" in result.stdout
    assert "numpy._core.tests" in result.stdout  # the import that the trap broke
    assert not (work / "dist-trap").exists()
