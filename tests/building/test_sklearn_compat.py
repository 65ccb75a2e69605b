"""sklambda in the environments its users have, at both ends of what it supports.

- scikit-learn 1.3.2 with numpy 1.24 (the oldest supported: the old tags API, tree classifiers
  that store counts, gradient boosting's pre-1.4 loss classes);
- scikit-learn 1.7.2 with numpy 2.2.6: the newest set python3.11 on Amazon Linux 2 (glibc 2.26)
  can install, and the one where deleting every `tests/` folder breaks `import sklearn`
  (numpy.testing imports numpy/_core/tests/_natype.py), so it is also where the slimming trap is
  shown to be caught.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from sklambda.building.wheels import uv_binary
from sklambda.local.interpreters import find_interpreter

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SETS = {
    "sklearn-1.3": ("scikit-learn==1.3.2", "numpy==1.24.4", "scipy==1.11.4"),
    "sklearn-1.7": ("scikit-learn==1.7.2", "numpy==2.2.6", "scipy==1.16.3"),
}


@dataclass(frozen=True)
class OldEnv:
    python: Path
    releases: tuple[str, ...]

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        env.pop("VIRTUAL_ENV", None)
        return subprocess.run(
            [str(self.python), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env,
            timeout=900,
            check=False,
        )


@pytest.fixture(scope="module", params=sorted(SETS))
def old_env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> OldEnv:
    """A virtualenv with the old releases, sklambda's other dependencies, and this source tree."""
    interpreter = find_interpreter("3.11")
    if interpreter is None:
        pytest.fail("python3.11 is expected on development and CI machines (pyenv)")
    venv = tmp_path_factory.mktemp("old") / "venv"
    uv = uv_binary()
    subprocess.run([uv, "venv", "-q", "--python", str(interpreter.path), str(venv)], check=True)
    python = venv / "bin" / "python"
    releases = SETS[request.param]
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "-q",
            "--python",
            str(python),
            *releases,
            *_other_dependencies(releases),
        ],
        check=True,
        timeout=600,
    )
    return OldEnv(python, releases)


def _other_dependencies(releases: tuple[str, ...] | list[str]) -> list[str]:
    """sklambda's own dependencies (pyproject.toml), less those the release set pins."""
    import re
    import tomllib

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    pinned = {re.split(r"[<>=!~ ]", r, maxsplit=1)[0].lower() for r in releases}
    names = [re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0] for d in project["project"]["dependencies"]]
    return [n for n in names if n.lower() not in pinned]


@pytest.fixture(scope="module")
def old_bundle(
    old_env: OldEnv, diabetes_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    work = tmp_path_factory.mktemp("oldwork")
    result = old_env.run(
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
    assert f"scikit-learn=={versions['sklearn']}" in old_env.releases
    return work / "bundle"


def test_sklearn_runtime_for_amazon_linux_2_from_an_old_environment(
    old_env: OldEnv, old_bundle: Path
) -> None:
    work = old_bundle.parent
    result = old_env.run(
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
    shipped = tuple(f"{name}=={packages[name]}" for name in ("scikit-learn", "numpy", "scipy"))
    assert shipped == old_env.releases
    assert report["verification"]["ok"] and report["verification"]["python"] == "3.11"
    assert report["verification"]["twin"] is False
    with zipfile.ZipFile(work / "dist-sklearn" / "layer.zip") as zf:
        names = set(zf.namelist())
    assert not any(n.endswith("/test_multiarray.pyc") for n in names)  # test suites went...
    if "numpy==2.2.6" in shipped:
        # ...except the one test module numpy 2.2 imports at run time
        assert "python/numpy/_core/tests/_natype.pyc" in names


def test_lean_runtime_from_an_old_environment(old_env: OldEnv, old_bundle: Path) -> None:
    work = old_bundle.parent
    result = old_env.run(
        "-m", "sklambda", "build", "bundle", "--out", "dist-lean", "--python", "3.11", cwd=work
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((work / "dist-lean" / "build.json").read_text())
    assert report["runtime"] == "lean" and report["verification"]["ok"]


def test_tree_classifiers_stay_lean_and_exact(old_env: OldEnv, tmp_path: Path) -> None:
    """Before 1.4, classifier trees store counts: the lean form must still match bit for bit."""
    code = (
        "import numpy as np, pandas as pd, sklambda\n"
        "from sklambda.building import build\n"
        "rng = np.random.default_rng(0)\n"
        "df = pd.DataFrame({'a': rng.random(200), 'b': rng.random(200)})\n"
        "df['band'] = np.where(df.a + df.b > 1, 'hi', np.where(df.a > .5, 'mid', 'lo'))\n"
        "for est in ('random-forest', 'gradient-boosting'):\n"
        "    sklambda.train(frame=df, target='band', estimator=est, out=est)\n"
        "    r = build(est, 'dist-' + est, python='3.11').report\n"
        "    v = r['verification']\n"
        "    print(est, r['runtime'], v['ok'], v['label_mismatches'], v['max_abs_error'])\n"
    )
    result = old_env.run("-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.strip().splitlines()]
    assert [line[0] for line in lines] == ["random-forest", "gradient-boosting"]
    for _, runtime, ok, mismatches, max_abs in lines:
        assert (runtime, ok, mismatches) == ("lean", "True", "0")
        assert float(max_abs) <= 1e-9


# The trap is numpy 2.2's (numpy.testing → numpy/_core/tests/_natype.py): only that set has it.
@pytest.mark.parametrize("old_env", ["sklearn-1.7"], indirect=True)
def test_deleting_every_tests_folder_breaks_import_and_verification_catches_it(
    old_env: OldEnv, old_bundle: Path
) -> None:
    assert "numpy==2.2.6" in old_env.releases
    work = old_bundle.parent
    code = (
        "from sklambda.building import build, BuildError\n"
        "try:\n"
        "    build('bundle', 'dist-trap', runtime='sklearn', python='3.11',\n"
        "          slim_rules=('installer', 'tests-all', 'sources'))\n"
        "except BuildError as exc:\n"
        "    print('REFUSED', exc)\n"
    )
    result = old_env.run("-c", code, cwd=work)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("REFUSED"), result.stdout
    assert "failed verification" in result.stdout
    assert "numpy._core.tests" in result.stdout  # the import that the trap broke
    assert not (work / "dist-trap").exists()
